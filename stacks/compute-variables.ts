import { Construct } from "constructs";
import { TerraformLocal, TerraformResource } from "cdktf";
import {
  ACCELERATORS,
  DEFAULT_INSTANCE_TYPE,
  INSTANCE_TYPES,
  instanceTypesHcl,
  MIN_TASK_CPU,
  MIN_TASK_MEMORY_MIB,
} from "../modules/accelerators/instance-types";
import { DEFAULT_FARGATE_CPU, DEFAULT_FARGATE_MEMORY } from "../modules/notebook";
import { FARGATE_MEMORY, FARGATE_TABLE_TEXT } from "./patterns";
import { oneOfRule, shown, variable, wholeNumberRule } from "./variable-rules";

/**
 * What a notebook runs on, and how big it is: Fargate (on demand or Spot) or an accelerated
 * instance of the environment's capacity, with its cpu, memory and devices. The variables'
 * own rules are validations; the rules that combine them with the instance type, which a
 * team file may set per user instead, are preconditions on the values the notebook really
 * gets (computeChecks).
 */

/** Name of the stack's local that holds the instance types table (instanceTypesHcl). */
export const INSTANCE_TABLE_LOCAL = "accelerator_instances";
const TABLE = `local.${INSTANCE_TABLE_LOCAL}`;
/** HCL: the known instance types, a list (a variable's rule needs no local to read them). */
export const KNOWN_TYPES = `[${Object.keys(INSTANCE_TYPES)
  .map((t) => JSON.stringify(t))
  .join(", ")}]`;
const MOST_DEVICES = Math.max(...Object.values(INSTANCE_TYPES).map((t) => t.devices));

/** Where an environment's accelerated capacity comes from, for messages: `platform-dev`, or how to get some. */
export interface CapacitySource {
  /** The stack that offers it (`platform-<env>`, `accelerators-<env>`, ...). */
  readonly stack: string;
}

/** HCL for Fargate's table: `{ "256" = [512, ...], ... }`. */
function fargateTableHcl(): string {
  const rows = Object.entries(FARGATE_MEMORY).map(([cpu, mems]) => `"${cpu}" = [${mems.join(", ")}]`);
  return `{ ${rows.join(", ")} }`;
}

/**
 * cpu, memory, accelerator, instance_type, gpu_count, capacity_provider and
 * ephemeral_storage_gib, and the instance types table they are checked against.
 * `capacity` is where the environment's accelerated capacity comes from; undefined when it
 * has none, and then `noCapacityHint` says how an administrator adds some.
 */
