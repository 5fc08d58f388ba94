import { App, TerraformStack, TerraformVariable } from "cdktf";
import { NotebookStack } from "./notebook-stack";
import { Settings } from "./settings";
import { acceleratorsStackSpecs, notebookStackSpecs, platformStackSpecs, stateBackendStackSpecs, wakerStackSpecs } from "./stack-specs";
import { AcceleratorsStack } from "./accelerators-stack";
import { PlatformStack } from "./platform-stack";
import { checkPlatformDestroy, checkPlatformShrink } from "./platform-guard";
import { StateBackendStack } from "./state-backend-stack";
import { WakerStack } from "./waker-stack";
import { checkStateAccess } from "./state-access";
import { checkVarFiles, COMMANDS_WITH_VAR_FILES, findCdktfCommand, stackSelected, varFilesOf } from "./var-files";

export { AcceleratorsStack } from "./accelerators-stack";
export { NotebookStack } from "./notebook-stack";
export { PlatformStack } from "./platform-stack";
export { StateBackendStack } from "./state-backend-stack";
export { WakerStack } from "./waker-stack";
export { readSettings, SettingsError } from "./settings";
export { notebookStackSpecs } from "./stack-specs";
export { forgetStaleBackends, removeOtherFormat } from "./working-dir";
export { skipTokenCreationStacks } from "./token-stacks";

/**
 * Every stack for these settings: `notebook`; per environment `notebook-<env>`, one
 * `notebook-<env>-<user>` per team-file user, and `state-backend-<env>`; `platform-<env>`
 * for an environment with a platform, and `platform` with localPlatform; `accelerators-<env>`
 * for an environment with accelerators on its own cluster, and `accelerators` with localAccelerators;
 * `waker-<env>` for an environment with a waker on its own cluster.
 */
export function createStacks(
  app: App,
  settings: Settings,
): { notebooks: NotebookStack[]; stateBackends: StateBackendStack[]; platforms: PlatformStack[]; accelerators: AcceleratorsStack[]; wakers: WakerStack[] } {
  return {
    notebooks: notebookStackSpecs(settings).map((spec) => new NotebookStack(app, spec)),
    stateBackends: stateBackendStackSpecs(settings).map((spec) => new StateBackendStack(app, spec)),
    platforms: platformStackSpecs(settings).map((spec) => new PlatformStack(app, spec)),
    accelerators: acceleratorsStackSpecs(settings).map((spec) => new AcceleratorsStack(app, spec)),
    wakers: wakerStackSpecs(settings).map((spec) => new WakerStack(app, spec)),
  };
}

/**
 * When cdktf runs the app to change platform stacks, stops (SettingsError) a destroy while
 * notebooks still run on one of them, naming their stacks, and a deploy or diff with fewer
 * load balancers than it has. See stacks/platform-guard.ts.
 */
export async function checkPlatformChangeOfCommand(settings: Settings, env: NodeJS.ProcessEnv, parentPid: number): Promise<void> {
  if (!env.CDKTF_OUTDIR) return; // not run by the cdktf CLI
  const command = findCdktfCommand(parentPid);
  if (!command || !["destroy", "deploy", "diff"].includes(command.command)) return;
  for (const spec of platformStackSpecs(settings)) {
    if (!stackSelected(spec.stackId, command.stacks)) continue;
    if (command.command === "destroy") await checkPlatformDestroy(spec, settings, env);
    else checkPlatformShrink(spec, env);
  }
}

/**
 * When cdktf runs the app for a deploy or diff with vars files, stops (SettingsError) if
 * a file sets a variable that none of the chosen stacks declares. See stacks/var-files.ts.
 */
export async function checkVarFilesOfCommand(stacks: TerraformStack[], projectDir: string, env: NodeJS.ProcessEnv, parentPid: number): Promise<void> {
  if (!env.CDKTF_OUTDIR) return; // not run by the cdktf CLI
  const command = findCdktfCommand(parentPid);
  if (!command || !COMMANDS_WITH_VAR_FILES.includes(command.command)) return;
  const files = varFilesOf(command, projectDir);
  if (files.length === 0) return;
  const declared = new Map(
    stacks.map((stack) => [
      stack.node.id,
      stack.node
        .findAll()
        .filter((c) => c instanceof TerraformVariable)
        .map((c) => c.node.id),
    ]),
  );
  await checkVarFiles(files, declared, command.stacks);
}

/**
 * When cdktf runs the app for a deploy, diff or destroy of notebook stacks with S3 state,
 * stops (SettingsError) if AWS refuses the person one of those states: another user's
 * notebook, or a NOTEBOOK_USER that is not the name their identity carries. The message
 * names both, before Terraform changes anything. See stacks/state-access.ts.
 */
export async function checkStateAccessOfCommand(notebooks: NotebookStack[], env: NodeJS.ProcessEnv, parentPid: number): Promise<void> {
  if (!env.CDKTF_OUTDIR) return; // not run by the cdktf CLI
  const command = findCdktfCommand(parentPid);
  // Without stack ids cdktf deploys the app's only stack or refuses; an app with one stack has no S3 state.
  if (!command || command.stacks.length === 0) return;
  const chosen = notebooks.filter((stack) => stackSelected(stack.node.id, command.stacks));
  await checkStateAccess(
    chosen.map((stack) => stack.spec),
    env,
  );
}
