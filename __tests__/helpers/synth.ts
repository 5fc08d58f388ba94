import { App, Testing } from "cdktf";
import { NotebookStack } from "../../stacks/notebook-stack";
import { readSettings, Settings } from "../../stacks/settings";
import { notebookStackSpecs } from "../../stacks/stack-specs";

export const PROJECT_DIR = "/projects/nb";

/** Settings as the app would read them, with a fixed user unless one is given. */
export function settingsFor(env: Record<string, string | undefined> = {}, environmentsContext?: unknown): Settings {
  return readSettings({ env: { NOTEBOOK_USER: "alice", ...env }, environmentsContext, projectDir: PROJECT_DIR, osUser: () => "ignored" });
}

/** Synthesizes the notebook stack with the given id and returns it with its parsed JSON. */
export function synthStack(id = "notebook", settings: Settings = settingsFor()): { stack: NotebookStack; json: any; text: string } {
  const spec = notebookStackSpecs(settings).find((s) => s.id === id);
  if (!spec) throw new Error(`no stack ${id}`);
  const app: App = Testing.app();
  const stack = new NotebookStack(app, spec);
  const text = Testing.synth(stack);
  return { stack, json: JSON.parse(text), text };
}

/** The only resource of a type in the synthesized JSON. */
export function onlyResource(json: any, type: string): any {
  const all = Object.values(json.resource?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

export function onlyData(json: any, type: string): any {
  const all = Object.values(json.data?.[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one data.${type}, found ${all.length}`);
  return all[0];
}

/** The resource of the notebook module with construct id `id` (e.g. "token_secret"). */
export function notebookResource(json: any, type: string, id: string): any {
  const pattern = new RegExp(`^notebook_${id}_[0-9A-F]{8}$`);
  const found = Object.entries(json.resource?.[type] ?? {}).filter(([key]) => pattern.test(key));
  if (found.length !== 1) throw new Error(`expected one ${type} with construct id ${id}, found ${found.length}`);
  return found[0][1];
}

/** Terraform's address of that resource, e.g. `aws_secretsmanager_secret.notebook_token_secret_4F31D455`. */
export function notebookAddress(json: any, type: string, id: string): string {
  const pattern = new RegExp(`^notebook_${id}_[0-9A-F]{8}$`);
  const key = Object.keys(json.resource?.[type] ?? {}).find((k) => pattern.test(k));
  if (!key) throw new Error(`no ${type} with construct id ${id}`);
  return `${type}.${key}`;
}

/** Terraform's address of the only data source of a type, e.g. `data.aws_ecs_cluster.platform_cluster_314FC901`. */
export function onlyDataAddress(json: any, type: string): string {
  const names = Object.keys(json.data?.[type] ?? {});
  if (names.length !== 1) throw new Error(`expected one data.${type}, found ${names.length}`);
  return `data.${type}.${names[0]}`;
}
