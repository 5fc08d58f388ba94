import { Construct } from "constructs";
import { TerraformVariableValidationConfig } from "cdktf";
import { DEFAULT_IDLE_SECONDS, DEFAULT_VOLUME_GIB } from "../modules/accelerators/capacity";
import { INSTANCE_TYPES } from "../modules/accelerators/instance-types";
import { KNOWN_TYPES } from "./compute-variables";
import { variable, wholeNumberRule } from "./variable-rules";

/** Most instance types one environment offers: one capacity provider each. */
export const MAX_ACCELERATOR_INSTANCE_TYPES = 20;
/** Smallest instance volume: the CUDA and Neuron images are several GB, and pulled to it. */
export const MIN_VOLUME_GIB = 30;
export const MAX_VOLUME_GIB = 16384;

/**
 * The variables of an environment's accelerated capacity, on the platform stack or on an
 * accelerators stack: which instance types notebooks may ask for, their volume, and how soon
 * an instance without notebooks ends. `extraTypeRules` adds the stack's own rules on the
 * instance types (the platform's: only with private task networking).
 */
export function acceleratorCapacityVariables(stack: Construct, extraTypeRules: TerraformVariableValidationConfig[] = []) {
  const known = KNOWN_TYPES;
  return {
    acceleratorInstanceTypes: variable(stack, "accelerator_instance_types", {
      type: "list(string)",
      default: [],
      description: `Instance types notebooks may run on with an accelerator (one ECS Managed Instances capacity provider each), e.g. ["g6.xlarge", "inf2.xlarge"]; empty: none. At most ${MAX_ACCELERATOR_INSTANCE_TYPES}.`,
      validation: [
        {
          condition: `\${length(var.accelerator_instance_types) <= ${MAX_ACCELERATOR_INSTANCE_TYPES} && length(distinct(var.accelerator_instance_types)) == length(var.accelerator_instance_types)}`,
          errorMessage: `accelerator_instance_types may list at most ${MAX_ACCELERATOR_INSTANCE_TYPES} distinct instance types, got \${jsonencode(var.accelerator_instance_types)}.`,
        },
        {
          condition: `\${alltrue([for t in var.accelerator_instance_types : contains(${known}, t)])}`,
          errorMessage: `accelerator_instance_types must hold accelerated instance types this project knows (${Object.keys(INSTANCE_TYPES).join(
            ", ",
          )}), got \${jsonencode([for t in var.accelerator_instance_types : t if !contains(${known}, t)])}.`,
        },
        ...extraTypeRules,
      ],
    }),
    acceleratorVolumeGib: variable(stack, "accelerator_volume_gib", {
      type: "number",
      default: DEFAULT_VOLUME_GIB,
      description: `Volume of each accelerated instance in GiB, ${MIN_VOLUME_GIB} to ${MAX_VOLUME_GIB}: it holds the images (CUDA and Neuron ones are several GB) and the notebooks' scratch space.`,
      validation: [wholeNumberRule("accelerator_volume_gib", MIN_VOLUME_GIB, MAX_VOLUME_GIB, { unit: "of GiB" })],
    }),
    acceleratorIdleSeconds: variable(stack, "accelerator_idle_seconds", {
      type: "number",
      default: DEFAULT_IDLE_SECONDS,
      description:
        "Seconds an accelerated instance without notebooks keeps running before ECS ends it, 0 to 3600: a notebook started again within them starts faster.",
      validation: [wholeNumberRule("accelerator_idle_seconds", 0, 3600, { unit: "of seconds" })],
    }),
  };
}
