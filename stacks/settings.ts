import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * Synth-time settings: who the notebook belongs to and where each environment keeps
 * its state. Terraform variables cannot configure a backend and the cdktf CLI strips
 * TF_VAR_* from the app's environment, so these come from NOTEBOOK_* environment
 * variables and the `environments` context of cdktf.json.
 */

export { SettingsError } from "./settings-error";
import { parseJsonStrictly } from "./json-text";
import { SettingsError } from "./settings-error";
import { MAX_USER_LENGTH, readTeamFile, TeamMember, USER_NAME } from "./team";
export { MAX_USER_LENGTH } from "./team";
import { REGION_RE } from "./patterns";
import { acceleratorsStateKey, bootstrapStateKey, LOCAL_ENVIRONMENT, platformStateKey, userStateKey, wakerStateKey } from "./stack-specs";

export interface EnvironmentSettings {
  /** Environment name, part of the stack id `notebook-<name>` and of the state key. */
  readonly name: string;
  /** S3 bucket holding the state of every notebook of this environment. */
  readonly stateBucket: string;
  /** Region of the state bucket. */
  readonly stateRegion: string;
  /** Key prefix in the bucket. @default "jupyter-notebooks" */
  readonly stateKeyPrefix: string;
  /** Users the administrator rolls notebooks out to (from `teamFile`). @default none */
  readonly team: TeamMember[];
  /** Most notebooks the team file may ask for (a load balancer holds 100 target groups). @default 90 */
  readonly maxNotebooks: number;
  /** Keep the state-backend stack's own state in the bucket (after moving it there). @default false */
  readonly bootstrapStateInBucket: boolean;
  /**
   * The environment has a `platform-<env>` stack (cluster, network, load balancers, EFS), and
   * its notebook stacks read it from that stack's state instead of the platform variables.
   * @default false: the team's own platform, named in each vars file
   */
  readonly platform: boolean;
  /** Load balancers the platform stack creates; each holds maxNotebooks notebooks. @default 1 */
  readonly loadBalancers: number;
  /**
   * The environment has an `accelerators-<env>` stack: accelerated capacity added to the team's
   * own cluster, which its notebooks read from that stack's state. (A platform environment's
   * accelerated capacity is its platform stack's.) @default false
   */
  readonly accelerators: boolean;
  /**
   * The environment has a `waker-<env>` stack: on the team's own cluster and load balancer,
   * opening a stopped notebook's URL starts it. (A platform environment's waker is its
   * platform stack's.) @default false
   */
  readonly waker: boolean;
}

export interface Settings {
  /**
   * Owner of the notebook: a lower-case DNS label. Undefined when NOTEBOOK_USER is unset
   * and the operating-system user cannot name a notebook (root in a container, say): the
   * stacks that need no user (state-backend-<env>, a team's roll-out) still work.
   */
  readonly user: string | undefined;
  /** Why there is no user, when there is none: the one line to show for a stack that needs one. */
  readonly userProblem?: string;
  /** Environments with remote state, in the order they were configured. */
  readonly environments: EnvironmentSettings[];
  /** Directory of the project (where local state files live). */
  readonly projectDir: string;
  /**
   * The `notebook` stack (local state) reads its platform from a `platform` stack with local
   * state, instead of the platform variables. @default false
   */
  readonly localPlatform: boolean;
  /**
   * The `notebook` stack (local state, the team's own cluster) reads accelerated capacity from
   * an `accelerators` stack with local state. @default false
   */
  readonly localAccelerators: boolean;
  /**
   * `npm run migrate` deploys a notebook of the old configuration's state with its suffix:
   * the stack and the suffix to import (NOTEBOOK_KEEP_SUFFIX=<stack>=<suffix>).
   */
  readonly keepSuffix?: { readonly stack: string; readonly suffix: string };
}

/** Notebooks per load balancer: it holds at most 100 target groups, and keeps a few for the team's other services. */
export const DEFAULT_MAX_NOTEBOOKS = 90;
export const MAX_TARGET_GROUPS_PER_LOAD_BALANCER = 100;
/** Most load balancers a platform stack creates (the account's default quota is 50 per region). */
export { MAX_LOAD_BALANCERS } from "../modules/platform-state/placement";
import { MAX_LOAD_BALANCERS } from "../modules/platform-state/placement";

