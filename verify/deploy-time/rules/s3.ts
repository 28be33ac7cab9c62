/** What S3 validates when the stacks upload code and put bucket policies. */
import { adminUser } from "../../../core";
import { asList, statementsOf } from "../../access-model";
import { decide, decideOnKey, describe, keyName, keyOf, type DeployRuleDefinition } from "../rule-context";

/** The provider's PutObject: TLS, x-amz-server-side-encryption and the kms_key_id it was given, by the deployer. */
export const codeUploadAccepted: DeployRuleDefinition = {
  id: "code-upload-accepted",
  phase: "create",
  call: "s3:PutObject (aws_s3_object, SSE-KMS)",
  title:
    "the bucket policy accepts the provider's TLS upload with the headers it sends, and its multipart parts, and the deployer may use the key",
  source:
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html; https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_object; boto/botocore#471",
  appliesTo: "aws_s3_object",
  async judge(ctx, address) {
    const bucketName = ctx.argument(address, "bucket");
    const objectKey = ctx.argument(address, "key");
    if (typeof bucketName !== "string" || typeof objectKey !== "string") return undefined;
    const bucket = ctx.model.buckets.get(bucketName);
    if (!bucket) return { ok: true, detail: `bucket ${bucketName} is not defined by these stacks; not judged` };
    const sse = ctx.argument(address, "server_side_encryption");
    const kmsKeyId = ctx.argument(address, "kms_key_id");
    const deployer = adminUser(ctx.model.partition, bucket.accountId);
    const headers: Record<string, string> = {};
    if (typeof sse === "string") headers["s3:x-amz-server-side-encryption"] = sse;
    if (typeof kmsKeyId === "string") headers["s3:x-amz-server-side-encryption-aws-kms-key-id"] = kmsKeyId;
    const upload = (context: Record<string, string>) =>
      decide(ctx, {
        principal: deployer,
        action: "s3:PutObject",
        resourceArn: `${bucket.arn}/${objectKey}`,
        resourceAccountId: bucket.accountId,
        ...(bucket.policy ? { resourcePolicy: bucket.policy, resourcePolicyName: `bucket policy of ${bucketName}` } : {}),
        region: bucket.region,
        context,
      });
    const shown =
      Object.entries(headers)
        .map(([k, v]) => `${k.slice(3)}: ${v}`)
        .join(", ") || "no encryption headers";
    const put = await upload(headers);
    if (!put.allowed) {
      return {
        ok: false,
        detail: `s3:PutObject of s3://${bucketName}/${objectKey} over TLS with ${shown}: ${describe(put)}`,
        answer: `AccessDenied: User: ${deployer.arn} is not authorized to perform: s3:PutObject on resource: ${bucket.arn}/${objectKey} ${put.reason}`,
        fix: 'upload with server_side_encryption = "aws:kms" and kms_key_id = the ARN of the key the bucket policy requires',
      };
    }
    // Above 5 MiB the provider's uploader sends the parts (UploadPart, authorized as s3:PutObject) with no encryption headers.
    const part = await upload({});
    if (!part.allowed) {
      return {
        ok: false,
        detail: `an UploadPart of s3://${bucketName}/${objectKey} (multipart, above 5 MiB; no encryption headers): ${describe(part)}`,
        answer: "AccessDenied when calling the UploadPart operation: Access Denied (boto/botocore#471)",
        fix: 'deny wrong encryption only when the header is present (add Null {"s3:x-amz-server-side-encryption": "false"} to the Deny), and let the bucket\'s default encryption apply to parts',
      };
    }
    const key = typeof kmsKeyId === "string" ? keyOf(ctx, kmsKeyId) : undefined;
    if (key) {
      const decision = await decideOnKey(ctx, deployer, "kms:GenerateDataKey", key, {
        "kms:ViaService": `s3.${key.region}.amazonaws.com`,
        "kms:CallerAccount": bucket.accountId,
      });
      if (!decision.allowed) {
        return {
          ok: false,
          detail: `kms:GenerateDataKey on ${keyName(key)} through S3: ${describe(decision)}`,
          answer: "AccessDenied: KMS refused GenerateDataKey for the upload",
          fix: `let the deployer of account ${bucket.accountId} use ${keyName(key)} through S3`,
        };
      }
    }
    return {
      ok: true,
      detail: `the bucket policy accepts the upload over TLS with ${shown}, and its multipart parts${key ? `; the deployer may use ${keyName(key)}` : ""}`,
    };
  },
};

