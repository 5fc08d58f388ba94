import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Construct } from "constructs";
import { App, TerraformStack, Testing } from "cdktf";
import { makeUniqueId } from "cdktf/lib/private/unique";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { ExistingPlatform } from "../modules/existing-platform";
import { Notebook } from "../modules/notebook";
import { describeWithTerraform, initOffline, PROVIDER_DOWNLOAD_ERROR } from "./helpers/terraform";

// Every stack the app can synthesize, exactly as `cdktf synth` writes it, through
// `terraform init -backend=false` with no provider to download. init checks the whole
// configuration (every reference, expression, precondition and moved block), so anything
// Terraform would refuse shows up here as an error other than the provider download.

const ROOT = path.resolve(__dirname, "..");

/** Runs the app as the cdktf.json app command does, into `outdir`. */
function synthApp(projectEnv: Record<string, string>, outdir: string): void {
  const run = spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...projectEnv, CDKTF_OUTDIR: outdir, SYNTH_HCL_OUTPUT: "false" },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`the app failed (exit ${run.status}):\n${run.stderr}`);
}

describeWithTerraform("every synthesized stack, checked whole by terraform init", () => {
  let project: string;
  let outdir: string;
  let stacks: string[];

  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-whole-"));
    outdir = path.join(project, "cdktf.out");
    // A team with per-user overrides; the current user (alice) is on it too.
    const team = path.join(project, "team.json");
    fs.writeFileSync(
      team,
      JSON.stringify({
        users: [{ name: "alice", cpu: 2048, memory: 8192 }, { name: "bob" }, { name: "carol", cpu: 4096, memory: 16384, jupyter_docker_tag: "2026-05-31" }],
      }),
    );
    const acceleratedTeam = path.join(project, "accelerated-team.json");
    fs.writeFileSync(
      acceleratedTeam,
      JSON.stringify({
        users: [
          { name: "dave", accelerator: "nvidia", instance_type: "g5.12xlarge", gpu_count: 2 },
          { name: "erin", accelerator: "neuron" },
          { name: "frank", cpu: 2048, memory: 8192 },
        ],
      }),
    );
    const environments = {
      // remote state, a team roll-out, the bootstrap stack's state still local
      dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team },
      // shares dev's bucket: no second bootstrap stack; a waker on its own cluster (waker-qa)
      qa: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", waker: true },
      // its own bucket, the bootstrap stack's state moved into it, another key prefix
      prod: { stateBucket: "acme-nb-state-prod", stateRegion: "us-east-1", stateKeyPrefix: "teams/notebooks", bootstrapStateInBucket: true },
      // a platform stack with three load balancers, read by its notebooks and its team's
      ml: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team, platform: true, loadBalancers: 3 },
      // accelerated capacity added to the team's own cluster (an accelerators-gpu stack; shares dev's bucket), a team with GPU and Neuron notebooks
      gpu: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: acceleratedTeam, accelerators: true },
    };
    // the local notebook stack on a platform of its own; notebook-dev moved from the old
    // configuration (npm run migrate), its suffix imported
    synthApp(
      {
        NOTEBOOK_USER: "alice",
        NOTEBOOK_ENVIRONMENTS: JSON.stringify(environments),
        CDKTF_CONTEXT_JSON: JSON.stringify({ localPlatform: true }),
        NOTEBOOK_KEEP_SUFFIX: "notebook-dev=Xk3Pq9Za",
      },
      outdir,
    );
    stacks = fs.readdirSync(path.join(outdir, "stacks")).sort();
  }, 60_000);
  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  test("the app synthesized every kind of stack", () => {
    expect(stacks).toEqual([
      "accelerators-gpu",
      "notebook",
      "notebook-dev",
      "notebook-dev-bob",
      "notebook-dev-carol",
      "notebook-gpu",
      "notebook-gpu-dave",
      "notebook-gpu-erin",
      "notebook-gpu-frank",
      "notebook-ml",
      "notebook-ml-bob",
      "notebook-ml-carol",
      "notebook-prod",
      "notebook-qa",
      "platform",
      "platform-ml",
      "state-backend-dev",
      "state-backend-prod",
      "waker-qa",
    ]);
  });

  test("the moved notebook's stack imports its suffix", () => {
    const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "notebook-dev", "cdk.tf.json"), "utf8"));
    expect(json.import).toEqual([{ to: expect.stringMatching(/^random_string\.notebook_suffix_[0-9A-F]{8}$/), id: "Xk3Pq9Za" }]);
  });

  test("every stack fails init only on the provider download", async () => {
    const outcomes = await Promise.all(
      stacks.map(async (stack) => {
        const { result, errors } = await initOffline(path.join(outdir, "stacks", stack));
        const other = errors.filter((e) => e !== PROVIDER_DOWNLOAD_ERROR);
        // The whole output when something else went wrong: the error names the line.
        return { stack, reachedProviders: errors.includes(PROVIDER_DOWNLOAD_ERROR), other, output: other.length > 0 ? result.output : "" };
      }),
    );
    for (const outcome of outcomes) expect(outcome).toEqual({ stack: outcome.stack, reachedProviders: true, other: [], output: "" });
  }, 120_000);

  test('no expression holds `undefined`: cdktf writes a literal "", 0 or false given to Op that way, and terraform init does not parse expressions', () => {
    for (const stack of stacks) {
      const text = fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");
      expect({ stack, undefinedAt: text.match(/.{60}\bundefined\b.{20}/)?.[0] ?? null }).toEqual({ stack, undefinedAt: null });
    }
  });

  test("the check sees an invalid configuration (a precondition on constants)", async () => {
    // GIVEN a copy of a team stack with a precondition that refers to nothing, the defect
    // that made every team stack invalid
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "nb-broken-"));
    try {
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", "notebook-dev-bob", "cdk.tf.json"), "utf8"));
      const check = Object.values<any>(json.resource.terraform_data)[0];
      check.lifecycle.precondition.push({ condition: '${length("") < 1}', error_message: "constant." });
      fs.writeFileSync(path.join(copy, "cdk.tf.json"), JSON.stringify(json));
      // WHEN init runs on it THEN it reports that error, besides or instead of the providers
      const { errors } = await initOffline(copy);
      expect(errors).toContain("Invalid precondition expression");
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);
});

