import * as fs from "fs";
import * as path from "path";
import { snapshot, stalledServer, waitFor } from "./helpers/git-server";
import {
  get,
  git,
  JUPYTER_HINT,
  jupyterStatus,
  makeRepository,
  Notebook,
  recordingServer,
  sleep,
  startNotebook,
  stopNotebook,
  tempDir,
  waitForExit,
  waitUntilServing,
} from "./helpers/notebook-image";
import { describeWithTool } from "./helpers/tools";

// The start script's git preload when the clone cannot finish: a server that never answers,
// a stop by ECS in the middle of a clone, and what a killed clone left in the work directory.
// Real script, real git, real Jupyter Server. The tests are independent: they run together.

const TOKEN = "test-token-0123456789abcdef";
const LEFTOVER = ".notebook-git-clone.Ab12Cd";

describeWithTool("git preload that cannot finish", "jupyter server", jupyterStatus(), JUPYTER_HINT, () => {
  const dirs: string[] = [];
  const home = () => {
    const dir = tempDir("nb-git-");
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  /** A home with a repository to clone and, in the work directory, its checkout with `.git` but no commit (a killed clone's). */
  const checkoutWithoutCommit = () => {
    const dir = home();
    const repo = makeRepository(dir, "team-analysis");
    const checkout = path.join(dir, "work", "team-analysis");
    fs.mkdirSync(checkout, { recursive: true });
    git(checkout, "init", "--quiet");
    return { dir, repo, checkout };
  };

  const workEntries = (dir: string) => fs.readdirSync(path.join(dir, "work")).sort();

  /** Starts a notebook whose repository is on a server that never answers, runs `fn`, cleans up. */
  async function withStalledClone(
    limitSeconds: string,
    fn: (nb: Notebook, stalled: Awaited<ReturnType<typeof stalledServer>>, dir: string) => Promise<void>,
  ): Promise<void> {
    const stalled = await stalledServer();
    let nb: Notebook | undefined;
    try {
      const dir = home();
      nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: stalled.url("analysis"), NOTEBOOK_GIT_TIMEOUT_SECONDS: limitSeconds });
      await fn(nb, stalled, dir);
    } finally {
      // The server first: a git still waiting on it (the fix broken) then fails and lets the script end.
      await stalled.close();
      await stopNotebook(nb);
    }
  }

  test.concurrent(
    "a clone from a server that never answers is abandoned after NOTEBOOK_GIT_TIMEOUT_SECONDS, and the server starts without it",
    () => {
      // GIVEN a repository on a server that accepts the connection and never answers
      const started = Date.now();
      return withStalledClone("3", async (nb, stalled, dir) => {
        // WHEN the limit of 3 seconds passes
        await waitUntilServing(nb, 20_000);
        // THEN the server answers, after the clone was tried and given up, with one clear line
        expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
        expect(stalled.accepted()).toBeGreaterThan(0);
        expect((await get(nb.port, "/api")).status).toBe(200);
        expect(nb.logs()).toContain("[start-notebook] git clone did not finish within 3 seconds; starting the server without the repository\n");
        // AND nothing half-made is left in the work directory
        expect(workEntries(dir)).toEqual([]);
      });
    },
    40_000,
  );

  test.concurrent(
    "SIGTERM in the middle of a clone ends the start within seconds, with status 0 and nothing half-made left",
    () =>
      // GIVEN a clone hanging on a server that never answers, with a long limit
      withStalledClone("600", async (nb, stalled, dir) => {
        await waitFor("git to connect", () => stalled.accepted() > 0, 15_000);
        // WHEN ECS stops the task
        const sent = Date.now();
        nb.child.kill("SIGTERM");
        // THEN the script ends well before ECS's SIGKILL (30 s), successfully
        const code = await waitForExit(nb, 10_000);
        const took = Date.now() - sent;
        expect(code).toBe(0);
        expect(took).toBeLessThan(5000);
        expect(nb.logs()).toContain("[start-notebook] received TERM before the server started: exiting");
        expect(nb.logs()).not.toContain("starting python3");
        // AND git was stopped too (no process left waiting on the server), leaving nothing behind
        await waitFor("git to close its connection", () => stalled.open() === 0, 3000);
        expect(workEntries(dir)).toEqual([]);
      }),
    40_000,
  );

  test.concurrent(
    "what a killed clone left (a checkout with only .git, a temporary clone) is removed and the repository cloned again",
    async () => {
      let nb: Notebook | undefined;
      try {
        // GIVEN the work directory after a clone was killed: an older script's in-place clone
        // (.git without a commit) and this script's temporary directory
        const { dir, repo, checkout } = checkoutWithoutCommit();
        const leftover = path.join(dir, "work", LEFTOVER, "team-analysis", ".git", "objects", "pack");
        fs.mkdirSync(leftover, { recursive: true });
        fs.writeFileSync(path.join(leftover, "tmp_pack_XyZ123"), "PACK half");
        // (left by a start killed ten minutes ago: older than the 90-second limit)
        const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
        fs.utimesSync(path.join(dir, "work", LEFTOVER), tenMinutesAgo, tenMinutesAgo);
        // AND a clone another notebook of the same user is making right now, on the shared home
        const other = path.join(dir, "work", ".notebook-git-clone.Zz99Yy", "team-analysis");
        fs.mkdirSync(other, { recursive: true });
        // WHEN the notebook starts again
        nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: repo });
        await waitUntilServing(nb);
        await stopNotebook(nb);
        // THEN the leftovers are gone, the other clone under way is kept, and the repository is a complete checkout
        expect(workEntries(dir).sort()).toEqual([".notebook-git-clone.Zz99Yy", "team-analysis"]);
        expect(fs.readFileSync(path.join(checkout, "README.md"), "utf8")).toBe("# team-analysis\n");
        expect(git(checkout, "log", "--format=%s")).toBe("first\n");
        expect(git(checkout, "status", "--porcelain")).toBe("");
        expect(nb.logs()).toContain("[start-notebook] removing 1 unfinished clone(s) left by an earlier start");
        expect(nb.logs()).toContain(`[start-notebook] ${checkout} holds only the .git of an unfinished clone: removing it and cloning again`);
        expect(nb.logs()).toContain(`[start-notebook] cloned into ${checkout}`);
      } finally {
        await stopNotebook(nb);
      }
    },
    40_000,
  );

  test.concurrent(
    "the git token goes to the repository's host only, not to a host the server redirects to",
    async () => {
      const GIT_TOKEN = "ghp_mustNotLeave0123456789";
      // GIVEN a repository server that redirects every request to another host (port), which asks for credentials
      const elsewhere = await recordingServer((_req, res) => {
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="elsewhere"' });
        res.end();
      });
      const repository = await recordingServer((req, res) => {
        res.writeHead(302, { Location: `http://localhost:${elsewhere.port}${req.url}` });
        res.end();
      });
      let nb: Notebook | undefined;
      try {
        // WHEN the notebook clones it with a token
        const dir = home();
        nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: `http://127.0.0.1:${repository.port}/acme/analysis.git`, NOTEBOOK_GIT_TOKEN: GIT_TOKEN });
        await waitUntilServing(nb);
        // THEN git did follow the redirect and was asked for credentials there, but sent none
        expect(elsewhere.requests.length).toBeGreaterThan(0);
        for (const request of elsewhere.requests) expect(request.headers.authorization ?? "").not.toContain(Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64"));
        expect(elsewhere.requests.every((r) => r.headers.authorization === undefined || !r.headers.authorization.startsWith("Basic eC1hY2Nlc3MtdG9rZW46"))).toBe(true);
        expect(nb.logs()).toContain("git clone failed; starting the server without the repository");
      } finally {
        await stopNotebook(nb);
        await repository.close();
        await elsewhere.close();
      }
    },
    40_000,
  );

  test.concurrent(
    "a directory with .git but no commit that also holds user files is kept untouched, and logged",
    async () => {
      let nb: Notebook | undefined;
      try {
        // GIVEN a checkout without a valid HEAD in which the user has been working
        const { dir, repo, checkout } = checkoutWithoutCommit();
        fs.mkdirSync(path.join(checkout, "data"));
        fs.writeFileSync(path.join(checkout, "notes.ipynb"), '{"cells": []}');
        fs.writeFileSync(path.join(checkout, "data", "sales.csv"), "month,total\n");
        const before = snapshot(checkout);
        // WHEN the notebook starts
        nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: repo });
        await waitUntilServing(nb);
        await stopNotebook(nb);
        // THEN every file is as it was, and the log says why nothing was cloned
        expect(snapshot(checkout)).toEqual(before);
        expect(workEntries(dir)).toEqual(["team-analysis"]);
        expect(nb.logs()).toContain(
          `[start-notebook] ${checkout} has no valid HEAD but holds other files than .git: keeping it untouched, not cloning`,
        );
      } finally {
        await stopNotebook(nb);
      }
    },
    40_000,
  );

  test.concurrent.each(["0", "0.0", "-5", "ten", "1e3"])("refuses NOTEBOOK_GIT_TIMEOUT_SECONDS=%p with one clear line", async (value) => {
    // GIVEN a limit that is not a number of seconds above 0
    const nb = await startNotebook(home(), { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_TIMEOUT_SECONDS: value });
    try {
      // THEN the script stops before cloning or serving anything
      expect(await Promise.race([nb.exited, sleep(10_000).then(() => "still running")])).toBe(64);
      expect(nb.logs()).toBe(
        `[start-notebook] NOTEBOOK_GIT_TIMEOUT_SECONDS must be a number of seconds greater than 0, got '${value}'\n`,
      );
    } finally {
      // Had it started a server: stopped through the script, which forwards the signal.
      await stopNotebook(nb);
    }
  });
});
