import { Construct } from "constructs";
import { TerraformResource, TerraformStack, TerraformVariable } from "cdktf";
import { address } from "../modules/expressions";
import {
  IMAGE_RE,
  LABEL,
  LOG_RETENTION_DAYS,
  MAX_IMAGE_LENGTH,
  NETWORK_ADDRESS,
  NOTEBOOK_DOMAIN_RE,
  REGION_RE,
  SUBNET_RE,
  TAG_RE,
  VPC_RE,
  ZONE_RE,
} from "./patterns";
import { oneOfRule, patternRule, re, shown, variable, wholeNumberRule } from "./variable-rules";
import { CapacitySource, computeVariables } from "./compute-variables";
import { DEFAULT_IMAGE, NEURON_IMAGE, NEURON_IMAGE_TAG, NVIDIA_IMAGE, NVIDIA_TAG_PREFIX } from "../modules/accelerators/images";
import {
  HOSTNAME_PREFIX_PATTERN,
  MAX_HOSTNAME_LENGTH,
  MAX_HOSTNAME_PREFIX_LENGTH,
  MAX_TOKEN_LENGTH,
  MIN_TOKEN_LENGTH,
  SUFFIX_LENGTH,
  TOKEN_CHARACTERS,
} from "../modules/notebook";

/**
 * The notebook stack's Terraform variables. Names, types and meaning of the first twelve
 * are those of the team's old Terraform configuration, so its vars files work unchanged.
 * Each is validated by Terraform before any AWS call; every message names the variable,
 * the value received and what is allowed. The sensitive ones are checked by preconditions
 * instead (secretChecks), because Terraform prints the value of a variable it rejects.
 */

const ALB_ARN_RE = "^arn:aws(-[a-z]+)*:elasticloadbalancing:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:loadbalancer/app/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$";
const DOMAIN_RE = `^(${LABEL}\\.)*${LABEL}$`;
/** Characters AWS accepts in tag keys and values. */
const TAG_CHARS_RE = "^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$";
const EFS_RE = "^fs-([0-9a-f]{8}|[0-9a-f]{17})$";
const SG_RE = "^sg-([0-9a-f]{8}|[0-9a-f]{17})$";
const COGNITO_POOL_RE = "^arn:aws(-[a-z]+)*:cognito-idp:[a-z]{2,4}(-[a-z]+)+-[0-9]+:[0-9]{12}:userpool/[a-z]{2,4}(-[a-z]+)+-[0-9]+_[A-Za-z0-9]+$";
/** https, a host (and port), a path; no user name or password, query or fragment. */
const HTTPS_URL_RE = "^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$";
const POLICY_ARN_RE = "^arn:aws(-[a-z]+)*:iam::(aws|[0-9]{12}):policy/[A-Za-z0-9+=,.@_/-]{1,512}$";
/** Longest domain that leaves room for `<prefix>-<suffix>.` with a one-character prefix. */
export const MAX_DOMAIN_LENGTH = MAX_HOSTNAME_LENGTH - (1 + 1 + SUFFIX_LENGTH + 1);
/** Condition values of a listener rule are capped at 5; the host header takes one. */
export const MAX_ALLOWED_CIDRS = 4;

/** HCL: the tags with a value (a null one has its own rule: functions fail on null). */
const SET_TAGS = "{ for k, v in var.tags : k => v if v != null }";
const TAG_SIZES = 'length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")';
const TAG_CHARS = `can(regex(${re(TAG_CHARS_RE)}, k)) && can(regex(${re(TAG_CHARS_RE)}, v))`;

/**
 * Declares the notebook stack's variables directly on `stack`, so their names carry no hash
 * suffix; `environment` is the stack's environment, which a vars file may name to guard
 * itself. One function per README section declares its variables; the type of the whole
 * comes from those declarations, so no variable is listed twice.
 */
export function declareNotebookVariables(stack: Construct, environment: string, capacity: AcceleratorCapacityOption) {
  return {
    ...commonVariables(stack, environment, capacity),
    ...ownPlatformVariables(stack),
    ...persistentHomeVariables(stack),
  };
}

/** The notebook stack's variables, by camel-case name (`fargate_subnets` is `fargateSubnets`). */
export type NotebookVariables = ReturnType<typeof declareNotebookVariables>;

