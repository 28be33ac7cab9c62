import { Construct } from "constructs";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { namesFor, partitionOf } from "../config/names";
import { AccountScope } from "../constructs/account-context";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { accountRootArn } from "../core/arn";
import { accessFor, accountProvider } from "./account-stack";
import { BOOTSTRAP_OUTPUT } from "./outputs";
import { resolveCallers, type ResolvedCaller } from "../config/callers";
import type { PolicyStatement } from "../constructs/iam-policy";

/** Where the bootstrap stack keeps its local state, outside the synthesized output; git-ignored. */
export const BOOTSTRAP_STATE_DIR = "terraform-state";

/** The local backend's path, relative to the stack's folder cdktf.out/stacks/<id>. */
export function bootstrapStatePath(id: string): string {
  return `../../../${BOOTSTRAP_STATE_DIR}/${id}.tfstate`;
}

/**
 * Run once, before anything else: the S3 bucket (in account A) that holds both
 * stacks' state. Its own state is local (terraform-state/bootstrap.tfstate), since
 * the bucket it would live in does not exist yet (README: moving it into the bucket afterwards).
 */
export class BootstrapStack extends TerraformStack {
  readonly stateBucket: EncryptedBucket;

  constructor(scope: Construct, id: string, config: CrossAccountConfig, callers: readonly ResolvedCaller[] = resolveCallers(config)) {
    super(scope, id);
    const partition = partitionOf(config.stateRegion);
    const names = namesFor(config);
    // A relative path is taken from the working directory, cdktf.out/stacks/<id>, where cdktf runs terraform
    // (https://developer.hashicorp.com/terraform/language/backend/local): the project's terraform-state/ folder,
    // which neither `make clean` nor a new synth deletes (a state inside cdktf.out would be, leaving the
    // bucket unmanaged and the next bootstrap failing on BucketAlreadyOwnedByYou).
    new LocalBackend(this, { path: bootstrapStatePath(id) });

    const provider = accountProvider(this, {
      alias: "bootstrap",
      region: config.stateRegion,
      accountId: config.callerAccountId,
      access: accessFor(config, "caller"),
      environment: config.environment,
    });
    AccountScope.bind(this, { provider, accountId: config.callerAccountId, region: config.stateRegion, partition });

    // Account B's deployer writes the callee's state, and only that key, across accounts.
    const calleeRoot = accountRootArn(partition, config.calleeAccountId);
    const bucketArn = `arn:${partition}:s3:::${config.stateBucket}`;
    const calleeStateObjects = [`${bucketArn}/${names.calleeStateKey}`, `${bucketArn}/${names.calleeStateKey}.tflock`];

    // A caller in another account than the bucket's reaches it across accounts, like the callee: its own state, and the callee's to read.
    const remoteCallers = callers.filter((c) => c.accountId !== config.callerAccountId);
    const callerKeyStatements: PolicyStatement[] = remoteCallers.map((c) => ({
      Sid: `CallerKeyThroughS3Only${sidOf(c.name)}`,
      Effect: "Allow",
      Principal: { AWS: accountRootArn(partition, c.accountId) },
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": `s3.${config.stateRegion}.amazonaws.com` } },
    }));
    const callerBucketStatements: PolicyStatement[] = remoteCallers.flatMap((c): PolicyStatement[] => {
      const root = accountRootArn(partition, c.accountId);
      return [
        {
          Sid: `CallerListsOwnAndCalleeStateOnly${sidOf(c.name)}`,
          Effect: "Allow",
          Principal: { AWS: root },
          Action: "s3:ListBucket",
          Resource: bucketArn,
          Condition: { StringLike: { "s3:prefix": [`${c.stateKey}*`, `${names.calleeStateKey}*`] } },
        },
        {
          Sid: `CallerReadsAndWritesOwnStateOnly${sidOf(c.name)}`,
          Effect: "Allow",
          Principal: { AWS: root },
          Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
          Resource: [`${bucketArn}/${c.stateKey}`, `${bucketArn}/${c.stateKey}.tflock`],
        },
        {
          Sid: `CallerReadsCalleeState${sidOf(c.name)}`,
          Effect: "Allow",
          Principal: { AWS: root },
          Action: "s3:GetObject",
          Resource: `${bucketArn}/${names.calleeStateKey}`,
        },
      ];
    });

    this.stateBucket = new EncryptedBucket(this, "state-bucket", {
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
        ...callerKeyStatements,
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
        ...callerBucketStatements,
      ],
    });

    new TerraformOutput(this, BOOTSTRAP_OUTPUT.stateBucket, { value: this.stateBucket.bucket.bucket });
    new TerraformOutput(this, BOOTSTRAP_OUTPUT.stateKmsKeyArn, { value: this.stateBucket.key.arn });
  }
}

/**
 * A statement id suffix from a caller name, one-to-one (S3 and KMS require unique Sids of letters and digits):
 * names are lowercase, so each hyphen becomes the one uppercase letter "X" ("team-1" is "teamX1", "team1" stays "team1").
 */
function sidOf(name: string): string {
  return name.replace(/-/g, "X");
}
