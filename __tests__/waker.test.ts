import { cognitoIssuer, handler, resetClients, TAGS } from "../waker/handler";
import { WAKER_TAGS } from "../modules/waker/tags";
import { FakeAction, FakeWakerAws, Tags } from "./helpers/fake-waker-aws";
import {
  awsEnv,
  get,
  jupyterStatus,
  JUPYTER_HINT,
  Notebook,
  startNotebook,
  stopNotebook,
  tempDir,
  waitForExit,
  waitUntilServing,
} from "./helpers/notebook-image";
import { describeWithTool } from "./helpers/tools";
import { FakeAlbSignIn, otherKey, otherRsaKey } from "./helpers/alb-sign-in";

// The waker's handler (waker/handler.ts), run for real with the AWS SDK against local
// stand-ins for ECS, ELBv2 and Secrets Manager: alice's notebook stops, its URL wakes it,
// other hosts and other people's notebooks are refused; and once with the real Jupyter
// server of the notebook image stopping itself.

const REGION = "eu-west-1";
const ACCOUNT = "111122223333";
const CLUSTER = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/jupyter-notebooks-dev`;
const LB = `app/nb-dev-0/0123456789abcdef`;
const LISTENER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/${LB}/fedcba9876543210`;
const SIGNER = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:loadbalancer/${LB}`;
const ISSUER = "https://id.example.com";
/** Alice's access token from the notebooks' sign-in provider (its user-info endpoint says: alice-sub). */
const ACCESS_TOKEN = "alice-access-token";
/** Inside the rules' allowed CIDR (203.0.113.0/24). */
const CLIENT_ADDRESS = "203.0.113.7";
const WAKER_GROUP = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/nb-dev-0/1111111111111111`;
const group = (name: string) => `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/2222222222222222`;
const ruleArn = (n: number) => `${LISTENER.replace(":listener/", ":listener-rule/")}/00000000000000${String(n).padStart(2, "0")}`;
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}/jupyter-token-AbCdEf`;
const TOKEN = "alice-token-0123456789abcdefABCDEF";
const OIDC_SECRET = "oidc-client-secret-never-shown";
const PROJECT = "jupyter-notebooks";
const ENV = {
  WAKER_PROJECT: PROJECT,
  WAKER_ENVIRONMENT: "dev",
  WAKER_LOAD_BALANCERS: JSON.stringify([{ targetGroupArn: WAKER_GROUP, listenerArns: [LISTENER] }]),
};
const now = () => Math.floor(Date.now() / 1000);

interface Person {
  name: string;
  service: string;
  host: string;
  rule: string;
  group: string;
  secret: string;
}
const person = (name: string, n: number): Person => ({
  name,
  service: `jupyter-${name}0001`,
  host: `jupyter-${name}0001.nb.example.com`,
  rule: ruleArn(n),
  group: group(`jupyter-${name}0001`),
  secret: secretArn(`jupyter-${name}0001`),
});
const alice = person("alice", 1);
const bob = person("bob", 2);

/** Adds a notebook to the stand-in: running, its rule forwarding to its own target group (sign-in first unless `signIn` is false). */
function addNotebook(aws: FakeWakerAws, p: Person, options: { signIn?: boolean; environment?: string; ruleTags?: Tags; token?: string } = {}) {
  const common = { Project: PROJECT, Environment: options.environment ?? "dev", Owner: p.name };
  aws.services.set(p.service, {
    clusterArn: CLUSTER,
    serviceName: p.service,
    status: "ACTIVE",
    desiredCount: 1,
    runningCount: 1,
    pendingCount: 0,
    tags: { ...common, [TAGS.listenerRule]: p.rule },
    deployments: [{ status: "PRIMARY", rolloutState: "COMPLETED", createdAt: now() - 86400 }],
    events: [{ message: `(service ${p.service}) has reached a steady state.`, createdAt: now() - 3600 }],
  });
  const actions: FakeAction[] = [];
  if (options.signIn !== false) {
    actions.push({
      Type: "authenticate-oidc",
      Order: 1,
      AuthenticateOidcConfig: {
        Issuer: ISSUER,
        AuthorizationEndpoint: "https://id.example.com/authorize",
        TokenEndpoint: "https://id.example.com/token",
        UserInfoEndpoint: signIn.userInfoUrl,
        ClientId: "notebooks",
        ClientSecret: OIDC_SECRET,
        OnUnauthenticatedRequest: "authenticate",
      },
    });
  }
  actions.push({ Type: "forward", Order: actions.length + 1, TargetGroupArn: p.group });
  aws.rules.set(p.rule, {
    RuleArn: p.rule,
    listenerArn: LISTENER,
    host: p.host,
    cidrs: ["203.0.113.0/24"],
    Actions: actions,
    tags: options.ruleTags ?? { ...common, [TAGS.cluster]: CLUSTER, [TAGS.service]: p.service, [TAGS.targetGroup]: p.group, [TAGS.tokenSecret]: p.secret },
  });
  aws.elbTags.set(p.group, { ...common });
  aws.health.set(p.group, ["healthy"]);
  aws.secrets.set(p.secret, { value: options.token ?? TOKEN, tags: common });
}

/** The stand-in's state after the notebook stopped itself: service at 0, no task, its target empty. */
function stopService(aws: FakeWakerAws, p: Person) {
  const s = aws.service(p.service);
  Object.assign(s, { desiredCount: 0, runningCount: 0, pendingCount: 0 });
  s.events.unshift({ message: `(service ${p.service}) has reached a steady state.`, createdAt: now() - 3000 });
  aws.health.set(p.group, []);
}

const stoppedEvent = (p: Person, cluster = CLUSTER) => ({
  source: "aws.ecs",
  "detail-type": "ECS Task State Change",
  detail: { clusterArn: cluster, group: `service:${p.service}`, lastStatus: "STOPPED", taskArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/x/1` },
});