/**
 * The variables of a notebook stack in an environment with a platform stack: the platform's
 * cluster, network, load balancer, zone, domain and EFS come from that stack's state, so the
 * variables naming them are not declared (a vars file that still sets one is refused, with
 * the stack's name, before Terraform runs).
 */
export function declarePlatformNotebookVariables(stack: Construct, environment: string, capacity: AcceleratorCapacityOption) {
  return commonVariables(stack, environment, capacity);
}

export type PlatformNotebookVariables = ReturnType<typeof declarePlatformNotebookVariables>;

/**
 * The environment's accelerated capacity: the stack that offers it, or (`source` undefined)
 * how an administrator adds some, for the message that refuses an accelerator without it.
 */
export interface AcceleratorCapacityOption {
  readonly source?: CapacitySource;
  readonly noCapacityHint: string;
}

/** The variables of every notebook stack, whichever platform it runs on. */
function commonVariables(stack: Construct, environment: string, capacity: AcceleratorCapacityOption) {
  return {
    ...environmentGuard(stack, environment),
    ...regionVariables(stack),
    ...serverVariables(stack),
    ...computeVariables(stack, capacity.source, capacity.noCapacityHint),
    ...imageVariables(stack),
    ...signInVariables(stack),
    ...awsAccessVariables(stack),
    ...costVariables(stack),
    /** Plan-time checks of the sensitive variables (token, git_token, oidc_client_secret). */
    secretChecks: secretChecks(stack),
  };
}

/** The environment guard: a vars file may name the environment it is for. */
function environmentGuard(stack: Construct, environment: string) {
  return {
    environment: variable(stack, "environment", {
      type: "string",
      default: "",
      description: "Environment this vars file is meant for (empty: any); a stack of another environment refuses it.",
      validation: [
        {
          condition: `\${var.environment == "" || var.environment == ${JSON.stringify(environment)}}`,
          errorMessage: `environment: this vars file is for environment '\${var.environment}', but the stack chosen is for environment '${environment}': pick the stack of that environment (notebook-\${var.environment}) or another vars file.`,
        },
      ],
    }),
  };
}

/** Where and as whom: region and credentials (the old configuration's). */
function regionVariables(stack: Construct) {
  return {
    region: regionVariable(stack, "AWS region of the cluster, load balancer and notebook, e.g. eu-west-1 (with a platform stack: the platform's region)."),
    profileName: profileNameVariable(stack),
  };
}

/**
 * The team's cluster and the load balancer listener notebooks attach to: variables of the
 * notebook stack on the team's own platform, and of the `waker-<env>` stack (same names, so
 * one vars file serves both).
 */
export function clusterAndLoadBalancerVariables(stack: Construct) {
  return {
    ecsClusterName: variable(stack, "ecs_cluster_name", {
      type: "string",
      description: "Name of the existing ECS cluster the notebook runs on.",
      validation: [patternRule("ecs_cluster_name", "^[A-Za-z0-9_-]{1,255}$", "must be a cluster name (1-255 letters, digits, '-' or '_'; not an ARN)")],
    }),
    loadbalancerArn: variable(stack, "loadbalancer_arn", {
      type: "string",
      description: "ARN of the existing Application Load Balancer with the HTTPS listener.",
      validation: [
        patternRule(
          "loadbalancer_arn",
          ALB_ARN_RE,
          "must be an Application Load Balancer ARN, arn:aws:elasticloadbalancing:<region>:<12-digit account>:loadbalancer/app/<name>/<16 hex digits>",
        ),
        {
          condition: '${try(split(":", var.loadbalancer_arn)[3] == var.region, true)}',
          errorMessage:
            "loadbalancer_arn is in region '${try(split(\":\", var.loadbalancer_arn)[3], \"\")}' but region is '${var.region}': both must name the same region.",
        },
      ],
    }),
    listenerPort: variable(stack, "listener_port", {
      type: "number",
      default: 443,
      description: "Port of the load balancer's HTTPS listener that notebooks attach to.",
      validation: [wholeNumberRule("listener_port", 1, 65535)],
    }),
  };
}

/**
 * The team's own platform: cluster, load balancer, zone, network (the old configuration's),
 * the listener's port, the notebooks' domain and whether tasks get a public IP.
 */
