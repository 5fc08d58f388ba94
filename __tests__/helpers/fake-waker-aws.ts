import * as http from "http";
import * as net from "net";

/**
 * A stand-in for what the waker (waker/handler.ts) calls, on 127.0.0.1, speaking each API's
 * own protocol so that the real AWS SDK clients talk to it: ECS and Secrets Manager (JSON
 * 1.1, `X-Amz-Target`) and ELBv2 (the Query protocol: form-encoded `Action=...`, XML
 * answers). It holds services, listener rules, target groups' tags and health, and secrets,
 * changes them as AWS would, and records every call. boto3 (the notebook image's
 * scale_down.py) reaches its ECS part too.
 */

export type Tags = Record<string, string>;

export interface FakeService {
  clusterArn: string;
  serviceName: string;
  status: "ACTIVE" | "INACTIVE";
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  tags: Tags;
  deployments: Array<{ status: string; rolloutState?: string; rolloutStateReason?: string; createdAt: number; updatedAt?: number }>;
  /** Newest first, as ECS lists them; createdAt in seconds. */
  events: Array<{ message: string; createdAt: number }>;
}

export interface FakeAction {
  Type: string;
  Order: number;
  TargetGroupArn?: string;
  /** A weighted forward (several target groups). */
  ForwardConfig?: { TargetGroups: Array<{ TargetGroupArn: string; Weight: number }> };
  AuthenticateOidcConfig?: Record<string, unknown>;
  AuthenticateCognitoConfig?: Record<string, unknown>;
}

export interface FakeRule {
  RuleArn: string;
  listenerArn: string;
  host: string;
  /** Its source-ip condition (none when empty). */
  cidrs: string[];
  /** Conditions besides host and source address, as DescribeRules gives them. */
  extraConditions?: Array<Record<string, unknown>>;
  Actions: FakeAction[];
  tags: Tags;
}

export interface Call {
  api: "ecs" | "elb" | "secrets";
  action: string;
  params: any;
}

