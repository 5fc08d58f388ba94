import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Testing } from "cdktf";
import { StateBackendStack } from "../stacks/state-backend-stack";
import { readSettings, SettingsError } from "../stacks/settings";
import { notebookStackSpecs, platformStackSpecs, stateBackendStackSpecs, wakerStackSpecs } from "../stacks/stack-specs";
import { synthStack } from "./helpers/synth";
import { describeWithTerraform, initVariablesDir, oneLine, planVars, removeDir, runTerraform, tfvars } from "./helpers/terraform";
import { OLD_VARS } from "./helpers/vars";

// Remote state bootstrap, the environment guard, and team roll-out.

let project: string;
beforeEach(() => (project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-env-"))));
afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

const DEV = { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" };
const settingsWith = (environments: unknown, user = "alice") =>
  readSettings({ env: { NOTEBOOK_USER: user }, environmentsContext: environments, projectDir: project });
const writeTeam = (content: unknown, file = "team.json") =>
  fs.writeFileSync(path.join(project, file), typeof content === "string" ? content : JSON.stringify(content));

/** The configuration without cdktf's "//" metadata (stack name, construct paths). */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "//")
      .map(([key, v]) => [key, withoutMetadata(v)]),
  );
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err.message;
    throw err;
  }
  throw new Error("expected a SettingsError");
}

