import { Construct } from "constructs";
import { conditional, Fn, IResolvable, Token } from "cdktf";
import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { ExistingPlatform } from "../existing-platform";
import { splat } from "../expressions";

/** The image's user (jovyan) and group (users): owner of every file in the home. */
export const NOTEBOOK_UID = 1000;
export const NOTEBOOK_GID = 100;
/** Where the Jupyter Docker Stacks images keep the user's work. */
export const WORK_DIR = "/home/jovyan/work";
/** Directory of the file system that holds every user's home: `/notebooks/<owner>`. */
export const HOMES_DIR = "/notebooks";
export const NFS_PORT = 2049;

export interface PersistentHomeProps {
  readonly platform: ExistingPlatform;
  /** The notebook's owner: names the directory, so every notebook of that user finds it. */
  readonly owner: string;
  /** Security group on the file system's mount targets (gets an NFS rule from the notebook). */
  readonly efsSecurityGroupId: string;
  /** The notebook's security group, the only source the NFS rule admits. */
  readonly notebookSecurityGroupId: string;
  /** The notebook's task role, allowed to mount and write through the access point only. */
  readonly taskRole: IamRole;
}

/**
 * A user's work directory on the team's EFS file system, when the platform has one
 * (every resource here has count 0 otherwise). Destroying the notebook removes the access
 * point and the NFS rule, never the file system or the files.
 */
export class PersistentHome extends Construct {
  public readonly accessPoint: EfsAccessPoint;
  public readonly nfsRule: VpcSecurityGroupIngressRule;
  public readonly mountPolicy: IamRolePolicy;
  /** Whether the home exists (a Terraform expression). */
  public readonly enabled: IResolvable;
  /** Content of the task definition's `volume` block for the home (present only when enabled). */
  public readonly volume: Record<string, unknown>;
  /** `mountPoints` of the container: the home on the work directory, or none. */
  public readonly mountPoints: unknown;

  constructor(scope: Construct, id: string, props: PersistentHomeProps) {
    super(scope, id);
    const platform = props.platform;
    const count = Token.asNumber(conditional(platform.efsEnabled, 1, 0));
    const fileSystemId = Token.asString(Fn.one(platform.efsFileSystemIds));

    this.accessPoint = new EfsAccessPoint(this, "access_point", {
      count,
      fileSystemId,
      // Every file is written as the image's user, whatever the client claims.
      posixUser: { uid: NOTEBOOK_UID, gid: NOTEBOOK_GID },
      rootDirectory: {
        path: `${HOMES_DIR}/${props.owner}`,
        // Created on first use, readable by its owner's group only.
        creationInfo: { ownerUid: NOTEBOOK_UID, ownerGid: NOTEBOOK_GID, permissions: "0750" },
      },
      tags: { Name: `notebook home of ${props.owner}` },
    });
    const accessPointArn = Fn.one(splat(this.accessPoint, "arn"));
    const accessPointId = Fn.one(splat(this.accessPoint, "id"));

    this.nfsRule = new VpcSecurityGroupIngressRule(this, "nfs_from_notebook", {
      count,
      securityGroupId: props.efsSecurityGroupId,
      referencedSecurityGroupId: props.notebookSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: NFS_PORT,
      toPort: NFS_PORT,
      description: `NFS from notebook of ${props.owner}`,
    });

    this.mountPolicy = new IamRolePolicy(this, "mount_through_access_point", {
      count,
      name: "mount-own-home",
      role: props.taskRole.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "MountAndWriteThroughOwnAccessPointOnly",
            Effect: "Allow",
            Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
            Resource: Fn.one(platform.efsFileSystemArns),
            Condition: { StringEquals: { "elasticfilesystem:AccessPointArn": accessPointArn } },
          },
        ],
      }),
    });

    this.enabled = platform.efsEnabled;
    this.volume = {
      name: "home",
      efs_volume_configuration: {
        file_system_id: fileSystemId,
        transit_encryption: "ENABLED",
        authorization_config: { access_point_id: accessPointId, iam: "ENABLED" },
      },
    };
    this.mountPoints = conditional(platform.efsEnabled, [{ sourceVolume: "home", containerPath: WORK_DIR, readOnly: false }], []);
  }
}
