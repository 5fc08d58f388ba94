import * as fs from "fs";
import { SettingsError } from "./settings-error";
import type { Settings } from "./settings";
import { environmentStatePrefix, LOCAL_ENVIRONMENT, localStatePath, PlatformStackSpec } from "./stack-specs";
import { pullS3State } from "./state-access";

/**
 * Destroying a platform stack while notebooks still run on it would take their cluster,
 * load balancer and network from under them, and leave their states pointing at nothing.
 * Before `cdktf destroy platform-<env>`, the app reads the environment's notebook states
 * and refuses while any of them still holds resources, naming the stacks to destroy first.
 * Before a deploy or diff, it refuses fewer load balancers than the platform has: deleting
 * one deletes its listeners, and with them the rules of the notebooks placed on it.
 */

/** Whether a Terraform state (its JSON text) still holds any managed resource. */
export function holdsResources(stateText: string): boolean {
  if (stateText.trim() === "") return false;
  const state = JSON.parse(stateText) as { resources?: Array<{ mode?: string; instances?: unknown[] }> };
  return (state.resources ?? []).some((r) => r.mode === "managed" && (r.instances ?? []).length > 0);
}

/** The users whose notebooks on this platform still hold resources, by their states. */
export async function notebooksOnPlatform(spec: PlatformStackSpec, settings: Settings, env: Record<string, string | undefined>): Promise<string[]> {
  if (spec.environment === LOCAL_ENVIRONMENT) {
    // The `notebook` stack's states: notebook-<user>.tfstate in the project.
    const pattern = /^notebook-([a-z0-9-]+)\.tfstate$/;
    return fs
      .readdirSync(settings.projectDir)
      .map((file) => pattern.exec(file)?.[1])
      .filter((user): user is string => user !== undefined)
      .filter((user) => holdsResources(fs.readFileSync(localStatePath(settings.projectDir, user), "utf8")))
      .sort();
  }
  const environment = settings.environments.find((e) => e.name === spec.environment);
  if (!environment) throw new Error(`no environment ${spec.environment}`);
  const prefix = environmentStatePrefix(environment.stateKeyPrefix, environment.name);
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import("@aws-sdk/client-s3");
  const endpoint = env.AWS_ENDPOINT_URL_S3;
  const s3 = new S3Client({ region: environment.stateRegion, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
  try {
    const users: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: environment.stateBucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        const user = /^([a-z0-9-]+)\/terraform\.tfstate$/.exec((object.Key ?? "").slice(prefix.length))?.[1];
        if (!user) continue;
        const body = await s3.send(new GetObjectCommand({ Bucket: environment.stateBucket, Key: object.Key }));
        if (holdsResources((await body.Body?.transformToString("utf8")) ?? "")) users.push(user);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return users.sort();
  } finally {
    s3.destroy();
  }
}

/** Stops (SettingsError) the destroy of a platform that notebooks still use, or whose notebooks cannot be read. */
export async function checkPlatformDestroy(spec: PlatformStackSpec, settings: Settings, env: Record<string, string | undefined>): Promise<void> {
  let users: string[];
  try {
    users = await notebooksOnPlatform(spec, settings, env);
  } catch (err) {
    throw new SettingsError(
      `cannot destroy ${spec.stackId}: its notebooks' states could not be read to check that none is left (${(err as Error).message}). ` +
        `Destroy it with credentials that may read every state of the environment (the administrator policy).`,
    );
  }
  if (users.length === 0) return;
  const own = spec.environment === LOCAL_ENVIRONMENT ? "notebook" : `notebook-${spec.environment}`;
  const stacks = users.map((user) => (spec.environment === LOCAL_ENVIRONMENT ? `${own} of ${user}` : `${own}-${user}`));
  throw new SettingsError(
    `${spec.stackId} still carries ${users.length} notebook${users.length === 1 ? "" : "s"}: ${stacks.join(", ")}. ` +
      `Destroying it would take their cluster, load balancer and network from under them. Destroy them first ` +
      `(each user: NOTEBOOK_USER=<user> npx cdktf destroy ${own}; an administrator with a team file: npx cdktf destroy ${own}-<user>), then ${spec.stackId}.`,
  );
}

/** How many load balancers the platform's state says it has (0: no state yet). */
export function deployedLoadBalancers(spec: PlatformStackSpec, env: Record<string, string | undefined>): number {
  let text: string;
  if (spec.backend.type === "local") {
    if (!fs.existsSync(spec.backend.path)) return 0;
    text = fs.readFileSync(spec.backend.path, "utf8");
  } else {
    const pulled = pullS3State({ id: spec.stackId, backend: spec.backend }, env);
    if ("error" in pulled) return 0; // Terraform reports what keeps it from the state
    text = pulled.text;
  }
  if (text.trim() === "") return 0;
  const value = (JSON.parse(text) as { outputs?: { load_balancers?: { value?: unknown } } }).outputs?.load_balancers?.value;
  return Array.isArray(value) ? value.length : 0;
}

/** Stops (SettingsError) a deploy that would take load balancers away from the platform. */
export function checkPlatformShrink(spec: PlatformStackSpec, env: Record<string, string | undefined>): void {
  const deployed = deployedLoadBalancers(spec, env);
  if (deployed <= spec.loadBalancers) return;
  const environment = spec.environment === LOCAL_ENVIRONMENT ? "localPlatform" : `environments.${spec.environment}.loadBalancers`;
  throw new SettingsError(
    `${spec.stackId} has ${deployed} load balancers, but ${environment} asks for ${spec.loadBalancers}: fewer would delete the last ones with their listeners, ` +
      `and the notebooks placed on them would lose their rules. Set loadBalancers back to ${deployed}; to shrink, destroy the notebooks and the platform, and deploy them again.`,
  );
}
