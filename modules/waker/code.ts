import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { transform } from "sucrase";

/** Where the waker's TypeScript source lives: `waker/` at the project's root. */
export const WAKER_SOURCE_DIR = path.resolve(__dirname, "..", "..", "waker");
/** The Lambda handler: `handler` exported by `handler.js`. */
export const WAKER_HANDLER = "handler.handler";

/**
 * The waker's code as Lambda runs it: every `waker/*.ts` but tests, transpiled file by file
 * to CommonJS (`handler.ts` => `handler.js`), in a fresh private directory: the same sources
 * give the same files (and the same archive hash). The AWS SDK it imports is the one the
 * Lambda runtime provides.
 */
export function wakerCodeDir(sourceDir = WAKER_SOURCE_DIR): string {
  if (!fs.existsSync(sourceDir)) throw new Error(`${sourceDir} does not exist: the waker's code is missing`);
  const files = fs
    .readdirSync(sourceDir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .sort();
  if (!files.includes("handler.ts")) throw new Error(`${sourceDir} has no handler.ts: the waker's code is missing`);
  const sources = files.map((f) => [f, fs.readFileSync(path.join(sourceDir, f), "utf8")] as const);
  const hash = createHash("sha256");
  for (const [name, text] of sources) hash.update(name).update("\0").update(text).update("\0");
  // A fresh private directory each time (mkdtemp: mode 0700, an unpredictable name): nothing
  // another user of the machine placed in the temporary directory is ever packaged.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jupyter-notebooks-waker-${hash.digest("hex").slice(0, 16)}-`));
  for (const [name, text] of sources) {
    const { code } = transform(text, { transforms: ["typescript", "imports"], filePath: name });
    fs.writeFileSync(path.join(dir, name.replace(/\.ts$/, ".js")), code);
  }
  return dir;
}
