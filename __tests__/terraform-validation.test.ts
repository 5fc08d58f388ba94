import * as fs from "fs";
import * as path from "path";
import { MAX_HOSTNAME_PREFIX_LENGTH } from "../modules/notebook";
import { MAX_ALLOWED_CIDRS, MAX_DOMAIN_LENGTH } from "../stacks/variables";
import { synthStack } from "./helpers/synth";
import { ALL_ON, OIDC, OLD_VARS, REQUIRED_VARIABLES, Vars } from "./helpers/vars";
import { describeVarsCases, describeWithTerraform, initVariablesDir, planVars, removeDir, TerraformResult, tfvars } from "./helpers/terraform";

/**
 * The notebook stack's variable blocks, evaluated by the real terraform: vars files in
 * the old configuration's format still work, and each validation rule rejects a bad
 * value with a message naming the variable.
 */



/** A valid hostname prefix of `n` (> 8) characters. */
function prefixOfLength(n: number): string {
  return ("jupyter-" + "x".repeat(n)).slice(0, n);
}

/** A valid lower-case domain of exactly `n` characters (labels of at most 63). */
function domainOfLength(n: number): string {
  let d = ("x".repeat(62) + ".").repeat(Math.ceil(n / 63)).slice(0, n);
  if (d.endsWith(".")) d = d.slice(0, -1) + "y";
  return d;
}

interface GoodCase {
  name: string;
  vars: Vars;
}

const GOOD: GoodCase[] = [
  { name: "the old configuration's vars file (12 variables, cpu as a string)", vars: OLD_VARS },
  { name: "only the required variables", vars: Object.fromEntries(REQUIRED_VARIABLES.map((k) => [k, OLD_VARS[k]])) },
  {
    name: "every new variable, cpu 16384 with memory 122880",
    vars: {
      ...OLD_VARS,
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/notebook",
      listener_port: 8443,
      hostname_prefix: prefixOfLength(MAX_HOSTNAME_PREFIX_LENGTH),
      allowed_cidrs: ["203.0.113.0/24", "2001:db8::/32"],
      assign_public_ip: true,
      log_retention_days: 90,
      tags: { Team: "data-science", CostCenter: "cc-1234" },
      cpu: 16384,
      memory: 122880,
    },
  },
  { name: "cpu 8192 with memory 20480 (steps of 4096)", vars: { ...OLD_VARS, cpu: 8192, memory: 20480 } },
  { name: `a domain of ${MAX_DOMAIN_LENGTH} characters with a one-letter prefix (a hostname of 128)`, vars: { ...OLD_VARS, hostname_prefix: "j", domain: domainOfLength(MAX_DOMAIN_LENGTH) } },
  { name: "an empty token (one is generated)", vars: { ...OLD_VARS, token: "" } },
  { name: "IPv6 CIDRs in upper case and with zero groups written out", vars: { ...OLD_VARS, allowed_cidrs: ["2001:DB8::/32", "2001:db8:0:0::/64", "10.0.0.0/8"] } },
  { name: "a tag with an empty value", vars: { ...OLD_VARS, tags: { Team: "" } } },
  {
    name: "a private repository with its token, idle stop after 45 minutes",
    vars: { ...OLD_VARS, git_repository_url: "https://gitlab.example.com:8443/data/team-analysis.git", git_token: "glpat-0123456789abcdef", idle_timeout_minutes: 45 },
  },
  { name: "idle stop disabled", vars: { ...OLD_VARS, idle_timeout_minutes: 0 } },
  { name: "every option on: EFS home, Cognito sign-in, task role policies, Spot, 50 GiB, ECS Exec", vars: ALL_ON },
  { name: "sign-in with a generic OIDC provider", vars: OIDC },
  { name: "ephemeral_storage_gib null (Fargate's 20 GiB)", vars: { ...OLD_VARS, ephemeral_storage_gib: null } },
  ...[
    ["us-gov-west-1", "aws-us-gov"],
    ["cn-north-1", "aws-cn"],
    ["eusc-de-east-1", "aws-eusc"],
    ["ap-southeast-5", "aws"],
  ].map(([region, partition]) => ({
    name: `region ${region} with a load balancer in partition ${partition}`,
    vars: { ...OLD_VARS, region, loadbalancer_arn: `arn:${partition}:elasticloadbalancing:${region}:123456789012:loadbalancer/app/team-alb/0123456789abcdef` },
  })),
  ...["ghcr.io/acme/notebook", "localhost:5000/notebook", "public.ecr.aws/acme/notebook", "notebook"].map((image) => ({
    name: `image ${image}`,
    vars: { ...OLD_VARS, image },
  })),
  { name: "tags with letters beyond ASCII, spaces and the allowed punctuation", vars: { ...OLD_VARS, tags: { "Équipe": "Données et modèles", "cost:center": "cc/1234+x@y=z" } } },
  {
    name: "null for optional variables (their defaults apply)",
    vars: { ...OLD_VARS, vpc_id: null, profile_name: null, token: null, cpu: null, memory: null, domain: null, allowed_cidrs: null, assign_public_ip: null, tags: null },
  },
];

