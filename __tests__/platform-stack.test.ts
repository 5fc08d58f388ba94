import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { TerraformStack, Testing } from "cdktf";
import { makeUniqueId } from "cdktf/lib/private/unique";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import {
  FILE_SYSTEM_POLICY,
  HTTPS_PORT,
  loadBalancerName,
  MAX_LOAD_BALANCER_NAME_LENGTH,
  NFS_PORT,
  Platform,
  PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER,
  PlatformProps,
  SSL_POLICY,
} from "../modules/platform";
import { LOAD_BALANCER_TAG } from "../modules/platform-state/placement";
import { MAX_PLATFORM_ALLOWED_CIDRS, MAX_PLATFORM_DOMAIN_LENGTH } from "../stacks/platform-variables";
import { MAX_LOAD_BALANCERS, MAX_TARGET_GROUPS_PER_LOAD_BALANCER } from "../stacks/settings";
import { blockOf, dataOf, evaluatePlan, EXISTING_VPC_CIDRS, PLATFORM_REQUIRED, resourcesOf, synthPlatform } from "./helpers/platform";
import {
  describeVarsCases,
  describeWithTerraform,
  initOffline,
  initVariablesDir,
  planVars,
  PROVIDER_DOWNLOAD_ERROR,
  removeDir,
  TerraformResult,
  tfvars,
} from "./helpers/terraform";
import { Vars } from "./helpers/vars";

/**
 * The `platform-<env>` stack: what it creates for each choice of its variables, its
 * outputs (which the notebook stacks read from its state), its variables evaluated by the
 * real terraform, and the whole configuration checked by `terraform init`.
 */

const ROOT = path.resolve(__dirname, "..");

/** The policy JSON of the README's "Persistent home on EFS" section. */
function readmeFileSystemPolicy(): unknown {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### Persistent home on EFS"));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("no json block in the README's Persistent home on EFS section");
  return JSON.parse(block[1]);
}

/** The documented construct paths (under the stack) of every resource and data source: the contract. */
const CONSTRUCT_PATHS: Array<[string, string[]]> = [
  ["data.aws_partition", ["accelerators", "partition"]],
  ["aws_iam_role", ["accelerators", "infrastructure_role"]],
  ["aws_iam_role_policy_attachment", ["accelerators", "infrastructure_policy"]],
  ["aws_iam_role", ["accelerators", "instance_role"]],
  ["aws_iam_role_policy_attachment", ["accelerators", "instance_policy"]],
  ["aws_iam_instance_profile", ["accelerators", "instance_profile"]],
  ["aws_security_group", ["accelerators", "security_group"]],
  ["aws_ecs_capacity_provider", ["accelerators", "capacity_provider"]],
  ["data.aws_caller_identity", ["account"]],
  ["data.aws_partition", ["partition"]],
  ["aws_cloudwatch_log_group", ["waker", "log_group"]],
  ["aws_iam_role", ["waker", "role"]],
  ["aws_iam_role_policy", ["waker", "role_policy"]],
  ["aws_lambda_function", ["waker", "function"]],
  ["aws_lb_target_group", ["waker", "target_group_0"]],
  ["aws_lambda_permission", ["waker", "invoke_from_load_balancer_0"]],
  ["aws_lb_target_group_attachment", ["waker", "target_0"]],
  ["aws_cloudwatch_event_rule", ["waker", "stopped_rule"]],
  ["aws_cloudwatch_event_target", ["waker", "stopped_target"]],
  ["aws_lambda_permission", ["waker", "invoke_from_events"]],
  ["data.aws_availability_zones", ["platform", "network", "availability_zones"]],
  ["aws_vpc", ["platform", "network", "vpc"]],
  ["aws_internet_gateway", ["platform", "network", "internet_gateway"]],
  ["aws_subnet", ["platform", "network", "public_subnet"]],
  ["aws_route_table", ["platform", "network", "public_route_table"]],
  ["aws_route", ["platform", "network", "public_default_route"]],
  ["aws_route_table_association", ["platform", "network", "public_subnet_route"]],
  ["aws_subnet", ["platform", "network", "private_subnet"]],
  ["aws_eip", ["platform", "network", "nat_address"]],
  ["aws_nat_gateway", ["platform", "network", "nat_gateway"]],
  ["aws_route_table", ["platform", "network", "private_route_table"]],
  ["aws_route", ["platform", "network", "private_default_route"]],
  ["aws_route_table_association", ["platform", "network", "private_subnet_route"]],
  ["data.aws_vpc", ["platform", "network", "existing_vpc"]],
  ["data.aws_subnet", ["platform", "network", "load_balancer_subnet"]],
  ["data.aws_subnet", ["platform", "network", "notebook_subnet"]],
  ["data.aws_route53_zone", ["platform", "certificate", "zone"]],
  ["aws_acm_certificate", ["platform", "certificate", "certificate"]],
  ["aws_route53_record", ["platform", "certificate", "validation_record"]],
  ["aws_acm_certificate_validation", ["platform", "certificate", "validation"]],
  ["aws_ecs_cluster", ["platform", "cluster", "cluster"]],
  ["aws_ecs_cluster_capacity_providers", ["platform", "cluster", "capacity_providers"]],
  ["aws_security_group", ["platform", "load_balancer_security_group", "security_group"]],
  ["aws_lb", ["platform", "load_balancer_0", "load_balancer"]],
  ["aws_lb_listener", ["platform", "load_balancer_0", "https_listener"]],
  ["aws_lb_listener", ["platform", "load_balancer_0", "http_listener"]],
  ["aws_security_group", ["platform", "file_system", "security_group"]],
  ["aws_efs_file_system", ["platform", "file_system", "file_system"]],
  ["aws_efs_mount_target", ["platform", "file_system", "mount_target"]],
  ["aws_efs_file_system_policy", ["platform", "file_system", "policy"]],
];

const OUTPUTS = [
  "accelerator_capacity_providers",
  "region",
  "cluster_name",
  "cluster_arn",
  "vpc_id",
  "notebook_subnet_ids",
  "assign_public_ip",
  "hosted_zone_id",
  "zone_name",
  "domain",
  "listener_port",
  "load_balancers",
  "notebooks_per_load_balancer",
  "efs_file_system_id",
  "efs_file_system_arn",
  "efs_security_group_id",
];

const VARIABLES = [
  "accelerator_instance_types",
  "accelerator_volume_gib",
  "accelerator_idle_seconds",
  "region",
  "profile_name",
  "hosted_zone_id",
  "domain",
  "vpc_id",
  "load_balancer_subnet_ids",
  "notebook_subnet_ids",
  "vpc_cidr",
  "availability_zones",
  "task_network",
  "container_insights",
  "allowed_cidrs",
  "idle_timeout_seconds",
  "access_logs_bucket",
  "access_logs_prefix",
  "efs",
  "tags",
];

