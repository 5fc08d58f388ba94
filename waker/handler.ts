import { createHash, timingSafeEqual } from "crypto";
import { DescribeServicesCommand, ECSClient, Service, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  Action,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  Rule,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Page, pages } from "./pages";

/**
 * The waker: opening a stopped notebook's URL starts it (modules/waker creates the function,
 * README "Opening a stopped notebook's URL wakes it" says what users see). Two events:
 *
 * - ECS says a task of the cluster stopped. If its service belongs to this project and
 *   environment and is now at 0, its listener rule's forward goes to this load balancer's
 *   waker target group (sign-in action and conditions stay).
 * - The load balancer forwards a request for such a notebook's hostname. The waker finds the
 *   rule by hostname, checks that rule, service, target group (and token secret) are one
 *   owner's notebook of this project and environment, then: starts it (desired count 0 => 1),
 *   or points the rule back once a target is healthy, or says why it cannot start.
 *
 * Self-contained (node and the AWS SDK the Lambda runtime provides): transpiled file by file.
 * Never logs a request's query, headers or a secret.
 */

/** Tags read on a notebook's listener rule and service: modules/waker/tags.ts sets the same names. */
export const TAGS = {
  cluster: "NotebookCluster",
  service: "NotebookService",
  targetGroup: "NotebookTargetGroup",
  tokenSecret: "NotebookTokenSecret",
  listenerRule: "NotebookListenerRule",
} as const;

export interface WakerConfig {
  readonly project: string;
  readonly environment: string;
  readonly loadBalancers: Array<{ readonly targetGroupArn: string; readonly listenerArns: string[] }>;
  readonly startTimeoutSeconds: number;
}

/** The configuration the function's environment gives (WAKER_*). */
export function readConfig(env: Record<string, string | undefined> = process.env): WakerConfig {
  const project = env.WAKER_PROJECT ?? "";
  const environment = env.WAKER_ENVIRONMENT ?? "";
  let loadBalancers: WakerConfig["loadBalancers"];
  try {
    loadBalancers = JSON.parse(env.WAKER_LOAD_BALANCERS ?? "");
  } catch {
    throw new Error("WAKER_LOAD_BALANCERS must be a JSON list of {targetGroupArn, listenerArns}");
  }
  if (!project || !environment || !Array.isArray(loadBalancers)) throw new Error("WAKER_PROJECT, WAKER_ENVIRONMENT and WAKER_LOAD_BALANCERS must be set");
  const timeout = Number(env.WAKER_START_TIMEOUT_SECONDS ?? 1200);
  return { project, environment, loadBalancers, startTimeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 1200 };
}

interface Clients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  secrets: SecretsManagerClient;
}
let clients: Clients | undefined;
function aws(): Clients {
  clients ??= {
    ecs: new ECSClient({ maxAttempts: 3 }),
    elb: new ElasticLoadBalancingV2Client({ maxAttempts: 3 }),
    secrets: new SecretsManagerClient({ maxAttempts: 3 }),
  };
  return clients;
}
/** Forgets the clients (tests point them elsewhere between cases). */
export function resetClients(): void {
  for (const client of Object.values(clients ?? {})) client.destroy();
  clients = undefined;
}

function log(line: string): void {
  console.log(`[waker] ${line}`);
}

type Tags = Record<string, string>;
const tagsOf = (list: Array<{ Key?: string; Value?: string; key?: string; value?: string }> | undefined): Tags =>
  Object.fromEntries((list ?? []).map((t) => [t.Key ?? t.key ?? "", t.Value ?? t.value ?? ""]));

/** Whether tags mark this project's resource of this environment. */
const ours = (tags: Tags, config: WakerConfig) => tags.Project === config.project && tags.Environment === config.environment;

export async function handler(event: any): Promise<Page | void> {
  const config = readConfig();
  if (event?.requestContext?.elb) return request(event, config);
  if (event?.source === "aws.ecs" && event["detail-type"] === "ECS Task State Change") return stopped(event.detail ?? {}, config);
  log("ignored an event that is neither a request from the load balancer nor a stopped ECS task");
}

// --- a notebook stopped --------------------------------------------------------------------

