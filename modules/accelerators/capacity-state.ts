import { Construct } from "constructs";
import { DataTerraformRemoteStateLocal, DataTerraformRemoteStateS3, TerraformRemoteState, Token } from "cdktf";
import { StateLocation } from "../state-location";

/** The output of an accelerator capacity (platform or accelerators stack) that notebooks read: instance type => capacity provider. */
export const CAPACITY_PROVIDERS_OUTPUT = "accelerator_capacity_providers";

export interface AcceleratorCapacityStateProps {
  /** Where the stack that offers the capacity (`accelerators-<env>`) keeps its state. */
  readonly state: StateLocation;
}

/**
 * The accelerated capacity of an environment whose notebooks run on the team's own cluster,
 * read from the state of its `accelerators-<env>` stack. Before that stack is deployed the
 * state has no outputs and no instance type is offered: a Fargate notebook deploys as ever,
 * an accelerated one stops at its precondition, which names the stack.
 */
export class AcceleratorCapacityState extends Construct {
  public readonly remoteState: TerraformRemoteState;
  /** Instance type => capacity provider name (empty until the stack is deployed). */
  public readonly capacityProviderNames: Record<string, string>;

  constructor(scope: Construct, id: string, props: AcceleratorCapacityStateProps) {
    super(scope, id);
    const state = props.state;
    const defaults = { [CAPACITY_PROVIDERS_OUTPUT]: {} };
    this.remoteState =
      state.type === "local"
        ? new DataTerraformRemoteStateLocal(this, "state", { path: state.path, defaults })
        : new DataTerraformRemoteStateS3(this, "state", { bucket: state.bucket, key: state.key, region: state.region, encrypt: true, defaults });
    this.capacityProviderNames = Token.asStringMap(this.remoteState.get(CAPACITY_PROVIDERS_OUTPUT));
  }
}
