import { createHash, createPublicKey, KeyObject, timingSafeEqual, verify as verifySignature } from "crypto";
import { BlockList, isIP } from "net";
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
 *   owner's notebook of this project and environment, and that the request passed what that
 *   rule asks (its CIDRs; its sign-in, proven by the load balancer's signature and the
 *   notebook's own provider, or else the notebook's token: see signInRefusal), then: starts it
 *   (desired count 0 => 1), or points the rule back once a target is healthy, or says why it
 *   cannot start.
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
  /** Where the load balancer publishes the keys that sign x-amzn-oidc-data, without the key id; undefined: AWS's address for the rule's region. */
  readonly signInKeysUrl?: string;
  /** Where user pools publish their keys, without /.well-known/jwks.json; undefined: each pool's issuer. */
  readonly cognitoKeysUrl?: string;
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
  return {
    project,
    environment,
    loadBalancers,
    startTimeoutSeconds: Number.isFinite(timeout) && timeout > 0 ? timeout : 1200,
    signInKeysUrl: env.WAKER_SIGNIN_KEYS_URL || undefined,
    cognitoKeysUrl: env.WAKER_COGNITO_KEYS_URL || undefined,
  };
}

interface Clients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  secrets: SecretsManagerClient;
}
let clients: Clients | undefined;
function aws(): Clients {
  // A call that hangs gives up after 3 s (at most 3 tries), so that the page comes within the function's 15 s.
  const options = { maxAttempts: 3, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } };
  clients ??= {
    ecs: new ECSClient(options),
    elb: new ElasticLoadBalancingV2Client(options),
    secrets: new SecretsManagerClient(options),
  };
  return clients;
}
/** Forgets the clients and the sign-in keys (tests point them elsewhere between cases). */
export function resetClients(): void {
  for (const client of Object.values(clients ?? {})) client.destroy();
  clients = undefined;
  signInKeys.clear();
  confirmedSubjects.clear();
  poolKeys.clear();
  rulesByHost.clear();
}

function log(line: string): void {
  console.log(`[waker] ${line}`);
}

/** A small map whose entries expire, dropping the oldest when full. */
class Expiring<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();
  constructor(private readonly capacity: number) {}
  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }
  set(key: string, value: T, seconds: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: Date.now() + seconds * 1000 });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
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
  // A request that came before (through someone else's rule) may have found no rule for it.
  for (const host of hostsOf(rule)) rulesByHost.delete(`${wakerGroup} ${host}`);
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
    if (found === "back") return pages.ready();
    const { rule, tags, service, targetGroupArn } = found;
    const name = service.serviceName ?? "?";
    // The request must have passed what the notebook's own rule asks (any rule on the load
    // balancer, someone else's too, may forward to the waker): an allowed address, and the
    // load balancer's signed sign-in for the rule's client, or else the notebook's token.
    if (!fromAllowedAddress(event, rule)) {
      log(`${name}: a request from outside the rule's allowed CIDRs: nothing started`);
      return pages.notAllowed();
    }
    if (signsIn(rule)) {
      const refused = await signInRefusal(event, rule, config);
      if (refused) {
        log(`${name}: a request without the rule's signed sign-in (${refused}): nothing started`);
        return pages.signInNeeded();
      }
    } else if (!(await tokenMatches(tokenOf(event), tags[TAGS.tokenSecret], tags.Owner, config))) {
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
    if (e instanceof SignInUnavailable) {
      log(`sign-in not checked: ${e.message}`);
      return pages.unavailable("The sign-in provider, or the load balancer's key server, did not answer.");
    }
    log(`AWS refused or failed: ${e.name}: ${String(e.message).split("\n")[0]}`);
    return pages.unavailable(
      e.name === "AccessDeniedException" || e.name === "AccessDenied" ? "The waker is not allowed to start this notebook." : "AWS did not answer as expected.",
    );
  }
}

/** The hostname asked for, lower case, without port (header names in any case; multi-value headers when the target group has them on). */
function hostOf(event: any): string | undefined {
  const raw = headerOf(event, "host");
  if (typeof raw !== "string" || raw === "") return undefined;
  return raw.toLowerCase().replace(/:\d+$/, "");
}

