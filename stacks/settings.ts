import * as os from "os";
import * as path from "path";

/**
 * Synth-time settings: who the notebook belongs to and where each environment keeps
 * its state. Terraform variables cannot configure a backend and the cdktf CLI strips
 * TF_VAR_* from the app's environment, so these come from NOTEBOOK_* environment
 * variables and the `environments` context of cdktf.json.
 */

export { SettingsError } from "./settings-error";
import { SettingsError } from "./settings-error";
import { MAX_USER_LENGTH, readTeamFile, TeamMember, USER_NAME } from "./team";
export { MAX_USER_LENGTH } from "./team";
import { REGION_RE } from "./variables";

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
  /** Owner of the notebook: a lower-case DNS label. */
  readonly user: string;
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
const KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
/** The fields of an environment in cdktf.json's `environments` context. */
export const ENVIRONMENT_FIELDS = ["stateBucket", "stateRegion", "stateKeyPrefix", "teamFile", "maxNotebooks", "bootstrapStateInBucket"];

export function readSettings(input: SettingsInput): Settings {
  const user = readUser(input.env.NOTEBOOK_USER, input.osUser ?? (() => os.userInfo().username));
  const fromEnv = input.env.NOTEBOOK_ENVIRONMENTS;
  let environments: unknown = input.environmentsContext;
  let source = 'cdktf.json context "environments"';
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    source = "NOTEBOOK_ENVIRONMENTS";
    try {
      environments = JSON.parse(fromEnv);
    } catch {
      throw new SettingsError(`NOTEBOOK_ENVIRONMENTS is not valid JSON: expected an object such as {"dev": {"stateBucket": "...", "stateRegion": "..."}}`);
    }
  }
  return { user, environments: readEnvironments(environments, source, input.projectDir), projectDir: input.projectDir };
}

/**
 * NOTEBOOK_USER, else the operating-system user, lower-cased with `.` and `_` turned
 * into `-`. Anything else that is not a letter, digit or `-` is refused, and so is an
 * operating-system user that many people share (root, ubuntu, vscode, ...).
 */
export function readUser(explicit: string | undefined, osUser: () => string): string {
  const given = explicit !== undefined && explicit !== "";
  const raw = given ? explicit : osUser();
  const source = given ? "NOTEBOOK_USER" : "the operating-system user name (set NOTEBOOK_USER to override it)";
  const expected = `expected 1 to ${MAX_USER_LENGTH} letters, digits, '-', '.' or '_', starting and ending with a letter or digit`;
  if (!/^[A-Za-z0-9._-]+$/.test(raw)) {
    throw new SettingsError(`${source} ${JSON.stringify(raw)} is not a valid user name: ${expected}`);
  }
  const user = raw.toLowerCase().replace(/[._]/g, "-").replace(/-+/g, "-");
  if (!USER_NAME.test(user)) {
    throw new SettingsError(`${source} ${JSON.stringify(raw)} is not a valid user name: ${expected}`);
  }
  if (!given && SHARED_OS_USERS.includes(user)) {
    throw new SettingsError(
      `the operating-system user ${JSON.stringify(raw)} is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
    );
  }
  return user;
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
    const region = fields.stateRegion;
    if (typeof region !== "string" || !REGION.test(region)) {
      throw new SettingsError(`${where} has stateRegion ${JSON.stringify(region)}: expected an AWS region such as eu-west-1`);
    }
    const prefix = fields.stateKeyPrefix ?? DEFAULT_STATE_KEY_PREFIX;
    if (typeof prefix !== "string" || !KEY_PREFIX.test(prefix)) {
      throw new SettingsError(`${where} has stateKeyPrefix ${JSON.stringify(prefix)}: expected S3 key segments separated by '/', without a leading or trailing '/'`);
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

/** Where a user's notebook keeps its state in an environment: the same for their own and the team's stack. */
function remoteBackend(env: EnvironmentSettings, user: string): BackendSpec {
  return { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: `${env.stateKeyPrefix}/${env.name}/${user}/terraform.tfstate` };
}

/**
 * The notebook stacks for these settings: `notebook` with local state, one `notebook-<env>`
 * per environment, and one `notebook-<env>-<user>` per user of an environment's team file.
 */
export function notebookStackSpecs(settings: Settings): NotebookStackSpec[] {
  const local: NotebookStackSpec = {
    id: "notebook",
    environment: LOCAL_ENVIRONMENT,
    user: settings.user,
    backend: { type: "local", path: localStatePath(settings.projectDir, settings.user) },
  };
  const overridesOf = (member: TeamMember) => ({ cpu: member.cpu, memory: member.memory, jupyterDockerTag: member.jupyterDockerTag });
  const remote = settings.environments.flatMap((env): NotebookStackSpec[] => {
    // The current user's own stack shares its state with their team stack: same settings,
    // and no second stack for the same state.
    const self = env.team.find((member) => member.name === settings.user);
    return [
      {
        id: `notebook-${env.name}`,
        environment: env.name,
        user: settings.user,
        backend: remoteBackend(env, settings.user),
        ...(self ? { overrides: overridesOf(self), teamMember: true } : {}),
      },
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
  const specs = [local, ...remote];
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
    }
  }
  return [...first.values()].map((env) => ({
    id: `state-backend-${env.name}`,
    environment: env,
    backend: env.bootstrapStateInBucket
      ? // "_" never appears in an environment or user name: no notebook shares this key.
        { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: `${env.stateKeyPrefix}/_bootstrap/${env.name}/terraform.tfstate` }
      : { type: "local", path: path.join(settings.projectDir, `state-backend-${env.name}.tfstate`) },
  }));
}

/** The `notebook` stack's state file: one per user, in the project directory (git-ignored). */
export function localStatePath(projectDir: string, user: string): string {
  return path.join(projectDir, `notebook-${user}.tfstate`);
}
