import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * Runs the app as `cdktf <args>` runs it: a stand-in for the CLI, a script called `cdktf`
 * in `dir` that starts the app through a shell (the app finds the command on that ancestor).
 * cdktf's own output directory is `dir/out`.
 */
export function runAppAsCdktf(dir: string, cliArgs: string[], env: NodeJS.ProcessEnv) {
  const fake = path.join(dir, "cdktf");
  fs.writeFileSync(
    fake,
    `const { spawnSync } = require("child_process");\n` +
      `const r = spawnSync("node -r sucrase/register/ts main.ts", { shell: true, cwd: ${JSON.stringify(ROOT)}, stdio: "inherit" });\n` +
      `process.exit(r.status);\n`,
  );
  return spawnSync(process.execPath, [fake, ...cliArgs], { cwd: ROOT, env: { ...env, CDKTF_OUTDIR: path.join(dir, "out") }, encoding: "utf8" });
}