/** A browser opening a page (not a script, not a tab's background polling): Sec-Fetch-Mode navigate, or, without it, a GET that accepts HTML. */
function opensPage(event: any): boolean {
  const mode = headerOf(event, "sec-fetch-mode");
  if (mode !== undefined) return mode === "navigate";
  return (event.httpMethod ?? "GET") === "GET" && /text\/html/.test(headerOf(event, "accept") ?? "");
}

/** A request header (`name` in lower case; the event's names in any case), from single- or multi-value headers: the last value, as the load balancer appends. */
function headerOf(event: any, name: string): string | undefined {
  const single = Object.entries<string>(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
  const multi = Object.entries<string[]>(event.multiValueHeaders ?? {}).find(([key]) => key.toLowerCase() === name)?.[1];
  const value = single ?? multi?.[multi.length - 1];
  return typeof value === "string" ? value : undefined;
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
async function findNotebook(host: string, listenerArns: string[], wakerGroup: string, config: WakerConfig): Promise<Notebook | "foreign" | "deleted" | "back"> {
  const rule = await ruleFor(host, listenerArns, wakerGroup);
  if (rule === "back") return "back";
  if (!rule?.RuleArn) return "foreign";
  const unchecked = (rule.Conditions ?? []).filter((c) => !CHECKED_CONDITIONS.includes(c.Field ?? ""));
  if (unchecked.length > 0) {
    log(`the rule for this host also asks for ${unchecked.map((c) => c.Field).join(", ")}, which the waker cannot check: not trusted`);
    return "foreign";
  }
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

/** Seconds a host's rule, once found by paging its listeners' rules, is looked up by its ARN alone. */
const RULE_CACHE_SECONDS = 60;
/** Seconds a host no rule (or more than one) sends to the waker is answered without looking. */
const NO_RULE_CACHE_SECONDS = 10;
/** By waker target group and host: the rule's ARN, or "" for none. */
const rulesByHost = new Expiring<string>(1000);

/**
 * The one rule for `host` that sends its requests to this waker. Only such a rule can have
 * sent this one; two for one host (someone else's rule claiming it) and the waker trusts
 * neither. A tab left open on a sleeping notebook asks every few seconds: for a minute after
 * a listener's rules were paged through, the rule found is read again by its ARN alone: still
 * for this host but no longer sending here, it was switched back to its notebook ("back");
 * gone, or for another host, the listeners are paged anew.
 */
async function ruleFor(host: string, listenerArns: string[], wakerGroup: string): Promise<Rule | "back" | undefined> {
  const sendsHere = (r: Rule) => {
    const forward = (r.Actions ?? []).find((a) => a.Type === "forward");
    return hostsOf(r).includes(host) && forward !== undefined && receivingOf(forward).includes(wakerGroup);
  };
  const key = `${wakerGroup} ${host}`;
  const cached = rulesByHost.get(key);
  if (cached === "") return undefined;
  if (cached && listenerArns.includes(listenerOf(cached))) {
    const answer = await aws()
      .elb.send(new DescribeRulesCommand({ RuleArns: [cached] }))
      .catch(() => ({ Rules: [] as Rule[] }));
    const rule = answer.Rules?.[0];
    if (rule && sendsHere(rule)) return rule;
    // Switched back to the notebook a moment ago (a reload that the load balancer, still applying the change, sent here).
    if (rule && hostsOf(rule).includes(host)) return "back";
  }
  const matching: Rule[] = [];
  for (const listenerArn of listenerArns) {
    let marker: string | undefined;
    do {
      const page = await aws().elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
      matching.push(...(page.Rules ?? []).filter(sendsHere));
      marker = page.NextMarker;
    } while (marker);
  }
  if (matching.length !== 1 || !matching[0].RuleArn) {
    if (matching.length > 1) log(`${matching.length} rules for one host send requests to the waker: none is trusted`);
    rulesByHost.set(key, "", NO_RULE_CACHE_SECONDS);
    return undefined;
  }
  rulesByHost.set(key, matching[0].RuleArn, RULE_CACHE_SECONDS);
  return matching[0];
}

function hostsOf(rule: Rule): string[] {
  return (rule.Conditions ?? [])
    .filter((c) => c.Field === "host-header")
    .flatMap((c) => [...(c.Values ?? []), ...(c.HostHeaderConfig?.Values ?? [])])
    .map((h) => h.toLowerCase());
}

const signsIn = (rule: Rule) => (rule.Actions ?? []).some((a) => a.Type === "authenticate-cognito" || a.Type === "authenticate-oidc");

// --- who may wake it -----------------------------------------------------------------------

/** The conditions of a notebook's rule the waker checks itself (the host in findNotebook, the address in fromAllowedAddress); a rule with any other is not trusted. */
const CHECKED_CONDITIONS = ["host-header", "source-ip"];

/**
 * The client's address is inside the rule's source-ip CIDRs, when it has any. The load
 * balancer appends the address it saw to X-Forwarded-For (its default "append" mode), so the
 * last entry is the one a client cannot choose.
 */
function fromAllowedAddress(event: any, rule: Rule): boolean {
  const cidrs = (rule.Conditions ?? []).filter((c) => c.Field === "source-ip").flatMap((c) => [...(c.SourceIpConfig?.Values ?? []), ...(c.Values ?? [])]);
  if (cidrs.length === 0) return true;
  const address = addressOf((headerOf(event, "x-forwarded-for") ?? "").split(",").pop()!);
  if (isIP(address) === 0) return false;
  const allowed = new BlockList();
  for (const cidr of cidrs) {
    const [network, bits] = cidr.split("/");
    const family = isIP(network);
    if (family === 0) continue;
    allowed.addSubnet(network, Number(bits ?? (family === 6 ? 128 : 32)), family === 6 ? "ipv6" : "ipv4");
  }
  return allowed.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/** An X-Forwarded-For entry's address: `a.b.c.d`, `a.b.c.d:port` or `[v6]:port` (with the load balancer's client port on), or an IPv6 address. */
function addressOf(entry: string): string {
  const text = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1];
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  return withPort ? withPort[1] : text;
}

/** The sign-in a rule asks for: OIDC (its client, issuer and user-info endpoint) or Cognito (its app client and user pool). */
type SignIn = { kind: "oidc"; client: string; issuer?: string; userInfo?: string } | { kind: "cognito"; client: string; issuer: string; keysUrl: string };

function signInOf(rule: Rule, config: WakerConfig): SignIn | undefined {
  for (const action of rule.Actions ?? []) {
    const oidc = action.AuthenticateOidcConfig;
    if (action.Type === "authenticate-oidc" && oidc?.ClientId)
      return { kind: "oidc", client: oidc.ClientId, issuer: oidc.Issuer, userInfo: oidc.UserInfoEndpoint };
    const cognito = action.AuthenticateCognitoConfig;
    if (action.Type === "authenticate-cognito" && cognito?.UserPoolClientId && cognito.UserPoolArn) {
      const issuer = cognitoIssuer(cognito.UserPoolArn);
      if (!issuer) return undefined;
      const keysBase = config.cognitoKeysUrl ?? issuer;
      return { kind: "cognito", client: cognito.UserPoolClientId, issuer, keysUrl: `${keysBase.replace(/\/$/, "")}/.well-known/jwks.json` };
    }
  }
  return undefined;
}

/** `arn:aws:cognito-idp:<region>:<account>:userpool/<pool id>` => the issuer of its tokens, https://cognito-idp.<region>.amazonaws.com/<pool id>. */
export function cognitoIssuer(userPoolArn: string): string | undefined {
  const match = /^arn:aws:cognito-idp:([a-z0-9-]+):\d{12}:userpool\/([A-Za-z0-9-]+_[A-Za-z0-9]+)$/.exec(userPoolArn);
  return match ? `https://cognito-idp.${match[1]}.amazonaws.com/${match[2]}` : undefined;
}

/** A sign-in provider or key server that did not answer (a timeout, an outage): the request may be tried again, nothing is remembered. */
class SignInUnavailable extends Error {
  override readonly name = "SignInUnavailable";
}

/** How long the load balancer's key server and a sign-in provider may take: both, with AWS's calls, within the function's 15 s. */
const FETCH_TIMEOUT_MS = 3000;
/** Seconds a sign-in's `exp` may be past (clocks differ). */
const CLOCK_SKEW_SECONDS = 60;

/** The load balancer's public keys by URL (a PEM, or "" for a key id it does not publish). */
const signInKeys = new Expiring<Promise<string>>(64);
/** A user pool's signing keys (JWKS) by URL. */
const poolKeys = new Expiring<Promise<Map<string, KeyObject>>>(16);
/** Who an OIDC provider's user-info endpoint says an access token is (its `sub`, or "" when it refused it), by hash of endpoint and token. */
const confirmedSubjects = new Expiring<Promise<string>>(1000);

/**
 * What `load` gives for `key`, remembered `seconds` in `cache`; a load that throws is
 * forgotten at once (tried again by the next request).
 */
function remembered<T>(cache: Expiring<Promise<T>>, key: string, seconds: number, load: () => Promise<T>): Promise<T> {
  const known = cache.get(key);
  if (known) return known;
  const loading = load();
  cache.set(key, loading, seconds);
  loading.catch(() => cache.delete(key));
  return loading;
}

/** A JWT's three parts, its header and payload read; undefined when it is not one. */
function readJwt(token: string): { header: any; payload: any; signed: Buffer; signature: Buffer } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], "base64url").toString("utf8"));
    const payload = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (typeof header !== "object" || header === null || typeof payload !== "object" || payload === null) return undefined;
    return { header, payload, signed: Buffer.from(`${parts[0]}.${parts[1]}`), signature: Buffer.from(parts[2], "base64url") };
  } catch {
    return undefined;
  }
}

