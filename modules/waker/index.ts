import { Construct } from "constructs";
import { AssetType, Fn, TerraformAsset, Token } from "cdktf";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { LbTargetGroupAttachment } from "@cdktf/provider-aws/lib/lb-target-group-attachment";
import { WAKER_HANDLER, wakerCodeDir } from "./code";
export { WAKER_TAGS } from "./tags";

export interface WakerLoadBalancer {
  /** The load balancer's name (its rules' ARNs contain it). */
  readonly name: string;
  /**
   * The name of its waker target group.
   * @default one Terraform makes up (a team's own load balancer may have target groups of any name)
   */
  readonly targetGroupName?: string;
  readonly arn: string;
  /** The HTTPS listener whose rules route to notebooks. */
  readonly listenerArn: string;
}

export interface NotebookWakerProps {
  /** `jupyter-notebooks-<env>`: what the names start with. */
  readonly name: string;
  /** The environment: the waker acts only on notebooks whose Environment tag is this. */
  readonly environment: string;
  /** The project tag value: the waker acts only on notebooks whose Project tag is this. */
  readonly project: string;
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  /** The cluster the notebooks run on. */
  readonly clusterName: string;
  readonly clusterArn: string;
  /** One waker target group each (the first is `target_group_0`, ...). */
  readonly loadBalancers: WakerLoadBalancer[];
  /** Days the waker's log is kept. */
  readonly logRetentionDays?: number;
}

/**
 * Opening a stopped notebook's URL starts it. One Lambda function per environment ("the
 * waker", code in `waker/`), one Lambda target group per load balancer (one of its 100), and
 * an EventBridge rule on the cluster's stopped tasks:
 *
 * - a notebook's task stops and its service's desired count is 0 (an idle stop, `npm run
 *   stop`): the waker points the notebook's listener rule at the load balancer's waker target
 *   group, keeping its sign-in action and conditions;
 * - a request to that URL (after sign-in and the allowed CIDRs, which stay on the rule)
 *   reaches the waker: it starts the notebook once, answers a page that reloads itself, and
 *   points the rule back at the notebook's target group once it is healthy.
 *
 * Its role may change only this project's notebooks of this environment (their Project and
 * Environment tags). Construct ids are a contract: `log_group`, `role`, `role_policy`,
 * `function`, `target_group_<i>`, `invoke_from_load_balancer_<i>`, `target_<i>`,
 * `stopped_rule`, `stopped_target`, `invoke_from_events`.
 */
