import { IResolvable } from "cdktf";

/**
 * What a notebook needs of the platform it runs on: the team's own, looked up by
 * modules/existing-platform, or an environment's platform stack, read from its state by
 * modules/platform-state. Every member may be a Terraform expression.
 */
export interface NotebookPlatform {
  /** The AWS partition (`aws`, `aws-cn`, `aws-us-gov`). */
  readonly partitionName: string;
  /** The region the provider deploys to. */
  readonly regionName: string;
  /** The account the provider deploys to. */
  readonly accountId: string;
  readonly clusterArn: string;
  readonly clusterName: string;
  /** The HTTPS listener the notebook's rule is added to, and its port. */
  readonly listenerArn: string;
  readonly listenerPort: number;
  /** The load balancer's VPC: target groups and security groups live there. */
  readonly vpcId: string;
  /** Security groups of the load balancer: the only sources notebooks admit. */
  readonly loadBalancerSecurityGroups: string[];
  /** DNS name of the load balancer, the target of every notebook's CNAME. */
  readonly loadBalancerDnsName: string;
  readonly zoneId: string;
  /** Name of the hosted zone, without the trailing dot. */
  readonly zoneName: string;
  /** Whether an EFS file system is in use (a Terraform expression). */
  readonly efsEnabled: IResolvable;
  /** ID and ARN of the file system: one-element lists, or empty ones. */
  readonly efsFileSystemIds: string[];
  readonly efsFileSystemArns: string[];
  /**
   * Tags the notebook's target group carries besides the default ones: on a platform with
   * several load balancers, the one it was placed on (which is how placement counts them).
   * @default none
   */
  readonly targetGroupTags?: Record<string, string>;
}
