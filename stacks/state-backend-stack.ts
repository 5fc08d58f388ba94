import { Construct } from "constructs";
import { TerraformOutput, TerraformStack, TerraformVariable } from "cdktf";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { NotebookAccessPolicies } from "../modules/access-policies";
import { StateBucket } from "../modules/state-bucket";
import { configureBackend, profileOrDefaultChain, PROJECT_TAG, requireTerraformVersion } from "./terraform-settings";
import { acceleratorsStateKey, environmentStatePrefix, platformStateKey, StateBackendStackSpec } from "./stack-specs";
import { wholeNumberRule } from "./variable-rules";
import { taskRolePolicyArnsVariable } from "./variables";

/**
 * `state-backend-<env>`: the S3 bucket that holds an environment's notebook states, and the
 * access policies of every environment whose states it holds (modules/access-policies). It
 * is created once, before any `notebook-<env>` deploy; its own state is a local file, or
 * the bucket itself once moved there (bootstrapStateInBucket).
 */
export class StateBackendStack extends TerraformStack {
  public readonly stateBucket: StateBucket;
  /** Per environment name: its user, administrator and role boundary policies. */
  public readonly accessPolicies: Record<string, NotebookAccessPolicies>;

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

    const taskRolePolicyArns = taskRolePolicyArnsVariable(
      this,
      "Managed IAM policies users may attach to their notebooks' task roles (their vars files' task_role_policy_arns); the notebook role boundary admits what they allow. At most 10.",
    );

    this.stateBucket = new StateBucket(this, "state", { bucketName: env.stateBucket, noncurrentVersionDays: noncurrentDays.numberValue });
    const partition = new DataAwsPartition(this, "partition").partition;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    this.accessPolicies = Object.fromEntries(
      spec.environments.map((e) => [
        e.name,
        new NotebookAccessPolicies(this, `access_${e.name}`, {
          environment: e.name,
          partition,
          account,
          stateBucketArn: this.stateBucket.bucket.arn,
          statePrefix: environmentStatePrefix(e.stateKeyPrefix, e.name),
          administratorStateKeys: [platformStateKey(e.stateKeyPrefix, e.name), acceleratorsStateKey(e.stateKeyPrefix, e.name)],
          taskRolePolicyArns: taskRolePolicyArns.listValue,
        }),
      ]),
    );
    new TerraformOutput(this, "bucket", { value: this.stateBucket.bucket.bucket, description: "The state bucket." });
    new TerraformOutput(this, "access_policies", {
      value: Object.fromEntries(
        Object.entries(this.accessPolicies).map(([name, p]) => [
          name,
          { user: p.userPolicies.map((x) => x.arn), administrator: p.administratorPolicies.map((x) => x.arn), role_boundary: p.roleBoundary.arn },
        ]),
      ),
      description:
        "Per environment, the ARNs of the notebook user policy (two parts: attach both), the administrator policy (likewise) and the notebook role boundary.",
    });
    new TerraformOutput(this, "key_prefix", {
      value: environmentStatePrefix(env.stateKeyPrefix, env.name),
      description: "Where this environment's notebook states go in the bucket (<prefix>/<env>/<user>/terraform.tfstate).",
    });
  }
}
