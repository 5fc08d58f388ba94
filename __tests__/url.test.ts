import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { localStatePath } from "../stacks/stack-specs";

// `npm run url` over state files made here, in the project directory the script serves.
const root = path.resolve(__dirname, "..");
const user = `url-test-${process.pid}`;
const stateFile = localStatePath(root, user);

function runUrl(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["-r", "sucrase/register/ts", "scripts/url.ts", ...args], {
    cwd: root,
    env: { ...process.env, NOTEBOOK_USER: user, NOTEBOOK_ENVIRONMENTS: "", ...env },
    encoding: "utf8",
  });
}

afterEach(() => fs.rmSync(stateFile, { force: true }));

describe("npm run url", () => {
  test("prints the url output of the user's notebook stack from its local state", () => {
    // GIVEN a state file as Terraform writes it after a deploy
    const url = "https://jupyter-ab12cd34.notebooks.example.com/?token=Zq3xY9pLm2Nf8Rt4Vw6Ks1Hd5Gj7Bc0A";
    fs.writeFileSync(stateFile, JSON.stringify({ version: 4, terraform_version: "1.11.4", outputs: { url: { value: url, type: "string", sensitive: true } }, resources: [] }));
    // WHEN the user asks for the URL
    const result = runUrl([]);
    // THEN it is printed alone on stdout
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`${url}\n`);
  });

  test("fails with one line when the user has no deployed notebook", () => {
    const result = runUrl([]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([`error: no state for stack notebook of user ${user} at ${stateFile}: deploy it first (npx cdktf deploy notebook --var-file=vars.tfvars)`]);
  });

  test("fails with one line when the notebook was destroyed (state without outputs)", () => {
    fs.writeFileSync(stateFile, JSON.stringify({ version: 4, outputs: {}, resources: [] }));
    const result = runUrl([]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^error: the state of stack notebook at .* has no url output/);
  });

  test("fails with one line for a stack id that is not configured, listing the ones that are", () => {
    const result = runUrl(["notebook-qa"], { NOTEBOOK_ENVIRONMENTS: '{"dev": {"stateBucket": "acme-nb-state", "stateRegion": "eu-west-1"}}' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('error: unknown stack "notebook-qa": expected one of notebook, notebook-dev');
  });
});
