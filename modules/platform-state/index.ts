import { Construct } from "constructs";
import { DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, Fn, IResolvable, Op, ref, TerraformRemoteState, TerraformStack, Token } from "cdktf";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { DataAwsResourcegroupstaggingapiResources } from "@cdktf/provider-aws/lib/data-aws-resourcegroupstaggingapi-resources";
import { CAPACITY_PROVIDERS_OUTPUT } from "../accelerators/capacity-state";
import { NotebookPlatform } from "../notebook/platform";
import { StateLocation } from "../state-location";
import { LOAD_BALANCER_TAG, LoadBalancerPlacement } from "./placement";

export { LOAD_BALANCER_TAG, preferenceOrder } from "./placement";


export interface PlatformStateProps {
  /** The platform stack's id (`platform-<env>`), for messages. */
  readonly platformStackId: string;
  /** Where its state is: the outputs of that stack are read there. */
  readonly state: StateLocation;
  /** The notebook's owner: where it is placed, and its own target group not counted. */
  readonly owner: string;
  /**
   * Tags every notebook of the environment carries (Project and Environment): the target
   * groups counted are those with these tags.
   */
  readonly notebookTags: Record<string, string>;
}

/**
 * An environment's platform stack (`platform-<env>`, stacks/platform-stack.ts), read from its
 * state: cluster, network, zone, EFS, and the one load balancer this notebook is placed on
 * (see placement.ts). Owns no cloud resource; its only resource is the placement, kept in
 * the notebook's state.
 */
export class PlatformState extends Construct implements NotebookPlatform {
  public readonly remoteState: TerraformRemoteState;
  public readonly placement: LoadBalancerPlacement;
  public readonly partitionName: string;
  public readonly regionName: string;
  public readonly accountId: string;
  public readonly clusterArn: string;
  public readonly clusterName: string;
  public readonly listenerArn: string;
  public readonly listenerPort: number;
  public readonly vpcId: string;
  public readonly loadBalancerSecurityGroups: string[];
  public readonly loadBalancerDnsName: string;
  public readonly loadBalancerName: string;
  public readonly zoneId: string;
  public readonly zoneName: string;
  public readonly efsEnabled: IResolvable;
  public readonly efsFileSystemIds: string[];
  public readonly efsFileSystemArns: string[];
  public readonly targetGroupTags: Record<string, string>;
  /** The platform's: subnets notebooks run in, whether they get a public IP, the notebooks' domain. */
  public readonly subnets: string[];
  public readonly assignPublicIp: IResolvable;
  public readonly domain: string;
  /** Security group that reaches the file system ("" without one). */
  public readonly efsSecurityGroupId: string;
  /** The platform's accelerated capacity: instance type => capacity provider (empty without). */
  public readonly acceleratorCapacityProviders: Record<string, string>;

  constructor(scope: Construct, id: string, props: PlatformStateProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, "partition");
    const region = new DataAwsRegion(this, "region");
    const account = new DataAwsCallerIdentity(this, "account");
    this.partitionName = partition.partition;
    this.regionName = region.region;
    this.accountId = account.accountId;

    const state = props.state;
    // Before the platform is deployed (or after it was destroyed) its state has no outputs:
    // these stand in, so that planning stops at the precondition below saying so, rather
    // than at "Unable to find remote state" or "Unsupported attribute".
    const defaults = { ...NOT_DEPLOYED };
    this.remoteState =
      state.type === "local"
        ? new DataTerraformRemoteStateLocal(this, "state", { path: state.path, defaults })
        : new DataTerraformRemoteStateS3(this, "state", { bucket: state.bucket, key: state.key, region: state.region, encrypt: true, defaults });
    const where = state.type === "local" ? state.path : `s3://${state.bucket}/${state.key}`;
    const stack = TerraformStack.of(this);
    const outputs = `data.terraform_remote_state.${this.remoteState.friendlyUniqueId}.outputs`;
    const outputRef = (name: string) => ref(`${outputs}.${name}`, stack);
    const output = (name: string) => Token.asString(outputRef(name));

