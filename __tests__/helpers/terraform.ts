import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeWithTool } from "./tools";

/** Runs the real `terraform` binary for tests (declared with `describeWithTerraform`). */

/** Oldest Terraform the stack accepts (S3 lock files; cross-variable validation needs 1.9). */
export const MIN_TERRAFORM_VERSION = "1.10";
/** How many terraform processes run at once (the CI machines have 2 cores). */
export const TERRAFORM_CONCURRENCY = 2;
const COMMAND_TIMEOUT_MS = 60_000;
const INSTALL_HINT = `install Terraform >= ${MIN_TERRAFORM_VERSION} (https://developer.hashicorp.com/terraform/install) ` + "and put `terraform` on PATH";

export interface TerraformResult {
  /** Exit code; -1 when terraform was killed (timeout) or did not start. */
  code: number;
  /** stdout followed by stderr. */
  output: string;
}

export interface TerraformStatus {
  available: boolean;
  /** Version found, e.g. "1.11.4", when terraform ran. */
  version?: string;
  /** Why terraform cannot be used, when it cannot. */
  problem?: string;
}

let status: TerraformStatus | undefined;

/** Whether a terraform >= MIN_TERRAFORM_VERSION is on PATH (checked once per test file). */
export function terraformStatus(): TerraformStatus {
  if (status) return status;
  const run = spawnSync("terraform", ["version", "-json"], { env: terraformEnv(), encoding: "utf8", timeout: 30_000 });
  if (run.error || run.status !== 0) {
    const notFound = (run.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
    const why = run.error ? run.error.message : `\`terraform version\` exited with ${run.status}: ${run.stderr.trim()}`;
    return (status = { available: false, problem: notFound ? "terraform was not found on PATH" : `terraform is not usable (${why})` });
  }
  let version = "";
  try {
    version = String(JSON.parse(run.stdout).terraform_version ?? "");
  } catch {
    version = /Terraform v(\d+\.\d+\.\d+)/.exec(run.stdout)?.[1] ?? "";
  }
  if (!atLeast(version, MIN_TERRAFORM_VERSION)) {
    return (status = { available: false, version, problem: `terraform ${version || "of unknown version"} is too old` });
  }
  return (status = { available: true, version });
}

export function terraformAvailable(): boolean {
  return terraformStatus().available;
}

function atLeast(version: string, min: string): boolean {
  const v = version.split(".").map(Number);
  const m = min.split(".").map(Number);
  if (v.length < 2 || v.some((n) => Number.isNaN(n))) return false;
  for (let i = 0; i < m.length; i++) {
    const a = v[i] ?? 0;
    if (a !== m[i]) return a > m[i];
  }
  return true;
}

/**
 * `describe` for tests that run terraform. Without a usable terraform: under CI the
 * block holds one failing test saying what to install; elsewhere it is skipped with
 * a warning.
 */
export function describeWithTerraform(name: string, fn: () => void): void {
  describeWithTool(name, "terraform", terraformStatus(), INSTALL_HINT, fn);
}

/**
 * Environment for terraform: no update check, automation output, and none of the
 * developer's TF_VAR_* / TF_CLI_ARGS* / TF_WORKSPACE, which would change the results.
 */
export function terraformEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith("TF_VAR_") || key.startsWith("TF_CLI_ARGS") || key === "TF_WORKSPACE") continue;
    env[key] = value;
  }
  return { ...env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1", TF_INPUT: "0" };
}

/** Runs `fn` with at most `limit` of them in flight; later calls wait for a free slot. */
function pool(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve)); // the slot is handed over
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const limited = pool(TERRAFORM_CONCURRENCY);

/** Runs terraform with `args` in `dir` (`env` on top); at most TERRAFORM_CONCURRENCY at once. */
export function runTerraform(dir: string, args: string[], env: Record<string, string> = {}): Promise<TerraformResult> {
  return limited(
    () =>
      new Promise<TerraformResult>((resolve, reject) => {
        const child = spawn("terraform", args, { cwd: dir, env: { ...terraformEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
        const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT_MS);
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, output: Buffer.concat(out).toString("utf8") + Buffer.concat(err).toString("utf8") });
        });
      }),
  );
}

/**
 * The `variable` blocks of a synthesized stack (and its `terraform.required_version`),
 * plus its `terraform_data` resources (built into terraform: the input checks that are
 * preconditions) and the locals they read, without providers, backend, data sources, other resources or outputs:
 * terraform can plan it offline, and a plan evaluates every validation rule and precondition.
 */
