import { SettingsError } from "./settings-error";

/**
 * JSON of a settings file or variable, read strictly: a leading byte-order mark (which
 * some editors write) is dropped, and a key that appears twice in one object is an error.
 * JSON.parse keeps the last of two equal keys without a word, so a user who pasted an
 * environment twice, or listed a field twice, would silently lose the first.
 * `what` names the source in messages, e.g. "team file team.json".
 */
export function parseJsonStrictly(text: string, what: string): unknown {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new SettingsError(`${what} is not valid JSON (${(err as Error).message})`);
  }
  const duplicate = firstDuplicateKey(body);
  if (duplicate) {
    const where = duplicate.path.length > 0 ? `in ${duplicate.path.map((k) => JSON.stringify(k)).join(" > ")}` : "at the top level";
    throw new SettingsError(`${what} has the key ${JSON.stringify(duplicate.key)} twice ${where}: JSON keeps only the last one; remove or rename the other`);
  }
  return parsed;
}

interface Level {
  /** Keys seen so far in this object; null for an array. */
  readonly keys: Set<string> | null;
  /** The key whose value is being read (objects), for the path in messages. */
  lastKey?: string;
  expectKey: boolean;
}

/** The first key repeated within one object of valid JSON text, with the keys leading to it. */
function firstDuplicateKey(text: string): { key: string; path: string[] } | undefined {
  const levels: Level[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "{" || ch === "[") {
      levels.push({ keys: ch === "{" ? new Set() : null, expectKey: ch === "{" });
    } else if (ch === "}" || ch === "]") {
      levels.pop();
    } else if (ch === ",") {
      const top = levels[levels.length - 1];
      if (top?.keys) top.expectKey = true;
    } else if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      i = end;
      const top = levels[levels.length - 1];
      if (top?.keys && top.expectKey) {
        if (top.keys.has(value)) {
          const path = levels.slice(0, -1).map((l) => l.lastKey).filter((k): k is string => k !== undefined);
          return { key: value, path };
        }
        top.keys.add(value);
        top.lastKey = value;
        top.expectKey = false;
      }
    }
  }
  return undefined;
}
