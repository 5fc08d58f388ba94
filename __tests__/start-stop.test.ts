import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { deployedNotebook, startNotebook, stopNotebook } from "../scripts/start-stop";
import { localStatePath } from "../stacks/stack-specs";
import { Page, pages } from "../waker/pages";
import { ECS_UPDATE_SERVICE, recordingServer } from "./helpers/notebook-image";
import { FakeWakerAws } from "./helpers/fake-waker-aws";

// `npm run start` and `npm run stop` against stand-ins: ECS (records UpdateService) and the
// notebook behind its load balancer (answers /api with 503 until it "started").

const root = path.resolve(__dirname, "..");
const user = `start-test-${process.pid}`;
const stateFile = localStatePath(root, user);
const CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science";
const TOKEN = "a-long-enough-token-1234";

const TARGET_GROUP = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/jupyter-ab12cd34/0123456789abcdef";

/** The state of a deployed notebook: its service, target group and listener rule (signing in first when `signIn`). */
function deployedState(notebookUrl: string, signIn = false) {
  const forward = { type: "forward", order: signIn ? 2 : 1, target_group_arn: TARGET_GROUP };
  return {
    version: 4,
    outputs: { url: { value: `${notebookUrl}?token=${TOKEN}`, sensitive: true }, notebook_url: { value: notebookUrl } },
    resources: [
      {
        mode: "managed",
        type: "aws_ecs_service",
        name: "notebook_service",
        instances: [{ attributes: { name: "jupyter-ab12cd34", cluster: CLUSTER, desired_count: 1 } }],
      },
      { mode: "managed", type: "aws_lb_target_group", name: "notebook_target_group", instances: [{ attributes: { arn: TARGET_GROUP } }] },
      {
        mode: "managed",
        type: "aws_lb_listener_rule",
        name: "notebook_listener_rule",
        instances: [{ attributes: { action: signIn ? [{ type: "authenticate-oidc", order: 1 }, forward] : [forward] } }],
      },
    ],
  };
}

