import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { localStatePath } from "../stacks/stack-specs";
import { notebookStatus } from "../scripts/status";
import { recordingServer } from "./helpers/notebook-image";

// `npm run status` over state files made here; the live check talks to a stand-in for ECS.
const root = path.resolve(__dirname, "..");
const user = `status-test-${process.pid}`;
const stateFile = localStatePath(root, user);
const CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science";

/** A state as Terraform writes it after a deploy of the notebook stack (the parts status reads). */
function deployedState(desiredCount = 1, cluster = CLUSTER) {
  return {
    version: 4,
    outputs: { hostname: { value: "jupyter-ab12cd34.notebooks.example.com", type: "string" }, url: { value: "https://x/?token=y", sensitive: true } },
    resources: [
      { mode: "data", type: "aws_ecs_cluster", name: "platform_cluster", instances: [{ attributes: { arn: CLUSTER } }] },
      {
        mode: "managed",
        type: "aws_ecs_service",
        name: "notebook_service",
        instances: [{ attributes: { name: "jupyter-ab12cd34", cluster, desired_count: desiredCount, capacity_provider_strategy: [] } }],
      },
      {
        mode: "managed",
        type: "aws_ecs_task_definition",
        name: "notebook_task_definition",
        instances: [{ attributes: { cpu: "1024", memory: "4096", container_definitions: "[]" } }],
      },
    ],
  };
}