function ownPlatformVariables(stack: Construct) {
  return {
    vpcId: variable(stack, "vpc_id", {
      type: "string",
      default: "",
      description: "VPC the notebook runs in; empty uses the load balancer's VPC.",
      validation: [patternRule("vpc_id", VPC_RE, "must look like vpc-0123456789abcdef0 (8 or 17 hex digits) or be empty", { optional: true })],
    }),
    ...clusterAndLoadBalancerVariables(stack),
    hostedZoneId: variable(stack, "hosted_zone_id", {
      type: "string",
      description: "ID of the existing Route 53 hosted zone for notebook hostnames, e.g. Z0123456789ABCDEFGHIJ.",
      validation: [patternRule("hosted_zone_id", ZONE_RE, "must be a Route 53 zone ID: 'Z' followed by upper-case letters and digits, without '/hostedzone/'")],
    }),
    fargateSubnets: variable(stack, "fargate_subnets", {
      type: "list(string)",
      description: "Subnets the notebook task runs in (private subnets with a NAT gateway, or public ones with assign_public_ip).",
      validation: [
        {
          condition: "${length(var.fargate_subnets) >= 1 && length(var.fargate_subnets) <= 16}",
          errorMessage: "fargate_subnets must list 1 to 16 subnet IDs, got ${length(var.fargate_subnets)}.",
        },
        {
          condition: `\${alltrue([for s in var.fargate_subnets : can(regex(${re(SUBNET_RE)}, s))])}`,
          errorMessage: `fargate_subnets must hold subnet IDs like subnet-0123456789abcdef0 (8 or 17 hex digits), got \${jsonencode([for s in var.fargate_subnets : s if !can(regex(${re(
            SUBNET_RE,
          )}, s))])}.`,
        },
      ],
    }),
    domain: variable(stack, "domain", {
      type: "string",
      default: "",
      description: "Domain for the notebook hostname, <prefix>-<suffix>.<domain>; empty uses the hosted zone's name.",
      validation: [
        {
          condition: `\${var.domain == "" || (length(var.domain) <= ${MAX_DOMAIN_LENGTH} && can(regex(${re(NOTEBOOK_DOMAIN_RE)}, var.domain)))}`,
          errorMessage: `domain must be a lower-case DNS name of at most ${MAX_DOMAIN_LENGTH} characters whose last label is letters only (the load balancer's host condition allows nothing else there), without scheme, path, port or trailing dot, e.g. notebooks.example.com, got '\${var.domain}'.`,
        },
        {
          // Cross-variable: the hostname <prefix>-<suffix>.<domain> is a host condition value.
          condition: `\${var.domain == "" || length(var.hostname_prefix) + ${1 + SUFFIX_LENGTH + 1} + length(var.domain) <= ${MAX_HOSTNAME_LENGTH}}`,
          errorMessage: `domain '\${var.domain}' makes the hostname \${var.hostname_prefix}-<${SUFFIX_LENGTH} characters>.\${var.domain} \${length(var.hostname_prefix) + ${
            1 + SUFFIX_LENGTH + 1
          } + length(var.domain)} characters long, more than the ${MAX_HOSTNAME_LENGTH} a load balancer's host condition takes: shorten domain or hostname_prefix.`,
        },
      ],
    }),
    assignPublicIp: variable(stack, "assign_public_ip", {
      type: "bool",
      default: false,
      description: "Give the task a public IP: needed in public subnets without a NAT gateway, or the image pull fails.",
    }),
  };
}

