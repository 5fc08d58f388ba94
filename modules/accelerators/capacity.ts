import { Construct } from "constructs";
import { Fn, Op, ref, TerraformIterator, TerraformStack, Token } from "cdktf";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { EcsCapacityProvider } from "@cdktf/provider-aws/lib/ecs-capacity-provider";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { address, splat } from "../expressions";
import { lengthOf } from "../platform/conditions";
import { inlineRule } from "../platform/inline-rule";
import { instanceTypesHcl } from "./instance-types";

/** AWS's managed policies of ECS Managed Instances: what ECS may do to launch instances, and what an instance may do. */
export const INFRASTRUCTURE_POLICY = "AmazonECSInfrastructureRolePolicyForManagedInstances";
export const INSTANCE_POLICY = "AmazonECSInstanceRolePolicyForManagedInstances";
/**
 * The infrastructure policy lets ECS pass only roles whose name starts with this
 * (iam:PassRole on role/ecsInstanceRole*): the instance role's name must.
 */
export const INSTANCE_ROLE_NAME_PREFIX = "ecsInstanceRole";

export const DEFAULT_VOLUME_GIB = 100;
export const DEFAULT_IDLE_SECONDS = 300;

export interface AcceleratorCapacityProps {
  /** Environment name: the names of the roles, security group and capacity providers. */
  readonly environment: string;
  /** The cluster the capacity providers belong to (each is created in it: the cluster's own capacity-provider list is not changed). */
  readonly clusterName: string;
  /**
   * That cluster's ARN: the names carry 6 hex digits of its SHA-1 (account, Region and
   * cluster), so environments of the same name on other clusters, in other Regions or other
   * projects of the account never take each other's roles (IAM names are account-wide).
   */
  readonly clusterArn: string;
  /** Subnets the instances run in: those of the notebooks, with a NAT gateway (tasks on instances get no public IP). */
  readonly subnetIds: string[];
  /** VPC of those subnets: the instances' security group lives there. */
  readonly vpcId: string;
  /** Instance types offered, one capacity provider each (an expression: a list variable). Each must be in INSTANCE_TYPES. */
  readonly instanceTypes: string[];
  /**
   * Size of each instance's volume (GiB), which holds the images and the tasks' scratch space.
   * @default 100 GiB
   */
  readonly volumeGib?: number;
  /**
   * Seconds an instance without notebooks runs before ECS ends it (0 to 3600).
   * @default 300 seconds
   */
  readonly idleSeconds?: number;
}

/**
 * Accelerated capacity for notebooks on an existing cluster: one ECS Managed Instances
 * capacity provider per instance type, which launches an instance of that type when a
 * notebook asks for one and ends it once no notebook runs there. Each provider is created in
 * the cluster (`cluster`), so the cluster's capacity-provider list, which its owner keeps, is
 * never rewritten. With no instance type, nothing is created.
 *
 * Construct ids are part of the contract: `infrastructure_role`, `instance_role`,
 * `instance_profile`, `security_group` and `capacity_provider` (one instance per type).
 */
export class AcceleratorCapacity extends Construct {
  public readonly infrastructureRole: IamRole;
  public readonly instanceRole: IamRole;
  public readonly instanceProfile: IamInstanceProfile;
  public readonly securityGroup: SecurityGroup;
  public readonly capacityProviders: EcsCapacityProvider;
  /** Instance type => capacity provider name: what notebooks read (the `accelerator_capacity_providers` output). */
  public readonly capacityProviderNames: Record<string, string>;

