import { App } from "cdktf";
import {
  checkPlatformChangeOfCommand,
  checkStateAccessOfCommand,
  checkVarFilesOfCommand,
  createStacks,
  forgetStaleBackends,
  readSettings,
  removeOtherFormat,
  SettingsError,
  skipTokenCreationStacks,
} from "./stacks";

// The cdktf app: reads synth-time settings, creates the stacks, checks the vars files of
// the cdktf command that runs it and that its AWS identity may use the chosen notebooks'
// states, synthesizes.
async function main(): Promise<void> {
  skipTokenCreationStacks(process.env);
  const app = new App();
  const settings = readSettings({
    env: process.env,
    environmentsContext: app.node.tryGetContext("environments"),
    localPlatformContext: app.node.tryGetContext("localPlatform"),
    localAcceleratorsContext: app.node.tryGetContext("localAccelerators"),
    projectDir: __dirname,
  });
  // Without a user the notebook and notebook-<env> stacks are left out (cdktf then says it
  // cannot find them): this line says why. state-backend-<env> and team stacks need no user.
  if (settings.userProblem) console.error(`note: no notebook stack of your own: ${settings.userProblem}`);
  const { notebooks, stateBackends, platforms, accelerators, wakers } = createStacks(app, settings);
  await checkVarFilesOfCommand([...notebooks, ...stateBackends, ...platforms, ...accelerators, ...wakers], __dirname, process.env, process.ppid);
  await checkStateAccessOfCommand(notebooks, process.env, process.ppid);
  await checkPlatformChangeOfCommand(settings, process.env, process.ppid);
  app.synth();
  removeOtherFormat(
    app.outdir,
    [...notebooks, ...stateBackends, ...platforms, ...accelerators].map((s) => s.node.id),
    process.env.SYNTH_HCL_OUTPUT === "true",
  );
  // Notebook stacks only: a state-backend, platform or accelerators stack's backend changes only to move its state (--migrate-state).
  forgetStaleBackends(
    app.outdir,
    notebooks.map((s) => s.node.id),
  );
}

main().catch((err) => {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`error: ${err.message}`);
  process.exit(1);
});
