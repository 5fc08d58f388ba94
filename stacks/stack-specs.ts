import * as path from "path";
import type { StateLocation } from "../modules/state-location";
import { SettingsError } from "./settings-error";
import type { EnvironmentSettings, Settings } from "./settings";
import { DEFAULT_MAX_NOTEBOOKS } from "./settings";
import type { TeamMember } from "./team";

/**
 * Which stacks the app synthesizes for given settings, and where each keeps its state:
 * `notebook` (a local file per user), `notebook-<env>` and a team's `notebook-<env>-<user>`
 * (one S3 key per user and environment), `state-backend-<env>` (once per bucket).
 */

/** Environment name of the `notebook` stack (local state). */
export const LOCAL_ENVIRONMENT = "local";

/** Where a stack keeps its state. */
export type BackendSpec = StateLocation;

/** One notebook stack the app synthesizes. */
export interface NotebookStackSpec {
  /** `notebook`, or `notebook-<env>` for an environment with remote state. */
  readonly id: string;
  /** Environment name used in tags and state keys (`local` for the `notebook` stack). */
  readonly environment: string;
  readonly user: string;
  readonly backend: BackendSpec;
  /** Per-user settings from a team file, used instead of the vars file's (see TeamMember). */
  readonly overrides?: Omit<TeamMember, "name">;
  /**
   * The user is listed in the environment's team file. Their notebook then has one
   * configuration whichever stack deploys it (the administrator's `notebook-<env>-<user>`
   * or the user's own `notebook-<env>`, which share a state): the team file's settings, and
   * a generated token of its own; the vars file's `token`, one for every user, is ignored.
   */
  readonly teamMember?: boolean;
  /**
   * The environment's platform stack, whose state this notebook reads its cluster, network,
   * load balancer and EFS from. Absent: the platform variables of the vars file name them.
   */
  readonly platform?: PlatformSpec;
  /** A suffix kept from the old configuration's notebook, imported at the first deploy (npm run migrate). */
  readonly keepSuffix?: string;
  /**
   * Where the environment's accelerated capacity comes from: its platform stack (`platform`
   * set), or an `accelerators-<env>` stack whose state the notebook reads. Absent: none.
   */
  readonly acceleratorCapacity?: AcceleratorCapacitySpec;
}

/** The stack that offers an environment's accelerated capacity. */
export interface AcceleratorCapacitySpec {
  /** `platform-<env>` or `accelerators-<env>` (`platform`, `accelerators` for the local stack). */
  readonly stackId: string;
  /** Where an accelerators stack keeps its state (absent for the platform, read with the platform). */
  readonly backend?: BackendSpec;
}

/** `accelerators-<env>` (`accelerators` for the local stack): accelerated capacity on the team's own cluster. */
export interface AcceleratorsStackSpec {
  readonly stackId: string;
  /** Environment name used in names and tags (`local` for the `accelerators` stack). */
  readonly environment: string;
  readonly backend: BackendSpec;
}

/** Where a notebook finds its environment's platform stack (the rest it reads from that stack's outputs). */
export interface PlatformSpec {
  /** `platform-<env>`, or `platform` for the `notebook` stack. */
  readonly stackId: string;
  /** Where the platform stack keeps its state (the notebook reads its outputs there). */
  readonly backend: BackendSpec;
}

/** `platform-<env>` (or `platform` for the local stack): the administrator's cluster, network, load balancers and EFS. */
export interface PlatformStackSpec extends PlatformSpec {
  /** Environment name used in names and tags (`local` for the `platform` stack). */
  readonly environment: string;
  /** Load balancers the platform creates. */
  readonly loadBalancers: number;
  /** Notebooks one load balancer holds (its `notebooks_per_load_balancer` output, which placement reads). */
  readonly notebooksPerLoadBalancer: number;
}

