import * as fs from "fs";
import * as path from "path";
import { FARGATE_MEMORY, TAG_RE } from "./patterns";
import { parseJsonStrictly } from "./json-text";
import { SettingsError } from "./settings-error";

/**
 * A team file names the users an administrator rolls notebooks out to, with optional
 * per-user overrides:
 *   {"users": [{"name": "alice"}, {"name": "bob", "cpu": 2048, "memory": 8192, "jupyter_docker_tag": "2026-05-31"}]}
 */
export interface TeamMember {
  /** The user, exactly as their NOTEBOOK_USER reads (a lower-case DNS label). */
  readonly name: string;
  readonly cpu?: number;
  readonly memory?: number;
  readonly jupyterDockerTag?: string;
}

const MEMBER_FIELDS = ["name", "cpu", "memory", "jupyter_docker_tag"];
/** A user name as NOTEBOOK_USER is normalised: lower case, single dashes, at most 32 characters. */
export const MAX_USER_LENGTH = 32;
export const USER_NAME = new RegExp(`^(?=.{1,${MAX_USER_LENGTH}}$)[a-z0-9]+(-[a-z0-9]+)*$`);
const TAG = new RegExp(TAG_RE);

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
      throw new SettingsError(`${where} has name ${JSON.stringify(name)}: expected 1 to 32 lower-case letters, digits and single '-', as NOTEBOOK_USER normalises names`);
    }
    if (seen.has(name)) throw new SettingsError(`${where}: user ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    const { cpu, memory } = fields;
    if ((cpu === undefined) !== (memory === undefined)) {
      throw new SettingsError(`${where} (${name}) sets ${cpu === undefined ? "memory" : "cpu"} alone: give cpu and memory together`);
    }
    if (cpu !== undefined) {
      const offered = FARGATE_MEMORY[cpu as number];
      if (typeof cpu !== "number" || !offered) {
        throw new SettingsError(`${where} (${name}) has cpu ${JSON.stringify(cpu)}: expected one of ${Object.keys(FARGATE_MEMORY).join(", ")}`);
      }
      if (typeof memory !== "number" || !offered.includes(memory)) {
        throw new SettingsError(`${where} (${name}) has memory ${JSON.stringify(memory)}: Fargate offers ${offered.join(", ")} with cpu ${cpu}`);
      }
    }
    const tag = fields.jupyter_docker_tag;
    if (tag !== undefined && (typeof tag !== "string" || !TAG.test(tag))) {
      throw new SettingsError(`${where} (${name}) has jupyter_docker_tag ${JSON.stringify(tag)}: expected an image tag`);
    }
    return { name, cpu: cpu as number | undefined, memory: memory as number | undefined, jupyterDockerTag: tag as string | undefined };
  });
}