/** x-amzn-oidc-data of someone signed in at this load balancer through the notebooks' OIDC client. */
const signedIn = () => signIn.token({ signer: SIGNER, client: "notebooks", issuer: ISSUER });

/**
 * A request as the load balancer hands it to a Lambda target after the rule's sign-in: its
 * signed x-amzn-oidc-data, and the client's address appended to X-Forwarded-For. `headers`
 * replaces or (undefined) removes headers.
 */
const request = (host: string, query: Record<string, string> = {}, path = "/lab", headers: Record<string, string | undefined> = {}) => ({
  requestContext: { elb: { targetGroupArn: WAKER_GROUP } },
  httpMethod: "GET",
  path,
  queryStringParameters: query,
  headers: Object.fromEntries(
    Object.entries({
      host,
      "user-agent": "test",
      cookie: "AWSELBAuthSessionCookie-0=session",
      accept: "text/html,application/xhtml+xml",
      "sec-fetch-mode": "navigate",
      "x-forwarded-for": CLIENT_ADDRESS,
      "x-amzn-oidc-data": signedIn(),
      "x-amzn-oidc-accesstoken": ACCESS_TOKEN,
      ...headers,
    }).filter(([, value]) => value !== undefined),
  ),
  body: "",
  isBase64Encoded: false,
});

const forwardAction = (aws: FakeWakerAws, p: Person) => aws.rules.get(p.rule)!.Actions.find((a) => a.Type === "forward")!;
/** Where the rule's requests go: its target group, or the weighted ones above 0. */
const forwardOf = (aws: FakeWakerAws, p: Person) => {
  const forward = forwardAction(aws, p);
  const receiving = forward.ForwardConfig
    ? forward.ForwardConfig.TargetGroups.filter((g) => g.Weight > 0).map((g) => g.TargetGroupArn)
    : [forward.TargetGroupArn];
  return receiving.length === 1 ? receiving[0] : receiving;
};

let aws: FakeWakerAws;
let signIn: FakeAlbSignIn;
let saved: NodeJS.ProcessEnv;
let logged: string[];
beforeEach(async () => {
  aws = await new FakeWakerAws().start();
  signIn = await new FakeAlbSignIn().start();
  saved = { ...process.env };
  signIn.users.set(ACCESS_TOKEN, "alice-sub");
  Object.assign(process.env, aws.env, ENV, { WAKER_SIGNIN_KEYS_URL: signIn.url, WAKER_COGNITO_KEYS_URL: signIn.poolKeysUrl });
  resetClients();
  logged = [];
  jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void logged.push(args.join(" ")));
  addNotebook(aws, alice);
  addNotebook(aws, bob);
});
afterEach(async () => {
  jest.restoreAllMocks();
  resetClients();
  process.env = saved;
  await aws.stop();
  await signIn.stop();
});

test("the handler reads the tags the notebook stacks write", () => {
  expect(TAGS).toEqual(WAKER_TAGS);
});

describe("a notebook stops", () => {
  test("its rule then forwards to the waker; the sign-in action (its secret kept), the conditions and bob's rule stay", async () => {
    stopService(aws, alice);
    const before = JSON.stringify(aws.rules.get(alice.rule)!.Actions[0]);
    await handler(stoppedEvent(alice));
    expect(forwardOf(aws, alice)).toBe(WAKER_GROUP);
    const [oidc, forward] = aws.rules.get(alice.rule)!.Actions;
    // The notebook's target group stays in the rule at weight 0: still the load balancer's, so still health-checked.
    expect(forward).toEqual({
      Type: "forward",
      Order: 2,
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: WAKER_GROUP, Weight: 1 },
          { TargetGroupArn: alice.group, Weight: 0 },
        ],
      },
    });
    expect(oidc.Type).toBe("authenticate-oidc");
    expect({ ...oidc.AuthenticateOidcConfig, UseExistingClientSecret: undefined, ClientSecret: OIDC_SECRET }).toEqual({
      ...JSON.parse(before).AuthenticateOidcConfig,
      UseExistingClientSecret: undefined,
    });
    expect(aws.callsOf("ModifyRule")).toHaveLength(1);
    // ModifyRule names the actions only: the conditions (host, CIDRs) are not sent.
    expect(aws.callsOf("ModifyRule")[0].params.Conditions).toBeUndefined();
    expect(forwardOf(aws, bob)).toBe(bob.group);
    // A second event changes nothing.
    await handler(stoppedEvent(alice));
    expect(aws.callsOf("ModifyRule")).toHaveLength(1);
  });

  test("a request that reached the waker just before (through someone's catch-all rule) does not keep its URL from waking it", async () => {
    expect(((await handler(request(alice.host))) as any).statusCode).toBe(404);
    stopService(aws, alice);
    await handler(stoppedEvent(alice));
    expect(((await handler(request(alice.host))) as any).headers["X-Notebook-Waker"]).toBe("starting");
  });

  test("the service's running count may still say 1 when the event comes: desired 0 is what counts", async () => {
    stopService(aws, alice);
    aws.service(alice.service).runningCount = 1;
    await handler(stoppedEvent(alice));
    expect(forwardOf(aws, alice)).toBe(WAKER_GROUP);
  });

  test("a task replaced by a deploy (the service still wants 1) changes nothing", async () => {
    aws.service(alice.service).runningCount = 0;
    await handler(stoppedEvent(alice));
    expect(aws.callsOf("ModifyRule")).toEqual([]);
    expect(forwardOf(aws, alice)).toBe(alice.group);
  });

  test("another environment's service, or one whose rule tag names someone else's rule, changes nothing", async () => {
    stopService(aws, alice);
    aws.service(alice.service).tags.Environment = "prod";
    await handler(stoppedEvent(alice));
    aws.service(alice.service).tags.Environment = "dev";
    aws.service(alice.service).tags[TAGS.listenerRule] = bob.rule;
    await handler(stoppedEvent(alice));
    expect(aws.callsOf("ModifyRule")).toEqual([]);
    expect([forwardOf(aws, alice), forwardOf(aws, bob)]).toEqual([alice.group, bob.group]);
  });
});

