import { Construct } from "constructs";
import { conditional, Fn, IResolvable, TerraformIterator, Token } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { NotebookPlatform } from "./platform";
import { keepLogicalId } from "./logical-ids";

export interface NotebookRolesProps {
  /** The construct these resources belonged to before they moved here: their addresses stay its children's. */
  readonly owner: Construct;
  readonly platform: NotebookPlatform;
  /** `<prefix>-<suffix>`: names the roles. */
  readonly name: string;
  /** The notebook's secrets: the only ones the execution role may read. */
  readonly secretArns: string[];
  /** The notebook's log group: where an ECS Exec session log goes. */
  readonly logGroup: CloudwatchLogGroup;
  /**
   * Managed policies attached to the task role (e.g. read access to the team's data).
   * @default none
   */
  readonly taskRolePolicyArns?: string[];
  /**
   * Give the task role what ECS Exec needs.
   * @default false
   */
  readonly enableExecuteCommand?: boolean | IResolvable;
  /**
   * Permissions boundary of both roles (the environment's notebook role boundary, which
   * its notebook user policy requires).
   * @default no boundary
   */
  readonly permissionsBoundary?: string;
}

/**
 * The notebook's two roles. The execution role (ECS starting the task) may read the
 * notebook's own secrets besides AWS's task execution policy; the task role (code in the
 * notebook) may scale its own service to 0 after an idle stop, plus what the options add.
 * Both trust only ECS acting for this account. The resources keep the Terraform addresses
 * they had as direct children of the notebook (keepLogicalId).
 */
export class NotebookRoles extends Construct {
  public readonly executionRole: IamRole;
  public readonly managedPolicy: IamRolePolicyAttachment;
  public readonly readSecrets: IamRolePolicy;
  /** Role of the running notebook: may set its own service's desired count, nothing else unless an option adds it. */
  public readonly taskRole: IamRole;
  /** ECS Exec's permissions: one instance when enabled, none otherwise. */
  public readonly executeCommandPolicy: IamRolePolicy;
  private readonly owner: Construct;

  constructor(scope: Construct, id: string, props: NotebookRolesProps) {
    super(scope, id);
    this.owner = props.owner;
    const platform = props.platform;

    this.executionRole = new IamRole(this, "execution_role", {
      name: `${props.name}-execution`,
      description: `ECS task execution role of notebook ${props.name}`,
      assumeRolePolicy: ecsTasksTrustPolicy(platform, false),
      permissionsBoundary: props.permissionsBoundary,
    });
    keepLogicalId(this.executionRole, props.owner, "execution_role");
    this.managedPolicy = new IamRolePolicyAttachment(this, "execution_role_managed_policy", {
      role: this.executionRole.name,
      policyArn: `arn:${platform.partitionName}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`,
    });
    keepLogicalId(this.managedPolicy, props.owner, "execution_role_managed_policy");
    this.readSecrets = new IamRolePolicy(this, "execution_role_read_token", {
      name: "read-own-secrets",
      role: this.executionRole.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadThisNotebooksSecretsOnly",
            Effect: "Allow",
            Action: "secretsmanager:GetSecretValue",
            Resource: props.secretArns,
          },
        ],
      }),
    });
    keepLogicalId(this.readSecrets, props.owner, "execution_role_read_token");

    this.taskRole = new IamRole(this, "task_role", {
      name: `${props.name}-task`,
      description: `Role of the running notebook ${props.name}`,
      assumeRolePolicy: ecsTasksTrustPolicy(platform, true),
      permissionsBoundary: props.permissionsBoundary,
    });
    keepLogicalId(this.taskRole, props.owner, "task_role");

    // Policies the team chose for the notebook's work (none by default).
    const extraPolicies = TerraformIterator.fromList(props.taskRolePolicyArns ?? []);
    const extra = new IamRolePolicyAttachment(this, "task_role_extra_policy", {
      forEach: extraPolicies,
      role: this.taskRole.name,
      policyArn: Token.asString(extraPolicies.value),
    });
    keepLogicalId(extra, props.owner, "task_role_extra_policy");

    // ECS Exec, only when enabled: the SSM channels the agent opens, and the session log
    // it writes to the notebook's own log group (the cluster's default Exec logging).
    this.executeCommandPolicy = new IamRolePolicy(this, "task_role_execute_command", {
      count: Token.asNumber(conditional(props.enableExecuteCommand ?? false, 1, 0)),
      name: "ecs-exec",
      role: this.taskRole.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EcsExecChannels",
            Effect: "Allow",
            Action: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
            Resource: "*",
          },
          {
            Sid: "EcsExecSessionLog",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            Resource: [props.logGroup.arn, `${props.logGroup.arn}:*`],
          },
          { Sid: "EcsExecFindLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ],
      }),
    });
    keepLogicalId(this.executeCommandPolicy, props.owner, "task_role_execute_command");
  }

  /**
   * After an idle stop the notebook sets its own service's desired count to 0, so that ECS
   * does not start it again: that one action on that one service.
   */
  public allowScalingOwnService(service: EcsService): void {
    const stopWhenIdle = new IamRolePolicy(this, "task_role_stop_when_idle", {
      name: "stop-own-service-when-idle",
      role: this.taskRole.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [{ Sid: "ScaleOwnServiceToZero", Effect: "Allow", Action: "ecs:UpdateService", Resource: service.arn }],
      }),
    });
    keepLogicalId(stopWhenIdle, this.owner, "task_role_stop_when_idle");
  }
}

/**
 * Only ECS acting for this account may assume the notebook's roles (the confused-deputy
 * guard AWS recommends): `aws:SourceAccount` on both roles. The task role also names ECS
 * tasks of this region and account in `aws:SourceArn`, as the ECS task role guide shows;
 * the execution role is assumed by ECS's agents, whose requests AWS documents with the
 * account only, so it keeps to `aws:SourceAccount`.
 */
function ecsTasksTrustPolicy(platform: NotebookPlatform, withSourceArn: boolean): string {
  const account = platform.accountId;
  const condition: Record<string, unknown> = { StringEquals: { "aws:SourceAccount": account } };
  if (withSourceArn) {
    condition.ArnLike = { "aws:SourceArn": `arn:${platform.partitionName}:ecs:${platform.regionName}:${account}:*` };
  }
  return Fn.jsonencode({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole", Condition: condition }],
  });
}

