import { Construct } from "constructs";
import { Token } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { Condition, when } from "./conditions";

/** Capacity providers of the platform's cluster: notebooks choose one (their capacity_provider). */
export const CLUSTER_CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"];

export interface NotebookClusterProps {
  /** Name of the cluster. */
  readonly name: string;
  /**
   * CloudWatch Container Insights (billed per metric). May be an expression.
   * @default false: no Container Insights
   */
  readonly containerInsights?: Condition;
}

/**
 * The ECS cluster the environment's notebooks run on, with Fargate and Fargate Spot. The
 * platform owns this cluster, so it owns its capacity-provider list too (a notebook never
 * changes it).
 */
export class NotebookCluster extends Construct {
  public readonly cluster: EcsCluster;
  public readonly capacityProviders: EcsClusterCapacityProviders;

  constructor(scope: Construct, id: string, props: NotebookClusterProps) {
    super(scope, id);
    const containerInsights = props.containerInsights ?? false;

    this.cluster = new EcsCluster(this, "cluster", {
      name: props.name,
      setting: [{ name: "containerInsights", value: Token.asString(when(containerInsights, "enabled", "disabled")) }],
    });
    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity_providers", {
      clusterName: this.cluster.name,
      capacityProviders: CLUSTER_CAPACITY_PROVIDERS,
      // A service that names no capacity provider runs on demand.
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  }
}
