import { synthStack } from "./helpers/synth";
import { describeWithTerraform, evaluateExpressions, tfvars } from "./helpers/terraform";
import { ALL_ON, OIDC, OLD_VARS, Vars } from "./helpers/vars";

/**
 * Which optional resources and blocks a vars file turns on, evaluated by the real
 * terraform. Variable values are unknown at synth, so every option is a `count`, a
 * `for_each` or a conditional expression over variables; here terraform evaluates each of
 * those expressions, as outputs of a configuration that holds only the variable blocks.
 */

/** Every switch of the synthesized stack that depends on variables only, by a readable name. */
function switches(json: any): Record<string, string> {
  const found: Record<string, string> = {};
  const onlyVariables = (expr: unknown) => typeof expr === "string" && expr.includes("var.") && !/\b(aws_|data\.|random_|each\.|count\.)/.test(expr);
  for (const kind of ["resource", "data"]) {
    for (const [type, byName] of Object.entries<any>(json[kind] ?? {})) {
      for (const [name, body] of Object.entries<any>(byName)) {
        const short = `${kind === "data" ? "data." : ""}${type}.${name.replace(/_[0-9A-F]{8}$/, "")}`;
        if (onlyVariables(body.count)) found[`${short} count`] = body.count;
        if (onlyVariables(body.for_each)) found[`${short} for_each`] = `\${length(${body.for_each.slice(2, -1)})}`;
        for (const [block, entries] of Object.entries<any>(body.dynamic ?? {})) {
          entries.forEach((entry: any, i: number) => {
            if (onlyVariables(entry.for_each)) found[`${short} ${block}[${i}]`] = `\${length(${entry.for_each.slice(2, -1)})}`;
          });
        }
      }
    }
  }
  const rule = Object.values<any>(json.resource.aws_lb_listener_rule)[0];
  found["listener rule forward order"] = rule.dynamic.action.find((a: any) => a.content.type === "forward").content.order;
  const service = Object.values<any>(json.resource.aws_ecs_service)[0];
  found["service launch_type"] = `\${coalesce(${service.launch_type.slice(2, -1)}, "none")}`;
  return found;
}

const outputName = (label: string) => label.replace(/[^A-Za-z0-9_]/g, "_");

describeWithTerraform("options switched on and off, evaluated by terraform", () => {
  const { json } = synthStack("notebook");
  const found = switches(json);
  const results: Record<string, Record<string, unknown>> = {};

  /** Evaluates every switch with `vars`: the variable blocks and the switches as outputs, no resources, no provider. */
  async function evaluate(vars: Vars): Promise<Record<string, unknown>> {
    const expressions = Object.fromEntries(Object.entries(found).map(([label, expr]) => [outputName(label), expr]));
    const values = await evaluateExpressions(expressions, { variables: json.variable, varsText: tfvars(vars) });
    return Object.fromEntries(Object.keys(found).map((label) => [label, values[outputName(label)]]));
  }

  beforeAll(async () => {
    const cases: Array<[string, Vars]> = [["old", OLD_VARS], ["all-on", ALL_ON], ["oidc", OIDC]];
    await Promise.all(cases.map(async ([name, vars]) => (results[name] = await evaluate(vars))));
  }, 120_000);

  test("finds every optional resource and block", () => {
    expect(Object.keys(found).sort()).toEqual(
      [
        "aws_ecs_service.notebook_service capacity_provider_strategy[0]",
        "aws_ecs_task_definition.notebook_task_definition ephemeral_storage[0]",
        "aws_ecs_task_definition.notebook_task_definition volume[0]",
        "aws_efs_access_point.notebook_home_access_point count",
        "aws_iam_role_policy.notebook_home_mount_through_access_point count",
        "aws_iam_role_policy.notebook_task_role_execute_command count",
        "aws_iam_role_policy_attachment.notebook_task_role_extra_policy for_each",
        "aws_lb_listener_rule.notebook_listener_rule action[0]",
        "aws_lb_listener_rule.notebook_listener_rule action[1]",
        "aws_secretsmanager_secret.notebook_git_token_secret count",
        "aws_secretsmanager_secret_version.notebook_git_token_secret_value count",
        "data.aws_efs_file_system.platform_efs count",
        "data.aws_vpc_security_group_rules.notebook_home_efs_group_rules count",
        "listener rule forward order",
        "service launch_type",
      ].sort(),
    );
  });

  test("the old configuration's vars file: no EFS, no sign-in, no extra policy, Fargate on demand", () => {
    const old = results.old;
    for (const [label, value] of Object.entries(old)) {
      if (label === "listener rule forward order") expect([label, value]).toEqual([label, 1]);
      else if (label === "service launch_type") expect([label, value]).toEqual([label, "FARGATE"]);
      else expect([label, value]).toEqual([label, 0]);
    }
  });

  test("every option on: each resource once, sign-in before forward, Spot instead of the launch type", () => {
    const on = results["all-on"];
    expect(on).toEqual({
      "aws_ecs_service.notebook_service capacity_provider_strategy[0]": 1,
      "aws_ecs_task_definition.notebook_task_definition ephemeral_storage[0]": 1,
      "aws_ecs_task_definition.notebook_task_definition volume[0]": 1,
      "aws_efs_access_point.notebook_home_access_point count": 1,
      "aws_iam_role_policy.notebook_home_mount_through_access_point count": 1,
      "aws_iam_role_policy.notebook_task_role_execute_command count": 1,
      "aws_iam_role_policy_attachment.notebook_task_role_extra_policy for_each": 2,
      "aws_lb_listener_rule.notebook_listener_rule action[0]": 1, // Cognito
      "aws_lb_listener_rule.notebook_listener_rule action[1]": 0, // OIDC
      "aws_secretsmanager_secret.notebook_git_token_secret count": 1,
      "aws_secretsmanager_secret_version.notebook_git_token_secret_value count": 1,
      "data.aws_efs_file_system.platform_efs count": 1,
      "data.aws_vpc_security_group_rules.notebook_home_efs_group_rules count": 1,
      "listener rule forward order": 2,
      "service launch_type": "none",
    });
  });

  test("OIDC instead of Cognito: the OIDC action only, then forward", () => {
    expect(results.oidc["aws_lb_listener_rule.notebook_listener_rule action[0]"]).toBe(0);
    expect(results.oidc["aws_lb_listener_rule.notebook_listener_rule action[1]"]).toBe(1);
    expect(results.oidc["listener rule forward order"]).toBe(2);
  });
});

