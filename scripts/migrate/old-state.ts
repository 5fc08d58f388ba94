import { MAX_TOKEN_LENGTH, MIN_TOKEN_LENGTH, SUFFIX_LENGTH, TOKEN_CHARACTERS } from "../../modules/notebook";

/**
 * Reading a notebook's state from the team's old plain-Terraform configuration (issue 14's
 * `npm run migrate`): what the move keeps (the suffix, hence the hostname, and the token)
 * and where it ran (region, cluster, load balancer, zone, domain), which the vars file of the
 * move must name too. A state of another shape is refused with one line that says why.
 */

/** What the old state says about its notebook. */
export interface OldNotebook {
  /** The random suffix as the old configuration made it: 8 letters and digits, upper case allowed. */
  readonly suffix: string;
  /** The hostname of the bookmarked URL, `jupyter-<suffix>.<domain>`, as the record names it. */
  readonly hostname: string;
  readonly domain: string;
  readonly hostedZoneId: string;
  /** The access token from the task definition's command line (the old configuration kept it there in plain text). */
  readonly token: string;
  /** Why the new stack's token rule would refuse that token (empty: it would not). */
  readonly tokenProblems: string[];
  /** Where it ran: the vars file of the move must name the same. */
  readonly region: string;
  readonly clusterName: string;
  readonly loadBalancerArn: string;
}

/** A state that is not the old configuration's, or not one notebook's: `message` says why. */
export class ForeignStateError extends Error {}
/** A state without resources: destroyed (perhaps by an interrupted migrate), or never deployed. */
export class EmptyStateError extends ForeignStateError {}

interface StateResource {
  mode?: string;
  type?: string;
  name?: string;
  instances?: Array<{ attributes?: Record<string, unknown> }>;
}

/** Resource types only this project's stacks create: their presence means the state is already a new one. */
const NEW_STACK_TYPES = ["aws_secretsmanager_secret", "terraform_data", "random_password"];
/** `--NotebookApp.token=...` (or `--ServerApp.token=...`), the value quoted with ' or " or bare. */
const TOKEN_FLAG = /--(?:NotebookApp|ServerApp)\.token=(?:'([^']*)'|"([^"]*)"|(\S+))/;