/** The stack that creates an environment's state bucket: its own state is local. */
export interface StateBackendStackSpec {
  /** `state-backend-<env>`. */
  readonly id: string;
  readonly environment: EnvironmentSettings;
  /** Every environment whose states go to this bucket (the first is `environment`): each gets its access policies here. */
  readonly environments: EnvironmentSettings[];
  /** Where the bootstrap stack keeps its own state: a local file first, the bucket once moved. */
  readonly backend: BackendSpec;
}

/** `<prefix>/<env>/`: where an environment's notebook states live, one folder per user. */
export function environmentStatePrefix(prefix: string, environment: string): string {
  return `${prefix}/${environment}/`;
}

export function userStateKey(prefix: string, environment: string, user: string): string {
  return `${environmentStatePrefix(prefix, environment)}${user}/terraform.tfstate`;
}

/** "_" never appears in an environment or user name: no notebook shares this key. */
export function bootstrapStateKey(prefix: string, environment: string): string {
  return `${prefix}/_bootstrap/${environment}/terraform.tfstate`;
}

/** "_" never appears in an environment or user name: no notebook shares this key. */
export function platformStateKey(prefix: string, environment: string): string {
  return `${prefix}/_platform/${environment}/terraform.tfstate`;
}

/** "_" never appears in an environment or user name: no notebook shares this key. */
export function acceleratorsStateKey(prefix: string, environment: string): string {
  return `${prefix}/_accelerators/${environment}/terraform.tfstate`;
}

/** Where an environment's `waker-<env>` stack keeps its state. */
export function wakerStateKey(prefix: string, environment: string): string {
  return `${prefix}/_waker/${environment}/terraform.tfstate`;
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
  const localPlatform = settings.localPlatform
    ? { platform: readsPlatform(localPlatformStack(settings)), acceleratorCapacity: { stackId: "platform" } }
    : settings.localAccelerators
    ? { acceleratorCapacity: readsAccelerators(localAcceleratorsStack(settings)) }
    : {};
  const local = own<NotebookStackSpec>(() => ({
    id: "notebook",
    environment: LOCAL_ENVIRONMENT,
    user: user!,
    backend: { type: "local", path: localStatePath(settings.projectDir, user!) },
    ...localPlatform,
  }));
  // Everything a team file sets for a member but the name.
  const overridesOf = ({ name: _name, ...overrides }: TeamMember): NonNullable<NotebookStackSpec["overrides"]> => overrides;
  const remote = settings.environments.flatMap((env): NotebookStackSpec[] => {
    // The current user's own stack shares its state with their team stack: same settings,
    // and no second stack for the same state.
    const self = env.team.find((member) => member.name === user);
    const platform = env.platform
      ? { platform: readsPlatform(environmentPlatformStack(env)), acceleratorCapacity: { stackId: `platform-${env.name}` } }
      : env.accelerators
      ? { acceleratorCapacity: readsAccelerators(environmentAcceleratorsStack(env)) }
      : {};
    return [
      ...own<NotebookStackSpec>(() => ({
        id: `notebook-${env.name}`,
        environment: env.name,
        user: user!,
        backend: remoteBackend(env, user!),
        ...(self ? { overrides: overridesOf(self), teamMember: true } : {}),
        ...platform,
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
          ...platform,
        })),
    ];
  });
  const specs = [...local, ...remote].map((spec) => (settings.keepSuffix?.stack === spec.id ? { ...spec, keepSuffix: settings.keepSuffix.suffix } : spec));
  if (settings.keepSuffix && !specs.some((spec) => spec.id === settings.keepSuffix!.stack)) {
    throw new SettingsError(
      `NOTEBOOK_KEEP_SUFFIX names stack ${settings.keepSuffix.stack}, which these settings do not have: ${specs.map((s) => s.id).join(", ") || "none"}`,
    );
  }
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.id)) {
      throw new SettingsError(
        `two stacks would be called ${spec.id} (an environment name and a team user together make another environment's stack id): rename the environment or the user`,
      );
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
      throw new SettingsError(
        `environments ${earlier.name} and ${env.name} name the same stateBucket ${env.stateBucket} in different regions (${earlier.stateRegion}, ${env.stateRegion}): a bucket has one region`,
      );
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
    environments: settings.environments.filter((other) => other.stateBucket === env.stateBucket),
    backend: env.bootstrapStateInBucket
      ? { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: bootstrapStateKey(env.stateKeyPrefix, env.name) }
      : { type: "local", path: path.join(settings.projectDir, `state-backend-${env.name}.tfstate`) },
  }));
}

