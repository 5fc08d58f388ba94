import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { PassThrough, Writable } from "stream";
import { MigrateArgs, oldSpelling, parseMigrateArgs, planMigration, relayMasked, runMigration } from "../scripts/migrate";
import { NotebookStack } from "../stacks/notebook-stack";
import { readSettings, SettingsError } from "../stacks/settings";
import { notebookStackSpecs } from "../stacks/stack-specs";
import { oldState } from "./helpers/old-state";
import { tfvars } from "./helpers/terraform";
import { OLD_VARS } from "./helpers/vars";

/**
 * `npm run migrate`: an old notebook (its state made by helpers/old-state.ts) moved to the
 * `notebook` stack, with stand-ins for `terraform` and `npx cdktf` on PATH that record their
 * calls; the cdktf stand-in writes the state a deploy would, with the url output.
 */

const ROOT = path.resolve(__dirname, "..");
const SUFFIX = "Xk3Pq9Za";
const TOKEN = "a-long-enough-token-1234";
const VARS = { ...OLD_VARS, token: TOKEN, domain: "notebooks.example.com", hosted_zone_id: "Z0123456789ABCDEFGHIJ" };

const DEPLOY_WRITES_STATE =
  `if (process.argv[3] === "deploy") fs.writeFileSync("notebook-alice.tfstate", JSON.stringify({ version: 4, ` +
  `outputs: { url: { value: "https://jupyter-${SUFFIX.toLowerCase()}.notebooks.example.com/?token=${TOKEN}", sensitive: true } }, ` +
  `resources: [{ mode: "managed", type: "random_string", name: "notebook_suffix_ED00CD98", instances: [{ attributes: { result: "${SUFFIX}" } }] }] }));\n`;

/** Collects what is written to it. */
function collector(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({ write: (chunk, _enc, done) => (chunks.push(String(chunk)), done()) }) as Writable & { text: () => string };
  w.text = () => chunks.join("");
  return w;
}

/** A stand-in that appends its name, arguments and NOTEBOOK_KEEP_SUFFIX to $MIGRATE_LOG; `body` runs after. */
function standIn(bin: string, name: string, body = ""): void {
  const file = path.join(bin, name);
  fs.writeFileSync(
    file,
    `#!/usr/bin/env node\nconst fs = require("fs");\n` +
      `fs.appendFileSync(process.env.MIGRATE_LOG, JSON.stringify({ name: ${JSON.stringify(name)}, args: process.argv.slice(2), keep: process.env.NOTEBOOK_KEEP_SUFFIX || null }) + "\\n");\n` +
      body,
  );
  fs.chmodSync(file, 0o755);
}