/** The notebook itself: token, image, size, hostname, who may reach it, logs and tags. */
function serverVariables(stack: Construct) {
  return {
    token: variable(stack, "token", {
      type: "string",
      default: "",
      sensitive: true,
      description: "Jupyter access token, 16 to 256 URL-safe characters; empty generates a 32-character one. Kept in Secrets Manager.",
      // Checked by secretChecks() below: a failed validation would print it.
    }),
    jupyterDockerTag: variable(stack, "jupyter_docker_tag", {
      type: "string",
      default: "latest",
      description: "Tag of the notebook image, e.g. a date tag such as 2025-03-17 for a reproducible environment.",
      validation: [patternRule("jupyter_docker_tag", TAG_RE, "must be an image tag (1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-')")],
    }),
    image: variable(stack, "image", {
      type: "string",
      default: null,
      description: `Notebook image repository without tag (the tag is jupyter_docker_tag), e.g. an ECR repository; null: ${DEFAULT_IMAGE}, with nvidia ${NVIDIA_IMAGE} (tag ${NVIDIA_TAG_PREFIX}<jupyter_docker_tag>), with neuron ${NEURON_IMAGE}:${NEURON_IMAGE_TAG}.`,
      validation: [
        {
          condition: `\${var.image == null ? true : length(var.image) <= ${MAX_IMAGE_LENGTH} && can(regex(${re(IMAGE_RE)}, var.image))}`,
          errorMessage:
            "image must be a lower-case image repository without tag or digest, e.g. quay.io/jupyter/datascience-notebook, or null for the default, got '" +
            shown("image") +
            "'.",
        },
      ],
    }),
    hostnamePrefix: variable(stack, "hostname_prefix", {
      type: "string",
      default: "jupyter",
      description: `First label of the hostname and of every resource name, <prefix>-<suffix>; at most ${MAX_HOSTNAME_PREFIX_LENGTH} characters.`,
      validation: [
        {
          condition: `\${can(regex(${re(HOSTNAME_PREFIX_PATTERN)}, var.hostname_prefix))}`,
          errorMessage: `hostname_prefix must be a lower-case DNS label of 1 to ${MAX_HOSTNAME_PREFIX_LENGTH} letters, digits or '-' (longer would push the target group name past AWS's 32 characters), got '\${var.hostname_prefix}'.`,
        },
        {
          condition: '${!startswith("${var.hostname_prefix}-", "sg-")}',
          errorMessage:
            "hostname_prefix must not be 'sg' or start with 'sg-': AWS reserves security group names beginning with 'sg-', got '${var.hostname_prefix}'.",
        },
      ],
    }),
    allowedCidrs: variable(stack, "allowed_cidrs", {
      type: "list(string)",
      default: ["0.0.0.0/0", "::/0"],
      description: `Source CIDRs (IPv4 or IPv6) allowed to reach the notebook through the load balancer, 1 to ${MAX_ALLOWED_CIDRS} entries.`,
      validation: [
        {
          condition: `\${length(var.allowed_cidrs) >= 1 && length(var.allowed_cidrs) <= ${MAX_ALLOWED_CIDRS}}`,
          errorMessage: `allowed_cidrs must list 1 to ${MAX_ALLOWED_CIDRS} CIDRs (a listener rule has at most 5 condition values and the host name takes one), got \${length(var.allowed_cidrs)}.`,
        },
        {
          condition: `\${alltrue([for c in var.allowed_cidrs : ${NETWORK_ADDRESS}])}`,
          errorMessage: `allowed_cidrs must hold network addresses in CIDR notation such as 203.0.113.0/24 or 2001:db8::/32 (no host bits set), got \${jsonencode([for c in var.allowed_cidrs : c if !(${NETWORK_ADDRESS})])}.`,
        },
      ],
    }),
    logRetentionDays: variable(stack, "log_retention_days", {
      type: "number",
      default: 30,
      description: "Days CloudWatch keeps the notebook's logs (0 keeps them forever).",
      validation: [
        oneOfRule("log_retention_days", LOG_RETENTION_DAYS, `one of the values CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(", ")} (0 = never expire)`),
      ],
    }),
    tags: tagsVariable(stack, "Owner, Environment and Project", "this stack and ECS"),
  };
}

/** Idle stop, resuming, and git preload (read by the notebook image's start script). */
function imageVariables(stack: Construct) {
  return {
    idleTimeoutMinutes: variable(stack, "idle_timeout_minutes", {
      type: "number",
      default: 120,
      description: "Minutes without activity after which the notebook stops itself and scales its service to 0 (0: never). Needs the notebook-image/ image.",
      validation: [wholeNumberRule("idle_timeout_minutes", 0, 10080, { unit: "of minutes", minText: "0 (never stop)", maxText: "10080 (a week)" })],
    }),
    gitRepositoryUrl: variable(stack, "git_repository_url", {
      type: "string",
      default: "",
      description: "https URL of a git repository cloned into the work directory at start (empty: none). Needs the notebook-image/ image.",
      validation: [
        {
          condition: `\${var.git_repository_url == "" || (length(var.git_repository_url) <= 2048 && can(regex(${re(HTTPS_URL_RE)}, var.git_repository_url)))}`,
          errorMessage:
            "git_repository_url must be an https URL without user name or password (a token goes in git_token), e.g. https://github.com/acme/analysis.git, or empty, got '${var.git_repository_url}'.",
        },
      ],
    }),
    gitToken: variable(stack, "git_token", {
      type: "string",
      default: "",
      sensitive: true,
      description: "Token for a private git_repository_url (empty: none). Kept in Secrets Manager, never in the task definition.",
      // Checked by secretChecks() below: a failed validation would print it.
    }),
  };
}

