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
}

/** Notebooks per load balancer: it holds at most 100 target groups, and keeps a few for the team's other services. */
export const DEFAULT_MAX_NOTEBOOKS = 90;
export const MAX_TARGET_GROUPS_PER_LOAD_BALANCER = 100;

export type BackendSpec =
  | { readonly type: "local"; readonly path: string }
  | { readonly type: "s3"; readonly bucket: string; readonly key: string; readonly region: string };

/** One notebook stack the app synthesizes. */
export interface NotebookStackSpec {
  /** `notebook`, or `notebook-<env>` for an environment with remote state. */
  readonly id: string;
  /** Environment name used in tags and state keys (`local` for the `notebook` stack). */
  readonly environment: string;
  readonly user: string;
  readonly backend: BackendSpec;
  /** Per-user settings from a team file, used instead of the vars file's. */
  readonly overrides?: { readonly cpu?: number; readonly memory?: number; readonly jupyterDockerTag?: string };
  /**
   * The user is listed in the environment's team file. Their notebook then has one
   * configuration whichever stack deploys it (the administrator's `notebook-<env>-<user>`
   * or the user's own `notebook-<env>`, which share a state): the team file's settings, and
   * a generated token of its own; the vars file's `token`, one for every user, is ignored.
   */
  readonly teamMember?: boolean;
}

/** The stack that creates an environment's state bucket: its own state is local. */
export interface StateBackendStackSpec {
  /** `state-backend-<env>`. */
  readonly id: string;
  readonly environment: EnvironmentSettings;
  /** Where the bootstrap stack keeps its own state: a local file first, the bucket once moved. */
  readonly backend: BackendSpec;
}

export interface SettingsInput {
  /** Environment variables, usually `process.env`. */
  readonly env: Record<string, string | undefined>;
  /** The `environments` context value from cdktf.json (may be undefined). */
  readonly environmentsContext?: unknown;
  readonly projectDir: string;
  /** Name of the operating-system user. @default os.userInfo().username */
  readonly osUser?: () => string;
}

export const DEFAULT_STATE_KEY_PREFIX = "jupyter-notebooks";
/** Environment name of the `notebook` stack (local state). */
export const LOCAL_ENVIRONMENT = "local";
/**
 * Operating-system users that many people share (containers, cloud images, CI): as the
 * default owner they would put different people's notebooks under one state key.
 */
export const SHARED_OS_USERS = [
  "root", "admin", "administrator", "ubuntu", "ec2-user", "debian", "vscode", "node",
  "jovyan", "codespace", "runner", "docker", "user", "app",
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
export const ENVIRONMENT_FIELDS = ["stateBucket", "stateRegion", "stateKeyPrefix", "teamFile", "maxNotebooks", "bootstrapStateInBucket"];

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
  return { user, ...(userProblem ? { userProblem } : {}), environments: readEnvironments(environments, source, input.projectDir), projectDir: input.projectDir };
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
        `the operating-system user ${JSON.stringify(raw)} is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
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
    throw new SettingsError(`${source} must be an object of environments, e.g. {"dev": {"stateBucket": "acme-nb-state", "stateRegion": "eu-west-1"}}, got ${JSON.stringify(value)}`);
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
      throw new SettingsError(`${where} has stateBucket ${JSON.stringify(bucket)}: S3 reserves names ${reserved.endsWith("-") ? "starting" : "ending"} with '${reserved}' (${RESERVED_BUCKET_TEXT}); choose another name`);
    }
    const region = fields.stateRegion;
    if (typeof region !== "string" || !REGION.test(region)) {
      throw new SettingsError(`${where} has stateRegion ${JSON.stringify(region)}: expected an AWS region such as eu-west-1`);
    }
    const prefix = fields.stateKeyPrefix ?? DEFAULT_STATE_KEY_PREFIX;
    if (typeof prefix !== "string" || !KEY_PREFIX.test(prefix)) {
      throw new SettingsError(`${where} has stateKeyPrefix ${JSON.stringify(prefix)}: expected S3 key segments separated by '/', without a leading or trailing '/'`);
    }
    // The longest key this environment writes: the longest user's state, or the bootstrap stack's.
    const longestKey = Math.max(
      Buffer.byteLength(userStateKey(prefix, name, "u".repeat(MAX_USER_LENGTH))),
      Buffer.byteLength(bootstrapStateKey(prefix, name)),
    );
    if (longestKey > MAX_S3_KEY_BYTES) {
      const room = MAX_S3_KEY_BYTES - (longestKey - Buffer.byteLength(prefix));
      throw new SettingsError(
        `${where} has a stateKeyPrefix of ${Buffer.byteLength(prefix)} bytes: with the environment and a ${MAX_USER_LENGTH}-character user the state key would be ${longestKey} bytes, more than S3's ${MAX_S3_KEY_BYTES}; use at most ${room} bytes`,
      );
    }
    const maxNotebooks = fields.maxNotebooks ?? DEFAULT_MAX_NOTEBOOKS;
    if (typeof maxNotebooks !== "number" || !Number.isInteger(maxNotebooks) || maxNotebooks < 1 || maxNotebooks > MAX_TARGET_GROUPS_PER_LOAD_BALANCER) {
      throw new SettingsError(`${where} has maxNotebooks ${JSON.stringify(maxNotebooks)}: expected a whole number from 1 to ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER}`);
    }
    const teamFile = fields.teamFile;
    if (teamFile !== undefined && (typeof teamFile !== "string" || teamFile === "")) {
      throw new SettingsError(`${where} has teamFile ${JSON.stringify(teamFile)}: expected the path of a JSON file, relative to the project`);
    }
    const team = teamFile === undefined ? [] : readTeamFile(teamFile, projectDir);
    if (team.length > maxNotebooks) {
      throw new SettingsError(
        `${where}: team file ${teamFile} lists ${team.length} users, more than maxNotebooks ${maxNotebooks}. ` +
          `Each notebook takes one of the ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} target groups a load balancer can hold; ` +
          `put the other users in a second environment with its own load balancer (and team file), or raise maxNotebooks if this load balancer has room`,
      );
    }
    const bootstrapStateInBucket = fields.bootstrapStateInBucket ?? false;
    if (typeof bootstrapStateInBucket !== "boolean") {
      throw new SettingsError(`${where} has bootstrapStateInBucket ${JSON.stringify(bootstrapStateInBucket)}: expected true or false`);
    }
    return { name, stateBucket: bucket, stateRegion: region, stateKeyPrefix: prefix, team, maxNotebooks, bootstrapStateInBucket };
  });
}

