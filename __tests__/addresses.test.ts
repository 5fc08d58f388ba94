import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { movedBlocks, resourceAddresses } from "./helpers/addresses";

// Construct ids are a contract: a resource whose address changes is destroyed and created
// anew, which replaces a running notebook (and its URL). The addresses the app synthesized
// at an earlier commit (fixtures/addresses-<commit>.json, written by helpers/addresses.ts
// from that commit's synth with the settings below) must all still exist, or come with a
// `moved` block, or be listed here as removed on purpose.

const BASELINE = "c255814";
/** Resources removed on purpose since the baseline, with why: destroying them is the change. */
const REMOVED_ON_PURPOSE: Record<string, string> = {
  "aws_vpc_security_group_ingress_rule.notebook_home_nfs_from_notebook_00725175":
    "one NFS rule per notebook on the shared EFS group (60-rule quota); notebooks join a client group instead",
};

const ROOT = path.resolve(__dirname, "..");

test(`every resource address of ${BASELINE} still exists, is moved, or was removed on purpose`, () => {
  // GIVEN the stacks the baseline was recorded with: local, a team roll-out, a bootstrap stack's state in its bucket
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-addresses-"));
  try {
    const team = path.join(project, "team.json");
    fs.writeFileSync(team, JSON.stringify({ users: [{ name: "bob", cpu: 2048, memory: 8192 }] }));
    const environments = {
      dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team },
      prod: { stateBucket: "acme-nb-prod", stateRegion: "eu-west-1", bootstrapStateInBucket: true },
    };
    const outdir = path.join(project, "out");
    const run = spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
      cwd: ROOT,
      env: { ...process.env, NOTEBOOK_USER: "alice", NOTEBOOK_ENVIRONMENTS: JSON.stringify(environments), CDKTF_OUTDIR: outdir, SYNTH_HCL_OUTPUT: "false" },
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    // WHEN the addresses of today's synth are compared with the baseline's
    const baseline: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", `addresses-${BASELINE}.json`), "utf8"));
    const now = resourceAddresses(outdir);
    const moved = movedBlocks(outdir);
    // THEN each old address is still there, or moved to one that is, or removed on purpose
    expect(Object.keys(now)).toEqual(Object.keys(baseline));
    const lost: string[] = [];
    for (const [stack, addresses] of Object.entries(baseline)) {
      for (const address of addresses) {
        if (now[stack].includes(address) || REMOVED_ON_PURPOSE[address]) continue;
        const target = moved[stack][address];
        if (target && now[stack].includes(target)) continue;
        lost.push(`${stack}: ${address}`);
      }
    }
    expect(lost).toEqual([]);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});

test("the list of resources removed on purpose names only resources the baseline had", () => {
  const baseline: Record<string, string[]> = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", `addresses-${BASELINE}.json`), "utf8"));
  const all = new Set(Object.values(baseline).flat());
  for (const address of Object.keys(REMOVED_ON_PURPOSE)) expect([address, all.has(address)]).toEqual([address, true]);
});
