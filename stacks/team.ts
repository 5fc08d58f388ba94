import * as fs from "fs";
import * as path from "path";
import {
  Accelerator,
  ACCELERATORS,
  DEFAULT_INSTANCE_TYPE,
  INSTANCE_TYPES,
  instanceTypesOf,
  MIN_TASK_CPU,
  MIN_TASK_MEMORY_MIB,
  taskCpuOf,
  taskMemoryOf,
} from "../modules/accelerators/instance-types";
import { FARGATE_MEMORY, IMAGE_RE, MAX_IMAGE_LENGTH, TAG_RE } from "./patterns";
import { parseJsonStrictly } from "./json-text";
import { SettingsError } from "./settings-error";

/**
 * A team file names the users an administrator rolls notebooks out to, with optional
 * per-user overrides:
 *   {"users": [{"name": "alice"}, {"name": "bob", "cpu": 2048, "memory": 8192, "jupyter_docker_tag": "2026-05-31"},
 *              {"name": "carol", "accelerator": "nvidia", "instance_type": "g5.12xlarge", "gpu_count": 1}]}
 * A member who sets any of cpu, memory, accelerator, instance_type and gpu_count gets all of
 * them from the team file (accelerator "none" unless given), none from the vars file. A
 * member's `image` (a repository, as the vars file's) wins; without one, the vars file's image
 * goes with the vars file's accelerator: a member on another accelerator gets that
 * accelerator's default image.
 */
export interface TeamMember {
  /** The user, exactly as their NOTEBOOK_USER reads (a lower-case DNS label). */
  readonly name: string;
  readonly cpu?: number;
  readonly memory?: number;
  readonly jupyterDockerTag?: string;
  /** Image repository without tag (the tag is jupyter_docker_tag). */
  readonly image?: string;
  /** Set ("none" by default) when the member's compute comes from the team file. */
  readonly accelerator?: string;
  readonly instanceType?: string;
  readonly gpuCount?: number;
}

const MEMBER_FIELDS = ["name", "cpu", "memory", "jupyter_docker_tag", "image", "accelerator", "instance_type", "gpu_count"];
const COMPUTE_FIELDS = ["cpu", "memory", "accelerator", "instance_type", "gpu_count"];
/** A user name as NOTEBOOK_USER is normalised: lower case, single dashes, at most 32 characters. */
export const MAX_USER_LENGTH = 32;
export const USER_NAME = new RegExp(`^(?=.{1,${MAX_USER_LENGTH}}$)[a-z0-9]+(-[a-z0-9]+)*$`);
const TAG = new RegExp(TAG_RE);
const IMAGE_RE_COMPILED = new RegExp(IMAGE_RE);

/** Reads and validates the team file; every problem is one SettingsError line naming file and entry. */
export function readTeamFile(file: string, projectDir: string): TeamMember[] {
  const full = path.resolve(projectDir, file);
  let text: string;
  try {
    text = fs.readFileSync(full, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "it does not exist" : code === "EISDIR" ? "it is a directory, not a file" : (err as Error).message;
    throw new SettingsError(`team file ${file}: cannot be read, ${why}`);
  }
  const parsed = parseJsonStrictly(text, `team file ${file}`);
  const doc = parsed as { users?: unknown };
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Array.isArray(doc.users)) {
    throw new SettingsError(`team file ${file}: expected an object {"users": [{"name": "alice"}, ...]}`);
  }
  const extra = Object.keys(parsed).filter((k) => k !== "users");
  if (extra.length > 0) throw new SettingsError(`team file ${file}: unknown field ${JSON.stringify(extra[0])}: only "users" is allowed`);
  const seen = new Set<string>();
  return doc.users.map((entry, i) => {
    const where = `team file ${file}: users[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new SettingsError(`${where} must be an object such as {"name": "alice"}, got ${JSON.stringify(entry)}`);
    }
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !MEMBER_FIELDS.includes(k));
    if (unknown.length > 0) {
      throw new SettingsError(`${where} has unknown field ${JSON.stringify(unknown[0])}: allowed are ${MEMBER_FIELDS.join(", ")}`);
    }
    const name = fields.name;
    if (typeof name !== "string" || !USER_NAME.test(name)) {
      throw new SettingsError(
        `${where} has name ${JSON.stringify(name)}: expected 1 to 32 lower-case letters, digits and single '-', as NOTEBOOK_USER normalises names`,
      );
    }
    if (seen.has(name)) throw new SettingsError(`${where}: user ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    const tag = fields.jupyter_docker_tag;
    if (tag !== undefined && (typeof tag !== "string" || !TAG.test(tag))) {
      throw new SettingsError(`${where} (${name}) has jupyter_docker_tag ${JSON.stringify(tag)}: expected an image tag`);
    }
    const image = fields.image;
    if (image !== undefined && (typeof image !== "string" || image.length > MAX_IMAGE_LENGTH || !IMAGE_RE_COMPILED.test(image))) {
      throw new SettingsError(
        `${where} (${name}) has image ${JSON.stringify(
          image,
        )}: expected a lower-case image repository without tag or digest, e.g. quay.io/jupyter/pytorch-notebook`,
      );
    }
    const member = { name, jupyterDockerTag: tag as string | undefined, ...(image === undefined ? {} : { image: image as string }) };
    if (!COMPUTE_FIELDS.some((field) => fields[field] !== undefined)) return member;
    return { ...member, ...readCompute(fields, `${where} (${name})`) };
  });
}