const expired = (exp: unknown) => typeof exp !== "number" || exp + CLOCK_SKEW_SECONDS < Date.now() / 1000;

/**
 * Why the request did not pass the rule's sign-in, or undefined when it did. After signing
 * someone in, the load balancer hands the target x-amzn-oidc-data: a JWT (ES256) whose header
 * names the load balancer (`signer`), the app client (`client`), the issuer and the expiry,
 * signed with a key it publishes at https://public-keys.auth.elb.<region>.amazonaws.com/<kid>,
 * and whose payload is what the provider's user-info endpoint said (`sub`); and
 * x-amzn-oidc-accesstoken, the provider's access token (refreshed by the load balancer when it
 * expires, while the provider gives it a refresh token).
 *
 * Someone else's rule may forward to the waker too, with its own sign-in or none, and a client
 * may send any header. The signature proves the load balancer signed someone in; but any rule
 * on it may name this rule's client and issuer with sign-in endpoints of its own, and the load
 * balancer signs what they say. So the access token must also come from the notebook's own
 * provider, for the same user:
 * - Cognito: the access token is a JWT its user pool signs (RS256); it must be for the rule's
 *   app client (`client_id`), an access token, unexpired, and of the same `sub`.
 * - OIDC: access tokens have no common form; the user-info endpoint of the notebook's own rule
 *   (which only its owner may change) must say the token is the same `sub`. That proves an
 *   account at the provider, not which of its clients issued the token.
 * Throws SignInUnavailable when a provider or key server does not answer.
 */
