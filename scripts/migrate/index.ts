import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { requireUser, SettingsError } from "../../stacks/settings";
import { NotebookStackSpec, notebookStackSpecs } from "../../stacks/stack-specs";
import { holdsResources } from "../../stacks/platform-guard";
import { valuesOfVarFile } from "../../stacks/var-files";
import { managedAttributes, projectSettings, readStackState } from "../state";
import { notebookUrl } from "../url";
import { EmptyStateError, ForeignStateError, OldNotebook, readOldState } from "./old-state";

/**
 * `npm run migrate -- --from <old terraform.tfstate> --var-file <vars.tfvars> [--stack <id>] [--yes]`:
 * moves a notebook of the team's old plain-Terraform configuration to this project's
 * stack, keeping its hostname (the suffix is imported) and its token (the vars file's):
 *
 *   1. `cdktf diff <stack>` plans the new stack with the kept suffix: nothing changes if it fails;
 *   2. `terraform destroy` in the old configuration's directory removes the old notebook,
 *      so that nothing fights over its DNS record or pays twice (its output masked: the old
 *      configuration's url output shows the token);
 *   3. `cdktf deploy <stack>` creates the new one with the kept suffix (NOTEBOOK_KEEP_SUFFIX),
 *      and its state is checked to hold it;
 *   4. the URL is printed: the old one.
 *
 * Everything that can be checked before is checked first (the state, the vars file, the new
 * stack's state); each step is shown, the whole is confirmed once, and terraform and cdktf
 * ask for their own confirmation. No token is printed or written anywhere new.
 */

export interface MigrationPlan {
  readonly old: OldNotebook;
  readonly spec: NotebookStackSpec;
  /** Absolute paths. */
  readonly oldDir: string;
  readonly varFile: string;
  /** What the user should know before confirming (a token that is not kept, say). */
  readonly warnings: string[];
  readonly steps: MigrationStep[];
}

export interface MigrationStep {
  /** What the step does, for the user. */
  readonly title: string;
  readonly command: string;
  readonly args: string[];
  readonly cwd: string;
  readonly env: Record<string, string>;
  /** Where the migration stands when this step fails, and how to go on. */
  readonly ifFails: string;
  /**
   * A secret to hide in the step's output (the old configuration's url output was not
   * sensitive: its destroy plan prints the token). Its output is then relayed, masked;
   * without it the step runs on the terminal (cdktf's own interface needs one).
   */
  readonly mask?: string;
}

export interface MigrateArgs {
  readonly from: string;
  readonly varFile: string;
  readonly stack: string;
  readonly yes: boolean;
}

export function parseMigrateArgs(argv: string[]): MigrateArgs {
  const usage = "usage: npm run migrate -- --from <old terraform.tfstate> --var-file <vars.tfvars> [--stack <stack id>] [--yes]";
  const values: Record<string, string> = {};
  let yes = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--yes") yes = true;
    else if (["--from", "--var-file", "--stack"].includes(arg)) {
      if (argv[i + 1] === undefined || argv[i + 1].startsWith("--")) throw new SettingsError(`${arg} needs a value; ${usage}`);
      values[arg] = argv[++i];
    }
    else if (/^--(from|var-file|stack)=/.test(arg)) values[arg.slice(0, arg.indexOf("="))] = arg.slice(arg.indexOf("=") + 1);
    else throw new SettingsError(`unknown argument ${JSON.stringify(arg)}; ${usage}`);
  }
  if (!values["--from"] || !values["--var-file"]) throw new SettingsError(`--from and --var-file are required; ${usage}`);
  return { from: values["--from"], varFile: values["--var-file"], stack: values["--stack"] ?? "notebook", yes };
}

/**
 * What to do about an old state that is empty: when Terraform's backup next to it is the old
 * notebook, an earlier migrate stopped after destroying it; say how to finish.
 */
function afterDestroy(from: string, args: MigrateArgs): string {
  try {
    const backup = readOldState(fs.readFileSync(`${from}.backup`, "utf8"), `${args.from}.backup`);
    return (
      `Its backup (${args.from}.backup) is the old notebook ${backup.hostname}: an earlier migrate destroyed it and stopped before the deploy. ` +
      `Finish with: NOTEBOOK_KEEP_SUFFIX=${args.stack}=${backup.suffix} npx cdktf deploy ${args.stack} --var-file=${path.resolve(args.varFile)}`
    );
  } catch {
    return "Nothing to move: deploy a new notebook instead";
  }
}