    const targetGroups = new DataAwsResourcegroupstaggingapiResources(this, "notebook_target_groups", {
      resourceTypeFilters: ["elasticloadbalancing:targetgroup"],
      tagFilter: Object.entries(props.notebookTags).map(([key, value]) => ({ key, values: [value] })),
    });
    this.placement = new LoadBalancerPlacement(this, "placement", {
      owner: props.owner,
      capacityHcl: `${outputs}.notebooks_per_load_balancer`,
      platformStackId: props.platformStackId,
      loadBalancerNamesHcl: `${outputs}.load_balancers[*].name`,
      targetGroupsHcl: `data.${targetGroups.terraformResourceType}.${targetGroups.friendlyUniqueId}.resource_tag_mapping_list`,
      preconditions: [
        {
          // (Op.neq(x, "") would not do: cdktf writes a literal "" or 0 there as `undefined`.)
          condition: Op.gte(Fn.lengthOf(output("cluster_arn")), 1),
          errorMessage:
            `${props.platformStackId} has not been deployed: its state (${where}) holds no outputs. ` +
            `Deploy it first (an administrator: npx cdktf deploy ${props.platformStackId} --var-file=platform.tfvars), then this notebook.`,
        },
        {
          // Target groups, rules and security groups must be where the load balancer is.
          condition: Op.eq(output("region"), region.region),
          errorMessage: `region must be the region of ${props.platformStackId}, whose cluster and load balancers the notebook uses: set region in the vars file to the platform's.`,
        },
      ],
    });
    const loadBalancerRef = (attribute: string) => ref(`${outputs}.load_balancers[${address(this.placement.choice)}.output].${attribute}`, stack);
    const loadBalancer = (attribute: string) => Token.asString(loadBalancerRef(attribute));

    this.clusterArn = output("cluster_arn");
    this.clusterName = output("cluster_name");
    this.listenerArn = loadBalancer("https_listener_arn");
    this.listenerPort = Token.asNumber(outputRef("listener_port"));
    this.vpcId = output("vpc_id");
    this.loadBalancerSecurityGroups = Token.asList(loadBalancerRef("security_group_ids"));
    this.loadBalancerDnsName = loadBalancer("dns_name");
    this.loadBalancerName = loadBalancer("name");
    this.zoneId = output("hosted_zone_id");
    this.zoneName = output("zone_name");
    this.domain = output("domain");
    this.subnets = Token.asList(outputRef("notebook_subnet_ids"));
    this.assignPublicIp = outputRef("assign_public_ip");
    this.efsSecurityGroupId = output("efs_security_group_id");
    this.efsEnabled = Op.gte(Fn.lengthOf(output("efs_file_system_id")), 1);
    this.efsFileSystemIds = Token.asList(Fn.compact([output("efs_file_system_id")]));
    this.efsFileSystemArns = Token.asList(Fn.compact([output("efs_file_system_arn")]));
    this.targetGroupTags = { [LOAD_BALANCER_TAG]: this.loadBalancerName };
    this.acceleratorCapacityProviders = Token.asStringMap(outputRef(CAPACITY_PROVIDERS_OUTPUT));
  }
}

/** The platform's outputs while it has none: empty, so that the "not deployed" check can tell. */
const NOT_DEPLOYED: Record<string, unknown> = {
  region: "",
  cluster_name: "",
  cluster_arn: "",
  vpc_id: "",
  notebook_subnet_ids: [],
  assign_public_ip: false,
  hosted_zone_id: "",
  zone_name: "",
  domain: "",
  listener_port: 443,
  load_balancers: [],
  notebooks_per_load_balancer: 0,
  efs_file_system_id: "",
  efs_file_system_arn: "",
  efs_security_group_id: "",
  // Also the value of a platform deployed before it had accelerated capacity.
  [CAPACITY_PROVIDERS_OUTPUT]: {},
};

function address(resource: { terraformResourceType: string; friendlyUniqueId: string }): string {
  return `${resource.terraformResourceType}.${resource.friendlyUniqueId}`;
}