async function stopped(detail: any, config: WakerConfig): Promise<void> {
  const group = String(detail.group ?? "");
  if (detail.lastStatus !== "STOPPED" || !group.startsWith("service:")) return log(`ignored task ${detail.taskArn ?? "?"}: not a stopped service task`);
  const serviceName = group.slice("service:".length);
  const service = await describeService(String(detail.clusterArn ?? ""), serviceName);
  if (!service || service.status !== "ACTIVE") return log(`${serviceName}: service not found`);
  const tags = tagsOf(service.tags);
  if (!ours(tags, config)) return log(`${serviceName}: not a notebook of ${config.project} in ${config.environment}`);
  // Desired 0 is the decision to stop (its running count may lag behind the event).
  if ((service.desiredCount ?? 0) !== 0) return log(`${serviceName}: still wanted (desired ${service.desiredCount}): nothing to do`);

  const ruleArn = tags[TAGS.listenerRule];
  if (!ruleArn) return log(`${serviceName}: no ${TAGS.listenerRule} tag`);
  const [rule] = (await aws().elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules ?? [];
  const ruleTags = await resourceTags(ruleArn);
  if (!rule || !ours(ruleTags, config) || ruleTags[TAGS.service] !== serviceName || ruleTags.Owner !== tags.Owner) {
    return log(`${serviceName}: its rule is not its own notebook's rule: left alone`);
  }
  const notebookGroup = ruleTags[TAGS.targetGroup];
  if (!notebookGroup || (await resourceTags(notebookGroup)).Owner !== tags.Owner)
    return log(`${serviceName}: its rule names no target group of its own: left alone`);
  const wakerGroup = config.loadBalancers.find((lb) => lb.listenerArns.includes(listenerOf(ruleArn)))?.targetGroupArn;
  if (!wakerGroup) return log(`${serviceName}: its rule's load balancer has no waker`);
  if (await forwardTo(rule, wakerGroup, notebookGroup)) log(`${serviceName} is stopped: its URL now wakes it`);
}

// --- a request -----------------------------------------------------------------------------

interface Notebook {
  rule: Rule;
  tags: Tags;
  service: Service;
  targetGroupArn: string;
}

async function request(event: any, config: WakerConfig): Promise<Page> {
  const waker = config.loadBalancers.find((lb) => lb.targetGroupArn === event.requestContext.elb.targetGroupArn);
  const host = hostOf(event);
  if (!waker || !host) return pages.notHere();
  try {
    const found = await findNotebook(host, waker.listenerArns, waker.targetGroupArn, config);
    if (found === "foreign") return pages.notHere();
    if (found === "deleted") return pages.deleted();
    const { rule, tags, service, targetGroupArn } = found;
    const name = service.serviceName ?? "?";
    // Sign-in at the load balancer came first, or the request carries the notebook's token.
    if (!signsIn(rule) && !(await tokenMatches(tokenOf(event), tags[TAGS.tokenSecret], tags.Owner, config))) {
      log(`${name}: a request without its token: nothing started`);
      return pages.tokenNeeded();
    }
    if ((service.desiredCount ?? 0) === 0) {
      // Only someone opening the page starts it: a tab left open keeps polling the API (with
      // its sign-in cookie), and would undo every stop.
      if (!opensPage(event)) return pages.asleep();
      await setDesired(service, 1);
      log(`${name}: started from its URL`);
      return pages.starting("It is being started now.");
    }
    if (await healthy(targetGroupArn)) {
      if (await forwardTo(rule, targetGroupArn)) log(`${name} is healthy: its rule points at it again`);
      return pages.ready();
    }
    const failure = failureOf(service, config.startTimeoutSeconds, Date.now());
    if (failure) {
      await setDesired(service, 0);
      log(`${name} could not start (${failure}): set back to 0`);
      return pages.failed(failure);
    }
    return pages.starting(progressOf(service));
  } catch (err) {
    const e = err as Error;
    log(`AWS refused or failed: ${e.name}: ${String(e.message).split("\n")[0]}`);
    return pages.unavailable(
      e.name === "AccessDeniedException" || e.name === "AccessDenied" ? "The waker is not allowed to start this notebook." : "AWS did not answer as expected.",
    );
  }
}

/** The hostname asked for, lower case, without port (header names in any case; multi-value headers when the target group has them on). */
function hostOf(event: any): string | undefined {
  const single = Object.entries<string>(event.headers ?? {}).find(([name]) => name.toLowerCase() === "host")?.[1];
  const multi = Object.entries<string[]>(event.multiValueHeaders ?? {}).find(([name]) => name.toLowerCase() === "host")?.[1]?.[0];
  const raw = single ?? multi;
  if (typeof raw !== "string" || raw === "") return undefined;
  return raw.toLowerCase().replace(/:\d+$/, "");
}

/** A browser opening a page (not a script, not a tab's background polling): Sec-Fetch-Mode navigate, or, without it, a GET that accepts HTML. */
function opensPage(event: any): boolean {
  const header = (name: string) =>
    Object.entries<string>(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1] ??
    Object.entries<string[]>(event.multiValueHeaders ?? {}).find(([key]) => key.toLowerCase() === name)?.[1]?.[0];
  const mode = header("sec-fetch-mode");
  if (mode !== undefined) return mode === "navigate";
  return (event.httpMethod ?? "GET") === "GET" && /text\/html/.test(header("accept") ?? "");
}

/** The `token` query parameter, decoded (the load balancer passes it as it came). */
function tokenOf(event: any): string | undefined {
  const raw = event.queryStringParameters?.token ?? event.multiValueQueryStringParameters?.token?.[0];
  if (typeof raw !== "string") return undefined;
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** The notebook whose rule routes `host`, once every part of it is one owner's notebook of this project and environment. */
async function findNotebook(host: string, listenerArns: string[], wakerGroup: string, config: WakerConfig): Promise<Notebook | "foreign" | "deleted"> {
  // Only a rule that sends its requests to this waker can have sent this one; two such
  // rules for one host (someone else's rule claiming it) and the waker trusts neither.
  const matching: Rule[] = [];
  for (const listenerArn of listenerArns) {
    let marker: string | undefined;
    do {
      const page = await aws().elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
      for (const r of page.Rules ?? []) {
        const forward = (r.Actions ?? []).find((a) => a.Type === "forward");
        if (hostsOf(r).includes(host) && forward && receivingOf(forward).includes(wakerGroup)) matching.push(r);
      }
      marker = page.NextMarker;
    } while (marker);
  }
  if (matching.length !== 1) {
    if (matching.length > 1) log(`${matching.length} rules for one host send requests to the waker: none is trusted`);
    return "foreign";
  }
  const rule = matching[0];
  if (!rule?.RuleArn) return "foreign";
  const tags = await resourceTags(rule.RuleArn);
  const targetGroupArn = tags[TAGS.targetGroup];
  if (!ours(tags, config) || !tags.Owner || !tags[TAGS.cluster] || !tags[TAGS.service] || !targetGroupArn || !tags[TAGS.tokenSecret]) return "foreign";
  const groupTags = await resourceTags(targetGroupArn);
  if (!ours(groupTags, config) || groupTags.Owner !== tags.Owner) return "foreign";
  const service = await describeService(tags[TAGS.cluster], tags[TAGS.service]);
  if (!service || service.status !== "ACTIVE") return "deleted";
  const serviceTags = tagsOf(service.tags);
  if (!ours(serviceTags, config) || serviceTags.Owner !== tags.Owner) return "foreign";
  return { rule, tags, service, targetGroupArn };
}

function hostsOf(rule: Rule): string[] {
  return (rule.Conditions ?? [])
    .filter((c) => c.Field === "host-header")
    .flatMap((c) => [...(c.Values ?? []), ...(c.HostHeaderConfig?.Values ?? [])])
    .map((h) => h.toLowerCase());
}

const signsIn = (rule: Rule) => (rule.Actions ?? []).some((a) => a.Type === "authenticate-cognito" || a.Type === "authenticate-oidc");

async function resourceTags(arn: string): Promise<Tags> {
  const answer = await aws().elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return tagsOf(answer.TagDescriptions?.[0]?.Tags);
}

async function describeService(cluster: string, name: string): Promise<Service | undefined> {
  if (!cluster || !name) return undefined;
  const answer = await aws().ecs.send(new DescribeServicesCommand({ cluster, services: [name], include: ["TAGS"] }));
  return answer.services?.[0];
}

async function setDesired(service: Service, desiredCount: number): Promise<void> {
  await aws().ecs.send(new UpdateServiceCommand({ cluster: service.clusterArn, service: service.serviceName, desiredCount }));
}

async function healthy(targetGroupArn: string): Promise<boolean> {
  const answer = await aws().elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (answer.TargetHealthDescriptions ?? []).some((t) => t.TargetHealth?.State === "healthy");
}

/** The token secret's value equals `given` (compared in constant time), and the secret is the rule owner's. */
async function tokenMatches(given: string | undefined, secretArn: string, owner: string, config: WakerConfig): Promise<boolean> {
  if (!given) return false;
  const described = await aws().secrets.send(new DescribeSecretCommand({ SecretId: secretArn }));
  const tags = tagsOf(described.Tags);
  if (!ours(tags, config) || tags.Owner !== owner) return false;
  const value = (await aws().secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString ?? "";
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return value.length > 0 && timingSafeEqual(digest(value), digest(given));
}

/**
 * Sends the rule's traffic to `to`, keeping every other action as it is (an OIDC sign-in
 * keeps its client secret: the API does not return it). Asleep (`keep` given), the forward
 * is weighted: the waker's target group 1, the notebook's 0. The notebook's target group
 * stays in the rule, so it stays associated with the load balancer, which health-checks the
 * task ECS starts (a target group no rule uses leaves its targets "unused", never healthy,
 * and ECS refuses a service whose target group has no load balancer). Awake, the forward is
 * the notebook's target group alone, as Terraform writes it. False when it already was so.
 */
async function forwardTo(rule: Rule, to: string, keep?: string): Promise<boolean> {
  const actions = rule.Actions ?? [];
  const forward = actions.find((a) => a.Type === "forward");
  if (!forward) throw new Error(`rule ${rule.RuleArn} has no forward action`);
  const receiving = receivingOf(forward);
  const kept = keep === undefined || groupsOf(forward).includes(keep);
  if (receiving.length === 1 && receiving[0] === to && kept && (keep !== undefined || groupsOf(forward).length === 1)) return false;
  const next: Action =
    keep === undefined
      ? { Type: "forward", Order: forward.Order, TargetGroupArn: to }
      : {
          Type: "forward",
          Order: forward.Order,
          ForwardConfig: {
            TargetGroups: [
              { TargetGroupArn: to, Weight: 1 },
              { TargetGroupArn: keep, Weight: 0 },
            ],
          },
        };
  const Actions: Action[] = actions.map((a) => {
    if (a.Type === "forward") return next;
    if (a.Type === "authenticate-oidc" && a.AuthenticateOidcConfig) {
      const { ClientSecret: _secret, ...oidc } = a.AuthenticateOidcConfig;
      return { ...a, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
    }
    return a;
  });
  await aws().elb.send(new ModifyRuleCommand({ RuleArn: rule.RuleArn, Actions }));
  return true;
}

/** The target groups of a forward action. */
function groupsOf(action: Action): string[] {
  const weighted = (action.ForwardConfig?.TargetGroups ?? []).map((g) => g.TargetGroupArn ?? "");
  return weighted.length > 0 ? weighted : action.TargetGroupArn ? [action.TargetGroupArn] : [];
}

/** The target groups a forward action sends requests to (weight above 0). */
function receivingOf(action: Action): string[] {
  const weighted = action.ForwardConfig?.TargetGroups ?? [];
  if (weighted.length > 0) return weighted.filter((g) => (g.Weight ?? 1) > 0).map((g) => g.TargetGroupArn ?? "");
  return action.TargetGroupArn ? [action.TargetGroupArn] : [];
}

/** `arn:...:listener-rule/app/<lb>/<id>/<listener>/<rule>` => `arn:...:listener/app/<lb>/<id>/<listener>`. */
export function listenerOf(ruleArn: string): string {
  return ruleArn.replace(":listener-rule/", ":listener/").replace(/\/[^/]+$/, "");
}

/**
 * Why a start that has no healthy target yet will not succeed, or undefined while it may:
 * the deployment's circuit breaker failed it; ECS found no capacity, or its tasks keep
 * failing to start, since the service was last steady (which it was, stopped, before this
 * start); or the attempt is older than the time limit.
 */
export function failureOf(service: Service, timeoutSeconds: number, now: number): string | undefined {
  const primary = (service.deployments ?? []).find((d) => d.status === "PRIMARY");
  if (primary?.rolloutState === "FAILED") return `ECS stopped its deployment: ${primary.rolloutStateReason ?? "its tasks did not become healthy"}.`;
  const events = [...(service.events ?? [])].sort((a, b) => time(b.createdAt) - time(a.createdAt));
  const steady = events.find((e) => /has reached a steady state/.test(e.message ?? ""));
  // This attempt began when the desired count was last set (UpdateService moves the primary
  // deployment's updatedAt; a retry after a failure sets it again), or, without that, after
  // the last steady state (which the stopped service reached).
  const lastSteady = steady ? time(steady.createdAt) : 0;
  const updated = time(primary?.updatedAt);
  const cutoff = Math.max(lastSteady, updated);
  const attempt = events.filter((e) => time(e.createdAt) >= cutoff && e !== steady);
  const refused = attempt.find((e) => /unable to place a task|unable to consistently start tasks/.test(e.message ?? ""));
  if (refused) return `ECS says: ${refused.message}`;
  const began = updated > lastSteady ? updated : attempt.length > 0 ? time(attempt[attempt.length - 1].createdAt) : undefined;
  if (began !== undefined && now - began > timeoutSeconds * 1000) return `It did not become healthy within ${Math.round(timeoutSeconds / 60)} minutes.`;
  return undefined;
}

const time = (d: Date | string | number | undefined) => (d === undefined ? 0 : new Date(d).getTime());

/** What the start is doing, for the waiting page. */
function progressOf(service: Service): string {
  if ((service.runningCount ?? 0) > 0) return "It is running; Jupyter is answering its first health checks.";
  if ((service.pendingCount ?? 0) > 0) return "Its container is starting (an image pull can take a minute or more).";
  return "ECS is finding capacity for it.";
}