/** Everything checked, nothing changed: the steps of the move, or a SettingsError saying what stops it. */
export async function planMigration(args: MigrateArgs, projectDir: string, env: Record<string, string | undefined>): Promise<MigrationPlan> {
  const from = path.resolve(args.from);
  const varFile = path.resolve(args.varFile);
  let text: string;
  try {
    text = fs.readFileSync(from, "utf8");
  } catch (err) {
    throw new SettingsError(`cannot read the old state ${args.from}: ${(err as Error).message}`);
  }
  let old: OldNotebook;
  try {
    old = readOldState(text, args.from);
  } catch (err) {
    if (err instanceof EmptyStateError) throw new SettingsError(`${err.message}. ${afterDestroy(from, args)}`);
    if (err instanceof ForeignStateError) throw new SettingsError(err.message);
    throw err;
  }

  const settings = projectSettings(projectDir, env);
  const user = requireUser(settings);
  const spec = notebookStackSpecs(settings).find((s) => s.id === args.stack);
  if (!spec || spec.user !== user) {
    const own = notebookStackSpecs(settings).filter((s) => s.user === user).map((s) => s.id);
    throw new SettingsError(`--stack ${args.stack} is not one of your notebook stacks: expected one of ${own.join(", ")}`);
  }
  if (spec.platform) {
    throw new SettingsError(`${spec.id} reads its platform from ${spec.platform.stackId}: an old notebook moves to a stack of the team's own platform (the vars file's cluster, load balancer and zone), such as notebook`);
  }

  const vars = await valuesOfVarFile(varFile);
  if (!vars) throw new SettingsError(`cannot read the vars file ${args.varFile} (HCL or JSON)`);
  const problems: string[] = [];
  const prefix = String(vars.hostname_prefix ?? "jupyter");
  const firstLabel = old.hostname.split(".")[0];
  if (`${prefix}-${old.suffix}`.toLowerCase() !== firstLabel.toLowerCase()) {
    problems.push(`hostname_prefix is "${prefix}", but the old hostname starts with "${firstLabel.slice(0, -old.suffix.length - 1)}": set hostname_prefix to that`);
  }
  if (String(vars.domain ?? "") !== old.domain) {
    problems.push(`domain is ${JSON.stringify(String(vars.domain ?? ""))}, but the old URL's domain is "${old.domain}": set domain = "${old.domain}" (an empty one would take the zone's name, which may differ)`);
  }
  // The vars file it was deployed with: the new notebook runs where the old one did.
  for (const [name, value] of [["region", old.region], ["ecs_cluster_name", old.clusterName], ["loadbalancer_arn", old.loadBalancerArn]] as const) {
    if (String(vars[name] ?? "") !== value) {
      problems.push(`${name} is ${JSON.stringify(String(vars[name] ?? ""))}, but the old notebook ran on "${value}": use the vars file it was deployed with`);
    }
  }
  if (String(vars.hosted_zone_id ?? "") !== old.hostedZoneId) {
    problems.push(`hosted_zone_id is ${JSON.stringify(String(vars.hosted_zone_id ?? ""))}, but the old record is in zone ${old.hostedZoneId}: set that zone`);
  }
  const warnings: string[] = [
    "files inside the old notebook are not moved (the old configuration kept none): download or push what you need before you confirm",
  ];
  const token = String(vars.token ?? "");
  if (old.tokenProblems.length > 0) {
    // The old token is not kept: the new stack's rule refuses it, for good reasons.
    if (token !== "") {
      problems.push(
        `the old notebook's token is not safe to keep (${old.tokenProblems.join("; ")}), and the new stack refuses it: ` +
          `set token = "" in ${path.basename(varFile)} to get a new, strong one (kept in Secrets Manager; the hostname stays, the token in the URL changes)`,
      );
    } else {
      warnings.push(`the old token is not kept (${old.tokenProblems.join("; ")}): the new notebook gets a new one, and its URL a new token; the hostname stays`);
    }
  } else if (token !== old.token) {
    problems.push(
      token === ""
        ? `token is empty, so the new notebook would get a new token and the bookmarked URL would stop working: set token in ${path.basename(varFile)} to the old notebook's token (the one in its URL)`
        : `token in ${path.basename(varFile)} is not the old notebook's token: set it to the one in the old URL, or the bookmarked URL stops working`,
    );
  }
  if (problems.length > 0) throw new SettingsError(`cannot move ${old.hostname}:\n  - ${problems.join("\n  - ")}`);

  const existing = readStackState(spec, env);
  if (existing && holdsResources(JSON.stringify(existing))) {
    throw new SettingsError(`${spec.id} already has a notebook (${user}'s): destroy it first (npx cdktf destroy ${spec.id}), or move the old notebook to another environment's stack with --stack`);
  }

  // Step 1 runs the old configuration's destroy where its state is: its files must be there, initialized.
  const oldDir = path.dirname(from);
  const oldFiles = fs.readdirSync(oldDir).filter((f) => f.endsWith(".tf") || f.endsWith(".tf.json"));
  if (oldFiles.length === 0) {
    throw new SettingsError(`${oldDir} has no .tf files: --from must be the state in the old configuration's directory, whose destroy removes the old notebook (copy the configuration next to the state)`);
  }
  if (!fs.existsSync(path.join(oldDir, ".terraform"))) {
    throw new SettingsError(`the old configuration in ${oldDir} is not initialized: run \`terraform -chdir=${oldDir} init\` first (it reads no state and changes nothing)`);
  }
  const keep = `${spec.id}=${old.suffix}`;
  const continueDeploy = `NOTEBOOK_KEEP_SUFFIX=${keep} npx cdktf deploy ${spec.id} --var-file=${varFile}`;
  return {
    old,
    spec,
    oldDir,
    varFile,
    warnings,
    steps: [
      {
        title: `check the new stack: ${spec.id} is planned with the old suffix, before anything changes (cdktf diff)`,
        command: "npx",
        args: ["cdktf", "diff", spec.id, `--var-file=${varFile}`],
        cwd: projectDir,
        env: { NOTEBOOK_KEEP_SUFFIX: keep },
        ifFails: `stopped at step 1: nothing was changed; the old notebook still runs. Fix what the plan reported (the vars file, your permissions), then run npm run migrate again`,
      },
      {
        title: `destroy the old notebook (${old.hostname}) with the old configuration; its URL stops answering until step 3 is done`,
        command: "terraform",
        args: [`-chdir=${oldDir}`, "destroy", `-var-file=${varFile}`],
        cwd: projectDir,
        env: {},
        mask: old.token,
        ifFails: `stopped at step 2: the old notebook may be partly destroyed, the new one is not deployed. Run \`terraform -chdir=${oldDir} destroy -var-file=${varFile}\` until it succeeds, then: ${continueDeploy}`,
      },
      {
        title: `deploy ${spec.id} with the old suffix ${old.suffix} (imported), so the hostname stays ${old.hostname}`,
        command: "npx",
        args: ["cdktf", "deploy", spec.id, `--var-file=${varFile}`],
        cwd: projectDir,
        env: { NOTEBOOK_KEEP_SUFFIX: keep },
        ifFails: `stopped at step 3: the old notebook is destroyed, the new one is not (fully) deployed. Fix what the deploy reported, then continue with: ${continueDeploy}`,
      },
    ],
  };
}

