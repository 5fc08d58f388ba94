import { Fn, LocalBackend, S3Backend, TerraformStack, TerraformVariable, Token } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { BackendSpec } from "./stack-specs";

/** What every stack of this project sets in its `terraform` block and default tags. */

export const PROJECT_TAG = "jupyter-notebooks";
/** Cross-variable validation (memory against cpu) needs Terraform 1.9; S3 lock files 1.10. */
export const REQUIRED_TERRAFORM_VERSION = ">= 1.10";

/**
 * `terraform { required_version }`, except when cdktf writes HCL (`cdktf synth --hcl` sets
 * SYNTH_HCL_OUTPUT): cdktf 0.21's HCL renderer writes any extra terraform-block attribute
 * as `0 = "required_version"`, which no Terraform parses. The JSON that deploy runs keeps it.
 */
export function requireTerraformVersion(stack: TerraformStack): void {
  if (process.env.SYNTH_HCL_OUTPUT === "true") return;
  stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
}

/** The stack's backend: a local file, or S3 encrypted and locked. */
export function configureBackend(stack: TerraformStack, backend: BackendSpec): void {
  if (backend.type === "local") {
    new LocalBackend(stack, { path: backend.path });
    return;
  }
  const s3 = new S3Backend(stack, {
    bucket: backend.bucket,
    key: backend.key,
    region: backend.region,
    encrypt: true,
  });
  // cdktf 0.21's S3Backend has no field for S3-native state locking (Terraform >= 1.10).
  s3.addOverride("use_lockfile", true);
}

/** The AWS provider's `profile`: the named one, or null (the default credential chain) when empty. */
export function profileOrDefaultChain(profileName: string): string {
  return Token.asString(Fn.one(Fn.compact([profileName])));
}

/**
 * The AWS provider of an administrator's stack (platform, accelerators, waker): its region
 * and profile variables, and default tags that put the environment, project and purpose over
 * the vars file's `tags`.
 */
export function administratorProvider(
  stack: TerraformStack,
  vars: { region: TerraformVariable; profileName: TerraformVariable; tags: TerraformVariable },
  environment: string,
  purpose: string,
): AwsProvider {
  return new AwsProvider(stack, "aws", {
    region: vars.region.stringValue,
    profile: profileOrDefaultChain(vars.profileName.stringValue),
    defaultTags: [
      { tags: Token.asStringMap(Fn.merge([vars.tags.value, { Environment: environment, Project: PROJECT_TAG, ManagedBy: "cdktf", Purpose: purpose }])) },
    ],
  });
}
