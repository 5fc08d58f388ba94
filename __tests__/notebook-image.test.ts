import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  awsEnv,
  ECS_UPDATE_SERVICE,
  fakeEcs,
  FakeEcs,
  withFakeEcs,
  get,
  IMAGE_DIR,
  JUPYTER_HINT,
  jupyterStatus,
  makeRepository,
  Notebook,
  recordingServer,
  shellcheckStatus,
  sleep,
  startNotebook,
  stopNotebook,
  tempDir,
  waitForExit,
  waitUntilServing,
} from "./helpers/notebook-image";
import { describeWithTool } from "./helpers/tools";

// notebook-image/start-notebook.sh and its config, run with the real Jupyter Server
// (Debian's python3-jupyter-server) and real boto3 talking to a stand-in for ECS.

const TOKEN = "test-token-0123456789abcdef";

describeWithTool("notebook image start script", "jupyter server", jupyterStatus(), JUPYTER_HINT, () => {
  const dirs: string[] = [];
  const home = () => {
    const dir = tempDir("nb-image-");
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  describe("a running notebook", () => {
    let nb: Notebook;
    let ecs: FakeEcs;
    beforeAll(async () => {
      ecs = await fakeEcs();
      // A Jupyter config of the user's own (as the image has /etc/jupyter's): it must still apply.
      const dir = home();
      fs.mkdirSync(path.join(dir, ".jupyter"));
      fs.writeFileSync(path.join(dir, ".jupyter", "jupyter_server_config.py"), 'c.ServerApp.tornado_settings = {"headers": {"X-Base-Config": "loaded"}}\n');
      nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "60", ...awsEnv(ecs.port) });
      await waitUntilServing(nb);
    }, 40_000);
    afterAll(async () => {
      await stopNotebook(nb);
      await ecs.close();
    });

    test("answers /api with 200 without a token (the load balancer's health check)", async () => {
      const reply = await get(nb.port, "/api");
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.body)).toHaveProperty("version");
    });

    test("loads the image's configuration besides the existing one, not instead of it", async () => {
      expect(nb.logs()).toContain("notebook_idle: stopping after 3600 idle seconds");
      expect((await get(nb.port, "/api")).headers["x-base-config"]).toBe("loaded");
    });

    test("refuses a protected endpoint without the token", async () => {
      expect((await get(nb.port, "/api/contents")).status).toBe(403);
      expect((await get(nb.port, "/api/contents", { Authorization: "token wrong-token-0123456789" })).status).toBe(403);
    });

    test("serves it with the token from JUPYTER_TOKEN, in a header or in the URL", async () => {
      expect((await get(nb.port, "/api/contents", { Authorization: `token ${TOKEN}` })).status).toBe(200);
      expect((await get(nb.port, `/api/contents?token=${TOKEN}`)).status).toBe(200);
    });

    test("never shows the token in its logs or on its command line", () => {
      expect(nb.logs()).not.toContain(TOKEN);
      const cmdlines = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
      expect(cmdlines).toContain("jupyter");
      expect(cmdlines).not.toContain(TOKEN);
    });

    test("SIGTERM (ECS stopping the task) ends the server normally and scales nothing down", async () => {
      nb.child.kill("SIGTERM");
      expect(await waitForExit(nb)).toBe(0);
      expect(nb.logs()).toContain("received TERM: stopping the server");
      expect(ecs.requests).toEqual([]);
    });
  });

  test("refuses to start without JUPYTER_TOKEN, with one clear message", async () => {
    const nb = await startNotebook(home(), { JUPYTER_TOKEN: "" });
    expect(await waitForExit(nb)).not.toBe(0);
    expect(nb.logs().trim()).toBe("[start-notebook] JUPYTER_TOKEN is empty: refusing to start a server that nobody could reach through the notebook URL");
  });

  describe("git preload", () => {
    test("clones NOTEBOOK_GIT_REPOSITORY into the work directory, and keeps the checkout on restart", async () => {
      const dir = home();
      const repo = makeRepository(dir, "team-analysis");
      // GIVEN a first start with the repository configured
      const first = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: repo });
      await waitUntilServing(first);
      // THEN the checkout is in the work directory, and Jupyter serves it
      const checkout = path.join(dir, "work", "team-analysis");
      expect(fs.readFileSync(path.join(checkout, "README.md"), "utf8")).toBe("# team-analysis\n");
      const listing = await get(first.port, "/api/contents/team-analysis", { Authorization: `token ${TOKEN}` });
      expect(JSON.parse(listing.body).content.map((f: { name: string }) => f.name)).toContain("README.md");
      await stopNotebook(first);

      // WHEN the user's work changes the checkout and the notebook restarts
      fs.writeFileSync(path.join(checkout, "README.md"), "# edited, not committed\n");
      fs.writeFileSync(path.join(checkout, "notes.ipynb"), "{}");
      const second = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: repo });
      await waitUntilServing(second);
      await stopNotebook(second);
      // THEN the checkout is kept as it was
      expect(second.logs()).toContain(`keeping the existing checkout in ${checkout}`);
      expect(fs.readFileSync(path.join(checkout, "README.md"), "utf8")).toBe("# edited, not committed\n");
      expect(fs.existsSync(path.join(checkout, "notes.ipynb"))).toBe(true);
    }, 60_000);

    describe("a private repository over HTTPS-style basic auth", () => {
      const GIT_TOKEN = "ghp_privateRepoToken0123456789";
      let server: Awaited<ReturnType<typeof recordingServer>>;
      let repoRoot: string;
      beforeAll(async () => {
        repoRoot = home();
        makeRepository(repoRoot, "private-models");
        const expected = `Basic ${Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64")}`;
        // git's dumb HTTP protocol: static files, behind basic auth.
        server = await recordingServer((req, res) => {
          if (req.headers.authorization !== expected) {
            res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' });
            res.end();
            return;
          }
          const file = path.join(repoRoot, decodeURIComponent(req.url.split("?")[0]));
          if (!file.startsWith(repoRoot) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
            res.writeHead(404);
            res.end();
            return;
          }
          res.end(fs.readFileSync(file));
        });
      });
      afterAll(() => server.close());

      test("is cloned with the token, which stays out of the logs and .git/config", async () => {
        const dir = home();
        const url = `http://127.0.0.1:${server.port}/private-models.git`;
        const nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: url, NOTEBOOK_GIT_TOKEN: GIT_TOKEN });
        await waitUntilServing(nb);
        await stopNotebook(nb);
        const checkout = path.join(dir, "work", "private-models");
        expect(fs.readFileSync(path.join(checkout, "README.md"), "utf8")).toBe("# private-models\n");
        const config = fs.readFileSync(path.join(checkout, ".git", "config"), "utf8");
        expect(config).toContain(`url = ${url}`);
        expect(config).not.toContain(GIT_TOKEN);
        expect(nb.logs()).not.toContain(GIT_TOKEN);
        expect(nb.logs()).not.toContain(Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64"));
      }, 40_000);

      test("a failed clone (no token) is logged and the server still starts", async () => {
        const dir = home();
        const url = `http://127.0.0.1:${server.port}/private-models.git`;
        const nb = await startNotebook(dir, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_GIT_REPOSITORY: url });
        await waitUntilServing(nb);
        expect((await get(nb.port, "/api/contents", { Authorization: `token ${TOKEN}` })).status).toBe(200);
        await stopNotebook(nb);
        expect(nb.logs()).toContain("git clone failed; starting the server without the repository");
        expect(fs.existsSync(path.join(dir, "work", "private-models"))).toBe(false);
      }, 40_000);
    });
  });

  test(
    "idle: the server stops itself and sets its ECS service's desired count to 0",
    () =>
      withFakeEcs(async (ecs) => {
        // GIVEN a notebook with a 3-second idle timeout (0.05 minutes, the same variable)
        const nb = await startNotebook(home(), { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "0.05", ...awsEnv(ecs.port) });
        await waitUntilServing(nb);
        // WHEN nobody uses it, while the load balancer keeps checking /api
        const checks = (async () => {
          while (nb.child.exitCode === null) {
            await get(nb.port, "/api").catch(() => undefined);
            await sleep(500);
          }
        })();
        // THEN it ends by itself, successfully, after one UpdateService call
        expect(await waitForExit(nb, 30_000)).toBe(0);
        await checks;
        expect(nb.logs()).toContain("the server stopped after being idle");
        expect(ecs.requests).toHaveLength(1);
        const [call] = ecs.requests;
        expect(call.method).toBe("POST");
        expect(call.headers["x-amz-target"]).toBe(ECS_UPDATE_SERVICE);
        expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ecs\/aws4_request/);
        expect(JSON.parse(call.body)).toEqual({
          cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science",
          service: "jupyter-ab12cd34",
          desiredCount: 0,
        });
      }),
    60_000,
  );

  test(
    "idle stop disabled (0): the server keeps running past a short interval",
    () =>
      withFakeEcs(async (ecs) => {
        const nb = await startNotebook(home(), { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "0", ...awsEnv(ecs.port) });
        await waitUntilServing(nb);
        await sleep(4000);
        expect(nb.child.exitCode).toBeNull();
        await stopNotebook(nb);
        expect(ecs.requests).toEqual([]);
      }),
    40_000,
  );
});

describeWithTool("shell scripts", "shellcheck", shellcheckStatus(), "install shellcheck (apt-get install shellcheck)", () => {
  const root = path.resolve(__dirname, "..");
  const scripts = [
    ...fs
      .readdirSync(IMAGE_DIR)
      .filter((f) => f.endsWith(".sh"))
      .map((f) => path.join(IMAGE_DIR, f)),
    path.join(root, ".ci", "run"),
  ];

  test("there are scripts to check", () => {
    expect(scripts.map((s) => path.basename(s))).toEqual(expect.arrayContaining(["start-notebook.sh", "git-askpass.sh", "run"]));
  });

  test.each(scripts.map((s) => [path.relative(root, s)]))("shellcheck passes on %s", (script) => {
    const run = spawnSync("shellcheck", ["--severity=style", path.join(root, script)], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
