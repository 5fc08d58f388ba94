import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SettingsError } from "./settings-error";
import { BackendSpec, NotebookStackSpec } from "./stack-specs";

/**
 * Reading a notebook's state in S3, and saying plainly when AWS refuses it. With an
 * environment's notebook user policy (modules/access-policies), a person reads and writes
 * only the states under their own name: the value of their identity's NotebookUser tag.
 */

/** Retries of each AWS call when reading a state: a status check should answer quickly. */
const STATE_READ_RETRIES = 2;

/** The result of pulling a state: its text (empty: no state yet), or why it could not be read. */
export type PulledState = { readonly text: string } | { readonly error: string; readonly denied: boolean };

/**
 * Pulls a stack's S3 state with terraform from a scratch directory that holds only the
 * backend block for its key: no providers to download, no synth, and this checkout's
 * working directories are left alone.
 */
export function pullS3State(spec: { readonly id: string; readonly backend: BackendSpec }, env: Record<string, string | undefined>): PulledState {
  const backend = spec.backend;
  if (backend.type !== "s3") throw new Error(`${spec.id} keeps its state in a local file`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "nb-state-"));
  try {
    fs.writeFileSync(path.join(scratch, "main.tf.json"), JSON.stringify({ terraform: { backend: { s3: {} } } }));
    const tfEnv: Record<string, string | undefined> = { ...process.env, ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    const config: Record<string, string | number | boolean> = { bucket: backend.bucket, key: backend.key, region: backend.region, max_retries: STATE_READ_RETRIES };
    // An S3-compatible endpoint of one's own (MinIO, a test double) answers on paths, not bucket hostnames.
    if (tfEnv.AWS_ENDPOINT_URL_S3) config.use_path_style = true;
    const args = Object.entries(config).map(([k, v]) => `-backend-config=${k}=${v}`);
    const init = spawnSync("terraform", ["init", "-input=false", "-no-color", ...args], { cwd: scratch, env: tfEnv, encoding: "utf8" });
    if (init.error || init.status !== 0) return failure(init.stderr || String(init.error));
    const pulled = spawnSync("terraform", ["state", "pull"], { cwd: scratch, env: tfEnv, encoding: "utf8" });
    if (pulled.status !== 0) return failure(pulled.stderr);
    return { text: pulled.stdout.trim() };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function failure(stderr: string): PulledState {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  const error = (lines.find((l) => /Error|Failed/.test(l)) ?? "see terraform's output").replace(/^[│\s]*/, "").trim();
  return { error, denied: /StatusCode: 403|AccessDenied|Forbidden/.test(stderr) };
}

/** Says which state the person may not read, whose it is, and whose they may read. */
export function deniedMessage(spec: NotebookStackSpec, identity: string | undefined): string {
  const where = spec.backend.type === "s3" ? `s3://${spec.backend.bucket}/${spec.backend.key}` : spec.backend.path;
  const who = identity ? `your AWS identity (${identity})` : "your AWS identity";
  return (
    `${who} may not read the state of ${spec.user}'s notebook (${spec.id}, ${where}). ` +
    `Each person may deploy, read and destroy only their own notebooks: those of the name in their identity's NotebookUser tag. ` +
    `If that name is not ${spec.user}, set NOTEBOOK_USER to it; if it is, ask an administrator to attach the environment's notebook user policy (README, Permissions).`
  );
}

/** The ARN of the AWS identity in use (the default credential chain), or undefined when AWS cannot say. */
export async function callerIdentity(region: string): Promise<string | undefined> {
  try {
    const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
    const sts = new STSClient({ region, maxAttempts: 1 });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    } finally {
      sts.destroy();
    }
  } catch {
    return undefined;
  }
}

/**
 * Before a deploy, diff or destroy of these notebook stacks: stops (SettingsError) when AWS
 * refuses the person the state of one of them, naming the stack's user and the identity.
 * Any other failure (no credentials, no bucket yet) is left to Terraform to report.
 */
export async function checkStateAccess(specs: NotebookStackSpec[], env: Record<string, string | undefined>): Promise<void> {
  for (const spec of specs) {
    if (spec.backend.type !== "s3") continue;
    const pulled = pullS3State(spec, env);
    if ("error" in pulled && pulled.denied) throw new SettingsError(deniedMessage(spec, await callerIdentity(spec.backend.region)));
  }
}
