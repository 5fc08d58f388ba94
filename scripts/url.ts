import * as path from "path";
import { SettingsError } from "../stacks/settings";
import { findNotebookStack, readStackState } from "./state";

/**
 * `npm run url [-- <stack>]`: prints the `url` output (with the token) of the current
 * user's deployed notebook stack, `notebook` unless a stack id is given.
 * (scripts/state.ts reads the state: a local file, or S3 through terraform.)
 */
export function notebookUrl(stackId: string, projectDir: string, env: Record<string, string | undefined>): string {
  const spec = findNotebookStack(stackId, projectDir, env);
  const where = spec.backend.type === "local" ? spec.backend.path : `s3://${spec.backend.bucket}/${spec.backend.key}`;
  const state = readStackState(spec, env);
  if (!state) {
    throw new SettingsError(`no state for stack ${spec.id} of user ${spec.user} at ${where}: deploy it first (npx cdktf deploy ${spec.id} --var-file=vars.tfvars)`);
  }
  const url = state.outputs?.url?.value;
  if (typeof url !== "string") {
    throw new SettingsError(`the state of stack ${spec.id} at ${where} has no url output: the notebook is not deployed (or was destroyed)`);
  }
  return url;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args.length > 1 || args[0]?.startsWith("-")) {
    console.error("usage: npm run url [-- <stack id>]   (default stack: notebook)");
    process.exit(2);
  }
  try {
    console.log(notebookUrl(args[0] ?? "notebook", path.resolve(__dirname, ".."), process.env));
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
}
