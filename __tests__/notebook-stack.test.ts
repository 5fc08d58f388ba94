import { Testing } from "cdktf";
import "cdktf/lib/testing/adapters/jest";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { CONTAINER_NAME, MAX_HOSTNAME_PREFIX_LENGTH, NOTEBOOK_PORT, SUFFIX_LENGTH } from "../modules/notebook";
import { MAX_DOMAIN_LENGTH } from "../stacks/variables";
import { notebookAddress, notebookResource, onlyData, onlyDataAddress, onlyResource, settingsFor, synthStack } from "./helpers/synth";
import { REQUIRED_VARIABLES } from "./helpers/vars";

/** The service's launch type: FARGATE on demand; none (a capacity provider) on Spot or an instance. */
const SPOT_OR_ACCELERATED_LAUNCH_TYPE = '${((var.accelerator != "none") || (!(var.accelerator != "none") && (var.capacity_provider == "FARGATE_SPOT"))) ? null : "FARGATE"}';

const OLD_VARIABLES = [
  "vpc_id", "region", "profile_name", "ecs_cluster_name", "loadbalancer_arn", "hosted_zone_id",
  "fargate_subnets", "token", "jupyter_docker_tag", "cpu", "memory", "domain",
];
const NEW_VARIABLES = [
  "image", "listener_port", "hostname_prefix", "allowed_cidrs", "assign_public_ip", "log_retention_days", "tags",
  "idle_timeout_minutes", "git_repository_url", "git_token",
  "efs_file_system_id", "efs_security_group_id",
  "cognito_user_pool_arn", "cognito_user_pool_client_id", "cognito_user_pool_domain",
  "oidc_issuer", "oidc_authorization_endpoint", "oidc_token_endpoint", "oidc_user_info_endpoint", "oidc_client_id", "oidc_client_secret",
  "auth_session_timeout_seconds", "task_role_policy_arns", "capacity_provider", "ephemeral_storage_gib", "enable_execute_command",
  "environment", "accelerator", "instance_type", "gpu_count",
];
/** Secrets: checked by the stack's secret checks (preconditions), not by a validation that would print them. */
const SECRET_VARIABLES = ["token", "git_token", "oidc_client_secret"];
const BOOLEAN_VARIABLES = ["assign_public_ip", "enable_execute_command"];

/** Every string in a JSON value, with its path. */
function strings(value: unknown, at = ""): Array<[string, string]> {
  if (typeof value === "string") return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => strings(v, at ? `${at}.${k}` : k));
  return [];
}

