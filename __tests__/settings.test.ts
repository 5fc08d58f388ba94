import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { notebookStackSpecs, readSettings, readUser, SettingsError, stateBackendStackSpecs } from "../stacks/settings";

const PROJECT = "/projects/nb";
const read = (env: Record<string, string>, environmentsContext?: unknown, osUser = "alice") =>
  readSettings({ env, environmentsContext, projectDir: PROJECT, osUser: () => osUser });

function errorOf(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error("expected a SettingsError");
}

describe("user", () => {
  test("comes from NOTEBOOK_USER, else the operating-system user", () => {
    expect(read({ NOTEBOOK_USER: "bob" }).user).toBe("bob");
    expect(read({}, undefined, "carol").user).toBe("carol");
    expect(read({ NOTEBOOK_USER: "" }, undefined, "carol").user).toBe("carol");
  });

  test("is normalised to a lower-case DNS label", () => {
    expect(readUser("John.Doe", () => "x")).toBe("john-doe");
    expect(readUser(undefined, () => "Mary_Ann")).toBe("mary-ann");
    expect(readUser("a__b", () => "x")).toBe("a-b");
  });

  test.each([
    ["a space", "jane doe"],
    ["a slash (it is part of the state key)", "../bob"],
    ["a leading dash", "-bob"],
    ["a trailing dot", "bob."],
    ["more than 32 characters", "a".repeat(33)],
    ["non-ASCII letters", "jürgen"],
  ])("fails when NOTEBOOK_USER has %s", (_what, value) => {
    const err = errorOf(() => read({ NOTEBOOK_USER: value }));
    expect(err.message).toContain("NOTEBOOK_USER");
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).toContain("expected");
    expect(err.message).not.toContain("\n");
  });

  test.each(["root", "ubuntu", "vscode", "jovyan"])("fails when the operating-system user is %s, shared by many people", (osUser) => {
    const err = errorOf(() => read({}, undefined, osUser));
    expect(err.message).toBe(
      `the operating-system user "${osUser}" is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
    );
    expect(read({ NOTEBOOK_USER: "root" }, undefined, osUser).user).toBe("root"); // an explicit choice is respected
  });

  test("fails when the operating-system user cannot be used, and says how to override it", () => {
    expect(errorOf(() => read({}, undefined, "DOMAIN\\jane")).message).toMatch(/operating-system user.*NOTEBOOK_USER/);
  });
});

describe("environments", () => {
  test("come from cdktf.json context, with a default key prefix", () => {
    const s = read({ NOTEBOOK_USER: "bob" }, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } });
    expect(s.environments).toEqual([
      { name: "dev", stateBucket: "acme-nb-state", stateRegion: "eu-west-1", stateKeyPrefix: "jupyter-notebooks", team: [], maxNotebooks: 90, bootstrapStateInBucket: false },
    ]);
    expect(notebookStackSpecs(s).map((x) => x.id)).toEqual(["notebook", "notebook-dev"]);
    expect(stateBackendStackSpecs(s).map((x) => x.id)).toEqual(["state-backend-dev"]);
  });

  test("NOTEBOOK_ENVIRONMENTS (JSON) replaces the context", () => {
    const s = read({ NOTEBOOK_ENVIRONMENTS: '{"qa": {"stateBucket": "qa-state", "stateRegion": "us-east-2"}}' }, { dev: { stateBucket: "x-state", stateRegion: "eu-west-1" } });
    expect(s.environments.map((e) => e.name)).toEqual(["qa"]);
  });

  test("none configured: only the local notebook stack", () => {
    expect(notebookStackSpecs(read({}, {})).map((x) => x.id)).toEqual(["notebook"]);
    expect(notebookStackSpecs(read({}, undefined)).map((x) => x.id)).toEqual(["notebook"]);
  });

  const good = { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" };
  test.each<[string, unknown, RegExp]>([
    ["environments is a list", [good], /must be an object of environments/],
    ["an environment name is not a DNS label", { Dev_1: good }, /environment "Dev_1" has an invalid name/],
    ["an entry is not an object", { dev: "acme-nb-state" }, /environment "dev" must be an object/],
    ["an entry has an unknown field", { dev: { ...good, bucket: "x" } }, /unknown field "bucket"/],
    ["stateBucket is missing", { dev: { stateRegion: "eu-west-1" } }, /stateBucket undefined: expected an S3 bucket name/],
    ["stateBucket has upper case", { dev: { ...good, stateBucket: "Acme-State" } }, /stateBucket "Acme-State"/],
    ["stateRegion is not a region", { dev: { ...good, stateRegion: "ireland" } }, /stateRegion "ireland": expected an AWS region/],
    ["stateKeyPrefix has a leading slash", { dev: { ...good, stateKeyPrefix: "/nb" } }, /stateKeyPrefix "\/nb"/],
  ])("fails when %s", (_what, context, message) => {
    const err = errorOf(() => read({}, context));
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain("\n");
  });

  test("fails when NOTEBOOK_ENVIRONMENTS is not JSON", () => {
    expect(errorOf(() => read({ NOTEBOOK_ENVIRONMENTS: "{dev:" })).message).toMatch(/^NOTEBOOK_ENVIRONMENTS is not valid JSON/);
  });
});

describe("the app", () => {
  const root = path.resolve(__dirname, "..");
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-app-"));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const runApp = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
      encoding: "utf8",
    });

  test("after synth, forgets a working directory's cached backend that belongs to another user", () => {
    // GIVEN a working directory that terraform initialised for bob's state file
    const cache = path.join(outdir, "stacks", "notebook", ".terraform", "terraform.tfstate");
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    const bobs = { version: 3, backend: { type: "local", config: { path: path.join(root, "notebook-bob.tfstate"), workspace_dir: null }, hash: 1 } };
    fs.writeFileSync(cache, JSON.stringify(bobs));
    // WHEN alice synthesizes, THEN the cache is gone: her terraform init starts afresh
    const alice = runApp({ NOTEBOOK_USER: "alice" });
    expect(alice.stderr).toBe("");
    expect(alice.status).toBe(0);
    expect(fs.existsSync(cache)).toBe(false);
    // AND a cache that matches (alice's own) is kept
    const alices = { ...bobs, backend: { ...bobs.backend, config: { path: path.join(root, "notebook-alice.tfstate"), workspace_dir: null } } };
    fs.writeFileSync(cache, JSON.stringify(alices));
    expect(runApp({ NOTEBOOK_USER: "alice" }).status).toBe(0);
    expect(fs.existsSync(cache)).toBe(true);
  });

  test("fails with one clear line, not a stack trace, on a bad setting", () => {
    const result = runApp({ NOTEBOOK_USER: "jane doe" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: NOTEBOOK_USER "jane doe" is not a valid user name: expected/)]);
  });
});
