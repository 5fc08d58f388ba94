import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { jupyterPython, Notebook } from "./notebook-image";

/**
 * For the notebook image's variants (notebook-image/Dockerfile with a CUDA base,
 * notebook-image/Dockerfile.neuron) and the default Neuron image's command: what a Dockerfile
 * declares, read statically (no Docker engine here), and the processes run the way it would.
 */

/** One COPY instruction: its sources, its destination and its --chmod, if any. */
export interface DockerCopy {
  sources: string[];
  dest: string;
  chmod?: string;
}

/** What the last stage of a Dockerfile declares, with ARG and ENV references resolved. */
export interface DockerStage {
  /** The FROM image, resolved with the global ARGs and the build args. */
  from: string;
  /** The stage's ARGs (default or build arg). */
  args: Record<string, string>;
  env: Record<string, string>;
  user?: string;
  workdir?: string;
  entrypoint?: string[];
  cmd?: string[];
  copies: DockerCopy[];
  /** Every RUN's command text, with known ARG and ENV references resolved. */
  runs: string[];
  healthcheck?: string;
  /** Number of FROM instructions. */
  stages: number;
  /** `${NAME}` references that neither an ARG nor an ENV of the file defines (the base image's). */
  unresolved: string[];
}

/** Logical lines: continuations joined, comments and blank lines dropped. */
function instructions(text: string): Array<{ keyword: string; rest: string }> {
  const out: Array<{ keyword: string; rest: string }> = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue; // comments, also between continued lines
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    if (!full) continue;
    const match = /^(\S+)\s*(.*)$/.exec(full)!;
    out.push({ keyword: match[1].toUpperCase(), rest: match[2] });
  }
  return out;
}

/** Splits `a=b "c d"=e f='g h'` into words, shell-like (quotes removed). */
function words(text: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const m of text.matchAll(re)) out.push(m[0].replace(/"([^"]*)"|'([^']*)'/g, (_, a, b) => a ?? b));
  return out;
}

/** Reads a Dockerfile as the builder would with `buildArgs` (`--build-arg`), without building it. */
export function readDockerfile(text: string, buildArgs: Record<string, string> = {}): DockerStage {
  const globalArgs: Record<string, string> = {};
  let stage: DockerStage | undefined;
  let stages = 0;
  const unresolved = new Set<string>();
  const substitute = (value: string, vars: Record<string, string>) =>
    value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a, b) => {
      const name = a ?? b;
      if (name in vars) return vars[name];
      if (a) unresolved.add(name);
      return whole;
    });
  for (const { keyword, rest } of instructions(text)) {
    if (keyword === "FROM") {
      stages++;
      const image = substitute(rest.split(/\s+/)[0], globalArgs);
      stage = { from: image, args: {}, env: {}, copies: [], runs: [], stages: 0, unresolved: [] };
      continue;
    }
    if (keyword === "ARG") {
      const [name, ...value] = rest.split("=");
      const declared = value.length ? value.join("=").replace(/^"(.*)"$/, "$1") : globalArgs[name] ?? "";
      const target = stage ? stage.args : globalArgs;
      target[name] = buildArgs[name] ?? declared;
      continue;
    }
    if (!stage) throw new Error(`${keyword} before FROM`);
    const vars = { ...stage.args, ...stage.env };
    switch (keyword) {
      case "ENV": {
        const parts = words(rest);
        if (parts.length && !parts[0].includes("=")) {
          stage.env[parts[0]] = substitute(rest.slice(rest.indexOf(parts[0]) + parts[0].length).trim(), vars);
        } else {
          for (const part of parts) {
            const i = part.indexOf("=");
            stage.env[part.slice(0, i)] = substitute(part.slice(i + 1), vars);
          }
        }
        break;
      }
      case "USER":
        stage.user = substitute(rest, vars);
        break;
      case "WORKDIR":
        stage.workdir = substitute(rest, vars);
        break;
      case "ENTRYPOINT":
      case "CMD": {
        const argv = rest.startsWith("[") ? (JSON.parse(rest) as string[]) : ["/bin/sh", "-c", rest];
        if (keyword === "ENTRYPOINT") stage.entrypoint = argv;
        else stage.cmd = argv;
        break;
      }
      case "COPY": {
        const parts = words(rest);
        const flags = parts.filter((p) => p.startsWith("--"));
        const paths = parts.filter((p) => !p.startsWith("--")).map((p) => substitute(p, vars));
        const chmod = flags.find((f) => f.startsWith("--chmod="))?.slice("--chmod=".length);
        stage.copies.push({ sources: paths.slice(0, -1), dest: paths[paths.length - 1], ...(chmod ? { chmod } : {}) });
        break;
      }
      case "RUN":
        stage.runs.push(substitute(rest, vars));
        break;
      case "HEALTHCHECK":
        stage.healthcheck = rest;
        break;
      default:
        break;
    }
  }
  if (!stage) throw new Error("no FROM in the Dockerfile");
  return { ...stage, stages, unresolved: [...unresolved].sort() };
}