/** Persistent home on EFS. */
function persistentHomeVariables(stack: Construct) {
  return {
    efsFileSystemId: variable(stack, "efs_file_system_id", {
      type: "string",
      default: "",
      description: "EFS file system for a persistent work directory per user (empty: none, work is lost with the task).",
      validation: [patternRule("efs_file_system_id", EFS_RE, "must look like fs-0123456789abcdef0 (8 or 17 hex digits) or be empty", { optional: true })],
    }),
    efsSecurityGroupId: variable(stack, "efs_security_group_id", {
      type: "string",
      default: "",
      description:
        "Security group the notebook joins to reach the EFS file system: one the mount targets admit NFS (2049) from, with no inbound rule but NFS from itself. Required with efs_file_system_id.",
      validation: [
        patternRule("efs_security_group_id", SG_RE, "must look like sg-0123456789abcdef0 (8 or 17 hex digits) or be empty", { optional: true }),
        {
          condition: '${(var.efs_file_system_id == "") == (var.efs_security_group_id == "")}',
          errorMessage: "efs_security_group_id and efs_file_system_id go together: set both for a persistent work directory, or neither.",
        },
      ],
    }),
  };
}

/** Sign-in at the load balancer: Cognito or OIDC. */
function signInVariables(stack: Construct) {
  return {
    cognitoUserPoolArn: variable(stack, "cognito_user_pool_arn", {
      type: "string",
      default: "",
      description: "Cognito user pool whose users must sign in before reaching Jupyter (empty: no Cognito sign-in).",
      validation: [
        patternRule(
          "cognito_user_pool_arn",
          COGNITO_POOL_RE,
          "must be a user pool ARN, arn:aws:cognito-idp:<region>:<account>:userpool/<region>_<id>, or empty",
          { optional: true },
        ),
        {
          condition:
            '${(var.cognito_user_pool_arn == "") == (var.cognito_user_pool_client_id == "") && (var.cognito_user_pool_arn == "") == (var.cognito_user_pool_domain == "")}',
          errorMessage: "cognito_user_pool_arn, cognito_user_pool_client_id and cognito_user_pool_domain go together: set all three, or none.",
        },
      ],
    }),
    cognitoUserPoolClientId: variable(stack, "cognito_user_pool_client_id", {
      type: "string",
      default: "",
      description: "App client of the Cognito user pool (with a client secret, and the callback URL of each notebook).",
      validation: [
        patternRule("cognito_user_pool_client_id", "^[A-Za-z0-9]{1,128}$", "must be an app client ID (letters and digits), or empty", { optional: true }),
      ],
    }),
    cognitoUserPoolDomain: variable(stack, "cognito_user_pool_domain", {
      type: "string",
      default: "",
      description: "Domain of the Cognito user pool: its prefix (acme-notebooks) or a custom domain (auth.example.com).",
      validation: [
        patternRule("cognito_user_pool_domain", DOMAIN_RE, "must be the pool's domain prefix or a lower-case domain name, without https://, or empty", {
          optional: true,
        }),
      ],
    }),
    oidcIssuer: variable(stack, "oidc_issuer", {
      type: "string",
      default: "",
      description: "Issuer of an OpenID Connect provider whose users must sign in before reaching Jupyter (empty: no OIDC sign-in).",
      validation: [
        patternRule("oidc_issuer", HTTPS_URL_RE, "must be an https URL, e.g. https://login.example.com, or empty", { optional: true }),
        {
          condition: '${var.oidc_issuer == "" || var.cognito_user_pool_arn == ""}',
          errorMessage: "oidc_issuer and cognito_user_pool_arn exclude each other: choose Cognito or a generic OIDC provider.",
        },
        {
          condition:
            '${alltrue([for v in [var.oidc_authorization_endpoint, var.oidc_token_endpoint, var.oidc_user_info_endpoint, var.oidc_client_id] : (v == "") == (var.oidc_issuer == "")])}',
          errorMessage:
            "oidc_issuer, oidc_authorization_endpoint, oidc_token_endpoint, oidc_user_info_endpoint, oidc_client_id (and oidc_client_secret) go together: set all, or none.",
        },
      ],
    }),
    oidcAuthorizationEndpoint: oidcEndpoint(stack, "oidc_authorization_endpoint", "Authorization endpoint of the OIDC provider."),
    oidcTokenEndpoint: oidcEndpoint(stack, "oidc_token_endpoint", "Token endpoint of the OIDC provider."),
    oidcUserInfoEndpoint: oidcEndpoint(stack, "oidc_user_info_endpoint", "User info endpoint of the OIDC provider."),
    oidcClientId: variable(stack, "oidc_client_id", {
      type: "string",
      default: "",
      description: "Client ID registered with the OIDC provider.",
      validation: [
        {
          condition: '${length(var.oidc_client_id) <= 256 && can(regex("^[^[:space:]]*$", var.oidc_client_id))}',
          errorMessage: "oidc_client_id must be at most 256 characters without white space, got '${var.oidc_client_id}'.",
        },
      ],
    }),
    oidcClientSecret: variable(stack, "oidc_client_secret", {
      type: "string",
      default: "",
      sensitive: true,
      description: "Client secret registered with the OIDC provider; required with oidc_issuer.",
      // Checked by secretChecks() below: a failed validation would print it.
    }),
    authSessionTimeoutSeconds: variable(stack, "auth_session_timeout_seconds", {
      type: "number",
      default: 43200,
      description: "How long a sign-in at the load balancer lasts before the user must sign in again (seconds, up to 7 days).",
      validation: [wholeNumberRule("auth_session_timeout_seconds", 1, 604800, { maxText: "604800 (7 days)" })],
    }),
  };
}

