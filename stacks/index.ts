import { App } from "cdktf";
import { NotebookStack } from "./notebook-stack";
import { notebookStackSpecs, Settings, stateBackendStackSpecs } from "./settings";
import { StateBackendStack } from "./state-backend-stack";

export { NotebookStack } from "./notebook-stack";
export { StateBackendStack } from "./state-backend-stack";
export { readSettings, SettingsError, notebookStackSpecs } from "./settings";
export { forgetStaleBackends, removeOtherFormat } from "./working-dir";

/**
 * Every stack for these settings: `notebook`; per environment `notebook-<env>`, one
 * `notebook-<env>-<user>` per team-file user, and `state-backend-<env>`.
 */
export function createStacks(app: App, settings: Settings): { notebooks: NotebookStack[]; stateBackends: StateBackendStack[] } {
  return {
    notebooks: notebookStackSpecs(settings).map((spec) => new NotebookStack(app, spec)),
    stateBackends: stateBackendStackSpecs(settings).map((spec) => new StateBackendStack(app, spec)),
  };
}