export function variablesOnly(synthesized: any): Record<string, unknown> {
  const variable = synthesized?.variable;
  if (!variable || Object.keys(variable).length === 0) throw new Error("the synthesized stack declares no variables");
  const config: Record<string, unknown> = { variable };
  const requiredVersion = synthesized?.terraform?.required_version;
  if (requiredVersion) config.terraform = { required_version: requiredVersion };
  const checks = synthesized?.resource?.terraform_data;
  if (checks) config.resource = { terraform_data: checks };
  // Locals the rules read (the instance types table); a local reading a resource has no place here.
  const locals = Object.fromEntries(
    Object.entries(synthesized?.locals ?? {}).filter(([, value]) => !/\b(?:aws_[a-z0-9_]+|random_[a-z0-9_]+|data)\./.test(JSON.stringify(value))),
  );
  if (Object.keys(locals).length > 0) config.locals = locals;
  return config;
}

/**
 * Writes the variable blocks of a synthesized stack as `main.tf.json` into a new
 * temporary directory and runs `terraform init` there. Returns the directory; remove
 * it with `removeDir`.
 */
export async function initVariablesDir(synthesized: any): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-vars-"));
  fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(variablesOnly(synthesized), null, 2));
  const init = await runTerraform(dir, ["init", "-input=false", "-no-color"]);
  if (init.code !== 0) {
    removeDir(dir);
    throw new Error(`terraform init failed (exit ${init.code}):\n${init.output}`);
  }
  return dir;
}

let varFiles = 0;

/**
 * Writes `tfvarsText` (HCL) to a new file in `dir` and runs `terraform plan` with it.
 * Plans in one directory may run at once: they hold no state, so they take no lock.
 */
export function planVars(dir: string, tfvarsText: string): Promise<TerraformResult> {
  const file = path.join(dir, `case-${++varFiles}.tfvars`);
  fs.writeFileSync(file, tfvarsText);
  return runTerraform(dir, ["plan", "-input=false", "-no-color", "-lock=false", `-var-file=${file}`]);
}

/** Terraform wraps messages at 78 columns: collapse white space before looking for a sentence. */
export function oneLine(output: string): string {
  return output.replace(/\s+/g, " ");
}

/** Renders a JS value as an HCL expression (strings, numbers, booleans, null, lists, maps). */
export function hclValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(hclValue).join(", ")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${hclValue(v)}`);
    return `{ ${entries.join(", ")} }`;
  }
  throw new Error(`no HCL for ${String(value)}`);
}

/** A tfvars file: one `name = value` line per entry, in order. */
export function tfvars(vars: Record<string, unknown>): string {
  return Object.entries(vars)
    .map(([name, value]) => `${name} = ${hclValue(value)}\n`)
    .join("");
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/** The one error `init` may end with offline: no provider can be downloaded. */
export const PROVIDER_DOWNLOAD_ERROR = "Failed to query available provider packages";

/**
 * `terraform init -backend=false` in a synthesized stack's directory, offline: a CLI
 * configuration whose only provider source is an empty filesystem mirror. init loads and
 * checks the whole configuration (references, expressions, preconditions, moved blocks),
 * then stops at the first provider. Returns the titles of the errors it reported.
 */
export async function initOffline(stackDir: string): Promise<{ result: TerraformResult; errors: string[] }> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tf-offline-"));
  try {
    const mirror = path.join(scratch, "empty-mirror");
    fs.mkdirSync(mirror);
    const cliConfig = path.join(scratch, "cli.tfrc");
    fs.writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n`);
    const result = await runTerraform(stackDir, ["init", "-backend=false", "-input=false", "-no-color"], {
      TF_CLI_CONFIG_FILE: cliConfig,
      // A plugin cache from the developer's CLI configuration would hide the mirror.
      TF_PLUGIN_CACHE_DIR: "",
      TF_DATA_DIR: path.join(scratch, ".terraform"),
    });
    const errors = [...result.output.matchAll(/^(?:│ )?Error: (.+)$/gm)].map((m) => m[1].trim());
    return { result, errors };
  } finally {
    removeDir(scratch);
  }
}

/**
 * Evaluates expressions of a synthesized stack with the real terraform, offline: each
 * `${...}` expression becomes an output of a configuration that holds nothing else but
 * `locals` and, when given, the stack's `variable` blocks with a vars file (no provider, no
 * resource). `replacements` (pattern, HCL) first swap references to data sources and
 * resources for those locals or literals. Output names must be Terraform identifiers.
 * Returns the outputs' values.
 */
