import { Construct } from "constructs";
import { TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { StateBucket } from "../modules/state-bucket";
import { configureBackend, profileOrDefaultChain, PROJECT_TAG, requireTerraformVersion } from "./terraform-settings";
import { StateBackendStackSpec } from "./stack-specs";
import { wholeNumberRule } from "./variable-rules";

/**
 * `state-backend-<env>`: the S3 bucket that holds an environment's notebook states. It is
 * created once, before any `notebook-<env>` deploy; its own state is a local file, or the
 * bucket itself once moved there (bootstrapStateInBucket).
 */
export class StateBackendStack extends TerraformStack {
  public readonly stateBucket: StateBucket;

  constructor(scope: Construct, spec: StateBackendStackSpec) {
    super(scope, spec.id);
    requireTerraformVersion(this);
    configureBackend(this, spec.backend);
    const env = spec.environment;

    const noncurrentDays = new TerraformVariable(this, "noncurrent_version_days", {
      type: "number",
      default: 90,
      nullable: false,
      description: "Days an overwritten or deleted state version is kept before it expires.",
      validation: [wholeNumberRule("noncurrent_version_days", 1, 3650, { unit: "of days" })],
    });
    const profile = new TerraformVariable(this, "profile_name", {
      type: "string",
      default: "",
      nullable: false,
      description: "Named profile from the AWS config files; empty uses the default credential chain.",
    });

    new AwsProvider(this, "aws", {
      region: env.stateRegion,
      profile: profileOrDefaultChain(profile.stringValue),
      defaultTags: [{ tags: { Environment: env.name, Project: PROJECT_TAG, ManagedBy: "cdktf", Purpose: "terraform-state" } }],
    });

    this.stateBucket = new StateBucket(this, "state", { bucketName: env.stateBucket, noncurrentVersionDays: noncurrentDays.numberValue });
    new TerraformOutput(this, "bucket", { value: this.stateBucket.bucket.bucket, description: "The state bucket." });
    new TerraformOutput(this, "key_prefix", {
      value: `${env.stateKeyPrefix}/${env.name}/`,
      description: "Where this environment's notebook states go in the bucket (<prefix>/<env>/<user>/terraform.tfstate).",
    });
  }
}
