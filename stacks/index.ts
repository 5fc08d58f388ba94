import { App } from "cdktf";
import { NotebookStack } from "./notebook-stack";
import { notebookStackSpecs, Settings } from "./settings";

export { NotebookStack } from "./notebook-stack";
export { readSettings, SettingsError, notebookStackSpecs } from "./settings";
export { forgetStaleBackends } from "./working-dir";

/** Every notebook stack for these settings: `notebook` and one `notebook-<env>` per environment. */
export function createNotebookStacks(app: App, settings: Settings): NotebookStack[] {
  return notebookStackSpecs(settings).map((spec) => new NotebookStack(app, spec));
}