/** Where each COPY puts each of its sources: image path => source file name. */
export function copiedFiles(stage: DockerStage): Map<string, { source: string; chmod?: string }> {
  const out = new Map<string, { source: string; chmod?: string }>();
  for (const copy of stage.copies) {
    for (const source of copy.sources) {
      const target = copy.dest.endsWith("/") ? path.posix.join(copy.dest, path.posix.basename(source)) : copy.dest;
      out.set(target, { source, chmod: copy.chmod });
    }
  }
  return out;
}

/**
 * A `jupyter-lab` for the tests: Debian packages Jupyter Server but not JupyterLab, so this
 * stand-in runs the real Jupyter Server with the same `--ServerApp.*` options
 * (`python3 -m jupyter_server "$@"`). Returns the directory to put first on PATH.
 */
export function jupyterLabShim(dir: string): string {
  const python = jupyterPython();
  if (!python) throw new Error("jupyterStatus() must find a python first");
  const bin = path.join(dir, "shim-bin");
  fs.mkdirSync(bin, { recursive: true, mode: 0o755 });
  fs.writeFileSync(
    path.join(bin, "jupyter-lab"),
    `#!/bin/sh\n# test stand-in for JupyterLab's command: the real Jupyter Server, same options\nexec ${python} -m jupyter_server "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/**
 * The Neuron DLC's entrypoint, `ENTRYPOINT ["bash", "-m", "start_with_right_hostname.sh"]`,
 * reduced to what it does with a notebook's command: in aws-neuron/deep-learning-containers
 * (common/start_with_right_hostname.sh; in the 2.21.0 tag,
 * docker/pytorch/training/common/start_with_right_hostname.sh) every command but `train` runs as
 * `eval "$@"`. Its `train` branch (SageMaker training) is not reproduced.
 */
export const DLC_ENTRYPOINT_SCRIPT = [
  "#!/usr/bin/env bash",
  '# stand-in for the Neuron DLC\'s start_with_right_hostname.sh (its non-"train" branch)',
  'if [[ "$1" = "train" ]]; then',
  '  echo "stand-in: the SageMaker training branch is not reproduced" >&2',
  "  exit 2",
  "else",
  '  eval "$@"',
  "fi",
  "",
].join("\n");

/** Writes DLC_ENTRYPOINT_SCRIPT into `dir`; returns the ENTRYPOINT's argv (`bash -m <script>`). */
export function dlcEntrypoint(dir: string): string[] {
  const file = path.join(dir, "start_with_right_hostname.sh");
  fs.writeFileSync(file, DLC_ENTRYPOINT_SCRIPT, { mode: 0o755 });
  return ["/bin/bash", "-m", file];
}

/** Options of startProcess. */
export interface ProcessOptions {
  cwd: string;
  /** The whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** The port the server is told to use (only recorded for the requests). */
  port: number;
  /** Run as this user and group (only possible as root). */
  uid?: number;
  gid?: number;
}

/** Runs `argv` like startNotebook does the start script: output collected, exit awaited. */
export function startProcess(argv: string[], options: ProcessOptions): Notebook {
  let output = "";
  const child = spawn(argv[0], argv.slice(1), {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
  });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return { port: options.port, child, logs: () => output, exited };
}

/** The uid and gid of every process's /proc/<pid>/status whose command line contains `needle`. */
export function processOwners(needle: string): Array<{ pid: number; uid: number; gid: number; args: string }> {
  const out: Array<{ pid: number; uid: number; gid: number; args: string }> = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
      if (!args.includes(needle)) continue;
      const status = fs.readFileSync(`/proc/${name}/status`, "utf8");
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
      const gid = Number(/^Gid:\s+(\d+)/m.exec(status)![1]);
      out.push({ pid: Number(name), uid, gid, args });
    } catch {
      // ended meanwhile
    }
  }
  return out;
}