interface BadCase {
  name: string;
  /** What changes in the old configuration's file. */
  set: Vars;
  /** The variable the error must name. */
  variable: string;
  /** A fragment of the expected error message (compared with white space collapsed). */
  message: string;
  /** A sensitive value that must not be printed. */
  secret?: string;
  /** The kind of error. @default "Error: Invalid value for variable" */
  error?: string;
}

const badToken = (name: string, token: string, message: string, variable = "token"): BadCase => ({
  name,
  set: { [variable]: token },
  variable,
  message,
  secret: token,
  // Secrets' rules are a precondition: terraform prints a rejected variable's value.
  error: "Error: Resource precondition failed",
});

const BAD: BadCase[] = [
  { name: "cpu 1000", set: { cpu: 1000 }, variable: "cpu", message: "cpu must be one of the Fargate CPU values 256, 512, 1024" },
  { name: "memory 1024 with cpu 1024", set: { memory: 1024 }, variable: "memory", message: "memory 1024 is not offered by Fargate with cpu 1024" },
  { name: "memory 16384 with cpu 256", set: { cpu: 256, memory: 16384 }, variable: "memory", message: "memory 16384 is not offered by Fargate with cpu 256" },
  { name: "memory 16384 with cpu 16384", set: { cpu: 16384, memory: 16384 }, variable: "memory", message: "memory 16384 is not offered by Fargate with cpu 16384" },
  {
    name: "a network load balancer ARN",
    set: { loadbalancer_arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/team-nlb/0123456789abcdef" },
    variable: "loadbalancer_arn",
    message: "loadbalancer_arn must be an Application Load Balancer ARN",
  },
  {
    name: "a load balancer ARN without its id",
    set: { loadbalancer_arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/team-alb" },
    variable: "loadbalancer_arn",
    message: "loadbalancer_arn must be an Application Load Balancer ARN",
  },
  {
    name: "a load balancer in another region than region",
    set: { loadbalancer_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/team-alb/0123456789abcdef" },
    variable: "loadbalancer_arn",
    message: "loadbalancer_arn is in region 'us-east-1' but region is 'eu-west-1'",
  },
  { name: "a lower-case hosted zone id", set: { hosted_zone_id: "z0123456789abcdefghij" }, variable: "hosted_zone_id", message: "hosted_zone_id must be a Route 53 zone ID" },
  {
    name: 'a hosted zone id with "/hostedzone/"',
    set: { hosted_zone_id: "/hostedzone/Z0123456789ABCDEFGHIJ" },
    variable: "hosted_zone_id",
    message: "hosted_zone_id must be a Route 53 zone ID",
  },
  {
    name: "a malformed subnet id",
    set: { fargate_subnets: ["subnet-0123456789abcdef0", "subnet-xyz"] },
    variable: "fargate_subnets",
    message: 'fargate_subnets must hold subnet IDs like subnet-0123456789abcdef0 (8 or 17 hex digits), got ["subnet-xyz"]',
  },
  { name: "an empty subnet list", set: { fargate_subnets: [] }, variable: "fargate_subnets", message: "fargate_subnets must list 1 to 16 subnet IDs, got 0" },
  { name: "a malformed vpc id", set: { vpc_id: "vpc-123" }, variable: "vpc_id", message: "vpc_id must look like vpc-0123456789abcdef0 (8 or 17 hex digits) or be empty, got 'vpc-123'" },
  { name: 'region "europe"', set: { region: "europe" }, variable: "region", message: "region must be an AWS region such as eu-west-1, got 'europe'" },
  { name: 'region "EU-WEST-1"', set: { region: "EU-WEST-1" }, variable: "region", message: "region must be an AWS region such as eu-west-1, got 'EU-WEST-1'" },
  { name: "a domain with a scheme", set: { domain: "https://x.example.com" }, variable: "domain", message: "domain must be a lower-case DNS name" },
  { name: "a domain with a path", set: { domain: "example.com/x" }, variable: "domain", message: "domain must be a lower-case DNS name" },
  { name: "a domain with a trailing dot", set: { domain: "notebooks.example.com." }, variable: "domain", message: "domain must be a lower-case DNS name" },
  { name: "a domain with upper case", set: { domain: "Notebooks.Example.com" }, variable: "domain", message: "domain must be a lower-case DNS name" },
  {
    name: `a domain of ${MAX_DOMAIN_LENGTH + 1} characters`,
    set: { domain: domainOfLength(MAX_DOMAIN_LENGTH + 1) },
    variable: "domain",
    message: `domain must be a lower-case DNS name of at most ${MAX_DOMAIN_LENGTH} characters`,
  },
  {
    name: "a domain that makes the hostname longer than the load balancer's 128 characters",
    set: { hostname_prefix: "jupyter", domain: domainOfLength(MAX_DOMAIN_LENGTH) },
    variable: "domain",
    message: `makes the hostname jupyter-<8 characters>.${domainOfLength(MAX_DOMAIN_LENGTH)} 134 characters long, more than the 128 a load balancer's host condition takes`,
  },
  { name: "a domain whose last label has a digit", set: { domain: "notebooks.example.c0m" }, variable: "domain", message: "whose last label is letters only" },
  { name: "a domain whose last label is a number", set: { domain: "notebooks.10" }, variable: "domain", message: "whose last label is letters only" },
  { name: "a tag whose value is null", set: { tags: { Team: null, Owner2: "x" } }, variable: "tags", message: "tags must give every tag a string value (an empty one is allowed), but the value of 'Team' is null." },
  { name: "an IPv6 CIDR with host bits", set: { allowed_cidrs: ["2001:DB8::1/32"] }, variable: "allowed_cidrs", message: 'no host bits set), got ["2001:DB8::1/32"]' },
  { name: "an IPv4 CIDR with host bits", set: { allowed_cidrs: ["10.0.0.1/8"] }, variable: "allowed_cidrs", message: 'no host bits set), got ["10.0.0.1/8"]' },
  { name: "an IPv4-mapped IPv6 block (Terraform would make it 0.0.0.0/0)", set: { allowed_cidrs: ["::ffff:0:0/96"] }, variable: "allowed_cidrs", message: 'no host bits set), got ["::ffff:0:0/96"]' },
  {
    name: `a hostname prefix of ${MAX_HOSTNAME_PREFIX_LENGTH + 1} characters`,
    set: { hostname_prefix: prefixOfLength(MAX_HOSTNAME_PREFIX_LENGTH + 1) },
    variable: "hostname_prefix",
    message: `hostname_prefix must be a lower-case DNS label of 1 to ${MAX_HOSTNAME_PREFIX_LENGTH}`,
  },
  { name: "a hostname prefix with an underscore", set: { hostname_prefix: "my_notebook" }, variable: "hostname_prefix", message: "hostname_prefix must be a lower-case DNS label" },
  { name: 'a hostname prefix starting with "-"', set: { hostname_prefix: "-jupyter" }, variable: "hostname_prefix", message: "hostname_prefix must be a lower-case DNS label" },
  badToken("a token of 15 characters", "short-token-123", "token must be 16 to 256 characters long"),
  badToken("a token with a quote", "it's-a-long-enough-token", "token must be URL-safe"),
  badToken("a token with a space", "a long enough token 1234", "token must be URL-safe"),
  { name: "a CIDR with prefix length 33", set: { allowed_cidrs: ["10.0.0.0/33"] }, variable: "allowed_cidrs", message: 'allowed_cidrs must hold network addresses in CIDR notation such as 203.0.113.0/24 or 2001:db8::/32 (no host bits set), got ["10.0.0.0/33"]' },
  {
    name: `${MAX_ALLOWED_CIDRS + 1} allowed CIDRs`,
    set: { allowed_cidrs: Array.from({ length: MAX_ALLOWED_CIDRS + 1 }, (_, i) => `10.${i}.0.0/16`) },
    variable: "allowed_cidrs",
    message: `allowed_cidrs must list 1 to ${MAX_ALLOWED_CIDRS} CIDRs (a listener rule has at most 5 condition values and the host name takes one), got ${MAX_ALLOWED_CIDRS + 1}`,
  },
  { name: "no allowed CIDRs", set: { allowed_cidrs: [] }, variable: "allowed_cidrs", message: `allowed_cidrs must list 1 to ${MAX_ALLOWED_CIDRS} CIDRs` },
  { name: 'jupyter_docker_tag "bad tag!"', set: { jupyter_docker_tag: "bad tag!" }, variable: "jupyter_docker_tag", message: "jupyter_docker_tag must be an image tag (1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'), got 'bad tag!'" },
  {
    name: "an image with a tag",
    set: { image: "quay.io/jupyter/base-notebook:latest" },
    variable: "image",
    message: "image must be a lower-case image repository without tag or digest, e.g. quay.io/jupyter/datascience-notebook, or null for the default, got 'quay.io/jupyter/base-notebook:latest'",
  },
  { name: 'hostname_prefix "sg" (security group names may not start with "sg-")', set: { hostname_prefix: "sg" }, variable: "hostname_prefix", message: "hostname_prefix must not be 'sg' or start with 'sg-'" },
  { name: "an image of one component with a tag", set: { image: "base-notebook:2024" }, variable: "image", message: "image must be a lower-case image repository without tag or digest" },
  { name: "a CIDR with host bits set", set: { allowed_cidrs: ["10.0.0.1/24"] }, variable: "allowed_cidrs", message: 'no host bits set), got ["10.0.0.1/24"]' },
  { name: "a tag key with a character AWS refuses", set: { tags: { "a#b": "x" } }, variable: "tags", message: 'tags may only use letters, digits, spaces and _ . : / = + - @ in keys and values, got ["a#b"]' },
  ...[-1, 1.5, 20000].map((minutes) => ({
    name: `idle_timeout_minutes ${minutes}`,
    set: { idle_timeout_minutes: minutes },
    variable: "idle_timeout_minutes",
    message: `idle_timeout_minutes must be a whole number of minutes from 0 (never stop) to 10080 (a week), got ${minutes}`,
  })),
  ...["https://jane:secret@github.com/acme/analysis.git", "git@github.com:acme/analysis.git", "http://github.com/acme/analysis.git", "https://github.com/acme/analysis.git?ref=main"].map((url) => ({
    name: `git_repository_url ${url}`,
    set: { git_repository_url: url },
    variable: "git_repository_url",
    message: `git_repository_url must be an https URL without user name or password (a token goes in git_token), e.g. https://github.com/acme/analysis.git, or empty, got '${url}'`,
  })),
  badToken("a git token with a space", "ghp_abc def0123456789", "git_token must be at most 1024 characters without white space", "git_token"),
  {
    ...badToken("a git token without a repository", "ghp_0123456789abcdef", "git_token is set but git_repository_url is empty", "git_token"),
    set: { git_token: "ghp_0123456789abcdef", git_repository_url: "" },
  },
  { name: "a malformed EFS file system id", set: { efs_file_system_id: "fs-123", efs_security_group_id: "sg-0123456789abcdef0" }, variable: "efs_file_system_id", message: "efs_file_system_id must look like fs-0123456789abcdef0 (8 or 17 hex digits) or be empty, got 'fs-123'" },
  { name: "an EFS file system without its security group", set: { efs_file_system_id: "fs-0123456789abcdef0" }, variable: "efs_security_group_id", message: "efs_security_group_id and efs_file_system_id go together" },
  { name: "an EFS security group without a file system", set: { efs_security_group_id: "sg-0123456789abcdef0" }, variable: "efs_security_group_id", message: "efs_security_group_id and efs_file_system_id go together" },
  { name: "a malformed EFS security group id", set: { efs_file_system_id: "fs-0123456789abcdef0", efs_security_group_id: "security-group" }, variable: "efs_security_group_id", message: 'efs_security_group_id must look like sg-0123456789abcdef0' },
  { name: "a Cognito user pool without client and domain", set: { cognito_user_pool_arn: ALL_ON.cognito_user_pool_arn }, variable: "cognito_user_pool_arn", message: "cognito_user_pool_arn, cognito_user_pool_client_id and cognito_user_pool_domain go together" },
  {
    name: "a malformed Cognito user pool ARN",
    set: { cognito_user_pool_arn: "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/AbCdEf123", cognito_user_pool_client_id: "abc", cognito_user_pool_domain: "acme" },
    variable: "cognito_user_pool_arn",
    message: "cognito_user_pool_arn must be a user pool ARN",
  },
  { name: "a Cognito domain with a scheme", set: { cognito_user_pool_arn: ALL_ON.cognito_user_pool_arn, cognito_user_pool_client_id: "abc", cognito_user_pool_domain: "https://auth.example.com" }, variable: "cognito_user_pool_domain", message: "cognito_user_pool_domain must be the pool's domain prefix or a lower-case domain name" },
  { name: "Cognito and OIDC together", set: { ...OIDC, cognito_user_pool_arn: ALL_ON.cognito_user_pool_arn, cognito_user_pool_client_id: "abc", cognito_user_pool_domain: "acme" }, variable: "oidc_issuer", message: "oidc_issuer and cognito_user_pool_arn exclude each other" },
  { name: "an OIDC issuer without its endpoints", set: { oidc_issuer: "https://login.example.com" }, variable: "oidc_issuer", message: "oidc_issuer, oidc_authorization_endpoint, oidc_token_endpoint, oidc_user_info_endpoint, oidc_client_id (and oidc_client_secret) go together" },
  { name: "an OIDC endpoint over http", set: { ...OIDC, oidc_token_endpoint: "http://login.example.com/token" }, variable: "oidc_token_endpoint", message: "oidc_token_endpoint must be an https URL or empty, got 'http://login.example.com/token'" },
  {
    ...badToken("an OIDC provider without its client secret", "", "oidc_client_secret must be set together with oidc_issuer", "oidc_client_secret"),
    set: { ...OIDC, oidc_client_secret: "" },
    secret: undefined, // nothing to hide
  },
  badToken("an OIDC client secret without a provider", "stray-secret-value", "oidc_client_secret must be set together with oidc_issuer", "oidc_client_secret"),
  { name: "a role ARN among the task role policies", set: { task_role_policy_arns: ["arn:aws:iam::123456789012:role/data"] }, variable: "task_role_policy_arns", message: 'task_role_policy_arns must hold IAM policy ARNs such as arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess or arn:aws:iam::123456789012:policy/team-data, got ["arn:aws:iam::123456789012:role/data"]' },
  { name: "11 task role policies", set: { task_role_policy_arns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::123456789012:policy/p${i}`) }, variable: "task_role_policy_arns", message: "task_role_policy_arns may list at most 10 distinct policies (the IAM quota per role), got 11" },
  { name: "a task role policy listed twice", set: { task_role_policy_arns: ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"] }, variable: "task_role_policy_arns", message: "task_role_policy_arns may list at most 10 distinct policies" },
  { name: 'capacity_provider "SPOT"', set: { capacity_provider: "SPOT" }, variable: "capacity_provider", message: "capacity_provider must be 'FARGATE' or 'FARGATE_SPOT', got 'SPOT'" },
  ...[20, 201, 30.5].map((gib) => ({ name: `ephemeral_storage_gib ${gib}`, set: { ephemeral_storage_gib: gib }, variable: "ephemeral_storage_gib", message: `ephemeral_storage_gib must be a whole number from 21 to 200, or null for the default 20, got ${gib}` })),
  ...[0, 700000].map((seconds) => ({ name: `auth_session_timeout_seconds ${seconds}`, set: { auth_session_timeout_seconds: seconds }, variable: "auth_session_timeout_seconds", message: `auth_session_timeout_seconds must be a whole number from 1 to 604800 (7 days), got ${seconds}` })),
  { name: "listener_port 70000", set: { listener_port: 70000 }, variable: "listener_port", message: "listener_port must be a whole number from 1 to 65535, got 70000" },
  { name: "log_retention_days 31", set: { log_retention_days: 31 }, variable: "log_retention_days", message: "log_retention_days must be one of the values CloudWatch Logs accepts" },
  { name: 'a tag key starting with "aws:"', set: { tags: { "aws:foo": "bar" } }, variable: "tags", message: 'tags must have keys of 1-128 characters not starting with \'aws:\' and values of at most 256 characters, got ["aws:foo"]' },
  {
    name: "an ECS cluster ARN instead of its name",
    set: { ecs_cluster_name: "arn:aws:ecs:eu-west-1:123456789012:cluster/data-science" },
    variable: "ecs_cluster_name",
    message: "ecs_cluster_name must be a cluster name",
  },
  { name: "an accelerator where the environment has no accelerated capacity", set: { accelerator: "nvidia", cpu: null, memory: null }, variable: "accelerator", message: "accelerator 'nvidia' needs accelerated capacity, and this environment has none:" },
  { name: "null for a required variable", set: { region: null }, variable: "region", message: "region", error: "Error: Required variable not set" },
  { name: "a profile name with a space", set: { profile_name: "data science" }, variable: "profile_name", message: "profile_name must be a profile name without white space" },
];

describeWithTerraform("notebook stack variables evaluated by terraform", () => {
  let dir: string | undefined;
  let declared: string[] = [];
  const results = new Map<string, TerraformResult>();

  beforeAll(async () => {
    const { json } = synthStack("notebook");
    declared = Object.keys(json.variable ?? {});
    dir = await initVariablesDir(json);
    const planDir = dir;
    const cases: Array<[string, Vars]> = [
      ...GOOD.map((c): [string, Vars] => [`good: ${c.name}`, c.vars]),
      ...BAD.map((c): [string, Vars] => [`bad: ${c.name}`, { ...OLD_VARS, ...c.set }]),
    ];
    // All plans at once; planVars runs at most two terraform processes at a time.
    await Promise.all(cases.map(async ([key, vars]) => results.set(key, await planVars(planDir, tfvars(vars)))));
  }, 120_000);

  afterAll(() => removeDir(dir));

  test("declares every variable of the old configuration", () => {
    expect(declared).toEqual(expect.arrayContaining(Object.keys(OLD_VARS)));
  });

  test("accepts the example vars file as it is shipped", async () => {
    const example = fs.readFileSync(path.join(__dirname, "..", "examples", "vars.example.tfvars"), "utf8");
    const result = await planVars(dir!, example);
    expect(result.output).not.toContain("Error:");
    expect(result.output).not.toContain("undeclared variable");
    expect(result.code).toBe(0);
  });

  describeVarsCases(results, GOOD, BAD);

  describe("does not print a rejected token", () => {
    for (const c of BAD.filter((b) => b.secret !== undefined)) {
      test(c.name, () => {
        const result = results.get(`bad: ${c.name}`)!;
        expect(result.code).not.toBe(0);
        expect(result.output).not.toContain(c.secret!);
      });
    }
  });
});
