import { Construct } from "constructs";
import { DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, Fn, ref, TerraformRemoteState, TerraformStack, Token } from "cdktf";
import { countWhen, equals, not } from "../platform/conditions";
import { StateLocation } from "../state-location";

/** The output of an accelerator capacity (platform or accelerators stack) that notebooks read: instance type => capacity provider. */
export const CAPACITY_PROVIDERS_OUTPUT = "accelerator_capacity_providers";
/** The accelerators stack's outputs that say where its capacity is: the cluster it was added to, and the subnets its instances run in. */
export const CAPACITY_CLUSTER_OUTPUT = "capacity_cluster_name";
export const CAPACITY_SUBNETS_OUTPUT = "capacity_subnet_ids";

export interface AcceleratorCapacityStateProps {
  /** Where the stack that offers the capacity (`accelerators-<env>`) keeps its state. */
  readonly state: StateLocation;
  /** The notebook's accelerator (`none`, `nvidia`, `neuron`; an expression or a literal): the state is read only for an accelerated one. */
  readonly accelerator: string;
}

/**
 * The accelerated capacity of an environment whose notebooks run on the team's own cluster,
 * read from the state of its `accelerators-<env>` stack, and only by an accelerated notebook
 * (count 0 otherwise). Terraform refuses to read a state that does not exist ("Unable to find
 * remote state"), defaults or not: before that stack is deployed, a Fargate notebook must not
 * read it at all, and an accelerated one cannot be deployed anyway. A stack deployed and then
 * destroyed leaves an empty state: its defaults offer no instance type, and the notebook's
 * precondition names the stack.
 */
export class AcceleratorCapacityState extends Construct {
  /** Absent when the accelerator is the literal `none`. */
  public readonly remoteState?: TerraformRemoteState;
  /** Instance type => capacity provider name (empty for a Fargate notebook, or an empty state). */
  public readonly capacityProviderNames: Record<string, string>;
  /** The cluster the capacity was added to ("" when unknown: a Fargate notebook, a state written before this output). */
  public readonly clusterName: string;
  /** The subnets the capacity's instances run in (empty when unknown). */
  public readonly subnetIds: string[];

  constructor(scope: Construct, id: string, props: AcceleratorCapacityStateProps) {
    super(scope, id);
    const accelerated = not(equals(props.accelerator, "none"));
    if (accelerated === false) {
      this.capacityProviderNames = {};
      this.clusterName = "";
      this.subnetIds = [];
      return;
    }
    const state = props.state;
    const defaults = { [CAPACITY_PROVIDERS_OUTPUT]: {} };
    const remoteState =
      state.type === "local"
        ? new DataTerraformRemoteStateLocal(this, "state", { path: state.path, defaults })
        : new DataTerraformRemoteStateS3(this, "state", { bucket: state.bucket, key: state.key, region: state.region, encrypt: true, defaults });
    remoteState.addOverride("count", countWhen(accelerated, 1));
    this.remoteState = remoteState;
    // With count 0 there is no instance [0], and a state written before an output lacks it: try() gives the fallback.
    const output = (name: string, fallback: unknown) =>
      Fn.try([ref(`data.terraform_remote_state.${remoteState.friendlyUniqueId}[0].outputs.${name}`, TerraformStack.of(this)), fallback]);
    this.capacityProviderNames = Token.asStringMap(output(CAPACITY_PROVIDERS_OUTPUT, {}));
    this.clusterName = Token.asString(output(CAPACITY_CLUSTER_OUTPUT, ""));
    this.subnetIds = Token.asList(output(CAPACITY_SUBNETS_OUTPUT, []));
  }
}
