import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { AccountScope } from "./account-context";
import { ConfigValidationError } from "../config/config";
import { kmsAliasName } from "./kms-alias-name";
import { enableIamStatement, PolicyStatement, renderPolicy } from "./iam-policy";

/** S3's limit on a bucket policy's size. */
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

/** A bucket and its key; the account and provider come from the enclosing stack. */
export interface EncryptedBucketProps {
  /** The bucket's name, which also names the key's alias. @default none: required */
  readonly bucketName: string;
  /** What the bucket holds, for the key's description. @default none: required */
  readonly purpose: string;
  /** Extra key policy statements (for example a cross-account grant). @default none */
  readonly extraKeyPolicyStatements?: PolicyStatement[];
  /** Extra bucket policy statements. @default none */
  readonly extraBucketPolicyStatements?: PolicyStatement[];
  /**
   * Refuse uploads that name another encryption than this bucket's key. Off only for the state bucket, whose writer
   * (Terraform's S3 backend) may rely on the bucket's default encryption instead of naming the key.
   * @default true
   */
  readonly requireKeyOnUpload?: boolean;
  /** Days before a noncurrent object version expires. @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** The key's deletion window in days. @default 30 */
  readonly keyDeletionWindowDays?: number;
}

/**
 * An S3 bucket that only ever holds objects encrypted with its own customer
 * managed KMS key: versioned, private, owner-enforced, TLS-only, and refusing
 * uploads that are not encrypted with that key.
 */
export class EncryptedBucket extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: EncryptedBucketProps) {
    super(scope, id);
    const { provider, partition, accountId } = AccountScope.of(this);

    this.key = new KmsKey(this, "key", {
      provider,
      description: `Encrypts ${props.purpose} in s3://${props.bucketName}`,
      enableKeyRotation: true,
      deletionWindowInDays: props.keyDeletionWindowDays ?? 30,
      policy: renderPolicy(enableIamStatement(partition, accountId), ...(props.extraKeyPolicyStatements ?? [])),
    });
    this.alias = new KmsAlias(this, "alias", {
      provider,
      name: kmsAliasName(props.bucketName),
      targetKeyId: this.key.keyId,
    });

    this.bucket = new S3Bucket(this, "bucket", { provider, bucket: props.bucketName });
    const bucket = this.bucket.id;

    new S3BucketVersioningA(this, "versioning", {
      provider,
      bucket,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      provider,
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      provider,
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      provider,
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      provider,
      bucket,
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });

    const bucketArn = this.bucket.arn;
    const policy = renderPolicy(
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      ...(props.requireKeyOnUpload === false ? [] : this.uploadDenials(bucketArn)),
      ...(props.extraBucketPolicyStatements ?? []),
    );
    // S3 refuses a bucket policy over 20 KB (Amazon S3 User Guide, "Policies and permissions in Amazon S3": 20 KB); the
    // bucket's ARN is still a token here, so measure with the ARN it will be (the key's is at most a few bytes longer).
    const size = Buffer.byteLength(policy.split(bucketArn).join(`arn:${partition}:s3:::${props.bucketName}`), "utf8") + 64;
    if (size > MAX_BUCKET_POLICY_BYTES) {
      throw new ConfigValidationError([
        `the bucket policy of s3://${props.bucketName} (${props.purpose}) would be about ${size} bytes, over S3's limit of ${MAX_BUCKET_POLICY_BYTES}: ` +
          "fewer callers outside the state bucket's account, shorter caller names or a shorter stateKeyPrefix make it fit",
      ]);
    }
    new S3BucketPolicy(this, "policy", {
      provider,
      bucket,
      // A bucket policy set while the public access block is still being applied can be refused.
      dependsOn: [publicAccessBlock],
      policy,
    });
  }

  /**
   * Uploads that name any encryption must name this bucket's key. The parts of a multipart upload carry no
   * encryption headers (the provider's uploader switches to multipart above 5 MiB; boto/botocore#471), so the
   * denials apply only when the header is present: a part, or an upload without headers, is encrypted with this
   * key by the bucket's default encryption. An SSE-KMS upload without a key id would get aws/s3, so it is refused
   * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, x-amz-server-side-encryption-aws-kms-key-id).
   */
  private uploadDenials(bucketArn: string): PolicyStatement[] {
    const sseHeaderPresent = { "s3:x-amz-server-side-encryption": "false" };
    return [
      {
        Sid: "DenyUploadsNotEncryptedWithKms",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" }, Null: sseHeaderPresent },
      },
      {
        Sid: "DenyUploadsEncryptedWithAnotherKey",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": this.key.arn }, Null: sseHeaderPresent },
      },
      {
        // SSE-C names its algorithm in another header (x-amz-server-side-encryption-customer-algorithm), and its key is not ours.
        Sid: "DenyUploadsWithCustomerProvidedKeys",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `${bucketArn}/*`,
        Condition: { Null: { "s3:x-amz-server-side-encryption-customer-algorithm": "false" } },
      },
    ];
  }
}