/** A member's cpu, memory, accelerator, instance_type and gpu_count, checked as the notebook stack's rules check them. */
function readCompute(fields: Record<string, unknown>, where: string): Omit<TeamMember, "name" | "jupyterDockerTag" | "image"> {
  const { cpu, memory } = fields;
  const accelerator = fields.accelerator ?? "none";
  if (typeof accelerator !== "string" || !(ACCELERATORS as readonly string[]).includes(accelerator)) {
    throw new SettingsError(`${where} has accelerator ${JSON.stringify(accelerator)}: expected one of ${ACCELERATORS.join(", ")}`);
  }
  if (accelerator === "none") {
    for (const field of ["instance_type", "gpu_count"]) {
      if (fields[field] !== undefined) throw new SettingsError(`${where} sets ${field} without an accelerator: add "accelerator": "nvidia" or "neuron"`);
    }
    if ((cpu === undefined) !== (memory === undefined)) {
      throw new SettingsError(`${where} sets ${cpu === undefined ? "memory" : "cpu"} alone: give cpu and memory together`);
    }
    if (cpu !== undefined) {
      const offered = FARGATE_MEMORY[cpu as number];
      if (typeof cpu !== "number" || !offered) {
        throw new SettingsError(`${where} has cpu ${JSON.stringify(cpu)}: expected one of ${Object.keys(FARGATE_MEMORY).join(", ")}`);
      }
      if (typeof memory !== "number" || !offered.includes(memory)) {
        throw new SettingsError(`${where} has memory ${JSON.stringify(memory)}: Fargate offers ${offered.join(", ")} with cpu ${cpu}`);
      }
    }
    return { accelerator, cpu: cpu as number | undefined, memory: memory as number | undefined };
  }
  const instanceType = fields.instance_type ?? DEFAULT_INSTANCE_TYPE[accelerator as Accelerator];
  const type = typeof instanceType === "string" ? INSTANCE_TYPES[instanceType] : undefined;
  if (!type || type.accelerator !== accelerator) {
    throw new SettingsError(
      `${where} has instance_type ${JSON.stringify(instanceType)}: expected one of the ${accelerator} instance types ${instanceTypesOf(
        accelerator as Accelerator,
      ).join(", ")}`,
    );
  }
  const gpuCount = fields.gpu_count;
  if (gpuCount !== undefined) {
    if (accelerator !== "nvidia")
      throw new SettingsError(`${where} sets gpu_count with accelerator ${accelerator}: a neuron notebook gets all of its instance's devices`);
    if (typeof gpuCount !== "number" || !Number.isInteger(gpuCount) || gpuCount < 1 || gpuCount > type.devices) {
      throw new SettingsError(
        `${where} has gpu_count ${JSON.stringify(gpuCount)}: ${instanceType} has ${type.devices} GPU${type.devices === 1 ? "" : "s"}, ask for 1 to ${
          type.devices
        }`,
      );
    }
  }
  const limit = (field: string, value: unknown, min: number, max: number, unit: string) => {
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new SettingsError(`${where} has ${field} ${JSON.stringify(value)}: a task on ${instanceType} gets ${min} to ${max} ${unit}`);
    }
  };
  limit("cpu", cpu, MIN_TASK_CPU, taskCpuOf(type), "CPU units");
  limit("memory", memory, MIN_TASK_MEMORY_MIB, taskMemoryOf(type), "MiB");
  return {
    accelerator,
    instanceType: instanceType as string,
    gpuCount: gpuCount as number | undefined,
    cpu: cpu as number | undefined,
    memory: memory as number | undefined,
  };
}