/** Runs the steps in order (each asks for its own confirmation), stops at the first that fails, then checks the deploy's result. */
export async function runMigration(
  plan: MigrationPlan,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
  out: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  for (const [i, step] of plan.steps.entries()) {
    log(`\nstep ${i + 1} of ${plan.steps.length}: ${step.title}\n  ${Object.entries(step.env).map(([k, v]) => `${k}=${v} `).join("")}${step.command} ${step.args.join(" ")}`);
    const status = await runStep(step, { ...env, ...step.env }, out);
    if (status !== 0) {
      log(`\nerror: ${step.ifFails}`);
      return false;
    }
  }
  // cdktf may exit 0 without deploying (a dismissed approval): the state must say it did.
  const deployed = plan.steps[plan.steps.length - 1];
  const state = readStackState(plan.spec, env);
  const suffix = managedAttributes(state, "random_string")?.result;
  if (typeof state?.outputs?.url?.value !== "string" || String(suffix ?? "").toLowerCase() !== plan.old.suffix.toLowerCase()) {
    log(`\nerror: ${plan.spec.id} has no notebook with the suffix ${plan.old.suffix} after the deploy (was it approved?). ${deployed.ifFails}`);
    return false;
  }
  return true;
}

/** Runs one step: on the terminal, or with its output relayed and `mask` hidden. Resolves to its exit status. */
function runStep(step: MigrationStep, env: Record<string, string | undefined>, out: NodeJS.WritableStream): Promise<number> {
  return new Promise((resolve) => {
    const masked = step.mask !== undefined && step.mask !== "";
    const child = spawn(step.command, step.args, { cwd: step.cwd, env, stdio: ["inherit", masked ? "pipe" : "inherit", masked ? "pipe" : "inherit"] });
    if (masked) {
      for (const stream of [child.stdout!, child.stderr!]) relayMasked(stream, out, step.mask!);
    }
    child.on("error", () => resolve(-1));
    child.on("close", (code) => resolve(code ?? -1));
  });
}