describe("a request for a stopped notebook's URL", () => {
  beforeEach(async () => {
    stopService(aws, alice);
    await handler(stoppedEvent(alice));
  });

  test("starts it once however many arrive at once, and each gets the page that reloads itself", async () => {
    const pages: any[] = await Promise.all(Array.from({ length: 10 }, () => handler(request(alice.host))));
    expect(aws.transitions.filter(([name, from, to]) => name === alice.service && from === 0 && to === 1)).toHaveLength(1);
    expect(aws.service(alice.service).desiredCount).toBe(1);
    for (const page of pages) {
      expect(page.statusCode).toBe(503);
      expect(page.headers).toMatchObject({
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Retry-After": "5",
        "X-Notebook-Waker": "starting",
      });
      expect(page.body).toContain('<meta http-equiv="refresh" content="5">');
      expect(page.body).toContain("Starting your notebook");
    }
    expect(aws.service(bob.service).desiredCount).toBe(1);
    expect(aws.transitions.filter(([name]) => name === bob.service)).toEqual([]);
  });

  test("while it starts: the waiting page, saying what happens, and no further start or switch", async () => {
    await handler(request(alice.host));
    Object.assign(aws.service(alice.service), { pendingCount: 1 });
    aws.health.set(alice.group, ["initial"]);
    const page: any = await handler(request(alice.host));
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain("container is starting");
    Object.assign(aws.service(alice.service), { pendingCount: 0, runningCount: 1 });
    expect(((await handler(request(alice.host))) as any).body).toContain("health checks");
    expect(aws.callsOf("UpdateService")).toHaveLength(1);
    expect(aws.callsOf("ModifyRule")).toHaveLength(1); // the stop's
  });

  test("once healthy: the rule forwards to the notebook again, sign-in kept, and the page reloads into Jupyter", async () => {
    await handler(request(alice.host));
    Object.assign(aws.service(alice.service), { runningCount: 1 });
    aws.health.set(alice.group, ["healthy"]);
    const page: any = await handler(request(alice.host));
    // As Terraform writes it: the notebook's target group alone.
    expect(forwardAction(aws, alice)).toEqual({ Type: "forward", Order: 2, TargetGroupArn: alice.group });
    expect(aws.rules.get(alice.rule)!.Actions.map((a) => a.Type)).toEqual(["authenticate-oidc", "forward"]);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<meta http-equiv="refresh" content="1">');
    expect(aws.callsOf("ModifyRule")).toHaveLength(2);
  });

  test("a host the waker does not know, another environment's notebook, or a rule that points at someone else's target group: 404, nothing started or switched", async () => {
    const before = { updates: aws.callsOf("UpdateService").length, modifies: aws.callsOf("ModifyRule").length };
    expect(((await handler(request("nobody.nb.example.com"))) as any).statusCode).toBe(404);
    addNotebook(aws, person("carol", 3), { environment: "prod" });
    stopService(aws, person("carol", 3));
    expect(((await handler(request(person("carol", 3).host))) as any).statusCode).toBe(404);
    // dan's rule claims bob's target group and service (tags dan may set on his own rule)
    const dan = person("dan", 4);
    addNotebook(aws, dan, {
      ruleTags: {
        Project: PROJECT,
        Environment: "dev",
        Owner: "dan",
        [TAGS.cluster]: CLUSTER,
        [TAGS.service]: bob.service,
        [TAGS.targetGroup]: bob.group,
        [TAGS.tokenSecret]: dan.secret,
      },
    });
    stopService(aws, bob);
    expect(((await handler(request(dan.host))) as any).statusCode).toBe(404);
    // a rule without the waker's tags
    const erin = person("erin", 5);
    addNotebook(aws, erin, { ruleTags: { Project: PROJECT, Environment: "dev", Owner: "erin" } });
    expect(((await handler(request(erin.host))) as any).statusCode).toBe(404);
    expect(aws.callsOf("UpdateService")).toHaveLength(before.updates);
    expect(aws.callsOf("ModifyRule")).toHaveLength(before.modifies);
    expect(aws.service(bob.service).desiredCount).toBe(0);
  });

  test("the host as browsers send it: any case, with a port; multi-value headers too", async () => {
    const event: any = request(alice.host.toUpperCase() + ":443");
    event.headers = {
      Host: event.headers.host,
      Accept: "text/html",
      "X-Forwarded-For": event.headers["x-forwarded-for"],
      "X-Amzn-Oidc-Data": event.headers["x-amzn-oidc-data"],
      "X-Amzn-Oidc-Accesstoken": ACCESS_TOKEN,
    };
    expect(((await handler(event)) as any).statusCode).toBe(503);
    const multi: any = request("ignored");
    delete multi.headers;
    multi.multiValueHeaders = {
      host: [alice.host],
      "sec-fetch-mode": ["navigate"],
      "x-forwarded-for": [CLIENT_ADDRESS],
      "x-amzn-oidc-data": [signedIn()],
      "x-amzn-oidc-accesstoken": [ACCESS_TOKEN],
    };
    expect(((await handler(multi)) as any).statusCode).toBe(503);
    expect(aws.transitions.filter(([name, from, to]) => name === alice.service && from === 0 && to === 1)).toHaveLength(1);
  });

  test("a rule of another project or environment is refused though its service, target group and secret are this one's: 404, nothing started", async () => {
    for (const [n, mismatch] of [
      [7, { Environment: "prod" }],
      [8, { Project: "other-project" }],
    ] as Array<[number, Tags]>) {
      const p = person(`gina${n}`, n);
      addNotebook(aws, p);
      Object.assign(aws.rules.get(p.rule)!.tags, mismatch);
      stopService(aws, p);
      const page: any = await handler(request(p.host));
      expect([page.statusCode, page.headers["X-Notebook-Waker"]]).toEqual([404, "not-here"]);
      expect(aws.service(p.service).desiredCount).toBe(0);
    }
    expect(aws.callsOf("UpdateService")).toEqual([]);
  });

  test("a rule on a later page of its listener's rules is found", async () => {
    aws.rulesPerPage = 1;
    stopService(aws, bob);
    await handler(stoppedEvent(bob));
    const page: any = await handler(request(bob.host));
    expect(page.statusCode).toBe(503);
    expect(aws.service(bob.service).desiredCount).toBe(1);
    // alice's rule came first, alone on its page: bob's needed the marker
    expect(
      aws
        .callsOf("DescribeRules")
        .filter((c) => c.params.ListenerArn === LISTENER)
        .map((c) => c.params.Marker),
    ).toEqual([undefined, "1"]);
  });

  test("someone else's rule for the same host: ignored unless it too sends to the waker, and then neither rule is trusted", async () => {
    const mallory = person("mallory", 7);
    addNotebook(aws, mallory);
    // a decoy rule listing alice's host, forwarding to mallory's own target group: not the rule this request came through
    aws.rules.set(ruleArn(8), { ...aws.rules.get(mallory.rule)!, RuleArn: ruleArn(8), host: alice.host });
    expect(((await handler(request(alice.host))) as any).statusCode).toBe(503);
    expect(aws.service(alice.service).desiredCount).toBe(1);
    // the decoy forwarding to the waker too: two rules claim the host, nothing is done (once
    // the waker looks again: for a minute it reads the rule it found by its ARN, and that rule
    // is still alice's own, whose sign-in and addresses it checks)
    stopService(aws, alice);
    aws.rules.get(ruleArn(8))!.Actions = aws.rules.get(alice.rule)!.Actions;
    resetClients();
    const before = aws.callsOf("UpdateService").length;
    expect(((await handler(request(alice.host))) as any).statusCode).toBe(404);
    expect(aws.callsOf("UpdateService")).toHaveLength(before);
  });

  test("a host no rule sends to the waker (requests through someone's catch-all rule): the listener is paged once per 10 seconds, not per request", async () => {
    aws.rulesPerPage = 1;
    const listenerPages = () => aws.callsOf("DescribeRules").filter((c) => c.params.ListenerArn).length;
    for (let i = 0; i < 5; i++) expect(((await handler(request("nobody.nb.example.com"))) as any).statusCode).toBe(404);
    expect(listenerPages()).toBe(aws.rules.size);
  });

  test("a tab left open asks again and again: the listener's rules are paged through once a minute, not on every request", async () => {
    aws.rulesPerPage = 1;
    const listenerPages = () => aws.callsOf("DescribeRules").filter((c) => c.params.ListenerArn).length;
    await handler(request(alice.host));
    const paged = listenerPages();
    expect(paged).toBeGreaterThan(1);
    for (let i = 0; i < 5; i++) expect(((await handler(request(alice.host, {}, "/api/kernels"))) as any).statusCode).toBe(503);
    expect(listenerPages()).toBe(paged);
    // Its rule was pointed back at the notebook (by the waker, or a deploy) while the load
    // balancer still sends a reload here: the page reloads into Jupyter, not "No notebook here".
    const forward = forwardAction(aws, alice);
    delete forward.ForwardConfig;
    forward.TargetGroupArn = alice.group;
    const back: any = await handler(request(alice.host));
    expect([back.statusCode, back.headers["X-Notebook-Waker"]]).toEqual([200, "ready"]);
    expect(listenerPages()).toBe(paged);
    // Its rule now for another host (or gone): the listeners are paged anew.
    aws.rules.get(alice.rule)!.host = "renamed.nb.example.com";
    expect(((await handler(request(alice.host))) as any).statusCode).toBe(404);
    expect(listenerPages()).toBe(paged * 2);
    expect(aws.callsOf("UpdateService")).toHaveLength(1);
  });

  test("a tab left open, polling the API with its sign-in cookie, does not start it; opening the page does", async () => {
    const poll: any = request(alice.host, {}, "/api/kernels");
    poll.headers = { ...poll.headers, accept: "application/json", "sec-fetch-mode": "cors" };
    const page: any = await handler(poll);
    expect([page.statusCode, page.headers["X-Notebook-Waker"]]).toEqual([503, "asleep"]);
    const script: any = request(alice.host);
    script.headers = {
      host: alice.host,
      accept: "*/*",
      "x-forwarded-for": CLIENT_ADDRESS,
      "x-amzn-oidc-data": signedIn(),
      "x-amzn-oidc-accesstoken": ACCESS_TOKEN,
    };
    expect(((await handler(script)) as any).headers["X-Notebook-Waker"]).toBe("asleep");
    expect(aws.callsOf("UpdateService")).toEqual([]);
    expect(((await handler(request(alice.host))) as any).headers["X-Notebook-Waker"]).toBe("starting");
    expect(aws.service(alice.service).desiredCount).toBe(1);
  });

  test("a deleted service: a page that says so, nothing started", async () => {
    aws.service(alice.service).status = "INACTIVE";
    const page: any = await handler(request(alice.host));
    expect([page.statusCode, page.body.includes("deleted")]).toEqual([404, true]);
    expect(aws.callsOf("UpdateService")).toEqual([]);
  });
});

