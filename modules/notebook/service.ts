import { Construct } from "constructs";
import { Fn, IResolvable, ITerraformDependable } from "cdktf";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { WAKER_TAGS } from "../waker/tags";
import { Condition, when } from "../platform/conditions";
import { NotebookCompute } from "./compute";
import { NotebookPlatform } from "./platform";
import { splat } from "../expressions";
import { CONTAINER_NAME, NOTEBOOK_PORT } from "./constants";
import { keepLogicalId } from "./logical-ids";
import { NotebookSecrets } from "./secrets";

export interface NotebookServiceProps {
  /** The construct the service belonged to before it moved here: its address stays its child's. */
  readonly owner: Construct;
  readonly platform: NotebookPlatform;
  /** `<prefix>-<suffix>`: the service's name. */
  readonly name: string;
  readonly taskDefinition: EcsTaskDefinition;
  /** Subnets the task runs in. */
  readonly subnets: string[];
  /** The task's security groups. */
  readonly securityGroupIds: string[];
  /**
   * Give the task a public IP (on Fargate: ECS gives none to a task on an instance).
   * @default false
   */
  readonly assignPublicIp?: boolean | IResolvable;
  /** Where the load balancer sends the notebook's requests. */
  readonly targetGroup: LbTargetGroup;
  /** Fargate on demand or Spot, or the accelerated capacity of the notebook's instance type. */
  readonly compute: NotebookCompute;
  /**
   * Allow ECS Exec into the notebook.
   * @default false
   */
  readonly enableExecuteCommand?: boolean | IResolvable;
  /** Why planning stops when the environment offers no capacity for the notebook's instance type. */
  /** The notebook's listener rule: the service's tag names it, for the waker. */
  readonly listenerRule: LbListenerRule;
  readonly capacityMissingMessage: string;
  /** More preconditions of an accelerated notebook: that it runs where its capacity is. */
  readonly placementChecks?: PlacementCheck[];
  /** The secrets whose new versions redeploy the service. */
  readonly secrets: NotebookSecrets;
  /** What must exist before the first task starts. */
  readonly dependsOn?: ITerraformDependable[];
}

/** A precondition of the service: a condition (an expression) and the message when it fails. */
export interface PlacementCheck {
  readonly condition: Condition;
  readonly errorMessage: string;
}

/**
 * The notebook's ECS service: one task (Fargate on demand or Spot, or on an instance of the
 * environment's accelerated capacity), one at a time, behind
 * the target group; a deploy waits until it answers, fails fast through the circuit
 * breaker, and starts a new task when a secret's value changes. Keeps the Terraform
 * address it had as the notebook's child.
 */
export class NotebookService extends Construct {
  public readonly resource: EcsService;

  constructor(scope: Construct, id: string, props: NotebookServiceProps) {
    super(scope, id);
    const compute = props.compute;
    const preconditions = [
      ...(typeof compute.capacityOffered === "boolean" ? [] : [{ condition: compute.capacityOffered, errorMessage: props.capacityMissingMessage }]),
      ...(props.placementChecks ?? []),
    ];

    this.resource = new EcsService(this, "service", {
      name: props.name,
      cluster: props.platform.clusterArn,
      taskDefinition: props.taskDefinition.arn,
      // On demand: the FARGATE launch type (no capacity provider needed on the cluster);
      // Spot: the FARGATE_SPOT capacity provider, which the cluster must have; an
      // accelerator: the capacity provider of its instance type.
      launchType: compute.launchType,
      enableExecuteCommand: props.enableExecuteCommand ?? false,
      // A change of capacity provider or of ECS Exec needs a new task: the provider refuses
      // a capacity provider change without it.
      forceNewDeployment: true,
      // A new token (or git token) is a new secret version, but the task definition names
      // the secret, not the version: without these the running task would keep the old
      // value. A changed version ID redeploys the service, and the deploy waits until the
      // notebook answers with the new value.
      triggers: {
        token_version: props.secrets.tokenValue.versionId,
        git_token_version: Fn.join(",", splat(props.secrets.gitTokenValue, "version_id")),
      },
      desiredCount: 1,
      // One task at a time: the old task stops before its replacement starts.
      deploymentMinimumHealthyPercent: 0,
      deploymentMaximumPercent: 100,
      healthCheckGracePeriodSeconds: 120,
      waitForSteadyState: true,
      // A task that never turns healthy (missing image tag, crash) fails the deploy in
      // minutes with ECS's reason, instead of waiting for the 20-minute timeout.
      deploymentCircuitBreaker: { enable: true, rollback: false },
      // The waker, told this service's task stopped, finds the rule to point at itself.
      tags: { [WAKER_TAGS.listenerRule]: props.listenerRule.arn },
      propagateTags: "SERVICE",
      enableEcsManagedTags: true,
      networkConfiguration: {
        subnets: props.subnets,
        securityGroups: props.securityGroupIds,
        assignPublicIp: when(compute.accelerated, false, props.assignPublicIp ?? false),
      },
      loadBalancer: [
        {
          targetGroupArn: props.targetGroup.arn,
          containerName: CONTAINER_NAME,
          containerPort: NOTEBOOK_PORT,
        },
      ],
      dependsOn: props.dependsOn,
      // (A literal condition, a Fargate notebook of a team file, is no precondition Terraform takes.)
      lifecycle: preconditions.length === 0 ? undefined : { precondition: preconditions },
    });
    keepLogicalId(this.resource, props.owner, "service");
    this.resource.addOverride("dynamic.capacity_provider_strategy", [
      { for_each: compute.capacityProviders, content: { capacity_provider: "${capacity_provider_strategy.value}", weight: 1 } },
    ]);
  }
}
