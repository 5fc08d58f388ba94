import * as os from "os";
import * as path from "path";

/**
 * Synth-time settings: who the notebook belongs to and where each environment keeps
 * its state. Terraform variables cannot configure a backend and the cdktf CLI strips
 * TF_VAR_* from the app's environment, so these come from NOTEBOOK_* environment
 * variables and the `environments` context of cdktf.json.
 */

/** A synth-time setting that cannot be used; main.ts prints its message as one line. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

export interface EnvironmentSettings {
  /** Environment name, part of the stack id `notebook-<name>` and of the state key. */
  readonly name: string;
  /** S3 bucket holding the state of every notebook of this environment. */
  readonly stateBucket: string;
  /** Region of the state bucket. */
  readonly stateRegion: string;
  /** Key prefix in the bucket. @default "jupyter-notebooks" */
  readonly stateKeyPrefix: string;
}

export interface Settings {
  /** Owner of the notebook: a lower-case DNS label. */
  readonly user: string;
  /** Environments with remote state, in the order they were configured. */
  readonly environments: EnvironmentSettings[];
  /** Directory of the project (where local state files live). */
  readonly projectDir: string;
}

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
/**
 * Operating-system users that many people share (containers, cloud images, CI): as the
 * default owner they would put different people's notebooks under one state key.
 */
export const SHARED_OS_USERS = [
  "root", "admin", "administrator", "ubuntu", "ec2-user", "debian", "vscode", "node",
  "jovyan", "codespace", "runner", "docker", "user", "app",
];
export const MAX_USER_LENGTH = 32;
const ENVIRONMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;
const REGION = /^[a-z]{2,4}(-[a-z]+)+-[0-9]+$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const ENVIRONMENT_FIELDS = ["stateBucket", "stateRegion", "stateKeyPrefix"];

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
  return { user, environments: readEnvironments(environments, source), projectDir: input.projectDir };
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
  if (user.length > MAX_USER_LENGTH || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(user)) {
    throw new SettingsError(`${source} ${JSON.stringify(raw)} is not a valid user name: ${expected}`);
  }
  if (!given && SHARED_OS_USERS.includes(user)) {
    throw new SettingsError(
      `the operating-system user ${JSON.stringify(raw)} is shared by many people: set NOTEBOOK_USER to your own name, so that your notebook and its state are yours alone`,
    );
  }
  return user;
}

function readEnvironments(value: unknown, source: string): EnvironmentSettings[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new SettingsError(`${source} must be an object of environments, e.g. {"dev": {"stateBucket": "acme-nb-state", "stateRegion": "eu-west-1"}}, got ${JSON.stringify(value)}`);
  }
  return Object.entries(value as Record<string, unknown>).map(([name, entry]) => {
    const where = `${source}: environment ${JSON.stringify(name)}`;
    if (!ENVIRONMENT_NAME.test(name)) {
      throw new SettingsError(`${where} has an invalid name: expected a lower-case DNS label of at most 24 characters`);
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
    return { name, stateBucket: bucket, stateRegion: region, stateKeyPrefix: prefix };
  });
}

/** The notebook stacks for these settings: `notebook` with local state, and one `notebook-<env>` per environment. */
export function notebookStackSpecs(settings: Settings): NotebookStackSpec[] {
  const local: NotebookStackSpec = {
    id: "notebook",
    environment: "local",
    user: settings.user,
    backend: { type: "local", path: localStatePath(settings.projectDir, settings.user) },
  };
  const remote = settings.environments.map((env): NotebookStackSpec => ({
    id: `notebook-${env.name}`,
    environment: env.name,
    user: settings.user,
    backend: {
      type: "s3",
      bucket: env.stateBucket,
      region: env.stateRegion,
      key: `${env.stateKeyPrefix}/${env.name}/${settings.user}/terraform.tfstate`,
    },
  }));
  return [local, ...remote];
}

/** The `notebook` stack's state file: one per user, in the project directory (git-ignored). */
export function localStatePath(projectDir: string, user: string): string {
  return path.join(projectDir, `notebook-${user}.tfstate`);
}