/** Reaching the team's AWS resources. */
function awsAccessVariables(stack: Construct) {
  return {
    taskRolePolicyArns: taskRolePolicyArnsVariable(
      stack,
      "Managed IAM policies attached to the notebook's task role, e.g. read access to the team's S3 data. At most 10.",
    ),
  };
}

/**
 * `task_role_policy_arns`: on a notebook stack, the policies its task role gets; on a
 * state-backend stack, the policies users may give their notebooks (the same vars file serves both).
 */
export function taskRolePolicyArnsVariable(stack: Construct, description: string) {
  return variable(stack, "task_role_policy_arns", {
    type: "list(string)",
    default: [],
    description,
    validation: [
      {
        condition: "${length(var.task_role_policy_arns) <= 10 && length(distinct(var.task_role_policy_arns)) == length(var.task_role_policy_arns)}",
        errorMessage: "task_role_policy_arns may list at most 10 distinct policies (the IAM quota per role), got ${length(var.task_role_policy_arns)}.",
      },
      {
        condition: `\${alltrue([for a in var.task_role_policy_arns : can(regex(${re(POLICY_ARN_RE)}, a))])}`,
        errorMessage: `task_role_policy_arns must hold IAM policy ARNs such as arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess or arn:aws:iam::123456789012:policy/team-data, got \${jsonencode([for a in var.task_role_policy_arns : a if !can(regex(${re(
          POLICY_ARN_RE,
        )}, a))])}.`,
      },
    ],
  });
}

/** Cost and capacity. */
function costVariables(stack: Construct) {
  return {
    enableExecuteCommand: variable(stack, "enable_execute_command", {
      type: "bool",
      default: false,
      description: "Allow ECS Exec (aws ecs execute-command) into the notebook for debugging.",
    }),
  };
}

/** `region`: the region a stack deploys to. */
export function regionVariable(stack: Construct, description: string): TerraformVariable {
  return variable(stack, "region", {
    type: "string",
    description,
    validation: [patternRule("region", REGION_RE, "must be an AWS region such as eu-west-1")],
  });
}

/** `profile_name`: a named profile from the AWS config files, or the default credential chain. */
export function profileNameVariable(stack: Construct): TerraformVariable {
  return variable(stack, "profile_name", {
    type: "string",
    default: "",
    description: "Named profile from the AWS config files; empty uses the default credential chain.",
    validation: [
      {
        condition: '${can(regex("^[^\\\\s]*$", var.profile_name))}',
        errorMessage: "profile_name must be a profile name without white space, or empty for the default credential chain, got '${var.profile_name}'.",
      },
    ],
  });
}

