import * as fs from "fs";
import * as path from "path";
import { ENVIRONMENT_FIELDS } from "../stacks/settings";
import { Testing } from "cdktf";
import { PlatformStack } from "../stacks/platform-stack";
import { synthStack } from "./helpers/synth";

// The README documents what the code does: every variable with its type and default,
// every output, every setting, and the test command CI runs.
const root = path.resolve(__dirname, "..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const { json } = synthStack();
const platformJson = JSON.parse(
  Testing.synth(
    new PlatformStack(Testing.app(), {
      stackId: "platform-dev",
      environment: "dev",
      backend: { type: "local", path: "/p/platform.tfstate" },
      loadBalancers: 1,
      notebooksPerLoadBalancer: 90,
    }),
  ),
);

/** Rows of the first table after a heading: arrays of cells, without the header rows. */
function table(heading: string, level = "##"): string[][] {
  const start = readme.indexOf(`\n${level} ${heading}\n`);
  if (start < 0) throw new Error(`README has no "${level} ${heading}" section`);
  const lines = readme.slice(start).split("\n").slice(2);
  const first = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
  }
  return rows.slice(2);
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, "");

describe("README", () => {
  test("the variables table lists every variable with its type and default", () => {
    const rows = table("Variables");
    expect(rows.map((r) => unquote(r[0])).sort()).toEqual(Object.keys(json.variable).sort());
    for (const [name, type, defaultCell] of rows) {
      const v = json.variable[unquote(name)];
      expect([name, type]).toEqual([name, v.type]);
      expect([name, defaultCell]).toEqual([name, "default" in v ? `\`${JSON.stringify(v.default)}\`` : "required"]);
    }
  });

  test("the outputs table lists every output", () => {
    expect(table("Outputs").map((r) => unquote(r[0])).sort()).toEqual(Object.keys(json.output).sort());
  });

  test("the platform variables table lists every variable of the platform stack with its type and default; its outputs table every output", () => {
    const rows = table("Platform variables", "###");
    expect(rows.map((r) => unquote(r[0])).sort()).toEqual(Object.keys(platformJson.variable).sort());
    for (const [name, type, defaultCell] of rows) {
      const v = platformJson.variable[unquote(name)];
      expect([name, unquote(type)]).toEqual([name, v.type]);
      expect([name, defaultCell.replace(/\s/g, "")]).toEqual([name, "default" in v ? `\`${JSON.stringify(v.default)}\`` : "required"]);
    }
    expect(table("Platform outputs", "###").map((r) => unquote(r[0])).sort()).toEqual(Object.keys(platformJson.output).sort());
  });

  test("the settings table names every synth-time setting the code reads", () => {
    const settings = table("Settings").map((r) => unquote(r[0]));
    const code = fs.readFileSync(path.join(root, "stacks", "settings.ts"), "utf8");
    const envVars = new Set(code.match(/NOTEBOOK_[A-Z_]+/g));
    for (const name of envVars) expect(settings).toContain(name);
    for (const field of ENVIRONMENT_FIELDS) expect(settings).toContain(`environments.<env>.${field}`);
    // and every cdktf.json context key the app reads
    const main = fs.readFileSync(path.join(root, "main.ts"), "utf8");
    const contextKeys = [...main.matchAll(/tryGetContext\("(\w+)"\)/g)].map((m) => m[1]);
    expect(contextKeys).toEqual(["environments", "localPlatform", "localAccelerators"]);
    for (const key of contextKeys) expect(settings).toContain(key);
  });

  test("CI runs the README's test command", () => {
    const block = /Install and run the tests[^\n]*\n\n```sh\n([^\n]+)\n```/.exec(readme);
    expect(block).not.toBeNull();
    const ci = fs.readFileSync(path.join(root, ".ci", "run"), "utf8");
    expect(ci.split("\n")).toContain(block![1]);
  });
});
