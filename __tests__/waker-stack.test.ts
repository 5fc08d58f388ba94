import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { makeUniqueId } from "cdktf/lib/private/unique";
import { loadBalancerName, platformName } from "../modules/platform";
import { wakerCodeDir } from "../modules/waker/code";
import { WAKER_TAGS } from "../modules/waker/tags";
import { PROJECT_TAG } from "../stacks/terraform-settings";
import { wakerStackSpecs } from "../stacks/stack-specs";
import { WakerStack } from "../stacks/waker-stack";
import { SettingsError } from "../stacks/settings-error";
import { ACCOUNT, actionExists, actionsOf, concrete, decide, REGION, statementProblems, statementsOf } from "./helpers/iam";
import { PLATFORM_REQUIRED, synthPlatform } from "./helpers/platform";
import { synthStack, settingsFor } from "./helpers/synth";
import { describeWithTerraform, evaluateExpressions, initVariablesDir, planVars, removeDir, renderPolicies, tfvars } from "./helpers/terraform";
import { OLD_VARS } from "./helpers/vars";

// The waker as the platform stack creates it (modules/waker): its function, one Lambda
// target group per load balancer, the rule on stopped tasks, and its role's policy as AWS
// receives it, evaluated offline; and the tags it reads, as notebook stacks set them.

const CLUSTER = platformName("dev");
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
const lbId = (i: number) => `0123456789abcde${i}`;
const ruleArn = (i: number, lb = loadBalancerName("dev", i)) =>
  `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener-rule/app/${lb}/${lbId(i)}/fedcba9876543210/aaaaaaaaaaaaaaa${i}`;
const serviceArn = (name: string, cluster = CLUSTER) => `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${cluster}/${name}`;
const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
const tagged = (environment = "dev", project = PROJECT_TAG) => ({ "aws:ResourceTag/Project": project, "aws:ResourceTag/Environment": environment });

const two = synthPlatform({ loadBalancers: 2 });
const resources = (type: string) => Object.entries<any>(two.json.resource[type] ?? {});
const only = (type: string, parts: string[]) => two.json.resource[type][makeUniqueId(["waker", ...parts])];

describe("the waker of a platform stack, synthesized", () => {
  test("one function on Node.js 22, its handler in the archive of waker/, told its project, environment and load balancers", () => {
    const fn = only("aws_lambda_function", ["function"]);
    expect(fn).toMatchObject({ function_name: `${CLUSTER}-waker`, runtime: "nodejs22.x", handler: "handler.handler", timeout: 15 });
    expect(fn.filename).toMatch(/^assets\/.+\.zip$/);
    const variables = fn.environment.variables;
    expect([variables.WAKER_PROJECT, variables.WAKER_ENVIRONMENT]).toEqual([PROJECT_TAG, "dev"]);
    // Each load balancer's waker target group with its HTTPS listener.
    for (const i of [0, 1]) {
      expect(variables.WAKER_LOAD_BALANCERS).toContain(`aws_lb_target_group.${makeUniqueId(["waker", `target_group_${i}`])}.arn`);
      expect(variables.WAKER_LOAD_BALANCERS).toContain(`aws_lb_listener.${makeUniqueId(["platform", `load_balancer_${i}`, "https_listener"])}.arn`);
    }
  });

  test("it runs outside any VPC (it fetches the keys that sign the load balancer's sign-in), and each load balancer appends the client's address to X-Forwarded-For", () => {
    expect(only("aws_lambda_function", ["function"]).vpc_config).toBeUndefined();
    const lbs = resources("aws_lb");
    expect(lbs).toHaveLength(2);
    for (const [, lb] of lbs) expect(lb.xff_header_processing_mode).toBe("append");
  });

  test("the archived code needs only what the Lambda runtime has (Node.js, its AWS SDK), loads, and exports the handler", () => {
    const dir = wakerCodeDir();
    expect(fs.readdirSync(dir).sort()).toEqual(["handler.js", "pages.js"]);
    // The same sources give the same files (and archive hash): a synth does not redeploy the
    // function; each synth writes them afresh, into a directory only it owns.
    const again = wakerCodeDir();
    expect(again).not.toBe(dir);
    for (const f of fs.readdirSync(dir)) expect(fs.readFileSync(path.join(again, f), "utf8")).toBe(fs.readFileSync(path.join(dir, f), "utf8"));
    expect(fs.statSync(dir).mode & 0o077).toBe(0);
    const required = fs
      .readdirSync(dir)
      .flatMap((f) => [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/require\(['"]([^'"]+)['"]\)/g)].map((m) => m[1]));
    const builtins = new Set(require("module").builtinModules as string[]);
    expect(required.filter((m) => !m.startsWith("./") && !m.startsWith("@aws-sdk/") && !builtins.has(m))).toEqual([]);
    // Node.js with an AWS SDK on its module path, as in the runtime.
    const run = spawnSync(process.execPath, ["-e", `process.stdout.write(typeof require(${JSON.stringify(path.join(dir, "handler.js"))}).handler)`], {
      env: { ...process.env, NODE_PATH: path.resolve(__dirname, "..", "node_modules") },
      encoding: "utf8",
    });
    expect([run.stdout, run.stderr]).toEqual(["function", ""]);
  });

  test("one Lambda target group per load balancer, named after it, which the load balancer may invoke", () => {
    const groups = resources("aws_lb_target_group");
    expect(groups.map(([, g]) => [g.name, g.target_type])).toEqual([
      [loadBalancerName("dev", 0), "lambda"],
      [loadBalancerName("dev", 1), "lambda"],
    ]);
    for (const i of [0, 1]) {
      const group = `\${aws_lb_target_group.${makeUniqueId(["waker", `target_group_${i}`])}.arn}`;
      expect(only("aws_lambda_permission", [`invoke_from_load_balancer_${i}`])).toMatchObject({
        principal: "elasticloadbalancing.amazonaws.com",
        source_arn: group,
      });
      const attachment = only("aws_lb_target_group_attachment", [`target_${i}`]);
      expect(attachment.target_group_arn).toBe(group);
      expect(attachment.depends_on).toEqual([`aws_lambda_permission.${makeUniqueId(["waker", `invoke_from_load_balancer_${i}`])}`]);
    }
  });

  test("a notebook may take at most 99 of a load balancer's 100 target groups: maxNotebooks 100 stops the synth, naming the waker", () => {
    expect(() => synthPlatform({ notebooksPerLoadBalancer: 100 })).toThrow(SettingsError);
    expect(() => synthPlatform({ notebooksPerLoadBalancer: 100 })).toThrow(/100 notebooks per load balancer and the platform's 1 target groups exceed the 100/);
    expect(() => synthPlatform({ notebooksPerLoadBalancer: 99 })).not.toThrow();
  });
});