export interface SettingsInput {
  /** Environment variables, usually `process.env`. */
  readonly env: Record<string, string | undefined>;
  /** The `environments` context value from cdktf.json (may be undefined). */
  readonly environmentsContext?: unknown;
  /** The `localPlatform` context value from cdktf.json (may be undefined). */
  readonly localPlatformContext?: unknown;
  /** The `localAccelerators` context value from cdktf.json (may be undefined). */
  readonly localAcceleratorsContext?: unknown;
  readonly projectDir: string;
  /** Name of the operating-system user. @default os.userInfo().username */
  readonly osUser?: () => string;
}

export const DEFAULT_STATE_KEY_PREFIX = "jupyter-notebooks";
/**
 * Operating-system users that many people share (containers, cloud images, CI): as the
 * default owner they would put different people's notebooks under one state key.
 */
export const SHARED_OS_USERS = [
  "root",
  "admin",
  "administrator",
  "ubuntu",
  "ec2-user",
  "debian",
  "vscode",
  "node",
  "jovyan",
  "codespace",
  "runner",
  "docker",
  "user",
  "app",
];
const ENVIRONMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;
const REGION = new RegExp(REGION_RE);
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Names S3 keeps for itself (bucket naming rules of general purpose buckets). */
const RESERVED_BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
const RESERVED_BUCKET_TEXT = `prefixes ${RESERVED_BUCKET_PREFIXES.join(", ")}; suffixes ${RESERVED_BUCKET_SUFFIXES.join(", ")}`;
/** S3 object keys are at most 1,024 bytes of UTF-8. */
const MAX_S3_KEY_BYTES = 1024;
const KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
/** The fields of an environment in cdktf.json's `environments` context. */
export const ENVIRONMENT_FIELDS = [
  "stateBucket",
  "stateRegion",
  "stateKeyPrefix",
  "teamFile",
  "maxNotebooks",
  "bootstrapStateInBucket",
  "platform",
  "loadBalancers",
  "accelerators",
  "waker",
];

export function readSettings(input: SettingsInput): Settings {
  let user: string | undefined;
  let userProblem: string | undefined;
  const explicit = input.env.NOTEBOOK_USER;
  if (explicit !== undefined && explicit !== "") {
    user = readUser(explicit, () => explicit); // a wrong explicit value is always an error
  } else {
    try {
      user = readUser(undefined, input.osUser ?? (() => os.userInfo().username));
    } catch (err) {
      if (!(err instanceof SettingsError)) throw err;
      userProblem = err.message;
    }
  }
  const fromEnv = input.env.NOTEBOOK_ENVIRONMENTS;
  let environments: unknown = input.environmentsContext;
  let source = 'cdktf.json context "environments"';
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    source = "NOTEBOOK_ENVIRONMENTS";
    environments = parseJsonStrictly(fromEnv, "NOTEBOOK_ENVIRONMENTS");
  } else {
    checkCdktfJson(input.projectDir);
  }
  const localPlatform = input.localPlatformContext ?? false;
  if (typeof localPlatform !== "boolean") {
    throw new SettingsError(`cdktf.json context "localPlatform" must be true or false, got ${JSON.stringify(localPlatform)}`);
  }
  const localAccelerators = input.localAcceleratorsContext ?? false;
  if (typeof localAccelerators !== "boolean") {
    throw new SettingsError(`cdktf.json context "localAccelerators" must be true or false, got ${JSON.stringify(localAccelerators)}`);
  }
  if (localAccelerators && localPlatform) {
    throw new SettingsError(
      'cdktf.json context sets both "localPlatform" and "localAccelerators": the platform stack offers accelerated capacity itself (its accelerator_instance_types); remove "localAccelerators"',
    );
  }
  const keep = input.env.NOTEBOOK_KEEP_SUFFIX;
  let keepSuffix: Settings["keepSuffix"];
  if (keep !== undefined && keep !== "") {
    const m = /^(notebook(?:-[a-z0-9-]+)?)=([A-Za-z0-9]{8})$/.exec(keep);
    if (!m) throw new SettingsError(`NOTEBOOK_KEEP_SUFFIX ${JSON.stringify(keep)}: expected <stack>=<suffix>, e.g. notebook=Xk3Pq9Za (set by npm run migrate)`);
    keepSuffix = { stack: m[1], suffix: m[2] };
  }
  return {
    user,
    ...(userProblem ? { userProblem } : {}),
    ...(keepSuffix ? { keepSuffix } : {}),
    environments: readEnvironments(environments, source, input.projectDir),
    projectDir: input.projectDir,
    localPlatform,
    localAccelerators,
  };
}

