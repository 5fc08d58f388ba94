import { Construct } from "constructs";
import { NETWORK_ADDRESS, NOTEBOOK_DOMAIN_RE, SUBNET_RE, VPC_RE, ZONE_RE } from "./patterns";
import { acceleratorCapacityVariables } from "./accelerator-variables";
import { profileNameVariable, regionVariable, tagsVariable } from "./variables";
import { oneOfRule, patternRule, re, variable, wholeNumberRule } from "./variable-rules";

/**
 * The platform stack's Terraform variables (`platform-<env>`). Each is validated by
 * Terraform before any AWS call; every message names the variable, quotes the value
 * received and says what is allowed. What can only be checked against AWS (the zone is
 * public, existing subnets belong to vpc_id and lie in different zones, the domain is in
 * the zone) is checked by preconditions of the modules/platform data sources and resources.
 */

/** An S3 bucket name (general purpose bucket): 3-63 characters, no "..", checked apart. */
const BUCKET_RE = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
/** Characters of an S3 key prefix that need no escaping. */
const PREFIX_RE = "^[A-Za-z0-9!_.*'()/-]*$";

/**
 * Longest domain: the certificate is for `*.<domain>`, and ACM takes at most 64 characters
 * in a certificate's first name (its common name, RFC 5280).
 */
export const MAX_PLATFORM_DOMAIN_LENGTH = 64 - "*.".length;
/**
 * Most allowed CIDRs: each is a rule for 443 and one for 80 in the load balancers' security
 * group, which holds 60 inbound rules per address family by default.
 */
export const MAX_PLATFORM_ALLOWED_CIDRS = 20;
/** Most subnets given for the load balancers or the notebooks. */
export const MAX_SUBNETS = 16;



/**
 * Smallest new VPC: its subnets are sixteenths of it, so /20 gives subnets of /24 (251
 * usable addresses). Each load balancer takes up to 8 addresses in every subnet of its own
 * (and needs at least a /27), and public notebooks one each in theirs.
 */
export const MAX_VPC_PREFIX = 20;
/** HCL: var.vpc_cidr is an IPv4 network from /16 to /MAX_VPC_PREFIX without host bits. */
const VPC_CIDR_OK =
  'can(cidrhost(var.vpc_cidr, 0)) && !strcontains(var.vpc_cidr, ":") && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && ' +
  `tonumber(split("/", var.vpc_cidr)[1]) <= ${MAX_VPC_PREFIX} && cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0], false)`;


/** The rules of a list of subnets of vpc_id: IDs, empty without vpc_id, `min` to MAX_SUBNETS distinct ones with it. */
function subnetListRules(name: string, min: number, what: string) {
  const v = `var.${name}`;
  return [
    {
      condition: `\${alltrue([for s in ${v} : can(regex(${re(SUBNET_RE)}, s))])}`,
      errorMessage: `${name} must hold subnet IDs like subnet-0123456789abcdef0 (8 or 17 hex digits), got \${jsonencode([for s in ${v} : s if !can(regex(${re(SUBNET_RE)}, s))])}.`,
    },
    {
      condition: `\${var.vpc_id != "" || length(${v}) == 0}`,
      errorMessage: `${name} must be empty when vpc_id is empty (a new VPC gets subnets of its own), got \${jsonencode(${v})}.`,
    },
    {
      condition: `\${var.vpc_id == "" || (length(${v}) >= ${min} && length(${v}) <= ${MAX_SUBNETS} && length(distinct(${v})) == length(${v}))}`,
      errorMessage: `${name} must list ${min} to ${MAX_SUBNETS} distinct ${what} of vpc_id when vpc_id is set, got \${jsonencode(${v})}.`,
    },
  ];
}

/**
 * Declares the platform stack's variables directly on `stack`, so their names carry no
 * hash suffix. The type of the whole comes from these declarations.
 */