describe("who may wake it: what the notebook's own rule asks, however the request reached the waker", () => {
  // Any rule on the load balancer may forward to the waker: mallory's own, with a sign-in of
  // her own or none, with conditions that match a request for alice's host. The waker checks
  // what alice's rule asks for itself: this load balancer's signed sign-in for alice's rule's
  // client and issuer, and an address inside its CIDRs.
  beforeEach(async () => {
    stopService(aws, alice);
    await handler(stoppedEvent(alice));
  });
  const nothingStarted = () => {
    expect(aws.callsOf("UpdateService")).toEqual([]);
    expect(aws.service(alice.service).desiredCount).toBe(0);
    expect(forwardOf(aws, alice)).toBe(WAKER_GROUP);
  };
  const kind = (page: any) => [page.statusCode, page.headers["X-Notebook-Waker"]];
  const token = (fields: Partial<{ signer: string; client: string; issuer: string; sub: string }>, options: Parameters<FakeAlbSignIn["token"]>[1] = {}) =>
    signIn.token({ signer: SIGNER, client: "notebooks", issuer: ISSUER, ...fields }, options);

  test("no sign-in (mallory's rule forwards to the waker without one), or a forged one: 403, nothing started", async () => {
    const refused: Array<string | undefined> = [
      undefined,
      "not-a-jwt",
      token({}, { key: otherKey() }), // signed with a key that is not the load balancer's
      token({}, { header: { alg: "none" } }),
      token({}, { header: { alg: "HS256" } }),
      signedIn().replace(/\.[^.]+$/, "."), // no signature
    ];
    for (const data of refused) {
      const page: any = await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": data }));
      expect(kind(page)).toEqual([403, "sign-in"]);
      expect(page.body).toContain("Sign in");
    }
    nothingStarted();
    expect(logged.filter((l) => /without the rule's signed sign-in/.test(l))).toHaveLength(refused.length);
  });

  test("signed by this load balancer, but for another client or issuer (mallory's own sign-in), another load balancer, or expired: 403", async () => {
    for (const data of [
      token({ client: "mallory-app" }),
      token({ issuer: "https://id.mallory.example" }),
      token({ signer: SIGNER.replace("0123456789abcdef", "aaaaaaaaaaaaaaaa") }),
      token({}, { header: { exp: Math.floor(Date.now() / 1000) - 3600 } }),
      token({}, { header: { kid: "../../other-key" } }),
      token({}, { header: { kid: "00000000-0000-4000-8000-000000000000" } }), // a key id the load balancer never published
    ]) {
      expect(kind(await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": data })))).toEqual([403, "sign-in"]);
    }
    nothingStarted();
    // Only well-formed key ids are looked up.
    // (the traversal one never was; the unpublished one was, once, and answered 404)
    expect(signIn.fetches).toEqual(["00000000-0000-4000-8000-000000000000"]);
  });

  test("the load balancer's own sign-in for alice's rule starts it; its key is fetched once", async () => {
    for (let i = 0; i < 3; i++) expect(kind(await handler(request(alice.host)))).toEqual([503, "starting"]);
    expect(aws.service(alice.service).desiredCount).toBe(1);
    expect(signIn.fetches).toEqual([signIn.kid]);
  });

  test("mallory's own rule names alice's client and issuer with endpoints of her own: the load balancer signs it, but alice's provider does not know the access token: 403", async () => {
    // What the load balancer hands on after signing in through mallory's rule: its signature,
    // alice's client and issuer (copied), and whatever mallory's endpoints said.
    const forged = token({ sub: "alice-sub" });
    for (const accessToken of ["mallory-made-up-token", undefined]) {
      const page: any = await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": forged, "x-amzn-oidc-accesstoken": accessToken }));
      expect(kind(page)).toEqual([403, "sign-in"]);
    }
    // Mallory's own real access token, with a subject her user-info endpoint made up: not hers.
    signIn.users.set("mallory-access-token", "mallory-sub");
    const claimed = await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": forged, "x-amzn-oidc-accesstoken": "mallory-access-token" }));
    expect(kind(claimed)).toEqual([403, "sign-in"]);
    nothingStarted();
    // The notebook's own provider was asked, at the endpoint of alice's rule.
    expect(signIn.userInfoCalls).toEqual(["mallory-made-up-token", "mallory-access-token"]);
    // Signed in as herself, mallory passes what alice's rule would let her through: she may wake it, as she may open it.
    const herself = token({ sub: "mallory-sub" });
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": herself, "x-amzn-oidc-accesstoken": "mallory-access-token" })))).toEqual([
      503,
      "starting",
    ]);
  });

  test("the provider is asked once per access token for 5 minutes; a made-up key id is fetched once", async () => {
    for (let i = 0; i < 3; i++) await handler(request(alice.host));
    expect(signIn.userInfoCalls).toEqual([ACCESS_TOKEN]);
    const madeUp = token({}, { header: { kid: "00000000-0000-4000-8000-000000000001" } });
    for (let i = 0; i < 3; i++) await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": madeUp }));
    expect(signIn.fetches.filter((kid) => kid === "00000000-0000-4000-8000-000000000001")).toHaveLength(1);
  });

  test("the issuer and expiry must be in the load balancer's signed header, not only in the payload (which the provider's user info fills)", async () => {
    for (const missing of ["iss", "exp"]) {
      const data = token({}, { header: { [missing]: undefined } });
      expect(JSON.parse(Buffer.from(data.split(".")[0], "base64url").toString())[missing]).toBeUndefined();
      expect(kind(await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": data })))).toEqual([403, "sign-in"]);
    }
    nothingStarted();
  });

  test("a Cognito sign-in: the access token must be one its user pool signed, for the rule's app client, of the same user", async () => {
    const CLIENT = "4tq0example0client0id0abc";
    const POOL = `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_AbCdEfGhI`;
    const issuer = cognitoIssuer(POOL)!;
    expect(issuer).toBe(`https://cognito-idp.${REGION}.amazonaws.com/${REGION}_AbCdEfGhI`);
    aws.rules.get(alice.rule)!.Actions[0] = {
      Type: "authenticate-cognito",
      Order: 1,
      AuthenticateCognitoConfig: { UserPoolArn: POOL, UserPoolClientId: CLIENT, UserPoolDomain: "acme-notebooks", OnUnauthenticatedRequest: "authenticate" },
    };
    // The load balancer's signed header names the app client; mallory's rule may name it too.
    const data = (client: string, sub = "alice-sub") => signIn.token({ signer: SIGNER, client, issuer, sub });
    const access = (claims: Record<string, unknown> = {}, key?: ReturnType<typeof otherRsaKey>) =>
      signIn.poolAccessToken({ issuer, clientId: CLIENT, sub: "alice-sub" }, claims, key);
    const ask = async (oidcData: string, accessToken: string) =>
      kind(await handler(request(alice.host, {}, "/lab", { "x-amzn-oidc-data": oidcData, "x-amzn-oidc-accesstoken": accessToken })));
    expect(await ask(data("notebooks"), access())).toEqual([403, "sign-in"]);
    for (const accessToken of [
      "opaque-token-from-mallorys-provider",
      access({}, otherRsaKey()), // not signed by the pool
      access({ client_id: "another-app-client-of-the-pool" }), // mallory's rule, a real token of another client
      access({ token_use: "id" }),
      access({ iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other" }),
      access({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      access({ sub: "mallory-sub" }), // her own token, with alice's subject signed by her endpoints
    ]) {
      expect(await ask(data(CLIENT), accessToken)).toEqual([403, "sign-in"]);
    }
    nothingStarted();
    expect(await ask(data(CLIENT), access())).toEqual([503, "starting"]);
    // The pool's keys were read once; its user-info endpoint was never needed.
    expect([signIn.poolKeyFetches, signIn.userInfoCalls]).toEqual([1, []]);
    expect([cognitoIssuer("arn:aws:cognito-idp:eu-west-1:111122223333:userpool/x"), cognitoIssuer("")]).toEqual([undefined, undefined]);
  });

  test("a provider that does not answer (an outage, 429): 502 'try again', nothing remembered, nothing started", async () => {
    for (const status of [503, 429]) {
      signIn.userInfoFailure = status;
      const page: any = await handler(request(alice.host));
      expect(kind(page)).toEqual([502, "unavailable"]);
      expect(page.body).toContain("sign-in provider");
    }
    nothingStarted();
    signIn.userInfoFailure = undefined;
    expect(kind(await handler(request(alice.host)))).toEqual([503, "starting"]);
    expect(signIn.userInfoCalls).toEqual([ACCESS_TOKEN, ACCESS_TOKEN, ACCESS_TOKEN]);
  });

  test("from outside the rule's CIDRs, signed in or not, however X-Forwarded-For was forged: 403, nothing started", async () => {
    // The load balancer appends the address it saw: a client's own entries come first.
    for (const forwarded of [undefined, "", "198.51.100.9", `${CLIENT_ADDRESS}, 198.51.100.9`, "not-an-address", "2001:db8::1"]) {
      const page: any = await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": forwarded }));
      expect(kind(page)).toEqual([403, "not-allowed"]);
      expect(page.body).toContain("allowed_cidrs");
    }
    nothingStarted();
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": `198.51.100.9, ${CLIENT_ADDRESS}` })))).toEqual([503, "starting"]);
  });

  test("the address with its port (the load balancer's client port option): a.b.c.d:port and [v6]:port", async () => {
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": "198.51.100.9:51234" })))).toEqual([403, "not-allowed"]);
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": `${CLIENT_ADDRESS}:51234` })))).toEqual([503, "starting"]);
    stopService(aws, bob);
    await handler(stoppedEvent(bob));
    aws.rules.get(bob.rule)!.cidrs = ["2001:db8:abcd::/48"];
    expect(kind(await handler(request(bob.host, {}, "/lab", { "x-forwarded-for": "[2001:db8:ffff::1]:443" })))).toEqual([403, "not-allowed"]);
    expect(kind(await handler(request(bob.host, {}, "/lab", { "x-forwarded-for": "[2001:db8:abcd::1]:443" })))).toEqual([503, "starting"]);
  });

  test("IPv6 CIDRs count too; a rule without a source-ip condition lets any address through", async () => {
    aws.rules.get(alice.rule)!.cidrs = ["2001:db8:abcd::/48"];
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": "2001:db8:ffff::1" })))).toEqual([403, "not-allowed"]);
    expect(kind(await handler(request(alice.host, {}, "/lab", { "x-forwarded-for": "2001:db8:abcd:12::1" })))).toEqual([503, "starting"]);
    stopService(aws, bob);
    await handler(stoppedEvent(bob));
    aws.rules.get(bob.rule)!.cidrs = [];
    expect(kind(await handler(request(bob.host, {}, "/lab", { "x-forwarded-for": "198.51.100.9" })))).toEqual([503, "starting"]);
  });

  test("a rule that asks for more than a host and an address (a path, a header) is not trusted: 404", async () => {
    aws.rules.get(alice.rule)!.extraConditions = [{ Field: "http-header", HttpHeaderConfig: { HttpHeaderName: "X-Team", Values: ["data"] } }];
    expect(kind(await handler(request(alice.host)))).toEqual([404, "not-here"]);
    nothingStarted();
  });
});

describe("a notebook without sign-in at the load balancer", () => {
  const frank = person("frank", 6);
  beforeEach(async () => {
    addNotebook(aws, frank, { signIn: false });
    stopService(aws, frank);
    await handler(stoppedEvent(frank));
  });

  test("its allowed CIDRs apply with the token too", async () => {
    const page: any = await handler(request(frank.host, { token: TOKEN }, "/lab", { "x-forwarded-for": "198.51.100.9" }));
    expect([page.statusCode, page.headers["X-Notebook-Waker"]]).toEqual([403, "not-allowed"]);
    expect(aws.callsOf("UpdateService")).toEqual([]);
  });

  test("wakes only for its own token: none or a wrong one gets 401 and starts nothing", async () => {
    for (const query of [{}, { token: "wrong-token" }, { token: TOKEN.slice(0, -1) }] as Array<Record<string, string>>) {
      const page: any = await handler(request(frank.host, query));
      expect(page.statusCode).toBe(401);
      expect(page.body).toContain("npm run url");
    }
    expect(aws.callsOf("UpdateService")).toEqual([]);
    const page: any = await handler(request(frank.host, { token: encodeURIComponent(TOKEN) }));
    expect(page.statusCode).toBe(503);
    expect(aws.service(frank.service).desiredCount).toBe(1);
  });

  test("a token secret that is not the rule owner's does not count", async () => {
    aws.secrets.get(frank.secret)!.tags.Owner = "bob";
    expect(((await handler(request(frank.host, { token: TOKEN }))) as any).statusCode).toBe(401);
    expect(aws.callsOf("UpdateService")).toEqual([]);
  });
});

describe("a start that fails", () => {
  beforeEach(async () => {
    stopService(aws, alice);
    await handler(stoppedEvent(alice));
    await handler(request(alice.host));
    aws.health.set(alice.group, ["unhealthy"]);
  });

  const expectFailurePage = (page: any, reason: RegExp) => {
    expect(page.statusCode).toBe(503);
    expect(page.body).not.toContain('http-equiv="refresh"');
    expect(page.body).toMatch(reason);
    expect(page.body).toContain("Reload this page to try again");
    expect(aws.service(alice.service).desiredCount).toBe(0);
  };

  test("no capacity: ECS's reason, no reload, and the notebook set back to 0", async () => {
    aws.service(alice.service).events.unshift({
      message: `(service ${alice.service}) was unable to place a task because no container instance met all of its requirements.`,
      createdAt: now(),
    });
    expectFailurePage(await handler(request(alice.host)), /unable to place a task/);
  });

  test("tasks that keep failing to start, or a deployment the circuit breaker failed", async () => {
    aws.service(alice.service).events.unshift({ message: `(service ${alice.service}) is unable to consistently start tasks successfully.`, createdAt: now() });
    expectFailurePage(await handler(request(alice.host)), /unable to consistently start tasks/);
    Object.assign(aws.service(alice.service), {
      desiredCount: 1,
      events: [],
      deployments: [{ status: "PRIMARY", rolloutState: "FAILED", rolloutStateReason: "tasks failed to start", createdAt: now() }],
    });
    expectFailurePage(await handler(request(alice.host)), /tasks failed to start/);
  });

  test("nothing healthy after the time limit; a placement failure before the last steady state does not count", async () => {
    const events = aws.service(alice.service).events;
    events.push({ message: `(service ${alice.service}) was unable to place a task because of an old problem.`, createdAt: now() - 7200 });
    events.unshift({ message: `(service ${alice.service}) has started 1 tasks: (task abc).`, createdAt: now() - 60 });
    aws.service(alice.service).deployments[0].updatedAt = now() - 60;
    expect(((await handler(request(alice.host))) as any).body).toContain("Starting your notebook");
    // 21 minutes later: the start (the desired count set to 1) and its first event are that old
    events[0].createdAt = now() - 1300;
    aws.service(alice.service).deployments[0].updatedAt = now() - 1300;
    expectFailurePage(await handler(request(alice.host)), /did not become healthy within 20 minutes/);
  });

  test("reloading the failure page tries again: the new attempt is not judged by the failed one's events", async () => {
    aws.service(alice.service).events.unshift({
      message: `(service ${alice.service}) was unable to place a task because no container instance met all of its requirements.`,
      createdAt: now(),
    });
    expectFailurePage(await handler(request(alice.host)), /unable to place a task/);
    // ECS's clock: the failed attempt's event came before this retry sets the desired count again
    aws.service(alice.service).events[0].createdAt = now() - 5;
    const retry: any = await handler(request(alice.host));
    expect([retry.statusCode, retry.body.includes("Starting your notebook")]).toEqual([503, true]);
    expect(aws.service(alice.service).desiredCount).toBe(1);
    expect(((await handler(request(alice.host))) as any).body).toContain("Starting your notebook");
  });

  test("nothing healthy and ECS silent since the desired count went to 1, 21 minutes ago: the time limit counts from that update", async () => {
    const service = aws.service(alice.service);
    service.deployments[0].updatedAt = now() - 600;
    expect(((await handler(request(alice.host))) as any).body).toContain("Starting your notebook");
    service.deployments[0].updatedAt = now() - 1260;
    expectFailurePage(await handler(request(alice.host)), /did not become healthy within 20 minutes/);
  });
});

describe("AWS refuses or fails", () => {
  const frank = person("frank", 6);
  beforeEach(async () => {
    addNotebook(aws, frank, { signIn: false });
    stopService(aws, frank);
    await handler(stoppedEvent(frank));
  });

  test.each([
    ["UpdateService", "AccessDeniedException", "not allowed to start this notebook"],
    ["DescribeRules", "AccessDenied", "not allowed to start this notebook"],
    ["GetSecretValue", "AccessDeniedException", "not allowed to start this notebook"],
    ["DescribeServices", "ServerException", "AWS did not answer as expected"],
  ])("%s answering %s: a 502 page with one reason, one log line, no crash and no token", async (action, code, reason) => {
    aws.failures.set(action, code);
    logged.length = 0;
    const page: any = await handler(request(frank.host, { token: TOKEN }));
    expect([page.statusCode, page.headers["X-Notebook-Waker"], page.headers["Content-Type"]]).toEqual([502, "unavailable", "text/html; charset=utf-8"]);
    expect(page.body).toContain(reason);
    expect(page.body).not.toContain('http-equiv="refresh"');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(code);
    expect(logged[0]).not.toContain("\n");
    expect(JSON.stringify(page) + logged.join("")).not.toContain(TOKEN);
    expect(aws.transitions.filter(([name, from, to]) => name === frank.service && from === 0 && to === 1)).toEqual([]);
  });
});

test("no page, header or log line holds the token or the sign-in secret", async () => {
  const frank = person("frank", 6);
  addNotebook(aws, frank, { signIn: false });
  const outputs: unknown[] = [];
  for (const p of [alice, frank]) {
    stopService(aws, p);
    await handler(stoppedEvent(p));
    outputs.push(await handler(request(p.host, { token: TOKEN })));
    aws.health.set(p.group, ["healthy"]);
    outputs.push(await handler(request(p.host, { token: TOKEN })));
  }
  outputs.push(await handler(request(frank.host, { token: "wrong" })));
  const text = JSON.stringify(outputs) + logged.join("\n");
  expect(logged.length).toBeGreaterThan(3);
  for (const secret of [TOKEN, encodeURIComponent(TOKEN), OIDC_SECRET, "wrong"]) expect(text).not.toContain(secret);
});

describeWithTool("the real Jupyter server stops itself, and its URL wakes it", "python3 with jupyter_server", jupyterStatus(), JUPYTER_HINT, () => {
  let nb: Notebook | undefined;
  afterEach(async () => stopNotebook(nb));

  /** Starts the image's start script as ECS would start alice's task, its UpdateService calls going to the stand-in. */
  const startTask = async () => {
    const env = { ...awsEnv(aws.port), NOTEBOOK_ECS_CLUSTER: CLUSTER, NOTEBOOK_ECS_SERVICE: alice.service };
    return startNotebook(tempDir("nb-waker-"), { JUPYTER_TOKEN: TOKEN, NOTEBOOK_IDLE_MINUTES: "0.05", ...env });
  };

  test("idle stop => rule to the waker => a request starts it => healthy => rule back", async () => {
    // GIVEN alice's notebook running (the real server), its target healthy while /api answers
    nb = await startTask();
    await waitUntilServing(nb);
    // WHEN nobody uses it: it stops itself, and its scale_down sets the service to 0 in the stand-in
    const code = await waitForExit(nb, 30_000);
    expect([code, code === 0 ? "" : nb.logs()]).toEqual([0, ""]);
    expect(aws.transitions).toEqual([[alice.service, 1, 0]]);
    // ECS ends the task and says so
    Object.assign(aws.service(alice.service), { runningCount: 0 });
    aws.health.set(alice.group, []);
    await handler(stoppedEvent(alice));
    expect(forwardOf(aws, alice)).toBe(WAKER_GROUP);
    // WHEN alice opens her URL
    const first: any = await handler(request(alice.host));
    expect(first.statusCode).toBe(503);
    expect(aws.transitions).toEqual([
      [alice.service, 1, 0],
      [alice.service, 0, 1],
    ]);
    // ECS starts the task again: the real server; the target turns healthy once /api answers 200
    nb = await startTask();
    Object.assign(aws.service(alice.service), { pendingCount: 1 });
    expect(((await handler(request(alice.host))) as any).statusCode).toBe(503);
    await waitUntilServing(nb);
    expect((await get(nb.port, "/api")).status).toBe(200);
    Object.assign(aws.service(alice.service), { pendingCount: 0, runningCount: 1 });
    aws.health.set(alice.group, ["healthy"]);
    // THEN the next request points the rule back at the notebook and reloads into Jupyter
    const last: any = await handler(request(alice.host));
    expect(last.statusCode).toBe(200);
    expect(forwardOf(aws, alice)).toBe(alice.group);
    expect(aws.rules.get(alice.rule)!.Actions[0].Type).toBe("authenticate-oidc");
  }, 90_000);
});