/** The user, for a stack or command that needs one; the reason there is none otherwise. */
export function requireUser(settings: Settings): string {
  if (settings.user === undefined) throw new SettingsError(settings.userProblem ?? "no user: set NOTEBOOK_USER");
  return settings.user;
}

/**
 * cdktf reads cdktf.json with JSON.parse, which keeps the last of two equal keys: an
 * environment written twice would lose its first settings without a word. (Only the file
 * is checked: the app receives the context already parsed.)
 */
function checkCdktfJson(projectDir: string): void {
  let text: string;
  try {
    text = fs.readFileSync(path.join(projectDir, "cdktf.json"), "utf8");
  } catch {
    return; // no project file (tests, scripts run elsewhere): nothing to check
  }
  parseJsonStrictly(text, "cdktf.json");
}

/**
 * NOTEBOOK_USER, else the operating-system user. The name becomes a DNS label, a state
 * key and an EFS directory, so it must already be one: lower-case letters, digits and
 * single `-`. Names are not rewritten, because no rewriting is one-to-one: john.doe,
 * john_doe and John-Doe would all become john-doe and share one state, one notebook and
 * one home. A name that is not canonical is refused with the spelling to use instead.
 * An operating-system user that many people share (root, ubuntu, vscode, ...) is refused
 * unless NOTEBOOK_USER names it.
 */
