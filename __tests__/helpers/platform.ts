import { TerraformElement, Testing } from "cdktf";
import { PlatformStack } from "../../stacks/platform-stack";
import { PlatformStackSpec } from "../../stacks/stack-specs";
import { evaluateExpressions, tfvars } from "./terraform";
import { Vars } from "./vars";

/** Synthesizes the platform stack and finds its resources by type and role (the construct they belong to). */

export const PLATFORM_SPEC: PlatformStackSpec = {
  stackId: "platform-dev",
  environment: "dev",
  backend: { type: "s3", bucket: "acme-nb-state", region: "eu-west-1", key: "jupyter-notebooks/_platform/dev/terraform.tfstate" },
  loadBalancers: 1,
  notebooksPerLoadBalancer: 90,
};

/** The variables a platform vars file must set. */
export const PLATFORM_REQUIRED: Vars = { region: "eu-west-1", hosted_zone_id: "Z0123456789ABCDEFGHIJ" };

export interface SynthesizedPlatform {
  stack: PlatformStack;
  json: any;
  text: string;
}

/** The platform stack of PLATFORM_SPEC with `changes`, synthesized. */
export function synthPlatform(changes: Partial<PlatformStackSpec> = {}): SynthesizedPlatform {
  const stack = new PlatformStack(Testing.app(), { ...PLATFORM_SPEC, ...changes });
  const text = Testing.synth(stack);
  return { stack, json: JSON.parse(text), text };
}

/** Every resource of a type, by logical id. */
export function resourcesOf(json: any, type: string): Record<string, any> {
  return json.resource?.[type] ?? {};
}

export function dataOf(json: any, type: string): Record<string, any> {
  return json.data?.[type] ?? {};
}

/** The synthesized block of a resource or data source of the stack, found through its construct. */
export function blockOf(json: any, element: TerraformElement & { terraformResourceType: string }, kind: "resource" | "data" = "resource"): any {
  const block = json[kind]?.[element.terraformResourceType]?.[element.friendlyUniqueId];
  if (!block) throw new Error(`no ${kind} ${element.terraformResourceType}.${element.friendlyUniqueId}`);
  return block;
}

/**
 * A value of the synthesized JSON as one HCL expression: `"${expr}"` is `expr`, another
 * string a template, lists and objects element by element.
 */