export async function evaluateExpressions(
  expressions: Record<string, string>,
  options: { replacements?: Array<[RegExp, string]>; locals?: Record<string, unknown>; variables?: unknown; varsText?: string } = {},
): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tf-eval-"));
  try {
    const output: Record<string, { value: string }> = {};
    for (const [name, expression] of Object.entries(expressions)) {
      let rendered = expression;
      for (const [pattern, hcl] of options.replacements ?? []) rendered = rendered.replace(pattern, hcl);
      output[name] = { value: rendered };
    }
    const locals = options.locals && Object.keys(options.locals).length > 0 ? options.locals : undefined;
    fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify({ variable: options.variables, locals, output }));
    const apply = ["apply", "-input=false", "-no-color", "-auto-approve"];
    if (options.varsText !== undefined) {
      fs.writeFileSync(path.join(dir, "vars.tfvars"), options.varsText);
      apply.push("-var-file=vars.tfvars");
    }
    for (const args of [["init", "-input=false", "-no-color"], apply]) {
      const run = await runTerraform(dir, args);
      if (run.code !== 0) throw new Error(`terraform ${args[0]} failed:\n${run.output}`);
    }
    const read = await runTerraform(dir, ["output", "-json"]);
    // stdout is the JSON object; a warning about the developer's CLI configuration may follow.
    const parsed = JSON.parse(read.output.slice(0, read.output.indexOf("\n}") + 2)) as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(parsed).map(([name, o]) => [name, o.value]));
  } finally {
    removeDir(dir);
  }
}

/**
 * Renders `jsonencode(...)` policies of a synthesized stack into the JSON AWS receives, with
 * every reference to a resource or data source replaced by a readable placeholder naming
 * its type, construct and attribute without the hash: `aws_iam_role.notebook_task_role.arn`
 * becomes the string "<aws_iam_role.notebook_task_role.arn>", a splat `x[*].arn` the list
 * ["<x[*].arn>"]. Tests then check policies statement by statement, by type and role.
 */
export async function renderPolicies(
  policies: Record<string, string>,
  options: { replacements?: Array<[RegExp, string]>; variables?: unknown; varsText?: string } = {},
): Promise<Record<string, any>> {
  const reference = "((?:data\\.)?(?:aws|random)_[a-z0-9_]+)\\.([A-Za-z0-9_]+?)(?:_[0-9A-F]{8})?";
  const rendered = await evaluateExpressions(policies, {
    ...options,
    replacements: [
      // The caller's own first (e.g. a data source with for_each, whose value is a map).
      ...(options.replacements ?? []),
      [new RegExp(`${reference}\\[\\*\\]\\.([a-z_]+)`, "g"), '["<$1.$2[*].$3>"]'],
      [new RegExp(`${reference}\\.([a-z_]+)`, "g"), '"<$1.$2.$3>"'],
    ],
  });
  return Object.fromEntries(Object.entries(rendered).map(([name, json]) => [name, JSON.parse(json as string)]));
}

/** The statement with this Sid (or the only one, without a Sid). */
export function statement(policy: any, sid?: string): any {
  const found = (policy.Statement as any[]).filter((s) => (sid === undefined ? true : s.Sid === sid));
  if (found.length !== 1) throw new Error(`expected one statement ${sid ?? ""}, found ${found.length} in ${JSON.stringify(policy)}`);
  return found[0];
}

/** A vars file a stack's variables must refuse: the variable named and a fragment of the message. */
export interface RejectedVarsCase {
  readonly name: string;
  /** The variable the error must name. */
  readonly variable: string;
  /** A fragment of the expected error message (compared with white space collapsed). */
  readonly message: string;
  /** @default "Error: Invalid value for variable" */
  readonly error?: string;
}

/**
 * The tests of a stack's accepted and rejected vars files, whose plans are in `results`
 * under `good: <name>` and `bad: <name>` (filled in a beforeAll): an accepted file plans
 * without error or undeclared name; a rejected one fails with the rule's own message,
 * naming the variable, not with a function failing on the value.
 */
export function describeVarsCases(
  results: Map<string, TerraformResult>,
  good: ReadonlyArray<{ name: string }>,
  bad: ReadonlyArray<RejectedVarsCase>,
  badPrefix = "",
): void {
  describe("accepts", () => {
    for (const c of good) {
      test(c.name, () => {
        const result = results.get(`good: ${c.name}`)!;
        expect(result.output).not.toContain("Error:");
        // A name the configuration does not declare is only a warning: catch it here.
        expect(result.output).not.toContain("undeclared variable");
        // So is a rule's message that cannot be evaluated (a null in it), which a later Terraform makes an error.
        expect(result.output).not.toContain("error message expression is invalid");
        expect(result.code).toBe(0);
      });
    }
  });
  describe("rejects, naming the variable", () => {
    for (const c of bad) {
      test(`${badPrefix}${c.name} (${c.variable})`, () => {
        const result = results.get(`bad: ${c.name}`)!;
        expect(result.code).not.toBe(0);
        expect(result.output).toContain(c.error ?? "Error: Invalid value for variable");
        expect(result.output).toContain(`var.${c.variable}`);
        expect(oneLine(result.output)).toContain(c.message);
        // The rule's own message, not a function failing on the value (a null tag did that).
        expect(result.output).not.toMatch(/Invalid function argument|Error in function call/);
        expect(result.output).not.toContain("error message expression is invalid");
      });
    }
  });
}