describeWithTerraform("the EFS group check, evaluated by terraform", () => {
  // The access point's precondition, with the looked-up rules replaced by test data.
  const { json } = synthStack("notebook");
  const check = Object.values<any>(json.resource.aws_efs_access_point)[0].lifecycle.precondition[0].condition as string;
  const ruleData = `data.aws_vpc_security_group_rule.${Object.keys(json.data.aws_vpc_security_group_rule)[0]}`;
  const GROUP = "sg-0123456789abcdef0";
  const rule = (r: Record<string, unknown>) => ({ is_egress: false, ip_protocol: "tcp", from_port: 2049, to_port: 2049, referenced_security_group_id: null, cidr_ipv4: null, cidr_ipv6: null, ...r });

  async function admits(rules: Array<Record<string, unknown>>): Promise<boolean> {
    const { admits } = await evaluateExpressions(
      { admits: check },
      {
        replacements: [[new RegExp(ruleData.replace(/\./g, "\\."), "g"), "local.rules"], [/var\.efs_security_group_id/g, "local.group"]],
        locals: { group: GROUP, rules: Object.fromEntries(rules.map((r, i) => [`sgr-${i}`, rule(r)])) },
      },
    );
    return admits as boolean;
  }

  test("passes for a client group without inbound rules, or one whose only inbound rule is NFS from itself", async () => {
    expect(await admits([])).toBe(true);
    expect(await admits([{ referenced_security_group_id: GROUP }])).toBe(true);
    expect(await admits([{ referenced_security_group_id: GROUP }, { is_egress: true, ip_protocol: "-1", from_port: -1, to_port: -1, cidr_ipv4: "0.0.0.0/0" }])).toBe(true);
  }, 60_000);

  test("fails when the group would let more reach the notebook: all traffic from itself (a VPC's default group), any address range, other ports", async () => {
    expect(await admits([{ ip_protocol: "-1", from_port: -1, to_port: -1, referenced_security_group_id: GROUP }])).toBe(false);
    expect(await admits([{ ip_protocol: "-1", from_port: -1, to_port: -1, cidr_ipv4: "0.0.0.0/0" }])).toBe(false);
    expect(await admits([{ cidr_ipv4: "10.0.0.0/16" }])).toBe(false);
    expect(await admits([{ from_port: 0, to_port: 65535, referenced_security_group_id: GROUP }])).toBe(false);
    expect(await admits([{ referenced_security_group_id: GROUP }, { from_port: 8888, to_port: 8888, referenced_security_group_id: "sg-0aaaaaaaaaaaaaaaa" }])).toBe(false);
  }, 60_000);
});

describeWithTerraform("the hostname checks, evaluated by terraform with the hosted zone's name", () => {
  // The listener rule's preconditions, with the zone's name as the data source would give it.
  const { json } = synthStack("notebook");
  const [length, lastLabel] = Object.values<any>(json.resource.aws_lb_listener_rule)[0].lifecycle.precondition.map((p: any) => p.condition as string);

  async function checks(zoneName: string, vars: { domain?: string; hostname_prefix?: string } = {}) {
    return evaluateExpressions(
      { length, last_label: lastLabel },
      {
        replacements: [
          [/data\.aws_route53_zone\.[A-Za-z0-9_]+\.name/g, "local.zone"],
          [/var\.domain/g, "local.domain"],
          [/var\.hostname_prefix/g, "local.prefix"],
        ],
        locals: { zone: zoneName, domain: vars.domain ?? "", prefix: vars.hostname_prefix ?? "jupyter" },
      },
    );
  }

  test("pass for the zone's name when the vars file gives no domain", async () => {
    expect(await checks("notebooks.example.com.")).toEqual({ length: true, last_label: true });
    // 7 + 1 + 8 + 1 + 111 = 128
    expect(await checks(`${"a".repeat(60)}.${"b".repeat(46)}.com.`)).toEqual({ length: true, last_label: true });
  }, 60_000);

  test("fail for a zone whose name makes the hostname longer than 128, or ends in a label with digits", async () => {
    expect((await checks(`${"a".repeat(60)}.${"b".repeat(47)}.com.`)).length).toBe(false);
    expect((await checks("example.c0m.")).last_label).toBe(false);
    expect((await checks("10.in-addr.arpa.", { domain: "notebooks.10" })).last_label).toBe(false);
  }, 60_000);
});