export class FakeWakerAws {
  readonly services = new Map<string, FakeService>();
  readonly rules = new Map<string, FakeRule>();
  /** Tags of target groups (and anything else ELBv2's DescribeTags is asked about). */
  readonly elbTags = new Map<string, Tags>();
  /** Target group => its targets' states ("healthy", "initial", "unhealthy"). */
  readonly health = new Map<string, string[]>();
  readonly secrets = new Map<string, { value: string; tags: Tags }>();
  readonly calls: Call[] = [];
  /** Every change of a service's desired count: [service, from, to]. */
  readonly transitions: Array<[string, number, number]> = [];
  /** Action name => the error code AWS answers it with (AccessDeniedException, Throttling, ...), in that API's own error shape. */
  readonly failures = new Map<string, string>();
  /** DescribeRules of a listener answers this many rules a page (with NextMarker), when set. */
  rulesPerPage?: number;
  private server?: http.Server;
  port = 0;

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        try {
          this.answer(req, body, res);
        } catch (err) {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(String(err));
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The environment that points the SDK (and boto3's ECS client) here. */
  get env(): Record<string, string> {
    const url = `http://127.0.0.1:${this.port}`;
    return {
      AWS_ENDPOINT_URL_ECS: url,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
      AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
      AWS_SECRET_ACCESS_KEY: "secret-example",
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_EC2_METADATA_DISABLED: "true",
    };
  }

  callsOf(action: string): Call[] {
    return this.calls.filter((c) => c.action === action);
  }

  service(name: string): FakeService {
    const found = [...this.services.values()].find((s) => s.serviceName === name);
    if (!found) throw new Error(`no service ${name}`);
    return found;
  }

  private answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const target = String(req.headers["x-amz-target"] ?? "");
    if (target.startsWith("AmazonEC2ContainerServiceV20141113.")) return this.ecs(target.split(".")[1], JSON.parse(body || "{}"), res);
    if (target.startsWith("secretsmanager.")) return this.secretsManager(target.split(".")[1], JSON.parse(body || "{}"), res);
    const form = new URLSearchParams(body);
    if (form.get("Action")) return this.elb(form.get("Action")!, unflatten(form), res);
    res.writeHead(400);
    res.end("unknown request");
  }

  // --- ECS ---------------------------------------------------------------------------------

  private ecs(action: string, params: any, res: http.ServerResponse): void {
    this.calls.push({ api: "ecs", action, params });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(value));
    };
    const failure = this.failures.get(action);
    if (failure)
      return json(400, { __type: failure, message: `User: arn:aws:sts::000000000000:assumed-role/waker is not authorized to perform: ecs:${action}` });
    const find = (cluster: string, name: string) =>
      [...this.services.values()].find((s) => s.serviceName === name && (s.clusterArn === cluster || s.clusterArn.endsWith(`/${cluster}`)));
    if (action === "DescribeServices") {
      const services = (params.services as string[]).map((n) => find(params.cluster, n)).filter((s): s is FakeService => !!s);
      const include = (params.include ?? []).includes("TAGS");
      return json(200, {
        services: services.map((s) => shape(s, include)),
        failures: (params.services as string[]).filter((n) => !find(params.cluster, n)).map((n) => ({ arn: n, reason: "MISSING" })),
      });
    }
    if (action === "UpdateService") {
      const service = find(params.cluster, params.service);
      if (!service) return json(400, { __type: "ServiceNotFoundException", message: "Service not found." });
      if (params.desiredCount !== undefined) {
        this.transitions.push([service.serviceName, service.desiredCount, params.desiredCount]);
        service.desiredCount = params.desiredCount;
        // As ECS: the primary deployment records the change.
        const primary = service.deployments.find((d) => d.status === "PRIMARY");
        if (primary) primary.updatedAt = Math.floor(Date.now() / 1000);
      }
      return json(200, { service: shape(service, false) });
    }
    json(400, { __type: "InvalidParameterException", message: `unsupported ${action}` });
  }

  // --- Secrets Manager ---------------------------------------------------------------------

  private secretsManager(action: string, params: any, res: http.ServerResponse): void {
    this.calls.push({ api: "secrets", action, params });
    const secret = this.secrets.get(params.SecretId);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(value));
    };
    const failure = this.failures.get(action);
    if (failure) return json(400, { __type: failure, message: `not authorized to perform: secretsmanager:${action}` });
    if (!secret) return json(400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." });
    if (action === "GetSecretValue") return json(200, { ARN: params.SecretId, Name: "token", SecretString: secret.value });
    if (action === "DescribeSecret")
      return json(200, { ARN: params.SecretId, Name: "token", Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })) });
    json(400, { __type: "InvalidRequestException", message: `unsupported ${action}` });
  }

  // --- ELBv2 -------------------------------------------------------------------------------

  private elb(action: string, params: any, res: http.ServerResponse): void {
    this.calls.push({ api: "elb", action, params });
    const xml = (status: number, inner: string) => {
      res.writeHead(status, { "content-type": "text/xml" });
      res.end(
        status === 200
          ? `<${action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${action}Response>`
          : inner,
      );
    };
    const error = (code: string, message: string) =>
      xml(
        400,
        `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
      );
    const failure = this.failures.get(action);
    if (failure) return error(failure, `not authorized to perform: elasticloadbalancing:${action}`);
    if (action === "DescribeRules") {
      const wanted: string[] | undefined = params.RuleArns?.member;
      const rules = [...this.rules.values()].filter((r) => (wanted ? wanted.includes(r.RuleArn) : r.listenerArn === params.ListenerArn));
      if (wanted && rules.length < wanted.length) return error("RuleNotFound", "One or more rules not found");
      // A listener's rules, a page at a time: the marker is the index of the page's first rule.
      const from = wanted || !this.rulesPerPage ? 0 : Number(params.Marker ?? 0);
      const to = wanted || !this.rulesPerPage ? rules.length : from + this.rulesPerPage;
      const next = to < rules.length ? `<NextMarker>${to}</NextMarker>` : "";
      return xml(
        200,
        `<Rules>${rules
          .slice(from, to)
          .map((r) => `<member>${toXml(ruleShape(r))}</member>`)
          .join("")}</Rules>${next}`,
      );
    }
    if (action === "DescribeTags") {
      const arns: string[] = params.ResourceArns?.member ?? [];
      const tagsOf = (arn: string) => this.rules.get(arn)?.tags ?? this.elbTags.get(arn);
      const unknown = arns.find((arn) => !tagsOf(arn));
      if (unknown) return error(unknown.includes(":targetgroup/") ? "TargetGroupNotFound" : "RuleNotFound", `${unknown} not found`);
      const descriptions = arns.map(
        (arn) =>
          `<member><ResourceArn>${arn}</ResourceArn><Tags>${Object.entries(tagsOf(arn)!)
            .map(([k, v]) => `<member><Key>${k}</Key><Value>${escapeXml(v)}</Value></member>`)
            .join("")}</Tags></member>`,
      );
      return xml(200, `<TagDescriptions>${descriptions.join("")}</TagDescriptions>`);
    }
    if (action === "DescribeTargetHealth") {
      // As ELBv2: a target group no rule forwards to (not even at weight 0) has no load
      // balancer, and its targets are "unused", never health-checked.
      const used = [...this.rules.values()].some((r) =>
        r.Actions.some(
          (a) => a.TargetGroupArn === params.TargetGroupArn || a.ForwardConfig?.TargetGroups.some((g) => g.TargetGroupArn === params.TargetGroupArn),
        ),
      );
      const states = (this.health.get(params.TargetGroupArn) ?? []).map((state) => (used ? state : "unused"));
      return xml(
        200,
        `<TargetHealthDescriptions>${states
          .map((s, i) => `<member><Target><Id>10.0.0.${i + 1}</Id><Port>8888</Port></Target><TargetHealth><State>${s}</State></TargetHealth></member>`)
          .join("")}</TargetHealthDescriptions>`,
      );
    }
    if (action === "ModifyRule") {
      const rule = this.rules.get(params.RuleArn);
      if (!rule) return error("RuleNotFound", "One or more rules not found");
      if (params.Actions) {
        rule.Actions = (params.Actions.member as any[]).map((a) => {
          // What ELBv2 checks: an OIDC action's secret, given or kept; a forward names its
          // target group once, either alone or in a weighted list (weights 0 to 999).
          if (a.Type === "authenticate-oidc" && !a.AuthenticateOidcConfig?.ClientSecret && a.AuthenticateOidcConfig?.UseExistingClientSecret !== "true") {
            throw new Error("ValidationError: client secret required");
          }
          const weighted = ((a.ForwardConfig?.TargetGroups?.member ?? []) as any[]).map((g) => ({
            TargetGroupArn: g.TargetGroupArn,
            Weight: Number(g.Weight ?? 1),
          }));
          if (a.Type === "forward") {
            if (!a.TargetGroupArn && weighted.length === 0) throw new Error("ValidationError: a forward needs a target group");
            if (a.TargetGroupArn && weighted.length > 1) throw new Error("ValidationError: TargetGroupArn with several weighted target groups");
            if (weighted.some((g) => !(g.Weight >= 0 && g.Weight <= 999))) throw new Error("ValidationError: weight out of range");
          }
          const { ForwardConfig: _config, ...rest } = a;
          return { ...rest, Order: Number(a.Order), ...(weighted.length > 0 ? { ForwardConfig: { TargetGroups: weighted } } : {}) };
        });
      }
      return xml(200, `<Rules><member>${toXml(ruleShape(rule))}</member></Rules>`);
    }
    error("InvalidAction", `unsupported ${action}`);
  }
}

/** A service as ECS returns it: its ARN, and its tags only when asked for, as a list. */
function shape(s: FakeService, withTags: boolean): Record<string, unknown> {
  const { tags, ...rest } = s;
  return {
    ...rest,
    serviceArn: `${s.clusterArn.replace(":cluster/", ":service/")}/${s.serviceName}`,
    ...(withTags ? { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) } : {}),
  };
}

/** A rule as DescribeRules returns it: conditions in both shapes, forward with its ForwardConfig, OIDC without its secret. */
function ruleShape(r: FakeRule): Record<string, unknown> {
  return {
    RuleArn: r.RuleArn,
    Priority: "10",
    IsDefault: "false",
    Conditions: [
      { Field: "host-header", Values: [r.host], HostHeaderConfig: { Values: [r.host] } },
      ...(r.cidrs.length > 0 ? [{ Field: "source-ip", SourceIpConfig: { Values: r.cidrs } }] : []),
      ...(r.extraConditions ?? []),
    ],
    Actions: r.Actions.map((a) => {
      const { ClientSecret: _secret, UseExistingClientSecret: _keep, ...oidc } = (a.AuthenticateOidcConfig ?? {}) as Record<string, unknown>;
      return {
        ...a,
        ...(a.AuthenticateOidcConfig ? { AuthenticateOidcConfig: oidc } : {}),
        ...(a.Type === "forward" ? { ForwardConfig: a.ForwardConfig ?? { TargetGroups: [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] } } : {}),
      };
    }),
  };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Objects as elements, lists as <member> elements: the Query protocol's XML. */
function toXml(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  }
  return escapeXml(String(value));
}

/** `Actions.member.1.Type=forward` => { Actions: { member: [{ Type: "forward" }] } }. */
function unflatten(form: URLSearchParams): any {
  const root: any = {};
  for (const [key, value] of form) {
    const parts = key.split(".");
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const last = i === parts.length - 1;
      if (part === "member") {
        const index = Number(parts[++i]) - 1;
        node.member ??= [];
        if (i === parts.length - 1) node.member[index] = value;
        else node = node.member[index] ??= {};
        continue;
      }
      if (last) node[part] = value;
      else node = node[part] ??= {};
    }
  }
  return root;
}
