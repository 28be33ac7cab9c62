import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { namesFor, partitionOf } from "../config/names";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { accountRoot } from "../constructs/iam-policy";
import { accessFor, accountProvider } from "./account-stack";
import { BOOTSTRAP_OUTPUT } from "./outputs";

/**
 * Run once, before anything else: the S3 bucket (in account A) that holds both
 * stacks' state. Its own state is local (terraform.bootstrap.tfstate), since
 * the bucket it would live in does not exist yet.
 */
export class BootstrapStack extends TerraformStack {
  readonly stateBucket: EncryptedBucket;

  constructor(scope: Construct, id: string, config: CrossAccountConfig) {
    super(scope, id);
    const partition = partitionOf(config.stateRegion);
    const names = namesFor(config);
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });

    const provider = accountProvider(this, {
      alias: "bootstrap",
      region: config.stateRegion,
      accountId: config.callerAccountId,
      access: accessFor(config, "caller"),
      environment: config.environment,
    });

    // Account B's deployer writes the callee's state, and only that key, across accounts.
    const calleeRoot = accountRoot(partition, config.calleeAccountId);
    const bucketArn = `arn:${partition}:s3:::${config.stateBucket}`;
    const calleeStateObjects = [`${bucketArn}/${names.calleeStateKey}`, `${bucketArn}/${names.calleeStateKey}.tflock`];

    this.stateBucket = new EncryptedBucket(this, "state-bucket", {
      provider,
      partition,
      accountId: config.callerAccountId,
      bucketName: config.stateBucket,
      purpose: "Terraform state of the caller and callee stacks",
      requireKeyOnUpload: false,
      noncurrentVersionExpirationDays: 365,
      extraKeyPolicyStatements: [
        {
          Sid: "CalleeAccountUsesKeyThroughS3Only",
          Effect: "Allow",
          Principal: { AWS: calleeRoot },
          Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": `s3.${config.stateRegion}.amazonaws.com` } },
        },
      ],
      extraBucketPolicyStatements: [
        {
          Sid: "CalleeAccountListsOwnStateOnly",
          Effect: "Allow",
          Principal: { AWS: calleeRoot },
          Action: "s3:ListBucket",
          Resource: bucketArn,
          Condition: { StringLike: { "s3:prefix": `${names.calleeStateKey}*` } },
        },
        {
          Sid: "CalleeAccountReadsAndWritesOwnStateOnly",
          Effect: "Allow",
          Principal: { AWS: calleeRoot },
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          Resource: calleeStateObjects,
        },
      ],
    });

    new TerraformOutput(this, BOOTSTRAP_OUTPUT.stateBucket, { value: this.stateBucket.bucket.bucket });
    new TerraformOutput(this, BOOTSTRAP_OUTPUT.stateKmsKeyArn, { value: this.stateBucket.key.arn });
  }
}
