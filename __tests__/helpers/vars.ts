/** Values of a vars file, by variable name. */
export type Vars = Record<string, unknown>;

/** The variables a vars file must set (no default). */
export const REQUIRED_VARIABLES = ["region", "ecs_cluster_name", "loadbalancer_arn", "hosted_zone_id", "fargate_subnets"];

/** A vars file of the team's old Terraform configuration: exactly its 12 variables. */
export const OLD_VARS: Vars = {
  vpc_id: "vpc-0123456789abcdef0",
  region: "eu-west-1",
  profile_name: "data-science",
  ecs_cluster_name: "data-science",
  loadbalancer_arn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/team-alb/0123456789abcdef",
  hosted_zone_id: "Z0123456789ABCDEFGHIJ",
  fargate_subnets: ["subnet-0123456789abcdef0", "subnet-89abcdef"],
  token: "a-long-enough-token-1234",
  jupyter_docker_tag: "2024-05-27",
  cpu: "1024", // old files often quoted numbers
  memory: 4096,
  domain: "notebooks.example.com",
};

/** Every option on, with Cognito sign-in. */
export const ALL_ON: Vars = {
  ...OLD_VARS,
  efs_file_system_id: "fs-0123456789abcdef0",
  efs_security_group_id: "sg-0123456789abcdef0",
  cognito_user_pool_arn: "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123",
  cognito_user_pool_client_id: "1example23456789abcdefghij",
  cognito_user_pool_domain: "acme-notebooks",
  task_role_policy_arns: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/team-data"],
  capacity_provider: "FARGATE_SPOT",
  ephemeral_storage_gib: 50,
  enable_execute_command: true,
  git_repository_url: "https://github.com/acme/analysis.git",
  git_token: "ghp_0123456789abcdef",
};

/** Sign-in with a generic OpenID Connect provider. */
export const OIDC: Vars = {
  ...OLD_VARS,
  oidc_issuer: "https://login.example.com",
  oidc_authorization_endpoint: "https://login.example.com/authorize",
  oidc_token_endpoint: "https://login.example.com/token",
  oidc_user_info_endpoint: "https://login.example.com/userinfo",
  oidc_client_id: "notebooks",
  oidc_client_secret: "s3cret-value",
};
