import { Construct } from "constructs";
import { TerraformElement, TerraformStack } from "cdktf";
// cdktf's own naming function, the one TerraformStack.allocateLogicalId uses. It is not
// part of cdktf's public API: should it change, addresses.test.ts fails.
import { makeUniqueId } from "cdktf/lib/private/unique";

/**
 * Pins `element`, created in a sub-construct of `owner`, to the logical ID it had when it
 * was `owner`'s direct child with construct id `oldId`. Its Terraform address then stays
 * the same, with no `moved` block: a refactoring does not replace deployed resources.
 */
export function keepLogicalId(element: TerraformElement, owner: Construct, oldId: string): void {
  const stack = TerraformStack.of(owner);
  const scopes = owner.node.scopes;
  const components = [...scopes.slice(scopes.indexOf(stack) + 1).map((c) => c.node.id), oldId];
  const id = makeUniqueId(components);
  element.overrideLogicalId(id);
  // cdktf keeps the first logical ID anything read (a reference built with address() or
  // splat() before this call): the override would then be ignored without a word.
  if (element.friendlyUniqueId !== id) {
    throw new Error(`keepLogicalId: ${element.node.path} was referenced before its logical ID was pinned to ${id}; pin it right after creating it`);
  }
}
