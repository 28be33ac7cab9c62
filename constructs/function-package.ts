import * as path from "path";
import { Construct } from "constructs";
import { AssetType, TerraformAsset } from "cdktf";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { AccountScope } from "./account-context";
import { bundleFunction, FunctionBundle, HANDLER } from "./bundle";
import { EncryptedBucket } from "./encrypted-code-bucket";
import { PROJECT_ROOT } from "../core/paths";

/** A function's code and its upload; the provider comes from the enclosing stack. */
export interface FunctionPackageProps {
  /** The folder under lambda-src/, e.g. "caller". @default none: required */
  readonly sourceName: string;
  /** The bucket the zip is uploaded to, encrypted with its key. @default none: required */
  readonly codeBucket: EncryptedBucket;
}

/**
 * A function's deployable code: the bundled zip as a TerraformAsset, uploaded
 * to the code bucket under a content-addressed key and encrypted with the
 * bucket's key. A code change gives a new key and hash; nothing else does.
 */
export class FunctionPackage extends Construct {
  readonly bundle: FunctionBundle;
  readonly asset: TerraformAsset;
  readonly object: S3Object;
  readonly handler = HANDLER;
  readonly s3Bucket: string;
  readonly s3Key: string;

  constructor(scope: Construct, id: string, props: FunctionPackageProps) {
    super(scope, id);
    this.bundle = bundleFunction(
      path.join(PROJECT_ROOT, "lambda-src", props.sourceName),
      path.join(PROJECT_ROOT, "build", props.sourceName),
    );
    this.asset = new TerraformAsset(this, "asset", { path: this.bundle.zipPath, type: AssetType.FILE });
    this.s3Key = `functions/${props.sourceName}/${this.bundle.sha256Hex}.zip`;
    this.object = new S3Object(this, "object", {
      provider: AccountScope.of(this).provider,
      bucket: props.codeBucket.bucket.id,
      key: this.s3Key,
      source: this.asset.path,
      sourceHash: this.bundle.sha256Hex,
      contentType: "application/zip",
      serverSideEncryption: "aws:kms",
      kmsKeyId: props.codeBucket.key.arn,
      bucketKeyEnabled: true,
    });
    this.s3Bucket = props.codeBucket.bucket.id;
  }
}