/**
 * Copies `from` to `to` with every occurrence of `secret` replaced by `***`, even one split
 * across chunks: only a chunk's tail that could begin the secret waits for the next chunk,
 * so a prompt (text without a newline) shows whole.
 */
export function relayMasked(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, secret: string): void {
  let carry = "";
  from.setEncoding("utf8");
  from.on("data", (chunk: string) => {
    const text = (carry + chunk).split(secret).join("***");
    carry = "";
    for (let n = Math.min(secret.length - 1, text.length); n > 0; n--) {
      if (secret.startsWith(text.slice(text.length - n))) {
        carry = text.slice(text.length - n);
        break;
      }
    }
    to.write(text.slice(0, text.length - carry.length));
  });
  from.on("end", () => to.write(carry));
}

/** The URL with the hostname spelt as the old one was (a suffix with upper-case letters): the bookmark, character for character. */
export function oldSpelling(url: string, oldHostname: string): string {
  const at = url.toLowerCase().indexOf(`//${oldHostname.toLowerCase()}`);
  return at < 0 ? url : url.slice(0, at + 2) + oldHostname + url.slice(at + 2 + oldHostname.length);
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}

async function main(): Promise<number> {
  const projectDir = path.resolve(__dirname, "..", "..");
  const log = (line: string) => console.error(line);
  const args = parseMigrateArgs(process.argv.slice(2));
  const plan = await planMigration(args, projectDir, process.env);
  log(`moving ${plan.old.hostname} (suffix ${plan.old.suffix}) from ${path.relative(process.cwd(), path.resolve(args.from))} to ${plan.spec.id} of ${plan.spec.user}:`);
  for (const warning of plan.warnings) log(`warning: ${warning}`);
  plan.steps.forEach((step, i) => log(`  ${i + 1}. ${step.title}`));
  log(`  ${plan.steps.length + 1}. print the notebook's URL`);
  if (!args.yes && !(await confirm("Run these steps? terraform and cdktf each ask again before they change anything. [y/N] "))) {
    log("nothing was changed");
    return 1;
  }
  if (!(await runMigration(plan, process.env, log))) return 1;
  log(`\nmoved: ${plan.spec.id} now serves ${plan.old.hostname}. Its URL, the old one (npm run url -- ${plan.spec.id} prints it in lower case: host names ignore letter case):`);
  console.log(oldSpelling(notebookUrl(plan.spec.id, projectDir, process.env), plan.old.hostname));
  log(`The old configuration's state files (${args.from} and its .backup) still hold the old token in plain text: delete them.`);
  return 0;
}

if (require.main === module) {
  main()
    .then((code) => process.exit(code))
    .catch((err) => {
      if (!(err instanceof SettingsError)) throw err;
      console.error(`error: ${err.message}`);
      process.exit(1);
    });
}
