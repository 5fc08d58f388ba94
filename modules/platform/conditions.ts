import { conditional, Fn, IResolvable, IResolveContext, Op, Token } from "cdktf";

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

/**
 * An expression that cdktf resolves once per kind of resolution instead of once per path to
 * it. cdktf resolves an IResolvable operand twice (tfExpression's resolveArg, then its
 * resolveExpressionPart), and a list or map inside an expression twice too, so each level of
 * nesting doubled the work: 2^depth resolutions of the innermost expression, which made the
 * task definition's container, 6 levels deep, most of a notebook stack's synth time. The
 * result depends only on the context's flags and scope, which make the key; the first
 * resolution of each kind still runs (and registers what it registers, such as cross-stack
 * outputs when preparing).
 */
class Once implements IResolvable {
  public readonly creationStack: string[] = [];
  private readonly results = new Map<string, unknown>();
  private static readonly ids = new WeakMap<object, number>();
  private static nextId = 0;

  constructor(private readonly expression: unknown) {}

  public resolve(context: IResolveContext): unknown {
    const key = [context.preparing, context.suppressBraces, context.ignoreEscapes, context.warnEscapes, context.iteratorContext, Once.idOf(context.scope)].join(
      "|",
    );
    if (!this.results.has(key)) this.results.set(key, context.resolve(this.expression));
    return this.results.get(key);
  }

  private static idOf(object: object | undefined): number {
    if (object === undefined) return -1;
    if (!Once.ids.has(object)) Once.ids.set(object, Once.nextId++);
    return Once.ids.get(object)!;
  }
}

/** `expression`, resolved once per kind of resolution (see Once). */
export function once(expression: unknown): IResolvable {
  return new Once(expression);
}

function literal(value: unknown): boolean {
  return !Token.isUnresolved(value);
}

/** `value` is the empty string. */
export function isEmpty(value: string): Condition {
  if (literal(value)) return value === "";
  return once(Op.lt(Fn.lengthOf(value), 1));
}

/** `value` equals `expected`, a non-empty literal. */
export function equals(value: string, expected: string): Condition {
  if (expected === "") throw new Error("equals() compares with a non-empty literal; use isEmpty()");
  if (literal(value)) return value === expected;
  return once(Op.eq(value, expected));
}

export function not(a: Condition): Condition {
  return typeof a === "boolean" ? !a : once(Op.not(a));
}

export function and(a: Condition, b: Condition): Condition {
  if (typeof a === "boolean") return a ? b : false;
  if (typeof b === "boolean") return b ? a : false;
  return once(Op.and(a, b));
}

export function or(a: Condition, b: Condition): Condition {
  if (typeof a === "boolean") return a ? true : b;
  if (typeof b === "boolean") return b ? true : a;
  return once(Op.or(a, b));
}

/** `a` when the condition holds, otherwise `b`. */
export function when<T>(condition: Condition, a: T, b: T): T | IResolvable {
  if (typeof condition === "boolean") return condition ? a : b;
  return once(conditional(condition, a, b));
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
