import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SettingsError } from "../stacks/settings";
import { NotebookStackSpec } from "../stacks/stack-specs";

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

/** Retries of each AWS call when reading a state: a status check should answer quickly. */
const STATE_READ_RETRIES = 2;

/**
 * The state of a notebook stack, or undefined when it has none. Local state is read from
 * its file. S3 state is pulled by terraform from a scratch directory that holds only the
 * backend block for this stack's key: no providers to download, no synth, and this
 * checkout's working directories are left alone.
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
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "nb-state-"));
  try {
    fs.writeFileSync(path.join(scratch, "main.tf.json"), JSON.stringify({ terraform: { backend: { s3: {} } } }));
    const tfEnv = { ...process.env, ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    const config = { bucket: backend.bucket, key: backend.key, region: backend.region, max_retries: STATE_READ_RETRIES };
    const init = spawnSync("terraform", ["init", "-input=false", "-no-color", ...Object.entries(config).map(([k, v]) => `-backend-config=${k}=${v}`)], {
      cwd: scratch,
      env: tfEnv,
      encoding: "utf8",
    });
    if (init.error || init.status !== 0) {
      const why = (init.stderr || String(init.error)).split("\n").find((l) => /Error/.test(l)) ?? "see terraform init";
      throw new SettingsError(`cannot read s3://${backend.bucket}/${backend.key} for ${spec.id}: ${why.replace(/^[│\s]*/, "")}`);
    }
    const pulled = spawnSync("terraform", ["state", "pull"], { cwd: scratch, env: tfEnv, encoding: "utf8" });
    if (pulled.status !== 0) throw new SettingsError(`terraform state pull failed for ${spec.id}: ${pulled.stderr.trim().split("\n")[0]}`);
    const text = pulled.stdout.trim();
    return text === "" ? undefined : JSON.parse(text);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