async function signInRefusal(event: any, rule: Rule, config: WakerConfig): Promise<string | undefined> {
  const data = readJwt(headerOf(event, "x-amzn-oidc-data") ?? "");
  if (!data) return "none, or not a JWT";
  const { header, payload } = data;
  if (header.alg !== "ES256") return "not signed with ES256";
  const expected = signInOf(rule, config);
  const ruleArn = rule.RuleArn ?? "";
  if (header.signer !== loadBalancerOf(ruleArn)) return "signed by another load balancer";
  if (!expected || header.client !== expected.client) return "signed in for another client";
  if (expected.kind === "oidc" && expected.issuer !== undefined && header.iss !== expected.issuer) return "signed in with another issuer";
  if (expired(header.exp)) return "expired";
  if (typeof header.kid !== "string" || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(header.kid))
    return "a key id that is not the load balancer's";
  const base = config.signInKeysUrl ?? `https://public-keys.auth.elb.${ruleArn.split(":")[3]}.amazonaws.com`;
  const key = await signInKey(`${base.replace(/\/$/, "")}/${header.kid}`);
  if (!key) return "a key the load balancer does not publish";
  if (!verifies(data, key, "ieee-p1363")) return "a bad signature";
  const subject = payload.sub;
  if (typeof subject !== "string" || subject === "") return "no subject";
  const accessToken = headerOf(event, "x-amzn-oidc-accesstoken");
  if (!accessToken) return "no access token";
  if (expected.kind === "cognito") return poolTokenRefusal(accessToken, expected, subject);
  if (!expected.userInfo) return "no user-info endpoint in the rule";
  const confirmed = await subjectOf(expected.userInfo, accessToken);
  return confirmed === subject ? undefined : "an access token the notebook's own sign-in provider does not confirm";
}