  constructor(scope: Construct, id: string, props: AcceleratorCapacityProps) {
    super(scope, id);
    const env = props.environment;
    /** `jupyter-<env>-<6 hex digits of the cluster ARN's SHA-1>`: what every name starts with (the instance role's after its prefix). */
    const base = Fn.format(`jupyter-${env}-%s`, [Fn.substr(Fn.sha1(props.clusterArn), 0, 6)]);
    const named = (suffix: string) => Fn.format(`%s${suffix}`, [base]);
    // The roles, profile and group once, when at least one instance type is offered.
    const offered = lengthOf(props.instanceTypes);
    const count = typeof offered === "number" && !Token.isUnresolved(offered) ? Math.min(offered, 1) : Token.asNumber(Fn.min([offered, 1]));
    const partition = new DataAwsPartition(this, "partition");
    const managedPolicy = (name: string) => `arn:${partition.partition}:iam::aws:policy/${name}`;
    const only = (list: string[]) => Fn.join("", list);

    /** A role that an AWS service assumes, with one AWS managed policy attached. */
    const serviceRole = (roleId: string, policyId: string, props: { name: string; description: string; service: string; policy: string }) => {
      const role = new IamRole(this, roleId, {
        count,
        name: props.name,
        description: props.description,
        assumeRolePolicy: Token.asString(
          Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: props.service }, Action: "sts:AssumeRole" }] }),
        ),
      });
      const attachment = new IamRolePolicyAttachment(this, policyId, { count, role: only(splat(role, "name")), policyArn: managedPolicy(props.policy) });
      return { role, attachment };
    };
    const infrastructure = serviceRole("infrastructure_role", "infrastructure_policy", {
      name: named("-ecs-infrastructure"),
      description: `ECS launches and ends the accelerated instances of environment ${env}'s notebooks`,
      service: "ecs.amazonaws.com",
      policy: INFRASTRUCTURE_POLICY,
    });
    const instance = serviceRole("instance_role", "instance_policy", {
      name: Fn.format(`${INSTANCE_ROLE_NAME_PREFIX}-%s`, [base]),
      description: `The ECS agent on environment ${env}'s accelerated notebook instances`,
      service: "ec2.amazonaws.com",
      policy: INSTANCE_POLICY,
    });
    this.infrastructureRole = infrastructure.role;
    this.instanceRole = instance.role;
    const infrastructurePolicy = infrastructure.attachment;
    const instancePolicy = instance.attachment;
    this.instanceProfile = new IamInstanceProfile(this, "instance_profile", {
      count,
      name: Fn.format(`${INSTANCE_ROLE_NAME_PREFIX}-%s`, [base]),
      role: only(splat(this.instanceRole, "name")),
    });
    // The instances' own network interface: image pulls, secrets, logs and the ECS agent go
    // out through it. Notebook tasks have interfaces of their own, in the notebooks' groups.
    this.securityGroup = new SecurityGroup(this, "security_group", {
      count,
      name: named("-accelerated-instances"),
      description: `Accelerated notebook instances of environment ${env}: nothing in; out for image pulls and the ECS agent`,
      vpcId: props.vpcId,
      ingress: [],
      egress: [
        inlineRule({
          description: "image pulls, ECS agent, logs, secrets",
          protocol: "-1",
          fromPort: 0,
          toPort: 0,
          cidrBlocks: ["0.0.0.0/0"],
          ipv6CidrBlocks: ["::/0"],
        }),
      ],
      tags: { Name: named("-accelerated-instances") },
    });

    const types = TerraformIterator.fromList(props.instanceTypes);
    const table = Fn.lookup(instanceTypesHcl(), types.value, {});
    this.capacityProviders = new EcsCapacityProvider(this, "capacity_provider", {
      forEach: types,
      name: Fn.format("%s-%s", [base, Fn.replace(types.value, ".", "-")]),
      cluster: props.clusterName,
      managedInstancesProvider: {
        infrastructureRoleArn: only(splat(this.infrastructureRole, "arn")),
        propagateTags: "CAPACITY_PROVIDER",
        // An instance without notebooks ends after this long; 0 would end it at once.
        infrastructureOptimization: { scaleInAfter: props.idleSeconds ?? DEFAULT_IDLE_SECONDS },
        instanceLaunchTemplate: {
          ec2InstanceProfileArn: only(splat(this.instanceProfile, "arn")),
          monitoring: "BASIC",
          networkConfiguration: { subnets: props.subnetIds, securityGroups: splat(this.securityGroup, "id") },
          storageConfiguration: { storageSizeGib: props.volumeGib ?? DEFAULT_VOLUME_GIB },
          instanceRequirements: {
            // Exactly this instance type: a notebook asks for it by name.
            allowedInstanceTypes: [types.value],
            vcpuCount: { min: Token.asNumber(Fn.lookup(table, "vcpus", 1)) },
            memoryMib: { min: Token.asNumber(Op.mul(Fn.lookup(table, "memory_gib", 1), 1024)) },
          },
        },
      },
      // ECS checks the roles when the provider is created.
      dependsOn: [infrastructurePolicy, instancePolicy],
    });
    this.capacityProviderNames = Token.asStringMap(
      ref(`{ for type, provider in ${address(this.capacityProviders)} : type => provider.name }`, TerraformStack.of(this)),
    );
  }
}