describe("notebook stack", () => {
  // GIVEN the notebook stack of user alice with local state
  const { stack, json } = synthStack();

  describe("variables", () => {
    test("declares the old configuration's twelve names and the new ones, unprefixed", () => {
      expect(Object.keys(json.variable).sort()).toEqual([...OLD_VARIABLES, ...NEW_VARIABLES].sort());
    });

    test("each has a description and a type; only the platform's identifiers are required", () => {
      for (const [name, v] of Object.entries<any>(json.variable)) {
        expect(typeof v.description).toBe("string");
        expect(v.description.length).toBeGreaterThan(10);
        expect(typeof v.type).toBe("string");
        expect([name, "default" in v]).toEqual([name, !REQUIRED_VARIABLES.includes(name)]);
      }
    });

    test("each except the boolean and the token has validation blocks whose message names the variable", () => {
      for (const [name, v] of Object.entries<any>(json.variable)) {
        if (BOOLEAN_VARIABLES.includes(name) || SECRET_VARIABLES.includes(name)) continue;
        expect(v.validation?.length).toBeGreaterThan(0);
        for (const rule of v.validation) expect(rule.error_message).toContain(name);
      }
    });

    test.each(SECRET_VARIABLES)("%s is sensitive, non-nullable, and checked by a precondition that never prints it", (name) => {
      expect(json.variable[name]).toMatchObject({ sensitive: true, nullable: false });
      // A failed variable validation prints the value; a failed precondition does not.
      expect(json.variable[name].validation).toBeUndefined();
      const rules = json.resource.terraform_data.secret_input_check.lifecycle.precondition.filter((r: any) => r.condition.includes(`var.${name}`));
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        expect(rule.error_message).toMatch(new RegExp(`^${name} (must be |is set but )`));
        expect(rule.error_message).not.toContain("${");
      }
    });

    test("every variable is used outside its own block: a variable nothing reads would silently do nothing", () => {
      // GIVEN the configuration without the variable blocks themselves
      const { variable, ...rest } = json;
      const elsewhere = JSON.stringify(rest);
      // THEN each variable is referenced somewhere else (a resource, provider, output, check)
      // (The environment guard is the exception: its own validation is what it is for.)
      const unused = Object.keys(variable).filter((name) => name !== "environment" && !new RegExp(`\\bvar\\.${name}\\b`).test(elsewhere));
      expect(unused).toEqual([]);
    });

    test("every variable is non-nullable (null in a vars file means the default), but the one whose default is null", () => {
      const nullable = ["ephemeral_storage_gib", "cpu", "memory", "image", "gpu_count"];
      for (const [name, v] of Object.entries<any>(json.variable)) expect([name, v.nullable]).toEqual([name, nullable.includes(name)]);
      for (const name of nullable) expect(json.variable[name].default).toBeNull();
      expect(json.variable.ephemeral_storage_gib.default).toBeNull();
    });

    test("defaults: quay.io data-science image, port 443, prefix jupyter, all addresses, no public IP, 30 days", () => {
      // null: the accelerator's default image, quay.io's datascience-notebook on Fargate.
      expect(json.variable.image.default).toBeNull();
      expect(json.variable.listener_port.default).toBe(443);
      expect(json.variable.hostname_prefix.default).toBe("jupyter");
      expect(json.variable.allowed_cidrs.default).toEqual(["0.0.0.0/0", "::/0"]);
      expect(json.variable.assign_public_ip.default).toBe(false);
      expect(json.variable.log_retention_days.default).toBe(30);
      expect(json.variable.token.default).toBe("");
    });

    test("requires a Terraform version that evaluates cross-variable validation and S3 lock files", () => {
      expect(json.terraform.required_version).toBe(">= 1.10");
    });
  });

  describe("existing platform", () => {
    test("looks up cluster, load balancer, HTTPS listener, zone and VPC from the variables", () => {
      expect(onlyData(json, "aws_ecs_cluster").cluster_name).toBe("${var.ecs_cluster_name}");
      expect(onlyData(json, "aws_lb").arn).toBe("${var.loadbalancer_arn}");
      const listener = onlyData(json, "aws_lb_listener");
      expect(listener.port).toBe("${var.listener_port}");
      expect(listener.load_balancer_arn).toMatch(/^\$\{data\.aws_lb\.[^.]+\.arn\}$/);
      expect(listener.lifecycle.postcondition[0].condition).toBe('${self.protocol == "HTTPS"}');
      expect(onlyData(json, "aws_route53_zone").zone_id).toBe("${var.hosted_zone_id}");
      expect(onlyData(json, "aws_vpc").id).toMatch(/^\$\{coalesce\(var\.vpc_id, data\.aws_lb\.[^.]+\.vpc_id\)\}$/);
    });

    test("owns no resource: every resource belongs to the notebook module, but the stack's check of its secret variables", () => {
      for (const [type, resources] of Object.entries<any>(json.resource)) {
        for (const id of Object.keys(resources)) expect(`${type}.${id}`).toMatch(/^(.*\.notebook_.*|terraform_data\.(secret|compute)_input_check)$/);
      }
    });

    test("the secret checks moved from the notebook construct keep their state (a moved block)", () => {
      expect(json.moved).toEqual([{ from: "terraform_data.notebook_input_check_17435280", to: "terraform_data.secret_input_check" }]);
    });
  });

  describe("token", () => {
    test("is kept in a secret deleted without recovery window, generated when the vars file gives none", () => {
      expect(notebookResource(json, "aws_secretsmanager_secret", "token_secret").recovery_window_in_days).toBe(0);
      expect(notebookResource(json, "aws_secretsmanager_secret_version", "token_secret_value").secret_string).toMatch(
        /^\$\{coalesce\(var\.token, random_password\.[^.]+\.result\)\}$/,
      );
      const generated = onlyResource(json, "random_password");
      expect(generated.length).toBeGreaterThanOrEqual(32);
      expect(generated.special).toBe(false);
    });

    test("reaches the container as JUPYTER_TOKEN from the secret, never in container_definitions", () => {
      const defs = onlyResource(json, "aws_ecs_task_definition").container_definitions as string;
      expect(defs).toContain(`"secrets" = concat([{"name" = "JUPYTER_TOKEN", "valueFrom" = ${notebookAddress(json, "aws_secretsmanager_secret", "token_secret")}.arn}], `);
      expect(defs).not.toContain("var.token");
      expect(defs).not.toContain("random_password");
      expect(defs).not.toContain("NotebookApp");
    });

    test("appears only in the secret value, the sensitive url output and its own checks", () => {
      const uses = strings({ resource: json.resource, output: json.output, data: json.data, provider: json.provider })
        .filter(([, s]) => /var\.token|random_password\./.test(s))
        .map(([at]) => at);
      expect(uses.sort()).toEqual([
        "output.url.value",
        `resource.${notebookAddress(json, "aws_secretsmanager_secret_version", "token_secret_value")}.secret_string`,
        expect.stringMatching(/^resource\.terraform_data\.[^.]+\.lifecycle\.precondition\[0\]\.condition$/),
        expect.stringMatching(/^resource\.terraform_data\.[^.]+\.lifecycle\.precondition\[1\]\.condition$/),
      ]);
      expect(json.output.url.sensitive).toBe(true);
    });

    test("the execution role may read that one secret and nothing else", () => {
      const policy = notebookResource(json, "aws_iam_role_policy", "execution_role_read_token");
      expect(policy.role).toBe(`\${${notebookAddress(json, "aws_iam_role", "execution_role")}.id}`);
      // (Its statements: iam-policies.test.ts renders and evaluates them.)
      expect(notebookResource(json, "aws_iam_role_policy_attachment", "execution_role_managed_policy").policy_arn).toMatch(
        /^arn:\$\{data\.aws_partition\.[^.]+\.partition\}:iam::aws:policy\/service-role\/AmazonECSTaskExecutionRolePolicy$/,
      );
      expect(notebookResource(json, "aws_iam_role", "execution_role").assume_role_policy).toContain('"Service" = "ecs-tasks.amazonaws.com"');
    });
  });

  test("cdktf's matchers see the secret without recovery window and the short deregistration delay", () => {
    const synthesized = Testing.synth(stack);
    expect(synthesized).toHaveResourceWithProperties(SecretsmanagerSecret, { recovery_window_in_days: 0 });
    expect(synthesized).toHaveResourceWithProperties(LbTargetGroup, { target_type: "ip", deregistration_delay: "5" });
    expect(synthesized).not.toHaveResourceWithProperties(LbTargetGroup, { deregistration_delay: "300" });
  });

  describe("task", () => {
    test("is a Fargate task sized by cpu and memory, image from image and jupyter_docker_tag, logs to its group", () => {
      const task = onlyResource(json, "aws_ecs_task_definition");
      // Fargate unless an accelerator is chosen (what each gives is evaluated in terraform-switches).
      expect(task).toMatchObject({ requires_compatibilities: '${(var.accelerator != "none") ? ["MANAGED_INSTANCES"] : ["FARGATE"]}', network_mode: "awsvpc" });
      expect(task.cpu).toMatch(/^\$\{tostring\(coalesce\(var\.cpu, .* : 1024\)\)\}$/);
      expect(task.memory).toMatch(/^\$\{tostring\(coalesce\(var\.memory, .* : 4096\)\)\}$/);
      expect(task.execution_role_arn).toMatch(/^\$\{aws_iam_role\.[^.]+\.arn\}$/);
      const defs = task.container_definitions as string;
      expect(defs).toContain(`"name" = "${CONTAINER_NAME}"`);
      expect(defs).toContain('"image" = try((length(var.image) >= 1), false) ? format("%s:%s", var.image, var.jupyter_docker_tag) : ');
      expect(defs).toContain('format("quay.io/jupyter/datascience-notebook:%s", var.jupyter_docker_tag)');
      expect(defs).toContain(`"portMappings" = [{"containerPort" = ${NOTEBOOK_PORT}, "protocol" = "tcp"}]`);
      expect(defs).toMatch(/"logDriver" = "awslogs", "options" = \{"awslogs-group" = aws_cloudwatch_log_group\.[^.]+\.name/);
      expect(onlyResource(json, "aws_cloudwatch_log_group").retention_in_days).toBe("${var.log_retention_days}");
    });

    test("is registered only once the token has a value and the execution role may read it", () => {
      expect([...onlyResource(json, "aws_ecs_task_definition").depends_on].sort()).toEqual(
        [
          notebookAddress(json, "aws_iam_role_policy", "execution_role_read_token"),
          notebookAddress(json, "aws_iam_role_policy_attachment", "execution_role_managed_policy"),
          notebookAddress(json, "aws_secretsmanager_secret_version", "token_secret_value"),
          notebookAddress(json, "aws_secretsmanager_secret_version", "git_token_secret_value"),
        ].sort(),
      );
    });
  });

  describe("network", () => {
    test("the security group admits the Jupyter port from the load balancer's security groups only", () => {
      const sg = onlyResource(json, "aws_security_group");
      expect(sg.ingress).toHaveLength(1);
      expect(sg.ingress[0]).toMatchObject({ protocol: "tcp", from_port: NOTEBOOK_PORT, to_port: NOTEBOOK_PORT, cidr_blocks: null, ipv6_cidr_blocks: null });
      expect(sg.ingress[0].security_groups).toMatch(/^\$\{tolist\(data\.aws_lb\.[^.]+\.security_groups\)\}$/);
      expect(sg.vpc_id).toMatch(/^\$\{data\.aws_vpc\.[^.]+\.id\}$/);
      expect(json.resource.aws_security_group_rule).toBeUndefined();
    });

    test("the target group checks /api for 200 and turns a started task healthy in about 20 s", () => {
      const tg = onlyResource(json, "aws_lb_target_group");
      expect(tg).toMatchObject({ target_type: "ip", protocol: "HTTP", port: NOTEBOOK_PORT });
      expect(tg.health_check).toMatchObject({ enabled: true, path: "/api", matcher: "200" });
      const hc = tg.health_check;
      expect(hc.interval * hc.healthy_threshold).toBeLessThanOrEqual(20);
      expect(hc.timeout).toBeLessThan(hc.interval);
      // ... but a notebook busy for a few seconds is not declared unhealthy and replaced.
      expect(hc.interval * hc.unhealthy_threshold).toBeGreaterThanOrEqual(45);
      expect(Number(tg.deregistration_delay)).toBeLessThanOrEqual(10);
    });

    test("a renamed target group is created before the old one is deleted (a rule still uses it)", () => {
      expect(onlyResource(json, "aws_lb_target_group").lifecycle).toEqual({ create_before_destroy: true });
    });

    test("the VPC must be the load balancer's, checked when planning", () => {
      const [check] = onlyData(json, "aws_vpc").lifecycle.precondition;
      expect(check.condition).toMatch(/^\$\{\(coalesce\(var\.vpc_id, data\.aws_lb\.([^.]+)\.vpc_id\) == data\.aws_lb\.\1\.vpc_id\)\}$/);
      expect(check.error_message).toContain("vpc_id");
    });

    test("the listener rule forwards the notebook's host from the allowed CIDRs, priority left to the provider", () => {
      const rule = onlyResource(json, "aws_lb_listener_rule");
      expect(rule.priority).toBeUndefined();
      expect(rule.listener_arn).toMatch(/^\$\{data\.aws_lb_listener\.[^.]+\.arn\}$/);
      // Every action is a dynamic block, forward last (see the sign-in test below).
      expect(rule.action).toBeUndefined();
      expect(rule.dynamic.action[rule.dynamic.action.length - 1]).toEqual({
        for_each: ["forward"],
        content: {
          type: "forward",
          order: "${((length(var.cognito_user_pool_arn) >= 1) || (length(var.oidc_issuer) >= 1)) ? 2 : 1}",
          target_group_arn: expect.stringMatching(/^\$\{aws_lb_target_group\.[^.]+\.arn\}$/),
        },
      });
      expect(rule.condition).toEqual([
        { host_header: { values: [json.output.hostname.value] } },
        // canonical spelling of each CIDR, as AWS stores them
        { source_ip: { values: "${[ for key, val in toset(var.allowed_cidrs): cidrsubnet(val, 0, 0)]}" } },
      ]);
    });

    test("the domain must lie in the hosted zone, checked when planning", () => {
      const [check] = onlyResource(json, "aws_route53_record").lifecycle.precondition;
      expect(check.condition).toContain("endswith(coalesce(var.domain, trimsuffix(data.aws_route53_zone.");
      expect(check.error_message).toMatch(/^domain must be the hosted zone's name or a name under it/);
    });

    test("the DNS record is a CNAME of the hostname to the load balancer in the zone", () => {
      expect(onlyResource(json, "aws_route53_record")).toMatchObject({
        type: "CNAME",
        name: json.output.hostname.value,
        records: [expect.stringMatching(/^\$\{data\.aws_lb\.[^.]+\.dns_name\}$/)],
        zone_id: expect.stringMatching(/^\$\{data\.aws_route53_zone\.[^.]+\.zone_id\}$/),
      });
    });
  });

  describe("service", () => {
    test("runs one Fargate task, one at a time, waits for steady state, after the listener rule exists", () => {
      const svc = onlyResource(json, "aws_ecs_service");
      expect(svc).toMatchObject({
        launch_type: SPOT_OR_ACCELERATED_LAUNCH_TYPE,
        desired_count: 1,
        deployment_minimum_healthy_percent: 0,
        deployment_maximum_percent: 100,
        wait_for_steady_state: true,
      });
      expect(svc.depends_on).toEqual([
        notebookAddress(json, "aws_lb_listener_rule", "listener_rule"),
        notebookAddress(json, "aws_iam_role_policy", "home_mount_through_access_point"),
        notebookAddress(json, "aws_iam_role_policy", "task_role_execute_command"),
      ]);
      // Changing the capacity provider or ECS Exec takes effect (the provider insists for the former).
      expect(svc.force_new_deployment).toBe(true);
      expect(svc.deployment_circuit_breaker).toEqual({ enable: true, rollback: false });
      expect(svc.cluster).toMatch(/^\$\{data\.aws_ecs_cluster\.[^.]+\.arn\}$/);
      expect(svc.network_configuration).toEqual({
        subnets: "${var.fargate_subnets}",
        security_groups: expect.stringMatching(/^\$\{concat\(\[aws_security_group\.[^.]+\.id\], \(length\(var\.efs_file_system_id\) >= 1\) \? \[var\.efs_security_group_id\] : \[\]\)\}$/),
        // ECS gives no public IP to a task on an instance.
        assign_public_ip: '${(var.accelerator != "none") ? false : var.assign_public_ip}',
      });
      expect(svc.load_balancer).toEqual([
        { target_group_arn: expect.stringMatching(/^\$\{aws_lb_target_group\./), container_name: CONTAINER_NAME, container_port: NOTEBOOK_PORT },
      ]);
    });
  });

  describe("a new token reaches the running notebook", () => {
    test("the service redeploys when the token's or the git token's secret version changes", () => {
      // The task definition names the secret, not a version: a new value alone would leave the
      // running task with the old token. The version IDs change with every new value.
      const svc = onlyResource(json, "aws_ecs_service");
      const token = notebookAddress(json, "aws_secretsmanager_secret_version", "token_secret_value");
      const git = notebookAddress(json, "aws_secretsmanager_secret_version", "git_token_secret_value");
      expect(svc.triggers).toEqual({ token_version: `\${${token}.version_id}`, git_token_version: `\${join(",", ${git}[*].version_id)}` });
      expect(svc.force_new_deployment).toBe(true);
      expect(svc.wait_for_steady_state).toBe(true);
      // The secret's value is the token itself: a new token is a new version.
      expect(notebookResource(json, "aws_secretsmanager_secret_version", "token_secret_value").secret_string).toContain("var.token");
    });
  });

  describe("names", () => {
    const suffix = onlyResource(json, "random_string");
    test("come from one lower-case random suffix", () => {
      expect(suffix).toMatchObject({ length: SUFFIX_LENGTH, upper: false, special: false });
    });

    // Longest accepted inputs: prefix at its maximum, 8-character suffix, longest domain.
    const render = (expr: string) =>
      expr
        .replace(/\$\{var\.hostname_prefix\}/g, "p".repeat(MAX_HOSTNAME_PREFIX_LENGTH))
        .replace(/\$\{lower\(random_string\.[^.]+\.result\)\}/g, "s".repeat(SUFFIX_LENGTH))
        .replace(/\$\{coalesce\(var\.domain, .*?\)\)\}/g, "d".repeat(MAX_DOMAIN_LENGTH));
    const limits: Array<[string, string, string, number]> = [
      ["aws_lb_target_group", "target_group", "name", 32],
      ["aws_iam_role", "execution_role", "name", 64],
      ["aws_iam_role", "task_role", "name", 64],
      ["aws_security_group", "security_group", "name", 255],
      ["aws_ecs_service", "service", "name", 255],
      ["aws_ecs_task_definition", "task_definition", "family", 255],
      ["aws_cloudwatch_log_group", "log_group", "name", 512],
      ["aws_secretsmanager_secret", "token_secret", "name", 512],
      ["aws_secretsmanager_secret", "git_token_secret", "name", 512],
      ["aws_route53_record", "dns_record", "name", 253],
    ];
    test.each(limits)("%s %s: %s fits %i characters for the longest accepted inputs", (type, id, field, limit) => {
      const rendered = render(notebookResource(json, type, id)[field]);
      expect(rendered).not.toContain("${");
      expect(rendered.length).toBeLessThanOrEqual(limit);
      expect(rendered).toContain("s".repeat(SUFFIX_LENGTH));
    });

    test("the hostname's first label fits the 63-character DNS limit", () => {
      const label = render(json.output.hostname.value).split(".")[0];
      expect(label.length).toBeLessThanOrEqual(63);
    });
  });

  describe("idle stop and git preload (the notebook-image/ start script)", () => {
    const defs = () => onlyResource(json, "aws_ecs_task_definition").container_definitions as string;

    test("variables: idle_timeout_minutes 120, no repository, no git token by default", () => {
      expect(json.variable.idle_timeout_minutes).toMatchObject({ type: "number", default: 120 });
      expect(json.variable.git_repository_url).toMatchObject({ type: "string", default: "" });
      expect(json.variable.git_token).toMatchObject({ type: "string", default: "", sensitive: true });
    });

    test("the container gets idle minutes, its own cluster and service, the repository and the region", () => {
      const cluster = onlyData(json, "aws_ecs_cluster");
      expect(cluster).toBeDefined();
      expect(defs()).toContain(
        `"environment" = concat([{"name" = "NOTEBOOK_IDLE_MINUTES", "value" = tostring(var.idle_timeout_minutes)}, ` +
          `{"name" = "NOTEBOOK_ECS_CLUSTER", "value" = ${onlyDataAddress(json, "aws_ecs_cluster")}.arn}, ` +
          `{"name" = "NOTEBOOK_ECS_SERVICE", "value" = join("-", [var.hostname_prefix, lower(${notebookAddress(json, "random_string", "suffix")}.result)])}, ` +
          `{"name" = "AWS_DEFAULT_REGION", "value" = ${onlyDataAddress(json, "aws_region")}.region}], ` +
          // Only with a repository: an empty value would make every plan replace the task definition.
          `(length(var.git_repository_url) >= 1) ? [{"name" = "NOTEBOOK_GIT_REPOSITORY", "value" = var.git_repository_url}] : [])`,
      );
      expect(defs()).not.toContain("var.git_token");
    });

    test("a git token is kept in its own secret, created only when given, and injected as NOTEBOOK_GIT_TOKEN", () => {
      const given = "${nonsensitive((length(var.git_token) >= 1)) ? 1 : 0}";
      const secret = notebookResource(json, "aws_secretsmanager_secret", "git_token_secret");
      expect(secret).toMatchObject({ count: given, recovery_window_in_days: 0 });
      const git = notebookAddress(json, "aws_secretsmanager_secret", "git_token_secret");
      expect(notebookResource(json, "aws_secretsmanager_secret_version", "git_token_secret_value")).toMatchObject({
        count: given,
        secret_id: `\${one(${git}[*].id)}`,
        secret_string: "${var.git_token}",
      });
      expect(defs()).toContain(
        `(length(${git}[*].arn) >= 1) ? [{"name" = "NOTEBOOK_GIT_TOKEN", "valueFrom" = one(${git}[*].arn)}] : [])`,
      );
    });

    test("the task role's only permission is ecs:UpdateService on its own service", () => {
      const role = notebookResource(json, "aws_iam_role", "task_role");
      expect(role.assume_role_policy).toContain('"Service" = "ecs-tasks.amazonaws.com"');
      const roleAddress = notebookAddress(json, "aws_iam_role", "task_role");
      expect(onlyResource(json, "aws_ecs_task_definition").task_role_arn).toBe(`\${${roleAddress}.arn}`);
      // Always: this one. The others exist only when their option is on (count), see below.
      const policies = Object.values<any>(json.resource.aws_iam_role_policy).filter((p) => p.role === `\${${roleAddress}.id}` && p.count === undefined);
      expect(policies).toHaveLength(1);
      expect(policies[0].name).toBe("stop-own-service-when-idle"); // statements: iam-policies.test.ts
      const attached = Object.values<any>(json.resource.aws_iam_role_policy_attachment ?? {}).filter((a) => a.role.includes(roleAddress));
      expect(attached.map((a) => a.for_each)).toEqual(["${toset(var.task_role_policy_arns)}"]); // none by default
    });

    test("resuming: the service's desired count is a plain 1, so a deploy after an idle stop sets it back, and nothing else", () => {
      const svc = onlyResource(json, "aws_ecs_service");
      expect(svc.desired_count).toBe(1);
      expect(svc.lifecycle?.ignore_changes).toBeUndefined(); // no ignore_changes that would keep it at 0
    });
  });

  describe("options (issue 4): each off unless its variable is set", () => {
    const efsOn = "${(length(var.efs_file_system_id) >= 1) ? 1 : 0}";
    const accessPoint = () => notebookAddress(json, "aws_efs_access_point", "home_access_point");

    test("EFS home: an access point per user, rooted at /notebooks/<user>, as the image's user", () => {
      expect(notebookResource(json, "aws_efs_access_point", "home_access_point")).toMatchObject({
        count: efsOn,
        file_system_id: expect.stringMatching(/^\$\{one\(data\.aws_efs_file_system\.[^.]+\[\*\]\.id\)\}$/),
        posix_user: { uid: 1000, gid: 100 },
        root_directory: { path: "/notebooks/alice", creation_info: { owner_uid: 1000, owner_gid: 100, permissions: "0750" } },
      });
      expect(onlyData(json, "aws_efs_file_system")).toMatchObject({ count: efsOn, file_system_id: "${var.efs_file_system_id}" });
    });

    test("EFS home: the task joins the file system's security group; no rule per notebook on it", () => {
      // A rule per notebook would stop at the group's 60-rule quota, below 90 notebooks.
      expect(json.resource.aws_vpc_security_group_ingress_rule).toBeUndefined();
      const svc = onlyResource(json, "aws_ecs_service");
      expect(svc.network_configuration.security_groups).toBe(
        `\${concat([${notebookAddress(json, "aws_security_group", "security_group")}.id], (length(var.efs_file_system_id) >= 1) ? [var.efs_security_group_id] : [])}`,
      );
    });

    test("EFS home: planning fails unless the joined group admits nothing but NFS from itself (its rules reach the notebook too)", () => {
      const rules = Object.entries<any>(json.data.aws_vpc_security_group_rules)[0];
      expect(rules[1]).toMatchObject({ count: efsOn, filter: [{ name: "group-id", values: ["${var.efs_security_group_id}"] }] });
      const rule = Object.keys(json.data.aws_vpc_security_group_rule)[0];
      expect(json.data.aws_vpc_security_group_rule[rule].for_each).toBe(`\${toset(toset(flatten(data.aws_vpc_security_group_rules.${rules[0]}[*].ids)))}`);
      const [check] = notebookResource(json, "aws_efs_access_point", "home_access_point").lifecycle.precondition;
      expect(check.condition).toBe(
        `\${alltrue([for r in values(data.aws_vpc_security_group_rule.${rule}) : r.is_egress || (r.ip_protocol == "tcp" && r.from_port == 2049 && r.to_port == 2049 && ` +
          "r.referenced_security_group_id == tostring(var.efs_security_group_id))])}",
      );
      expect(check.error_message).toMatch(/^efs_security_group_id \$\{var\.efs_security_group_id\} admits more than NFS \(tcp 2049\) from itself/);
    });

    test("EFS home: the task role may mount and write through its access point only", () => {
      const policy = notebookResource(json, "aws_iam_role_policy", "home_mount_through_access_point");
      expect(policy.count).toBe(efsOn);
      expect(policy.role).toBe(`\${${notebookAddress(json, "aws_iam_role", "task_role")}.id}`);
      // (Its statement: iam-policies.test.ts renders and checks it.)
    });

    test("EFS home: the task mounts it on the work directory, encrypted in transit, with IAM authorization", () => {
      const task = onlyResource(json, "aws_ecs_task_definition");
      expect(task.dynamic.volume).toEqual([
        {
          for_each: '${(length(var.efs_file_system_id) >= 1) ? ["home"] : []}',
          content: {
            name: "home",
            efs_volume_configuration: {
              file_system_id: `\${one(${onlyDataAddress(json, "aws_efs_file_system")}[*].id)}`,
              transit_encryption: "ENABLED",
              authorization_config: { access_point_id: `\${one(${accessPoint()}[*].id)}`, iam: "ENABLED" },
            },
          },
        },
      ]);
      expect(task.container_definitions).toContain(
        '"mountPoints" = (length(var.efs_file_system_id) >= 1) ? [{"sourceVolume" = "home", "containerPath" = "/home/jovyan/work", "readOnly" = false}] : []',
      );
    });

    test("sign-in: Cognito or OIDC authenticates first (order 1), then the rule forwards (order 2)", () => {
      const rule = onlyResource(json, "aws_lb_listener_rule");
      // In the order the provider sees them: it matches the actions it reads back (sorted by
      // order) to the configured ones by position, so a forward listed first would show a
      // change on every plan and lose the OIDC client secret.
      expect(rule.dynamic.action.map((a: any) => a.content.type)).toEqual(["authenticate-cognito", "authenticate-oidc", "forward"]);
      expect(rule.dynamic.action[2].content.order).toBe("${((length(var.cognito_user_pool_arn) >= 1) || (length(var.oidc_issuer) >= 1)) ? 2 : 1}");
      const [cognito, oidc] = rule.dynamic.action;
      expect(cognito).toEqual({
        for_each: '${(length(var.cognito_user_pool_arn) >= 1) ? ["cognito"] : []}',
        content: {
          type: "authenticate-cognito",
          order: 1,
          authenticate_cognito: {
            user_pool_arn: "${var.cognito_user_pool_arn}",
            user_pool_client_id: "${var.cognito_user_pool_client_id}",
            user_pool_domain: "${var.cognito_user_pool_domain}",
            session_timeout: "${var.auth_session_timeout_seconds}",
            on_unauthenticated_request: "authenticate",
          },
        },
      });
      expect(oidc).toEqual({
        for_each: '${(length(var.oidc_issuer) >= 1) ? ["oidc"] : []}',
        content: {
          type: "authenticate-oidc",
          order: 1,
          authenticate_oidc: {
            issuer: "${var.oidc_issuer}",
            authorization_endpoint: "${var.oidc_authorization_endpoint}",
            token_endpoint: "${var.oidc_token_endpoint}",
            user_info_endpoint: "${var.oidc_user_info_endpoint}",
            client_id: "${var.oidc_client_id}",
            client_secret: "${var.oidc_client_secret}",
            scope: "openid",
            session_timeout: "${var.auth_session_timeout_seconds}",
            on_unauthenticated_request: "authenticate",
          },
        },
      });
    });

    test("task_role_policy_arns: one attachment per listed policy on the task role", () => {
      expect(notebookResource(json, "aws_iam_role_policy_attachment", "task_role_extra_policy")).toEqual({
        for_each: "${toset(var.task_role_policy_arns)}",
        policy_arn: "${each.value}",
        role: `\${${notebookAddress(json, "aws_iam_role", "task_role")}.name}`,
      });
    });

    test("Spot: the FARGATE_SPOT capacity provider instead of the launch type, and a 120 s stop timeout", () => {
      const svc = onlyResource(json, "aws_ecs_service");
      expect(svc.launch_type).toBe(SPOT_OR_ACCELERATED_LAUNCH_TYPE);
      expect(svc.dynamic.capacity_provider_strategy).toEqual([
        {
          for_each: '${(var.accelerator != "none") ? [""] : (!(var.accelerator != "none") && (var.capacity_provider == "FARGATE_SPOT")) ? ["FARGATE_SPOT"] : []}',
          content: { capacity_provider: "${capacity_provider_strategy.value}", weight: 1 },
        },
      ]);
      // On demand it stays unset, so an upgrade leaves existing task definitions alone.
      expect(onlyResource(json, "aws_ecs_task_definition").container_definitions).toContain(
        '"stopTimeout" = (!(var.accelerator != "none") && (var.capacity_provider == "FARGATE_SPOT")) ? 120 : null',
      );
      // The deregistration delay stays far below Spot's two-minute notice.
      expect(Number(onlyResource(json, "aws_lb_target_group").deregistration_delay)).toBeLessThan(30);
    });

    test("ephemeral_storage_gib: an ephemeral_storage block only when set", () => {
      expect(onlyResource(json, "aws_ecs_task_definition").dynamic.ephemeral_storage).toEqual([
        // None on an instance: ECS refuses ephemeralStorage there.
        { for_each: '${(var.accelerator != "none") ? [] : (var.ephemeral_storage_gib == null) ? [] : [var.ephemeral_storage_gib]}', content: { size_in_gib: "${ephemeral_storage.value}" } },
      ]);
    });

    test("enable_execute_command: on the service, and the SSM channels and session log on the task role only then", () => {
      expect(onlyResource(json, "aws_ecs_service").enable_execute_command).toBe("${var.enable_execute_command}");
      const policy = notebookResource(json, "aws_iam_role_policy", "task_role_execute_command");
      expect(policy.count).toBe("${var.enable_execute_command ? 1 : 0}");
      expect(policy.role).toBe(`\${${notebookAddress(json, "aws_iam_role", "task_role")}.id}`);
      // (Its statements: iam-policies.test.ts renders and checks them.)
    });
  });

  describe("outputs", () => {
    test("url, notebook_url, hostname, sign_in_callback_url, token_secret_arn, service_name, cluster_name, log_group_name, security_group_id", () => {
      expect(Object.keys(json.output).sort()).toEqual(
        ["cluster_name", "hostname", "log_group_name", "notebook_url", "security_group_id", "service_name", "sign_in_callback_url", "token_secret_arn", "url"].sort(),
      );
      for (const o of Object.values<any>(json.output)) expect(o.description).toBeTruthy();
    });

    test("security_group_id is the notebook task's own group (to admit in a database's group)", () => {
      expect(json.output.security_group_id.value).toBe(`\${${notebookAddress(json, "aws_security_group", "security_group")}.id}`);
      expect(json.output.security_group_id.sensitive).toBeUndefined();
    });

    test("url is https://<host>/?token=<token>, with the port only when the listener is not on 443", () => {
      const host = json.output.hostname.value;
      const listener = onlyDataAddress(json, "aws_lb_listener");
      const port = `\${(${listener}.port == 443) ? "" : format(":%d", ${listener}.port)}`;
      expect(json.output.notebook_url.value).toBe(`https://${host}${port}/`);
      expect(json.output.url.value).toMatch(new RegExp(`^${escape(`https://${host}${port}/?token=`)}\\$\\{coalesce\\(var\\.token, `));
      expect(json.output.notebook_url.sensitive).toBeUndefined();
      expect(json.output.sign_in_callback_url.value).toBe(`https://${host}${port}/oauth2/idpresponse`);
    });
  });

  describe("providers", () => {
    test("aws: region and optional profile from the variables, default tags name owner, environment and project", () => {
      const aws = json.provider.aws[0];
      expect(aws.region).toBe("${var.region}");
      expect(aws.profile).toBe("${one(compact([var.profile_name]))}");
      expect(aws.default_tags[0].tags).toBe(
        '${merge(var.tags, {"Owner" = "alice", "Environment" = "local", "Project" = "jupyter-notebooks", "ManagedBy" = "cdktf"})}',
      );
    });
  });
});

describe("backends", () => {
  const environments = { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" }, prod: { stateBucket: "acme-nb-prod", stateRegion: "us-east-1", stateKeyPrefix: "teams/ds" } };

  test("notebook keeps local state in one file per user in the project directory", () => {
    expect(synthStack("notebook", settingsFor({ NOTEBOOK_USER: "alice" })).json.terraform.backend).toEqual({ local: { path: "/projects/nb/notebook-alice.tfstate" } });
    expect(synthStack("notebook", settingsFor({ NOTEBOOK_USER: "bob" })).json.terraform.backend).toEqual({ local: { path: "/projects/nb/notebook-bob.tfstate" } });
  });

  test("notebook-<env> keeps encrypted, locked state in S3 under <prefix>/<env>/<user>/terraform.tfstate", () => {
    const { json } = synthStack("notebook-dev", settingsFor({ NOTEBOOK_USER: "alice" }, environments));
    expect(json.terraform.backend).toEqual({
      s3: { bucket: "acme-nb-state", region: "eu-west-1", key: "jupyter-notebooks/dev/alice/terraform.tfstate", encrypt: true, use_lockfile: true },
    });
    const prod = synthStack("notebook-prod", settingsFor({ NOTEBOOK_USER: "bob" }, environments)).json;
    expect(prod.terraform.backend.s3.key).toBe("teams/ds/prod/bob/terraform.tfstate");
    expect(prod.provider.aws[0].default_tags[0].tags).toContain('"Environment" = "prod"');
  });

  test("two users, or one user in two environments, never share a state key", () => {
    const keys = ["alice", "bob"].flatMap((user) =>
      ["notebook-dev", "notebook-prod"].map((id) => JSON.stringify(synthStack(id, settingsFor({ NOTEBOOK_USER: user }, environments)).json.terraform.backend)),
    );
    expect(new Set(keys).size).toBe(4);
  });

  test("an environment's notebook roles carry its role boundary (its user policy requires it); the local notebook's carry none", () => {
    const boundaries = (id: string, user = "alice") =>
      Object.values<any>(synthStack(id, settingsFor({ NOTEBOOK_USER: user }, environments)).json.resource.aws_iam_role).map((r) => r.permissions_boundary);
    // The platform's partition and account (found by type and construct, not by hash).
    const arn = (env: string) =>
      expect.stringMatching(
        new RegExp(
          `^arn:\\$\\{data\\.aws_partition\\.platform_partition_[0-9A-F]{8}\\.partition\\}:iam::\\$\\{data\\.aws_caller_identity\\.platform_account_[0-9A-F]{8}\\.account_id\\}:policy/jupyter-notebooks/jupyter-notebooks-${env}-role-boundary$`,
        ),
      );
    expect(boundaries("notebook-dev")).toEqual([arn("dev"), arn("dev")]);
    expect(boundaries("notebook-prod", "bob")).toEqual([arn("prod"), arn("prod")]);
    expect(boundaries("notebook")).toEqual([undefined, undefined]);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
