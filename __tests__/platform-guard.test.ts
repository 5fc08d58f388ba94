import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readSettings } from "../stacks/settings";
import { checkPlatformDestroy, checkPlatformShrink } from "../stacks/platform-guard";
import { platformStackSpecs } from "../stacks/stack-specs";
import { runAppAsCdktf } from "./helpers/cdktf-cli";
import { describeWithTerraform } from "./helpers/terraform";

// `cdktf destroy platform-<env>` while notebooks still run on the platform: the app reads
// the environment's notebook states (with the real AWS SDK, from a stand-in for S3 in its
// own process) and refuses, naming the stacks to destroy first.

/**
 * A stand-in for one S3 bucket (ListObjectsV2 and GetObject, path style; `deny` refuses
 * everything) and for STS's GetCallerIdentity, which terraform's S3 backend calls first.
 */
const S3_SERVER = `
const http = require("http");
const [objectsJson, deny] = process.argv.slice(1);
const objects = JSON.parse(objectsJson);
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => answer(req, res, body));
}).listen(0, "127.0.0.1", function () { process.stdout.write(String(this.address().port) + "\\n"); });
function answer(req, res, body) {
  const url = new URL(req.url, "http://x");
  const [, bucket, ...rest] = url.pathname.split("/");
  const send = (status, body, type = "application/xml") => { res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) }); res.end(body); };
  if (body.includes("Action=GetCallerIdentity")) {
    return send(200, '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/ann</Arn><UserId>AIDAEXAMPLE</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
  }
  if (deny === "deny") return send(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
  if (rest.length === 0 || (rest.length === 1 && rest[0] === "")) {
    const prefix = url.searchParams.get("prefix") || "";
    const keys = Object.keys(objects).filter((k) => k.startsWith(prefix)).sort();
    const contents = keys.map((k) => "<Contents><Key>" + esc(k) + "</Key><Size>" + objects[k].length + "</Size></Contents>").join("");
    return send(200, '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>' + bucket + "</Name><Prefix>" + esc(prefix) + "</Prefix><KeyCount>" + keys.length + "</KeyCount><IsTruncated>false</IsTruncated>" + contents + "</ListBucketResult>");
  }
  const key = decodeURIComponent(rest.join("/"));
  if (!(key in objects)) return send(404, "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>");
  send(200, objects[key], "application/json");
}
`;

async function startFakeS3(objects: Record<string, string>, deny = false): Promise<{ env: Record<string, string>; stop: () => void }> {
  const child: ChildProcess = spawn(process.execPath, ["-e", S3_SERVER, JSON.stringify(objects), deny ? "deny" : ""], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (d) => resolve(String(d).trim()));
    child.once("exit", (code) => reject(new Error(`fake S3 exited with ${code}`)));
  });
  return {
    env: {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_REGION: "eu-west-1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    },
    stop: () => child.kill(),
  };
}

/** A Terraform state with `count` managed resources (0: a destroyed notebook's state). */
function stateWith(count: number): string {
  const resources = Array.from({ length: count }, (_, i) => ({ mode: "managed", type: "aws_ecs_service", name: `s${i}`, instances: [{ attributes: { id: `s${i}` } }] }));
  return JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 3, lineage: "x", outputs: {}, resources: [{ mode: "data", type: "aws_region", name: "r", instances: [{}] }, ...resources] });
}

const ENVIRONMENTS = { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", platform: true } };

/** The platform stack's own state, with `count` load balancers in its output. */
function platformStateWith(count: number): string {
  const loadBalancers = Array.from({ length: count }, (_, i) => ({ name: `nb-dev-${i}` }));
  return JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 9, lineage: "p", outputs: { load_balancers: { value: loadBalancers, type: ["list", ["object", { name: "string" }]] } }, resources: [] });
}

/**
 * A scratch project directory and a stand-in for S3 per test (hooks registered here), and
 * the app run by `cdktf <args>` as an administrator against them.
 */