function verifies(jwt: { signed: Buffer; signature: Buffer }, key: string | KeyObject, dsaEncoding?: "ieee-p1363"): boolean {
  try {
    const publicKey = typeof key === "string" ? createPublicKey(key) : key;
    return verifySignature("sha256", jwt.signed, dsaEncoding ? { key: publicKey, dsaEncoding } : publicKey, jwt.signature);
  } catch {
    return false;
  }
}

/** Why a Cognito access token is not the rule's user pool's, for its app client, of `subject`; undefined when it is. */
async function poolTokenRefusal(accessToken: string, expected: Extract<SignIn, { kind: "cognito" }>, subject: string): Promise<string | undefined> {
  const token = readJwt(accessToken);
  if (!token) return "an access token that is not its user pool's (not a JWT)";
  if (token.header.alg !== "RS256" || typeof token.header.kid !== "string") return "an access token not signed as its user pool signs";
  const key = (await userPoolKeys(expected.keysUrl)).get(token.header.kid);
  if (!key || !verifies(token, key)) return "an access token its user pool did not sign";
  const claims = token.payload;
  if (claims.iss !== expected.issuer) return "an access token of another user pool";
  if (claims.token_use !== "access") return "not an access token";
  if (claims.client_id !== expected.client) return "an access token for another app client";
  if (expired(claims.exp)) return "an expired access token";
  return claims.sub === subject ? undefined : "an access token of someone else";
}

/** The RSA keys a user pool signs with, by key id (remembered 10 minutes). */
function userPoolKeys(url: string): Promise<Map<string, KeyObject>> {
  return remembered(poolKeys, url, 600, async () => {
    const answer = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }).catch(() => undefined);
    const jwks = answer?.ok ? await answer.json().catch(() => undefined) : undefined;
    if (!Array.isArray(jwks?.keys)) throw new SignInUnavailable(`the user pool's keys could not be read (${answer?.status ?? "no answer"})`);
    const found = new Map<string, KeyObject>();
    for (const jwk of jwks.keys) {
      if (jwk?.kty !== "RSA" || typeof jwk.kid !== "string") continue;
      try {
        found.set(jwk.kid, createPublicKey({ key: { kty: "RSA", n: jwk.n, e: jwk.e }, format: "jwk" }));
      } catch {
        // not a key: skipped
      }
    }
    return found;
  });
}

/** The PEM at `url`, or "" when there is none (remembered an hour: a made-up key id is fetched once). Throws SignInUnavailable on no answer. */
function signInKey(url: string): Promise<string> {
  return remembered(signInKeys, url, 3600, async () => {
    const answer = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }).catch(() => undefined);
    if (!answer || answer.status >= 500) throw new SignInUnavailable(`the load balancer's key server did not answer (${answer?.status ?? "no answer"})`);
    const pem = answer.ok ? await answer.text() : "";
    return pem.includes("BEGIN PUBLIC KEY") ? pem : "";
  });
}

/**
 * The `sub` the user-info endpoint at `url` gives for `accessToken`, or "" when it refuses it
 * (remembered 5 minutes, a refusal 1). Throws SignInUnavailable when it does not answer, or
 * answers 429 or 5xx (nothing remembered).
 */
function subjectOf(url: string, accessToken: string): Promise<string> {
  const id = createHash("sha256").update(`${url}\n${accessToken}`).digest("hex");
  return remembered(confirmedSubjects, id, 300, async () => {
    const answer = await fetch(url, {
      headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    }).catch(() => undefined);
    if (!answer || answer.status === 429 || answer.status >= 500)
      throw new SignInUnavailable(`the sign-in provider did not answer (${answer?.status ?? "no answer"})`);
    const info = answer.ok ? await answer.json().catch(() => undefined) : undefined;
    const sub = typeof info?.sub === "string" ? info.sub : "";
    // A refusal is remembered a minute only.
    if (!sub) confirmedSubjects.set(id, Promise.resolve(""), 60);
    return sub;
  });
}

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

/** `arn:...:listener-rule/app/<lb>/<id>/<listener>/<rule>` => `arn:...:loadbalancer/app/<lb>/<id>`. */
function loadBalancerOf(ruleArn: string): string {
  return ruleArn.replace(":listener-rule/", ":loadbalancer/").replace(/(\/[^/]+){2}$/, "");
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
