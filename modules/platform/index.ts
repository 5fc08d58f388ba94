import { Construct } from "constructs";
import { NotebookCluster } from "./cluster";
import { WildcardCertificate } from "./certificate";
import { Condition } from "./conditions";
import { NotebookFileSystem } from "./file-system";
import { LoadBalancerSecurityGroup, NotebookLoadBalancer } from "./load-balancers";
import { PlatformNetwork, PlatformNetworkProps } from "./network";

export { CLUSTER_CAPACITY_PROVIDERS, NotebookCluster } from "./cluster";
export type { NotebookClusterProps } from "./cluster";
export { VALIDATION_RECORD_TTL, WildcardCertificate } from "./certificate";
export type { WildcardCertificateProps } from "./certificate";
export type { Condition } from "./conditions";
export { FILE_SYSTEM_POLICY, NFS_PORT, NotebookFileSystem } from "./file-system";
export type { NotebookFileSystemProps } from "./file-system";
export {
  DEFAULT_ALLOWED_CIDRS,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_NOT_FOUND_MESSAGE,
  HTTP_PORT,
  HTTPS_PORT,
  LoadBalancerSecurityGroup,
  NotebookLoadBalancer,
  SSL_POLICY,
} from "./load-balancers";
export type { LoadBalancerSecurityGroupProps, NotebookLoadBalancerProps } from "./load-balancers";
export { DEFAULT_AVAILABILITY_ZONES, DEFAULT_TASK_NETWORK, DEFAULT_VPC_CIDR, PlatformNetwork, PRIVATE_SUBNET_OFFSET, SUBNET_NEWBITS } from "./network";
export type { PlatformNetworkProps, TaskNetwork } from "./network";

/**
 * Target groups the platform stack itself puts on each load balancer: the waker's (its
 * listeners answer with fixed responses). A load balancer holds at most 100 target groups,
 * and every notebook placed on it takes one; what the platform takes is not available to
 * notebooks.
 */
export const PLATFORM_TARGET_GROUPS_PER_LOAD_BALANCER = 1;

/** Longest load balancer name AWS accepts. */
export const MAX_LOAD_BALANCER_NAME_LENGTH = 32;

/** `jupyter-notebooks-<environment>`: the cluster's name, and the Name of what the platform creates. */
export function platformName(environment: string): string {
  return `jupyter-notebooks-${environment}`;
}

/** `nb-<environment>-<index>`: the name of the environment's load balancer number `index` (from 0). */
export function loadBalancerName(environment: string, index: number): string {
  return `nb-${environment}-${index}`;
}

/** Construct id of load balancer number `index` (from 0) under the platform: part of the contract, see the class comment. */
export function loadBalancerId(index: number): string {
  return `load_balancer_${index}`;
}

/** An environment name: used in the names of the cluster and the load balancers. */
const ENVIRONMENT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** The network's props (vpcId, vpcCidr, availabilityZones, taskNetwork, subnets) are the platform's. */
export interface PlatformProps extends Omit<PlatformNetworkProps, "name"> {
  /** Environment name (a lower-case DNS label): the names of the cluster and load balancers. */
  readonly environment: string;
  /** How many load balancers to create (1 or more); notebooks are spread over them. */
  readonly loadBalancers: number;
  /** The team's public Route 53 hosted zone. */
  readonly hostedZoneId: string;
  /**
   * Domain of the notebook hostnames, the zone's name or under it; empty means the zone's name.
   * @default the zone's name
   */
  readonly domain?: string;
  /**
   * Source CIDRs admitted to the load balancers (HTTPS, and HTTP redirected).
   * @default anywhere: 0.0.0.0/0 and ::/0
   */
  readonly allowedCidrs?: string[];
  /**
   * Seconds a load balancer keeps an idle connection (a quiet kernel websocket) open.
   * @default 3600 seconds
   */
  readonly idleTimeoutSeconds?: number;
  /**
   * S3 bucket for the load balancers' access logs; empty means none.
   * @default no access logs
   */
  readonly accessLogsBucket?: string;
  /**
   * Prefix of the access logs in that bucket.
   * @default the bucket's root
   */
  readonly accessLogsPrefix?: string;
  /**
   * An EFS file system for persistent homes (may be an expression).
   * @default false: no file system
   */
  readonly efs?: Condition;
  /**
   * CloudWatch Container Insights on the cluster (may be an expression).
   * @default false: no Container Insights
   */
  readonly containerInsights?: Condition;
  /**
   * Body of the 404 for a hostname with no notebook.
   * @default "No notebook here. Check the address."
   */
  readonly notFoundMessage?: string;
}

