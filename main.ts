import { App } from "cdktf";
import { createStacks, forgetStaleBackends, readSettings, SettingsError } from "./stacks";

// The cdktf app: reads synth-time settings, creates the stacks, synthesizes.
const app = new App();
try {
  const settings = readSettings({
    env: process.env,
    environmentsContext: app.node.tryGetContext("environments"),
    projectDir: __dirname,
  });
  const { notebooks } = createStacks(app, settings);
  app.synth();
  // Notebook stacks only: a state-backend stack's backend changes only to move its state (--migrate-state).
  forgetStaleBackends(app.outdir, notebooks.map((s) => s.node.id));
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`error: ${err.message}`);
  process.exit(1);
}
