import * as fs from "fs";
import * as path from "path";
import { INSTANCE_TYPES } from "../modules/accelerators/instance-types";
import { managedAttributes, TerraformState } from "./state";

/**
 * What a deployed notebook is (its size, from its state) and what it costs per hour while it
 * runs, from scripts/prices.json: one price per line, with its source and date. A price the
 * file does not have is "unknown", never guessed.
 */

export interface FargateRates {
  vcpuHour: number;
  gbHour: number;
}

export interface Prices {
  date: string;
  fargate: {
    source: string;
    spotDiscountEstimate: number;
    spotNote: string;
    /** Per region, one line each: its rates by CPU architecture, and where they come from. */
    regions: Record<string, { x86_64?: FargateRates; arm64?: FargateRates; source: string }>;
  };
  instances: { source: string; regions: Record<string, Record<string, number>> };
}

export const PRICES_FILE = path.join(__dirname, "prices.json");

export function readPrices(file = PRICES_FILE): Prices {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** A month, as AWS's pricing pages count it. */
export const HOURS_PER_MONTH = 730;

export interface NotebookSize {
  vcpu: number;
  memoryGib: number;
  capacity: "fargate" | "fargate-spot" | "instance";
  architecture: string;
  /** With capacity "instance". */
  instanceType?: string;
  gpus?: number;
  region?: string;
}

/** The notebook's size as its state records it: task definition, service and its capacity provider. */
export function sizeOf(state: TerraformState | undefined): NotebookSize | undefined {
  const task = managedAttributes(state, "aws_ecs_task_definition");
  const service = managedAttributes(state, "aws_ecs_service");
  if (!task || !service) return undefined;
  const providers = ((service.capacity_provider_strategy as Array<{ capacity_provider?: string }> | undefined) ?? []).map((s) =>
    String(s.capacity_provider ?? ""),
  );
  const instanceType = Object.keys(INSTANCE_TYPES).find((type) => providers.some((p) => p.endsWith(`-${type.replace(".", "-")}`)));
  const platform = (task.runtime_platform as Array<{ cpu_architecture?: string }> | undefined)?.[0];
  const cluster = String(service.cluster ?? "");
  let gpus: number | undefined;
  try {
    const containers = JSON.parse(String(task.container_definitions ?? "[]")) as Array<{ resourceRequirements?: Array<{ type: string; value: string }> }>;
    const gpu = containers.flatMap((c) => c.resourceRequirements ?? []).find((r) => r.type === "GPU");
    if (gpu) gpus = Number(gpu.value);
  } catch {
    // no container definitions to read: no GPU count
  }
  return {
    vcpu: Number(task.cpu) / 1024,
    memoryGib: Number(task.memory) / 1024,
    capacity: instanceType ? "instance" : providers.includes("FARGATE_SPOT") ? "fargate-spot" : "fargate",
    architecture: String(platform?.cpu_architecture || "X86_64").toLowerCase(),
    ...(instanceType ? { instanceType } : {}),
    ...(gpus !== undefined ? { gpus } : {}),
    ...(cluster.startsWith("arn:") ? { region: cluster.split(":")[3] } : {}),
  };
}

/** "1 vCPU 4 GiB", "Spot 0.5 vCPU 1 GiB", "g6.xlarge, 1 GPU (4 vCPU 14.25 GiB)". */
export function describeSize(size: NotebookSize): string {
  const figures = `${trim(size.vcpu)} vCPU ${trim(size.memoryGib)} GiB`;
  if (size.capacity === "instance") return `${size.instanceType}${size.gpus ? `, ${size.gpus} GPU` : ""} (${figures})`;
  return `${size.capacity === "fargate-spot" ? "Spot " : ""}${figures}${size.architecture === "arm64" ? " ARM" : ""}`;
}

export interface HourlyPrice {
  /** Dollars per hour while running; undefined when the prices file has no figure for it. */
  perHour?: number;
  /** An estimate (Fargate Spot). */
  estimate: boolean;
  /** Why there is no figure: "price unknown (ap-south-2)". */
  unknown?: string;
}

/**
 * Dollars per hour while the notebook runs. Fargate: vCPU and GB prices of its region and
 * architecture, Spot with the estimated discount. On an instance: the instance's on-demand
 * price times the notebook's share of its vCPUs (all of it by default: a notebook takes the
 * whole instance), without the Managed Instances fee.
 */
export function hourlyPrice(size: NotebookSize, prices: Prices): HourlyPrice {
  const region = size.region ?? "unknown region";
  if (size.capacity === "instance") {
    const price = prices.instances.regions[region]?.[size.instanceType!];
    if (price === undefined) return { estimate: false, unknown: `price unknown (${size.instanceType} in ${region})` };
    const share = Math.min(1, size.vcpu / INSTANCE_TYPES[size.instanceType!].vcpus);
    return { perHour: price * share, estimate: false };
  }
  const known = prices.fargate.regions[region];
  if (!known) return { estimate: false, unknown: `price unknown (Fargate in ${region})` };
  const rates = size.architecture === "arm64" || size.architecture === "x86_64" ? known[size.architecture] : undefined;
  if (!rates) return { estimate: false, unknown: `price unknown (Fargate ${size.architecture} in ${region})` };
  const onDemand = size.vcpu * rates.vcpuHour + size.memoryGib * rates.gbHour;
  if (size.capacity === "fargate-spot") return { perHour: onDemand * (1 - prices.fargate.spotDiscountEstimate), estimate: true };
  return { perHour: onDemand, estimate: false };
}

/** "$0.0583", "~$0.0175" (an estimate), or the reason there is no figure. */
export function formatPrice(price: HourlyPrice): string {
  if (price.perHour === undefined) return price.unknown ?? "price unknown";
  return `${price.estimate ? "~" : ""}$${price.perHour.toFixed(4)}`;
}

const trim = (n: number) => String(Math.round(n * 100) / 100);