describe("state-backend-<env>", () => {
  function synthBackend(environments: unknown) {
    const spec = stateBackendStackSpecs(settingsWith(environments))[0];
    const app: App = Testing.app();
    return JSON.parse(Testing.synth(new StateBackendStack(app, spec)));
  }
  const only = (json: any, type: string) => {
    const all = Object.values<any>(json.resource[type] ?? {});
    expect(all).toHaveLength(1);
    return all[0];
  };

  test("creates the environment's bucket, protected against destroy, with its own local state", () => {
    const json = synthBackend({ dev: DEV });
    expect(only(json, "aws_s3_bucket")).toMatchObject({ bucket: "acme-nb-state", lifecycle: { prevent_destroy: true } });
    expect(json.terraform.backend).toEqual({ local: { path: path.join(project, "state-backend-dev.tfstate") } });
    expect(json.provider.aws[0].region).toBe("eu-west-1");
  });

  test("versioning, default encryption, all public access blocked, owner-enforced objects", () => {
    const json = synthBackend({ dev: DEV });
    expect(only(json, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(only(json, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" }, bucket_key_enabled: true },
    ]);
    expect(only(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(json, "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  test("noncurrent state versions expire after a configurable number of days (90 by default)", () => {
    const json = synthBackend({ dev: DEV });
    expect(only(json, "aws_s3_bucket_lifecycle_configuration").rule[0]).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: "${var.noncurrent_version_days}" }],
    });
    expect(json.variable.noncurrent_version_days).toMatchObject({ type: "number", default: 90 });
  });

  test("once moved (bootstrapStateInBucket), its own state lives in the bucket", () => {
    const json = synthBackend({ dev: { ...DEV, bootstrapStateInBucket: true } });
    expect(json.terraform.backend).toEqual({
      // "_bootstrap": no environment or user name has "_", so no notebook shares this key.
      s3: { bucket: "acme-nb-state", region: "eu-west-1", key: "jupyter-notebooks/_bootstrap/dev/terraform.tfstate", encrypt: true, use_lockfile: true },
    });
  });
});

describe("environments sharing a state bucket", () => {
  test("the bucket is created once, by the first environment that names it", () => {
    const specs = stateBackendStackSpecs(settingsWith({ dev: DEV, test: DEV, prod: { stateBucket: "acme-nb-prod", stateRegion: "eu-west-1" } }));
    expect(specs.map((s) => s.id)).toEqual(["state-backend-dev", "state-backend-prod"]);
  });

  test("fails when they name it in different regions", () => {
    expect(errorOf(() => stateBackendStackSpecs(settingsWith({ dev: DEV, test: { ...DEV, stateRegion: "us-east-1" } })))).toMatch(
      /^environments dev and test name the same stateBucket acme-nb-state in different regions/,
    );
  });

  test("'local' is reserved for the notebook stack's environment", () => {
    expect(errorOf(() => settingsWith({ local: DEV }))).toMatch(/"local" is the environment of the notebook stack with local state/);
  });
});

describe("team roll-out", () => {
  test("one notebook-<env>-<user> stack per listed user, on the same state key as that user's own stack", () => {
    writeTeam({ users: [{ name: "bob" }, { name: "carol", cpu: 2048, memory: 8192, jupyter_docker_tag: "2026-05-31" }] });
    const settings = settingsWith({ dev: { ...DEV, teamFile: "team.json" } }, "alice");
    const specs = notebookStackSpecs(settings);
    expect(specs.map((s) => s.id)).toEqual(["notebook", "notebook-dev", "notebook-dev-bob", "notebook-dev-carol"]);
    const bobsOwn = notebookStackSpecs(settingsWith({ dev: { ...DEV, teamFile: "team.json" } }, "bob")).find((s) => s.id === "notebook-dev")!;
    expect(specs.find((s) => s.id === "notebook-dev-bob")!.backend).toEqual(bobsOwn.backend);
    expect(bobsOwn.backend).toMatchObject({ key: "jupyter-notebooks/dev/bob/terraform.tfstate" });
  });

  test("per-user overrides replace the vars file's cpu, memory and image tag; the others use the vars file", () => {
    writeTeam({ users: [{ name: "bob" }, { name: "carol", cpu: 2048, memory: 8192, jupyter_docker_tag: "2026-05-31" }] });
    const settings = settingsWith({ dev: { ...DEV, teamFile: "team.json" } });
    const carol = synthStack("notebook-dev-carol", settings).json;
    const task = Object.values<any>(carol.resource.aws_ecs_task_definition)[0];
    expect([task.cpu, task.memory]).toEqual(["2048", "8192"]);
    // Carol's compute is the team file's (Fargate): the vars file's image when it is for Fargate too.
    expect(task.container_definitions).toContain('format("%s:%s", (var.accelerator == "none") ? var.image : "", "2026-05-31")');
    expect(carol.provider.aws[0].default_tags[0].tags).toContain('"Owner" = "carol"');
    const bob = Object.values<any>(synthStack("notebook-dev-bob", settings).json.resource.aws_ecs_task_definition)[0];
    expect(bob.cpu).toMatch(/^\$\{tostring\(coalesce\(var\.cpu, /);
    expect(bob.memory).toMatch(/^\$\{tostring\(coalesce\(var\.memory, /);
  });

  test.each<[string, unknown, RegExp]>([
    ["it is not JSON", "{users: [", /^team file team\.json is not valid JSON/],
    [
      "a key appears twice (JSON would keep the last)",
      '{"users": [{"name": "bob", "cpu": 1024, "cpu": 2048, "memory": 8192}]}',
      /^team file team\.json has the key "cpu" twice in "users": JSON keeps only the last one/,
    ],
    ["it has no users list", { people: [] }, /^team file team\.json: expected an object \{"users": \[/],
    [
      "a user has an unknown field",
      { users: [{ name: "bob", gpu: 1 }] },
      /^team file team\.json: users\[0\] has unknown field "gpu": allowed are name, cpu, memory, jupyter_docker_tag, image, accelerator, instance_type, gpu_count$/,
    ],
    [
      "a name is not a DNS label",
      { users: [{ name: "Bob Smith" }] },
      /^team file team\.json: users\[0\] has name "Bob Smith": expected 1 to 32 lower-case letters, digits and single '-'/,
    ],
    ["a name has a double dash (NOTEBOOK_USER never has one)", { users: [{ name: "a--b" }] }, /users\[0\] has name "a--b"/],
    ["a user is listed twice", { users: [{ name: "bob" }, { name: "bob" }] }, /^team file team\.json: users\[1\]: user "bob" is listed twice$/],
    [
      "memory is not offered with the cpu",
      { users: [{ name: "bob", cpu: 1024, memory: 1024 }] },
      /users\[0\] \(bob\) has memory 1024: Fargate offers 2048, 3072, .* with cpu 1024$/,
    ],
    ["cpu comes without memory", { users: [{ name: "bob", cpu: 1024 }] }, /users\[0\] \(bob\) sets cpu alone: give cpu and memory together$/],
    [
      "an image tag is invalid",
      { users: [{ name: "bob", jupyter_docker_tag: "bad tag" }] },
      /users\[0\] \(bob\) has jupyter_docker_tag "bad tag": expected an image tag$/,
    ],
    [
      "an image has a tag (the tag is jupyter_docker_tag)",
      { users: [{ name: "bob", image: "quay.io/jupyter/pytorch-notebook:cuda12-latest" }] },
      /users\[0\] \(bob\) has image "quay.io\/jupyter\/pytorch-notebook:cuda12-latest": expected a lower-case image repository without tag or digest/,
    ],
    ["an image is not a string", { users: [{ name: "bob", image: 7 }] }, /users\[0\] \(bob\) has image 7: expected a lower-case image repository/],
    [
      "an accelerator is unknown",
      { users: [{ name: "bob", accelerator: "amd" }] },
      /users\[0\] \(bob\) has accelerator "amd": expected one of none, nvidia, neuron$/,
    ],
    [
      "an instance type comes without accelerator",
      { users: [{ name: "bob", instance_type: "g6.xlarge" }] },
      /users\[0\] \(bob\) sets instance_type without an accelerator: add "accelerator": "nvidia" or "neuron"$/,
    ],
    [
      "an instance type is of the other accelerator",
      { users: [{ name: "bob", accelerator: "nvidia", instance_type: "inf2.xlarge" }] },
      /users\[0\] \(bob\) has instance_type "inf2.xlarge": expected one of the nvidia instance types g4dn.xlarge, /,
    ],
    [
      "more GPUs than the instance has",
      { users: [{ name: "bob", accelerator: "nvidia", instance_type: "g5.12xlarge", gpu_count: 8 }] },
      /users\[0\] \(bob\) has gpu_count 8: g5.12xlarge has 4 GPUs, ask for 1 to 4$/,
    ],
    [
      "a GPU count for neuron",
      { users: [{ name: "bob", accelerator: "neuron", gpu_count: 1 }] },
      /users\[0\] \(bob\) sets gpu_count with accelerator neuron: a neuron notebook gets all of its instance's devices$/,
    ],
    [
      "more memory than the instance leaves a task",
      { users: [{ name: "bob", accelerator: "nvidia", cpu: 4096, memory: 16384 }] },
      /users\[0\] \(bob\) has memory 16384: a task on g6.xlarge gets 512 to 14592 MiB$/,
    ],
  ])("fails with one clear line when %s", (_what, content, message) => {
    writeTeam(content as any);
    const error = errorOf(() => settingsWith({ dev: { ...DEV, teamFile: "team.json" } }));
    expect(error).toMatch(message);
    expect(error).not.toContain("\n");
  });

  test("a team member's notebook is the same whichever stack deploys it: the administrator's roll-out or their own", () => {
    // GIVEN bob in the team file, with overrides
    writeTeam({ users: [{ name: "bob", cpu: 2048, memory: 8192, jupyter_docker_tag: "2026-05-31" }] });
    const environments = { dev: { ...DEV, teamFile: "team.json" } };
    // WHEN the administrator synthesizes notebook-dev-bob and bob his own notebook-dev
    const rollOut = synthStack("notebook-dev-bob", settingsWith(environments, "admin")).json;
    const own = synthStack("notebook-dev", settingsWith(environments, "bob")).json;
    // THEN both are one configuration (the stack's name aside): resources, token source, cpu, memory, state
    expect(withoutMetadata(own)).toEqual(withoutMetadata(rollOut));
    const task = Object.values<any>(own.resource.aws_ecs_task_definition)[0];
    expect([task.cpu, task.memory]).toEqual(["2048", "8192"]);
    // AND the token is the notebook's own, never the vars file's one-for-everybody token
    const value = Object.values<any>(own.resource.aws_secretsmanager_secret_version).find((v) => v.count === undefined);
    expect(value.secret_string).toMatch(/^\$\{random_password\.[^.]+\.result\}$/);
    expect(JSON.stringify(own.resource.aws_secretsmanager_secret_version)).not.toContain("var.token");
  });

  test("a user who is not on the team keeps the vars file's token", () => {
    writeTeam({ users: [{ name: "bob" }] });
    const own = synthStack("notebook-dev", settingsWith({ dev: { ...DEV, teamFile: "team.json" } }, "alice")).json;
    expect(Object.values<any>(own.resource.aws_secretsmanager_secret_version).find((v) => v.count === undefined).secret_string).toContain("var.token");
  });

  test("the current user's own stack takes their team settings, and gets no second stack on the same state", () => {
    writeTeam({ users: [{ name: "alice", cpu: 4096, memory: 16384 }, { name: "bob" }] });
    const specs = notebookStackSpecs(settingsWith({ dev: { ...DEV, teamFile: "team.json" } }, "alice"));
    expect(specs.map((s) => s.id)).toEqual(["notebook", "notebook-dev", "notebook-dev-bob"]);
    expect(specs[1].overrides).toMatchObject({ cpu: 4096, memory: 16384 });
  });

  test("fails, naming the stack, when an environment and a team user would make another environment's stack id", () => {
    writeTeam({ users: [{ name: "eu" }] });
    expect(errorOf(() => notebookStackSpecs(settingsWith({ dev: { ...DEV, teamFile: "team.json" }, "dev-eu": DEV })))).toMatch(
      /^two stacks would be called notebook-dev-eu/,
    );
  });

  test("reads a team file that starts with a byte-order mark (as some editors save it)", () => {
    writeTeam("\uFEFF" + JSON.stringify({ users: [{ name: "bob" }] }));
    expect(settingsWith({ dev: { ...DEV, teamFile: "team.json" } }).environments[0].team.map((m) => m.name)).toEqual(["bob"]);
  });

  test("fails, saying so, when the team file is a directory", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, teamFile: "." } }))).toBe("team file .: cannot be read, it is a directory, not a file");
  });

  test("fails when the team file does not exist", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, teamFile: "missing.json" } }))).toBe("team file missing.json: cannot be read, it does not exist");
  });

  test("refuses more users than the environment's limit (90 by default), explaining the load balancer cap", () => {
    writeTeam({ users: Array.from({ length: 91 }, (_, i) => ({ name: `user${i}` })) });
    const error = errorOf(() => settingsWith({ dev: { ...DEV, teamFile: "team.json" } }));
    expect(error).toMatch(
      /team file team\.json lists 91 users, more than maxNotebooks 90\. Each notebook takes one of the 100 target groups a load balancer can hold; put the other users in a second environment with its own load balancer/,
    );
    writeTeam({ users: Array.from({ length: 90 }, (_, i) => ({ name: `user${i}` })) });
    expect(notebookStackSpecs(settingsWith({ dev: { ...DEV, teamFile: "team.json" } }))).toHaveLength(92);
    writeTeam({ users: Array.from({ length: 11 }, (_, i) => ({ name: `user${i}` })) });
    expect(errorOf(() => settingsWith({ dev: { ...DEV, teamFile: "team.json", maxNotebooks: 10 } }))).toMatch(/lists 11 users, more than maxNotebooks 10/);
  });

  test("refuses a limit beyond what a load balancer holds", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, maxNotebooks: 101 } }))).toMatch(/has maxNotebooks 101: expected a whole number from 1 to 100$/);
  });

  test("with a platform, the team may fill every load balancer of it: loadBalancers × maxNotebooks", () => {
    // GIVEN a platform with 2 load balancers of 90 notebooks
    const dev = { ...DEV, teamFile: "team.json", platform: true, loadBalancers: 2 };
    // WHEN the team has 180 users THEN all of them get a stack
    writeTeam({ users: Array.from({ length: 180 }, (_, i) => ({ name: `user${i}` })) });
    expect(notebookStackSpecs(settingsWith({ dev })).filter((s) => s.platform?.stackId === "platform-dev")).toHaveLength(181);
    // WHEN it has 181 THEN the message gives the real capacity and how to raise it
    writeTeam({ users: Array.from({ length: 181 }, (_, i) => ({ name: `user${i}` })) });
    expect(errorOf(() => settingsWith({ dev }))).toMatch(
      /team file team\.json lists 181 users, more than 2 load balancers of platform-dev × maxNotebooks 90 = 180\. Raise loadBalancers \(at most 20\) and deploy platform-dev first$/,
    );
  });

  test("fails when platform is not true or false, or loadBalancers is out of range or set without a platform", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, platform: "yes" } }))).toMatch(
      /has platform "yes": expected true \(a platform-dev stack, read by its notebooks\) or false$/,
    );
    expect(errorOf(() => settingsWith({ dev: { ...DEV, platform: true, loadBalancers: 0 } }))).toMatch(
      /has loadBalancers 0: expected a whole number from 1 to 20$/,
    );
    expect(errorOf(() => settingsWith({ dev: { ...DEV, platform: true, loadBalancers: 2.5 } }))).toMatch(
      /has loadBalancers 2\.5: expected a whole number from 1 to 20$/,
    );
    expect(errorOf(() => settingsWith({ dev: { ...DEV, loadBalancers: 2 } }))).toMatch(/sets loadBalancers without platform: true/);
  });

  test("a waker on the team's own cluster: a boolean, not with a platform (it has its own), and one target group fewer for notebooks", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, waker: "yes" } }))).toMatch(
      /has waker "yes": expected true \(a waker-dev stack: a stopped notebook's URL starts it\) or false$/,
    );
    expect(errorOf(() => settingsWith({ dev: { ...DEV, waker: true, platform: true } }))).toMatch(
      /sets waker with platform: true; platform-dev has its own waker: remove waker$/,
    );
    expect(errorOf(() => settingsWith({ dev: { ...DEV, waker: true, maxNotebooks: 100 } }))).toMatch(
      /has maxNotebooks 100 with waker: the waker takes one of each load balancer's 100 target groups; use at most 99$/,
    );
    expect(wakerStackSpecs(settingsWith({ dev: { ...DEV, waker: true, maxNotebooks: 99 }, qa: DEV })).map((s) => s.stackId)).toEqual(["waker-dev"]);
  });

  test("a platform's waker takes a target group too: maxNotebooks 100 (allowed before the waker) stops at the settings, saying how to move on", () => {
    expect(errorOf(() => settingsWith({ dev: { ...DEV, platform: true, maxNotebooks: 100 } }))).toMatch(
      /has maxNotebooks 100 with platform: true: the waker of platform-dev takes one of each load balancer's 100 target groups; use at most 99 \(before the waker a platform allowed 100: where a load balancer already holds 100 notebooks, destroy one of them before deploying platform-dev, and raise loadBalancers to make room for it\)$/,
    );
    expect(platformStackSpecs(settingsWith({ dev: { ...DEV, platform: true, maxNotebooks: 99 } })).map((s) => s.stackId)).toEqual(["platform-dev"]);
  });

  test("an environment with a platform has a platform-<env> stack whose state sits next to its notebooks' states, and its notebooks read it", () => {
    const settings = settingsWith({ dev: { ...DEV, platform: true, loadBalancers: 3 }, qa: DEV });
    expect(platformStackSpecs(settings)).toEqual([
      {
        stackId: "platform-dev",
        environment: "dev",
        backend: { type: "s3", bucket: "acme-nb-state", region: "eu-west-1", key: "jupyter-notebooks/_platform/dev/terraform.tfstate" },
        loadBalancers: 3,
        notebooksPerLoadBalancer: 90,
      },
    ]);
    const specs = notebookStackSpecs(settings);
    expect(specs.find((s) => s.id === "notebook-dev")?.platform?.stackId).toBe("platform-dev");
    expect(specs.find((s) => s.id === "notebook-qa")?.platform).toBeUndefined();
    expect(specs.find((s) => s.id === "notebook")?.platform).toBeUndefined();
  });

  test("localPlatform gives the notebook stack a platform stack with a local state file", () => {
    const settings = readSettings({ env: { NOTEBOOK_USER: "alice" }, environmentsContext: {}, localPlatformContext: true, projectDir: project });
    expect(platformStackSpecs(settings)).toEqual([
      {
        stackId: "platform",
        environment: "local",
        backend: { type: "local", path: path.join(project, "platform.tfstate") },
        loadBalancers: 1,
        notebooksPerLoadBalancer: 90,
      },
    ]);
    expect(notebookStackSpecs(settings).find((s) => s.id === "notebook")?.platform?.stackId).toBe("platform");
    expect(errorOf(() => readSettings({ env: { NOTEBOOK_USER: "alice" }, localPlatformContext: "yes", projectDir: project }))).toBe(
      'cdktf.json context "localPlatform" must be true or false, got "yes"',
    );
  });
});

