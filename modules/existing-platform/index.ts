import { Construct } from "constructs";
import { conditional, Fn, IResolvable, Op, Token } from "cdktf";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsEcsCluster } from "@cdktf/provider-aws/lib/data-aws-ecs-cluster";
import { DataAwsEfsFileSystem } from "@cdktf/provider-aws/lib/data-aws-efs-file-system";
import { DataAwsLb } from "@cdktf/provider-aws/lib/data-aws-lb";
import { DataAwsLbListener } from "@cdktf/provider-aws/lib/data-aws-lb-listener";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { splat } from "../expressions";
import { NotebookPlatform } from "../notebook/platform";

export interface ExistingPlatformProps {
  /** Name of the team's ECS cluster. */
  readonly clusterName: string;
  /** ARN of the team's Application Load Balancer. */
  readonly loadBalancerArn: string;
  /**
   * Port of the load balancer's HTTPS listener that notebooks are attached to.
   * @default 443
   */
  readonly listenerPort?: number;
  /** ID of the Route 53 hosted zone that notebook hostnames are created in. */
  readonly hostedZoneId: string;
  /**
   * VPC the notebooks run in. An empty string (or a Terraform expression that
   * evaluates to one) means the load balancer's own VPC.
   * @default the load balancer's VPC
   */
  readonly vpcId?: string;
  /**
   * EFS file system for persistent work directories. Empty (or an expression that
   * evaluates to "") means none.
   * @default no file system
   */
  readonly efsFileSystemId?: string;
}

/**
 * The infrastructure the team already runs, looked up with data sources.
 * Owns no resource: destroying a notebook never touches anything here.
 */
export class ExistingPlatform extends Construct implements NotebookPlatform {
  public readonly cluster: DataAwsEcsCluster;
  public readonly loadBalancer: DataAwsLb;
  public readonly listener: DataAwsLbListener;
  public readonly zone: DataAwsRoute53Zone;
  public readonly vpc: DataAwsVpc;
  public readonly partition: DataAwsPartition;
  /** The account the provider deploys to. */
  public readonly account: DataAwsCallerIdentity;
  /** The region the provider deploys to. */
  public readonly region: DataAwsRegion;
  /** Security groups of the load balancer: the only sources notebooks admit. */
  public readonly loadBalancerSecurityGroups: string[];
  /** DNS name of the load balancer, the target of every notebook's CNAME. */
  public readonly loadBalancerDnsName: string;
  /** Name of the hosted zone, without the trailing dot. */
  public readonly zoneName: string;
  /** The EFS file system: one instance when efsFileSystemId is set, none otherwise. */
  public readonly efsFileSystem: DataAwsEfsFileSystem;
  /** Whether an EFS file system is in use (a Terraform expression). */
  public readonly efsEnabled: IResolvable;
  /** ID and ARN of the file system: one-element lists, or empty ones. */
  public readonly efsFileSystemIds: string[];
  public readonly efsFileSystemArns: string[];
  public readonly partitionName: string;
  public readonly regionName: string;
  public readonly accountId: string;
  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly listenerArn: string;
  public readonly listenerPort: number;
  public readonly vpcId: string;
  public readonly zoneId: string;

  constructor(scope: Construct, id: string, props: ExistingPlatformProps) {
    super(scope, id);
    const listenerPort = props.listenerPort ?? 443;
    const vpcId = props.vpcId ?? "";

    this.partition = new DataAwsPartition(this, "partition");
    this.region = new DataAwsRegion(this, "region");
    this.account = new DataAwsCallerIdentity(this, "account");
    this.cluster = new DataAwsEcsCluster(this, "cluster", {
      clusterName: props.clusterName,
      lifecycle: {
        postcondition: [
          {
            condition: '${self.status == "ACTIVE"}',
            errorMessage: "the ECS cluster named by ecs_cluster_name is not ACTIVE",
          },
        ],
      },
    });
    this.loadBalancer = new DataAwsLb(this, "load_balancer", {
      arn: props.loadBalancerArn,
      lifecycle: {
        postcondition: [
          {
            condition: '${self.load_balancer_type == "application"}',
            errorMessage: "loadbalancer_arn must name an Application Load Balancer",
          },
        ],
      },
    });
    this.listener = new DataAwsLbListener(this, "https_listener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: listenerPort,
      lifecycle: {
        postcondition: [
          {
            condition: '${self.protocol == "HTTPS"}',
            errorMessage: "the load balancer's listener on listener_port must use HTTPS: notebook URLs carry the token",
          },
        ],
      },
    });
    this.zone = new DataAwsRoute53Zone(this, "zone", { zoneId: props.hostedZoneId });
    this.vpc = new DataAwsVpc(this, "vpc", {
      // coalesce() skips empty strings: no vpc_id means the load balancer's VPC.
      id: Fn.coalesce([vpcId, this.loadBalancer.vpcId]),
      lifecycle: {
        precondition: [
          {
            // Targets of type ip and the security group rules need the load balancer's VPC.
            condition: Op.eq(Fn.coalesce([vpcId, this.loadBalancer.vpcId]), this.loadBalancer.vpcId),
            errorMessage: "vpc_id must be the load balancer's VPC (or empty to use it): its target groups and security groups live there",
          },
        ],
      },
    });

    this.partitionName = this.partition.partition;
    this.regionName = this.region.region;
    this.accountId = this.account.accountId;
    this.clusterArn = this.cluster.arn;
    this.clusterName = this.cluster.clusterName;
    this.listenerArn = this.listener.arn;
    this.listenerPort = this.listener.port;
    this.vpcId = this.vpc.id;
    this.zoneId = this.zone.zoneId;
    this.loadBalancerSecurityGroups = this.loadBalancer.securityGroups;
    this.loadBalancerDnsName = this.loadBalancer.dnsName;
    this.zoneName = Fn.trimsuffix(this.zone.name, ".");

    const efsFileSystemId = props.efsFileSystemId ?? "";
    this.efsEnabled = Op.gte(Fn.lengthOf(efsFileSystemId), 1);
    this.efsFileSystem = new DataAwsEfsFileSystem(this, "efs", {
      count: Token.asNumber(conditional(this.efsEnabled, 1, 0)),
      fileSystemId: efsFileSystemId,
    });
    this.efsFileSystemIds = splat(this.efsFileSystem, "id");
    this.efsFileSystemArns = splat(this.efsFileSystem, "arn");
  }
}
