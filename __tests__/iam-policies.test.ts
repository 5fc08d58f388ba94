import { Testing } from "cdktf";
import { stateBackendStackSpecs } from "../stacks/stack-specs";
import { StateBackendStack } from "../stacks/state-backend-stack";
import { settingsFor, synthStack } from "./helpers/synth";
import { ACCOUNT, actionExists, actionsOf, concrete, decide, REGION } from "./helpers/iam";
import { describeWithTerraform, renderPolicies, statement } from "./helpers/terraform";

// The project's IAM and bucket policies, as AWS receives them (rendered by the real
// terraform), checked statement by statement and evaluated with an offline implementation
// of AWS's policy logic: what they allow, and what they must not.

const OTHER_ACCOUNT = "999988887777";

describeWithTerraform("IAM policies, rendered by terraform: evaluated, and checked statement by statement", () => {
  // Rendered once, with placeholders for references; each statement is checked on its own,
  // by resource type and role (never a hash), and the policies, with realistic ARNs for the
  // placeholders, are evaluated with an offline implementation of AWS's policy logic.
  const { json } = synthStack("notebook");
  const rolePolicy = (name: string) => Object.values<any>(json.resource.aws_iam_role_policy).find((p) => p.name === name).policy as string;
  const role = (suffix: string) => Object.entries<any>(json.resource.aws_iam_role).find(([id]) => id.startsWith(`notebook_${suffix}_`))![1];
  const backend = JSON.parse(Testing.synth(new StateBackendStack(Testing.app(), stateBackendStackSpecs(settingsFor({}, { dev: { stateBucket: "acme-nb-state", stateRegion: "eu-west-1" } }))[0])));
  const OWN_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:jupyter-ab12cd34/jupyter-token-AbCdEf`;
  const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:jupyter-zz99yy88/jupyter-token-GhIjKl`;
  /** Realistic values for the placeholders: this account and region, alice's notebook, no git token. */
  const VALUES = {
    "<data.aws_caller_identity.platform_account.account_id>": ACCOUNT,
    "<data.aws_partition.platform_partition.partition>": "aws",
    "<data.aws_region.platform_region.region>": REGION,
    "<aws_secretsmanager_secret.notebook_token_secret.arn>": OWN_SECRET,
    "<aws_secretsmanager_secret.notebook_git_token_secret[*].arn>": null,
    "<aws_s3_bucket.state_bucket.arn>": "arn:aws:s3:::acme-nb-state",
  };
  let p: Record<string, any>;
  let policies: Record<string, any>;

  beforeAll(async () => {
    p = await renderPolicies({
      read_secrets: rolePolicy("read-own-secrets"),
      stop_when_idle: rolePolicy("stop-own-service-when-idle"),
      mount_home: rolePolicy("mount-own-home"),
      ecs_exec: rolePolicy("ecs-exec"),
      execution_trust: role("execution_role").assume_role_policy,
      task_trust: role("task_role").assume_role_policy,
      bucket: Object.values<any>(backend.resource.aws_s3_bucket_policy)[0].policy,
    });
    policies = concrete(p, VALUES);
  }, 60_000);

  const assume = (roleName: string, sourceAccount: string, sourceArn?: string) => ({
    principal: "ecs-tasks.amazonaws.com",
    action: "sts:AssumeRole",
    resource: `arn:aws:iam::${ACCOUNT}:role/${roleName}`,
    context: { "aws:SourceAccount": sourceAccount, ...(sourceArn ? { "aws:SourceArn": sourceArn } : {}) },
  });

  test("ECS acting for this account may assume the execution role; ECS acting for another account may not", async () => {
    const trust = { resource: policies.execution_trust };
    expect(await decide(assume("jupyter-ab12cd34-execution", ACCOUNT), trust)).toBe("Allowed");
    expect(await decide(assume("jupyter-ab12cd34-execution", OTHER_ACCOUNT), trust)).toBe("ImplicitlyDenied");
  });

  test("ECS tasks of this account and region may assume the task role; of another account or region, or unnamed, may not", async () => {
    const trust = { resource: policies.task_trust };
    const task = (account: string, region = REGION) => `arn:aws:ecs:${region}:${account}:task/data-science/0123456789abcdef`;
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT, task(ACCOUNT)), trust)).toBe("Allowed");
    expect(await decide(assume("jupyter-ab12cd34-task", OTHER_ACCOUNT, task(OTHER_ACCOUNT)), trust)).toBe("ImplicitlyDenied");
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT, task(ACCOUNT, "us-east-1")), trust)).toBe("ImplicitlyDenied");
    expect(await decide(assume("jupyter-ab12cd34-task", ACCOUNT), trust)).toBe("ImplicitlyDenied");
  });

  test("the execution role reads its own notebook's token, and no other secret", async () => {
    const identity = { identity: policies.read_secrets };
    const read = (secret: string) => ({ principal: `arn:aws:iam::${ACCOUNT}:role/jupyter-ab12cd34-execution`, action: "secretsmanager:GetSecretValue", resource: secret, context: {} });
    expect(await decide(read(OWN_SECRET), identity)).toBe("Allowed");
    expect(await decide(read(OTHER_SECRET), identity)).toBe("ImplicitlyDenied");
    const write = { ...read(OWN_SECRET), action: "secretsmanager:PutSecretValue" };
    expect(await decide(write, identity)).toBe("ImplicitlyDenied");
  });

  test("execution role: reads the notebook's token secret and its git token secret, nothing else", () => {
    expect(p.read_secrets.Statement).toHaveLength(1);
    expect(statement(p.read_secrets, "ReadThisNotebooksSecretsOnly")).toEqual({
      Sid: "ReadThisNotebooksSecretsOnly",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: ["<aws_secretsmanager_secret.notebook_token_secret.arn>", "<aws_secretsmanager_secret.notebook_git_token_secret[*].arn>"],
    });
  });

  test("task role: scales its own service, nothing else", () => {
    expect(p.stop_when_idle.Statement).toEqual([
      { Sid: "ScaleOwnServiceToZero", Effect: "Allow", Action: "ecs:UpdateService", Resource: "<aws_ecs_service.notebook_service.arn>" },
    ]);
  });

  test("task role with EFS: mounts and writes through its own access point only, no root access", () => {
    expect(p.mount_home.Statement).toEqual([
      {
        Sid: "MountAndWriteThroughOwnAccessPointOnly",
        Effect: "Allow",
        Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        Resource: "<data.aws_efs_file_system.platform_efs[*].arn>",
        Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": "<aws_efs_access_point.notebook_home_access_point[*].arn>" } },
      },
    ]);
  });

  test("task role with ECS Exec: the four SSM channels, the session log to its own log group, finding log groups", () => {
    expect(statement(p.ecs_exec, "EcsExecChannels")).toMatchObject({
      Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
      Resource: "*",
    });
    expect(statement(p.ecs_exec, "EcsExecSessionLog")).toMatchObject({
      Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
      Resource: ["<aws_cloudwatch_log_group.notebook_log_group.arn>", "<aws_cloudwatch_log_group.notebook_log_group.arn>:*"],
    });
    expect(statement(p.ecs_exec, "EcsExecFindLogGroup")).toMatchObject({ Action: "logs:DescribeLogGroups", Resource: "*" });
    expect(p.ecs_exec.Statement).toHaveLength(3);
  });

  test("trust: ECS tasks only, on behalf of this account (and, for the task role, its ECS resources in this region)", () => {
    const principal = { Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" };
    expect(statement(p.execution_trust)).toEqual({ ...principal, Condition: { StringEquals: { "aws:SourceAccount": "<data.aws_caller_identity.platform_account.account_id>" } } });
    expect(statement(p.task_trust)).toEqual({
      ...principal,
      Condition: {
        StringEquals: { "aws:SourceAccount": "<data.aws_caller_identity.platform_account.account_id>" },
        ArnLike: {
          "aws:SourceArn":
            "arn:<data.aws_partition.platform_partition.partition>:ecs:<data.aws_region.platform_region.region>:<data.aws_caller_identity.platform_account.account_id>:*",
        },
      },
    });
  });

  test("every action of every policy is one AWS publishes (a misspelt action would grant nothing, silently)", async () => {
    const known = actionExists;
    // The check itself tells a real action from a misspelt one.
    expect([await known("ecs:UpdateService"), await known("ecs:UpdateServices"), await known("s3:*"), await known("s4:*")]).toEqual([true, false, true, false]);
    const actions = Object.values(p).flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(10);
    const unknown: string[] = [];
    for (const action of new Set(actions)) if (!(await known(action))) unknown.push(action);
    expect(unknown).toEqual([]);
  });

  test("state bucket, evaluated: a request without TLS is denied even to someone allowed to read the states", async () => {
    const bucketPolicy = policies.bucket;
    const reader = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-nb-state/*" }] };
    const get = (secure: string) => ({
      principal: `arn:aws:iam::${ACCOUNT}:user/alice`,
      action: "s3:GetObject",
      resource: "arn:aws:s3:::acme-nb-state/jupyter-notebooks/dev/alice/terraform.tfstate",
      context: { "aws:SecureTransport": secure },
    });
    expect(await decide(get("true"), { identity: reader, resource: bucketPolicy })).toBe("Allowed");
    expect(await decide(get("false"), { identity: reader, resource: bucketPolicy })).toBe("ExplicitlyDenied");
  });

  test("state bucket: denies every request that is not over TLS", () => {
    expect(p.bucket.Statement).toEqual([
      {
        Sid: "DenyWithoutTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: ["<aws_s3_bucket.state_bucket.arn>", "<aws_s3_bucket.state_bucket.arn>/*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });
});
