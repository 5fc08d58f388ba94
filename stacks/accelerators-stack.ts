import { Construct } from "constructs";
import { Fn, TerraformOutput, TerraformStack } from "cdktf";
import { DataAwsEcsCluster } from "@cdktf/provider-aws/lib/data-aws-ecs-cluster";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { AcceleratorCapacity } from "../modules/accelerators/capacity";
import { CAPACITY_CLUSTER_OUTPUT, CAPACITY_PROVIDERS_OUTPUT, CAPACITY_SUBNETS_OUTPUT } from "../modules/accelerators/capacity-state";
import { SUBNET_RE } from "./patterns";
import { acceleratorCapacityVariables } from "./accelerator-variables";
import { AcceleratorsStackSpec } from "./stack-specs";
import { administratorProvider, configureBackend, requireTerraformVersion } from "./terraform-settings";
import { profileNameVariable, regionVariable, tagsVariable } from "./variables";
import { patternRule, re, variable } from "./variable-rules";

/**
 * `accelerators-<env>` (`accelerators` for the local notebook stack): accelerated capacity
 * added to a team's own cluster, for an environment without a platform stack. It looks the
 * cluster up and adds one ECS Managed Instances capacity provider per instance type, each
 * created in the cluster: the cluster's capacity-provider list, which the team keeps, is
 * not rewritten. Deployed once per environment by an administrator; notebook stacks read its
 * `accelerator_capacity_providers` output from its state.
 */
export class AcceleratorsStack extends TerraformStack {
  public readonly spec: AcceleratorsStackSpec;
  public readonly capacity: AcceleratorCapacity;

  constructor(scope: Construct, spec: AcceleratorsStackSpec) {
    super(scope, spec.stackId);
    this.spec = spec;
    requireTerraformVersion(this);
    configureBackend(this, spec.backend);
    const vars = {
      region: regionVariable(this, "AWS region of the team's cluster, e.g. eu-west-1."),
      profileName: profileNameVariable(this),
      ecsClusterName: variable(this, "ecs_cluster_name", {
        type: "string",
        description: "Name of the team's existing ECS cluster, the one its notebook vars files name.",
        validation: [patternRule("ecs_cluster_name", "^[A-Za-z0-9_-]{1,255}$", "must be a cluster name (1-255 letters, digits, '-' or '_'; not an ARN)")],
      }),
      subnetIds: variable(this, "subnet_ids", {
        type: "list(string)",
        description:
          "Subnets the instances run in: the notebooks' own (fargate_subnets of their vars files), private ones with a NAT gateway (ECS gives no public IP to a task on an instance).",
        validation: [
          {
            condition: `\${length(var.subnet_ids) >= 1 && length(var.subnet_ids) <= 16 && alltrue([for s in var.subnet_ids : can(regex(${re(
              SUBNET_RE,
            )}, s))])}`,
            errorMessage: "subnet_ids must list 1 to 16 subnet IDs like subnet-0123456789abcdef0 (8 or 17 hex digits), got ${jsonencode(var.subnet_ids)}.",
          },
        ],
      }),
      ...acceleratorCapacityVariables(this),
      tags: tagsVariable(this, "Environment, Project, ManagedBy and Purpose", "this stack"),
    };

    administratorProvider(this, vars, spec.environment, "notebook-accelerators");

    // Only looked up: the cluster (it must exist, in this region) and the subnets' VPC.
    const cluster = new DataAwsEcsCluster(this, "cluster", { clusterName: vars.ecsClusterName.stringValue });
    const subnet = new DataAwsSubnet(this, "subnet", { id: Fn.element(vars.subnetIds.listValue, 0) });
    this.capacity = new AcceleratorCapacity(this, "accelerators", {
      environment: spec.environment,
      clusterName: cluster.clusterName,
      clusterArn: cluster.arn,
      subnetIds: vars.subnetIds.listValue,
      vpcId: subnet.vpcId,
      instanceTypes: vars.acceleratorInstanceTypes.listValue,
      volumeGib: vars.acceleratorVolumeGib.numberValue,
      idleSeconds: vars.acceleratorIdleSeconds.numberValue,
    });
    new TerraformOutput(this, CAPACITY_PROVIDERS_OUTPUT, {
      value: this.capacity.capacityProviderNames,
      description: "Accelerated capacity: instance type => ECS capacity provider; empty without accelerator_instance_types.",
    });
    // Where the capacity is: an accelerated notebook checks, when planning, that it runs there.
    new TerraformOutput(this, CAPACITY_CLUSTER_OUTPUT, { value: cluster.clusterName, description: "The cluster the capacity providers were added to." });
    new TerraformOutput(this, CAPACITY_SUBNETS_OUTPUT, { value: vars.subnetIds.listValue, description: "The subnets the accelerated instances run in." });
  }
}
