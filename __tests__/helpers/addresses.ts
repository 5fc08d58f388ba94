import * as fs from "fs";
import * as path from "path";

/**
 * The Terraform addresses of the managed resources of every stack cdktf wrote to `outdir`
 * (`type.name`), by stack id: what a refactoring must keep, or move with a `moved` block,
 * so that deployed notebooks are not replaced. Run as a script, it prints them as JSON:
 *   node -r sucrase/register/ts __tests__/helpers/addresses.ts cdktf.out
 */
export function resourceAddresses(outdir: string): Record<string, string[]> {
  const stacksDir = path.join(outdir, "stacks");
  const result: Record<string, string[]> = {};
  for (const stack of fs.readdirSync(stacksDir).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(stacksDir, stack, "cdk.tf.json"), "utf8"));
    result[stack] = Object.entries<Record<string, unknown>>(json.resource ?? {})
      .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
      .sort();
  }
  return result;
}

/** The `moved` blocks of each stack: from-address to to-address. */
export function movedBlocks(outdir: string): Record<string, Record<string, string>> {
  const stacksDir = path.join(outdir, "stacks");
  const result: Record<string, Record<string, string>> = {};
  for (const stack of fs.readdirSync(stacksDir).sort()) {
    const json = JSON.parse(fs.readFileSync(path.join(stacksDir, stack, "cdk.tf.json"), "utf8"));
    result[stack] = Object.fromEntries(((json.moved ?? []) as Array<{ from: string; to: string }>).map((m) => [m.from, m.to]));
  }
  return result;
}

if (require.main === module) {
  console.log(JSON.stringify(resourceAddresses(process.argv[2]), null, 2));
}