describeWithTerraform("the waker, evaluated by terraform", () => {
  let pattern: any;
  let policy: any;
  let trust: any;

  beforeAll(async () => {
    const rule = only("aws_cloudwatch_event_rule", ["stopped_rule"]);
    const rolePolicy = only("aws_iam_role_policy", ["role_policy"]);
    const role = only("aws_iam_role", ["role"]);
    const rendered = await renderPolicies(
      { pattern: rule.event_pattern, policy: rolePolicy.policy, trust: role.assume_role_policy },
      { variables: two.json.variable, varsText: tfvars(PLATFORM_REQUIRED) },
    );
    const values = {
      "<aws_ecs_cluster.platform_cluster.arn>": CLUSTER_ARN,
      "<aws_ecs_cluster.platform_cluster.name>": CLUSTER,
      "<data.aws_caller_identity.account.account_id>": ACCOUNT,
      "<data.aws_partition.partition.partition>": "aws",
      "<aws_cloudwatch_log_group.waker_log_group.arn>": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${CLUSTER}-waker`,
    };
    ({ pattern, policy, trust } = concrete(rendered, values));
  }, 60_000);

  test("the rule on stopped tasks matches this cluster's services' tasks, once stopped", () => {
    expect(pattern).toEqual({
      source: ["aws.ecs"],
      "detail-type": ["ECS Task State Change"],
      detail: { clusterArn: [CLUSTER_ARN], lastStatus: ["STOPPED"], group: [{ prefix: "service:" }] },
    });
    expect(only("aws_cloudwatch_event_target", ["stopped_target"]).arn).toBe(`\${aws_lambda_function.${makeUniqueId(["waker", "function"])}.arn}`);
    expect(only("aws_lambda_permission", ["invoke_from_events"]).principal).toBe("events.amazonaws.com");
  });

  test("only Lambda assumes the waker's role", async () => {
    const assume = (service: string) => ({ principal: service, action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT}:role/${CLUSTER}-waker-${REGION}` });
    expect(await decide(assume("lambda.amazonaws.com"), { resource: trust })).toBe("Allowed");
    expect(await decide(assume("ecs-tasks.amazonaws.com"), { resource: trust })).toBe("ImplicitlyDenied");
  });

  const waker = `arn:aws:iam::${ACCOUNT}:role/${CLUSTER}-waker-${REGION}`;
  const asWaker = (action: string, resource: string, context: Record<string, string> = {}) =>
    decide({ principal: waker, action, resource, context }, { identity: policy });

  test("it starts this environment's notebooks on this cluster, and nobody else's", async () => {
    expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34"), tagged())).toBe("Allowed");
    expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34"), tagged("prod"))).toBe("ImplicitlyDenied");
    expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34"), tagged("dev", "other-project"))).toBe("ImplicitlyDenied");
    expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34"))).toBe("ImplicitlyDenied");
    expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34", "another-cluster"), tagged())).toBe("ImplicitlyDenied");
    expect(await asWaker("ecs:DescribeServices", serviceArn("jupyter-ab12cd34"))).toBe("Allowed");
    for (const action of ["ecs:DeleteService", "ecs:CreateService"])
      expect(await asWaker(action, serviceArn("jupyter-ab12cd34"), tagged())).toBe("ImplicitlyDenied");
  });

  test("it switches the rules of this environment's notebooks on its own load balancers, and changes nothing else there", async () => {
    for (const i of [0, 1]) expect(await asWaker("elasticloadbalancing:ModifyRule", ruleArn(i), tagged())).toBe("Allowed");
    expect(await asWaker("elasticloadbalancing:ModifyRule", ruleArn(0), tagged("prod"))).toBe("ImplicitlyDenied");
    expect(await asWaker("elasticloadbalancing:ModifyRule", ruleArn(0, "someone-elses-lb"), tagged())).toBe("ImplicitlyDenied");
    expect(await asWaker("elasticloadbalancing:DeleteRule", ruleArn(0), tagged())).toBe("ImplicitlyDenied");
    const listener = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/${loadBalancerName("dev", 0)}/${lbId(0)}/fedcba9876543210`;
    for (const action of ["elasticloadbalancing:CreateRule", "elasticloadbalancing:ModifyListener"])
      expect(await asWaker(action, listener, tagged())).toBe("ImplicitlyDenied");
    const targetGroup = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/jupyter-ab12cd34/0123456789abcdef`;
    expect(await asWaker("elasticloadbalancing:RegisterTargets", targetGroup, tagged())).toBe("ImplicitlyDenied");
    expect(await asWaker("elasticloadbalancing:DescribeRules", "*")).toBe("Allowed");
    expect(await asWaker("elasticloadbalancing:DescribeTargetHealth", "*")).toBe("Allowed");
  });

  test("it reads the token of this environment's notebooks only, never a git token, and writes no secret", async () => {
    expect(await asWaker("secretsmanager:GetSecretValue", secretArn("jupyter-ab12cd34/jupyter-token"), tagged())).toBe("Allowed");
    expect(await asWaker("secretsmanager:GetSecretValue", secretArn("jupyter-ab12cd34/jupyter-token"), tagged("prod"))).toBe("ImplicitlyDenied");
    expect(await asWaker("secretsmanager:GetSecretValue", secretArn("jupyter-ab12cd34/git-token"), tagged())).toBe("ImplicitlyDenied");
    expect(await asWaker("secretsmanager:PutSecretValue", secretArn("jupyter-ab12cd34/jupyter-token"), tagged())).toBe("ImplicitlyDenied");
  });

  test("every action is one AWS publishes, with condition keys it carries and resources it takes", async () => {
    const unknown: string[] = [];
    for (const action of actionsOf(policy)) if (!(await actionExists(action))) unknown.push(action);
    expect(unknown).toEqual([]);
    const problems: string[] = [];
    for (const s of statementsOf(policy)) problems.push(...(await statementProblems(s)));
    expect(problems).toEqual([]);
  });
});

