import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import { AcceleratorCapacity } from "../modules/accelerators/capacity";
import { CAPACITY_PROVIDERS_OUTPUT } from "../modules/accelerators/capacity-state";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { NotebookWaker } from "../modules/waker";
import { HTTPS_PORT, loadBalancerName, Platform, platformName, PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER } from "../modules/platform";
import { declarePlatformVariables, PlatformVariables } from "./platform-variables";
import { SettingsError } from "./settings-error";
import { MAX_TARGET_GROUPS_PER_LOAD_BALANCER } from "./settings";
import { LOCAL_ENVIRONMENT, PlatformStackSpec } from "./stack-specs";
import { administratorProvider, configureBackend, PROJECT_TAG, requireTerraformVersion } from "./terraform-settings";

/**
 * `platform-<env>` (`platform` for the local notebook stack): what an environment's notebooks
 * share, for a team that starts from an empty account and a public Route 53 zone: network,
 * ECS cluster, certificate, load balancers with HTTPS and, optionally, EFS (modules/platform).
 * Deployed once per environment by an administrator; each notebook stack reads its outputs
 * from this stack's state (modules/platform-state), so the output names are a contract.
 */
export class PlatformStack extends TerraformStack {
  public readonly variables: PlatformVariables;
  public readonly platform: Platform;
  public readonly spec: PlatformStackSpec;
  /** Accelerated capacity (none without accelerator_instance_types). */
  public readonly accelerators: AcceleratorCapacity;
  /** Opening a stopped notebook's URL starts it. */
  public readonly waker: NotebookWaker;