/** The platform of an environment that has one: its state next to its notebooks' states. */
function environmentPlatformStack(env: EnvironmentSettings): PlatformStackSpec {
  return {
    stackId: `platform-${env.name}`,
    environment: env.name,
    backend: { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: platformStateKey(env.stateKeyPrefix, env.name) },
    loadBalancers: env.loadBalancers,
    notebooksPerLoadBalancer: env.maxNotebooks,
  };
}

/** The `platform` stack of the `notebook` stack: one load balancer, its state a local file. */
function localPlatformStack(settings: Settings): PlatformStackSpec {
  return {
    stackId: "platform",
    environment: LOCAL_ENVIRONMENT,
    backend: { type: "local", path: path.join(settings.projectDir, "platform.tfstate") },
    loadBalancers: 1,
    notebooksPerLoadBalancer: DEFAULT_MAX_NOTEBOOKS,
  };
}

/** What a notebook stack needs to know of its platform stack: the rest comes from its outputs. */
function readsPlatform(platform: PlatformStackSpec): PlatformSpec {
  return { stackId: platform.stackId, backend: platform.backend };
}

/** One platform stack per environment that has one, and `platform` with localPlatform. */
export function platformStackSpecs(settings: Settings): PlatformStackSpec[] {
  return [
    ...(settings.localPlatform ? [localPlatformStack(settings)] : []),
    ...settings.environments.filter((env) => env.platform).map(environmentPlatformStack),
  ];
}

/** The `notebook` stack's state file: one per user, in the project directory (git-ignored). */
export function localStatePath(projectDir: string, user: string): string {
  return path.join(projectDir, `notebook-${user}.tfstate`);
}

/** The accelerators stack of an environment on the team's own cluster: its state next to its notebooks' states. */
function environmentAcceleratorsStack(env: EnvironmentSettings): AcceleratorsStackSpec {
  return {
    stackId: `accelerators-${env.name}`,
    environment: env.name,
    backend: { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: acceleratorsStateKey(env.stateKeyPrefix, env.name) },
  };
}

/** The `accelerators` stack of the `notebook` stack: its state a local file. */
function localAcceleratorsStack(settings: Settings): AcceleratorsStackSpec {
  return { stackId: "accelerators", environment: LOCAL_ENVIRONMENT, backend: { type: "local", path: path.join(settings.projectDir, "accelerators.tfstate") } };
}

function readsAccelerators(stack: AcceleratorsStackSpec): AcceleratorCapacitySpec {
  return { stackId: stack.stackId, backend: stack.backend };
}

/** One accelerators stack per environment that has one (on the team's own cluster), and `accelerators` with localAccelerators. */
export function acceleratorsStackSpecs(settings: Settings): AcceleratorsStackSpec[] {
  return [
    ...(settings.localAccelerators ? [localAcceleratorsStack(settings)] : []),
    ...settings.environments.filter((env) => env.accelerators).map(environmentAcceleratorsStack),
  ];
}

/** `waker-<env>`: the waker of an environment on the team's own cluster and load balancer. */
export interface WakerStackSpec {
  readonly stackId: string;
  readonly environment: string;
  readonly backend: StateLocation;
}

/** One waker stack per environment that asks for one (`"waker": true`; a platform has its own). */
export function wakerStackSpecs(settings: Settings): WakerStackSpec[] {
  return settings.environments
    .filter((env) => env.waker)
    .map((env) => ({
      stackId: `waker-${env.name}`,
      environment: env.name,
      backend: { type: "s3", bucket: env.stateBucket, region: env.stateRegion, key: wakerStateKey(env.stateKeyPrefix, env.name) },
    }));
}
