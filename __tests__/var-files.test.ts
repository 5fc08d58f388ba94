import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkVarFiles, closest, findCdktfCommand, namesInVarFile, parseCdktfArgs, ProcessInfo, stackSelected } from "../stacks/var-files";
import { SettingsError } from "../stacks/settings";
import { runAppAsCdktf } from "./helpers/cdktf-cli";
import { tfvars } from "./helpers/terraform";
import { OLD_VARS } from "./helpers/vars";

// A misspelt variable in a vars file stops `cdktf deploy` before Terraform runs (Terraform
// itself would only warn): the app finds the command's --var-file on its cdktf ancestor.

const ROOT = path.resolve(__dirname, "..");
let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-varfiles-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the cdktf command line", () => {
  test.each<[string[], unknown]>([
    [["node", "/p/node_modules/.bin/cdktf", "deploy", "notebook", "--var-file=vars.tfvars"], { command: "deploy", stacks: ["notebook"], varFiles: ["vars.tfvars"] }],
    [["node", "/p/node_modules/cdktf-cli/bundle/bin/cdktf", "deploy", "notebook-dev-*", "--var-file", "a.tfvars", "--var-file=b.tfvars", "--auto-approve", "--parallelism", "5"], { command: "deploy", stacks: ["notebook-dev-*"], varFiles: ["a.tfvars", "b.tfvars"] }],
    [["cdktf", "diff", "notebook-dev", "--varFile=dev.tfvars"], { command: "diff", stacks: ["notebook-dev"], varFiles: ["dev.tfvars"] }],
    // Read for the state check; its vars files are never checked (never block a clean-up).
    [["node", "/p/node_modules/.bin/cdktf", "destroy", "notebook", "--var-file=vars.tfvars"], { command: "destroy", stacks: ["notebook"], varFiles: ["vars.tfvars"] }],
  ])("%j is read", (argv, expected) => {
    expect(parseCdktfArgs(argv)).toEqual(expected);
  });

  test.each([
    [["node", "/p/node_modules/.bin/cdktf", "synth"]],
    [["node", "main.ts", "deploy"]],
    [["bash", "-c", "npm test"]],
  ])("%j is not a command that uses the stacks' states", (argv) => {
    expect(parseCdktfArgs(argv)).toBeUndefined();
  });

  test("is found on an ancestor: cdktf starts the app through a shell", () => {
    const table: Record<number, ProcessInfo> = {
      40: { ppid: 30, argv: ["node", "-r", "sucrase/register/ts", "main.ts"] },
      30: { ppid: 20, argv: ["/bin/sh", "-c", "node -r sucrase/register/ts main.ts"] },
      20: { ppid: 10, argv: ["node", "/p/node_modules/.bin/cdktf", "deploy", "notebook", "--var-file=v.tfvars"] },
      10: { ppid: 1, argv: ["bash"] },
    };
    expect(findCdktfCommand(40, (pid) => table[pid])).toEqual({ command: "deploy", stacks: ["notebook"], varFiles: ["v.tfvars"] });
    expect(findCdktfCommand(10, (pid) => table[pid])).toBeUndefined();
  });
});