describe("the tags a notebook stack gives the waker", () => {
  const { json } = synthStack("notebook-dev", settingsFor({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", platform: true } }));
  const rule = Object.values<any>(json.resource.aws_lb_listener_rule)[0];
  const service = Object.values<any>(json.resource.aws_ecs_service)[0];
  const ref = (type: string, id: string, attribute: string) => `\${${type}.${Object.keys(json.resource[type]).find((k) => k.startsWith(id))}.${attribute}}`;

  test("the listener rule names its cluster, service, target group and token secret", () => {
    expect(rule.tags[WAKER_TAGS.targetGroup]).toBe(ref("aws_lb_target_group", "notebook_target_group", "arn"));
    expect(rule.tags[WAKER_TAGS.tokenSecret]).toBe(ref("aws_secretsmanager_secret", "notebook_token_secret", "arn"));
    expect(rule.tags[WAKER_TAGS.service]).toBe(service.name);
    expect(rule.tags[WAKER_TAGS.cluster]).toBe(service.cluster);
  });

  test("a deploy while the notebook sleeps puts back what the waker changed: the rule's forward and the desired count are Terraform's, not ignored", () => {
    expect(rule.lifecycle?.ignore_changes).toBeUndefined();
    const forward = rule.dynamic.action.find((a: any) => a.content.type === "forward");
    expect(forward.content.target_group_arn).toBe(ref("aws_lb_target_group", "notebook_target_group", "arn"));
    expect(service.desired_count).toBe(1);
    expect(service.lifecycle?.ignore_changes).toBeUndefined();
  });

  test("the service names its rule", () => {
    expect(service.tags[WAKER_TAGS.listenerRule]).toBe(ref("aws_lb_listener_rule", "notebook_listener_rule", "arn"));
  });
});

describe("waker-<env>: the waker of an environment on the team's own cluster and load balancer", () => {
  const settings = settingsFor({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1", waker: true } });
  const spec = wakerStackSpecs(settings)[0];
  const json = JSON.parse(Testing.synth(new WakerStack(Testing.app(), spec)));
  const TEAM_LB = "data-science-alb";

  test("keeps its state beside the environment's notebooks' and looks up the cluster, load balancer and listener its vars name", () => {
    expect(spec).toMatchObject({ stackId: "waker-dev", backend: { bucket: "acme-nb-state", key: "jupyter-notebooks/_waker/dev/terraform.tfstate" } });
    expect(Object.values<any>(json.data.aws_ecs_cluster)[0].cluster_name).toBe("${var.ecs_cluster_name}");
    expect(Object.values<any>(json.data.aws_lb)[0].arn).toBe("${var.loadbalancer_arn}");
    expect(Object.values<any>(json.data.aws_lb_listener)[0].port).toBe("${var.listener_port}");
    // Its target group takes a made-up name: the team's load balancer may have target groups of any name.
    expect(Object.values<any>(json.resource.aws_lb_target_group)).toEqual([{ name_prefix: "wake-", target_type: "lambda" }]);
  });

  describeWithTerraform("evaluated by terraform", () => {
    test("the team's load balancer must append the client's address to X-Forwarded-For (the waker checks allowed CIDRs there)", async () => {
      const [lb] = Object.values<any>(json.data.aws_lb);
      const [check] = lb.lifecycle.postcondition;
      const values = await evaluateExpressions(
        { append: check.condition, preserve: check.condition.replace("self.", "local.preserve.") },
        {
          replacements: [[/self\./g, "local.append."]],
          locals: { append: { xff_header_processing_mode: "append" }, preserve: { xff_header_processing_mode: "preserve" } },
        },
      );
      expect(values).toEqual({ append: true, preserve: false });
      expect(check.error_message).toContain("routing.http.xff_header_processing.mode");
    });

    test("a notebook vars file serves it too (the same variable names), and its role switches rules on the team's load balancer only", async () => {
      const dir = await initVariablesDir(json);
      try {
        const plan = await planVars(dir, tfvars(OLD_VARS));
        expect(plan.output).not.toContain("Error");
        expect(plan.code).toBe(0);
      } finally {
        removeDir(dir);
      }
      const rolePolicy = Object.values<any>(json.resource.aws_iam_role_policy)[0];
      const rendered = await renderPolicies({ policy: rolePolicy.policy }, { variables: json.variable, varsText: tfvars(OLD_VARS) });
      const { policy } = concrete(rendered, {
        "<data.aws_lb.load_balancer.name>": TEAM_LB,
        "<data.aws_ecs_cluster.cluster.cluster_name>": "data-science",
        "<data.aws_caller_identity.account.account_id>": ACCOUNT,
        "<data.aws_partition.partition.partition>": "aws",
        "<aws_cloudwatch_log_group.waker_log_group.arn>": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/x`,
      });
      const asWaker = (action: string, resource: string, context: Record<string, string> = {}) =>
        decide({ principal: `arn:aws:iam::${ACCOUNT}:role/waker`, action, resource, context }, { identity: policy });
      expect(await asWaker("elasticloadbalancing:ModifyRule", ruleArn(0, TEAM_LB), tagged())).toBe("Allowed");
      expect(await asWaker("elasticloadbalancing:ModifyRule", ruleArn(0, "another-alb"), tagged())).toBe("ImplicitlyDenied");
      expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34", "data-science"), tagged())).toBe("Allowed");
      expect(await asWaker("ecs:UpdateService", serviceArn("jupyter-ab12cd34", "data-science"), tagged("prod"))).toBe("ImplicitlyDenied");
    }, 60_000);
  });
});
