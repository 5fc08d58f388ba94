import { Construct } from "constructs";
import { conditional, Fn, IResolvable, TerraformIterator, Token } from "cdktf";
import { EfsAccessPoint } from "@cdktf/provider-aws/lib/efs-access-point";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { DataAwsVpcSecurityGroupRule } from "@cdktf/provider-aws/lib/data-aws-vpc-security-group-rule";
import { DataAwsVpcSecurityGroupRules } from "@cdktf/provider-aws/lib/data-aws-vpc-security-group-rules";
import { NotebookPlatform } from "./platform";
import { address, splat } from "../expressions";

/** The image's user (jovyan) and group (users): owner of every file in the home. */
export const NOTEBOOK_UID = 1000;
export const NOTEBOOK_GID = 100;
/** Where the Jupyter Docker Stacks images keep the user's work. */
export const WORK_DIR = "/home/jovyan/work";
/** Directory of the file system that holds every user's home: `/notebooks/<owner>`. */
export const HOMES_DIR = "/notebooks";
export const NFS_PORT = 2049;

export interface PersistentHomeProps {
  readonly platform: NotebookPlatform;
  /** The notebook's owner: names the directory, so every notebook of that user finds it. */
  readonly owner: string;
  /**
   * Security group the notebook's task joins to reach the file system: the mount targets
   * must admit NFS from it, and it may admit nothing but NFS from itself (checked when
   * planning), since its inbound rules apply to the notebook as well.
   */
  readonly efsSecurityGroupId: string;
  /** The notebook's task role, allowed to mount and write through the access point only. */
  readonly taskRole: IamRole;
}

/**
 * A user's work directory on the team's EFS file system, when the platform has one
 * (every resource here has count 0 otherwise). Destroying the notebook removes the access
 * point, never the file system or the files.
 *
 * The notebook reaches NFS by joining a client security group that the mount targets admit
 * NFS from: no rule per notebook. (A rule per notebook on a shared group would stop at
 * its quota of 60 inbound rules, below the 90 notebooks an environment allows, and would
 * change a shared resource with every deploy.)
 */
export class PersistentHome extends Construct {
  public readonly accessPoint: EfsAccessPoint;
  /** The task's extra security group: the EFS one, or none. */
  public readonly securityGroupIds: string[];
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

    // The task joins the group, so every inbound rule of the group reaches the notebook
    // too: a group that admits more than NFS from itself (a VPC's default group admits all
    // traffic from itself) would open Jupyter's port past the load balancer's sign-in and
    // allowed_cidrs. Its inbound rules are looked up when planning: none at all (a client
    // group the mount targets admit NFS from), or only NFS from the group itself.
    const groupRules = new DataAwsVpcSecurityGroupRules(this, "efs_group_rules", {
      count,
      filter: [{ name: "group-id", values: [props.efsSecurityGroupId] }],
    });
    const ruleIds = TerraformIterator.fromList(Token.asList(Fn.toset(Fn.flatten(splat(groupRules, "ids")))));
    const rules = new DataAwsVpcSecurityGroupRule(this, "efs_group_rule", {
      forEach: ruleIds,
      securityGroupRuleId: Token.asString(ruleIds.value),
    });
    // tostring(): the ID may be a reference or a literal; either renders as an expression here.
    const nfsFromItself =
      `r.is_egress || (r.ip_protocol == "tcp" && r.from_port == ${NFS_PORT} && r.to_port == ${NFS_PORT} && ` +
      `r.referenced_security_group_id == ${Fn.tostring(props.efsSecurityGroupId)})`;
    this.accessPoint.addOverride("lifecycle.precondition", [
      {
        condition: `\${alltrue([for r in values(${address(rules)}) : ${nfsFromItself}])}`,
        error_message:
          `efs_security_group_id ${props.efsSecurityGroupId} admits more than NFS (tcp ${NFS_PORT}) from itself: the notebook joins this group, so each of its inbound rules ` +
          "would reach the notebook too, past the load balancer. Use a group without inbound rules that the mount targets admit NFS from (see the README).",
      },
    ]);
    const accessPointId = Fn.one(splat(this.accessPoint, "id"));

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
    this.securityGroupIds = Token.asList(conditional(platform.efsEnabled, [props.efsSecurityGroupId], []));
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
