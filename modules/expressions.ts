import { ref, TerraformDataSource, TerraformResource, TerraformStack, Token } from "cdktf";

/**
 * `<address>[*].<attribute>`: the attribute of every instance of a resource or data
 * source with `count` (an empty list when the count is 0).
 */
export function splat(element: TerraformResource | TerraformDataSource, attribute: string): string[] {
  const stack = TerraformStack.of(element);
  const type = element.terraformResourceType;
  const address = element instanceof TerraformDataSource ? `data.${type}` : type;
  return Token.asList(ref(`${address}.${stack.getLogicalId(element)}[*].${attribute}`, stack));
}
