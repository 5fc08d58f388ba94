/**
 * The accelerated instance types a notebook may ask for, and what a task gets of each: one
 * table that the notebook stack's variables, the team file, the capacity module and the
 * README all read. Sizes are AWS's (EC2 "Accelerated computing" instance specifications; for
 * Neuron, the Neuron SDK's Inf2 and Trn1 architecture pages).
 */

/** `nvidia`: NVIDIA GPUs; `neuron`: AWS Inferentia2 or Trainium chips (the Neuron SDK). */
export type Accelerator = "nvidia" | "neuron";
/** What a notebook runs on: Fargate (`none`) or an instance with an accelerator. */
export const ACCELERATORS = ["none", "nvidia", "neuron"] as const;

export interface InstanceType {
  readonly accelerator: Accelerator;
  readonly vcpus: number;
  readonly memoryGib: number;
  /** GPUs, or Neuron devices (one per Inferentia2 or Trainium chip). */
  readonly devices: number;
  /** The device's model, e.g. "NVIDIA L4" or "Inferentia2". */
  readonly deviceName: string;
  /** Memory of one device, GiB. */
  readonly deviceMemoryGib: number;
}

/** One family's sizes: [size, vCPUs, memory GiB, devices]. */
type Sizes = Array<[string, number, number, number]>;

const G_SIZES: Sizes = [
  ["xlarge", 4, 16, 1],
  ["2xlarge", 8, 32, 1],
  ["4xlarge", 16, 64, 1],
  ["8xlarge", 32, 128, 1],
  ["12xlarge", 48, 192, 4],
  ["16xlarge", 64, 256, 1],
  ["24xlarge", 96, 384, 4],
  ["48xlarge", 192, 768, 8],
];

function family(name: string, accelerator: Accelerator, deviceName: string, deviceMemoryGib: number, sizes: Sizes): Record<string, InstanceType> {
  return Object.fromEntries(
    sizes.map(([size, vcpus, memoryGib, devices]) => [`${name}.${size}`, { accelerator, vcpus, memoryGib, devices, deviceName, deviceMemoryGib }]),
  );
}

export const INSTANCE_TYPES: Record<string, InstanceType> = {
  ...family(
    "g4dn",
    "nvidia",
    "NVIDIA T4",
    16,
    G_SIZES.filter(([size]) => !["24xlarge", "48xlarge"].includes(size)),
  ),
  ...family("g5", "nvidia", "NVIDIA A10G", 24, G_SIZES),
  ...family("g6", "nvidia", "NVIDIA L4", 24, G_SIZES),
  // g6e has twice the memory per vCPU of g5 and g6.
  ...family(
    "g6e",
    "nvidia",
    "NVIDIA L40S",
    48,
    G_SIZES.map(([size, vcpus, memoryGib, devices]) => [size, vcpus, memoryGib * 2, devices]),
  ),
  ...family("inf2", "neuron", "Inferentia2", 32, [
    ["xlarge", 4, 16, 1],
    ["8xlarge", 32, 128, 1],
    ["24xlarge", 96, 384, 6],
    ["48xlarge", 192, 768, 12],
  ]),
  ...family("trn1", "neuron", "Trainium", 32, [
    ["2xlarge", 8, 32, 1],
    ["32xlarge", 128, 512, 16],
  ]),
};

/** The instance type a notebook gets when its vars file names none. */
export const DEFAULT_INSTANCE_TYPE: Record<Accelerator, string> = { nvidia: "g6.xlarge", neuron: "inf2.xlarge" };

/**
 * Share of an instance's memory left to tasks: AWS publishes no figure for what an ECS
 * Managed Instance keeps for its operating system and agent (on EC2, a few percent of the
 * memory is not registered), so a tenth is kept, rounded down to 256 MiB.
 */
export const TASK_MEMORY_SHARE = 0.9;
/** CPU units per vCPU: ECS registers an instance's CPU as 1,024 units per vCPU. */
export const CPU_UNITS_PER_VCPU = 1024;
/** Smallest cpu and memory a task on an instance may ask for. */
export const MIN_TASK_CPU = 256;
export const MIN_TASK_MEMORY_MIB = 512;

/** CPU units a task may ask for on this instance type: all of its vCPUs. */
export function taskCpuOf(type: InstanceType): number {
  return type.vcpus * CPU_UNITS_PER_VCPU;
}

/** Memory (MiB) a task may ask for on this instance type. */
export function taskMemoryOf(type: InstanceType): number {
  return Math.floor((type.memoryGib * 1024 * TASK_MEMORY_SHARE) / 256) * 256;
}

/**
 * The table as an HCL object for the notebook stack's `locals`: per type its accelerator,
 * device count and the cpu and memory tasks may have. Validation rules and the task's size
 * read it there.
 */
export function instanceTypesHcl(): Record<
  string,
  { accelerator: string; devices: number; vcpus: number; memory_gib: number; task_cpu: number; task_memory: number }
> {
  return Object.fromEntries(
    Object.entries(INSTANCE_TYPES).map(([name, type]) => [
      name,
      {
        accelerator: type.accelerator,
        devices: type.devices,
        vcpus: type.vcpus,
        memory_gib: type.memoryGib,
        task_cpu: taskCpuOf(type),
        task_memory: taskMemoryOf(type),
      },
    ]),
  );
}

/** Instance types of an accelerator, for messages: "g4dn.xlarge, g4dn.2xlarge, ...". */
export function instanceTypesOf(accelerator: Accelerator): string[] {
  return Object.keys(INSTANCE_TYPES).filter((name) => INSTANCE_TYPES[name].accelerator === accelerator);
}
