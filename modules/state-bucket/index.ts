import { Construct } from "constructs";
import { Fn } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA as S3BucketVersioning } from "@cdktf/provider-aws/lib/s3-bucket-versioning";

export interface StateBucketProps {
  /** Name of the bucket. */
  readonly bucketName: string;
  /**
   * Days an overwritten or deleted state version is kept (to recover a state) before it expires.
   * @default 90
   */
  readonly noncurrentVersionDays?: number;
}

/**
 * An S3 bucket for Terraform state: versioned, encrypted, private, owned by the bucket
 * owner, reachable over TLS only, old versions expired, and protected against `destroy`.
 */
export class StateBucket extends Construct {
  public readonly bucket: S3Bucket;
  public readonly versioning: S3BucketVersioning;
  public readonly encryption: S3BucketServerSideEncryptionConfiguration;
  public readonly publicAccessBlock: S3BucketPublicAccessBlock;
  public readonly ownership: S3BucketOwnershipControls;
  public readonly policy: S3BucketPolicy;
  public readonly lifecycle: S3BucketLifecycleConfiguration;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const noncurrentVersionDays = props.noncurrentVersionDays ?? 90;

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      // Every user's notebook state lives here: `destroy` must not be able to remove it.
      lifecycle: { preventDestroy: true },
    });
    this.versioning = new S3BucketVersioning(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    this.encryption = new S3BucketServerSideEncryptionConfiguration(this, "encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    this.publicAccessBlock = new S3BucketPublicAccessBlock(this, "public_access_block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    this.ownership = new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
      // S3 refuses a policy while the public access block is being set.
      dependsOn: [this.publicAccessBlock],
    });
    this.lifecycle = new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionDays }],
          // Lock files (use_lockfile) leave a delete marker on every run: clear them away.
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
      // Lifecycle rules on noncurrent versions need versioning first.
      dependsOn: [this.versioning],
    });
  }
}