export class NotebookWaker extends Construct {
  public readonly function: LambdaFunction;
  public readonly role: IamRole;
  public readonly targetGroups: LbTargetGroup[];
  public readonly stoppedRule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: NotebookWakerProps) {
    super(scope, id);
    const functionName = `${props.name}-waker`;
    const arn = (service: string, resource: string) => `arn:${props.partition}:${service}:${props.region}:${props.account}:${resource}`;
    const projectTags = { "aws:ResourceTag/Project": props.project, "aws:ResourceTag/Environment": props.environment };

    const logGroup = new CloudwatchLogGroup(this, "log_group", { name: `/aws/lambda/${functionName}`, retentionInDays: props.logRetentionDays ?? 30 });

    this.role = new IamRole(this, "role", {
      // IAM names are account-wide: the Region keeps two platforms of one name apart.
      name: Fn.format(`${props.name}-waker-%s`, [props.region]),
      description: `Starts environment ${props.environment}'s stopped notebooks when their URL is opened`,
      assumeRolePolicy: Token.asString(
        Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
      ),
    });
    const services = arn("ecs", `service/${props.clusterName}/*`);
    const listenerRules = props.loadBalancers.map((lb) => arn("elasticloadbalancing", `listener-rule/app/${lb.name}/*`));
    new IamRolePolicy(this, "role_policy", {
      name: "wake-notebooks",
      role: this.role.name,
      policy: Token.asString(
        Fn.jsonencode({
          Version: "2012-10-17",
          Statement: [
            { Sid: "Log", Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${logGroup.arn}:*` },
            // Which notebook a hostname is, and whether it is healthy: these reads take no narrower resource.
            {
              Sid: "ReadRules",
              Effect: "Allow",
              Action: ["elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTargetHealth"],
              Resource: "*",
            },
            { Sid: "ReadServices", Effect: "Allow", Action: "ecs:DescribeServices", Resource: services },
            // Start a notebook, and switch its rule: only this project's notebooks of this environment.
            { Sid: "StartNotebooks", Effect: "Allow", Action: "ecs:UpdateService", Resource: services, Condition: { StringEquals: projectTags } },
            {
              Sid: "SwitchRules",
              Effect: "Allow",
              Action: "elasticloadbalancing:ModifyRule",
              Resource: listenerRules,
              Condition: { StringEquals: projectTags },
            },
            // A notebook without sign-in at the load balancer wakes only for its token.
            {
              Sid: "ReadTokens",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
              Resource: arn("secretsmanager", "secret:*/jupyter-token-*"),
              Condition: { StringEquals: projectTags },
            },
          ],
        }),
      ),
    });

    // Lambda target groups: no VPC, no port; the load balancer invokes the function.
    this.targetGroups = props.loadBalancers.map(
      (lb, i) =>
        new LbTargetGroup(this, `target_group_${i}`, {
          ...(lb.targetGroupName ? { name: lb.targetGroupName } : { namePrefix: "wake-" }),
          targetType: "lambda",
        }),
    );

    const code = new TerraformAsset(this, "code", { path: wakerCodeDir(), type: AssetType.ARCHIVE });
    this.function = new LambdaFunction(this, "function", {
      functionName,
      description: `Starts environment ${props.environment}'s stopped notebooks when their URL is opened`,
      role: this.role.arn,
      runtime: "nodejs22.x",
      handler: WAKER_HANDLER,
      filename: code.path,
      sourceCodeHash: code.assetHash,
      timeout: 15,
      memorySize: 256,
      environment: {
        variables: {
          WAKER_PROJECT: props.project,
          WAKER_ENVIRONMENT: props.environment,
          WAKER_LOAD_BALANCERS: Token.asString(
            Fn.jsonencode(props.loadBalancers.map((lb, i) => ({ targetGroupArn: this.targetGroups[i].arn, listenerArns: [lb.listenerArn] }))),
          ),
        },
      },
      dependsOn: [logGroup],
    });

    this.targetGroups.forEach((targetGroup, i) => {
      const permission = new LambdaPermission(this, `invoke_from_load_balancer_${i}`, {
        statementId: `load-balancer-${i}`,
        action: "lambda:InvokeFunction",
        functionName: this.function.functionName,
        principal: "elasticloadbalancing.amazonaws.com",
        sourceArn: targetGroup.arn,
      });
      new LbTargetGroupAttachment(this, `target_${i}`, { targetGroupArn: targetGroup.arn, targetId: this.function.arn, dependsOn: [permission] });
    });

    // A notebook's task stopped: if its service is at 0, the waker points its rule at itself.
    this.stoppedRule = new CloudwatchEventRule(this, "stopped_rule", {
      name: `${props.name}-notebook-stopped`,
      description: `A task of environment ${props.environment}'s notebook cluster stopped: the waker checks whether its notebook sleeps now`,
      eventPattern: Token.asString(
        Fn.jsonencode({
          source: ["aws.ecs"],
          "detail-type": ["ECS Task State Change"],
          detail: { clusterArn: [props.clusterArn], lastStatus: ["STOPPED"], group: [{ prefix: "service:" }] },
        }),
      ),
    });
    new CloudwatchEventTarget(this, "stopped_target", { rule: this.stoppedRule.name, arn: this.function.arn });
    new LambdaPermission(this, "invoke_from_events", {
      statementId: "notebook-stopped",
      action: "lambda:InvokeFunction",
      functionName: this.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: this.stoppedRule.arn,
    });
  }
}