describeWithTerraform("environment guard, evaluated by terraform", () => {
  let dir: string | undefined;
  beforeAll(async () => {
    const { json } = synthStack("notebook-dev", readSettings({ env: { NOTEBOOK_USER: "alice" }, environmentsContext: { dev: DEV }, projectDir: "/p" }));
    dir = await initVariablesDir(json);
  }, 60_000);
  afterAll(() => removeDir(dir));

  test("a vars file for this environment, or for none, passes", async () => {
    expect((await planVars(dir!, tfvars({ ...OLD_VARS, environment: "dev" }))).code).toBe(0);
    expect((await planVars(dir!, tfvars(OLD_VARS))).code).toBe(0);
  });

  test("a vars file for another environment fails before any AWS call, naming both", async () => {
    const result = await planVars(dir!, tfvars({ ...OLD_VARS, environment: "prod" }));
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("var.environment");
    expect(oneLine(result.output)).toContain(
      "environment: this vars file is for environment 'prod', but the stack chosen is for environment 'dev': pick the stack of that environment (notebook-prod) or another vars file.",
    );
  });
});

describeWithTerraform("npx cdktf synth --hcl", () => {
  test("writes HCL that Terraform parses, for every stack", async () => {
    // GIVEN the app run as `cdktf synth --hcl` runs it (the CLI sets SYNTH_HCL_OUTPUT)
    const root = path.resolve(__dirname, "..");
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-hcl-"));
    try {
      const synth = (hcl: boolean) =>
        spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
          cwd: root,
          env: {
            ...process.env,
            NOTEBOOK_USER: "alice",
            NOTEBOOK_ENVIRONMENTS: JSON.stringify({ dev: DEV }),
            SYNTH_HCL_OUTPUT: String(hcl),
            CDKTF_OUTDIR: outdir,
          },
          encoding: "utf8",
        });
      expect(synth(false).status).toBe(0); // an earlier JSON synth in the same checkout
      const run = synth(true);
      expect(run.status).toBe(0);
      const stacks = fs.readdirSync(path.join(outdir, "stacks")).sort();
      expect(stacks).toEqual(["notebook", "notebook-dev", "state-backend-dev"]);
      // Only HCL is left: terraform would read a cdk.tf.json of an earlier synth as well.
      for (const stack of stacks) expect(fs.existsSync(path.join(outdir, "stacks", stack, "cdk.tf.json"))).toBe(false);
      for (const stack of stacks) {
        const file = path.join(outdir, "stacks", stack, "cdk.tf");
        // THEN terraform parses each file (fmt fails on any syntax error)
        const fmt = await runTerraform(path.dirname(file), ["fmt", "-write=false", "-list=false", "-no-color", file]);
        expect([stack, fmt.code, fmt.output.includes("Error")]).toEqual([stack, 0, false]);
      }
      const notebook = fs.readFileSync(path.join(outdir, "stacks", "notebook", "cdk.tf"), "utf8");
      expect(notebook).toContain('variable "cpu" {');
      expect(notebook).toContain('resource "aws_ecs_service"');
      // AND the next JSON synth (a deploy) removes the HCL again
      expect(synth(false).status).toBe(0);
      for (const stack of stacks) expect(fs.existsSync(path.join(outdir, "stacks", stack, "cdk.tf"))).toBe(false);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
