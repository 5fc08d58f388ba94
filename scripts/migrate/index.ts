import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { readSettings, requireUser, SettingsError } from "../../stacks/settings";
import { NotebookStackSpec, notebookStackSpecs } from "../../stacks/stack-specs";
import { holdsResources } from "../../stacks/platform-guard";
import { valuesOfVarFile } from "../../stacks/var-files";
import { cdktfConfig, readStackState } from "../state";
import { notebookUrl } from "../url";
import { ForeignStateError, OldNotebook, readOldState } from "./old-state";

/**
 * `npm run migrate -- --from <old terraform.tfstate> --var-file <vars.tfvars> [--stack <id>] [--yes]`:
 * moves a notebook of the team's old plain-Terraform configuration to this project's
 * stack, keeping its hostname (the suffix is imported) and its token (the vars file's):
 *
 *   1. `terraform destroy` in the old configuration's directory removes the old notebook,
 *      so that nothing fights over its DNS record or pays twice;
 *   2. `cdktf deploy <stack>` creates the new one with the kept suffix (NOTEBOOK_KEEP_SUFFIX);
 *   3. the URL is printed: the old one.
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
    if (err instanceof ForeignStateError) throw new SettingsError(err.message);
    throw err;
  }

  const settings = readSettings({ env, environmentsContext: cdktfConfig(projectDir).context?.environments, projectDir });
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
  if (String(vars.hosted_zone_id ?? "") !== old.hostedZoneId) {
    problems.push(`hosted_zone_id is ${JSON.stringify(String(vars.hosted_zone_id ?? ""))}, but the old record is in zone ${old.hostedZoneId}: set that zone`);
  }
  const warnings: string[] = [];
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
        title: `destroy the old notebook (${old.hostname}) with the old configuration; its URL stops answering until step 2 is done`,
        command: "terraform",
        args: [`-chdir=${oldDir}`, "destroy", `-var-file=${varFile}`],
        cwd: projectDir,
        env: {},
        ifFails: `stopped at step 1: the old notebook may be partly destroyed, the new one is not deployed. Run \`terraform -chdir=${oldDir} destroy -var-file=${varFile}\` until it succeeds, then: ${continueDeploy}`,
      },
      {
        title: `deploy ${spec.id} with the old suffix ${old.suffix} (imported), so the hostname stays ${old.hostname}`,
        command: "npx",
        args: ["cdktf", "deploy", spec.id, `--var-file=${varFile}`],
        cwd: projectDir,
        env: { NOTEBOOK_KEEP_SUFFIX: keep },
        ifFails: `stopped at step 2: the old notebook is destroyed, the new one is not (fully) deployed. Fix what the deploy reported, then continue with: ${continueDeploy}`,
      },
    ],
  };
}

/** Runs the steps in order, each in the foreground (it asks for its own confirmation); stops at the first that fails. */
export function runMigration(plan: MigrationPlan, env: Record<string, string | undefined>, log: (line: string) => void): boolean {
  for (const [i, step] of plan.steps.entries()) {
    log(`\nstep ${i + 1} of ${plan.steps.length}: ${step.title}\n  ${Object.entries(step.env).map(([k, v]) => `${k}=${v} `).join("")}${step.command} ${step.args.join(" ")}`);
    const run = spawnSync(step.command, step.args, { cwd: step.cwd, env: { ...env, ...step.env }, stdio: "inherit" });
    if (run.error || run.status !== 0) {
      log(`\nerror: ${step.ifFails}`);
      return false;
    }
  }
  return true;
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
  if (!runMigration(plan, process.env, log)) return 1;
  log(`\nmoved: ${plan.spec.id} now serves ${plan.old.hostname}. Its URL, the old one (npm run url -- ${plan.spec.id} prints it in lower case: host names ignore letter case):`);
  console.log(oldSpelling(notebookUrl(plan.spec.id, projectDir, process.env), plan.old.hostname));
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
