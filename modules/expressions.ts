import { ref, TerraformDataSource, TerraformResource, TerraformStack, Token } from "cdktf";

/**
 * `<address>[*].<attribute>`: the attribute of every instance of a resource or data
 * source with `count` (an empty list when the count is 0).
 */
export function splat(element: TerraformResource | TerraformDataSource, attribute: string): string[] {
  const stack = TerraformStack.of(element);
  return Token.asList(ref(`${address(element)}[*].${attribute}`, stack));
}

/** Terraform's address of a resource or data source, e.g. `data.aws_vpc.platform_vpc_1A2B3C4D`, for hand-written expressions. */
export function address(element: TerraformResource | TerraformDataSource): string {
  const type = element.terraformResourceType;
  const prefix = element instanceof TerraformDataSource ? `data.${type}` : type;
  // friendlyUniqueId, not the stack's allocation: it honours overrideLogicalId (keepLogicalId).
  return `${prefix}.${element.friendlyUniqueId}`;
}
