import { Construct } from "constructs";
import { TerraformVariable, TerraformVariableConfig, TerraformVariableValidationConfig } from "cdktf";

/**
 * How this project declares Terraform variables, and the shapes of their validation rules,
 * one helper each: every message names the variable, says what it must be and quotes the
 * value received.
 */

/**
 * Every variable is non-nullable (`x = null` in a vars file means the default), except
 * those whose default is null, meaning "unset".
 */
export function variable(stack: Construct, name: string, config: TerraformVariableConfig): TerraformVariable {
  if (config.default !== null) return new TerraformVariable(stack, name, { ...config, nullable: false });
  // cdktf cannot render `default: null` itself.
  const { default: _unset, ...rest } = config;
  const v = new TerraformVariable(stack, name, { ...rest, nullable: true });
  v.addOverride("default", null);
  return v;
}

/**
 * A nullable variable's value inside a message: "null" for null. Terraform evaluates a rule's
 * message even when the rule holds, and warns (a later version: fails) on a null in it.
 */
export function shown(name: string): string {
  return `\${var.${name} == null ? "null" : var.${name}}`;
}

/**
 * The usual rule: the value matches `pattern` (or, with `optional`, is empty); the message
 * names the variable, says what it must be and quotes the value received.
 */
export function patternRule(name: string, pattern: string, mustBe: string, options: { optional?: boolean } = {}): TerraformVariableValidationConfig {
  const matches = `can(regex(${re(pattern)}, var.${name}))`;
  return {
    condition: options.optional ? `\${var.${name} == "" || ${matches}}` : `\${${matches}}`,
    errorMessage: `${name} ${mustBe}, got '\${var.${name}}'.`,
  };
}

/**
 * The value is a whole number from `min` to `max` (or, with `nullable`, null: unset). The
 * message reads "<name> must be a whole number[ <unit>] from <min> to <max>, got <value>.";
 * `minText` and `maxText` may explain the bounds ("0 (never stop)").
 */
export function wholeNumberRule(
  name: string,
  min: number,
  max: number,
  text: { unit?: string; minText?: string; maxText?: string; nullable?: string } = {},
): TerraformVariableValidationConfig {
  const v = `var.${name}`;
  const inRange = `${v} >= ${min} && ${v} <= ${max} && floor(${v}) == ${v}`;
  const range = `a whole number${text.unit ? ` ${text.unit}` : ""} from ${text.minText ?? min} to ${text.maxText ?? max}`;
  if (text.nullable === undefined) return { condition: `\${${inRange}}`, errorMessage: `${name} must be ${range}, got \${${v}}.` };
  return {
    condition: `\${${v} == null ? true : (${inRange})}`,
    errorMessage: `${name} must be ${range}, or null for ${text.nullable}, got ${shown(name)}.`,
  };
}

/** The value is one of `values`; the message says what they are (`mustBe`) and quotes a string received. */
export function oneOfRule(name: string, values: Array<string | number>, mustBe: string): TerraformVariableValidationConfig {
  const list = values.map((x) => (typeof x === "string" ? JSON.stringify(x) : String(x))).join(", ");
  const got = typeof values[0] === "string" ? `'\${var.${name}}'` : `\${var.${name}}`;
  return { condition: `\${contains([${list}], var.${name})}`, errorMessage: `${name} must be ${mustBe}, got ${got}.` };
}

export function re(pattern: string): string {
  // A JSON/HCL string literal of the pattern: backslashes and quotes escaped.
  return JSON.stringify(pattern);
}
