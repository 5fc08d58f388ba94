import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runAppAsCdktf } from "./helpers/cdktf-cli";
import { startFakeAws } from "./helpers/fake-aws";
import { describeWithTerraform } from "./helpers/terraform";

// Another person's notebook, as AWS answers under the notebook user policy: the real
// terraform S3 backend and the real AWS SDK talk to a local stand-in for S3 and STS whose
// caller is bob, and which refuses every state but bob's.

const ROOT = path.resolve(__dirname, "..");
const ENVIRONMENTS = JSON.stringify({ dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } });
const BOB = "arn:aws:iam::111122223333:user/bob";

describeWithTerraform("a state AWS refuses: another user's notebook", () => {
  let aws: Awaited<ReturnType<typeof startFakeAws>>;
  let dir: string;
  beforeAll(async () => (aws = await startFakeAws(BOB, "bob")));
  afterAll(() => aws.stop());
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-access-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const env = (user: string) => ({ ...process.env, ...aws.env, NOTEBOOK_USER: user, NOTEBOOK_ENVIRONMENTS: ENVIRONMENTS, CHECKPOINT_DISABLE: "1" });

  /** The app run by `cdktf <args>` for `user`. */
  const cdktf = (args: string[], user: string) => runAppAsCdktf(dir, args, env(user));

  test("alice's stack deployed with bob's identity stops before Terraform runs, naming both", () => {
    const run = cdktf(["deploy", "notebook-dev", "--auto-approve"], "alice");
    expect(run.status).toBe(1);
    const message = run.stderr.replace(/\s+/g, " ");
    expect(message).toContain(`error: your AWS identity (${BOB}) may not read the state of alice's notebook (notebook-dev, s3://acme-nb-state/jupyter-notebooks/dev/alice/terraform.tfstate).`);
    expect(message).toContain("If that name is not alice, set NOTEBOOK_USER to it");
    // Nothing was synthesized for Terraform to apply.
    expect(fs.existsSync(path.join(dir, "out", "stacks", "notebook-dev", "cdk.tf.json"))).toBe(false);
  }, 60_000);

  test("bob's own stack, with no state yet, synthesizes; so does destroy's check of it", () => {
    for (const command of ["deploy", "destroy"]) {
      const run = cdktf([command, "notebook-dev", "--auto-approve"], "bob");
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
    }
  }, 60_000);

  test("npm run url for alice's notebook tells bob plainly that he may read only his own", () => {
    const run = spawnSync(process.execPath, ["-r", "sucrase/register/ts", "scripts/url.ts", "notebook-dev"], { cwd: ROOT, env: env("alice"), encoding: "utf8" });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.replace(/\s+/g, " ")).toContain(
      "error: you may read only your own notebooks: your AWS identity may not read the state of alice's notebook (notebook-dev, s3://acme-nb-state/jupyter-notebooks/dev/alice/terraform.tfstate).",
    );
  }, 60_000);

  test("npm run status says the same for alice's notebook, and reads bob's own (not deployed yet)", () => {
    const status = (user: string) => spawnSync(process.execPath, ["-r", "sucrase/register/ts", "scripts/status.ts"], { cwd: ROOT, env: env(user), encoding: "utf8" });
    const alice = status("alice");
    expect(alice.stdout.replace(/\s+/g, " ")).toMatch(/notebook-dev\s.*unknown: you may read only your own notebooks: your AWS identity may not read the state of alice's notebook/);
    expect(status("bob").stdout).toMatch(/notebook-dev\s+bob\s+not deployed/);
  }, 60_000);
});