/**
 * `tags`: added to every resource of a stack besides its default tags (`defaults`, named
 * in the description); `setBy` says who sets those others (the 50 per resource are shared).
 */
export function tagsVariable(stack: Construct, defaults: string, setBy: string): TerraformVariable {
  return variable(stack, "tags", {
    type: "map(string)",
    default: {},
    description: `Tags added to every resource, besides the default ${defaults} tags.`,
    validation: [
      {
        condition: "${length(var.tags) <= 40}",
        errorMessage: `tags may hold at most 40 entries (AWS allows 50 per resource, some are set by ${setBy}), got \${length(var.tags)}.`,
      },
      {
        // First, and the others skip null values: a function given null fails with an
        // error that names neither the tag nor the problem.
        condition: "${alltrue([for k, v in var.tags : v != null])}",
        errorMessage:
          'tags must give every tag a string value (an empty one is allowed), but the value of ${join(", ", [for k, v in var.tags : "\'${k}\'" if v == null])} is null.',
      },
      {
        condition: `\${alltrue([for k, v in ${SET_TAGS} : ${TAG_SIZES}])}`,
        errorMessage: `tags must have keys of 1-128 characters not starting with 'aws:' and values of at most 256 characters, got \${jsonencode([for k, v in ${SET_TAGS} : k if !(${TAG_SIZES})])}.`,
      },
      {
        condition: `\${alltrue([for k, v in ${SET_TAGS} : ${TAG_CHARS}])}`,
        errorMessage: `tags may only use letters, digits, spaces and _ . : / = + - @ in keys and values, got \${jsonencode([for k, v in ${SET_TAGS} : k if !(${TAG_CHARS})])}.`,
      },
    ],
  });
}

/** Address of the secret checks before they moved here from the notebook construct. */
const SECRET_CHECKS_OLD_ADDRESS = "terraform_data.notebook_input_check_17435280";

/**
 * The rules of the sensitive variables, as preconditions of a `terraform_data` resource:
 * Terraform prints the value of a variable that fails validation, even a sensitive one,
 * while a failed precondition prints only its message. terraform_data needs no provider
 * and no AWS call, so a bad secret fails the plan before anything is created. Each
 * condition refers to the variables themselves, whatever the stack does with them (a team
 * member's notebook ignores `token`): a condition on constants is invalid Terraform.
 * (A plain terraform_data: cdktf's DataResource runs `terraform version` at every synth.)
 */
function secretChecks(stack: Construct): TerraformResource {
  const checks = new TerraformResource(stack, "secret_input_check", {
    terraformResourceType: "terraform_data",
    lifecycle: {
      precondition: [
        {
          condition: `\${var.token == "" || (length(var.token) >= ${MIN_TOKEN_LENGTH} && length(var.token) <= ${MAX_TOKEN_LENGTH})}`,
          errorMessage: `token must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} characters long, or empty to generate one.`,
        },
        {
          condition: `\${var.token == "" || can(regex(${re(TOKEN_CHARACTERS)}, var.token))}`,
          errorMessage: "token must be URL-safe: only letters, digits, '.', '_', '~' and '-' (it is part of the notebook URL).",
        },
        {
          condition: '${length(var.git_token) <= 1024 && can(regex("^[^[:space:]]*$", var.git_token))}',
          errorMessage: "git_token must be at most 1024 characters without white space, or empty for a public repository.",
        },
        {
          condition: '${var.git_token == "" || var.git_repository_url != ""}',
          errorMessage: "git_token is set but git_repository_url is empty: the token is only used to clone that repository.",
        },
        {
          condition: '${(var.oidc_client_secret != "") == (var.oidc_issuer != "")}',
          errorMessage: "oidc_client_secret must be set together with oidc_issuer, and only then.",
        },
      ],
    },
  });
  // The moved block written directly: cdktf's moveFromId resolves moves across the whole
  // app and made a 50-stack synth 2.3 s slower (npm run bench).
  TerraformStack.of(checks).addOverride("moved", [{ from: SECRET_CHECKS_OLD_ADDRESS, to: address(checks) }]);
  return checks;
}

function oidcEndpoint(stack: Construct, name: string, description: string): TerraformVariable {
  return variable(stack, name, {
    type: "string",
    default: "",
    description: `${description} Required with oidc_issuer.`,
    validation: [patternRule(name, HTTPS_URL_RE, "must be an https URL or empty", { optional: true })],
  });
}
