import * as fs from "fs";
import * as path from "path";
import {
  api,
  jupyterKernelStatus,
  KERNEL_HINT,
  KernelChannels,
  openKernel,
  openTerminal,
  startKernel,
  startTerminal,
  until,
} from "./helpers/jupyter-client";
import { awsEnv, fakeEcs, FakeEcs, Notebook, startNotebook, stopNotebook, tempDir, waitUntilServing } from "./helpers/notebook-image";
import { describeWithTool } from "./helpers/tools";

// The notebook image's idle stop (notebook-image/notebook_idle.py) with the real Jupyter
// Server, real kernels and real terminals, driven over their websockets as JupyterLab does.
// The three notebooks run side by side: the file takes about as long as its slowest test.

const TOKEN = "idle-test-token-0123456789abcdef";
const IDLE_MINUTES = "0.1";
const LIMIT_MS = 6000;

const running = (nb: Notebook) => nb.child.exitCode === null && nb.child.signalCode === null;

/** Polls for `file` while failing at once, with the logs, should the notebook stop first. */
function fileWrittenWhileRunning(nb: Notebook, file: string, timeoutMs: number): Promise<void> {
  return until(
    `${path.basename(file)} to be written`,
    () => {
      if (!running(nb)) throw new Error(`the notebook stopped before ${path.basename(file)} was written:\n${nb.logs()}`);
      return fs.existsSync(file);
    },
    timeoutMs,
  );
}

/** pid -> parent pid of every process, from /proc. */
function parents(): Map<number, number> {
  const found = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      found.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

/** `pid` and all its descendants, parents first. */
function processTree(pid: number): number[] {
  const ppids = parents();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of ppids) if (parent === tree[i]) tree.push(child);
  return tree.filter((p) => ppids.has(p));
}

/** Whether `pid` is (still) a Jupyter server, not a process that has since taken its pid. */
function isServer(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("jupyter");
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ended meanwhile
  }
}

/**
 * Ends what is left of a notebook: the script (SIGTERM, forwarded to the server, which stops
 * its kernels and terminals), then, should the server have outlived it (stopNotebook kills
 * a script that does not end with SIGKILL, which orphans the server and keeps its output
 * pipe, and so jest, open), the server and what it started.
 */
async function cleanUp(nb: Notebook, serverPid: number | undefined): Promise<void> {
  await stopNotebook(nb);
  if (serverPid === undefined || !isServer(serverPid)) return;
  signal(serverPid, "SIGTERM");
  await until("the server to end", () => !isServer(serverPid), 10_000).catch(() => undefined);
  if (isServer(serverPid)) processTree(serverPid).forEach((pid) => signal(pid, "SIGKILL"));
}

