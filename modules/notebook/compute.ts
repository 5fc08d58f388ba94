import { Construct } from "constructs";
import { Fn, IResolvable, Op, TerraformLocal, Token } from "cdktf";
import { DEFAULT_IMAGE, NEURON_IMAGE, NEURON_IMAGE_TAG, NEURON_START_COMMAND, NVIDIA_IMAGE, NVIDIA_TAG_PREFIX } from "../accelerators/images";
import { DEFAULT_INSTANCE_TYPE, instanceTypesHcl } from "../accelerators/instance-types";
import { and, Condition, once, not, or, when } from "../platform/conditions";

/** Fargate's cpu and memory when the vars file gives none. */
export const DEFAULT_FARGATE_CPU = 1024;
export const DEFAULT_FARGATE_MEMORY = 4096;

export interface NotebookComputeProps {
  /**
   * CPU units; null or undefined: Fargate's 1024, or on an instance the share of it that the
   * notebook's devices are of the instance's.
   * @default 1024 on Fargate; the devices' share of the instance otherwise
   */
  readonly cpu?: number;
  /**
   * Memory in MiB; null or undefined as for cpu.
   * @default 4096 on Fargate; the devices' share of the instance otherwise
   */
  readonly memory?: number;
  /**
   * "FARGATE" (on demand) or "FARGATE_SPOT", for a notebook without accelerator.
   * @default "FARGATE"
   */
  readonly capacityProvider?: string;
  /**
   * "none" (Fargate), "nvidia" or "neuron" (an instance of the environment's accelerated capacity).
   * @default "none"
   */
  readonly accelerator?: string;
  /**
   * The instance type; empty: the accelerator's default (DEFAULT_INSTANCE_TYPE).
   * @default the accelerator's default
   */
  readonly instanceType?: string;
  /**
   * GPUs the notebook gets (nvidia); null or undefined: all of the instance's. A Neuron
   * notebook always gets all of the instance's devices (ECS gives them only whole).
   * @default all of the instance's GPUs
   */
  readonly gpuCount?: number;
  /**
   * The instance types table (instanceTypesHcl() of modules/accelerators): instance type =>
   * accelerator, devices, task_cpu, task_memory. A stack passes its local holding it.
   * @default the table written out where it is used
   */
  readonly instanceTable?: IResolvable;
  /**
   * The environment's accelerated capacity: instance type => capacity provider name.
   * @default none: the environment offers no accelerator (a literal accelerator then throws; the caller refuses an expression's)
   */
  readonly capacityProviderNames?: Record<string, string>;
  /**
   * Image repository without tag; null, empty or undefined: the accelerator's default image.
   * @default quay.io/jupyter/datascience-notebook; its CUDA pytorch-notebook with nvidia; AWS's Neuron container with neuron
   */
  readonly image?: string;
  /**
   * Tag of that image (of the default Fargate and NVIDIA images too; not of the pinned Neuron one).
   * @default "latest"
   */
  readonly imageTag?: string;
}

/**
 * Where and on what a notebook runs, decided once from its props (literals or Terraform
 * expressions): Fargate on demand or Spot, or an instance of the environment's accelerated
 * capacity (ECS Managed Instances) with its GPUs or Neuron devices; the task's cpu and
 * memory; and the image. Owns no resource: the task definition and service read it. The
 * instance type, its table row and the devices are locals, each written once.
 */
export class NotebookCompute extends Construct {
  /** Whether the notebook runs on an accelerated instance. */
  public readonly accelerated: Condition;
  /** Whether it runs on Fargate Spot. */
  public readonly spot: Condition;
  /** The instance type ("" on Fargate). */
  public readonly instanceType: string;
  /** Task cpu and memory, as the task definition wants them (strings). */
  public readonly cpu: string;
  public readonly memory: string;
  /** ["FARGATE"] or ["MANAGED_INSTANCES"]. */
  public readonly requiresCompatibilities: string[];
  /** "FARGATE" on demand; null with a capacity provider (Spot, or the instance type's). */
  public readonly launchType: string;
  /** The service's capacity providers: none, ["FARGATE_SPOT"], or the instance type's. */
  public readonly capacityProviders: string[];
  /** The instance type's capacity provider ("" when the environment offers none for it). */
  public readonly capacityProviderName: string;
  /** Whether the environment offers the instance type (true on Fargate). */
  public readonly capacityOffered: Condition;
  /** The container's resourceRequirements: its GPUs, all Neuron devices, or null. */
  public readonly resourceRequirements: IResolvable;
  /** `repository:tag` of the container image. */
  public readonly image: string;
  /** The container's command: null (the image's own) but for the default Neuron image. */
  public readonly command: IResolvable;

