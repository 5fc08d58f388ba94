import { App } from "cdktf";
import { createNotebookStacks, forgetStaleBackends, readSettings, SettingsError } from "./stacks";

// The cdktf app: reads synth-time settings, creates the stacks, synthesizes.
const app = new App();
try {
  const settings = readSettings({
    env: process.env,
    environmentsContext: app.node.tryGetContext("environments"),
    projectDir: __dirname,
  });
  const stacks = createNotebookStacks(app, settings);
  app.synth();
  forgetStaleBackends(app.outdir, stacks.map((s) => s.node.id));
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  console.error(`error: ${err.message}`);
  process.exit(1);
}