describe("npm run migrate", () => {
  let dir: string;
  let bin: string;
  let env: Record<string, string | undefined>;
  const calls = () => fs.readFileSync(env.MIGRATE_LOG!, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  const args = (extra: Partial<MigrateArgs> = {}): MigrateArgs => ({ from: path.join(dir, "old", "terraform.tfstate"), varFile: path.join(dir, "vars.tfvars"), stack: "notebook", yes: true, ...extra });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-migrate-"));
    bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(dir, "old"));
    fs.writeFileSync(path.join(dir, "old", "terraform.tfstate"), oldState(SUFFIX, TOKEN));
    // The old configuration next to its state, initialized.
    fs.writeFileSync(path.join(dir, "old", "main.tf"), 'resource "random_string" "suffix" {\n  length = 8\n}\n');
    fs.mkdirSync(path.join(dir, "old", ".terraform"));
    fs.writeFileSync(path.join(dir, "vars.tfvars"), tfvars(VARS));
    fs.writeFileSync(path.join(dir, "cdktf.json"), JSON.stringify({ app: "true", context: { environments: {} } }));
    fs.writeFileSync(path.join(dir, "log"), "");
    // The old configuration's destroy shows its (not sensitive) url output going away.
    standIn(bin, "terraform", `process.stdout.write("Changes to Outputs:\\n  - url = \\"https://jupyter-${SUFFIX}.notebooks.example.com?token=${TOKEN}\\" -> null\\n");\n`);
    // A deploy writes the notebook stack's state, as cdktf's would (the imported suffix, the url output); a diff writes nothing.
    standIn(bin, "npx", DEPLOY_WRITES_STATE);
    env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, NOTEBOOK_USER: "alice", MIGRATE_LOG: path.join(dir, "log") };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("destroys the old notebook, then deploys the stack with the old suffix kept, and prints the old URL", async () => {
    // GIVEN an old notebook with an upper-case suffix and the vars file it was deployed with
    const plan = await planMigration(args(), dir, env);
    // THEN the plan shows the two steps, in this order
    expect(plan.steps.map((s) => s.title)).toEqual([
      "check the new stack: notebook is planned with the old suffix, before anything changes (cdktf diff)",
      `destroy the old notebook (jupyter-${SUFFIX}.notebooks.example.com) with the old configuration; its URL stops answering until step 3 is done`,
      `deploy notebook with the old suffix ${SUFFIX} (imported), so the hostname stays jupyter-${SUFFIX}.notebooks.example.com`,
    ]);
    // The user is told that files inside the old notebook do not move.
    expect(plan.warnings).toEqual([expect.stringMatching(/^files inside the old notebook are not moved/)]);
    // WHEN it runs
    const lines: string[] = [];
    const out = collector();
    expect(await runMigration(plan, env, (l) => lines.push(l), out)).toBe(true);
    // THEN the new stack was planned, the old one destroyed in its directory with the vars file, and the new one deployed with the suffix
    const varFile = `--var-file=${path.join(dir, "vars.tfvars")}`;
    expect(calls()).toEqual([
      { name: "npx", args: ["cdktf", "diff", "notebook", varFile], keep: `notebook=${SUFFIX}` },
      { name: "terraform", args: [`-chdir=${path.join(dir, "old")}`, "destroy", varFile.replace("--", "-")], keep: null },
      { name: "npx", args: ["cdktf", "deploy", "notebook", varFile], keep: `notebook=${SUFFIX}` },
    ]);
    // and the token the old destroy printed was masked; nothing migrate said holds it
    expect(out.text()).toContain("- url = \"https://jupyter-Xk3Pq9Za.notebooks.example.com?token=***\" -> null");
    expect(out.text() + lines.join("\n")).not.toContain(TOKEN);
    // The URL, spelt as the bookmark was
    const { notebookUrl } = await import("../scripts/url");
    expect(oldSpelling(notebookUrl("notebook", dir, env), plan.old.hostname)).toBe(`https://jupyter-${SUFFIX}.notebooks.example.com/?token=${TOKEN}`);
  });

  test("stops at the failing step, saying where it stopped and the command that continues", async () => {
    const plan = await planMigration(args(), dir, env);
    const continueWith = `continue with: NOTEBOOK_KEEP_SUFFIX=notebook=${SUFFIX} npx cdktf deploy notebook --var-file=${path.join(dir, "vars.tfvars")}`;
    const run = async () => {
      fs.writeFileSync(env.MIGRATE_LOG!, "");
      const lines: string[] = [];
      const ok = await runMigration(plan, env, (l) => lines.push(l), collector());
      return { ok, last: lines[lines.length - 1], names: calls().map((c) => `${c.name} ${c.args[1]}`) };
    };
    // A failing plan changes nothing: the old notebook is not destroyed.
    standIn(bin, "npx", "process.exit(1);\n");
    expect(await run()).toEqual({ ok: false, last: expect.stringMatching(/^\nerror: stopped at step 1: nothing was changed; the old notebook still runs/), names: ["npx diff"] });
    // A failing deploy after the destroy says how to continue.
    standIn(bin, "npx", 'if (process.argv[3] === "deploy") process.exit(1);\n');
    expect(await run()).toEqual({ ok: false, last: expect.stringContaining(`stopped at step 3: the old notebook is destroyed, the new one is not (fully) deployed. Fix what the deploy reported, then ${continueWith}`), names: ["npx diff", `terraform destroy`, "npx deploy"] });
    // A deploy that exits 0 without deploying (a dismissed approval) is caught by the state.
    standIn(bin, "npx", "");
    expect(await run()).toEqual({ ok: false, last: expect.stringContaining(`notebook has no notebook with the suffix ${SUFFIX} after the deploy (was it approved?)`), names: ["npx diff", "terraform destroy", "npx deploy"] });
    // A failed destroy runs nothing after it.
    standIn(bin, "npx", DEPLOY_WRITES_STATE);
    standIn(bin, "terraform", "process.exit(1);\n");
    expect(await run()).toEqual({ ok: false, last: expect.stringContaining("stopped at step 2: the old notebook may be partly destroyed"), names: ["npx diff", "terraform destroy"] });
  });

  test("fails before changing anything when the vars file would change the URL", async () => {
    const refuse = async (vars: Record<string, unknown>) => {
      fs.writeFileSync(path.join(dir, "vars.tfvars"), tfvars(vars));
      await expect(planMigration(args(), dir, env)).rejects.toThrow(SettingsError);
      return planMigration(args(), dir, env).catch((e: Error) => e.message);
    };
    expect(await refuse({ ...VARS, domain: "" })).toContain('domain is "", but the old URL\'s domain is "notebooks.example.com": set domain = "notebooks.example.com"');
    expect(await refuse({ ...VARS, hostname_prefix: "nb" })).toContain('hostname_prefix is "nb", but the old hostname starts with "jupyter"');
    expect(await refuse({ ...VARS, token: "another-token-of-length" })).toContain("token in vars.tfvars is not the old notebook's token");
    expect(await refuse({ ...VARS, ecs_cluster_name: "other-team" })).toContain('ecs_cluster_name is "other-team", but the old notebook ran on "data-science": use the vars file it was deployed with');
    const emptyToken = await refuse({ ...VARS, token: "" });
    expect(emptyToken).toContain("token is empty, so the new notebook would get a new token and the bookmarked URL would stop working");
    // No message ever quotes the token.
    expect(emptyToken).not.toContain(TOKEN);
    expect(calls()).toEqual([]);
  });

  test("an old token the new rule refuses is not kept: it asks for token = \"\", then warns that the URL's token changes", async () => {
    // GIVEN an old notebook whose token is short and has a space
    fs.writeFileSync(path.join(dir, "old", "terraform.tfstate"), oldState(SUFFIX, "my token"));
    fs.writeFileSync(path.join(dir, "vars.tfvars"), tfvars({ ...VARS, token: "my token" }));
    const message = await planMigration(args(), dir, env).catch((e: Error) => e.message);
    expect(message).toContain(`the old notebook's token is not safe to keep (it has 8 characters, fewer than the 16 a new token needs; it has characters other than letters, digits`);
    expect(message).toContain('set token = "" in vars.tfvars to get a new, strong one');
    expect(message).not.toContain("my token");
    // WHEN the vars file asks for a new token THEN the move goes ahead, with a warning
    fs.writeFileSync(path.join(dir, "vars.tfvars"), tfvars({ ...VARS, token: "" }));
    const plan = await planMigration(args(), dir, env);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^files inside the old notebook are not moved/),
      expect.stringMatching(/^the old token is not kept \(.*\): the new notebook gets a new one, and its URL a new token; the hostname stays$/),
    ]);
  });

  test("fails when the new stack already has a notebook, the state is foreign, or the stack is not the user's", async () => {
    await expect(planMigration(args({ stack: "notebook-prod" }), dir, env)).rejects.toThrow(/^--stack notebook-prod is not one of your notebook stacks: expected one of notebook$/);
    // The old configuration not initialized, or not there at all.
    fs.rmSync(path.join(dir, "old", ".terraform"), { recursive: true });
    await expect(planMigration(args(), dir, env)).rejects.toThrow(/^the old configuration in .* is not initialized: run `terraform -chdir=.* init` first/);
    fs.rmSync(path.join(dir, "old", "main.tf"));
    await expect(planMigration(args(), dir, env)).rejects.toThrow(/has no \.tf files: --from must be the state in the old configuration's directory/);
    fs.writeFileSync(path.join(dir, "old", "main.tf"), "");
    fs.mkdirSync(path.join(dir, "old", ".terraform"));
    fs.writeFileSync(path.join(dir, "notebook-alice.tfstate"), JSON.stringify({ version: 4, resources: [{ mode: "managed", type: "aws_ecs_service", instances: [{}] }] }));
    await expect(planMigration(args(), dir, env)).rejects.toThrow(/^notebook already has a notebook \(alice's\): destroy it first/);
    fs.writeFileSync(path.join(dir, "old", "terraform.tfstate"), JSON.stringify({ version: 4, resources: [] }));
    await expect(planMigration(args(), dir, env)).rejects.toThrow(/holds no resources/);
  });

  test("run again after the destroy, it finds the old notebook in Terraform's backup and says how to finish", async () => {
    fs.copyFileSync(path.join(dir, "old", "terraform.tfstate"), path.join(dir, "old", "terraform.tfstate.backup"));
    fs.writeFileSync(path.join(dir, "old", "terraform.tfstate"), JSON.stringify({ version: 4, resources: [] }));
    const message = await planMigration(args(), dir, env).catch((e: Error) => e.message);
    expect(message).toContain(`holds no resources: its notebook was destroyed, or never deployed. Its backup (${args().from}.backup) is the old notebook jupyter-${SUFFIX}.notebooks.example.com`);
    expect(message).toContain(`Finish with: NOTEBOOK_KEEP_SUFFIX=notebook=${SUFFIX} npx cdktf deploy notebook --var-file=${path.join(dir, "vars.tfvars")}`);
  });

  test("masks a secret split across chunks, and shows a prompt that cannot be one whole", async () => {
    const from = new PassThrough();
    const out = collector();
    relayMasked(from, out, "abcdef-secret");
    from.write("token: abc");
    from.write("def-sec");
    from.write("ret!\nEnter a value: ");
    await new Promise((r) => setTimeout(r, 10));
    expect(out.text()).toBe("token: ***!\nEnter a value: ");
    from.end("ab");
    await new Promise((r) => setTimeout(r, 10));
    expect(out.text()).toBe("token: ***!\nEnter a value: ab");
  });

  test("the command line: a 'no' at the prompt changes nothing; bad arguments say how to call it", () => {
    const run = (argv: string[], input = "") =>
      spawnSync(process.execPath, ["-r", "sucrase/register/ts", "scripts/migrate/index.ts", ...argv], { cwd: ROOT, env: { ...env, NOTEBOOK_ENVIRONMENTS: "" }, input, encoding: "utf8" });
    const no = run(["--from", args().from, "--var-file", args().varFile], "n\n");
    expect(no.status).toBe(1);
    expect(no.stderr).toContain(`moving jupyter-${SUFFIX}.notebooks.example.com (suffix ${SUFFIX})`);
    expect(no.stderr).toContain("nothing was changed");
    expect(no.stderr).not.toContain(TOKEN);
    expect(calls()).toEqual([]);
    const bad = run(["--from"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("error: --from needs a value; usage: npm run migrate -- --from <old terraform.tfstate> --var-file <vars.tfvars>");
    expect(() => parseMigrateArgs(["--from", "old.tfstate"])).toThrow(/^--from and --var-file are required/);
    expect(() => parseMigrateArgs(["--force"])).toThrow(/^unknown argument "--force"/);
  });
});

describe("the notebook stack with a kept suffix", () => {
  test("imports the suffix into its random_string at the first deploy, and names everything with it in lower case", () => {
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice", NOTEBOOK_KEEP_SUFFIX: `notebook=${SUFFIX}` }, projectDir: "/p", osUser: () => "x" });
    const spec = notebookStackSpecs(settings).find((s) => s.id === "notebook")!;
    const json = JSON.parse(Testing.synth(new NotebookStack(Testing.app(), spec)));
    const [address] = Object.keys(json.resource.random_string);
    expect(json.import).toEqual([{ to: `random_string.${address}`, id: SUFFIX }]);
    // The random provider imports with upper/special/... true: those must not replace it.
    expect(json.resource.random_string[address].lifecycle.ignore_changes).toEqual(expect.arrayContaining(["upper", "special", "lower", "numeric"]));
    expect(Object.values<any>(json.resource.aws_lb_target_group)[0].name).toBe(`\${var.hostname_prefix}-\${lower(random_string.${address}.result)}`);
    // Without the setting, no import block.
    const plain = JSON.parse(Testing.synth(new NotebookStack(Testing.app(), notebookStackSpecs(readSettings({ env: { NOTEBOOK_USER: "alice" }, projectDir: "/p", osUser: () => "x" }))[0])));
    expect(plain.import).toBeUndefined();
  });

  test("fails when NOTEBOOK_KEEP_SUFFIX is malformed or names a stack that does not exist", () => {
    expect(() => readSettings({ env: { NOTEBOOK_USER: "alice", NOTEBOOK_KEEP_SUFFIX: "notebook=abc" }, projectDir: "/p", osUser: () => "x" })).toThrow(
      'NOTEBOOK_KEEP_SUFFIX "notebook=abc": expected <stack>=<suffix>, e.g. notebook=Xk3Pq9Za (set by npm run migrate)',
    );
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice", NOTEBOOK_KEEP_SUFFIX: "notebook-dev=Xk3Pq9Za" }, projectDir: "/p", osUser: () => "x" });
    expect(() => notebookStackSpecs(settings)).toThrow("NOTEBOOK_KEEP_SUFFIX names stack notebook-dev, which these settings do not have: notebook");
  });
});
