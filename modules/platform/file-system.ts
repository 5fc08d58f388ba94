import { Construct } from "constructs";
import { Fn, Op, TerraformCount, Token } from "cdktf";
import { EfsFileSystem } from "@cdktf/provider-aws/lib/efs-file-system";
import { EfsFileSystemPolicy } from "@cdktf/provider-aws/lib/efs-file-system-policy";
import { EfsMountTarget } from "@cdktf/provider-aws/lib/efs-mount-target";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { splat } from "../expressions";
import { Condition, countWhen } from "./conditions";
import { inlineRule } from "./inline-rule";

/** NFS. */
export const NFS_PORT = 2049;

/**
 * The file system policy: no access without TLS, and none without an access point, so a
 * notebook (which mounts through its own access point, with IAM authorization) sees only its
 * own directory. The JSON of the README's "Persistent home on EFS".
 */
export const FILE_SYSTEM_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "DenyWithoutTls",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "*",
      Resource: "*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    {
      Sid: "DenyWithoutAccessPoint",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite", "elasticfilesystem:ClientRootAccess"],
      Resource: "*",
      Condition: { Null: { "elasticfilesystem:AccessPointArn": "true" } },
    },
  ],
};

export interface NotebookFileSystemProps {
  /** Name (tag) of the file system, and of its security group. */
  readonly name: string;
  /**
   * Whether to create the file system at all (an expression: the platform's `efs` variable).
   * @default true: the file system is created
   */
  readonly enabled?: Condition;
  readonly vpcId: string;
  /** Subnets the notebooks run in: one mount target in each, so each must be in its own zone. */
  readonly subnetIds: string[];
  /** How many subnets there are: known when planning (a count). */
  readonly subnetCount: number;
  /** Availability Zone of each subnet, in the same order. */
  readonly subnetZones: string[];
}

/**
 * The notebooks' persistent homes: an encrypted EFS file system with a mount target in each
 * notebook subnet, a policy that lets clients in only over TLS and through an access point,
 * and a security group that the mount targets and the notebooks both join. That group admits
 * NFS from itself and nothing else, the shape the notebook module checks before it joins a
 * group (any other inbound rule would reach the notebook too).
 */
export class NotebookFileSystem extends Construct {
  public readonly securityGroup: SecurityGroup;
  public readonly fileSystem: EfsFileSystem;
  public readonly mountTargets: EfsMountTarget;
  public readonly policy: EfsFileSystemPolicy;
  /** ID, ARN and security group of the file system, or "" without one. */
  public readonly fileSystemId: string;
  public readonly fileSystemArn: string;
  public readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: NotebookFileSystemProps) {
    super(scope, id);
    const enabled = props.enabled ?? true;
    // join() of zero or one element: the value, or "" (never null) without a file system.
    const value = (list: string[]) => Fn.join("", list);

    this.securityGroup = new SecurityGroup(this, "security_group", {
      count: countWhen(enabled, 1),
      name: `${props.name}-efs`,
      description: "EFS mount targets and the notebooks that reach them: NFS from itself only",
      vpcId: props.vpcId,
      ingress: [inlineRule({ description: "NFS from this group itself", protocol: "tcp", fromPort: NFS_PORT, toPort: NFS_PORT, self: true })],
      egress: [inlineRule({ description: "Anything to this group itself", protocol: "-1", fromPort: 0, toPort: 0, self: true })],
      tags: { Name: `${props.name}-efs` },
    });
    this.securityGroupId = value(splat(this.securityGroup, "id"));

    this.fileSystem = new EfsFileSystem(this, "file_system", {
      count: countWhen(enabled, 1),
      encrypted: true,
      tags: { Name: props.name },
    });
    this.fileSystemId = value(splat(this.fileSystem, "id"));
    this.fileSystemArn = value(splat(this.fileSystem, "arn"));

    const mountTargets = TerraformCount.of(countWhen(enabled, props.subnetCount));
    this.mountTargets = new EfsMountTarget(this, "mount_target", {
      count: mountTargets,
      fileSystemId: this.fileSystemId,
      subnetId: Fn.element(props.subnetIds, mountTargets.index),
      securityGroups: [this.securityGroupId],
      lifecycle: {
        precondition: [
          {
            // EFS takes one mount target per zone.
            condition: Op.eq(Fn.lengthOf(Fn.distinct(props.subnetZones)), Fn.lengthOf(props.subnetZones)),
            errorMessage: `notebook_subnet_ids must be in distinct Availability Zones with efs: a file system has one mount target per zone, got zones ${Fn.jsonencode(props.subnetZones)}.`,
          },
        ],
      },
    });
    this.policy = new EfsFileSystemPolicy(this, "policy", {
      count: countWhen(enabled, 1),
      fileSystemId: this.fileSystemId,
      policy: Token.asString(Fn.jsonencode(FILE_SYSTEM_POLICY)),
    });
  }
}
