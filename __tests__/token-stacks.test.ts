import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Fn, Token, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { skipTokenCreationStacks } from "../stacks";

// The app skips cdktf's per-token call stacks (stacks/token-stacks.ts): tokens are created
// without them, the synthesized configuration is the same byte for byte, and
// NOTEBOOK_TOKEN_STACKS=1 keeps them.

const ROOT = path.resolve(__dirname, "..");

/** The creation stack cdktf recorded for a new token. */
function creationStackOfNewToken(): string[] {
  const stack = new TerraformStack(Testing.app(), "s");
  const v = new TerraformVariable(stack, "v", { type: "string" });
  return Token.asAny(Fn.lower(v.stringValue)).creationStack;
}

describe("token creation stacks", () => {
  test("NOTEBOOK_TOKEN_STACKS=1 keeps them (nothing is replaced)", () => {
    expect(skipTokenCreationStacks({ NOTEBOOK_TOKEN_STACKS: "1" })).toBe(false);
    expect(creationStackOfNewToken().length).toBeGreaterThan(3);
  });

  test("otherwise new tokens carry none", () => {
    expect(skipTokenCreationStacks({})).toBe(true);
    expect(creationStackOfNewToken()).toEqual([]);
  });

  test("the app synthesizes the same files with and without them (a team on a platform, and an accelerated team)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-token-stacks-"));
    try {
      const team = path.join(dir, "team.json");
      fs.writeFileSync(team, JSON.stringify({ users: [{ name: "bob" }, { name: "dave", accelerator: "nvidia", gpu_count: 1 }] }));
      const environments = {
        ml: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team, platform: true },
        gpu: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team, accelerators: true },
      };
      const synth = (outdir: string, extra: Record<string, string>) => {
        const run = spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
          cwd: ROOT,
          env: { ...process.env, NOTEBOOK_USER: "alice", NOTEBOOK_ENVIRONMENTS: JSON.stringify(environments), CDKTF_OUTDIR: outdir, ...extra },
          encoding: "utf8",
        });
        expect(run.stderr).toBe("");
        expect(run.status).toBe(0);
      };
      synth(path.join(dir, "without"), {});
      synth(path.join(dir, "with"), { NOTEBOOK_TOKEN_STACKS: "1" });
      const files = (root: string) =>
        fs
          .readdirSync(path.join(root, "stacks"))
          .sort()
          .map((stack) => [stack, fs.readFileSync(path.join(root, "stacks", stack, "cdk.tf.json"), "utf8")]);
      const without = files(path.join(dir, "without"));
      expect(without.map(([stack]) => stack)).toContain("notebook-gpu-dave");
      expect(without).toEqual(files(path.join(dir, "with")));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