function projectWithS3() {
  const ctx = { dir: "", s3: undefined as Awaited<ReturnType<typeof startFakeS3>> | undefined };
  beforeEach(() => (ctx.dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-guard-"))));
  afterEach(() => {
    ctx.s3?.stop();
    ctx.s3 = undefined;
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return ctx.dir;
    },
    start: async (objects: Record<string, string>, deny = false) => (ctx.s3 = await startFakeS3(objects, deny)),
    stop: () => ctx.s3?.stop(),
    cdktf: (args: string[], environments: unknown = ENVIRONMENTS) =>
      runAppAsCdktf(ctx.dir, args, { ...process.env, ...ctx.s3!.env, NOTEBOOK_USER: "admin-ann", NOTEBOOK_ENVIRONMENTS: JSON.stringify(environments), CHECKPOINT_DISABLE: "1" }),
  };
}

describe("destroying a platform that notebooks still use", () => {
  const project = projectWithS3();
  const cdktf = (args: string[]) => project.cdktf(args);

  test("fails while notebooks hold resources, naming their stacks, and synthesizes nothing", async () => {
    // GIVEN alice's and carol's notebooks running, bob's destroyed (an empty state), the platform's own state and another environment's
    await project.start({
      "jupyter-notebooks/dev/alice/terraform.tfstate": stateWith(12),
      "jupyter-notebooks/dev/bob/terraform.tfstate": stateWith(0),
      "jupyter-notebooks/dev/carol/terraform.tfstate": stateWith(3),
      "jupyter-notebooks/dev/carol/terraform.tfstate.tflock": "{}",
      "jupyter-notebooks/_platform/dev/terraform.tfstate": stateWith(40),
      "jupyter-notebooks/qa/dave/terraform.tfstate": stateWith(12),
    });
    // WHEN the administrator destroys platform-dev
    const run = cdktf(["destroy", "platform-dev", "--auto-approve"]);
    // THEN it stops before Terraform runs, listing the two
    expect(run.status).toBe(1);
    expect(run.stderr.replace(/\s+/g, " ")).toContain(
      "error: platform-dev still carries 2 notebooks: notebook-dev-alice, notebook-dev-carol. Destroying it would take their cluster, load balancer and network from under them. Destroy them first",
    );
    expect(fs.existsSync(path.join(project.dir, "out", "stacks", "platform-dev", "cdk.tf.json"))).toBe(false);
  }, 60_000);

  test("goes ahead when every notebook state is empty; a deploy does not look at the notebooks' states", async () => {
    await project.start({ "jupyter-notebooks/dev/bob/terraform.tfstate": stateWith(0) });
    const run = cdktf(["destroy", "platform-dev", "--auto-approve"]);
    // (The AWS SDK may warn on stderr that its releases after January 2027 need Node 22.)
    expect(run.stderr).not.toContain("error");
    expect(run.status).toBe(0);
    expect(fs.existsSync(path.join(project.dir, "out", "stacks", "platform-dev", "cdk.tf.json"))).toBe(true);
    project.stop();
    await project.start({ "jupyter-notebooks/dev/alice/terraform.tfstate": stateWith(12) });
    const deploy = cdktf(["deploy", "platform-dev", "--auto-approve"]);
    // (Only the platform's own state is read for a deploy, by terraform: no notebook state, no SDK warning.)
    expect(deploy.stderr).toBe("");
    expect(deploy.status).toBe(0);
  }, 60_000);

  test("fails when the states cannot be read, rather than destroy blind", async () => {
    await project.start({}, true);
    const run = cdktf(["destroy", "platform-dev", "--auto-approve"]);
    expect(run.status).toBe(1);
    expect(run.stderr.replace(/\s+/g, " ")).toMatch(/error: cannot destroy platform-dev: its notebooks' states could not be read to check that none is left \(.*Access Denied.*\)/);
  }, 60_000);

  test("the local platform checks the notebook stack's state files in the project", async () => {
    // GIVEN a project with alice's running notebook and bob's destroyed one
    fs.writeFileSync(path.join(project.dir, "notebook-alice.tfstate"), stateWith(12));
    fs.writeFileSync(path.join(project.dir, "notebook-bob.tfstate"), stateWith(0));
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice" }, environmentsContext: {}, localPlatformContext: true, projectDir: project.dir });
    const [local] = platformStackSpecs(settings);
    // WHEN / THEN
    await expect(checkPlatformDestroy(local, settings, {})).rejects.toThrow(/^platform still carries 1 notebook: notebook of alice\./);
    fs.writeFileSync(path.join(project.dir, "notebook-alice.tfstate"), stateWith(0));
    await expect(checkPlatformDestroy(local, settings, {})).resolves.toBeUndefined();
  });

  test("the local platform's own state file counts too; no state yet is no objection", () => {
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice" }, environmentsContext: {}, localPlatformContext: true, projectDir: project.dir });
    const [local] = platformStackSpecs(settings);
    expect(() => checkPlatformShrink(local, {})).not.toThrow();
    fs.writeFileSync(path.join(project.dir, "platform.tfstate"), platformStateWith(2));
    expect(() => checkPlatformShrink(local, {})).toThrow(/^platform has 2 load balancers, but localPlatform asks for 1/);
    fs.writeFileSync(path.join(project.dir, "platform.tfstate"), platformStateWith(1));
    expect(() => checkPlatformShrink(local, {})).not.toThrow();
  });
});

// Reading the platform's own state in S3 takes terraform's S3 backend (terraform state pull).
describeWithTerraform("deploying a platform with fewer load balancers than it has", () => {
  const project = projectWithS3();

  test("fails to deploy fewer load balancers than the platform has, and reads its state in S3 to know", async () => {
    // GIVEN a platform deployed with 3 load balancers
    await project.start({ "jupyter-notebooks/_platform/dev/terraform.tfstate": platformStateWith(3) });
    // WHEN the administrator deploys it with loadBalancers 2
    const shrink = project.cdktf(["deploy", "platform-dev", "--auto-approve"], { dev: { ...ENVIRONMENTS.dev, loadBalancers: 2 } });
    // THEN it stops, saying what it would delete
    expect(shrink.status).toBe(1);
    expect(shrink.stderr.replace(/\s+/g, " ")).toContain(
      "error: platform-dev has 3 load balancers, but environments.dev.loadBalancers asks for 2: fewer would delete the last ones with their listeners",
    );
    // WHEN with 4 THEN it goes ahead
    const grow = project.cdktf(["deploy", "platform-dev", "--auto-approve"], { dev: { ...ENVIRONMENTS.dev, loadBalancers: 4 } });
    expect(grow.stderr).toBe("");
    expect(grow.status).toBe(0);
  }, 60_000);
});