/**
 * What all notebooks of an environment share, created from an empty account and a public
 * Route 53 zone: network, ECS cluster, a wildcard certificate, `loadBalancers` load
 * balancers with HTTPS, and optionally an EFS file system. The zone, and an existing VPC
 * and its subnets, are only looked up.
 *
 * Construct ids are part of the contract (renaming one replaces cloud resources):
 * `network`, `certificate`, `cluster`, `load_balancer_security_group`, `load_balancer_<i>`
 * (i from 0, in the order of the `load_balancers` output) and `file_system`; their
 * children are listed in the README.
 */
export class Platform extends Construct {
  public readonly network: PlatformNetwork;
  public readonly certificate: WildcardCertificate;
  public readonly cluster: NotebookCluster;
  public readonly loadBalancerSecurityGroup: LoadBalancerSecurityGroup;
  /** In index order: load_balancer_0, load_balancer_1, ... */
  public readonly loadBalancers: NotebookLoadBalancer[];
  public readonly fileSystem: NotebookFileSystem;
  /** Whether notebook tasks get a public IP. */
  public readonly assignPublicIp: Condition;

  constructor(scope: Construct, id: string, props: PlatformProps) {
    super(scope, id);
    const env = props.environment;
    if (!ENVIRONMENT_NAME.test(env))
      throw new Error(`environment must be a lower-case DNS label (it names the cluster and load balancers), got ${JSON.stringify(env)}`);
    if (!Number.isInteger(props.loadBalancers) || props.loadBalancers < 1) {
      throw new Error(`loadBalancers must be a whole number of at least 1, got ${props.loadBalancers}`);
    }
    const longest = loadBalancerName(env, props.loadBalancers - 1);
    if (longest.length > MAX_LOAD_BALANCER_NAME_LENGTH) {
      throw new Error(
        `load balancer name ${longest} is ${longest.length} characters, more than AWS's ${MAX_LOAD_BALANCER_NAME_LENGTH}: use a shorter environment name`,
      );
    }
    const name = platformName(env);

    this.network = new PlatformNetwork(this, "network", {
      name,
      vpcId: props.vpcId,
      vpcCidr: props.vpcCidr,
      availabilityZones: props.availabilityZones,
      taskNetwork: props.taskNetwork,
      loadBalancerSubnetIds: props.loadBalancerSubnetIds,
      notebookSubnetIds: props.notebookSubnetIds,
    });
    this.assignPublicIp = this.network.assignPublicIp;
    this.certificate = new WildcardCertificate(this, "certificate", { hostedZoneId: props.hostedZoneId, domain: props.domain });
    this.cluster = new NotebookCluster(this, "cluster", { name, containerInsights: props.containerInsights });
    this.loadBalancerSecurityGroup = new LoadBalancerSecurityGroup(this, "load_balancer_security_group", {
      name: `${name}-load-balancers`,
      vpcId: this.network.vpcId,
      vpcCidrBlocks: this.network.vpcCidrBlocks,
      allowedCidrs: props.allowedCidrs,
    });
    this.loadBalancers = Array.from(
      { length: props.loadBalancers },
      (_, i) =>
        new NotebookLoadBalancer(this, loadBalancerId(i), {
          name: loadBalancerName(env, i),
          subnetIds: this.network.loadBalancerSubnetIds,
          securityGroupIds: [this.loadBalancerSecurityGroup.securityGroup.id],
          certificateArn: this.certificate.certificateArn,
          idleTimeoutSeconds: props.idleTimeoutSeconds,
          accessLogsBucket: props.accessLogsBucket,
          accessLogsPrefix: props.accessLogsPrefix,
          notFoundMessage: props.notFoundMessage,
        }),
    );
    this.fileSystem = new NotebookFileSystem(this, "file_system", {
      name,
      enabled: props.efs ?? false,
      vpcId: this.network.vpcId,
      subnetIds: this.network.notebookSubnetIds,
      subnetCount: this.network.notebookSubnetCount,
      subnetZones: this.network.notebookSubnetZones,
    });
  }
}