export function asExpression(value: unknown): string {
  if (typeof value === "string") {
    const whole = /^\$\{([\s\S]*)\}$/.exec(value);
    if (whole && !whole[1].includes("${")) return whole[1];
    return JSON.stringify(value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map(asExpression).join(", ")}]`;
  if (typeof value === "object") return `{ ${Object.entries(value as object).map(([k, v]) => `${JSON.stringify(k)} = ${asExpression(v)}`).join(", ")} }`;
  throw new Error(`no expression for ${String(value)}`);
}

/** What AWS would tell Terraform about the zone, the certificate, an existing VPC and the region's zones. */
export const ZONE_NAME = "example.com.";
export const EXISTING_VPC_CIDRS = ["10.99.0.0/16", "10.100.0.0/16"];
export const REGION_ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
const CERTIFICATE_VALIDATION_OPTIONS =
  'toset([{ domain_name = "*.example.com", resource_record_name = "_0123abcd.example.com.", resource_record_type = "CNAME", resource_record_value = "_4567ef.acm-validations.aws." }])';

const REFERENCE = /\b((?:data\.)?aws_[a-z0-9_]+)\.([A-Za-z0-9_]+?)_[0-9A-F]{8}(\[\*\])?\.([a-z_0-9]+)/g;

/**
 * Replaces every reference to a resource or data source by what it would hold: a readable
 * placeholder naming it without the hash (`"<aws_subnet.platform_network_public_subnet[1].id>"`),
 * a splat by one per instance (`instances` says how many), and the few attributes whose
 * shape matters by stand-ins (zone name, validation options, VPC ranges, zone names, the
 * zones of existing subnets).
 */
export function withPlaceholders(expression: string, instances: Record<string, number>): string {
  return expression.replace(REFERENCE, (match, type: string, name: string, splat: string | undefined, attribute: string) => {
    const address = match.slice(0, match.length - (splat ?? "").length - attribute.length - 1);
    const readable = `${type}.${name}`;
    if (!splat) {
      if (type === "data.aws_route53_zone" && attribute === "name") return JSON.stringify(ZONE_NAME);
      if (type === "aws_acm_certificate" && attribute === "domain_validation_options") return CERTIFICATE_VALIDATION_OPTIONS;
      return JSON.stringify(`<${readable}.${attribute}>`);
    }
    const n = instances[address];
    if (n === undefined) throw new Error(`no count known for ${address}`);
    const each = (i: number) => {
      if (attribute === "cidr_block_associations") return `[${EXISTING_VPC_CIDRS.map((c) => `{ cidr_block = "${c}" }`).join(", ")}]`;
      if (attribute === "names") return JSON.stringify(REGION_ZONES);
      // An existing subnet i lies in the region's zone i (of three): 2 load balancer subnets
      // span zones a and b, 3 notebook subnets a, b and c.
      if (type === "data.aws_subnet" && attribute === "availability_zone") return JSON.stringify(REGION_ZONES[i % REGION_ZONES.length]);
      return JSON.stringify(`<${readable}[${i}].${attribute}>`);
    };
    return `[${Array.from({ length: n }, (_, i) => each(i)).join(", ")}]`;
  });
}

/**
 * Evaluates, with the real terraform and a vars file, the `count` of every resource and data
 * source of the synthesized stack (each depends on variables only); then `extra` values of
 * the stack (expressions, or outputs' values), references replaced by withPlaceholders with
 * those counts. Returns instances per type (`aws_subnet`, `data.aws_subnet`; one without
 * count) and per address, and the values of `extra`.
 */
export async function evaluatePlan(
  json: any,
  vars: Vars,
  extra: Record<string, unknown> = {},
): Promise<{ counts: Record<string, number>; instances: Record<string, number>; values: Record<string, any> }> {
  const countExpressions: Record<string, string> = {};
  const addressOf: Record<string, string> = {};
  const instances: Record<string, number> = {};
  let n = 0;
  for (const kind of ["resource", "data"] as const) {
    for (const [type, blocks] of Object.entries<Record<string, any>>(json[kind] ?? {})) {
      for (const [id, block] of Object.entries(blocks)) {
        const address = `${kind === "data" ? "data." : ""}${type}.${id}`;
        // for_each over a list: as many instances as it has elements.
        const count = block.for_each !== undefined ? `\${length(${String(block.for_each).slice(2, -1)})}` : block.count;
        if (count === undefined) instances[address] = 1;
        else if (typeof count === "number") instances[address] = count;
        else {
          const key = `count_${n++}`;
          countExpressions[key] = count;
          addressOf[key] = address;
        }
      }
    }
  }
  const varsText = tfvars(vars);
  const evaluatedCounts = await evaluateExpressions(countExpressions, { variables: json.variable, varsText });
  for (const [key, address] of Object.entries(addressOf)) instances[address] = Number(evaluatedCounts[key]);
  const counts: Record<string, number> = {};
  for (const [address, count] of Object.entries(instances)) {
    const type = address.slice(0, address.lastIndexOf("."));
    counts[type] = (counts[type] ?? 0) + count;
  }
  const expressions = Object.fromEntries(Object.entries(extra).map(([key, value]) => [`extra_${key}`, `\${${withPlaceholders(asExpression(value), instances)}}`]));
  const evaluated = Object.keys(expressions).length > 0 ? await evaluateExpressions(expressions, { variables: json.variable, varsText }) : {};
  const values = Object.fromEntries(Object.keys(extra).map((key) => [key, evaluated[`extra_${key}`]]));
  return { counts, instances, values };
}
