import { Construct } from "constructs";
import { Fn, ITerraformDependable, Op, Token } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { once, when } from "../platform/conditions";
import { NotebookCompute } from "./compute";
import { NotebookPlatform } from "./platform";
import { CONTAINER_NAME, NOTEBOOK_PORT } from "./constants";
import { keepLogicalId } from "./logical-ids";
import { PersistentHome } from "./persistent-home";
import { NotebookSecrets } from "./secrets";

export interface NotebookTaskDefinitionProps {
  /** The construct the task definition belonged to before it moved here: its address stays its child's. */
  readonly owner: Construct;
  readonly platform: NotebookPlatform;
  /** `<prefix>-<suffix>`: the task family. */
  readonly family: string;
  /** The ECS service's name, which the image scales to 0 after an idle stop. */
  readonly serviceName: string;
  /** Where the task runs, its size, devices and image. */
  readonly compute: NotebookCompute;
  readonly executionRole: IamRole;
  readonly taskRole: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  /** The owner's work directory on EFS (mounted only when the platform has a file system). */
  readonly home: PersistentHome;
  /** The token and git token: injected by ECS, never written in the task definition. */
  readonly secrets: NotebookSecrets;
  /**
   * Minutes of idleness before the image stops the notebook (0: never).
   * @default 120
   */
  readonly idleTimeoutMinutes?: number;
  /**
   * Repository the image clones at start (empty: none).
   * @default no repository
   */
  readonly gitRepositoryUrl?: string;
  /**
   * Task storage in GiB (21 to 200) on Fargate; undefined or null for Fargate's 20. Not used on
   * an instance: its volume is the capacity's.
   * @default Fargate's 20 GiB
   */
  readonly ephemeralStorageGib?: number;
  /** What must exist before the first task starts. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * The notebook's task definition, for Fargate or an accelerated instance (ECS Managed
 * Instances, with its GPUs or Neuron devices): one container running Jupyter on port 8888, its
 * token and git token injected by ECS from Secrets Manager, the idle stop and git preload
 * settings for the image's start script, logs to the notebook's log group, the EFS home and
 * extra Fargate storage when set. Keeps the Terraform address it had as the notebook's child.
 */
export class NotebookTaskDefinition extends Construct {
  public readonly resource: EcsTaskDefinition;

  constructor(scope: Construct, id: string, props: NotebookTaskDefinitionProps) {
    super(scope, id);
    const platform = props.platform;
    const gitRepositoryUrl = props.gitRepositoryUrl ?? "";
    const compute = props.compute;

    this.resource = new EcsTaskDefinition(this, "task_definition", {
      family: props.family,
      requiresCompatibilities: compute.requiresCompatibilities,
      networkMode: "awsvpc",
      cpu: compute.cpu,
      memory: compute.memory,
      executionRoleArn: props.executionRole.arn,
      taskRoleArn: props.taskRole.arn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      containerDefinitions: Fn.jsonencode([
        {
          name: CONTAINER_NAME,
          image: compute.image,
          // null: the image's own command (all but the default Neuron image).
          command: compute.command,
          essential: true,
          portMappings: [{ containerPort: NOTEBOOK_PORT, protocol: "tcp" }],
          mountPoints: props.home.mountPoints,
          // Fargate Spot gives 2 minutes' notice: use the longest stop timeout to save work
          // (on demand: ECS's default, left unset so existing task definitions do not change).
          stopTimeout: when<unknown>(compute.spot, 120, Token.nullValue()),
          // The GPUs asked for, or all Neuron devices of the instance; null on Fargate.
          resourceRequirements: compute.resourceRequirements,
          // Jupyter Server reads its token from JUPYTER_TOKEN; ECS fetches it from the secret.
          secrets: once(
            Fn.concat([
              [{ name: "JUPYTER_TOKEN", valueFrom: props.secrets.tokenSecret.arn }],
              // One entry per git token secret: none without a git token.
              when(
                once(Op.gte(Fn.lengthOf(props.secrets.gitSecretArns), 1)),
                [{ name: "NOTEBOOK_GIT_TOKEN", valueFrom: Fn.one(props.secrets.gitSecretArns) }],
                [],
              ),
            ]),
          ),
          // Read by notebook-image/start-notebook.sh (ignored by other images). No value is
          // ever empty: ECS drops empty ones, and the provider would then see a change on
          // every plan and replace the task definition.
          environment: once(
            Fn.concat([
              [
                { name: "NOTEBOOK_IDLE_MINUTES", value: Fn.tostring(props.idleTimeoutMinutes ?? 120) },
                { name: "NOTEBOOK_ECS_CLUSTER", value: platform.clusterArn },
                { name: "NOTEBOOK_ECS_SERVICE", value: props.serviceName },
                { name: "AWS_DEFAULT_REGION", value: platform.regionName },
              ],
              when(once(Op.gte(Fn.lengthOf(gitRepositoryUrl), 1)), [{ name: "NOTEBOOK_GIT_REPOSITORY", value: gitRepositoryUrl }], []),
            ]),
          ),
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": props.logGroup.name,
              "awslogs-region": platform.regionName,
              "awslogs-stream-prefix": CONTAINER_NAME,
            },
          },
        },
      ]),
      dependsOn: props.dependsOn,
    });
    keepLogicalId(this.resource, props.owner, "task_definition");
    this.resource.addOverride("dynamic.volume", [{ for_each: when(props.home.enabled, ["home"], []), content: props.home.volume }]);
    // Fargate only (ECS refuses ephemeralStorage on Managed Instances).
    const storage = when<unknown>(once(Op.eq(props.ephemeralStorageGib ?? Token.nullValue(), Token.nullValue())), [], [props.ephemeralStorageGib]);
    this.resource.addOverride("dynamic.ephemeral_storage", [
      { for_each: when<unknown>(compute.accelerated, [], storage), content: { size_in_gib: "${ephemeral_storage.value}" } },
    ]);
  }
}