export function declarePlatformVariables(stack: Construct) {
  return {
    region: regionVariable(stack, "AWS region of the platform, e.g. eu-west-1."),
    profileName: profileNameVariable(stack),
    hostedZoneId: variable(stack, "hosted_zone_id", {
      type: "string",
      description: "ID of the team's public Route 53 hosted zone, e.g. Z0123456789ABCDEFGHIJ; only records are added to it.",
      validation: [patternRule("hosted_zone_id", ZONE_RE, "must be a Route 53 zone ID: 'Z' followed by upper-case letters and digits, without '/hostedzone/'")],
    }),
    domain: variable(stack, "domain", {
      type: "string",
      default: "",
      description: `Domain of the notebook hostnames, <prefix>-<suffix>.<domain>, and of the certificate *.<domain>: the zone's name or a name under it, at most ${MAX_PLATFORM_DOMAIN_LENGTH} characters; empty uses the zone's name.`,
      validation: [
        {
          condition: `\${var.domain == "" || (length(var.domain) <= ${MAX_PLATFORM_DOMAIN_LENGTH} && can(regex(${re(NOTEBOOK_DOMAIN_RE)}, var.domain)))}`,
          errorMessage: `domain must be a lower-case DNS name of at most ${MAX_PLATFORM_DOMAIN_LENGTH} characters (the certificate's name *.<domain> may have 64) whose last label is letters only, without scheme, path, port or trailing dot, e.g. notebooks.example.com, or empty for the zone's name, got '\${var.domain}'.`,
        },
      ],
    }),
    vpcId: variable(stack, "vpc_id", {
      type: "string",
      default: "",
      description: "Existing VPC to use, with load_balancer_subnet_ids and notebook_subnet_ids; empty creates a new VPC.",
      validation: [patternRule("vpc_id", VPC_RE, "must look like vpc-0123456789abcdef0 (8 or 17 hex digits) or be empty for a new VPC", { optional: true })],
    }),
    loadBalancerSubnetIds: variable(stack, "load_balancer_subnet_ids", {
      type: "list(string)",
      default: [],
      description: `Public subnets of vpc_id for the load balancers, 2 to ${MAX_SUBNETS} in different Availability Zones; required with vpc_id, empty without.`,
      validation: subnetListRules("load_balancer_subnet_ids", 2, "public subnets"),
    }),
    notebookSubnetIds: variable(stack, "notebook_subnet_ids", {
      type: "list(string)",
      default: [],
      description: `Subnets of vpc_id the notebooks run in, 1 to ${MAX_SUBNETS} (in different Availability Zones with efs); required with vpc_id, empty without.`,
      validation: subnetListRules("notebook_subnet_ids", 1, "subnets"),
    }),
    vpcCidr: variable(stack, "vpc_cidr", {
      type: "string",
      default: "10.42.0.0/16",
      description: `IPv4 range of a new VPC, /16 to /${MAX_VPC_PREFIX}; its subnets are sixteenths of it. Ignored with vpc_id.`,
      validation: [
        {
          condition: `\${${VPC_CIDR_OK}}`,
          errorMessage: `vpc_cidr must be an IPv4 network from /16 to /${MAX_VPC_PREFIX} in CIDR notation without host bits, e.g. 10.42.0.0/16 (its subnets are sixteenths of it, and load balancers and public notebooks take addresses in them), got '\${var.vpc_cidr}'.`,
        },
      ],
    }),
    availabilityZones: variable(stack, "availability_zones", {
      type: "number",
      default: 2,
      description: "Availability Zones a new VPC spans (the region's first ones), 2 or 3. Ignored with vpc_id.",
      validation: [oneOfRule("availability_zones", [2, 3], "2 or 3")],
    }),
    taskNetwork: variable(stack, "task_network", {
      type: "string",
      default: "public",
      description:
        "public: notebooks get a public IP each (in a new VPC's public subnets, no NAT gateway); private: no public IP (a new VPC gets private subnets and one NAT gateway; an existing VPC's notebook subnets need their own NAT).",
      validation: [oneOfRule("task_network", ["public", "private"], "'public' or 'private'")],
    }),
    containerInsights: variable(stack, "container_insights", {
      type: "bool",
      default: false,
      description: "Turn on CloudWatch Container Insights for the cluster (billed per metric).",
    }),
    allowedCidrs: variable(stack, "allowed_cidrs", {
      type: "list(string)",
      default: ["0.0.0.0/0", "::/0"],
      description: `Source CIDRs (IPv4 or IPv6) the load balancers admit on ports 443 and 80, 1 to ${MAX_PLATFORM_ALLOWED_CIDRS} entries.`,
      validation: [
        {
          condition: `\${length(var.allowed_cidrs) >= 1 && length(var.allowed_cidrs) <= ${MAX_PLATFORM_ALLOWED_CIDRS}}`,
          errorMessage: `allowed_cidrs must list 1 to ${MAX_PLATFORM_ALLOWED_CIDRS} CIDRs (each takes two of the security group's 60 inbound rules), got \${length(var.allowed_cidrs)}.`,
        },
        {
          condition: `\${alltrue([for c in var.allowed_cidrs : ${NETWORK_ADDRESS}])}`,
          errorMessage: `allowed_cidrs must hold network addresses in CIDR notation such as 203.0.113.0/24 or 2001:db8::/32 (no host bits set), got \${jsonencode([for c in var.allowed_cidrs : c if !(${NETWORK_ADDRESS})])}.`,
        },
      ],
    }),
    idleTimeoutSeconds: variable(stack, "idle_timeout_seconds", {
      type: "number",
      default: 3600,
      description: "Seconds a load balancer keeps an idle connection open, 60 to 4000: Jupyter's kernels and terminals use websockets that are quiet between messages.",
      validation: [wholeNumberRule("idle_timeout_seconds", 60, 4000, { unit: "of seconds" })],
    }),
    accessLogsBucket: variable(stack, "access_logs_bucket", {
      type: "string",
      default: "",
      description: "S3 bucket (same region, SSE-S3 encrypted, writable by the load balancers) for their access logs; empty: no access logs.",
      validation: [
        {
          condition: `\${var.access_logs_bucket == "" || (can(regex(${re(BUCKET_RE)}, var.access_logs_bucket)) && !strcontains(var.access_logs_bucket, ".."))}`,
          errorMessage:
            "access_logs_bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, '.' or '-', starting and ending with a letter or digit, no '..'; not an ARN or s3:// URL), or empty for no access logs, got '${var.access_logs_bucket}'.",
        },
      ],
    }),
    accessLogsPrefix: variable(stack, "access_logs_prefix", {
      type: "string",
      default: "",
      description: "Prefix of the access logs in access_logs_bucket, without leading or trailing '/'; empty: the bucket's root.",
      validation: [
        {
          condition: `\${var.access_logs_prefix == "" || (length(var.access_logs_prefix) <= 200 && can(regex(${re(PREFIX_RE)}, var.access_logs_prefix)) && !startswith(var.access_logs_prefix, "/") && !endswith(var.access_logs_prefix, "/") && !strcontains(var.access_logs_prefix, "AWSLogs"))}`,
          errorMessage:
            "access_logs_prefix must be at most 200 letters, digits and ! _ . * ' ( ) / -, neither starting nor ending with '/' and without 'AWSLogs' (the load balancer adds it), got '${var.access_logs_prefix}'.",
        },
        {
          condition: '${var.access_logs_prefix == "" || var.access_logs_bucket != ""}',
          errorMessage: "access_logs_prefix is set to '${var.access_logs_prefix}' but access_logs_bucket is empty: set the bucket too, or leave the prefix empty.",
        },
      ],
    }),
    efs: variable(stack, "efs", {
      type: "bool",
      default: false,
      description: "Create an encrypted EFS file system for persistent notebook homes, with a mount target in each notebook subnet.",
    }),
    ...acceleratorCapacityVariables(stack, [
      {
        // Tasks on instances get no public IP: they reach the internet and AWS only through NAT.
        condition: '${length(var.accelerator_instance_types) == 0 || var.task_network == "private"}',
        errorMessage:
          "accelerator_instance_types needs task_network 'private': ECS gives no public IP to a notebook on an instance, so it reaches AWS (idle stop) and the internet only through a NAT gateway; got task_network '${var.task_network}'.",
      },
    ]),
    tags: tagsVariable(stack, "Environment, Project, ManagedBy and Purpose", "this stack"),
  };
}

/** The platform stack's variables, by camel-case name. */
export type PlatformVariables = ReturnType<typeof declarePlatformVariables>;