  constructor(scope: Construct, spec: PlatformStackSpec) {
    super(scope, spec.stackId);
    this.spec = spec;
    // Every notebook placed on a load balancer takes one of its target groups.
    if (spec.notebooksPerLoadBalancer + PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER > MAX_TARGET_GROUPS_PER_LOAD_BALANCER) {
      throw new SettingsError(
        `${spec.stackId}: ${spec.notebooksPerLoadBalancer} notebooks per load balancer and the platform's ${PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER} target groups ` +
          `exceed the ${MAX_TARGET_GROUPS_PER_LOAD_BALANCER} target groups a load balancer holds: lower maxNotebooks, or raise loadBalancers instead`,
      );
    }
    requireTerraformVersion(this);
    configureBackend(this, spec.backend);
    const vars = (this.variables = declarePlatformVariables(this));
    const env = spec.environment;

    administratorProvider(this, vars, env, "notebook-platform");

    const notebookStack = env === LOCAL_ENVIRONMENT ? "notebook" : `notebook-${env}`;
    const platform = (this.platform = new Platform(this, "platform", {
      environment: env,
      loadBalancers: spec.loadBalancers,
      hostedZoneId: vars.hostedZoneId.stringValue,
      domain: vars.domain.stringValue,
      vpcId: vars.vpcId.stringValue,
      vpcCidr: vars.vpcCidr.stringValue,
      availabilityZones: vars.availabilityZones.numberValue,
      taskNetwork: vars.taskNetwork.stringValue,
      loadBalancerSubnetIds: vars.loadBalancerSubnetIds.listValue,
      notebookSubnetIds: vars.notebookSubnetIds.listValue,
      allowedCidrs: vars.allowedCidrs.listValue,
      idleTimeoutSeconds: vars.idleTimeoutSeconds.numberValue,
      accessLogsBucket: vars.accessLogsBucket.stringValue,
      accessLogsPrefix: vars.accessLogsPrefix.stringValue,
      efs: vars.efs.booleanValue,
      containerInsights: vars.containerInsights.booleanValue,
      notFoundMessage: `No notebook here. Check the address, or deploy your notebook (npx cdktf deploy ${notebookStack}).`,
    }));

    // Accelerated capacity on the platform's cluster, in the notebook subnets (private ones:
    // accelerator_instance_types requires task_network "private").
    this.accelerators = new AcceleratorCapacity(this, "accelerators", {
      environment: env,
      clusterName: platform.cluster.cluster.name,
      clusterArn: platform.cluster.cluster.arn,
      subnetIds: platform.network.notebookSubnetIds,
      vpcId: platform.network.vpcId,
      instanceTypes: vars.acceleratorInstanceTypes.listValue,
      volumeGib: vars.acceleratorVolumeGib.numberValue,
      idleSeconds: vars.acceleratorIdleSeconds.numberValue,
    });
    // The cluster's own list keeps Fargate's providers; ECS lists the capacity providers created
    // in it there too, and the AWS provider would otherwise try to drop them (terraform-provider-aws#46346).
    // Latent: any other change to that resource (its default strategy) makes the provider call
    // PutClusterCapacityProviders with the list it read, Managed Instances providers included,
    // which ECS refuses (terraform-provider-aws#44783). Nothing here changes it today; a change
    // that does must first take the accelerated capacity away (accelerator_instance_types = []).
    platform.cluster.capacityProviders.addOverride("lifecycle.ignore_changes", ["capacity_providers"]);

    // A stopped notebook's URL wakes it: one waker target group per load balancer.
    this.waker = new NotebookWaker(this, "waker", {
      name: platformName(env),
      environment: env,
      project: PROJECT_TAG,
      region: vars.region.stringValue,
      account: new DataAwsCallerIdentity(this, "account").accountId,
      partition: new DataAwsPartition(this, "partition").partition,
      clusterName: platform.cluster.cluster.name,
      clusterArn: platform.cluster.cluster.arn,
      loadBalancers: platform.loadBalancers.map((lb, i) => ({
        name: loadBalancerName(env, i),
        targetGroupName: loadBalancerName(env, i),
        arn: lb.loadBalancer.arn,
        listenerArn: lb.httpsListener.arn,
      })),
    });

    // Some outputs share their names with variables (region, domain, hosted_zone_id), and
    // construct ids must be unique: the outputs live in a scope of their own, named exactly.
    const outputs = new Construct(this, "outputs");
    const output = (name: string, value: unknown, description: string) => new TerraformOutput(outputs, name, { value, description }).overrideLogicalId(name);
    output("region", vars.region.stringValue, "Region of the platform: notebooks must deploy to it.");
    output("cluster_name", platform.cluster.cluster.name, "ECS cluster the notebooks run on.");
    output("cluster_arn", platform.cluster.cluster.arn, "ARN of that cluster.");
    output("vpc_id", platform.network.vpcId, "VPC of the load balancers and notebooks.");
    output("notebook_subnet_ids", platform.network.notebookSubnetIds, "Subnets the notebooks run in.");
    output("assign_public_ip", platform.assignPublicIp, "Whether notebook tasks get a public IP (task_network public).");
    output("hosted_zone_id", platform.certificate.zone.zoneId, "Route 53 zone the notebooks' records go in.");
    output("zone_name", platform.certificate.zoneName, "Name of that zone, without the trailing dot.");
    output("domain", platform.certificate.domain, "Domain of the notebook hostnames (<prefix>-<suffix>.<domain>), without the trailing dot.");
    output("listener_port", HTTPS_PORT, "Port of every load balancer's HTTPS listener.");
    output(
      "load_balancers",
      platform.loadBalancers.map((lb) => ({
        name: lb.loadBalancer.name,
        arn: lb.loadBalancer.arn,
        dns_name: lb.loadBalancer.dnsName,
        zone_id: lb.loadBalancer.zoneId,
        https_listener_arn: lb.httpsListener.arn,
        security_group_ids: [platform.loadBalancerSecurityGroup.securityGroup.id],
      })),
      "The load balancers in index order (load_balancer_0 first): name, arn, dns_name, zone_id, https_listener_arn, security_group_ids.",
    );
    output("notebooks_per_load_balancer", spec.notebooksPerLoadBalancer, "Notebooks one load balancer holds.");
    output("efs_file_system_id", platform.fileSystem.fileSystemId, 'EFS file system for notebook homes; "" without efs.');
    output("efs_file_system_arn", platform.fileSystem.fileSystemArn, 'ARN of that file system; "" without efs.');
    output(
      "efs_security_group_id",
      platform.fileSystem.securityGroupId,
      'Security group of the mount targets, which notebooks join to reach them; "" without efs.',
    );
    output(
      CAPACITY_PROVIDERS_OUTPUT,
      this.accelerators.capacityProviderNames,
      "Accelerated capacity: instance type => ECS capacity provider; empty without accelerator_instance_types.",
    );
  }
}