/** Reads the text of an old state file; throws ForeignStateError when it is not one notebook of the old configuration. */
export function readOldState(text: string, file: string): OldNotebook {
  let state: { version?: unknown; resources?: StateResource[] };
  try {
    state = JSON.parse(text);
  } catch (err) {
    throw new ForeignStateError(`${file} is not a Terraform state: it is not JSON (${(err as Error).message})`);
  }
  if (typeof state !== "object" || state === null || state.version !== 4 || !Array.isArray(state.resources)) {
    throw new ForeignStateError(`${file} is not a Terraform state of format version 4 (Terraform 0.12 and later): migrate reads nothing older`);
  }
  const resources = state.resources.filter((r) => (r.instances ?? []).length > 0);
  const managed = (type: string) => resources.filter((r) => r.mode === "managed" && r.type === type);
  const data = (type: string) => resources.filter((r) => r.mode === "data" && r.type === type);
  const attributes = (r: StateResource) => r.instances?.[0]?.attributes ?? {};
  const newOnes = resources.filter((r) => r.mode === "managed" && NEW_STACK_TYPES.includes(r.type ?? "")).map((r) => r.type);
  if (newOnes.length > 0) {
    throw new ForeignStateError(`${file} is a state of this project's notebook stack (it has ${newOnes[0]}), not of the old configuration: there is nothing to migrate`);
  }
  if (resources.length === 0) throw new EmptyStateError(`${file} holds no resources: its notebook was destroyed, or never deployed`);
  /** The one managed resource of `type`: the old configuration made exactly one of each. */
  const one = (type: string, what: string): Record<string, unknown> => {
    const found = managed(type);
    if (found.length !== 1) {
      throw new ForeignStateError(
        `${file} is not a notebook of the old configuration: it has ${found.length} ${type} resources (${what}) where that configuration made exactly one`,
      );
    }
    return attributes(found[0]);
  };

  const suffix = String(one("random_string", "the name suffix").result ?? "");
  if (!new RegExp(`^[A-Za-z0-9]{${SUFFIX_LENGTH}}$`).test(suffix)) {
    throw new ForeignStateError(`${file}: its random_string is ${JSON.stringify(suffix)}, not the ${SUFFIX_LENGTH} letters and digits of the old configuration's suffix`);
  }
  const record = one("aws_route53_record", "the notebook's DNS name");
  // The AWS provider keeps record names in lower case: the spelling of the URL the user
  // bookmarked (which Terraform printed) comes from the suffix itself.
  const recordName = String(record.name ?? "").replace(/\.$/, "");
  const firstLabel = recordName.split(".")[0];
  if (!firstLabel.toLowerCase().endsWith(`-${suffix.toLowerCase()}`) || !recordName.includes(".")) {
    throw new ForeignStateError(`${file}: its DNS record ${JSON.stringify(recordName)} is not <prefix>-${suffix}.<domain>, the old configuration's hostname`);
  }
  const domain = recordName.slice(firstLabel.length + 1);
  const hostname = `${firstLabel.slice(0, -suffix.length)}${suffix}.${domain}`;
  const token = tokenOf(one("aws_ecs_task_definition", "the notebook's task"), file);
  const service = one("aws_ecs_service", "the notebook's service");
  const rule = one("aws_lb_listener_rule", "the notebook's host rule");

  // The service names its cluster by ARN or by name (as the configuration gave it).
  const cluster = String(service.cluster ?? "");
  const listenerArn = String(rule.listener_arn ?? "");
  const loadBalancerArn = String(attributes(data("aws_lb")[0] ?? {}).arn ?? "") || loadBalancerOfListener(listenerArn);
  if (!loadBalancerArn) {
    throw new ForeignStateError(`${file}: its host rule's listener (${JSON.stringify(listenerArn)}) is not an Application Load Balancer listener's ARN`);
  }
  const region = loadBalancerArn.split(":")[3];
  return {
    suffix,
    hostname,
    domain,
    hostedZoneId: String(record.zone_id ?? ""),
    token,
    tokenProblems: tokenProblems(token),
    region,
    clusterName: cluster.includes("cluster/") ? cluster.slice(cluster.indexOf("cluster/") + "cluster/".length) : cluster,
    loadBalancerArn,
  };
}

/** The token on the old task definition's command line. */
function tokenOf(task: Record<string, unknown>, file: string): string {
  let containers: Array<{ command?: unknown; entryPoint?: unknown }>;
  try {
    containers = JSON.parse(String(task.container_definitions ?? ""));
  } catch {
    throw new ForeignStateError(`${file}: its task definition's container_definitions is not JSON`);
  }
  for (const container of Array.isArray(containers) ? containers : []) {
    const words = [container.entryPoint, container.command].flatMap((x) => (Array.isArray(x) ? x.map(String) : typeof x === "string" ? [x] : []));
    for (const word of words) {
      const m = TOKEN_FLAG.exec(word);
      if (m) return m[1] ?? m[2] ?? m[3];
    }
  }
  throw new ForeignStateError(`${file}: its task definition has no --NotebookApp.token on its command line, where the old configuration put the token`);
}

/** `arn:...:listener/app/<name>/<id>/<listener id>` → `arn:...:loadbalancer/app/<name>/<id>`. */
function loadBalancerOfListener(listenerArn: string): string {
  const m = /^(arn:[^:]+:elasticloadbalancing:[^:]+:\d{12}:)listener\/(app\/[^/]+\/[0-9a-f]+)\/[0-9a-f]+$/.exec(listenerArn);
  return m ? `${m[1]}loadbalancer/${m[2]}` : "";
}

/** What the new stack's token rule (stacks/variables.ts, secretChecks) would say about `token`. */
export function tokenProblems(token: string): string[] {
  const problems: string[] = [];
  if (token.length < MIN_TOKEN_LENGTH) problems.push(`it has ${token.length} characters, fewer than the ${MIN_TOKEN_LENGTH} a new token needs`);
  if (token.length > MAX_TOKEN_LENGTH) problems.push(`it has ${token.length} characters, more than ${MAX_TOKEN_LENGTH}`);
  if (!new RegExp(TOKEN_CHARACTERS).test(token)) problems.push("it has characters other than letters, digits, '.', '_', '~' and '-', which a URL must escape");
  return problems;
}
