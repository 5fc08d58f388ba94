import * as fs from "fs";
import * as path from "path";
import { readSettings, requireUser, Settings, SettingsError } from "../stacks/settings";
import { NotebookStackSpec, notebookStackSpecs } from "../stacks/stack-specs";
import { deniedMessage, pullS3State } from "../stacks/state-access";

/** Terraform state as the day-2 commands need it: outputs and resources. */
export interface TerraformState {
  outputs?: Record<string, { value: unknown; sensitive?: boolean }>;
  resources?: Array<{ mode: string; type: string; name: string; instances: Array<{ attributes: Record<string, unknown> }> }>;
}

/** The `context` of cdktf.json (where the environments are configured). */
export function cdktfConfig(projectDir: string): { context?: { environments?: unknown } } {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectDir, "cdktf.json"), "utf8"));
  } catch (err) {
    throw new SettingsError(`cannot read cdktf.json in ${projectDir}: ${(err as Error).message}`);
  }
}

/**
 * The state of a notebook stack, or undefined when it has none. Local state is read from
 * its file; S3 state is pulled by terraform (stacks/state-access.ts). A state AWS refuses
 * is another person's: the error says so.
 */
export function readStackState(spec: NotebookStackSpec, env: Record<string, string | undefined>): TerraformState | undefined {
  const backend = spec.backend;
  if (backend.type === "local") {
    if (!fs.existsSync(backend.path)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(backend.path, "utf8"));
    } catch (err) {
      throw new SettingsError(`the state file ${backend.path} of stack ${spec.id} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const pulled = pullS3State(spec, env);
  if ("error" in pulled) {
    if (pulled.denied) throw new SettingsError(`you may read only your own notebooks: ${deniedMessage(spec, undefined)}`);
    throw new SettingsError(`cannot read s3://${backend.bucket}/${backend.key} for ${spec.id}: ${pulled.error}`);
  }
  return pulled.text === "" ? undefined : JSON.parse(pulled.text);
}

/** The project's settings as the scripts read them: environments from cdktf.json, the rest from `env`. */
export function projectSettings(projectDir: string, env: Record<string, string | undefined>): Settings {
  return readSettings({ env, environmentsContext: cdktfConfig(projectDir).context?.environments, projectDir });
}

/** The notebook stack a script was asked about, or a SettingsError naming the ones there are. */
export function findNotebookStack(stackId: string, projectDir: string, env: Record<string, string | undefined>): NotebookStackSpec {
  const settings = projectSettings(projectDir, env);
  const specs = notebookStackSpecs(settings);
  const spec = specs.find((s) => s.id === stackId);
  // Without a user only team stacks exist: say why the user's own are missing.
  if (!spec && settings.user === undefined) requireUser(settings);
  if (!spec) throw new SettingsError(`unknown stack "${stackId}": expected one of ${specs.map((s) => s.id).join(", ")}`);
  return spec;
}

/** The attributes of the state's one managed resource of `type` (the notebook's service, its suffix), if it has one. */
export function managedAttributes(state: TerraformState | undefined, type: string): Record<string, unknown> | undefined {
  return state?.resources?.find((r) => r.mode === "managed" && r.type === type)?.instances[0]?.attributes;
}