describe("npm run start / stop", () => {
  let ecs: Awaited<ReturnType<typeof recordingServer>>;
  let notebook: Awaited<ReturnType<typeof recordingServer>>;
  let denied = false;
  /** How many more /api requests answer 503 before the notebook answers. */
  let startingFor = 0;
  /** The waker's pages the load balancer answers with instead, in order, while the notebook sleeps. */
  let wakerPages: Page[] = [];
  const saved = { ...process.env };
  beforeAll(async () => {
    ecs = await recordingServer((req, res) => {
      res.setHeader("Content-Type", "application/x-amz-json-1.1");
      if (denied) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: "AccessDeniedException", message: "User is not authorized to perform: ecs:UpdateService" }));
        return;
      }
      const body = JSON.parse(req.body || "{}");
      res.end(JSON.stringify({ service: { serviceName: body.service, clusterArn: body.cluster, desiredCount: body.desiredCount } }));
    });
    notebook = await recordingServer((req, res) => {
      const page = wakerPages.shift();
      if (page) {
        res.writeHead(page.statusCode, page.headers);
        res.end(page.body);
        return;
      }
      if (startingFor > 0) {
        startingFor--;
        res.statusCode = 503;
        res.end("503 Service Temporarily Unavailable");
        return;
      }
      res.end(req.url === "/api" ? '{"version": "2.14.0"}' : "");
    });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECS: `http://127.0.0.1:${ecs.port}`,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_EC2_METADATA_DISABLED: "true",
    });
  });
  afterAll(async () => {
    process.env = saved;
    await ecs.close();
    await notebook.close();
  });
  beforeEach(() => {
    denied = false;
    startingFor = 0;
    wakerPages = [];
    fs.writeFileSync(stateFile, JSON.stringify(deployedState(`http://127.0.0.1:${notebook.port}/`)));
  });
  afterEach(() => fs.rmSync(stateFile, { force: true }));
  const env = () => ({ ...process.env, NOTEBOOK_USER: user, NOTEBOOK_ENVIRONMENTS: "" });
  const updates = () => ecs.requests.filter((r) => r.headers["x-amz-target"] === ECS_UPDATE_SERVICE).map((r) => JSON.parse(r.body));

  test("stop sets the service's desired count to 0, and nothing else", async () => {
    const before = ecs.requests.length;
    await stopNotebook(deployedNotebook("notebook", root, env()));
    expect(ecs.requests.slice(before).map((r) => [r.headers["x-amz-target"], JSON.parse(r.body)])).toEqual([
      [ECS_UPDATE_SERVICE, { cluster: CLUSTER, service: "jupyter-ab12cd34", desiredCount: 0 }],
    ]);
  });

  test("start sets it to 1 and returns only once the notebook answers through its load balancer", async () => {
    // GIVEN a notebook whose load balancer answers 503 three times while it starts
    startingFor = 3;
    const before = notebook.requests.length;
    const progress: string[] = [];
    await startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20, progress: (l) => progress.push(l) });
    expect(updates().pop()).toEqual({ cluster: CLUSTER, service: "jupyter-ab12cd34", desiredCount: 1 });
    // With the token: a notebook without sign-in at the load balancer needs it to be woken.
    expect(notebook.requests.slice(before).map((r) => r.url)).toEqual(Array(4).fill(`/api?token=${TOKEN}`));
    expect(progress).toHaveLength(3);
    expect(progress[0]).toMatch(/^waiting for http:\/\/127\.0\.0\.1:\d+\/api \(HTTP 503\)$/);
  });

  test("through the waker (a platform stack): waits past its pages, even one that answers 200 or 401, until it says ready; stops when it says the start failed", async () => {
    // 401 (its token page) and 200 would end a plain wait: the waker's header says what they are.
    wakerPages = [pages.starting("It is being started now."), pages.tokenNeeded(), pages.starting("Its container is starting."), pages.ready()];
    const before = notebook.requests.length;
    const progress: string[] = [];
    await startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20, progress: (l) => progress.push(l) });
    expect(notebook.requests.length - before).toBe(4);
    expect(progress.map((l) => l.replace(/^.*\(/, "("))).toEqual(["(the waker: starting)", "(the waker: token)", "(the waker: starting)"]);
    wakerPages = [pages.starting("It is being started now."), pages.failed("ECS says: unable to place a task.")];
    await expect(startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20 })).rejects.toThrow(
      /^jupyter-ab12cd34 could not start, the waker says \(failed\): see npm run status/,
    );
    // From outside the notebook's allowed CIDRs the waker never says ready: no 20-minute wait.
    wakerPages = [pages.notAllowed()];
    await expect(startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20 })).rejects.toThrow(
      /^jupyter-ab12cd34 answers only its allowed_cidrs, and this machine's address is not among them/,
    );
  });

  test("with sign-in at the load balancer (which redirects every request without its cookie): waits until its target is healthy", async () => {
    const elb = await new FakeWakerAws().start();
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = elb.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
    try {
      fs.writeFileSync(stateFile, JSON.stringify(deployedState(`http://127.0.0.1:${notebook.port}/`, true)));
      const before = notebook.requests.length;
      // The notebook's rule (the stand-in calls a target group no rule uses "unused").
      elb.rules.set("rule", {
        RuleArn: "rule",
        listenerArn: "listener",
        host: "jupyter-ab12cd34.nb.example.com",
        cidrs: [],
        Actions: [{ Type: "forward", Order: 2, TargetGroupArn: TARGET_GROUP }],
        tags: {},
      });
      elb.health.set(TARGET_GROUP, []);
      const progress: string[] = [];
      await startNotebook(deployedNotebook("notebook", root, env()), {
        pollMs: 20,
        timeoutMs: 10_000,
        progress: (line) => {
          progress.push(line);
          // The target registers, then passes its health checks.
          if (progress.length === 2) elb.health.set(TARGET_GROUP, ["initial"]);
          if (progress.length === 4) elb.health.set(TARGET_GROUP, ["healthy"]);
        },
      });
      expect(updates().pop()).toEqual({ cluster: CLUSTER, service: "jupyter-ab12cd34", desiredCount: 1 });
      expect(progress).toEqual([
        "waiting for the load balancer's health check of jupyter-ab12cd34 (no target yet)",
        "waiting for the load balancer's health check of jupyter-ab12cd34 (no target yet)",
        "waiting for the load balancer's health check of jupyter-ab12cd34 (its target: initial)",
        "waiting for the load balancer's health check of jupyter-ab12cd34 (its target: initial)",
      ]);
      expect(elb.callsOf("DescribeTargetHealth").map((c) => c.params.TargetGroupArn)).toEqual(Array(5).fill(TARGET_GROUP));
      // Not one request through the load balancer: its sign-in redirect would have ended the wait.
      expect(notebook.requests.length).toBe(before);
      // Never healthy: it stops after the time limit, saying where to look.
      elb.health.set(TARGET_GROUP, ["unhealthy"]);
      await expect(startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20, timeoutMs: 100 })).rejects.toThrow(
        /^jupyter-ab12cd34 was not healthy within 0 s \(last: its target: unhealthy\): see npm run status/,
      );
    } finally {
      delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
      await elb.stop();
    }
  });

  test("fails when the notebook does not answer in time, saying where to look", async () => {
    startingFor = 1_000;
    await expect(startNotebook(deployedNotebook("notebook", root, env()), { pollMs: 20, timeoutMs: 150 })).rejects.toThrow(
      /^jupyter-ab12cd34 did not answer within 0 s \(last: HTTP 503\): see npm run status, and the service's events in the ECS console$/,
    );
  });

  test("fails when AWS refuses (another user's notebook), and when the stack is not deployed", async () => {
    denied = true;
    await expect(stopNotebook(deployedNotebook("notebook", root, env()))).rejects.toThrow(
      `AWS refused to change jupyter-ab12cd34 of ${user}: you may start and stop only your own notebooks (README, Permissions)`,
    );
    fs.writeFileSync(stateFile, JSON.stringify({ version: 4, outputs: {}, resources: [] }));
    expect(() => deployedNotebook("notebook", root, env())).toThrow(`notebook of ${user} is not deployed: deploy it first`);
  });

  test("the commands: start prints the URL with the token on stdout; stop says how to start again", async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          ["-r", "sucrase/register/ts", "scripts/start-stop.ts", ...args],
          { cwd: root, env: env(), encoding: "utf8", timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const start = await run(["start"]);
    expect(start.code).toBe(0);
    expect(start.stdout.trim()).toBe(`http://127.0.0.1:${notebook.port}/?token=${TOKEN}`);
    expect(start.stderr).not.toContain(TOKEN);
    const stop = await run(["stop"]);
    expect(stop.code).toBe(0);
    expect(stop.stderr).toContain("stopped notebook (jupyter-ab12cd34): it costs nothing until npm run start -- notebook or a deploy starts it again");
    const bad = await run(["stop", "--now"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("usage: npm run stop [-- <stack id>]");
  });
});
