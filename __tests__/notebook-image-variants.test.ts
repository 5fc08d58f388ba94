import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { NEURON_IMAGE, NEURON_IMAGE_TAG, NEURON_START_COMMAND, NEURON_START_SCRIPT, NVIDIA_IMAGE, NVIDIA_TAG_PREFIX } from "../modules/accelerators/images";
import { NOTEBOOK_PORT } from "../modules/notebook/constants";
import { NOTEBOOK_GID, NOTEBOOK_UID, WORK_DIR } from "../modules/notebook/persistent-home";
import { api, jupyterKernelStatus, KERNEL_HINT, openTerminal, startTerminal, until } from "./helpers/jupyter-client";
import {
  awsEnv,
  ECS_UPDATE_SERVICE,
  fakeEcs,
  FakeEcs,
  withFakeEcs,
  freePort,
  get,
  git,
  IMAGE_DIR,
  JUPYTER_HINT,
  jupyterPython,
  jupyterStatus,
  makeRepository,
  Notebook,
  shellcheckStatus,
  sleep,
  START_SCRIPT,
  stopNotebook,
  tempDir,
  waitForExit,
  waitUntilServing,
} from "./helpers/notebook-image";
import { copiedFiles, dlcEntrypoint, DockerStage, jupyterLabShim, processOwners, readDockerfile, startProcess } from "./helpers/notebook-variants";
import { describeWithTool } from "./helpers/tools";

// The notebook image's variants for accelerated notebooks (issue 11): the CUDA build of
// notebook-image/Dockerfile, notebook-image/Dockerfile.neuron, and the command the default Neuron
// image runs (modules/accelerators/images.ts). No Docker engine here: the Dockerfiles are read,
// not built, and what they run is run with Debian's Jupyter Server.

const TOKEN = "variant-token-0123456789abcdef";
const README = fs.readFileSync(path.join(IMAGE_DIR, "README.md"), "utf8");
const DOCKERFILE = fs.readFileSync(path.join(IMAGE_DIR, "Dockerfile"), "utf8");
const NEURON_DOCKERFILE = fs.readFileSync(path.join(IMAGE_DIR, "Dockerfile.neuron"), "utf8");
/** Where both Dockerfiles put this folder's files. */
const IMAGE_FILES_DIR = "/usr/local/bin/notebook-image";

/** The `docker build` command of README.md whose text contains `marker`, as one line. */
function readmeBuild(marker: string): string {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].replace(/\\\n\s*/g, " "));
  const line = blocks.flatMap((b) => b.split("\n")).find((l) => l.includes("docker build") && l.includes(marker));
  if (!line) throw new Error(`README.md has no docker build command with ${marker}`);
  return line;
}

/** `--build-arg NAME=value` pairs of a command line. */
function buildArgs(command: string): Record<string, string> {
  return Object.fromEntries([...command.matchAll(/--build-arg\s+([A-Z_]+)=(\S+)/g)].map((m) => [m[1], m[2].replace(/^"|"$/g, "")]));
}

