import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readSettings } from "../stacks/settings";
import { localStatePath } from "../stacks/stack-specs";
import { forgetStaleBackends } from "../stacks/working-dir";
import { synthStack } from "./helpers/synth";
import { describeWithTerraform, removeDir, runTerraform } from "./helpers/terraform";

/**
 * Switching user in one checkout, with the real terraform: the `notebook` stack's
 * working directory is reused, its backend (the user's state file) changes. Without the
 * guard terraform stops with "Backend configuration changed"; with it, each user's
 * state stays where it was and nothing is migrated.
 */
describeWithTerraform("switching user in one checkout", () => {
  let project: string;
  let outdir: string;
  let stackDir: string;

  /** What `cdktf synth` leaves in the stack's directory for `user`: the real backend block, and an output naming the user. */
  function synthFor(user: string): void {
    const settings = readSettings({ env: { NOTEBOOK_USER: user }, projectDir: project });
    const { json } = synthStack("notebook", settings);
    fs.mkdirSync(stackDir, { recursive: true });
    const config = { terraform: { backend: json.terraform.backend }, output: { owner: { value: user } } };
    fs.writeFileSync(path.join(stackDir, "cdk.tf.json"), JSON.stringify(config, null, 2));
  }

  const stateOwner = (user: string) => JSON.parse(fs.readFileSync(localStatePath(project, user), "utf8")).outputs.owner.value;

  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-switch-"));
    outdir = path.join(project, "cdktf.out");
    stackDir = path.join(outdir, "stacks", "notebook");
  });
  afterAll(() => removeDir(project));

  test("each user's state stays in its own file; terraform never asks to migrate", async () => {
    // GIVEN alice deployed from this checkout
    synthFor("alice");
    expect(forgetStaleBackends(outdir, ["notebook"])).toEqual([]);
    expect((await runTerraform(stackDir, ["init", "-input=false", "-no-color"])).code).toBe(0);
    expect((await runTerraform(stackDir, ["apply", "-input=false", "-no-color", "-auto-approve"])).code).toBe(0);
    expect(stateOwner("alice")).toBe("alice");

    // WHEN bob synthesizes in the same checkout, terraform alone would refuse
    synthFor("bob");
    const unguarded = await runTerraform(stackDir, ["init", "-input=false", "-no-color"]);
    expect(unguarded.code).not.toBe(0);
    expect(unguarded.output).toContain("Backend configuration changed");

    // THEN with the guard (run by the app after synth) bob's init and deploy just work
    expect(forgetStaleBackends(outdir, ["notebook"])).toEqual([stackDir]);
    const init = await runTerraform(stackDir, ["init", "-input=false", "-no-color"]);
    expect(init.output).not.toMatch(/migrate|copy existing state/i);
    expect(init.code).toBe(0);
    expect((await runTerraform(stackDir, ["apply", "-input=false", "-no-color", "-auto-approve"])).code).toBe(0);
    expect(stateOwner("bob")).toBe("bob");
    expect(stateOwner("alice")).toBe("alice");

    // AND back to alice: her own state is read, not bob's
    synthFor("alice");
    expect(forgetStaleBackends(outdir, ["notebook"])).toEqual([stackDir]);
    expect((await runTerraform(stackDir, ["init", "-input=false", "-no-color"])).code).toBe(0);
    const owner = await runTerraform(stackDir, ["output", "-raw", "-no-color", "owner"]);
    expect(owner.code).toBe(0);
    expect(owner.output).toMatch(/^alice/); // -raw: the value, then any warnings on stderr

    // AND an unchanged backend keeps its cache (no re-initialisation on every synth)
    expect(forgetStaleBackends(outdir, ["notebook"])).toEqual([]);
  }, 60_000);

  test("stacks never initialised, or without a backend cache, are left alone", () => {
    expect(forgetStaleBackends(outdir, ["notebook-dev"])).toEqual([]);
  });
});

describe("the cached backend of an S3 stack", () => {
  // As terraform caches it: every attribute of the backend, most of them null.
  const cached = (key: string) => ({
    version: 3,
    backend: {
      type: "s3",
      config: { bucket: "acme-nb-state", key, region: "eu-west-1", encrypt: true, use_lockfile: true, profile: null, role_arn: null, dynamodb_table: null, kms_key_id: null, workspace_key_prefix: null },
      hash: 123,
    },
  });
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-s3-"));
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice" }, environmentsContext: { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } }, projectDir: dir });
    fs.mkdirSync(path.join(dir, "stacks", "notebook-dev", ".terraform"), { recursive: true });
    fs.writeFileSync(path.join(dir, "stacks", "notebook-dev", "cdk.tf.json"), JSON.stringify(synthStack("notebook-dev", settings).json));
  });
  afterEach(() => removeDir(dir));
  const cacheFile = () => path.join(dir, "stacks", "notebook-dev", ".terraform", "terraform.tfstate");

  test("is kept when it is the same user's key, whatever else terraform recorded", () => {
    fs.writeFileSync(cacheFile(), JSON.stringify(cached("jupyter-notebooks/dev/alice/terraform.tfstate")));
    expect(forgetStaleBackends(dir, ["notebook-dev"])).toEqual([]);
    expect(fs.existsSync(cacheFile())).toBe(true);
  });

  test("is forgotten when it is another user's key", () => {
    fs.writeFileSync(cacheFile(), JSON.stringify(cached("jupyter-notebooks/dev/bob/terraform.tfstate")));
    expect(forgetStaleBackends(dir, ["notebook-dev"])).toEqual([path.join(dir, "stacks", "notebook-dev")]);
    expect(fs.existsSync(cacheFile())).toBe(false);
  });
});