/** Resolves with the script's exit code; fails (without killing anything) after `timeoutMs`. */
async function exitWithin(nb: Notebook, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the notebook did not stop within ${timeoutMs} ms:\n${nb.logs()}`)), timeoutMs);
  });
  try {
    return await Promise.race([nb.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The notebook ends by itself within `timeoutMs`, after one UpdateService to desired count 0. */
async function expectIdleStop(nb: Notebook, ecs: FakeEcs, timeoutMs: number): Promise<void> {
  expect(await exitWithin(nb, timeoutMs)).toBe(0);
  expect(nb.logs()).toContain("notebook_idle: stopping the server: idle for");
  expect(nb.logs()).toContain("the server stopped after being idle");
  expect(ecs.requests).toHaveLength(1);
  expect(JSON.parse(ecs.requests[0].body)).toMatchObject({ service: "jupyter-ab12cd34", desiredCount: 0 });
}

/**
 * The work started at `since` outlasts the limit twice over while the notebook keeps
 * running (it writes `done` at its end, with no ECS call before), and the notebook then
 * stops by itself.
 */
async function keepsRunningUntilDone(nb: Notebook, ecs: FakeEcs, done: string, since: number): Promise<void> {
  await fileWrittenWhileRunning(nb, done, 40_000);
  expect(Date.now() - since).toBeGreaterThan(2 * LIMIT_MS);
  expect(ecs.requests).toEqual([]);
  await expectIdleStop(nb, ecs, LIMIT_MS + 25_000);
}

/** Runs `code` in a new kernel, then closes the tab (the laptop closed); resolves with when. */
async function cellLeftRunning(nb: Notebook, code: string[]): Promise<{ closedAt: number; channels: KernelChannels }> {
  const channels = await openKernel(nb.port, TOKEN, await startKernel(nb.port, TOKEN));
  await channels.reply(channels.execute(code.join("\n")), "execute_input");
  await channels.close();
  return { closedAt: Date.now(), channels };
}

/** What a scenario opens and must close: a terminal socket, kernel channels. */
type Closable = { close(): unknown };

describeWithTool("idle stop with real kernels and terminals", "jupyter server with kernels", jupyterKernelStatus(), KERNEL_HINT, () => {
  const dirs: string[] = [];
  const notebooks: Array<{ nb: Notebook; serverPid?: number }> = [];
  const services: FakeEcs[] = [];
  afterAll(async () => {
    await Promise.all(notebooks.map(({ nb, serverPid }) => cleanUp(nb, serverPid)));
    await Promise.all(services.map((ecs) => ecs.close()));
    dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  });

  /** A notebook with a 6-second idle limit, serving; `end` (and afterAll, whatever happens) cleans it up. */
  async function idleNotebook(): Promise<{ nb: Notebook; ecs: FakeEcs; home: string; end: () => Promise<void> }> {
    const ecs = await fakeEcs();
    services.push(ecs);
    const home = tempDir("nb-idle-");
    dirs.push(home);
    const nb = await startNotebook(home, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: IDLE_MINUTES, ...awsEnv(ecs.port) });
    const started: { nb: Notebook; serverPid?: number } = { nb };
    notebooks.push(started);
    await waitUntilServing(nb, 60_000);
    // The server: the script's one child by now (see cleanUp).
    started.serverPid = [...parents()].find(([, parent]) => parent === nb.child.pid)?.[0];
    return { nb, ecs, home, end: () => cleanUp(nb, started.serverPid) };
  }

  /**
   * One scenario, run concurrently with the others on a notebook of its own: what `body`
   * opens with `keep` (terminals, kernel channels) is closed, and the notebook cleaned up,
   * however the scenario ends.
   */
  function scenario(name: string, body: (n: Awaited<ReturnType<typeof idleNotebook>> & { keep: <T extends Closable>(x: T) => T }) => Promise<void>): void {
    test.concurrent(
      name,
      async () => {
        const notebook = await idleNotebook();
        const opened: Closable[] = [];
        try {
          await body({ ...notebook, keep: (x) => (opened.push(x), x) });
        } finally {
          for (const x of opened) await x.close();
          await notebook.end();
        }
      },
      90_000,
    );
  }

  scenario(
    "a terminal job longer than the limit keeps the notebook up, with its tab open but silent; then the notebook stops",
    async ({ nb, ecs, home, keep }) => {
      const done = path.join(home, "terminal-job-done");
      // GIVEN a terminal tab, its shell ready
      const term = keep(await openTerminal(nb.port, TOKEN, await startTerminal(nb.port, TOKEN)));
      await until("the shell's prompt", () => term.output().length > 0, 20_000);
      // WHEN a job that outlasts the limit twice over starts, and the tab then stays silent
      const typedAt = Date.now();
      term.type(`sleep 14; echo done > ${done}\r`);
      // THEN the notebook keeps running and the job finishes
      await fileWrittenWhileRunning(nb, done, 40_000);
      expect(Date.now() - typedAt).toBeGreaterThan(2 * LIMIT_MS);
      expect(fs.readFileSync(done, "utf8")).toBe("done\n");
      expect(ecs.requests).toEqual([]);
      // AND once nothing runs any more, it stops by itself (the tab still open) and scales to 0
      await expectIdleStop(nb, ecs, LIMIT_MS + 25_000);
      expect(nb.logs()).toMatch(/terminal \w+ without a running process/);
    },
  );

  scenario("a kernel waiting in input() with no client connected lets the notebook stop", async ({ nb, ecs, keep }) => {
    // GIVEN a notebook tab whose cell waits for the user's input, a kernel Jupyter itself
    // counts as busy (what kept the notebook up forever)
    const kernelId = await startKernel(nb.port, TOKEN);
    const channels = keep(await openKernel(nb.port, TOKEN, kernelId));
    const state = async () => (await api(nb.port, TOKEN, "GET", `/api/kernels/${kernelId}`)).json.execution_state;
    // (Jupyter's watcher may miss a new kernel's first status messages: run empty cells
    // until it has seen one, so that it sees the cell below start as well)
    await until(
      "jupyter to see the kernel's status",
      async () => {
        await channels.reply(channels.execute("pass"), "execute_reply");
        return (await state()) === "idle";
      },
      20_000,
    );
    const request = channels.execute('answer = input("your name? ")', { allowStdin: true });
    await channels.reply(request, "input_request");
    await until("jupyter to see the kernel busy", async () => (await state()) === "busy", 20_000);
    // WHEN the tab goes away (the laptop closed) and nobody answers
    await channels.close();
    // THEN the notebook stops by itself soon after the limit, and scales to 0
    await expectIdleStop(nb, ecs, LIMIT_MS + 25_000);
    expect(nb.logs()).toMatch(/kernel \w+ \(busy\) without a client, cpu use or output/);
  });

  scenario("a computing kernel keeps the notebook up with no client connected; then the notebook stops", async ({ nb, ecs, home, keep }) => {
    const done = path.join(home, "cell-done");
    // GIVEN a cell that keeps a core busy for 16 s, then writes a file
    // WHEN its tab goes away
    const { closedAt, channels } = await cellLeftRunning(nb, [
      "import time",
      "start = time.time()",
      "while time.time() - start < 16:",
      "    pass",
      `open(${JSON.stringify(done)}, "w").write("done")`,
    ]);
    keep(channels);
    // THEN the notebook keeps running well past the limit, the cell finishes, and then it stops and scales to 0
    await keepsRunningUntilDone(nb, ecs, done, closedAt);
  });

  scenario("a job detached from its terminal (nohup ... &, then exit) keeps the notebook up until it ends", async ({ nb, ecs, home, keep }) => {
    const done = path.join(home, "detached-job-done");
    // GIVEN a job started with nohup in a terminal, whose shell then exits (the terminal closes)
    const term = keep(await openTerminal(nb.port, TOKEN, await startTerminal(nb.port, TOKEN)));
    await until("the shell's prompt", () => term.output().length > 0, 20_000);
    const typedAt = Date.now();
    term.type(`nohup sh -c 'sleep 14; echo done > ${done}' >/dev/null 2>&1 &\rexit\r`);
    // THEN the notebook keeps running until the job is done, and then stops by itself
    await keepsRunningUntilDone(nb, ecs, done, typedAt);
  });

  scenario("a program that replaced the terminal's shell (exec) keeps the notebook up until it ends", async ({ nb, ecs, keep }) => {
    // GIVEN `exec sleep 14` typed in a terminal, its tab then silent
    const term = keep(await openTerminal(nb.port, TOKEN, await startTerminal(nb.port, TOKEN)));
    await until("the shell's prompt", () => term.output().length > 0, 20_000);
    const typedAt = Date.now();
    term.type("exec sleep 14\r");
    // THEN the notebook is still up after twice the limit, and stops by itself after the program ended
    await exitWithin(nb, LIMIT_MS + 40_000);
    expect(Date.now() - typedAt).toBeGreaterThan(14_000);
    expect(ecs.requests).toHaveLength(1);
  });

  scenario("a cell that reads and writes data with little CPU (a download) keeps the notebook up with no client connected", async ({ nb, ecs, home, keep }) => {
    const done = path.join(home, "io-cell-done");
    // GIVEN a cell writing 64 KiB every 0.2 s for 16 s (about 320 KiB/s, a few % of a core at most)
    const data = path.join(home, "download.bin");
    // WHEN its tab goes away
    const { closedAt, channels } = await cellLeftRunning(nb, [
      "import os, time",
      "start = time.time()",
      `with open(${JSON.stringify(data)}, "wb") as f:`,
      "    while time.time() - start < 16:",
      "        f.write(os.urandom(65536)); f.flush(); time.sleep(0.2)",
      `open(${JSON.stringify(done)}, "w").write("done")`,
    ]);
    keep(channels);
    // THEN the notebook keeps running and the cell finishes; then it stops
    await keepsRunningUntilDone(nb, ecs, done, closedAt);
  });
});