describeWithTerraform("the notebook module used as a library, with literal props", () => {
  test("is valid Terraform with only the required props, and with every optional one", async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-module-"));
    try {
      // GIVEN stacks written the way a library user writes them: strings, not variables
      const app = new App({ outdir });
      const minimal = new TerraformStack(app, "minimal");
      const full = new TerraformStack(app, "full");
      for (const stack of [minimal, full]) {
        new AwsProvider(stack, "aws", { region: "eu-west-1" });
        new RandomProvider(stack, "random");
      }
      const platformProps = {
        clusterName: "data-science",
        loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/team-alb/0123456789abcdef",
        hostedZoneId: "Z0123456789ABCDEFGHIJ",
      };
      new Notebook(minimal, "notebook", {
        platform: new ExistingPlatform(minimal, "platform", platformProps),
        subnets: ["subnet-0123456789abcdef0"],
        compute: { cpu: 1024, memory: 4096, image: "quay.io/jupyter/base-notebook", imageTag: "2026-05-31" },
        owner: "alice",
      });
      new Notebook(full, "notebook", {
        platform: new ExistingPlatform(full, "platform", { ...platformProps, efsFileSystemId: "fs-0123456789abcdef0" }),
        subnets: ["subnet-0123456789abcdef0"],
        compute: { cpu: 1024, memory: 4096, image: "quay.io/jupyter/base-notebook", imageTag: "2026-05-31", capacityProvider: "FARGATE_SPOT" },
        owner: "alice",
        token: "a-long-enough-token-1234",
        efsSecurityGroupId: "sg-0123456789abcdef0",
        gitRepositoryUrl: "https://github.com/acme/analysis.git",
        allowedCidrs: ["2001:DB8::/32"],
        enableExecuteCommand: true,
      });
      app.synth();
      // THEN terraform accepts both whole configurations
      for (const stack of ["minimal", "full"]) {
        const { result, errors } = await initOffline(path.join(outdir, "stacks", stack));
        expect({
          stack,
          other: errors.filter((e) => e !== PROVIDER_DOWNLOAD_ERROR),
          output: errors.every((e) => e === PROVIDER_DOWNLOAD_ERROR) ? "" : result.output,
        }).toEqual({ stack, other: [], output: "" });
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);

  test("keeps each moved resource at the address it had, however deep the notebook is nested", () => {
    // GIVEN the notebook inside a construct of the user's own, two levels below the stack
    const app = Testing.app();
    const stack = new TerraformStack(app, "nested");
    new AwsProvider(stack, "aws", { region: "eu-west-1" });
    new RandomProvider(stack, "random");
    const team = new Construct(new Construct(stack, "team"), "alice");
    const platform = new ExistingPlatform(team, "platform", {
      clusterName: "data-science",
      loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/team-alb/0123456789abcdef",
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
    });
    new Notebook(team, "notebook", {
      platform,
      subnets: ["subnet-0123456789abcdef0"],
      compute: { cpu: 1024, memory: 4096, image: "quay.io/jupyter/base-notebook", imageTag: "2026-05-31" },
      owner: "alice",
    });
    const json = JSON.parse(Testing.synth(stack));
    // THEN resources that moved into sub-constructs keep the id of the notebook's direct child
    expect(Object.keys(json.resource.aws_lb_target_group)).toEqual([makeUniqueId(["team", "alice", "notebook", "target_group"])]);
    expect(Object.keys(json.resource.aws_iam_role).sort()).toEqual(
      [makeUniqueId(["team", "alice", "notebook", "execution_role"]), makeUniqueId(["team", "alice", "notebook", "task_role"])].sort(),
    );
    expect(Object.keys(json.resource.aws_ecs_service)).toEqual([makeUniqueId(["team", "alice", "notebook", "service"])]);
  });
});