function userStateKey(prefix: string, environment: string, user: string): string {
  return `${prefix}/${environment}/${user}/terraform.tfstate`;
}

/** "_" never appears in an environment or user name: no notebook shares this key. */
function bootstrapStateKey(prefix: string, environment: string): string {
  return `${prefix}/_bootstrap/${environment}/terraform.tfstate`;
}

/** Where a user's notebook keeps its state in an environment: the same for their own and the team's stack. */
function remoteBackend(env: EnvironmentSettings, user: string): BackendSpec {
  return { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: userStateKey(env.stateKeyPrefix, env.name, user) };
}

/**
 * The notebook stacks for these settings: `notebook` with local state, one `notebook-<env>`
 * per environment, and one `notebook-<env>-<user>` per user of an environment's team file.
 */
export function notebookStackSpecs(settings: Settings): NotebookStackSpec[] {
  const user = settings.user;
  // Without a user, only the team roll-out (whose users the team file names) is possible.
  const own = <T>(spec: () => T): T[] => (user === undefined ? [] : [spec()]);
  const local = own<NotebookStackSpec>(() => ({
    id: "notebook",
    environment: LOCAL_ENVIRONMENT,
    user: user!,
    backend: { type: "local", path: localStatePath(settings.projectDir, user!) },
  }));
  const overridesOf = (member: TeamMember) => ({ cpu: member.cpu, memory: member.memory, jupyterDockerTag: member.jupyterDockerTag });
  const remote = settings.environments.flatMap((env): NotebookStackSpec[] => {
    // The current user's own stack shares its state with their team stack: same settings,
    // and no second stack for the same state.
    const self = env.team.find((member) => member.name === user);
    return [
      ...own<NotebookStackSpec>(() => ({
        id: `notebook-${env.name}`,
        environment: env.name,
        user: user!,
        backend: remoteBackend(env, user!),
        ...(self ? { overrides: overridesOf(self), teamMember: true } : {}),
      })),
      ...env.team
        .filter((member) => member !== self)
        .map((member) => ({
          id: `notebook-${env.name}-${member.name}`,
          environment: env.name,
          user: member.name,
          backend: remoteBackend(env, member.name),
          overrides: overridesOf(member),
          teamMember: true,
        })),
    ];
  });
  const specs = [...local, ...remote];
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.id)) {
      throw new SettingsError(`two stacks would be called ${spec.id} (an environment name and a team user together make another environment's stack id): rename the environment or the user`);
    }
    seen.add(spec.id);
  }
  return specs;
}

/** One `state-backend-<env>` stack per environment, creating its state bucket. */
export function stateBackendStackSpecs(settings: Settings): StateBackendStackSpec[] {
  // Environments may share a bucket (their keys differ): it is created once, by the first.
  const first = new Map<string, EnvironmentSettings>();
  for (const env of settings.environments) {
    const earlier = first.get(env.stateBucket);
    if (!earlier) first.set(env.stateBucket, env);
    else if (earlier.stateRegion !== env.stateRegion) {
      throw new SettingsError(`environments ${earlier.name} and ${env.name} name the same stateBucket ${env.stateBucket} in different regions (${earlier.stateRegion}, ${env.stateRegion}): a bucket has one region`);
    } else if (env.bootstrapStateInBucket) {
      // Only the first environment naming a bucket has a state-backend stack whose state could move.
      throw new SettingsError(
        `environment ${env.name} sets bootstrapStateInBucket, but its stateBucket ${env.stateBucket} is created by environment ${earlier.name} (state-backend-${earlier.name}): set bootstrapStateInBucket on ${earlier.name} instead`,
      );
    }
  }
  return [...first.values()].map((env) => ({
    id: `state-backend-${env.name}`,
    environment: env,
    backend: env.bootstrapStateInBucket
      ? { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: bootstrapStateKey(env.stateKeyPrefix, env.name) }
      : { type: "local", path: path.join(settings.projectDir, `state-backend-${env.name}.tfstate`) },
  }));
}

/** The `notebook` stack's state file: one per user, in the project directory (git-ignored). */
export function localStatePath(projectDir: string, user: string): string {
  return path.join(projectDir, `notebook-${user}.tfstate`);
}