  constructor(scope: Construct, id: string, props: NotebookComputeProps) {
    super(scope, id);
    const accelerator = props.accelerator ?? "none";
    this.accelerated = literalOr(
      accelerator,
      (a) => a !== "none",
      () => once(Op.neq(accelerator, "none")),
    );
    const isAccelerator = (name: string) =>
      literalOr(
        accelerator,
        (a) => a === name,
        () => once(Op.eq(accelerator, name)),
      );
    const nvidia = isAccelerator("nvidia");
    const neuron = isAccelerator("neuron");
    this.spot = and(
      not(this.accelerated),
      literalOr(
        props.capacityProvider ?? "FARGATE",
        (p) => p === "FARGATE_SPOT",
        () => once(Op.eq(props.capacityProvider!, "FARGATE_SPOT")),
      ),
    );

    const instanceTypeInput = props.instanceType ?? "";
    // (Each conditional that is an operand goes through tonumber() or a local: cdktf writes
    // `a * c ? x : y` without parentheses, which Terraform reads as `(a * c) ? x : y`.)
    const defaultType = when<string>(nvidia, DEFAULT_INSTANCE_TYPE.nvidia, DEFAULT_INSTANCE_TYPE.neuron);
    const chosenType = Token.isUnresolved(instanceTypeInput)
      ? when(once(Op.gte(Fn.lengthOf(instanceTypeInput), 1)), instanceTypeInput, defaultType)
      : instanceTypeInput === ""
      ? defaultType
      : instanceTypeInput;
    this.instanceType = new TerraformLocal(this, "instance_type", when<unknown>(this.accelerated, chosenType, "")).asString;
    const table = props.instanceTable ?? instanceTypesHcl();
    const instance = new TerraformLocal(this, "instance", Fn.lookup(table, this.instanceType, NO_INSTANCE));
    const row = (field: string) => Token.asNumber(Fn.lookup(instance.asAnyMap, field, 0));
    const instanceDevices = row("devices");
    // All of a Neuron instance's devices; of a GPU instance's, those asked for.
    const devices = new TerraformLocal(
      this,
      "devices",
      props.gpuCount === undefined ? instanceDevices : when<unknown>(nvidia, Fn.coalesce([props.gpuCount, instanceDevices]), instanceDevices),
    ).asNumber;
    const share = (field: string) => Token.asNumber(once(Op.div(once(Op.mul(row(field), devices)), Fn.max([instanceDevices, 1]))));
    const defaultCpu = when<unknown>(this.accelerated, Fn.floor(share("task_cpu")), DEFAULT_FARGATE_CPU);
    const defaultMemory = when<unknown>(
      this.accelerated,
      once(Op.mul(Fn.floor(Token.asNumber(once(Op.div(share("task_memory"), 256)))), 256)),
      DEFAULT_FARGATE_MEMORY,
    );
    this.cpu = size(props.cpu, defaultCpu);
    this.memory = size(props.memory, defaultMemory);

    this.requiresCompatibilities = Token.asList(when(this.accelerated, ["MANAGED_INSTANCES"], ["FARGATE"]));
    const names = props.capacityProviderNames;
    // try(): Fn.lookup with the default "" renders as an index, which fails on a type the capacity lacks (the precondition then names it).
    this.capacityProviderName =
      names === undefined ? "" : Token.asString(when<unknown>(this.accelerated, Fn.try([Fn.lookup(names, this.instanceType), ""]), ""));
    // Without capacity the caller refuses an accelerator itself (the stack: accelerator's validation).
    if (names === undefined && typeof this.accelerated === "boolean" && this.accelerated) {
      throw new Error(`accelerator ${accelerator} needs capacityProviderNames: the environment's accelerated capacity`);
    }
    this.capacityOffered = names === undefined ? true : or(not(this.accelerated), once(Op.gte(Fn.lengthOf(this.capacityProviderName), 1)));
    this.launchType = Token.asString(when<unknown>(or(this.accelerated, this.spot), Token.nullValue(), "FARGATE"));
    this.capacityProviders = Token.asList(when<unknown>(this.accelerated, [this.capacityProviderName], when<string[]>(this.spot, ["FARGATE_SPOT"], [])));
    this.resourceRequirements = when<unknown>(
      nvidia,
      [{ type: "GPU", value: Fn.tostring(devices) }],
      when<unknown>(neuron, [{ type: "NeuronDevice", value: "ALL" }], Token.nullValue()),
    ) as IResolvable;

    // An image of the vars file's, or the accelerator's default.
    const image = props.image;
    const tag = props.imageTag ?? "latest";
    // try(): length() of a null image (the variable unset) fails, and means "not given".
    const given: Condition = image === undefined ? false : Token.isUnresolved(image) ? Fn.try([once(Op.gte(Fn.lengthOf(image), 1)), false]) : image.length > 0;
    const defaultImage = when<string>(
      nvidia,
      Fn.format(`${NVIDIA_IMAGE}:${NVIDIA_TAG_PREFIX}%s`, [tag]),
      when(neuron, `${NEURON_IMAGE}:${NEURON_IMAGE_TAG}`, Fn.format(`${DEFAULT_IMAGE}:%s`, [tag])),
    );
    this.image = Token.asString(when(given, Fn.format("%s:%s", [image ?? "", tag]), defaultImage));
    this.command = when<unknown>(and(not(given), neuron), NEURON_START_COMMAND, Token.nullValue()) as IResolvable;
  }
}

/** The table row of Fargate (no instance). */
const NO_INSTANCE = { accelerator: "none", devices: 0, vcpus: 0, memory_gib: 0, task_cpu: 0, task_memory: 0 };

/** A task size as the task definition wants it: the literal given, or the expression with its default. */
function size(given: number | undefined, fallback: unknown): string {
  if (given !== undefined && !Token.isUnresolved(given)) return String(given);
  if (typeof fallback === "number") return given === undefined ? String(fallback) : Fn.tostring(Fn.coalesce([given, fallback]));
  return Fn.tostring(given === undefined ? fallback : Fn.coalesce([given, fallback]));
}

/** A literal decided here; an expression becomes HCL. */
function literalOr(value: string, decide: (literal: string) => boolean, expression: () => IResolvable): Condition {
  return Token.isUnresolved(value) ? expression() : decide(value);
}