describe("the platform stack, synthesized", () => {
  const one = synthPlatform();
  const six = synthPlatform({ loadBalancers: 6 });

  test("keeps its state in S3, encrypted and locked, and requires Terraform 1.10", () => {
    // GIVEN the spec of platform-dev WHEN synthesized THEN
    expect(one.json.terraform.backend.s3).toEqual({
      bucket: "acme-nb-state",
      key: "jupyter-notebooks/_platform/dev/terraform.tfstate",
      region: "eu-west-1",
      encrypt: true,
      use_lockfile: true,
    });
    expect(one.json.terraform.required_version).toBe(">= 1.10");
  });

  test("sets the provider's region, profile and default tags from the variables", () => {
    const provider = one.json.provider.aws[0];
    expect(provider.region).toBe("${var.region}");
    expect(provider.profile).toContain("var.profile_name");
    const tags = provider.default_tags[0].tags;
    // var.tags first: the platform's own tags win over a vars file's.
    expect(tags).toMatch(/^\$\{merge\(var\.tags, \{/);
    for (const [key, value] of Object.entries({ Environment: "dev", Project: "jupyter-notebooks", ManagedBy: "cdktf", Purpose: "notebook-platform" })) {
      expect(tags).toContain(`"${key}" = "${value}"`);
    }
  });

  test("declares every variable with a description and type, a default when optional, and rules that name it", () => {
    const variables = one.json.variable;
    expect(Object.keys(variables).sort()).toEqual([...VARIABLES].sort());
    for (const [name, v] of Object.entries<any>(variables)) {
      expect({ name, description: typeof v.description === "string" && v.description.length > 20, type: typeof v.type }).toEqual({
        name,
        description: true,
        type: "string",
      });
      expect({ name, hasDefault: "default" in v }).toEqual({ name, hasDefault: !["region", "hosted_zone_id"].includes(name) });
      if (v.type === "bool") continue;
      expect({ name, rules: (v.validation ?? []).length > 0 }).toEqual({ name, rules: true });
      for (const rule of v.validation) expect(rule.error_message).toMatch(new RegExp(`^${name} `));
    }
  });

  test("creates one ECS cluster of its own, with Fargate and Fargate Spot", () => {
    const { stack, json } = one;
    expect(Object.keys(resourcesOf(json, "aws_ecs_cluster"))).toHaveLength(1);
    const cluster = blockOf(json, stack.platform.cluster.cluster);
    expect(cluster.name).toBe("jupyter-notebooks-dev");
    expect(cluster.setting).toEqual([{ name: "containerInsights", value: '${var.container_insights ? "enabled" : "disabled"}' }]);
    expect(blockOf(json, stack.platform.cluster.capacityProviders)).toEqual({
      cluster_name: `\${aws_ecs_cluster.${stack.platform.cluster.cluster.friendlyUniqueId}.name}`,
      capacity_providers: ["FARGATE", "FARGATE_SPOT"],
      default_capacity_provider_strategy: [{ capacity_provider: "FARGATE", weight: 1, base: 0 }],
      // ECS lists the accelerated capacity providers created in the cluster there too.
      lifecycle: { ignore_changes: ["capacity_providers"] },
    });
  });

  test("creates no zone, no target group but the waker's, no rule, no service, and imports nothing: the zone and an existing VPC are only looked up", () => {
    const { json } = six;
    expect(Object.values<any>(resourcesOf(json, "aws_lb_target_group")).map((g) => g.target_type)).toEqual(Array(6).fill("lambda"));
    for (const type of [
      "aws_route53_zone",
      "aws_lb_listener_rule",
      "aws_ecs_service",
      "aws_vpc_security_group_ingress_rule",
      "aws_default_vpc",
      "aws_default_subnet",
    ]) {
      expect({ type, found: Object.keys(resourcesOf(json, type)) }).toEqual({ type, found: [] });
    }
    expect(json.import).toBeUndefined();
    expect(Object.keys(dataOf(json, "aws_route53_zone"))).toHaveLength(1);
    expect(Object.keys(dataOf(json, "aws_vpc"))).toHaveLength(1);
    expect(Object.keys(dataOf(json, "aws_subnet"))).toHaveLength(2);
    // The only records it adds to the zone: the certificate's validation.
    expect(Object.keys(resourcesOf(json, "aws_route53_record"))).toHaveLength(1);
  });

  test("gives one load balancer an HTTPS listener with the validated certificate and a plain 404, and HTTP redirected to HTTPS", () => {
    const { stack, json } = one;
    const [lb] = stack.platform.loadBalancers;
    const alb = blockOf(json, lb.loadBalancer);
    expect(alb).toEqual({
      name: "nb-dev-0",
      load_balancer_type: "application",
      internal: false,
      subnets: expect.stringContaining("concat("),
      security_groups: [`\${aws_security_group.${stack.platform.loadBalancerSecurityGroup.securityGroup.friendlyUniqueId}.id}`],
      idle_timeout: "${var.idle_timeout_seconds}",
      drop_invalid_header_fields: true,
      xff_header_processing_mode: "append",
      access_logs: { bucket: "${var.access_logs_bucket}", prefix: "${var.access_logs_prefix}", enabled: "${!(length(var.access_logs_bucket) < 1)}" },
      tags: { Name: "nb-dev-0", [LOAD_BALANCER_TAG]: "nb-dev-0" },
    });
    const https = blockOf(json, lb.httpsListener);
    expect(https).toEqual({
      load_balancer_arn: `\${aws_lb.${lb.loadBalancer.friendlyUniqueId}.arn}`,
      port: 443,
      protocol: "HTTPS",
      ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      // From the validation: the listener waits until the certificate is issued.
      certificate_arn: `\${aws_acm_certificate_validation.${stack.platform.certificate.validation.friendlyUniqueId}.certificate_arn}`,
      default_action: [
        {
          type: "fixed-response",
          fixed_response: {
            status_code: "404",
            content_type: "text/plain",
            message_body: "No notebook here. Check the address, or deploy your notebook (npx cdktf deploy notebook-dev).",
          },
        },
      ],
    });
    expect(SSL_POLICY).toBe(https.ssl_policy);
    expect(blockOf(json, lb.httpListener)).toEqual({
      load_balancer_arn: `\${aws_lb.${lb.loadBalancer.friendlyUniqueId}.arn}`,
      port: 80,
      protocol: "HTTP",
      default_action: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", status_code: "HTTP_301" } }],
    });
  });

  test("creates 6 load balancers with 6 HTTPS and 6 HTTP listeners and one certificate, names unique and within 32 characters", () => {
    const { stack, json } = six;
    const albs = Object.values<any>(resourcesOf(json, "aws_lb"));
    expect(albs).toHaveLength(6);
    const names = albs.map((a) => a.name);
    expect(names).toEqual(["nb-dev-0", "nb-dev-1", "nb-dev-2", "nb-dev-3", "nb-dev-4", "nb-dev-5"]);
    for (const a of albs) expect(a.tags[LOAD_BALANCER_TAG]).toBe(a.name);
    const listeners = Object.values<any>(resourcesOf(json, "aws_lb_listener"));
    expect(listeners.filter((l) => l.protocol === "HTTPS" && l.port === 443)).toHaveLength(6);
    expect(listeners.filter((l) => l.protocol === "HTTP" && l.port === 80)).toHaveLength(6);
    // Each load balancer has its own pair.
    for (const lb of stack.platform.loadBalancers) {
      const arn = `\${aws_lb.${lb.loadBalancer.friendlyUniqueId}.arn}`;
      expect(
        listeners
          .filter((l) => l.load_balancer_arn === arn)
          .map((l) => l.port)
          .sort(),
      ).toEqual([443, 80]);
    }
    expect(Object.keys(resourcesOf(json, "aws_acm_certificate"))).toHaveLength(1);
    expect(Object.keys(resourcesOf(json, "aws_acm_certificate_validation"))).toHaveLength(1);
    expect(Object.keys(resourcesOf(json, "aws_security_group"))).toHaveLength(3); // the load balancers', EFS's and the accelerated instances' (counted)
  });

  test("keeps every name within AWS's limits for the longest environment name and the most load balancers", () => {
    // GIVEN a 24-character environment (the longest settings accept) and 20 load balancers
    const env = "e".repeat(24);
    const { json } = synthPlatform({ stackId: `platform-${env}`, environment: env, loadBalancers: MAX_LOAD_BALANCERS });
    // THEN
    const names = Object.values<any>(resourcesOf(json, "aws_lb")).map((a) => a.name);
    expect(names).toHaveLength(MAX_LOAD_BALANCERS);
    expect(new Set(names).size).toBe(MAX_LOAD_BALANCERS);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(MAX_LOAD_BALANCER_NAME_LENGTH);
    expect(Object.values<any>(resourcesOf(json, "aws_ecs_cluster"))[0].name.length).toBeLessThanOrEqual(255);
    for (const sg of Object.values<any>(resourcesOf(json, "aws_security_group"))) expect(sg.name.length).toBeLessThanOrEqual(255);
  });

  test("requests one wildcard certificate for *.<domain>, validated by one DNS record it never overwrites", () => {
    const { stack, json } = one;
    const cert = stack.platform.certificate;
    const zone = `data.aws_route53_zone.${cert.zone.friendlyUniqueId}`;
    const domain = `coalesce(var.domain, trimsuffix(${zone}.name, "."))`;
    expect(blockOf(json, cert.zone, "data").zone_id).toBe("${var.hosted_zone_id}");
    const certificate = blockOf(json, cert.certificate);
    expect(certificate.domain_name).toBe(`\${format("*.%s", ${domain})}`);
    expect(certificate.validation_method).toBe("DNS");
    expect(certificate.lifecycle.create_before_destroy).toBe(true);
    expect(certificate.lifecycle.precondition[0].error_message).toMatch(/^domain .* is neither the hosted zone's name .* nor a name under it/);
    const option = `tolist(aws_acm_certificate.${cert.certificate.friendlyUniqueId}.domain_validation_options)[0]`;
    expect(blockOf(json, cert.validationRecord)).toEqual({
      zone_id: `\${${zone}.zone_id}`,
      name: `\${${option}.resource_record_name}`,
      type: `\${${option}.resource_record_type}`,
      records: [`\${${option}.resource_record_value}`],
      ttl: 300,
      allow_overwrite: false,
    });
    expect(blockOf(json, cert.validation)).toEqual({
      certificate_arn: `\${aws_acm_certificate.${cert.certificate.friendlyUniqueId}.arn}`,
      validation_record_fqdns: [`\${aws_route53_record.${cert.validationRecord.friendlyUniqueId}.fqdn}`],
    });
  });

  test("admits 443 and 80 from the allowed CIDRs, IPv4 and IPv6 apart; sends anything to the VPC, and only HTTPS beyond (sign-in)", () => {
    const { stack, json } = one;
    const group = blockOf(json, stack.platform.loadBalancerSecurityGroup.securityGroup);
    expect(group.ingress.map((r: any) => [r.protocol, r.from_port, r.to_port])).toEqual([
      ["tcp", 443, 443],
      ["tcp", 80, 80],
    ]);
    for (const rule of group.ingress) {
      expect(rule.cidr_blocks).toBe('${[ for key, val in toset(var.allowed_cidrs): val if !strcontains(val, ":")]}');
      expect(rule.ipv6_cidr_blocks).toBe('${[ for key, val in toset(var.allowed_cidrs): val if strcontains(val, ":")]}');
      expect(rule).toMatchObject({ self: false, security_groups: [], prefix_list_ids: [] });
    }
    expect(group.egress).toHaveLength(2);
    expect(group.egress[0]).toMatchObject({ protocol: "-1", ipv6_cidr_blocks: [], self: false });
    expect(group.egress[0].cidr_blocks).toContain("cidr_block_associations");
    expect(group.egress[0].cidr_blocks).not.toContain("0.0.0.0/0");
    // Cognito or OIDC sign-in: the load balancer calls the provider's endpoints over HTTPS.
    expect(group.egress[1]).toMatchObject({ protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"], ipv6_cidr_blocks: ["::/0"] });
  });

  test("with efs: an encrypted file system, a group that admits NFS from itself only, a mount target per notebook subnet, the README's policy", () => {
    const { stack, json } = one;
    const efs = stack.platform.fileSystem;
    expect(blockOf(json, efs.fileSystem)).toMatchObject({ count: "${var.efs ? 1 : 0}", encrypted: true });
    const group = blockOf(json, efs.securityGroup);
    expect(group.count).toBe("${var.efs ? 1 : 0}");
    // The shape the notebook module checks before a notebook joins the group.
    expect(group.ingress).toEqual([
      {
        description: "NFS from this group itself",
        protocol: "tcp",
        from_port: NFS_PORT,
        to_port: NFS_PORT,
        self: true,
        cidr_blocks: [],
        ipv6_cidr_blocks: [],
        prefix_list_ids: [],
        security_groups: [],
      },
    ]);
    expect(group.egress).toEqual([expect.objectContaining({ protocol: "-1", self: true, cidr_blocks: [], ipv6_cidr_blocks: [] })]);
    const mountTarget = blockOf(json, efs.mountTargets);
    expect(mountTarget.security_groups).toEqual([`\${join("", aws_security_group.${efs.securityGroup.friendlyUniqueId}[*].id)}`]);
    expect(mountTarget.lifecycle.precondition[0].error_message).toMatch(/^notebook_subnet_ids must be in distinct Availability Zones with efs/);
    expect(FILE_SYSTEM_POLICY).toEqual(readmeFileSystemPolicy());
    expect(blockOf(json, efs.policy).policy).toMatch(/^\$\{jsonencode\(/);
  });

  test("has the outputs the notebook stacks read, each with a description", () => {
    const { json } = six;
    expect(Object.keys(json.output).sort()).toEqual([...OUTPUTS].sort());
    for (const [name, o] of Object.entries<any>(json.output))
      expect({ name, described: typeof o.description === "string" && o.description.length > 10 }).toEqual({ name, described: true });
    expect(json.output.listener_port.value).toBe(HTTPS_PORT);
    expect(json.output.notebooks_per_load_balancer.value).toBe(90);
    expect(json.output.region.value).toBe("${var.region}");
    const lbs = json.output.load_balancers.value;
    expect(lbs).toHaveLength(6);
    six.stack.platform.loadBalancers.forEach((lb, i) => {
      const id = lb.loadBalancer.friendlyUniqueId;
      expect(lbs[i]).toEqual({
        name: `\${aws_lb.${id}.name}`,
        arn: `\${aws_lb.${id}.arn}`,
        dns_name: `\${aws_lb.${id}.dns_name}`,
        zone_id: `\${aws_lb.${id}.zone_id}`,
        https_listener_arn: `\${aws_lb_listener.${lb.httpsListener.friendlyUniqueId}.arn}`,
        security_group_ids: [`\${aws_security_group.${six.stack.platform.loadBalancerSecurityGroup.securityGroup.friendlyUniqueId}.id}`],
      });
    });
    for (const name of ["efs_file_system_id", "efs_file_system_arn", "efs_security_group_id"]) expect(json.output[name].value).toMatch(/^\$\{join\("", /);
  });

  test("refers only to variables, resources and data sources it declares (terraform init does not check references)", () => {
    const { json, text } = six;
    const declared = new Set([
      ...Object.entries<any>(json.resource).flatMap(([type, blocks]) => Object.keys(blocks).map((id) => `${type}.${id}`)),
      ...Object.entries<any>(json.data).flatMap(([type, blocks]) => Object.keys(blocks).map((id) => `data.${type}.${id}`)),
    ]);
    const references = new Set([...text.matchAll(/\b((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_]+_[0-9A-F]{8})\b/g)].map((m) => m[1]));
    expect(references.size).toBeGreaterThan(20);
    expect([...references].filter((r) => !declared.has(r))).toEqual([]);
    const variables = new Set([...text.matchAll(/\bvar\.([a-z0-9_]+)/g)].map((m) => m[1]));
    expect([...variables].filter((v) => !(v in json.variable))).toEqual([]);
  });

  test("keeps the documented construct ids (the contract): load_balancer_<i> and every resource's path", () => {
    const { json } = six;
    for (const [type, parts] of CONSTRUCT_PATHS) {
      const kind = type.startsWith("data.") ? "data" : "resource";
      const blocks = json[kind][type.replace(/^data\./, "")] ?? {};
      expect({ type, parts, found: makeUniqueId(parts) in blocks }).toEqual({ type, parts, found: true });
    }
    for (let i = 0; i < 6; i++) {
      expect(json.resource.aws_lb[makeUniqueId(["platform", `load_balancer_${i}`, "load_balancer"])].name).toBe(loadBalancerName("dev", i));
    }
    // Nothing else: every resource and data source is on the list.
    const listed = new Set(CONSTRUCT_PATHS.map(([, parts]) => makeUniqueId(parts)));
    for (let i = 1; i < 6; i++)
      for (const child of ["load_balancer", "https_listener", "http_listener"]) listed.add(makeUniqueId(["platform", `load_balancer_${i}`, child]));
    for (let i = 1; i < 6; i++)
      for (const child of ["target_group", "invoke_from_load_balancer", "target"]) listed.add(makeUniqueId(["waker", `${child}_${i}`]));
    const all = [...Object.values<any>(json.resource), ...Object.values<any>(json.data)].flatMap((blocks) => Object.keys(blocks));
    expect(all.filter((id) => !listed.has(id))).toEqual([]);
  });

  test("names the local notebook stack in the 404 of the local platform, whose state is a local file", () => {
    // GIVEN the `platform` stack of the `notebook` stack
    const { json } = synthPlatform({ stackId: "platform", environment: "local", backend: { type: "local", path: "/projects/nb/platform.tfstate" } });
    // THEN
    expect(json.terraform.backend.local).toEqual({ path: "/projects/nb/platform.tfstate" });
    const https = Object.values<any>(resourcesOf(json, "aws_lb_listener")).find((l) => l.port === 443);
    expect(https.default_action[0].fixed_response.message_body).toContain("(npx cdktf deploy notebook).");
    expect(Object.values<any>(resourcesOf(json, "aws_ecs_cluster"))[0].name).toBe("jupyter-notebooks-local");
  });

  test("prints nothing to stderr while synthesizing", () => {
    const warn = jest.spyOn(console, "warn");
    const error = jest.spyOn(console, "error");
    const write = jest.spyOn(process.stderr, "write");
    try {
      synthPlatform({ loadBalancers: 3 });
      expect(warn).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
      expect(write).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      error.mockRestore();
      write.mockRestore();
    }
  });

  test("fails when the notebooks per load balancer and the platform's target groups exceed a load balancer's 100", () => {
    const most = MAX_TARGET_GROUPS_PER_LOAD_BALANCER - PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER;
    expect(() => synthPlatform({ notebooksPerLoadBalancer: most })).not.toThrow();
    expect(() => synthPlatform({ notebooksPerLoadBalancer: most + 1 })).toThrow(
      `platform-dev: ${
        most + 1
      } notebooks per load balancer and the platform's ${PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER} target groups exceed the ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} target groups a load balancer holds`,
    );
  });

  test("fails when there are no load balancers", () => {
    expect(() => synthPlatform({ loadBalancers: 0 })).toThrow("loadBalancers must be a whole number of at least 1, got 0");
  });

  test("fails when the environment name makes a load balancer name longer than 32 characters", () => {
    const env = "e".repeat(28);
    expect(() => synthPlatform({ stackId: `platform-${env}`, environment: env })).toThrow(
      `load balancer name nb-${env}-0 is 33 characters, more than AWS's 32`,
    );
  });
});

// --- what exists for each choice, evaluated by terraform ----------------------------------

const EXISTING_VPC: Vars = {
  vpc_id: "vpc-0123456789abcdef0",
  load_balancer_subnet_ids: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
  notebook_subnet_ids: ["subnet-00112233445566778", "subnet-08877665544332211", "subnet-0aaaaaaaaaaaaaaaa"],
};

/** Instances per type when nothing optional is on, with a new VPC: what every choice starts from. */
const ALWAYS = {
  "data.aws_route53_zone": 1,
  aws_acm_certificate: 1,
  aws_route53_record: 1,
  aws_acm_certificate_validation: 1,
  aws_ecs_cluster: 1,
  aws_ecs_cluster_capacity_providers: 1,
  aws_lb: 1,
  aws_lb_listener: 2,
  // Accelerated capacity: none without accelerator_instance_types (its partition is looked up; so is the waker's).
  "data.aws_partition": 2,
  aws_iam_role_policy_attachment: 0,
  aws_iam_instance_profile: 0,
  aws_ecs_capacity_provider: 0,
  // The waker (its role is the one IAM role without accelerated capacity); one target group
  // and permission per load balancer, one permission for the rule on stopped tasks.
  "data.aws_caller_identity": 1,
  aws_iam_role: 1,
  aws_iam_role_policy: 1,
  aws_cloudwatch_log_group: 1,
  aws_lambda_function: 1,
  aws_lb_target_group: 1,
  aws_lb_target_group_attachment: 1,
  aws_lambda_permission: 2,
  aws_cloudwatch_event_rule: 1,
  aws_cloudwatch_event_target: 1,
};
const NEW_PUBLIC_VPC = {
  "data.aws_availability_zones": 1,
  aws_vpc: 1,
  aws_internet_gateway: 1,
  aws_subnet: 2,
  aws_route_table: 1,
  aws_route: 1,
  aws_route_table_association: 2,
  aws_eip: 0,
  aws_nat_gateway: 0,
  "data.aws_vpc": 0,
  "data.aws_subnet": 0,
};
const NO_VPC_RESOURCES = {
  "data.aws_availability_zones": 0,
  aws_vpc: 0,
  aws_internet_gateway: 0,
  aws_subnet: 0,
  aws_route_table: 0,
  aws_route: 0,
  aws_route_table_association: 0,
  aws_eip: 0,
  aws_nat_gateway: 0,
};
const NO_EFS = { aws_efs_file_system: 0, aws_efs_mount_target: 0, aws_efs_file_system_policy: 0, aws_security_group: 1 };

describeWithTerraform("what the platform creates for each choice, evaluated by terraform", () => {
  const { stack, json } = synthPlatform();
  const p = stack.platform;
  const group = blockOf(json, p.loadBalancerSecurityGroup.securityGroup);
  const alb = blockOf(json, p.loadBalancers[0].loadBalancer);
  const at = (expression: string, index: number) => expression.replace(/count\.index/g, String(index));
  /** Values of the stack, evaluated with each vars file (references replaced by placeholders, see withPlaceholders). */
  const common: Record<string, unknown> = {
    // (The capacity providers' output reads a for_each resource: see the accelerator tests.)
    ...Object.fromEntries(
      Object.entries<any>(json.output)
        .filter(([name]) => name !== "accelerator_capacity_providers")
        .map(([name, o]) => [`output_${name}`, o.value]),
    ),
    container_insights: blockOf(json, p.cluster.cluster).setting[0].value,
    access_logs_enabled: alb.access_logs.enabled,
    load_balancer_subnets: alb.subnets,
    ipv4_sources: group.ingress[0].cidr_blocks,
    ipv6_sources: group.ingress[0].ipv6_cidr_blocks,
    egress_destinations: group.egress[0].cidr_blocks,
    default_tags: json.provider.aws[0].default_tags[0].tags,
    domain_in_zone: blockOf(json, p.certificate.certificate).lifecycle.precondition[0].condition,
    record_name: blockOf(json, p.certificate.validationRecord).name,
    efs_policy: blockOf(json, p.fileSystem.policy).policy,
  };
  // Values of resources that exist only with some choices (an index into none fails).
  const newVpc = {
    public_cidr_1: at(blockOf(json, p.network.publicSubnets).cidr_block, 1),
    public_zone_1: at(blockOf(json, p.network.publicSubnets).availability_zone, 1),
  };
  const privateSubnets = {
    private_cidr_0: at(blockOf(json, p.network.privateSubnets).cidr_block, 0),
    private_cidr_2: at(blockOf(json, p.network.privateSubnets).cidr_block, 2),
    nat_subnet: blockOf(json, p.network.natGateway).subnet_id,
  };
  const existingVpc = {
    load_balancer_zones_ok: blockOf(json, p.network.existingVpc, "data").lifecycle.precondition[0].condition,
    notebook_zones_ok: blockOf(json, p.network.existingVpc, "data").lifecycle.precondition[1].condition,
  };
  const efs = {
    mount_target_subnet_1: at(blockOf(json, p.fileSystem.mountTargets).subnet_id, 1),
    mount_target_zones_ok: blockOf(json, p.fileSystem.mountTargets).lifecycle.precondition[0].condition,
  };
  const publicSubnet = (i: number) => `<aws_subnet.platform_network_public_subnet[${i}].id>`;
  const privateSubnet = (i: number) => `<aws_subnet.platform_network_private_subnet[${i}].id>`;
  const existingSubnet = (kind: string, i: number) => `<data.aws_subnet.platform_network_${kind}_subnet[${i}].id>`;

  type Outcome = Awaited<ReturnType<typeof evaluatePlan>>;
  const outcomes = new Map<string, Outcome>();
  const CASES: Array<[string, Vars, Record<string, unknown>]> = [
    ["new VPC, public tasks", PLATFORM_REQUIRED, { ...common, ...newVpc }],
    [
      "new VPC in 3 zones, private tasks, efs, access logs, container insights",
      {
        ...PLATFORM_REQUIRED,
        task_network: "private",
        availability_zones: 3,
        efs: true,
        access_logs_bucket: "acme-alb-logs",
        access_logs_prefix: "notebooks/dev",
        container_insights: true,
        domain: "nb.example.com",
      },
      { ...common, ...newVpc, ...privateSubnets, ...efs },
    ],
    [
      "existing VPC, public tasks, efs",
      { ...PLATFORM_REQUIRED, ...EXISTING_VPC, efs: true, allowed_cidrs: ["203.0.113.0/24", "2001:db8::/32"], domain: "elsewhere.org" },
      { ...common, ...existingVpc, ...efs },
    ],
    [
      "existing VPC, private tasks",
      // Notebook subnets in the load balancer subnets' zones (a and b).
      {
        ...PLATFORM_REQUIRED,
        ...EXISTING_VPC,
        notebook_subnet_ids: (EXISTING_VPC.notebook_subnet_ids as string[]).slice(0, 2),
        task_network: "private",
        tags: { Team: "data-science", Environment: "mine" },
      },
      { ...common, ...existingVpc },
    ],
  ];

  beforeAll(async () => {
    await Promise.all(CASES.map(async ([name, vars, values]) => outcomes.set(name, await evaluatePlan(json, vars, values))));
  }, 60_000);

  test("new VPC, public tasks: public subnets in 2 zones, no NAT gateway, no private subnet, a public IP per task", () => {
    const { counts, values } = outcomes.get("new VPC, public tasks")!;
    expect(counts).toEqual(expect.objectContaining({ ...ALWAYS, ...NEW_PUBLIC_VPC, ...NO_EFS }));
    expect(values).toMatchObject({
      output_assign_public_ip: true,
      output_vpc_id: "<aws_vpc.platform_network_vpc[0].id>",
      output_notebook_subnet_ids: [publicSubnet(0), publicSubnet(1)],
      load_balancer_subnets: [publicSubnet(0), publicSubnet(1)],
      egress_destinations: ["<aws_vpc.platform_network_vpc[0].cidr_block>"],
      container_insights: "disabled",
      access_logs_enabled: false,
      ipv4_sources: ["0.0.0.0/0"],
      ipv6_sources: ["::/0"],
      public_cidr_1: "10.42.16.0/20",
      public_zone_1: "eu-west-1b",
      output_domain: "example.com",
      output_zone_name: "example.com",
      domain_in_zone: true,
      record_name: "_0123abcd.example.com.",
      output_efs_file_system_id: "",
      output_efs_file_system_arn: "",
      output_efs_security_group_id: "",
      output_listener_port: 443,
      output_notebooks_per_load_balancer: 90,
      output_region: "eu-west-1",
    });
    expect(values.default_tags).toEqual({ Environment: "dev", Project: "jupyter-notebooks", ManagedBy: "cdktf", Purpose: "notebook-platform" });
    expect(values.output_load_balancers).toEqual([
      {
        name: "<aws_lb.platform_load_balancer_0_load_balancer.name>",
        arn: "<aws_lb.platform_load_balancer_0_load_balancer.arn>",
        dns_name: "<aws_lb.platform_load_balancer_0_load_balancer.dns_name>",
        zone_id: "<aws_lb.platform_load_balancer_0_load_balancer.zone_id>",
        https_listener_arn: "<aws_lb_listener.platform_load_balancer_0_https_listener.arn>",
        security_group_ids: ["<aws_security_group.platform_load_balancer_security_group.id>"],
      },
    ]);
  });

  test("new VPC, private tasks: private subnets in every zone and one NAT gateway in the first public subnet; efs with a mount target per zone; access logs and insights on", () => {
    const { counts, values } = outcomes.get("new VPC in 3 zones, private tasks, efs, access logs, container insights")!;
    expect(counts).toEqual(
      expect.objectContaining({
        ...ALWAYS,
        ...NEW_PUBLIC_VPC,
        aws_subnet: 6,
        aws_route_table: 2,
        aws_route: 2,
        aws_route_table_association: 6,
        aws_eip: 1,
        aws_nat_gateway: 1,
        aws_efs_file_system: 1,
        aws_efs_mount_target: 3,
        aws_efs_file_system_policy: 1,
        aws_security_group: 2,
      }),
    );
    expect(values).toMatchObject({
      output_assign_public_ip: false,
      output_notebook_subnet_ids: [privateSubnet(0), privateSubnet(1), privateSubnet(2)],
      load_balancer_subnets: [publicSubnet(0), publicSubnet(1), publicSubnet(2)],
      nat_subnet: publicSubnet(0),
      container_insights: "enabled",
      access_logs_enabled: true,
      private_cidr_0: "10.42.128.0/20",
      private_cidr_2: "10.42.160.0/20",
      output_domain: "nb.example.com",
      domain_in_zone: true,
      mount_target_subnet_1: privateSubnet(1),
      mount_target_zones_ok: true,
      output_efs_file_system_id: "<aws_efs_file_system.platform_file_system[0].id>",
      output_efs_file_system_arn: "<aws_efs_file_system.platform_file_system[0].arn>",
      output_efs_security_group_id: "<aws_security_group.platform_file_system_security_group[0].id>",
    });
    expect(JSON.parse(values.efs_policy)).toEqual(readmeFileSystemPolicy());
  });

  test("existing VPC: no network resource at all, its VPC and subnets only looked up; efs mount targets in its notebook subnets", () => {
    const { counts, values } = outcomes.get("existing VPC, public tasks, efs")!;
    expect(counts).toEqual(
      expect.objectContaining({
        ...ALWAYS,
        ...NO_VPC_RESOURCES,
        "data.aws_vpc": 1,
        "data.aws_subnet": 5,
        aws_efs_file_system: 1,
        aws_efs_mount_target: 3,
        aws_efs_file_system_policy: 1,
        aws_security_group: 2,
      }),
    );
    expect(values).toMatchObject({
      output_assign_public_ip: true,
      output_vpc_id: "<data.aws_vpc.platform_network_existing_vpc[0].id>",
      output_notebook_subnet_ids: [0, 1, 2].map((i) => existingSubnet("notebook", i)),
      load_balancer_subnets: [0, 1].map((i) => existingSubnet("load_balancer", i)),
      // Every range of the VPC, its secondary ones too.
      egress_destinations: EXISTING_VPC_CIDRS,
      load_balancer_zones_ok: true,
      // The third notebook subnet is in zone c, where the load balancers are not: refused when planning.
      notebook_zones_ok: false,
      mount_target_subnet_1: existingSubnet("notebook", 1),
      mount_target_zones_ok: true,
      ipv4_sources: ["203.0.113.0/24"],
      ipv6_sources: ["2001:db8::/32"],
      output_domain: "elsewhere.org",
    });
    // A domain outside the zone fails the certificate's precondition when planning.
    expect(values.domain_in_zone).toBe(false);
  });

  test("existing VPC, private tasks: no public IP, no NAT gateway of its own, no file system; the platform's tags win over the vars file's", () => {
    const { counts, values } = outcomes.get("existing VPC, private tasks")!;
    expect(counts).toEqual(expect.objectContaining({ ...ALWAYS, ...NO_VPC_RESOURCES, ...NO_EFS, "data.aws_vpc": 1, "data.aws_subnet": 4 }));
    expect(values.output_assign_public_ip).toBe(false);
    expect(values.notebook_zones_ok).toBe(true);
    expect(values.output_efs_file_system_id).toBe("");
    expect(values.default_tags).toEqual({
      Team: "data-science",
      Environment: "dev",
      Project: "jupyter-notebooks",
      ManagedBy: "cdktf",
      Purpose: "notebook-platform",
    });
  });

  test("counts every resource and data source type of the stack", () => {
    const { counts } = outcomes.get("new VPC, public tasks")!;
    const all = { ...ALWAYS, ...NEW_PUBLIC_VPC, ...NO_EFS, "data.aws_vpc": 0, "data.aws_subnet": 0 };
    expect(Object.keys(counts).sort()).toEqual(Object.keys(all).sort());
  });
});

// --- the variables, evaluated by terraform --------------------------------------------------

/** A valid lower-case domain of exactly `n` characters. */
function domainOfLength(n: number): string {
  return `${"x".repeat(n - 4)}.com`;
}

interface GoodCase {
  name: string;
  vars: Vars;
}

const GOOD: GoodCase[] = [
  { name: "only the required variables", vars: PLATFORM_REQUIRED },
  {
    name: "accelerated capacity of four instance types, private tasks",
    vars: {
      ...PLATFORM_REQUIRED,
      task_network: "private",
      accelerator_instance_types: ["g6.xlarge", "g5.12xlarge", "inf2.xlarge", "trn1.2xlarge"],
      accelerator_volume_gib: 200,
      accelerator_idle_seconds: 0,
    },
  },
  {
    name: "a new VPC in 3 zones with private tasks, efs, access logs, insights, 20 CIDRs, tags",
    vars: {
      ...PLATFORM_REQUIRED,
      profile_name: "platform-admin",
      domain: "notebooks.example.com",
      vpc_cidr: "172.20.0.0/20",
      availability_zones: 3,
      task_network: "private",
      container_insights: true,
      allowed_cidrs: Array.from({ length: MAX_PLATFORM_ALLOWED_CIDRS }, (_, i) => (i % 2 ? `2001:db8:${i}::/48` : `10.${i}.0.0/16`)),
      idle_timeout_seconds: 4000,
      access_logs_bucket: "acme.alb-logs.eu-west-1",
      access_logs_prefix: "notebooks/dev",
      efs: true,
      tags: { Team: "data-science", "cost:center": "cc/1234+x@y=z" },
    },
  },
  {
    name: "an existing VPC with 2 load balancer subnets and 1 notebook subnet",
    vars: { ...PLATFORM_REQUIRED, ...EXISTING_VPC, notebook_subnet_ids: ["subnet-89abcdef"], task_network: "private" },
  },
  { name: `a domain of ${MAX_PLATFORM_DOMAIN_LENGTH} characters`, vars: { ...PLATFORM_REQUIRED, domain: domainOfLength(MAX_PLATFORM_DOMAIN_LENGTH) } },
  { name: "IPv6 CIDRs in upper case and with zero groups written out", vars: { ...PLATFORM_REQUIRED, allowed_cidrs: ["2001:DB8::/32", "2001:db8:0:0::/64"] } },
  { name: "idle timeout of 60 seconds, a /16 VPC", vars: { ...PLATFORM_REQUIRED, idle_timeout_seconds: 60, vpc_cidr: "10.0.0.0/16" } },
  {
    name: "null for optional variables (their defaults apply)",
    vars: {
      ...PLATFORM_REQUIRED,
      profile_name: null,
      domain: null,
      vpc_id: null,
      load_balancer_subnet_ids: null,
      vpc_cidr: null,
      efs: null,
      tags: null,
      allowed_cidrs: null,
    },
  },
];

interface BadCase {
  name: string;
  set: Vars;
  /** The variable the error must name. */
  variable: string;
  /** A fragment of the expected message (white space collapsed). */
  message: string;
  /** @default "Error: Invalid value for variable" */
  error?: string;
}

const BAD: BadCase[] = [
  {
    name: "an unknown accelerated instance type",
    set: { task_network: "private", accelerator_instance_types: ["g6.xlarge", "p5.48xlarge"] },
    variable: "accelerator_instance_types",
    message: 'got ["p5.48xlarge"]',
  },
  {
    name: "an instance type twice",
    set: { task_network: "private", accelerator_instance_types: ["g6.xlarge", "g6.xlarge"] },
    variable: "accelerator_instance_types",
    message: "accelerator_instance_types may list at most 20 distinct instance types",
  },
  {
    name: "accelerated capacity with public task networking",
    set: { accelerator_instance_types: ["g6.xlarge"] },
    variable: "accelerator_instance_types",
    message: "accelerator_instance_types needs task_network 'private': ECS gives no public IP to a notebook on an instance",
  },
  {
    name: "an instance volume of 20 GiB",
    set: { accelerator_volume_gib: 20 },
    variable: "accelerator_volume_gib",
    message: "accelerator_volume_gib must be a whole number of GiB from 30 to 16384, got 20",
  },
  {
    name: "instances kept 2 hours",
    set: { accelerator_idle_seconds: 7200 },
    variable: "accelerator_idle_seconds",
    message: "accelerator_idle_seconds must be a whole number of seconds from 0 to 3600, got 7200",
  },
  { name: 'region "europe"', set: { region: "europe" }, variable: "region", message: "region must be an AWS region such as eu-west-1, got 'europe'" },
  {
    name: "null for a required variable",
    set: { hosted_zone_id: null },
    variable: "hosted_zone_id",
    message: "hosted_zone_id",
    error: "Error: Required variable not set",
  },
  {
    name: "a profile name with a space",
    set: { profile_name: "data science" },
    variable: "profile_name",
    message: "profile_name must be a profile name without white space, or empty for the default credential chain, got 'data science'",
  },
  {
    name: "a lower-case hosted zone id",
    set: { hosted_zone_id: "z0123456789abcdefghij" },
    variable: "hosted_zone_id",
    message: "hosted_zone_id must be a Route 53 zone ID",
  },
  {
    name: 'a hosted zone id with "/hostedzone/"',
    set: { hosted_zone_id: "/hostedzone/Z0123456789ABCDEFGHIJ" },
    variable: "hosted_zone_id",
    message: "got '/hostedzone/Z0123456789ABCDEFGHIJ'",
  },
  {
    name: "a domain with upper case",
    set: { domain: "Notebooks.Example.com" },
    variable: "domain",
    message: "domain must be a lower-case DNS name of at most 62 characters",
  },
  { name: "a domain with a trailing dot", set: { domain: "notebooks.example.com." }, variable: "domain", message: "got 'notebooks.example.com.'" },
  {
    name: "a domain with a scheme",
    set: { domain: "https://notebooks.example.com" },
    variable: "domain",
    message: "without scheme, path, port or trailing dot",
  },
  {
    name: `a domain of ${MAX_PLATFORM_DOMAIN_LENGTH + 1} characters`,
    set: { domain: domainOfLength(MAX_PLATFORM_DOMAIN_LENGTH + 1) },
    variable: "domain",
    message: "(the certificate's name *.<domain> may have 64)",
  },
  { name: "a domain whose last label has a digit", set: { domain: "notebooks.example.c0m" }, variable: "domain", message: "whose last label is letters only" },
  {
    name: "a malformed vpc id",
    set: { vpc_id: "vpc-123" },
    variable: "vpc_id",
    message: "vpc_id must look like vpc-0123456789abcdef0 (8 or 17 hex digits) or be empty for a new VPC, got 'vpc-123'",
  },
  {
    name: "an existing VPC without load balancer subnets",
    set: { vpc_id: EXISTING_VPC.vpc_id, notebook_subnet_ids: EXISTING_VPC.notebook_subnet_ids },
    variable: "load_balancer_subnet_ids",
    message: "load_balancer_subnet_ids must list 2 to 16 distinct public subnets of vpc_id when vpc_id is set, got []",
  },
  {
    name: "an existing VPC with one load balancer subnet",
    set: { ...EXISTING_VPC, load_balancer_subnet_ids: ["subnet-0123456789abcdef0"] },
    variable: "load_balancer_subnet_ids",
    message: 'load_balancer_subnet_ids must list 2 to 16 distinct public subnets of vpc_id when vpc_id is set, got ["subnet-0123456789abcdef0"]',
  },
  {
    name: "the same load balancer subnet twice",
    set: { ...EXISTING_VPC, load_balancer_subnet_ids: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef0"] },
    variable: "load_balancer_subnet_ids",
    message: "must list 2 to 16 distinct public subnets",
  },
  {
    name: "an existing VPC without notebook subnets",
    set: { vpc_id: EXISTING_VPC.vpc_id, load_balancer_subnet_ids: EXISTING_VPC.load_balancer_subnet_ids },
    variable: "notebook_subnet_ids",
    message: "notebook_subnet_ids must list 1 to 16 distinct subnets of vpc_id when vpc_id is set, got []",
  },
  {
    name: "17 notebook subnets",
    set: { ...EXISTING_VPC, notebook_subnet_ids: Array.from({ length: 17 }, (_, i) => `subnet-${String(i).padStart(8, "0")}`) },
    variable: "notebook_subnet_ids",
    message: "notebook_subnet_ids must list 1 to 16 distinct subnets of vpc_id when vpc_id is set",
  },
  {
    name: "load balancer subnets without vpc_id",
    set: { load_balancer_subnet_ids: EXISTING_VPC.load_balancer_subnet_ids },
    variable: "load_balancer_subnet_ids",
    message: "load_balancer_subnet_ids must be empty when vpc_id is empty (a new VPC gets subnets of its own)",
  },
  {
    name: "notebook subnets without vpc_id",
    set: { notebook_subnet_ids: ["subnet-89abcdef"] },
    variable: "notebook_subnet_ids",
    message: 'notebook_subnet_ids must be empty when vpc_id is empty (a new VPC gets subnets of its own), got ["subnet-89abcdef"]',
  },
  {
    name: "a malformed subnet id",
    set: { ...EXISTING_VPC, notebook_subnet_ids: ["subnet-89abcdef", "subnet-xyz"] },
    variable: "notebook_subnet_ids",
    message: 'notebook_subnet_ids must hold subnet IDs like subnet-0123456789abcdef0 (8 or 17 hex digits), got ["subnet-xyz"]',
  },
  // /21 would make subnets of /25: too small for several load balancers and public notebooks.
  ...["10.0.0.0/8", "10.0.0.0/21", "10.0.0.0/24", "10.42.0.1/16", "fd00::/48", "10.42.0.0", "ten.42.0.0/16"].map((cidr) => ({
    name: `vpc_cidr ${cidr}`,
    set: { vpc_cidr: cidr },
    variable: "vpc_cidr",
    message: `vpc_cidr must be an IPv4 network from /16 to /20 in CIDR notation without host bits, e.g. 10.42.0.0/16 (its subnets are sixteenths of it, and load balancers and public notebooks take addresses in them), got '${cidr}'`,
  })),
  ...[1, 4, 2.5].map((n) => ({
    name: `availability_zones ${n}`,
    set: { availability_zones: n },
    variable: "availability_zones",
    message: `availability_zones must be 2 or 3, got ${n}`,
  })),
  { name: 'task_network "nat"', set: { task_network: "nat" }, variable: "task_network", message: "task_network must be 'public' or 'private', got 'nat'" },
  {
    name: "no allowed CIDRs",
    set: { allowed_cidrs: [] },
    variable: "allowed_cidrs",
    message: `allowed_cidrs must list 1 to ${MAX_PLATFORM_ALLOWED_CIDRS} CIDRs (each takes two of the security group's 60 inbound rules), got 0`,
  },
  {
    name: `${MAX_PLATFORM_ALLOWED_CIDRS + 1} allowed CIDRs`,
    set: { allowed_cidrs: Array.from({ length: MAX_PLATFORM_ALLOWED_CIDRS + 1 }, (_, i) => `10.${i}.0.0/16`) },
    variable: "allowed_cidrs",
    message: `got ${MAX_PLATFORM_ALLOWED_CIDRS + 1}`,
  },
  { name: "an IPv4 CIDR with host bits", set: { allowed_cidrs: ["10.0.0.1/8"] }, variable: "allowed_cidrs", message: 'no host bits set), got ["10.0.0.1/8"]' },
  {
    name: "an IPv4-mapped IPv6 block (Terraform would make it 0.0.0.0/0)",
    set: { allowed_cidrs: ["::ffff:0:0/96"] },
    variable: "allowed_cidrs",
    message: 'got ["::ffff:0:0/96"]',
  },
  ...[59, 4001, 100.5].map((s) => ({
    name: `idle_timeout_seconds ${s}`,
    set: { idle_timeout_seconds: s },
    variable: "idle_timeout_seconds",
    message: `idle_timeout_seconds must be a whole number of seconds from 60 to 4000, got ${s}`,
  })),
  ...["My_Bucket", "acme..logs", "arn:aws:s3:::acme-logs", "ab"].map((bucket) => ({
    name: `access_logs_bucket ${bucket}`,
    set: { access_logs_bucket: bucket },
    variable: "access_logs_bucket",
    message: `access_logs_bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit, no '..'; not an ARN or s3:// URL), or empty for no access logs, got '${bucket}'`,
  })),
  ...["/notebooks", "notebooks/", "logs/AWSLogs", "note books"].map((prefix) => ({
    name: `access_logs_prefix "${prefix}"`,
    set: { access_logs_bucket: "acme-alb-logs", access_logs_prefix: prefix },
    variable: "access_logs_prefix",
    message: `access_logs_prefix must be at most 200 letters, digits and ! _ . * ' ( ) / -, neither starting nor ending with '/' and without 'AWSLogs' (the load balancer adds it), got '${prefix}'`,
  })),
  {
    name: "an access logs prefix without a bucket",
    set: { access_logs_prefix: "notebooks" },
    variable: "access_logs_prefix",
    message: "access_logs_prefix is set to 'notebooks' but access_logs_bucket is empty",
  },
  {
    name: "a tag whose value is null",
    set: { tags: { Team: null } },
    variable: "tags",
    message: "tags must give every tag a string value (an empty one is allowed), but the value of 'Team' is null.",
  },
  {
    name: 'a tag key starting with "aws:"',
    set: { tags: { "aws:foo": "bar" } },
    variable: "tags",
    message: "tags must have keys of 1-128 characters not starting with 'aws:' and values of at most 256 characters, got [\"aws:foo\"]",
  },
  {
    name: "a tag key with a character AWS refuses",
    set: { tags: { "a#b": "x" } },
    variable: "tags",
    message: 'tags may only use letters, digits, spaces and _ . : / = + - @ in keys and values, got ["a#b"]',
  },
  {
    name: "41 tags",
    set: { tags: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`t${i}`, "x"])) },
    variable: "tags",
    message: "tags may hold at most 40 entries",
  },
];

describeWithTerraform("platform stack variables evaluated by terraform", () => {
  let dir: string | undefined;
  const results = new Map<string, TerraformResult>();

  beforeAll(async () => {
    dir = await initVariablesDir(synthPlatform().json);
    const planDir = dir;
    const cases: Array<[string, Vars]> = [
      ...GOOD.map((c): [string, Vars] => [`good: ${c.name}`, c.vars]),
      ...BAD.map((c): [string, Vars] => [`bad: ${c.name}`, { ...PLATFORM_REQUIRED, ...c.set }]),
    ];
    const example = fs.readFileSync(path.join(ROOT, "examples", "platform.example.tfvars"), "utf8");
    await Promise.all([
      ...cases.map(async ([key, vars]) => results.set(key, await planVars(planDir, tfvars(vars)))),
      planVars(planDir, example).then((r) => results.set("example", r)),
    ]);
  }, 120_000);

  afterAll(() => removeDir(dir));

  test("accepts the example vars file as it is shipped, which sets every variable", () => {
    const result = results.get("example")!;
    expect(result.output).not.toContain("Error:");
    expect(result.output).not.toContain("undeclared variable");
    expect(result.code).toBe(0);
    const example = fs.readFileSync(path.join(ROOT, "examples", "platform.example.tfvars"), "utf8");
    for (const name of VARIABLES) expect({ name, set: new RegExp(`^${name}\\s+=`, "m").test(example) }).toEqual({ name, set: true });
  });

  describeVarsCases(results, GOOD, BAD, "fails when ");

  test("covers every variable with a validation rule in a bad case", () => {
    const validated = VARIABLES.filter((name) => (synthPlatform().json.variable[name].validation ?? []).length > 0);
    const covered = new Set(BAD.map((c) => c.variable));
    expect(validated.filter((name) => !covered.has(name))).toEqual([]);
  });
});

// --- the whole configuration, checked by terraform init ---------------------------------------

/** A stack that uses the platform module with literal props, as a library user would. */
function libraryStack(props: Partial<PlatformProps>): string {
  const stack = new TerraformStack(Testing.app(), "library");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  new Platform(stack, "platform", { environment: "dev", loadBalancers: 1, hostedZoneId: "Z0123456789ABCDEFGHIJ", ...props });
  return Testing.synth(stack);
}

describeWithTerraform("the whole platform configuration, checked by terraform init", () => {
  const VARIANTS: Array<[string, () => string]> = [
    ["the platform stack with 1 load balancer", () => synthPlatform().text],
    ["the platform stack with 3 load balancers", () => synthPlatform({ loadBalancers: 3 }).text],
    ["the module: new VPC, public tasks", () => libraryStack({})],
    [
      "the module: new VPC, private tasks, efs and access logs",
      () =>
        libraryStack({
          taskNetwork: "private",
          availabilityZones: 3,
          efs: true,
          accessLogsBucket: "acme-alb-logs",
          accessLogsPrefix: "dev",
          containerInsights: true,
          domain: "nb.example.com",
        }),
    ],
    [
      "the module: existing VPC with efs",
      () =>
        libraryStack({
          vpcId: EXISTING_VPC.vpc_id as string,
          loadBalancerSubnetIds: EXISTING_VPC.load_balancer_subnet_ids as string[],
          notebookSubnetIds: EXISTING_VPC.notebook_subnet_ids as string[],
          efs: true,
          allowedCidrs: ["203.0.113.0/24"],
        }),
    ],
  ];

  test("fails only on the provider download, for every variant", async () => {
    const outcomes = await Promise.all(
      VARIANTS.map(async ([name, synth]) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-whole-"));
        try {
          fs.writeFileSync(path.join(dir, "cdk.tf.json"), synth());
          const { result, errors } = await initOffline(dir);
          const other = errors.filter((e) => e !== PROVIDER_DOWNLOAD_ERROR);
          return { name, reachedProviders: errors.includes(PROVIDER_DOWNLOAD_ERROR), other, output: other.length > 0 ? result.output : "" };
        } finally {
          removeDir(dir);
        }
      }),
    );
    for (const outcome of outcomes) expect(outcome).toEqual({ name: outcome.name, reachedProviders: true, other: [], output: "" });
  }, 60_000);

  test("the check sees an invalid configuration (a precondition on constants)", async () => {
    // GIVEN the platform stack with a precondition that refers to nothing
    const json = synthPlatform().json;
    const certificate = Object.values<any>(json.resource.aws_acm_certificate)[0];
    certificate.lifecycle.precondition.push({ condition: '${length("") < 1}', error_message: "constant." });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-broken-"));
    try {
      fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(json));
      // WHEN init runs on it THEN it reports that error
      const { errors } = await initOffline(dir);
      expect(errors).toContain("Invalid precondition expression");
    } finally {
      removeDir(dir);
    }
  }, 60_000);
});
