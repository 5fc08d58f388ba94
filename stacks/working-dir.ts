import * as fs from "fs";
import * as path from "path";

/**
 * Keeps one checkout safe when the user or the state location changes.
 *
 * cdktf runs Terraform in one working directory per stack (`cdktf.out/stacks/<id>`).
 * Terraform caches the backend configuration there (`.terraform/terraform.tfstate`),
 * and `terraform init` stops with "Backend configuration changed" when the
 * configuration moves, for instance to another user's state key, or, with
 * -migrate-state, copies one state into the other. Neither is wanted: each user's
 * state belongs where its key says. So after synth, when the cached backend differs
 * from the one just synthesized, the cache (and only it: no state, no providers) is
 * removed, and the next `terraform init` initialises the new backend from scratch,
 * without migrating anything. Returns the stack directories whose cache was removed.
 */
export function forgetStaleBackends(outdir: string, stackIds: string[]): string[] {
  const forgotten: string[] = [];
  for (const id of stackIds) {
    const dir = path.join(outdir, "stacks", id);
    if (forgetStaleBackend(dir)) forgotten.push(dir);
  }
  return forgotten;
}

/** For one Terraform working directory; true when the cached backend was removed. */
export function forgetStaleBackend(workingDir: string): boolean {
  const cachePath = path.join(workingDir, ".terraform", "terraform.tfstate");
  const cached = readJson(cachePath) as { backend?: { type?: string; config?: Record<string, unknown> } } | undefined;
  if (!cached?.backend?.type) return false;
  const wanted = synthesizedBackend(workingDir);
  if (!wanted) return false;
  if (sameBackend(wanted, { type: cached.backend.type, config: cached.backend.config ?? {} })) return false;
  fs.unlinkSync(cachePath);
  return true;
}

interface Backend {
  type: string;
  config: Record<string, unknown>;
}

function synthesizedBackend(workingDir: string): Backend | undefined {
  const json = readJson(path.join(workingDir, "cdk.tf.json")) as { terraform?: { backend?: Record<string, Record<string, unknown>> } } | undefined;
  const backends = Object.entries(json?.terraform?.backend ?? {});
  if (backends.length !== 1) return undefined;
  const [type, config] = backends[0];
  return { type, config };
}

/** Every attribute the synthesized backend sets must be cached with the same value. */
function sameBackend(wanted: Backend, cached: Backend): boolean {
  if (wanted.type !== cached.type) return false;
  return Object.entries(wanted.config).every(([key, value]) => JSON.stringify(cached.config[key]) === JSON.stringify(value));
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * `cdktf synth --hcl` writes `cdk.tf`, a JSON synth `cdk.tf.json`, and neither removes the
 * other: Terraform would then read both and see every block twice. After synth, the
 * format not written this time is removed from each stack's directory.
 */
export function removeOtherFormat(outdir: string, stackIds: string[], hcl: boolean): void {
  for (const id of stackIds) {
    fs.rmSync(path.join(outdir, "stacks", id, hcl ? "cdk.tf.json" : "cdk.tf"), { force: true });
  }
}
