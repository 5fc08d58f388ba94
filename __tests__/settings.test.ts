import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readSettings, requireUser, SettingsError } from "../stacks/settings";
import { notebookStackSpecs, stateBackendStackSpecs } from "../stacks/stack-specs";

const PROJECT = "/projects/nb";
const read = (env: Record<string, string>, environmentsContext?: unknown, osUser = "alice") =>
  readSettings({ env, environmentsContext, projectDir: PROJECT, osUser: () => osUser });

function errorOf(fn: () => unknown): SettingsError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error("expected a SettingsError");
}

describe("user", () => {
  test("comes from NOTEBOOK_USER, else the operating-system user", () => {
    expect(read({ NOTEBOOK_USER: "bob" }).user).toBe("bob");
    expect(read({}, undefined, "carol").user).toBe("carol");
    expect(read({ NOTEBOOK_USER: "" }, undefined, "carol").user).toBe("carol");
  });

  test.each([["John.Doe"], ["john.doe"], ["john_doe"], ["John-Doe"], ["a__b"]])(
    "refuses %s, which a rewriting would map onto another person's name, without suggesting a spelling two people could both take",
    (given) => {
      // GIVEN names that differ from john-doe only in '.', '_', capitals or repeated dashes
      // THEN none is rewritten onto another, and no shared spelling is proposed
      const err = errorOf(() => read({ NOTEBOOK_USER: given }));
      expect(err.message).toBe(
        `NOTEBOOK_USER ${JSON.stringify(
          given,
        )} is not a valid user name: expected 1 to 32 lower-case letters, digits and single '-', starting and ending with a letter or digit; ` +
          "set NOTEBOOK_USER to such a name that is yours alone on the team (it keys your state and your home; names are not rewritten, so that john.doe and john_doe never share one)",
      );
    },
  );

  test("a canonical name is taken as it is", () => {
    expect(read({ NOTEBOOK_USER: "john-doe" }).user).toBe("john-doe");
  });

  test("an operating-system user that is not a valid name leaves no notebook stack of one's own, and says what to set", () => {
    const settings = read({}, undefined, "Mary_Ann");
    expect(settings.user).toBeUndefined();
    expect(settings.userProblem).toMatch(
      /^the operating-system user name "Mary_Ann" is not a valid user name: .*set NOTEBOOK_USER to such a name that is yours alone/,
    );
    expect(notebookStackSpecs(settings)).toEqual([]);
    expect(() => requireUser(settings)).toThrow(settings.userProblem!);
  });

  test.each([
    ["a space", "jane doe"],
    ["a slash (it is part of the state key)", "../bob"],
    ["a leading dash", "-bob"],
    ["a trailing dot", "bob."],
    ["more than 32 characters", "a".repeat(33)],
    ["non-ASCII letters", "jürgen"],
  ])("fails when NOTEBOOK_USER has %s", (_what, value) => {
    const err = errorOf(() => read({ NOTEBOOK_USER: value }));
    expect(err.message).toContain("NOTEBOOK_USER");
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).toContain("expected");
    expect(err.message).not.toContain("\n");
  });

  test.each(["root", "ubuntu", "vscode", "jovyan"])("as the operating-system user %s, shared by many people, has no notebook stack of its own", (osUser) => {
    // GIVEN a container's root user and two environments, one with a team file
    const team = path.join(os.tmpdir(), `nb-team-${process.pid}.json`);
    fs.writeFileSync(team, JSON.stringify({ users: [{ name: "bob" }] }));
    try {
      const settings = read({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", teamFile: team } }, osUser);
      // THEN the reason is kept for the commands that need a user
      expect(settings.user).toBeUndefined();
      expect(settings.userProblem).toBe(
        `the operating-system user "${osUser}" is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
      );
      // AND the stacks that need no user are still there: the state bucket and the team roll-out
      expect(notebookStackSpecs(settings).map((s) => s.id)).toEqual(["notebook-dev-bob"]);
      expect(stateBackendStackSpecs(settings).map((s) => s.id)).toEqual(["state-backend-dev"]);
    } finally {
      fs.rmSync(team, { force: true });
    }
    expect(read({ NOTEBOOK_USER: "root" }, undefined, osUser).user).toBe("root"); // an explicit choice is respected
  });

  test("an invalid NOTEBOOK_USER is always an error, even where no stack needs it", () => {
    expect(errorOf(() => read({ NOTEBOOK_USER: "DOMAIN\\jane" })).message).toMatch(/^NOTEBOOK_USER "DOMAIN\\\\jane" is not a valid user name: expected/);
  });

  test("an operating-system user that cannot be a name says how to override it", () => {
    expect(read({}, undefined, "DOMAIN\\jane").userProblem).toMatch(
      /^the operating-system user name "DOMAIN\\\\jane" is not a valid user name \(set NOTEBOOK_USER to choose the name\)/,
    );
  });
});

describe("environments", () => {
  test("come from cdktf.json context, with a default key prefix", () => {
    const s = read({ NOTEBOOK_USER: "bob" }, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } });
    expect(s.environments).toEqual([
      {
        name: "dev",
        stateBucket: "acme-nb-state",
        stateRegion: "eu-west-1",
        stateKeyPrefix: "jupyter-notebooks",
        team: [],
        maxNotebooks: 90,
        bootstrapStateInBucket: false,
        platform: false,
        loadBalancers: 1,
        accelerators: false,
        waker: false,
      },
    ]);
    expect(notebookStackSpecs(s).map((x) => x.id)).toEqual(["notebook", "notebook-dev"]);
    expect(stateBackendStackSpecs(s).map((x) => x.id)).toEqual(["state-backend-dev"]);
  });

  test("NOTEBOOK_ENVIRONMENTS (JSON) replaces the context", () => {
    const s = read(
      { NOTEBOOK_ENVIRONMENTS: '{"qa": {"stateBucket": "qa-state", "stateRegion": "us-east-2"}}' },
      { dev: { stateBucket: "x-state", stateRegion: "eu-west-1" } },
    );
    expect(s.environments.map((e) => e.name)).toEqual(["qa"]);
  });

  test("none configured: only the local notebook stack", () => {
    expect(notebookStackSpecs(read({}, {})).map((x) => x.id)).toEqual(["notebook"]);
    expect(notebookStackSpecs(read({}, undefined)).map((x) => x.id)).toEqual(["notebook"]);
  });

  const good = { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" };
  test.each<[string, unknown, RegExp]>([
    ["environments is a list", [good], /must be an object of environments/],
    ["an environment name is not a DNS label", { Dev_1: good }, /environment "Dev_1" has an invalid name/],
    ["an entry is not an object", { dev: "acme-nb-state" }, /environment "dev" must be an object/],
    ["an entry has an unknown field", { dev: { ...good, bucket: "x" } }, /unknown field "bucket"/],
    ["stateBucket is missing", { dev: { stateRegion: "eu-west-1" } }, /stateBucket undefined: expected an S3 bucket name/],
    ["stateBucket has upper case", { dev: { ...good, stateBucket: "Acme-State" } }, /stateBucket "Acme-State"/],
    ["stateRegion is not a region", { dev: { ...good, stateRegion: "ireland" } }, /stateRegion "ireland": expected an AWS region/],
    ["stateKeyPrefix has a leading slash", { dev: { ...good, stateKeyPrefix: "/nb" } }, /stateKeyPrefix "\/nb"/],
    ...["xn--nb-state", "sthree-nb", "amzn-s3-demo-nb"].map((bucket): [string, unknown, RegExp] => [
      `stateBucket ${bucket} has a prefix S3 reserves`,
      { dev: { ...good, stateBucket: bucket } },
      new RegExp(
        `stateBucket "${bucket}": S3 reserves names starting with '[a-z0-9-]+-' \\(prefixes xn--, sthree-, amzn-s3-demo-; suffixes -s3alias, --ol-s3, \\.mrap, --x-s3, --table-s3\\); choose another name$`,
      ),
    ]),
    ...["nb-state-s3alias", "nb-state--ol-s3", "nb-state.mrap", "nb--x-s3", "nb--table-s3"].map((bucket): [string, unknown, RegExp] => [
      `stateBucket ${bucket} has a suffix S3 reserves`,
      { dev: { ...good, stateBucket: bucket } },
      new RegExp(`stateBucket "${bucket.replace(/\./g, "\\.")}": S3 reserves names ending with`),
    ]),
    [
      "stateKeyPrefix makes a state key longer than S3's 1,024 bytes",
      { dev: { ...good, stateKeyPrefix: "p".repeat(970) } },
      /environment "dev" has a stateKeyPrefix of 970 bytes: with the environment and a 32-character user the state key would be 1025 bytes, more than S3's 1024; use at most 969 bytes$/,
    ],
    [
      "an environment sharing another's bucket sets bootstrapStateInBucket (only the first has a bootstrap stack)",
      { dev: good, qa: { ...good, bootstrapStateInBucket: true } },
      /^environment qa sets bootstrapStateInBucket, but its stateBucket acme-nb-state is created by environment dev \(state-backend-dev\): set bootstrapStateInBucket on dev instead$/,
    ],
  ])("fails when %s", (_what, context, message) => {
    const err = errorOf(() => {
      const settings = read({}, context);
      stateBackendStackSpecs(settings);
    });
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain("\n");
  });

  test("a stateKeyPrefix that leaves the longest key at 1,024 bytes is accepted", () => {
    expect(read({}, { dev: { ...good, stateKeyPrefix: "p".repeat(969) } }).environments[0].stateKeyPrefix).toHaveLength(969);
  });

  test("fails when NOTEBOOK_ENVIRONMENTS names an environment twice (JSON would keep the last)", () => {
    const twice = '{"dev": {"stateBucket": "a-state", "stateRegion": "eu-west-1"}, "dev": {"stateBucket": "b-state", "stateRegion": "eu-west-1"}}';
    expect(errorOf(() => read({ NOTEBOOK_ENVIRONMENTS: twice })).message).toBe(
      'NOTEBOOK_ENVIRONMENTS has the key "dev" twice at the top level: JSON keeps only the last one; remove or rename the other',
    );
    const field = '{"dev": {"stateBucket": "a-state", "stateRegion": "eu-west-1", "stateBucket": "b-state"}}';
    expect(errorOf(() => read({ NOTEBOOK_ENVIRONMENTS: field })).message).toMatch(/has the key "stateBucket" twice in "dev"/);
    // The same key in two different objects is fine.
    expect(
      read({
        NOTEBOOK_ENVIRONMENTS: '{"dev": {"stateBucket": "a-state", "stateRegion": "eu-west-1"}, "qa": {"stateBucket": "a-state", "stateRegion": "eu-west-1"}}',
      }).environments,
    ).toHaveLength(2);
  });

  test("fails when cdktf.json names an environment twice", () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "nb-cdktf-json-"));
    try {
      fs.writeFileSync(
        path.join(project, "cdktf.json"),
        '{"app": "x", "context": {"environments": {"dev": {}, "dev": {"stateBucket": "a-state", "stateRegion": "eu-west-1"}}}}',
      );
      const err = errorOf(() => readSettings({ env: { NOTEBOOK_USER: "bob" }, environmentsContext: {}, projectDir: project }));
      expect(err.message).toBe('cdktf.json has the key "dev" twice in "context" > "environments": JSON keeps only the last one; remove or rename the other');
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  test("fails when NOTEBOOK_ENVIRONMENTS is not JSON", () => {
    expect(errorOf(() => read({ NOTEBOOK_ENVIRONMENTS: "{dev:" })).message).toMatch(/^NOTEBOOK_ENVIRONMENTS is not valid JSON/);
  });
});

describe("the app", () => {
  const root = path.resolve(__dirname, "..");
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "nb-app-"));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const runApp = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["-r", "sucrase/register/ts", "main.ts"], {
      cwd: root,
      env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
      encoding: "utf8",
    });

  test("after synth, forgets a working directory's cached backend that belongs to another user", () => {
    // GIVEN a working directory that terraform initialised for bob's state file
    const cache = path.join(outdir, "stacks", "notebook", ".terraform", "terraform.tfstate");
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    const bobs = { version: 3, backend: { type: "local", config: { path: path.join(root, "notebook-bob.tfstate"), workspace_dir: null }, hash: 1 } };
    fs.writeFileSync(cache, JSON.stringify(bobs));
    // WHEN alice synthesizes, THEN the cache is gone: her terraform init starts afresh
    const alice = runApp({ NOTEBOOK_USER: "alice" });
    expect(alice.stderr).toBe("");
    expect(alice.status).toBe(0);
    expect(fs.existsSync(cache)).toBe(false);
    // AND a cache that matches (alice's own) is kept
    const alices = { ...bobs, backend: { ...bobs.backend, config: { path: path.join(root, "notebook-alice.tfstate"), workspace_dir: null } } };
    fs.writeFileSync(cache, JSON.stringify(alices));
    expect(runApp({ NOTEBOOK_USER: "alice" }).status).toBe(0);
    expect(fs.existsSync(cache)).toBe(true);
  });

  test("fails with one clear line, not a stack trace, on a bad setting", () => {
    const result = runApp({ NOTEBOOK_USER: "jane doe" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^error: NOTEBOOK_USER "jane doe" is not a valid user name: expected/)]);
  });
});
