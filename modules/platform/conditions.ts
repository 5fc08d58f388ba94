import { conditional, Fn, IResolvable, Op, Token } from "cdktf";

/**
 * Conditions of the platform's options, which are literals when the module is used as a
 * library and Terraform expressions (variables) in the platform stack. A literal is decided
 * here, so the synthesized configuration holds no condition on constants; an expression
 * becomes HCL.
 *
 * Why not cdktf's Op alone: Op renders a falsy literal operand (0, "", false) as
 * `undefined` (`length(var.x) == undefined`), which no Terraform parses. Every helper
 * below keeps such literals out of Op.
 */

/** A condition: a literal, or a Terraform expression of type bool. */
export type Condition = boolean | IResolvable;

function literal(value: unknown): boolean {
  return !Token.isUnresolved(value);
}

/** `value` is the empty string. */
export function isEmpty(value: string): Condition {
  if (literal(value)) return value === "";
  return Op.lt(Fn.lengthOf(value), 1);
}

/** `value` equals `expected`, a non-empty literal. */
export function equals(value: string, expected: string): Condition {
  if (expected === "") throw new Error("equals() compares with a non-empty literal; use isEmpty()");
  if (literal(value)) return value === expected;
  return Op.eq(value, expected);
}

export function not(a: Condition): Condition {
  return typeof a === "boolean" ? !a : Op.not(a);
}

export function and(a: Condition, b: Condition): Condition {
  if (typeof a === "boolean") return a ? b : false;
  if (typeof b === "boolean") return b ? a : false;
  return Op.and(a, b);
}

export function or(a: Condition, b: Condition): Condition {
  if (typeof a === "boolean") return a ? true : b;
  if (typeof b === "boolean") return b ? true : a;
  return Op.or(a, b);
}

/** `a` when the condition holds, otherwise `b`. */
export function when<T>(condition: Condition, a: T, b: T): T | IResolvable {
  if (typeof condition === "boolean") return condition ? a : b;
  return conditional(condition, a, b);
}

/** A `count`: `n` when the condition holds, otherwise 0. */
export function countWhen(condition: Condition, n: number): number {
  return Token.asNumber(when(condition, n, 0));
}

/** A list: `list` when the condition holds, otherwise empty. */
export function listWhen(condition: Condition, list: string[]): string[] {
  return Token.asList(when(condition, list, []));
}

/** The length of a list: a number for a literal list, an expression otherwise. */
export function lengthOf(list: string[]): number {
  return Token.isUnresolved(list) ? Fn.lengthOf(list) : list.length;
}
