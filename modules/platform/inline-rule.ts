import { SecurityGroupIngress } from "@cdktf/provider-aws/lib/security-group";

/**
 * A security group rule written inline: in the JSON that cdktf writes, an inline rule must
 * give every attribute (Terraform's "attributes as blocks"), unused ones empty.
 */
export function inlineRule(rule: { description: string; protocol: string; fromPort: number; toPort: number; cidrBlocks?: string[]; ipv6CidrBlocks?: string[]; self?: boolean }): SecurityGroupIngress {
  return {
    description: rule.description,
    protocol: rule.protocol,
    fromPort: rule.fromPort,
    toPort: rule.toPort,
    cidrBlocks: rule.cidrBlocks ?? [],
    ipv6CidrBlocks: rule.ipv6CidrBlocks ?? [],
    prefixListIds: [],
    securityGroups: [],
    selfAttribute: rule.self ?? false,
  };
}
