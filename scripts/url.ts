import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { notebookStackSpecs, readSettings, SettingsError } from "../stacks/settings";

/**
 * `npm run url [-- <stack>]`: prints the `url` output (with the token) of the current
 * user's deployed notebook stack, `notebook` unless a stack id is given.
 * Local state is read straight from the user's state file; S3 state through
 * `terraform output` in the stack's working directory, initialised for this user's key.
 */
export function notebookUrl(stackId: string, projectDir: string, env: Record<string, string | undefined>): string {
  const settings = readSettings({ env, environmentsContext: cdktfConfig(projectDir).context?.environments, projectDir });
  const specs = notebookStackSpecs(settings);
  const spec = specs.find((s) => s.id === stackId);
  if (!spec) {
    throw new SettingsError(`unknown stack "${stackId}": expected one of ${specs.map((s) => s.id).join(", ")}`);
  }
  const backend = spec.backend;
  if (backend.type === "local") {
    if (!fs.existsSync(backend.path)) {
      throw new SettingsError(`no state for stack ${spec.id} of user ${spec.user} at ${backend.path}: deploy it first (npx cdktf deploy ${spec.id} --var-file=vars.tfvars)`);
    }
    const state = JSON.parse(fs.readFileSync(backend.path, "utf8"));
    const url = state?.outputs?.url?.value;
    if (typeof url !== "string") {
      throw new SettingsError(`the state of stack ${spec.id} at ${backend.path} has no url output: the notebook is not deployed (or was destroyed)`);
    }
    return url;
  }
  const workingDir = path.join(projectDir, "cdktf.out", "stacks", spec.id);
  if (!fs.existsSync(path.join(workingDir, "cdk.tf.json"))) {
    // Deployed from another checkout or machine: synthesize here to get a working directory.
    const synth = spawnSync(cdktfConfig(projectDir).app, { shell: true, cwd: projectDir, env: { ...process.env, ...env }, encoding: "utf8" });
    if (synth.status !== 0 || !fs.existsSync(path.join(workingDir, "cdk.tf.json"))) {
      throw new SettingsError(`could not synthesize stack ${spec.id}: ${(synth.stderr || "").trim().split("\n")[0]}`);
    }
  }
  const tfEnv = { ...process.env, ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
  // -reconfigure with this user's key: reads this user's state, never migrates another one.
  const init = spawnSync(
    "terraform",
    ["init", "-input=false", "-no-color", "-reconfigure", `-backend-config=bucket=${backend.bucket}`, `-backend-config=key=${backend.key}`, `-backend-config=region=${backend.region}`],
    { cwd: workingDir, env: tfEnv, encoding: "utf8" },
  );
  if (init.error || init.status !== 0) {
    throw new SettingsError(`terraform init failed in ${workingDir}: ${(init.stderr || String(init.error)).trim().split("\n").slice(0, 3).join(" ")}`);
  }
  const output = spawnSync("terraform", ["output", "-raw", "-no-color", "url"], { cwd: workingDir, env: tfEnv, encoding: "utf8" });
  if (output.status !== 0) {
    throw new SettingsError(`stack ${spec.id} of user ${spec.user} has no url output in s3://${backend.bucket}/${backend.key}: deploy it first`);
  }
  return output.stdout.trim();
}

function cdktfConfig(projectDir: string): { app: string; context?: { environments?: unknown } } {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectDir, "cdktf.json"), "utf8"));
  } catch (err) {
    throw new SettingsError(`cannot read cdktf.json in ${projectDir}: ${(err as Error).message}`);
  }
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