export function computeVariables(stack: Construct, capacity: CapacitySource | undefined, noCapacityHint: string) {
  const instanceTable = new TerraformLocal(stack, INSTANCE_TABLE_LOCAL, instanceTypesHcl());
  const fargateCpus = Object.keys(FARGATE_MEMORY).join(", ");
  return {
    instanceTable,
    accelerator: variable(stack, "accelerator", {
      type: "string",
      default: "none",
      description:
        "What the notebook runs on: none (Fargate), nvidia (NVIDIA GPUs) or neuron (AWS Inferentia2 or Trainium), on an instance of the environment's accelerated capacity.",
      validation: [
        oneOfRule("accelerator", [...ACCELERATORS], "'none', 'nvidia' or 'neuron'"),
        ...(capacity
          ? []
          : [
              {
                condition: '${var.accelerator == "none"}',
                errorMessage: `accelerator '\${var.accelerator}' needs accelerated capacity, and this environment has none: ${noCapacityHint}`,
              },
            ]),
      ],
    }),
    instanceType: variable(stack, "instance_type", {
      type: "string",
      default: "",
      description: `Instance type of an accelerated notebook, e.g. g6.xlarge or inf2.xlarge; empty: ${DEFAULT_INSTANCE_TYPE.nvidia} for nvidia, ${DEFAULT_INSTANCE_TYPE.neuron} for neuron.`,
      validation: [
        {
          condition: `\${var.instance_type == "" || contains(${KNOWN_TYPES}, var.instance_type)}`,
          errorMessage: `instance_type must be empty or one of the accelerated instance types this project knows, ${Object.keys(INSTANCE_TYPES).join(
            ", ",
          )}, got '\${var.instance_type}'.`,
        },
      ],
    }),
    gpuCount: variable(stack, "gpu_count", {
      type: "number",
      default: null,
      description: "GPUs of the instance the notebook gets (accelerator nvidia); null: all of them.",
      validation: [wholeNumberRule("gpu_count", 1, MOST_DEVICES, { nullable: "all of the instance's GPUs" })],
    }),
    cpu: variable(stack, "cpu", {
      type: "number",
      default: null,
      description: `CPU units (1024 = 1 vCPU). Fargate: ${fargateCpus}; null: ${DEFAULT_FARGATE_CPU}. On an instance: up to its vCPUs × 1024; null: the share of the instance its devices are.`,
      validation: [
        {
          condition: `\${var.cpu == null ? true : (var.accelerator == "none" ? contains([${fargateCpus}], var.cpu) : var.cpu >= ${MIN_TASK_CPU} && floor(var.cpu) == var.cpu)}`,
          errorMessage: `cpu must be one of the Fargate CPU values ${fargateCpus} (or null for ${DEFAULT_FARGATE_CPU}); with an accelerator, a whole number of CPU units from ${MIN_TASK_CPU}; got ${shown(
            "cpu",
          )}.`,
        },
      ],
    }),
    memory: variable(stack, "memory", {
      type: "number",
      default: null,
      description: `Memory in MiB. Fargate: one it offers for the cpu; null: ${DEFAULT_FARGATE_MEMORY}. On an instance: up to what it leaves tasks; null: the share of the instance its devices are.`,
      validation: [
        {
          condition: `\${var.accelerator != "none" || contains(lookup(${fargateTableHcl()}, tostring(coalesce(var.cpu, ${DEFAULT_FARGATE_CPU})), []), coalesce(var.memory, ${DEFAULT_FARGATE_MEMORY}))}`,
          errorMessage: `memory \${coalesce(var.memory, ${DEFAULT_FARGATE_MEMORY})}\${var.memory == null ? " (the default)" : ""} is not offered by Fargate with cpu \${coalesce(var.cpu, ${DEFAULT_FARGATE_CPU})}; allowed memory (MiB) per cpu: ${FARGATE_TABLE_TEXT}.`,
        },
        {
          condition: `\${var.memory == null ? true : var.memory >= ${MIN_TASK_MEMORY_MIB} && floor(var.memory) == var.memory}`,
          errorMessage: `memory must be a whole number of MiB from ${MIN_TASK_MEMORY_MIB}, or null, got ${shown("memory")}.`,
        },
      ],
    }),
    capacityProvider: variable(stack, "capacity_provider", {
      type: "string",
      default: "FARGATE",
      description: "FARGATE (on demand) or FARGATE_SPOT (cheaper, may be stopped with 2 minutes' notice; the cluster must have it). Fargate only.",
      validation: [oneOfRule("capacity_provider", ["FARGATE", "FARGATE_SPOT"], "'FARGATE' or 'FARGATE_SPOT'")],
    }),
    ephemeralStorageGib: variable(stack, "ephemeral_storage_gib", {
      type: "number",
      default: null,
      description: "Task storage in GiB, 21 to 200; unset (null) for Fargate's default of 20. Fargate only: on an instance, its volume.",
      validation: [wholeNumberRule("ephemeral_storage_gib", 21, 200, { nullable: "the default 20" })],
    }),
  };
}

/**
 * The values a notebook really gets, as HCL: `var.<name>`, or a team file's literal for a
 * member. `assignPublicIp` is absent on a platform's notebooks (the platform decides).
 */
export interface ComputeValues {
  readonly accelerator: string;
  readonly instanceType: string;
  readonly gpuCount: string;
  readonly cpu: string;
  readonly memory: string;
  readonly capacityProvider: string;
  readonly ephemeralStorageGib: string;
  readonly assignPublicIp?: string;
}

/**
 * The rules combining what the notebook runs on with its size and options, as preconditions
 * of a `terraform_data` (which needs no provider: a plan stops at them before any AWS call):
 * on the values the notebook gets, the vars file's or the team file's.
 */
