import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { NotebookStackSpec, SettingsError } from "../stacks/settings";

/** Terraform state as the day-2 commands need it: outputs and resources. */
export interface TerraformState {
  outputs?: Record<string, { value: unknown; sensitive?: boolean }>;
  resources?: Array<{ mode: string; type: string; name: string; instances: Array<{ attributes: Record<string, unknown> }> }>;
}

export function cdktfConfig(projectDir: string): { app: string; context?: { environments?: unknown } } {
  try {
    return JSON.parse(fs.readFileSync(path.join(projectDir, "cdktf.json"), "utf8"));
  } catch (err) {
    throw new SettingsError(`cannot read cdktf.json in ${projectDir}: ${(err as Error).message}`);
  }
}

/**
 * The state of a notebook stack, or undefined when it has none. Local state is read from
 * its file; S3 state through terraform in the stack's working directory, initialised with
 * -reconfigure for this stack's key (so it reads exactly that state and migrates nothing),
 * after synthesizing the stack here when this checkout never did.
 */
export function readStackState(spec: NotebookStackSpec, projectDir: string, env: Record<string, string | undefined>): TerraformState | undefined {
  const backend = spec.backend;
  if (backend.type === "local") {
    if (!fs.existsSync(backend.path)) return undefined;
    return JSON.parse(fs.readFileSync(backend.path, "utf8"));
  }
  const workingDir = path.join(projectDir, "cdktf.out", "stacks", spec.id);
  if (!fs.existsSync(path.join(workingDir, "cdk.tf.json"))) {
    const synth = spawnSync(cdktfConfig(projectDir).app, { shell: true, cwd: projectDir, env: { ...process.env, ...env }, encoding: "utf8" });
    if (synth.status !== 0 || !fs.existsSync(path.join(workingDir, "cdk.tf.json"))) {
      throw new SettingsError(`could not synthesize stack ${spec.id}: ${(synth.stderr || "").trim().split("\n")[0]}`);
    }
  }
  const tfEnv = { ...process.env, ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
  const init = spawnSync(
    "terraform",
    ["init", "-input=false", "-no-color", "-reconfigure", `-backend-config=bucket=${backend.bucket}`, `-backend-config=key=${backend.key}`, `-backend-config=region=${backend.region}`],
    { cwd: workingDir, env: tfEnv, encoding: "utf8" },
  );
  if (init.error || init.status !== 0) {
    const why = (init.stderr || String(init.error)).replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").filter((l) => /Error/.test(l))[0] ?? "see terraform init";
    throw new SettingsError(`terraform init failed for ${spec.id} (s3://${backend.bucket}/${backend.key}): ${why.replace(/^[│\s]*/, "")}`);
  }
  const pulled = spawnSync("terraform", ["state", "pull"], { cwd: workingDir, env: tfEnv, encoding: "utf8" });
  if (pulled.status !== 0) throw new SettingsError(`terraform state pull failed for ${spec.id}: ${pulled.stderr.trim().split("\n")[0]}`);
  const text = pulled.stdout.trim();
  return text === "" ? undefined : JSON.parse(text);
}