/** Runs the script without blocking this process, which serves the stand-in for ECS. */
function runStatus(args: string[], env: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "sucrase/register/ts", "scripts/status.ts", ...args],
      {
        cwd: root,
        timeout: 30_000,
        env: {
          ...process.env,
          NOTEBOOK_USER: user,
          NOTEBOOK_ENVIRONMENTS: "",
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "secret-example",
          AWS_EC2_METADATA_DISABLED: "true",
          ...env,
        },
        encoding: "utf8",
      },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("npm run status", () => {
  let ecs: Awaited<ReturnType<typeof recordingServer>>;
  let answer = { desiredCount: 0, runningCount: 0 };
  beforeAll(async () => {
    ecs = await recordingServer((req, res) => {
      const body = JSON.parse(req.body || "{}");
      res.setHeader("Content-Type", "application/x-amz-json-1.1");
      res.end(JSON.stringify({ services: [{ serviceName: body.services?.[0], clusterArn: body.cluster, status: "ACTIVE", ...answer }], failures: [] }));
    });
  });
  afterAll(() => ecs.close());
  afterEach(() => fs.rmSync(stateFile, { force: true }));
  const ecsEnv = () => ({ AWS_ENDPOINT_URL_ECS: `http://127.0.0.1:${ecs.port}` });

  test("a notebook stopped after being idle: hostname from the state, stopped from ECS", async () => {
    fs.writeFileSync(stateFile, JSON.stringify(deployedState()));
    answer = { desiredCount: 0, runningCount: 0 };
    const before = ecs.requests.length;
    const result = await runStatus([], ecsEnv());
    expect(result.stderr).not.toMatch(/error/i); // (the AWS SDK may warn about Node 20's end of support)
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^STACK\s+USER\s+STATUS\s+SIZE\s+\$\/HOUR\s+HOSTNAME$/),
      expect.stringMatching(
        new RegExp(`^notebook\\s+${user}\\s+stopped \\(idle\\)\\s+1 vCPU 4 GiB\\s+0 \\(stopped\\)\\s+jupyter-ab12cd34\\.notebooks\\.example\\.com$`),
      ),
    ]);
    const calls = ecs.requests.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers["x-amz-target"]).toBe("AmazonEC2ContainerServiceV20141113.DescribeServices");
    expect(JSON.parse(calls[0].body)).toEqual({ cluster: CLUSTER, services: ["jupyter-ab12cd34"] });
  });

  test("a running notebook", async () => {
    fs.writeFileSync(stateFile, JSON.stringify(deployedState()));
    answer = { desiredCount: 1, runningCount: 1 };
    // 1 vCPU and 4 GiB on demand in eu-west-1: 1 × 0.04048 + 4 × 0.004445
    expect((await runStatus([], ecsEnv())).stdout).toMatch(
      new RegExp(`\\nnotebook\\s+${user}\\s+running\\s+1 vCPU 4 GiB\\s+\\$0\\.0583\\s+jupyter-ab12cd34`),
    );
  });

  test("--all: a running us-east-1 notebook's price, and the total per hour and for a month at that rate", async () => {
    fs.writeFileSync(stateFile, JSON.stringify(deployedState(1, "arn:aws:ecs:us-east-1:123456789012:cluster/data-science")));
    answer = { desiredCount: 1, runningCount: 1 };
    const result = await runStatus(["--all"], ecsEnv());
    // 1 × 0.04048 + 4 × 0.004445 = 0.05826 per hour; × 730 = 42.5298
    expect(result.stdout).toMatch(new RegExp(`\\nnotebook\\s+${user}\\s+running\\s+1 vCPU 4 GiB\\s+\\$0\\.0583\\s+jupyter-ab12cd34`));
    expect(result.stdout).toContain("Running: 1 of 1 notebooks, $0.0583 per hour.");
    expect(result.stdout).toContain("A month at this rate (730 h): $42.53.");
  });

  test("--offline answers from the state alone, without calling AWS", async () => {
    fs.writeFileSync(stateFile, JSON.stringify(deployedState(1)));
    const before = ecs.requests.length;
    const result = await runStatus(["--offline"], ecsEnv());
    expect(result.stdout).toMatch(
      new RegExp(`\\nnotebook\\s+${user}\\s+desired 1 \\(from state\\)\\s+1 vCPU 4 GiB\\s+\\$0\\.0583\\s+jupyter-ab12cd34`),
    );
    expect(ecs.requests.length).toBe(before);
  });

  test("no state, and a destroyed notebook (state without resources)", async () => {
    expect((await runStatus([], ecsEnv())).stdout).toMatch(new RegExp(`\\nnotebook\\s+${user}\\s+no state\\s+-\\s+-\\s+-$`, "m"));
    fs.writeFileSync(stateFile, JSON.stringify({ version: 4, outputs: {}, resources: [] }));
    expect((await runStatus([], ecsEnv())).stdout).toMatch(new RegExp(`\\nnotebook\\s+${user}\\s+not deployed\\s+-\\s+-\\s+-$`, "m"));
  });

  test("an unknown option is refused with the usage", async () => {
    const result = await runStatus(["--everything"], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("usage: npm run status");
  });

  test("--all lists every team-file user's stack; a state it cannot read says why instead of failing", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-status-"));
    try {
      // GIVEN a project whose environment has a team file, and an app that cannot synthesize there
      fs.writeFileSync(path.join(project, "team.json"), JSON.stringify({ users: [{ name: "bob" }, { name: "carol" }] }));
      const environments = { qa: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: "team.json" } };
      fs.writeFileSync(path.join(project, "cdktf.json"), JSON.stringify({ app: "exit 1", context: { environments } }));
      // (S3 is not reachable here: a closed local port answers for it at once.)
      const unreachable = {
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
        AWS_ENDPOINT_URL_STS: "http://127.0.0.1:9",
        AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "x",
      };
      // WHEN the administrator asks for everyone
      const all = await notebookStatus(project, { NOTEBOOK_USER: "admin-alice", ...unreachable }, { all: true, offline: true });
      // THEN every stack is listed, the S3 ones with the reason their state is unknown
      expect(all.map((r) => [r.stack, r.user])).toEqual([
        ["notebook", "admin-alice"],
        ["notebook-qa", "admin-alice"],
        ["notebook-qa-bob", "bob"],
        ["notebook-qa-carol", "carol"],
      ]);
      expect(all[0].status).toBe("no state");
      expect(all[2].status).toMatch(/^unknown: cannot read s3:\/\/acme-nb-state\/jupyter-notebooks\/qa\/bob\/terraform\.tfstate for notebook-qa-bob: Error: /);
      // AND without --all, only the current user's
      const mine = await notebookStatus(project, { NOTEBOOK_USER: "admin-alice", ...unreachable }, { all: false, offline: true });
      expect(mine.map((r) => r.stack)).toEqual(["notebook", "notebook-qa"]);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
