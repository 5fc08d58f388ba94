import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ToolStatus } from "./tools";

/** Runs notebook-image/start-notebook.sh (the folder's own files) with the real Jupyter Server. */

export const IMAGE_DIR = path.resolve(__dirname, "..", "..", "notebook-image");
export const START_SCRIPT = path.join(IMAGE_DIR, "start-notebook.sh");
export const JUPYTER_HINT = "install Debian's python3-jupyter-server and python3-boto3 (apt-get install python3-jupyter-server python3-boto3)";

let python: string | undefined;
let pythonStatus: ToolStatus | undefined;

/** A python3 that has Jupyter Server and boto3 (Debian's /usr/bin/python3 before any other). */
export function jupyterStatus(): ToolStatus {
  if (pythonStatus) return pythonStatus;
  for (const candidate of ["/usr/bin/python3", "python3"]) {
    const run = spawnSync(candidate, ["-c", "import jupyter_server, boto3, sys; print(sys.executable)"], { encoding: "utf8" });
    if (run.status === 0) {
      python = run.stdout.trim();
      return (pythonStatus = { available: true });
    }
  }
  return (pythonStatus = { available: false, problem: "no python3 with jupyter_server and boto3 was found" });
}

/** The python3 jupyterStatus() found, when it found one. */
export function jupyterPython(): string | undefined {
  jupyterStatus();
  return python;
}

export function shellcheckStatus(): ToolStatus {
  const run = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
  return run.status === 0 ? { available: true } : { available: false, problem: "shellcheck was not found on PATH" };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface Notebook {
  port: number;
  child: ChildProcess;
  /** Everything the script and the server printed so far. */
  logs(): string;
  /** Resolves with the exit code (or the signal's name) once the script has ended. */
  exited: Promise<number | string>;
}

/** Starts the start script in `home` (work directory `home/work`), with `env` on top. */
export async function startNotebook(home: string, env: Record<string, string>): Promise<Notebook> {
  if (!python) throw new Error("jupyterStatus() must find a python first");
  const port = await freePort();
  let output = "";
  const child = spawn("bash", [START_SCRIPT], {
    cwd: home,
    env: {
      // `python3` must be the one with Jupyter Server: its directory goes first.
      PATH: `${path.dirname(python)}:${process.env.PATH}`,
      HOME: home,
      LANG: "C.UTF-8",
      NO_PROXY: "127.0.0.1,localhost",
      NOTEBOOK_PORT: String(port),
      NOTEBOOK_WORK_DIR: path.join(home, "work"),
      // The image runs as jovyan; these tests may run as root.
      ...(process.getuid?.() === 0 ? { NOTEBOOK_ALLOW_ROOT: "1" } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return { port, child, logs: () => output, exited };
}

export interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: urlPath, headers }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.setTimeout(5000, () => req.destroy(new Error("timeout")));
  });
}

/** Polls /api until it answers 200; fails with the logs when the script ends first or time runs out. */
export async function waitUntilServing(nb: Notebook, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  nb.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) throw new Error(`the start script ended before serving:\n${nb.logs()}`);
    try {
      if ((await get(nb.port, "/api")).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`the server did not answer /api within ${timeoutMs} ms:\n${nb.logs()}`);
}

/** Resolves with the exit code, or rejects after `timeoutMs` (and kills the script). */
export async function waitForExit(nb: Notebook, timeoutMs = 30_000): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      nb.child.kill("SIGKILL");
      reject(new Error(`the start script did not end within ${timeoutMs} ms:\n${nb.logs()}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([nb.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function stopNotebook(nb: Notebook | undefined): Promise<void> {
  if (!nb || nb.child.exitCode !== null || nb.child.signalCode !== null) return;
  nb.child.kill("SIGTERM");
  await waitForExit(nb, 15_000).catch(() => undefined);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function git(cwd: string, ...args: string[]): string {
  const run = spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}

/** A bare repository `<dir>/<name>.git` with one commit holding README.md. */
export function makeRepository(dir: string, name: string): string {
  const source = path.join(dir, `${name}-source`);
  fs.mkdirSync(source);
  git(source, "init", "--quiet");
  fs.writeFileSync(path.join(source, "README.md"), `# ${name}\n`);
  git(source, "add", "README.md");
  git(source, "commit", "--quiet", "-m", "first");
  const bare = path.join(dir, `${name}.git`);
  git(dir, "clone", "--quiet", "--bare", source, bare);
  git(bare, "update-server-info"); // for git's dumb HTTP protocol
  return bare;
}

/** One recorded HTTP request. */
export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP server on 127.0.0.1 that records requests and answers with `handler`. */
export async function recordingServer(
  handler: (req: Recorded, res: http.ServerResponse) => void,
): Promise<{ port: number; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The target header of ECS's UpdateService call. */
export const ECS_UPDATE_SERVICE = "AmazonEC2ContainerServiceV20141113.UpdateService";

/** A stand-in for the ECS API on 127.0.0.1: records calls, answers UpdateService. */
export async function fakeEcs() {
  return recordingServer((req, res) => {
    res.setHeader("Content-Type", "application/x-amz-json-1.1");
    const body = req.body ? JSON.parse(req.body) : {};
    res.end(JSON.stringify({ service: { serviceName: body.service, clusterArn: body.cluster, desiredCount: body.desiredCount } }));
  });
}

/** Runs `fn` with a stand-in for ECS that is closed afterwards, whatever happens. */
export async function withFakeEcs(fn: (ecs: FakeEcs) => Promise<void>): Promise<void> {
  const ecs = await fakeEcs();
  try {
    await fn(ecs);
  } finally {
    await ecs.close();
  }
}
export type FakeEcs = Awaited<ReturnType<typeof fakeEcs>>;

/** The environment the stack gives the container, pointing boto3's ECS calls at a stand-in. */
export const awsEnv = (ecsPort: number) => ({
  AWS_ENDPOINT_URL_ECS: `http://127.0.0.1:${ecsPort}`,
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "secret-example",
  // What the stack sets: AWS_DEFAULT_REGION (ECS adds AWS_REGION on Fargate too).
  AWS_DEFAULT_REGION: "eu-west-1",
  AWS_EC2_METADATA_DISABLED: "true",
  NOTEBOOK_ECS_CLUSTER: "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science",
  NOTEBOOK_ECS_SERVICE: "jupyter-ab12cd34",
});