export function readUser(explicit: string | undefined, osUser: () => string): string {
  const given = explicit !== undefined && explicit !== "";
  const raw = given ? explicit : osUser();
  const source = given ? "NOTEBOOK_USER" : "the operating-system user name";
  const fix = given ? "" : " (set NOTEBOOK_USER to choose the name)";
  const expected = `expected 1 to ${MAX_USER_LENGTH} lower-case letters, digits and single '-', starting and ending with a letter or digit`;
  if (USER_NAME.test(raw)) {
    if (!given && SHARED_OS_USERS.includes(raw)) {
      throw new SettingsError(
        `the operating-system user ${JSON.stringify(
          raw,
        )} is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
      );
    }
    return raw;
  }
  if (/^[A-Za-z0-9._-]+$/.test(raw)) {
    // No spelling is suggested: john.doe and john_doe, told the same one, would share it.
    throw new SettingsError(
      `${source} ${JSON.stringify(raw)} is not a valid user name: ${expected}; set NOTEBOOK_USER to such a name that is yours alone on the team ` +
        "(it keys your state and your home; names are not rewritten, so that john.doe and john_doe never share one)",
    );
  }
  throw new SettingsError(`${source} ${JSON.stringify(raw)} is not a valid user name${fix}: ${expected}`);
}

function readEnvironments(value: unknown, source: string, projectDir: string): EnvironmentSettings[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SettingsError(
      `${source} must be an object of environments, e.g. {"dev": {"stateBucket": "acme-nb-state", "stateRegion": "eu-west-1"}}, got ${JSON.stringify(value)}`,
    );
  }
  return Object.entries(value as Record<string, unknown>).map(([name, entry]) => {
    const where = `${source}: environment ${JSON.stringify(name)}`;
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new SettingsError(`${where} has an invalid name: expected a lower-case DNS label of at most 24 characters`);
    }
    if (name === LOCAL_ENVIRONMENT) {
      throw new SettingsError(`${where}: "${LOCAL_ENVIRONMENT}" is the environment of the notebook stack with local state; choose another name`);
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new SettingsError(`${where} must be an object with stateBucket and stateRegion, got ${JSON.stringify(entry)}`);
    }
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !ENVIRONMENT_FIELDS.includes(k));
    if (unknown.length > 0) {
      throw new SettingsError(`${where} has unknown field ${JSON.stringify(unknown[0])}: allowed are ${ENVIRONMENT_FIELDS.join(", ")}`);
    }
    const bucket = fields.stateBucket;
    if (typeof bucket !== "string" || !BUCKET.test(bucket) || bucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
      throw new SettingsError(`${where} has stateBucket ${JSON.stringify(bucket)}: expected an S3 bucket name (3-63 lower-case letters, digits, '.' or '-')`);
    }
    const reserved = RESERVED_BUCKET_PREFIXES.find((p) => bucket.startsWith(p)) ?? RESERVED_BUCKET_SUFFIXES.find((p) => bucket.endsWith(p));
    if (reserved) {
      throw new SettingsError(
        `${where} has stateBucket ${JSON.stringify(bucket)}: S3 reserves names ${
          reserved.endsWith("-") ? "starting" : "ending"
        } with '${reserved}' (${RESERVED_BUCKET_TEXT}); choose another name`,
      );
    }
    const region = fields.stateRegion;
    if (typeof region !== "string" || !REGION.test(region)) {
      throw new SettingsError(`${where} has stateRegion ${JSON.stringify(region)}: expected an AWS region such as eu-west-1`);
    }
    const prefix = fields.stateKeyPrefix ?? DEFAULT_STATE_KEY_PREFIX;
    if (typeof prefix !== "string" || !KEY_PREFIX.test(prefix)) {
      throw new SettingsError(
        `${where} has stateKeyPrefix ${JSON.stringify(prefix)}: expected S3 key segments separated by '/', without a leading or trailing '/'`,
      );
    }
    // The longest key this environment writes: the longest user's state, or the bootstrap stack's.
    const longestKey = Math.max(
      Buffer.byteLength(userStateKey(prefix, name, "u".repeat(MAX_USER_LENGTH))),
      Buffer.byteLength(bootstrapStateKey(prefix, name)),
      Buffer.byteLength(platformStateKey(prefix, name)),
      Buffer.byteLength(acceleratorsStateKey(prefix, name)),
      Buffer.byteLength(wakerStateKey(prefix, name)),
    );
    if (longestKey > MAX_S3_KEY_BYTES) {
      const room = MAX_S3_KEY_BYTES - (longestKey - Buffer.byteLength(prefix));
      throw new SettingsError(
        `${where} has a stateKeyPrefix of ${Buffer.byteLength(
          prefix,
        )} bytes: with the environment and a ${MAX_USER_LENGTH}-character user the state key would be ${longestKey} bytes, more than S3's ${MAX_S3_KEY_BYTES}; use at most ${room} bytes`,
      );
    }
    const maxNotebooks = fields.maxNotebooks ?? DEFAULT_MAX_NOTEBOOKS;
    if (typeof maxNotebooks !== "number" || !Number.isInteger(maxNotebooks) || maxNotebooks < 1 || maxNotebooks > MAX_TARGET_GROUPS_PER_LOAD_BALANCER) {
      throw new SettingsError(
        `${where} has maxNotebooks ${JSON.stringify(maxNotebooks)}: expected a whole number from 1 to ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER}`,
      );
    }
    const platform = fields.platform ?? false;
    if (typeof platform !== "boolean") {
      throw new SettingsError(`${where} has platform ${JSON.stringify(platform)}: expected true (a platform-${name} stack, read by its notebooks) or false`);
    }
    const loadBalancers = fields.loadBalancers ?? 1;
    if (typeof loadBalancers !== "number" || !Number.isInteger(loadBalancers) || loadBalancers < 1 || loadBalancers > MAX_LOAD_BALANCERS) {
      throw new SettingsError(`${where} has loadBalancers ${JSON.stringify(loadBalancers)}: expected a whole number from 1 to ${MAX_LOAD_BALANCERS}`);
    }
    if (!platform && fields.loadBalancers !== undefined) {
      throw new SettingsError(
        `${where} sets loadBalancers without platform: true; the platform stack creates the load balancers, a team's own platform has the one its vars files name`,
      );
    }
    const accelerators = fields.accelerators ?? false;
    if (typeof accelerators !== "boolean") {
      throw new SettingsError(
        `${where} has accelerators ${JSON.stringify(
          accelerators,
        )}: expected true (an accelerators-${name} stack adds accelerated capacity to the team's cluster) or false`,
      );
    }
    if (accelerators && platform) {
      throw new SettingsError(
        `${where} sets accelerators with platform: true; platform-${name} offers accelerated capacity itself (its accelerator_instance_types variable): remove accelerators`,
      );
    }
    const waker = fields.waker ?? false;
    if (typeof waker !== "boolean") {
      throw new SettingsError(
        `${where} has waker ${JSON.stringify(waker)}: expected true (a waker-${name} stack: a stopped notebook's URL starts it) or false`,
      );
    }
    if (waker && platform) {
      throw new SettingsError(`${where} sets waker with platform: true; platform-${name} has its own waker: remove waker`);
    }
    if ((waker || platform) && maxNotebooks > MAX_TARGET_GROUPS_PER_LOAD_BALANCER - 1) {
      // Before the waker, a platform's load balancer held 100 notebooks: such a cdktf.json stops here, saying how to move on.
      throw new SettingsError(
        `${where} has maxNotebooks ${maxNotebooks} with ${waker ? "waker" : "platform: true"}: the waker${
          waker ? "" : ` of platform-${name}`
        } takes one of each load balancer's ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} target groups; use at most ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER - 1}` +
          (platform
            ? ` (before the waker a platform allowed ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER}: where a load balancer already holds ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} notebooks, destroy one of them before deploying platform-${name}, and raise loadBalancers to make room for it)`
            : ""),
      );
    }
    const teamFile = fields.teamFile;
    if (teamFile !== undefined && (typeof teamFile !== "string" || teamFile === "")) {
      throw new SettingsError(`${where} has teamFile ${JSON.stringify(teamFile)}: expected the path of a JSON file, relative to the project`);
    }
    const team = teamFile === undefined ? [] : readTeamFile(teamFile, projectDir);
    const accelerated = team.find((member) => member.accelerator !== undefined && member.accelerator !== "none");
    if (accelerated && !platform && !accelerators) {
      throw new SettingsError(
        `${where}: team file ${teamFile} gives ${accelerated.name} accelerator ${accelerated.accelerator}, but environment ${name} has no accelerated capacity: set "accelerators": true for it (and deploy accelerators-${name}), or remove the accelerator`,
      );
    }
    // Each notebook takes one target group of one load balancer.
    const capacity = maxNotebooks * loadBalancers;
    if (team.length > capacity) {
      const room = platform
        ? `${loadBalancers} load balancer${loadBalancers === 1 ? "" : "s"} of platform-${name} × maxNotebooks ${maxNotebooks} = ${capacity}. ` +
          `Raise loadBalancers (at most ${MAX_LOAD_BALANCERS}) and deploy platform-${name} first`
        : `maxNotebooks ${maxNotebooks}. Each notebook takes one of the ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} target groups a load balancer can hold; ` +
          `put the other users in a second environment with its own load balancer (and team file), or raise maxNotebooks if this load balancer has room`;
      throw new SettingsError(`${where}: team file ${teamFile} lists ${team.length} users, more than ${room}`);
    }
    const bootstrapStateInBucket = fields.bootstrapStateInBucket ?? false;
    if (typeof bootstrapStateInBucket !== "boolean") {
      throw new SettingsError(`${where} has bootstrapStateInBucket ${JSON.stringify(bootstrapStateInBucket)}: expected true or false`);
    }
    return {
      name,
      stateBucket: bucket,
      stateRegion: region,
      stateKeyPrefix: prefix,
      team,
      maxNotebooks,
      bootstrapStateInBucket,
      platform,
      loadBalancers,
      accelerators,
      waker,
    };
  });
}