/**
 * Condition keys whose fixed values make a statement non-public, as S3's Block Public Access judges a policy
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html, "The meaning of public").
 */
const NON_PUBLIC_KEYS = new Set([
  "aws:sourcearn",
  "aws:sourcevpc",
  "aws:sourcevpce",
  "aws:sourceaccount",
  "aws:sourceowner",
  "aws:sourceip",
  "aws:principalarn",
  "aws:principalaccount",
  "aws:principalorgid",
  "aws:userid",
  "aws:principalservicename",
  "s3:dataaccesspointarn",
  "s3:dataaccesspointaccount",
]);
const FIXED_VALUE_OPERATORS = /^(StringEquals|StringEqualsIgnoreCase|ArnEquals|StringLike|ArnLike|IpAddress)$/;

function isPublicStatement(statement: Record<string, unknown>): boolean {
  if (statement.Effect !== "Allow") return false;
  const principal = statement.Principal;
  const everyone = principal === "*" || asList((principal as Record<string, unknown> | undefined)?.AWS).includes("*");
  if (!everyone) return false;
  const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
  const fixes = Object.entries(condition).some(
    ([operator, keys]) =>
      FIXED_VALUE_OPERATORS.test(operator) &&
      Object.entries(keys).some(
        ([key, value]) => NON_PUBLIC_KEYS.has(key.toLowerCase()) && asList(value).every((v) => !v.includes("*") && v !== "0.0.0.0/0"),
      ),
  );
  return !fixes;
}

/** PutBucketPolicy is refused for a public policy while the bucket's Block Public Access forbids one. */
export const bucketPolicyNotPublic: DeployRuleDefinition = {
  id: "bucket-policy-not-public",
  phase: "create",
  call: "s3:PutBucketPolicy",
  title: "a bucket policy is not public while the bucket's Block Public Access sets BlockPublicPolicy",
  source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
  appliesTo: "aws_s3_bucket_policy",
  async judge(ctx, address) {
    const policyText = ctx.argument(address, "policy");
    const bucket = ctx.argument(address, "bucket");
    if (typeof policyText !== "string") return undefined;
    const blocks = ctx.graph.addresses.filter(
      (a) =>
        a.startsWith("aws_s3_bucket_public_access_block.") &&
        ctx.argument(a, "bucket") === bucket &&
        ctx.argument(a, "block_public_policy") === true,
    );
    const publicStatements = statementsOf(JSON.parse(policyText))
      .filter(isPublicStatement)
      .map((s, i) => (typeof s.Sid === "string" ? s.Sid : `statement #${i + 1}`));
    if (publicStatements.length === 0)
      return { ok: true, detail: `the policy of ${String(bucket)} grants nothing to everyone without a condition that fixes who` };
    if (blocks.length === 0)
      return {
        ok: true,
        detail: `the policy of ${String(bucket)} is public (${publicStatements.join(", ")}), and no Block Public Access of these stacks forbids it`,
      };
    return {
      ok: false,
      detail: `the policy of ${String(bucket)} is public (${publicStatements.join(", ")}) and ${blocks.join(", ")} sets block_public_policy`,
      answer:
        "AccessDenied: User is not authorized to perform: s3:PutBucketPolicy because public policies are blocked by the BlockPublicPolicy block public access setting.",
      fix: "narrow the statement to fixed principals or a condition on one of the keys S3 treats as non-public (aws:SourceArn, aws:PrincipalOrgID, ...)",
    };
  },
};