/** The image's files the start script reads from its own folder (`$here/<file>`), and its config and extension. */
function filesTheStartScriptNeeds(): string[] {
  const script = fs.readFileSync(START_SCRIPT, "utf8");
  const config = fs.readFileSync(path.join(IMAGE_DIR, "jupyter_server_config.py"), "utf8");
  const here = [...script.matchAll(/\$here\/([A-Za-z0-9_.-]+)/g)].map((m) => m[1]);
  const extensions = [...config.matchAll(/jpserver_extensions\s*=\s*\{\s*"([a-z_]+)"/g)].map((m) => `${m[1]}.py`);
  return [...new Set(["start-notebook.sh", "jupyter_server_config.py", ...here, ...extensions])].sort();
}

describe("the CUDA variant: notebook-image/Dockerfile on the CUDA pytorch-notebook", () => {
  test("README.md's CUDA build starts from the NVIDIA default image, with its cuda12- tag", () => {
    // GIVEN the build args README.md documents
    const command = readmeBuild("cuda12-");
    const stage = readDockerfile(DOCKERFILE, buildArgs(command));
    expect(buildArgs(command)).toEqual({ BASE_FLAVOUR: "pytorch-notebook", BASE_TAG: expect.stringMatching(/^cuda12-\d{4}-\d{2}-\d{2}$/) });
    // THEN the FROM is the repository the stack pulls for nvidia, with its tag prefix
    const date = buildArgs(command).BASE_TAG.slice(NVIDIA_TAG_PREFIX.length);
    expect(stage.from).toBe(`${NVIDIA_IMAGE}:${NVIDIA_TAG_PREFIX}${date}`);
    // CUDA builds of the Jupyter Docker Stacks are published for x86_64 only
    expect(command).toContain("--platform linux/amd64");
  });

  test("nothing else in the Dockerfile depends on the flavour: one stage, and only the variables every Jupyter Docker Stacks image sets", () => {
    const stage = readDockerfile(DOCKERFILE, { BASE_FLAVOUR: "pytorch-notebook", BASE_TAG: `${NVIDIA_TAG_PREFIX}2026-05-31` });
    expect(stage.stages).toBe(1);
    expect(stage.unresolved).toEqual(["NB_UID", "NB_USER"]);
    expect(stage.entrypoint).toEqual(["tini", "--", "start.sh"]);
    expect(stage.cmd).toEqual([`${IMAGE_FILES_DIR}/start-notebook.sh`]);
  });
});

describe("the Neuron variant: notebook-image/Dockerfile.neuron, read", () => {
  const stage = readDockerfile(NEURON_DOCKERFILE);
  const home = stage.env.HOME;
  const pipInstalls = stage.runs.filter((r) => /\bpip3? install\b/.test(r)).join("\n");

  test("starts from the image a neuron notebook runs by default (images.ts)", () => {
    expect(stage.stages).toBe(1);
    expect(stage.from).toBe(`${NEURON_IMAGE}:${NEURON_IMAGE_TAG}`);
    // and another base is a build arg away
    expect(readDockerfile(NEURON_DOCKERFILE, { NEURON_BASE_IMAGE: "example.com/dlc:1" }).from).toBe("example.com/dlc:1");
  });

  test("installs JupyterLab 4 and boto3 with pip", () => {
    expect(pipInstalls).toContain("'jupyterlab>=4,<5'");
    expect(pipInstalls).toMatch(/'boto3[><=]/);
  });

  test("copies every file the start script needs, to the same place and with the same modes as the Jupyter Docker Stacks variant", () => {
    const neuron = copiedFiles(stage);
    expect(neuron).toEqual(copiedFiles(readDockerfile(DOCKERFILE)));
    const names = [...neuron.keys()].map((target) => path.posix.basename(target));
    expect(names).toEqual(expect.arrayContaining(filesTheStartScriptNeeds()));
    // every file of the folder but the Dockerfiles and the README
    const folder = fs.readdirSync(IMAGE_DIR).filter((f) => !/^Dockerfile|^README/.test(f));
    expect([...names].sort()).toEqual(folder.sort());
    expect([...neuron.values()].every(({ source }) => fs.existsSync(path.join(IMAGE_DIR, source)))).toBe(true);
    expect(neuron.get(`${IMAGE_FILES_DIR}/start-notebook.sh`)?.chmod).toBe("0755");
    expect(neuron.get(`${IMAGE_FILES_DIR}/git-askpass.sh`)?.chmod).toBe("0755");
  });

  test("runs the start script under tini, not the DLC's entrypoint, and drops the DLC's health check", () => {
    expect(stage.entrypoint).toEqual(["tini", "--"]);
    expect(stage.cmd).toEqual([`${IMAGE_FILES_DIR}/start-notebook.sh`]);
    expect(stage.runs.some((r) => /apt-get install\b.*\btini\b/.test(r))).toBe(true);
    expect(stage.healthcheck).toBe("NONE");
  });

  test("runs as the EFS access point's user (persistent-home.ts), whose home's work/ is the EFS mount point", () => {
    // GIVEN the user the image creates and runs as
    const useradd = stage.runs.find((r) => r.includes("useradd"));
    expect(useradd).toContain(`--uid "${NOTEBOOK_UID}"`);
    expect(useradd).toContain(`--gid "${NOTEBOOK_GID}"`);
    expect(useradd).toContain(`--home-dir "${home}"`);
    expect(stage.user).toBe(String(NOTEBOOK_UID));
    expect(stage.workdir).toBe(home);
    // THEN the start script's work directory (NOTEBOOK_WORK_DIR, else $HOME/work) is the mount point
    expect(stage.env.NOTEBOOK_WORK_DIR ?? `${home}/work`).toBe(WORK_DIR);
    // and Jupyter is never allowed to run as root there
    expect(stage.env.NOTEBOOK_ALLOW_ROOT).toBeUndefined();
    // Jupyter's terminals run $SHELL (else sh)
    expect(stage.env.SHELL).toBe("/bin/bash");
  });

  test("README.md builds it with -f Dockerfile.neuron", () => {
    expect(readmeBuild("Dockerfile.neuron")).toMatch(/docker build --platform linux\/amd64 -f notebook-image\/Dockerfile\.neuron .* notebook-image$/);
  });
});

/** The image's paths in the test's directories: the home, and this folder for the copied files. */
function mapPath(value: string, homeInImage: string, home: string): string {
  return value.split(IMAGE_FILES_DIR).join(IMAGE_DIR).split(homeInImage).join(home);
}

/** As root, the tests run the image's processes as its user; otherwise as the test's own (not root either). */
const asImageUser = process.getuid?.() === 0;
const expectedUid = asImageUser ? NOTEBOOK_UID : process.getuid!();
const expectedGid = asImageUser ? NOTEBOOK_GID : process.getgid!();

describeWithTool("the Neuron variant: Dockerfile.neuron's command, run as its user", "jupyter server", jupyterStatus(), JUPYTER_HINT, () => {
  const stage: DockerStage = readDockerfile(NEURON_DOCKERFILE);
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /**
   * Runs the image's command (its CMD: what tini starts and signals) as its user, with its ENV
   * and WORKDIR, `home` standing for /home/jovyan and this folder for the copied files.
   * PATH: the jupyter-lab stand-in (JupyterLab runs Jupyter Server) and Debian's python (the
   * DLC's has JupyterLab and boto3). NOTEBOOK_PORT: a free port (the image's default is 8888).
   */
  async function startImage(home: string, env: Record<string, string>): Promise<Notebook> {
    const homeInImage = stage.env.HOME;
    const port = await freePort();
    const shim = jupyterLabShim(path.dirname(home));
    fs.mkdirSync(home, { recursive: true });
    if (asImageUser) spawnSync("chown", ["-R", `${NOTEBOOK_UID}:${NOTEBOOK_GID}`, home]);
    const imageEnv = Object.fromEntries(Object.entries(stage.env).map(([k, v]) => [k, mapPath(v, homeInImage, home)]));
    return startProcess([...stage.cmd!.map((a) => mapPath(a, homeInImage, home))], {
      cwd: mapPath(stage.workdir!, homeInImage, home),
      env: {
        PATH: `${shim}:${path.dirname(jupyterPython()!)}:${process.env.PATH}`,
        LANG: "C.UTF-8",
        NO_PROXY: "127.0.0.1,localhost",
        ...imageEnv,
        NOTEBOOK_PORT: String(port),
        ...env,
      },
      port,
      ...(asImageUser ? { uid: NOTEBOOK_UID, gid: NOTEBOOK_GID } : {}),
    });
  }

  /** A directory that the image's user can enter, holding `home` (and the jupyter-lab stand-in). */
  function root(): { dir: string; home: string } {
    const dir = tempDir("nb-neuron-");
    dirs.push(dir);
    fs.chmodSync(dir, 0o755);
    return { dir, home: path.join(dir, "home", "jovyan") };
  }

  describe("a running notebook, with a repository to preload", () => {
    let nb: Notebook;
    let ecs: FakeEcs;
    let home: string;
    beforeAll(async () => {
      ecs = await fakeEcs();
      home = root().home;
      fs.mkdirSync(home, { recursive: true });
      const repo = makeRepository(home, "team-analysis");
      nb = await startImage(home, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "60", NOTEBOOK_GIT_REPOSITORY: repo, ...awsEnv(ecs.port) });
      await waitUntilServing(nb);
    }, 40_000);
    afterAll(async () => {
      await stopNotebook(nb);
      await ecs.close();
    });

    test("runs JupyterLab's command (here the stand-in), as the image's user, never with allow_root", () => {
      expect(nb.logs()).toContain("[start-notebook] starting jupyter-lab on port");
      const servers = processOwners("jupyter_server").filter((p) => p.args.includes(`--ServerApp.port=${nb.port}`));
      expect(servers).toHaveLength(1);
      expect(servers[0]).toMatchObject({ uid: expectedUid, gid: expectedGid });
      expect(servers[0].args).not.toContain("allow_root");
    });

    test("answers /api without the token, and a protected endpoint only with JUPYTER_TOKEN", async () => {
      expect((await get(nb.port, "/api")).status).toBe(200);
      expect((await get(nb.port, "/api/contents")).status).toBe(403);
      expect((await get(nb.port, "/api/contents", { Authorization: `token ${TOKEN}` })).status).toBe(200);
    });

    test("keeps the token off every command line and out of the log", () => {
      expect(nb.logs()).not.toContain(TOKEN);
      expect(spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout).not.toContain(TOKEN);
    });

    test("preloads the repository into $HOME/work, the EFS home's mount point", async () => {
      const listing = await api(nb.port, TOKEN, "GET", "/api/contents/team-analysis");
      expect(listing.status).toBe(200);
      expect(listing.json.content.map((f: { name: string }) => f.name)).toContain("README.md");
      expect(fs.existsSync(path.join(home, "work", "team-analysis", ".git"))).toBe(true);
    });

    test("writes the user's files as the access point's uid and gid would, and deletes them for good, as the other variants do", async () => {
      expect((await api(nb.port, TOKEN, "PUT", "/api/contents/notes.txt", { type: "file", format: "text", content: "hi" })).status).toBe(201);
      const file = path.join(home, "work", "notes.txt");
      expect(fs.statSync(file)).toMatchObject({ uid: expectedUid, gid: expectedGid });
      expect((await api(nb.port, TOKEN, "DELETE", "/api/contents/notes.txt")).status).toBe(204);
      expect(fs.existsSync(file)).toBe(false);
      // The Jupyter Docker Stacks' own /etc/jupyter config turns the trash off; this image has only the folder's config.
      expect(fs.existsSync(path.join(home, ".local", "share", "Trash"))).toBe(false);
      expect(fs.readdirSync(path.join(home, "work")).filter((f) => f.startsWith(".Trash"))).toEqual([]);
    });

    describeWithTool("a terminal", "jupyter kernels and terminals", jupyterKernelStatus(), KERNEL_HINT, () => {
      test("is bash, as the image's user, and git works in the preloaded checkout", async () => {
        const name = await startTerminal(nb.port, TOKEN);
        const terminal = await openTerminal(nb.port, TOKEN, name);
        try {
          terminal.type('echo "uid=$(id -u) gid=$(id -g) bash=${BASH_VERSION:+yes}"; git -C "$HOME/work/team-analysis" status --porcelain; echo "git=$?"\r');
          await until("the terminal's answer", () => /git=\d/.test(terminal.output()), 15_000);
          expect(terminal.output()).toContain(`uid=${expectedUid} gid=${expectedGid} bash=yes`);
          expect(terminal.output()).toContain("git=0");
          expect(terminal.output()).not.toContain("dubious ownership");
        } finally {
          await terminal.close();
          await api(nb.port, TOKEN, "DELETE", `/api/terminals/${name}`);
        }
      }, 30_000);
    });

    test("SIGTERM (what tini passes on from ECS) ends the server normally and scales nothing down", async () => {
      nb.child.kill("SIGTERM");
      expect(await waitForExit(nb)).toBe(0);
      expect(nb.logs()).toContain("received TERM: stopping the server");
      expect(ecs.requests).toEqual([]);
    });
  });

  test(
    "idle: the server stops itself and sets its ECS service's desired count to 0",
    () =>
      withFakeEcs(async (ecs) => {
        // GIVEN the image's command with a 3-second idle timeout (0.05 minutes)
        const nb = await startImage(root().home, { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "0.05", ...awsEnv(ecs.port) });
        await waitUntilServing(nb);
        // WHEN only the load balancer's health checks come
        const checks = (async () => {
          while (nb.child.exitCode === null) {
            await get(nb.port, "/api").catch(() => undefined);
            await sleep(500);
          }
        })();
        // THEN it ends by itself, successfully, after one UpdateService call for its service
        expect(await waitForExit(nb, 30_000)).toBe(0);
        await checks;
        expect(nb.logs()).toContain("the server stopped after being idle");
        expect(ecs.requests).toHaveLength(1);
        expect(ecs.requests[0].headers["x-amz-target"]).toBe(ECS_UPDATE_SERVICE);
        expect(JSON.parse(ecs.requests[0].body)).toEqual({
          cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science",
          service: "jupyter-ab12cd34",
          desiredCount: 0,
        });
      }),
    60_000,
  );
});

// NEURON_START_SCRIPT, the command of the default Neuron image (no image in the vars file). The
// tests replace its work directory (/home/jovyan/work) with a temporary one and its port (8888)
// with a free one, and run it with the jupyter-lab stand-in first on PATH.

/** NEURON_START_COMMAND with the work directory and port replaced. */
function neuronCommand(workDir: string, port: number): string[] {
  const script = NEURON_START_SCRIPT.split(WORK_DIR).join(workDir).split(`--ServerApp.port=${NOTEBOOK_PORT}`).join(`--ServerApp.port=${port}`);
  expect(script).not.toBe(NEURON_START_SCRIPT);
  return NEURON_START_COMMAND.map((a) => (a === NEURON_START_SCRIPT ? script : a));
}

/** How ECS starts the command: on a base without an entrypoint, and on the DLC (its entrypoint first). */
const LAUNCHERS: Array<[string, (dir: string) => string[]]> = [
  ["as the container's command", () => []],
  ['through the DLC\'s entrypoint (bash -m start_with_right_hostname.sh: eval "$@")', (dir) => dlcEntrypoint(dir)],
];

describeWithTool("the default Neuron image's command (NEURON_START_SCRIPT)", "jupyter server", jupyterStatus(), JUPYTER_HINT, () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir("nb-neuron-cmd-");
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  describe.each(LAUNCHERS)("%s", (_name, entrypoint) => {
    let nb: Notebook;
    let home: string;
    beforeAll(async () => {
      const base = dir();
      home = path.join(base, "root");
      fs.mkdirSync(home);
      const port = await freePort();
      const shim = jupyterLabShim(base);
      const argv = [...entrypoint(base), ...neuronCommand(path.join(base, "work"), port)];
      nb = startProcess(argv[0] === "bash" ? ["/bin/bash", ...argv.slice(1)] : argv, {
        cwd: "/",
        env: { PATH: `${shim}:${process.env.PATH}`, HOME: home, LANG: "C.UTF-8", NO_PROXY: "127.0.0.1,localhost", JUPYTER_TOKEN: TOKEN },
        port,
      });
      await waitUntilServing(nb);
    }, 40_000);
    afterAll(() => stopNotebook(nb));

    test("starts, and answers /api without the token", async () => {
      expect((await get(nb.port, "/api")).status).toBe(200);
    });

    test("serves a protected endpoint only with JUPYTER_TOKEN", async () => {
      expect((await get(nb.port, "/api/contents")).status).toBe(403);
      expect((await get(nb.port, "/api/contents", { Authorization: "token wrong-token-0123456789" })).status).toBe(403);
      expect((await get(nb.port, "/api/contents", { Authorization: `token ${TOKEN}` })).status).toBe(200);
    });

    test("keeps the token off every command line and out of the log (no variable dump)", () => {
      expect(nb.logs()).not.toContain(TOKEN);
      expect(nb.logs()).not.toContain("JUPYTER_TOKEN");
      const cmdlines = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
      expect(cmdlines).toContain(`--ServerApp.port=${nb.port}`);
      expect(cmdlines).not.toContain(TOKEN);
    });

    test("lets git work, as root, in the EFS home's repositories (owned by uid 1000)", () => {
      // GIVEN a repository as the access point leaves it: every file owned by 1000:100
      const repoDir = dir();
      git(repoDir, "init", "--quiet", "analysis");
      const repo = path.join(repoDir, "analysis");
      const setting = spawnSync("git", ["config", "--global", "--get-all", "safe.directory"], { env: { ...process.env, HOME: home }, encoding: "utf8" });
      expect(setting.stdout.trim()).toBe("*");
      if (process.getuid?.() !== 0) return; // only root can give it to uid 1000; the setting is checked above
      spawnSync("chown", ["-R", `${NOTEBOOK_UID}:${NOTEBOOK_GID}`, repo]);
      // WHEN root runs git there with the notebook's HOME (where the command configured git)
      const run = spawnSync("git", ["-C", repo, "status", "--porcelain"], { env: { ...process.env, HOME: home }, encoding: "utf8" });
      // THEN git works
      expect(run.stderr).not.toContain("dubious ownership");
      expect(run.status).toBe(0);
    });

    test("SIGTERM ends it (Jupyter is the container's process, by exec)", async () => {
      nb.child.kill("SIGTERM");
      expect(await waitForExit(nb, 15_000)).toBe(0);
    });
  });

  test.each(LAUNCHERS)(
    "%s, without JupyterLab and without internet: tries pip, then exits non-zero with a clear line",
    async (_name, entrypoint) => {
      // GIVEN no jupyter-lab on PATH, and a python3 whose pip fails (it records its arguments)
      const base = dir();
      const bin = path.join(base, "bin");
      fs.mkdirSync(bin);
      const record = path.join(base, "python3-args");
      fs.writeFileSync(path.join(bin, "python3"), `#!/bin/sh\nprintf '%s\\n' "$@" > '${record}'\necho 'pip: network is unreachable' >&2\nexit 1\n`, {
        mode: 0o755,
      });
      fs.symlinkSync("/bin/bash", path.join(bin, "bash"));
      // WHEN the command starts
      const argv = [...entrypoint(base), ...neuronCommand(path.join(base, "work"), await freePort())];
      const nb = startProcess(argv[0] === "bash" ? ["/bin/bash", ...argv.slice(1)] : argv, {
        cwd: "/",
        env: { PATH: bin, HOME: base, JUPYTER_TOKEN: TOKEN },
        port: 0,
      });
      // THEN it ends, unsuccessfully, saying why
      expect(await waitForExit(nb, 15_000)).not.toBe(0);
      expect(fs.readFileSync(record, "utf8").split("\n")).toEqual(expect.arrayContaining(["-m", "pip", "install", "jupyterlab>=4,<5"]));
      expect(nb.logs()).toContain("[neuron-notebook] installing JupyterLab");
      expect(nb.logs()).toContain("[neuron-notebook] could not install JupyterLab (pip failed)");
      expect(nb.logs()).not.toContain(TOKEN);
      expect(fs.existsSync(path.join(base, "work"))).toBe(false);
    },
    30_000,
  );
});

describeWithTool("the default Neuron image's command, checked", "shellcheck", shellcheckStatus(), "install shellcheck (apt-get install shellcheck)", () => {
  test("shellcheck passes on NEURON_START_SCRIPT", () => {
    const run = spawnSync("shellcheck", ["--severity=style", "--shell=bash", "-"], { input: NEURON_START_SCRIPT, encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
