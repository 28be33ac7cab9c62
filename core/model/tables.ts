/**
 * The stacks' DynamoDB tables: the callee's idempotency records when the callee is idempotent. The access
 * proof asks who may read and write each; the local runtime creates each in its DynamoDB (moto) at start.
 */
import { Resolver, Where, child, describeWhere } from "./resolver";
import { StackDoc, resourcesOf, singleBlock } from "./stack-files";
import { KeyModel, ModelError, SourceRef, TableModel } from "./types";

const whereOf = (source: SourceRef, p = ""): Where => ({ ...source, path: p });
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

function hashKeyOf(resolver: Resolver, where: Where, body: Record<string, unknown>): TableModel["hashKey"] {
  const name = resolver.string(child(where, "hash_key"), body.hash_key);
  const attributes = Array.isArray(body.attribute) ? body.attribute : isSet(body.attribute) ? [body.attribute] : [];
  const definition = attributes.find(
    (a) => isSet(a) && resolver.string(child(where, "attribute"), (a as { name: unknown }).name) === name,
  ) as { type?: unknown } | undefined;
  // CreateTable refuses a key schema whose attribute has no AttributeDefinitions entry (DynamoDB API reference, CreateTable).
  if (definition === undefined)
    throw new ModelError(
      `${describeWhere(child(where, "attribute"))}: the hash key '${name}' has no attribute block; add { name = "${name}", type = "S" }`,
    );
  return { name, type: resolver.string(child(where, "attribute"), definition.type) };
}

export function buildTables(resolver: Resolver, stacks: readonly StackDoc[], keys: ReadonlyMap<string, KeyModel>): Map<string, TableModel> {
  const tables = new Map<string, TableModel>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_dynamodb_table")) {
      const source: SourceRef = { stack: stack.name, address: `aws_dynamodb_table.${name}` };
      const where = whereOf(source);
      const target = resolver.target(stack.name, source.address, body);
      const arn = String(resolver.attribute(stack.name, "aws_dynamodb_table", name, "arn"));
      const ttl = singleBlock(body.ttl, () => describeWhere(child(where, "ttl")));
      const ttlOn = ttl !== undefined && isSet(ttl.enabled) && resolver.value(child(where, "ttl.enabled"), ttl.enabled) === true;
      const sse = singleBlock(body.server_side_encryption, () => describeWhere(child(where, "server_side_encryption")));
      const sseOn = sse !== undefined && resolver.value(child(where, "server_side_encryption.enabled"), sse.enabled) === true;
      const keyRef =
        sseOn && isSet(sse.kms_key_arn) ? resolver.string(child(where, "server_side_encryption.kms_key_arn"), sse.kms_key_arn) : undefined;
      const pitr = singleBlock(body.point_in_time_recovery, () => describeWhere(child(where, "point_in_time_recovery")));
      tables.set(arn, {
        name: resolver.string(child(where, "name"), body.name),
        arn,
        accountId: target.accountId,
        region: target.region,
        hashKey: hashKeyOf(resolver, where, body),
        ...(ttlOn && ttl && isSet(ttl.attribute_name)
          ? { ttlAttribute: resolver.string(child(where, "ttl.attribute_name"), ttl.attribute_name) }
          : {}),
        ...(keyRef !== undefined
          ? { kmsKeyArn: [...keys.values()].find((k) => k.arn === keyRef || k.keyId === keyRef)?.arn ?? keyRef }
          : {}),
        pointInTimeRecovery: pitr !== undefined && resolver.value(child(where, "point_in_time_recovery.enabled"), pitr.enabled) === true,
        source,
      });
    }
  }
  return tables;
}
