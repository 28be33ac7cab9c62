/**
 * S3 buckets and KMS keys of the stacks: the policies that decide who may read or write
 * the code and who may use or administer the keys. The access proof reads these; the
 * runtime answers s3:GetBucketPolicy and kms:GetKeyPolicy from them.
 */
import { accountRootArn } from "./attributes";
import { Resolver, Where, child, describeWhere } from "./resolver";
import { JsonObject, StackDoc, blockList, isObject, resourcesOf } from "./stack-files";
import { BucketModel, KeyModel, ModelError, PolicyDocument, SourceRef } from "./types";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const whereOf = (source: SourceRef, p = ""): Where => ({ ...source, path: p });
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** KMS's default key policy: the account may delegate use and administration to IAM. */
export function defaultKeyPolicy(partition: string, accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Id: "key-default-1",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: accountRootArn(partition, accountId) },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

function stringAttribute(resolver: Resolver, stack: string, type: string, name: string, attribute: string, where: Where): string {
  const value = resolver.attribute(stack, type, name, attribute);
  if (typeof value !== "string")
    throw new ModelError(`${describeWhere(where)}: expected ${type}.${name}.${attribute} to be a string, found ${JSON.stringify(value)}`);
  return value;
}

export function buildKeys(resolver: Resolver, stacks: readonly StackDoc[]): Map<string, KeyModel> {
  const keys = new Map<string, Mutable<KeyModel> & { aliases: string[] }>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_kms_key")) {
      const source: SourceRef = { stack: stack.name, address: `aws_kms_key.${name}` };
      const target = resolver.target(stack.name, source.address, body);
      const arn = stringAttribute(resolver, stack.name, "aws_kms_key", name, "arn", whereOf(source, "arn"));
      keys.set(arn, {
        arn,
        keyId: stringAttribute(resolver, stack.name, "aws_kms_key", name, "key_id", whereOf(source, "key_id")),
        accountId: target.accountId,
        region: target.region,
        aliases: [],
        ...(isSet(body.description) ? { description: resolver.string(whereOf(source, "description"), body.description) } : {}),
        policy: isSet(body.policy)
          ? resolver.policy(whereOf(source, "policy"), body.policy)
          : defaultKeyPolicy(target.partition, target.accountId),
        source,
      });
    }
  }
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_kms_alias")) {
      const where = whereOf({ stack: stack.name, address: `aws_kms_alias.${name}` });
      const targetKey = resolver.string(child(where, "target_key_id"), body.target_key_id);
      const key = [...keys.values()].find((k) => k.keyId === targetKey || k.arn === targetKey);
      if (!key)
        throw new ModelError(
          `${describeWhere(child(where, "target_key_id"))}: points at ${targetKey}, which is no aws_kms_key of the stacks`,
        );
      key.aliases.push(resolver.string(child(where, "name"), body.name));
    }
  }
  return new Map([...keys].map(([arn, key]) => [arn, { ...key, aliases: [...key.aliases].sort() }]));
}

/** The one resource of `type` whose `bucket` argument names this bucket (policy, encryption). */
function bucketPart(resolver: Resolver, stack: StackDoc, type: string, bucketName: string): { where: Where; body: JsonObject } | undefined {
  const parts = resourcesOf(stack, type)
    .map(([name, body]) => ({ where: whereOf({ stack: stack.name, address: `${type}.${name}` }), body }))
    .filter(({ where, body }) => resolver.string(child(where, "bucket"), body.bucket) === bucketName);
  if (parts.length > 1) {
    throw new ModelError(
      `stack '${stack.name}': ${parts.length} ${type} resources manage bucket ${bucketName} (${parts.map((p) => p.where.address).join(", ")}); they would overwrite each other, keep one`,
    );
  }
  return parts[0];
}

function defaultKmsKey(resolver: Resolver, part: { where: Where; body: JsonObject } | undefined): string | undefined {
  if (!part) return undefined;
  for (const [i, rule] of blockList(part.body.rule).entries()) {
    const byDefault = rule.apply_server_side_encryption_by_default;
    const block = Array.isArray(byDefault) ? byDefault[0] : byDefault;
    if (!isObject(block) || !isSet(block.kms_master_key_id)) continue;
    return resolver.string(
      child(child(child(part.where, "rule"), i), "apply_server_side_encryption_by_default.kms_master_key_id"),
      block.kms_master_key_id,
    );
  }
  return undefined;
}

export function buildBuckets(
  resolver: Resolver,
  stacks: readonly StackDoc[],
  keys: ReadonlyMap<string, KeyModel>,
): Map<string, BucketModel> {
  const buckets = new Map<string, BucketModel>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_s3_bucket")) {
      const source: SourceRef = { stack: stack.name, address: `aws_s3_bucket.${name}` };
      const target = resolver.target(stack.name, source.address, body);
      const bucketName = stringAttribute(resolver, stack.name, "aws_s3_bucket", name, "bucket", whereOf(source, "bucket"));
      const policyPart = bucketPart(resolver, stack, "aws_s3_bucket_policy", bucketName);
      const keyRef = defaultKmsKey(resolver, bucketPart(resolver, stack, "aws_s3_bucket_server_side_encryption_configuration", bucketName));
      // kms_master_key_id may be a key id, key ARN or alias; the model records the key's ARN.
      const key =
        keyRef === undefined
          ? undefined
          : [...keys.values()].find((k) => k.arn === keyRef || k.keyId === keyRef || k.aliases.includes(keyRef));
      buckets.set(bucketName, {
        name: bucketName,
        arn: stringAttribute(resolver, stack.name, "aws_s3_bucket", name, "arn", whereOf(source, "arn")),
        accountId: target.accountId,
        region: target.region,
        ...(policyPart ? { policy: resolver.policy(child(policyPart.where, "policy"), policyPart.body.policy) } : {}),
        ...(keyRef !== undefined ? { kmsKeyArn: key?.arn ?? keyRef } : {}),
        source,
      });
    }
  }
  return buckets;
}
