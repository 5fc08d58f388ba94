import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { transform } from "sucrase";

/**
 * `npm run bench`: median wall time and peak memory of synthesizing notebook stacks,
 * one JSON line per case. Options: --runs N (default 7).
 *
 * - "app command": exactly the `app` command of cdktf.json (what `cdktf synth/deploy` runs).
 * - "compiled": the same code transpiled to JavaScript beforehand and run with plain node,
 *   so the difference to "app command" is what loading TypeScript on the fly costs.
 * - "50 stacks": a bench app with 50 users' notebook stacks in one synth.
 * - "team of N users": the app command with a team file of 10, 50 and 90 users (3 runs each),
 *   and how time and memory grow per user.
 * - "team of N users on 6 load balancers": the same on a platform stack, 100 and 500 users.
 */
const root = path.resolve(__dirname, "..");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "nb-bench-"));
const compiledDir = path.join(root, ".bench", "js");

function compileTree(): void {
  fs.rmSync(compiledDir, { recursive: true, force: true });
  const files = ["main.ts", "bench/many-stacks.ts", ...listTs("modules"), ...listTs("stacks")];
  for (const file of files) {
    const out = path.join(compiledDir, file.replace(/\.ts$/, ".js"));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, transform(fs.readFileSync(path.join(root, file), "utf8"), { transforms: ["typescript", "imports"], filePath: file }).code);
  }
}

function listTs(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return listTs(rel);
    return e.name.endsWith(".ts") ? [rel] : [];
  });
}

interface Sample {
  seconds: number;
  peakMiB: number;
}

function runOnce(command: string, env: Record<string, string>): Sample {
  const rssFile = path.join(work, "rss");
  fs.rmSync(rssFile, { force: true });
  const outdir = path.join(work, "out");
  fs.rmSync(outdir, { recursive: true, force: true });
  const start = process.hrtime.bigint();
  const result = spawnSync(command, {
    shell: true,
    cwd: root,
    encoding: "utf8",
    env: {
      ...process.env,
      NOTEBOOK_USER: "bench",
      CDKTF_OUTDIR: outdir,
      BENCH_RSS_FILE: rssFile,
      NODE_OPTIONS: `--require ${path.join(root, "bench", "peak-rss.cjs")}`,
      ...env,
    },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const peaks = fs.readFileSync(rssFile, "utf8").trim().split("\n").map(Number);
  return { seconds, peakMiB: Math.max(...peaks) / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(name: string, command: string, env: Record<string, string> = {}, times = runs): { median_s: number; peak_mib: number } {
  runOnce(command, env); // warm the file cache
  const samples = Array.from({ length: times }, () => runOnce(command, env));
  const line = {
    case: name,
    runs: times,
    median_s: Number(median(samples.map((s) => s.seconds)).toFixed(3)),
    peak_mib: Number(Math.max(...samples.map((s) => s.peakMiB)).toFixed(1)),
    median_peak_mib: Number(median(samples.map((s) => s.peakMiB)).toFixed(1)),
  };
  console.log(JSON.stringify(line));
  return line;
}

const appCommand: string = JSON.parse(fs.readFileSync(path.join(root, "cdktf.json"), "utf8")).app;
compileTree();
const machine = { case: "machine", cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_gib: Math.round(os.totalmem() / 2 ** 30), node: process.version };
console.log(JSON.stringify(machine));
const app = measure("app command (cdktf.json), 1 stack", appCommand);
const compiled = measure("compiled, 1 stack", `node ${path.relative(root, path.join(compiledDir, "main.js"))}`);
measure("app command loader, 50 stacks", "node -r sucrase/register/ts bench/many-stacks.ts", { BENCH_STACKS: "50" });
measure("compiled, 50 stacks", `node ${path.relative(root, path.join(compiledDir, "bench", "many-stacks.js"))}`, { BENCH_STACKS: "50" });
console.log(JSON.stringify({ case: "app command overhead, 1 stack", seconds: Number((app.median_s - compiled.median_s).toFixed(3)) }));

// Team roll-out: the app command with an environment whose team file lists N users
// (N + 3 stacks: notebook, notebook-bench, state-backend-bench and one per user).
const team: Array<{ users: number; median_s: number; peak_mib: number }> = [];
for (const users of [10, 50, 90]) {
  const teamFile = path.join(work, `team-${users}.json`);
  fs.writeFileSync(teamFile, JSON.stringify({ users: Array.from({ length: users }, (_, i) => ({ name: `user${String(i + 1).padStart(3, "0")}` })) }));
  const environments = JSON.stringify({ bench: { stateBucket: "bench-state", stateRegion: "eu-west-1", teamFile } });
  const result = measure(`app command, team of ${users} users`, appCommand, { NOTEBOOK_ENVIRONMENTS: environments }, Math.min(runs, 3));
  team.push({ users, ...result });
}
const [first, , last] = team;
console.log(
  JSON.stringify({
    case: "team growth",
    seconds_per_user: Number(((last.median_s - first.median_s) / (last.users - first.users)).toFixed(4)),
    mib_per_user: Number(((last.peak_mib - first.peak_mib) / (last.users - first.users)).toFixed(2)),
  }),
);

// A team on a platform stack with 6 load balancers (6 × 90 places): 100 and 500 users, each
// notebook stack reading the platform's state and placing itself (N + 4 stacks, the
// platform stack included), and how time and memory grow per user.
const platformTeam: Array<{ users: number; median_s: number; peak_mib: number }> = [];
for (const users of [100, 500]) {
  const teamFile = path.join(work, `platform-team-${users}.json`);
  fs.writeFileSync(teamFile, JSON.stringify({ users: Array.from({ length: users }, (_, i) => ({ name: `user${String(i + 1).padStart(3, "0")}` })) }));
  const environments = JSON.stringify({ bench: { stateBucket: "bench-state", stateRegion: "eu-west-1", teamFile, platform: true, loadBalancers: 6 } });
  const result = measure(`app command, team of ${users} users on 6 load balancers`, appCommand, { NOTEBOOK_ENVIRONMENTS: environments }, Math.min(runs, 3));
  platformTeam.push({ users, ...result });
}
const [small, large] = platformTeam;
console.log(
  JSON.stringify({
    case: "team growth on 6 load balancers",
    seconds_per_user: Number(((large.median_s - small.median_s) / (large.users - small.users)).toFixed(4)),
    mib_per_user: Number(((large.peak_mib - small.peak_mib) / (large.users - small.users)).toFixed(2)),
  }),
);
fs.rmSync(work, { recursive: true, force: true });
