import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { SettingsError } from "./settings-error";

/**
 * A misspelt name in a vars file is only a warning for Terraform ("Value for undeclared
 * variable"), lost among the plan's output: `alowed_cidrs` meant to restrict access would
 * leave the notebook open to everyone. The cdktf CLI runs this app to synthesize before
 * every `deploy`, `diff` and `destroy`, but does not tell it the `--var-file` it was given.
 * So the app looks for that flag on the command line of the cdktf process that started
 * it (an ancestor process), reads the files, and stops the command before Terraform runs
 * when a file sets a variable that the chosen stacks do not declare.
 */

/** What the cdktf command that runs this app was asked to do. */
export interface CdktfCommand {
  /** `deploy`, `destroy`, `diff`, ... */
  readonly command: string;
  /** Stack ids or patterns given (`notebook-dev-*`); empty: cdktf's own choice. */
  readonly stacks: string[];
  /** The `--var-file` arguments, as given. */
  readonly varFiles: string[];
}

/** Commands whose vars files decide what is created. (`destroy` is left alone: never block a clean-up.) */
export const COMMANDS_WITH_VAR_FILES = ["deploy", "diff", "watch"];
/** Commands that read and write the chosen stacks' states. */
const COMMANDS_WITH_STATE = [...COMMANDS_WITH_VAR_FILES, "destroy"];

/**
 * Reads a cdktf command line: `cdktf deploy notebook-dev --var-file=dev.tfvars --auto-approve`.
 * Returns undefined when `argv` is not a cdktf command that uses the stacks' states.
 */
export function parseCdktfArgs(argv: string[]): CdktfCommand | undefined {
  const cli = argv.findIndex((a) => /(^|[/\\])cdktf(\.js|\.cmd)?$/.test(a) || /cdktf-cli[/\\]bundle[/\\]bin[/\\]cdktf(\.js)?$/.test(a));
  if (cli < 0) return undefined;
  const rest = argv.slice(cli + 1);
  const command = rest.find((a) => !a.startsWith("-"));
  if (!command || !COMMANDS_WITH_STATE.includes(command)) return undefined;
  const stacks: string[] = [];
  const varFiles: string[] = [];
  const args = rest.slice(rest.indexOf(command) + 1);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--var-file" || arg === "--varFile") varFiles.push(args[++i] ?? "");
    else if (arg.startsWith("--var-file=") || arg.startsWith("--varFile=")) varFiles.push(arg.slice(arg.indexOf("=") + 1));
    else if (arg.startsWith("-")) {
      // Flags with a value in the next argument; every other flag is a switch or `--x=y`.
      if (["--var", "--app", "-a", "--output", "-o", "--parallelism", "--terraform-parallelism", "--outputs-file"].includes(arg)) i++;
    } else stacks.push(arg);
  }
  return { command, stacks, varFiles: varFiles.filter((f) => f !== "") };
}

/** A process's parent and arguments: from /proc on Linux, from `ps` elsewhere. */
export interface ProcessInfo {
  readonly ppid: number;
  readonly argv: string[];
}

export function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
    return { ppid, argv };
  } catch {
    // macOS and other systems without /proc: arguments joined by spaces (a path with a space splits).
    const ps = spawnSync("ps", ["-ww", "-o", "ppid=", "-o", "args=", "-p", String(pid)], { encoding: "utf8" });
    const match = /^\s*(\d+)\s+(.*)$/.exec(ps.stdout ?? "");
    if (ps.status !== 0 || !match) return undefined;
    return { ppid: Number(match[1]), argv: match[2].trim().split(/\s+/) };
  }
}

/** The nearest ancestor process that is a cdktf command taking vars files. */
export function findCdktfCommand(startPid: number, info: (pid: number) => ProcessInfo | undefined = processInfo): CdktfCommand | undefined {
  let pid = startPid;
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const proc = info(pid);
    if (!proc) return undefined;
    const command = parseCdktfArgs(proc.argv);
    if (command) return command;
    pid = proc.ppid;
  }
  return undefined;
}

/** The files cdktf passes to Terraform: those it always loads from the project, then the given ones. */
export function varFilesOf(command: CdktfCommand, projectDir: string): string[] {
  const automatic = ["terraform.tfvars", "terraform.tfvars.json"].map((f) => path.join(projectDir, f)).filter((f) => fs.existsSync(f));
  const auto = fs.readdirSync(projectDir).filter((f) => f.endsWith(".auto.tfvars") || f.endsWith(".auto.tfvars.json")).map((f) => path.join(projectDir, f));
  return [...automatic, ...auto, ...command.varFiles.map((f) => path.resolve(projectDir, f))];
}

/**
 * The names a vars file sets, read by HashiCorp's HCL parser (the one `cdktf convert`
 * uses), or undefined when the file cannot be read or parsed: Terraform reports that itself.
 */
export async function namesInVarFile(file: string): Promise<string[] | undefined> {
  const values = await valuesOfVarFile(file);
  return values === undefined ? undefined : Object.keys(values);
}

/** The values a vars file (HCL or JSON) sets, by name; undefined when it cannot be read or parsed. */
export async function valuesOfVarFile(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    if (file.endsWith(".json")) return JSON.parse(text) as Record<string, unknown>;
    // Loaded only here, when vars files are given: parsing starts a WebAssembly module (~0.3 s).
    const { parse } = await import("@cdktf/hcl2json");
    return (await parse(path.basename(file), text)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The declared name closest to `name` (edit distance at most 3), for "did you mean". */
export function closest(name: string, declared: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of declared) {
    const d = editDistance(name, candidate);
    if (d <= 3 && (!best || d < best.distance)) best = { name: candidate, distance: d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Whether a stack id matches one of cdktf's stack arguments (`*` matches any characters). */
export function stackSelected(id: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(id));
}

/**
 * Stops with one line per problem when a vars file sets a name that no stack of the app
 * declares: a typo. (A name another stack declares is fine: one vars file often serves an
 * environment's notebook and state-backend stacks, and Terraform ignores the rest.)
 * `declared` maps stack ids to their variable names.
 */
export async function checkVarFiles(files: string[], declared: Map<string, string[]>, patterns: string[]): Promise<void> {
  const chosen = [...declared.entries()].filter(([id]) => stackSelected(id, patterns));
  if (chosen.length === 0) return; // cdktf says itself that no stack matches
  const known = [...new Set([...declared.values()].flat())].sort();
  const problems: string[] = [];
  for (const file of files) {
    for (const name of (await namesInVarFile(file)) ?? []) {
      if (known.includes(name)) continue;
      const suggestion = closest(name, known);
      problems.push(
        `${path.basename(file)}: ${name} is not a variable of ${chosen.map(([id]) => id).join(", ")}` +
          (suggestion ? `: did you mean ${suggestion}?` : ": remove it, or check the variables in the README") +
          " (Terraform would ignore it with a warning)",
      );
    }
  }
  if (problems.length > 0) throw new SettingsError(problems.join("\nerror: "));
}
