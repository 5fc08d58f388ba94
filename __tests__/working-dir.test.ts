import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localStatePath, readSettings } from "../stacks/settings";
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