describe("names in a vars file", () => {
  test("top-level names only, as HashiCorp's HCL parser reads them", async () => {
    const file = path.join(dir, "v.tfvars");
    fs.writeFileSync(
      file,
      [
        "# a comment: not_a_variable = 1",
        'region = "eu-west-1" // trailing comment',
        "tags = {",
        '  Team = "x"',
        "  nested = { inner = 1 }",
        "}",
        "git_repository_url = <<EOT",
        "heredoc_line = 1",
        "EOT",
        "/* block_comment = 2 */",
        'alowed_cidrs = ["10.0.0.0/8"]',
      ].join("\n"),
    );
    expect((await namesInVarFile(file))!.sort()).toEqual(["alowed_cidrs", "git_repository_url", "region", "tags"]);
  });

  test("JSON vars files, and nothing for a file Terraform would refuse anyway", async () => {
    fs.writeFileSync(path.join(dir, "v.tfvars.json"), JSON.stringify({ cpu: 1024, memroy: 4096 }));
    expect(await namesInVarFile(path.join(dir, "v.tfvars.json"))).toEqual(["cpu", "memroy"]);
    fs.writeFileSync(path.join(dir, "broken.tfvars"), "region = ");
    expect(await namesInVarFile(path.join(dir, "broken.tfvars"))).toBeUndefined();
    expect(await namesInVarFile(path.join(dir, "missing.tfvars"))).toBeUndefined();
  });

  test("the closest declared name is suggested", () => {
    expect(closest("alowed_cidrs", ["allowed_cidrs", "cpu"])).toBe("allowed_cidrs");
    expect(closest("memroy", ["memory", "cpu"])).toBe("memory");
    expect(closest("something_else_entirely", ["memory", "cpu"])).toBeUndefined();
  });

  test("stack patterns select stacks as cdktf does", () => {
    expect(stackSelected("notebook-dev-bob", ["notebook-dev-*"])).toBe(true);
    expect(stackSelected("notebook-dev", ["notebook-dev-*"])).toBe(false);
    expect(stackSelected("state-backend-dev", [])).toBe(true);
  });

  test("fails naming the file, the name and the closest variable", async () => {
    const file = path.join(dir, "dev.tfvars");
    fs.writeFileSync(file, 'alowed_cidrs = ["10.0.0.0/8"]\nregoin = "eu-west-1"\n');
    const declared = new Map([["notebook-dev", ["allowed_cidrs", "region"]]]);
    const error = await checkVarFiles([file], declared, ["notebook-dev"]).catch((e) => e);
    expect(error).toBeInstanceOf(SettingsError);
    expect(error.message.split("\n")).toEqual([
      "dev.tfvars: alowed_cidrs is not a variable of notebook-dev: did you mean allowed_cidrs? (Terraform would ignore it with a warning)",
      "error: dev.tfvars: regoin is not a variable of notebook-dev: did you mean region? (Terraform would ignore it with a warning)",
    ]);
  });

  test("a name another stack of the app declares is no typo: one vars file serves an environment's notebook and state-backend stacks", async () => {
    const file = path.join(dir, "dev.tfvars");
    fs.writeFileSync(file, 'region = "eu-west-1"\nprofile_name = "admin"\nnoncurrent_version_days = 30\n');
    const declared = new Map([
      ["notebook-dev", ["region", "profile_name"]],
      ["state-backend-dev", ["noncurrent_version_days", "profile_name"]],
    ]);
    await expect(checkVarFiles([file], declared, ["state-backend-dev"])).resolves.toBeUndefined();
    await expect(checkVarFiles([file], declared, ["notebook-dev"])).resolves.toBeUndefined();
  });
});

describe("the app run by a cdktf command", () => {
  /** The app run by `cdktf <args>`, for alice. */
  function runAs(cliArgs: string[], env: Record<string, string> = {}) {
    return runAppAsCdktf(dir, cliArgs, { ...process.env, NOTEBOOK_USER: "alice", ...env });
  }

  test("a vars file with only declared variables synthesizes", () => {
    const file = path.join(dir, "good.tfvars");
    fs.writeFileSync(file, tfvars(OLD_VARS));
    const run = runAs(["deploy", "notebook", `--var-file=${file}`]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  test("the environment's notebook vars file also deploys its state-backend stack (names of other stacks are no typo)", () => {
    const file = path.join(dir, "dev.tfvars");
    fs.writeFileSync(file, tfvars({ ...OLD_VARS, environment: "dev" }));
    const run = runAs(["deploy", "state-backend-dev", `--var-file=${file}`], { NOTEBOOK_ENVIRONMENTS: JSON.stringify({ dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } }) });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  test("a misspelt variable stops the deploy with one line naming it; destroy is not stopped", () => {
    const file = path.join(dir, "bad.tfvars");
    fs.writeFileSync(file, tfvars({ ...OLD_VARS, alowed_cidrs: ["10.0.0.0/8"] }));
    const run = runAs(["deploy", "notebook", `--var-file=${file}`]);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe("error: bad.tfvars: alowed_cidrs is not a variable of notebook: did you mean allowed_cidrs? (Terraform would ignore it with a warning)");
    expect(runAs(["destroy", "notebook", `--var-file=${file}`]).status).toBe(0);
  });

  test("the real cdktf CLI stops `cdktf deploy` at synth, before Terraform runs", () => {
    const file = path.join(dir, "bad.tfvars");
    fs.writeFileSync(file, tfvars({ ...OLD_VARS, alowed_cidrs: ["10.0.0.0/8"] }));
    const out = path.join(dir, "cdktf.out");
    const run = spawnSync(path.join(ROOT, "node_modules", ".bin", "cdktf"), ["deploy", "notebook", `--var-file=${file}`, "--output", out], {
      cwd: ROOT,
      env: { ...process.env, NOTEBOOK_USER: "alice", CHECKPOINT_DISABLE: "1", CI: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    const output = run.stdout + run.stderr;
    expect(output).toContain("error: bad.tfvars: alowed_cidrs is not a variable of notebook: did you mean allowed_cidrs?");
    expect(run.status).not.toBe(0);
    // Terraform never ran: no working directory was initialised.
    expect(fs.existsSync(path.join(out, "stacks", "notebook", ".terraform"))).toBe(false);
  }, 60_000);
});