export function computeChecks(stack: Construct, v: ComputeValues): TerraformResource {
  const type = `(${v.instanceType} != "" ? ${v.instanceType} : lookup(${JSON.stringify(DEFAULT_INSTANCE_TYPE).replace(/:/g, " = ")}, ${v.accelerator}, ""))`;
  const row = (field: string, fallback: string) => `try(${TABLE}[${type}].${field}, ${fallback})`;
  const accelerated = `${v.accelerator} != "none"`;
  const ofAccelerator = (name: string) => `[for t, r in ${TABLE} : t if r.accelerator == ${name}]`;
  const precondition = [
    {
      condition: `${accelerated} || ${v.instanceType} == ""`,
      errorMessage: `instance_type is '\${${v.instanceType}}' but accelerator is none (Fargate): set accelerator to nvidia or neuron, or leave instance_type empty.`,
    },
    {
      condition: `!(${accelerated}) || ${row("accelerator", '""')} == ${v.accelerator}`,
      errorMessage: `instance_type \${${type}} is a \${${row("accelerator", '"unknown"')}} instance, but accelerator is \${${
        v.accelerator
      }}: choose one of \${join(", ", ${ofAccelerator(v.accelerator)})}.`,
    },
    {
      condition: `${v.gpuCount} == null || ${v.accelerator} == "nvidia"`,
      errorMessage: `gpu_count is for accelerator nvidia (accelerator is \${${v.accelerator}}): a neuron notebook gets all of its instance's Neuron devices; remove gpu_count.`,
    },
    {
      condition: `${v.gpuCount} == null || ${v.accelerator} != "nvidia" || try(${v.gpuCount} <= ${row("devices", "0")}, true)`,
      errorMessage: `gpu_count \${${v.gpuCount} == null ? 0 : ${v.gpuCount}} is more than \${${type}} has (\${${row(
        "devices",
        "0",
      )}} GPUs): ask for at most that many, or choose an instance type with more.`,
    },
    {
      condition: `!(${accelerated}) || ${v.cpu} == null || try(${v.cpu} <= ${row("task_cpu", "0")}, true)`,
      errorMessage: `cpu \${${v.cpu} == null ? 0 : ${v.cpu}} is more than a task gets on \${${type}}: at most \${${row(
        "task_cpu",
        "0",
      )}} CPU units (its \${${row("vcpus", "0")}} vCPUs); lower cpu, leave it null, or choose a larger instance type.`,
    },
    {
      condition: `!(${accelerated}) || ${v.memory} == null || try(${v.memory} <= ${row("task_memory", "0")}, true)`,
      errorMessage: `memory \${${v.memory} == null ? 0 : ${v.memory}} is more than a task gets on \${${type}}: at most \${${row(
        "task_memory",
        "0",
      )}} MiB of its \${${row("memory_gib", "0")}} GiB (the rest is kept for the instance); lower memory, leave it null, or choose a larger instance type.`,
    },
    {
      condition: `!(${accelerated}) || ${v.capacityProvider} == "FARGATE"`,
      errorMessage: `capacity_provider \${${v.capacityProvider}} is Fargate's, but accelerator is \${${v.accelerator}}: an accelerated notebook runs on an instance of the environment's capacity; set capacity_provider to FARGATE (the default) or accelerator to none.`,
    },
    {
      condition: `!(${accelerated}) || ${v.ephemeralStorageGib} == null`,
      errorMessage: `ephemeral_storage_gib is Fargate's task storage, but accelerator is \${${v.accelerator}}: a notebook on an instance uses the instance's volume (accelerator_volume_gib of the capacity's stack); remove ephemeral_storage_gib.`,
    },
    ...(v.assignPublicIp === undefined
      ? []
      : [
          {
            condition: `!(${accelerated}) || !${v.assignPublicIp}`,
            errorMessage: `assign_public_ip is true, but accelerator is \${${v.accelerator}}: ECS gives no public IP to a task on an instance, so the notebook needs subnets with a NAT gateway (fargate_subnets) and assign_public_ip = false.`,
          },
        ]),
  ];
  return new TerraformResource(stack, "compute_input_check", {
    terraformResourceType: "terraform_data",
    // "|| table == null" (never true) makes every condition refer to the table: a condition on a
    // team file's literals alone is one Terraform refuses.
    lifecycle: { precondition: precondition.map((p) => ({ condition: `\${${p.condition} || ${TABLE} == null}`, errorMessage: p.errorMessage })) },
  });
}
