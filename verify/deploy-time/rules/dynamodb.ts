/** What DynamoDB (and the provider) validate when a table is created with a customer-managed key, and destroyed. */
import { adminUser, isObject, roleSession, uniqueId, type JsonObject, type KeyModel, type TableModel } from "../../../core";
import { decideOnKey, describe, keyName, keyOf, local, type DeployRuleDefinition, type RuleContext } from "../rule-context";

function tableAt(ctx: RuleContext, address: string): TableModel | undefined {
  return [...ctx.model.tables.values()].find((t) => t.source.stack === ctx.stack.name && t.source.address === address);
}

/** A top-level argument of the key's resource, in whichever stack defines it. */
function keyArgument(ctx: RuleContext, key: KeyModel, name: string): unknown {
  if (key.source.stack === ctx.stack.name) return ctx.argument(key.source.address, name);
  const [type, resource] = key.source.address.split(".");
  const stack = ctx.resolver.stack(key.source.stack);
  const byType = isObject(stack.json.resource) ? stack.json.resource[type] : undefined;
  const body = isObject(byType) ? byType[resource] : undefined;
  const raw = isObject(body) ? body[name] : undefined;
  if (raw === undefined || raw === null) return undefined;
  return ctx.resolver.value({ stack: key.source.stack, address: key.source.address, path: name }, raw);
}

/** The KMS actions DynamoDB performs with the table's key for those who read and write it (through DynamoDB). */
const TABLE_KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"];

const viaDynamoDb = (table: TableModel) => ({
  "kms:ViaService": `dynamodb.${table.region}.amazonaws.com`,
  "kms:CallerAccount": table.accountId,
});

/**
 * CreateTable with SSESpecification.KMSMasterKeyId accepts a symmetric encryption key in the table's Region only, and
 * DynamoDB then uses it for the principals its account's IAM policies allow: the key policy must delegate to that account
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html, customer managed keys).
 */
export const tableKeyAccepted: DeployRuleDefinition = {
  id: "table-key-accepted",
  phase: "create",
  call: "dynamodb:CreateTable (SSESpecification.KMSMasterKeyId)",
  title:
    "the table's key is a symmetric encryption key of the stacks, created first, in the table's Region and account, and its key policy lets the account's IAM policies use it through DynamoDB",
  source:
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html (customer managed keys: symmetric, same Region); https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
  appliesTo: "aws_dynamodb_table",
  async judge(ctx, address) {
    const table = tableAt(ctx, address);
    if (!table || table.kmsKeyArn === undefined) return undefined;
    const key = keyOf(ctx, table.kmsKeyArn);
    const answer = (why: string) => `ValidationException: the KMS key ${table.kmsKeyArn} cannot encrypt table ${table.name}: ${why}`;
    if (!key)
      return {
        ok: false,
        detail: `key ${table.kmsKeyArn} is not a key these stacks create: nothing shows it exists, is symmetric or lets DynamoDB use it`,
        answer: answer("it is not found (or not usable) in the table's account and Region"),
        fix: `encrypt the table with a key of the stack (server_side_encryption.kms_key_arn = <aws_kms_key>.arn), e.g. the callee's key`,
      };
    const keyAddress = local(ctx, key.source);
    if (keyAddress !== undefined && !ctx.existingAt(address).has(keyAddress))
      return {
        ok: false,
        detail: `key ${keyName(key)} is not created before the table`,
        answer: answer("the key does not exist yet"),
        fix: `reference the key's arn from the table (server_side_encryption.kms_key_arn = ${key.source.address}.arn)`,
      };
    if (key.region !== table.region || key.accountId !== table.accountId)
      return {
        ok: false,
        detail: `key ${keyName(key)} is in account ${key.accountId}, ${key.region}; table ${table.name} in account ${table.accountId}, ${table.region}`,
        answer: answer(`the key must be in the table's Region (${table.region}) and, here, its account (${table.accountId})`),
        fix: `use a key of account ${table.accountId} in ${table.region}`,
      };
    const spec = String(keyArgument(ctx, key, "customer_master_key_spec") ?? keyArgument(ctx, key, "key_spec") ?? "SYMMETRIC_DEFAULT");
    const usage = String(keyArgument(ctx, key, "key_usage") ?? "ENCRYPT_DECRYPT");
    if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT")
      return {
        ok: false,
        detail: `key ${keyName(key)} is ${spec} for ${usage}: DynamoDB encrypts only with symmetric encryption keys`,
        answer: answer(`DynamoDB supports only symmetric encryption keys, not ${spec} (${usage})`),
        fix: `create the key with customer_master_key_spec = "SYMMETRIC_DEFAULT" and key_usage = "ENCRYPT_DECRYPT" (the defaults)`,
      };
    // Any principal of the account that its IAM policies allow to use the key: the key policy decides whether they count.
    const probeArn = `arn:${ctx.model.partition}:iam::${table.accountId}:role/deploy-time-check-table-reader`;
    const probe = roleSession({
      partition: ctx.model.partition,
      roleArn: probeArn,
      roleId: uniqueId("AROA", probeArn),
      sessionName: "deploy-time-check",
      identityPolicies: [
        {
          name: "uses-the-table-key",
          document: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: TABLE_KEY_ACTIONS, Resource: key.arn }] },
        },
      ],
      chained: false,
    });
    for (const action of TABLE_KEY_ACTIONS) {
      const decision = await decideOnKey(ctx, probe, action, key, viaDynamoDb(table));
      if (decision.allowed) continue;
      return {
        ok: false,
        detail: `a role of account ${table.accountId} whose IAM policy allows ${action} on ${keyName(key)}, through DynamoDB: ${describe(decision)}`,
        answer: `KMSAccessDeniedException (DynamoDB) for the table's readers and writers: the key policy of ${keyName(key)} does not let account ${table.accountId}'s IAM policies use the key`,
        fix: `keep the key policy statement that delegates the key to account ${table.accountId}'s IAM (Principal arn:${ctx.model.partition}:iam::${table.accountId}:root, kms:*)`,
      };
    }
    return {
      ok: true,
      detail: `${keyName(key)} is a symmetric key of account ${key.accountId} in ${key.region}, created first; the account's IAM policies may use it through DynamoDB`,
    };
  },
};

/**
 * CreateTable with a customer-managed key: DynamoDB calls kms:DescribeKey and creates a grant on the key with the
 * caller's credentials (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html, authorizing use of the key).
 */
export const tableKeyGrantableByDeployer: DeployRuleDefinition = {
  id: "table-key-grantable-by-deployer",
  phase: "create",
  call: "dynamodb:CreateTable (kms:DescribeKey, kms:CreateGrant)",
  title: "the deployer may describe the table's key and grant it to DynamoDB (kms:DescribeKey, kms:CreateGrant through DynamoDB)",
  source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html (authorizing use of your KMS key)",
  appliesTo: "aws_dynamodb_table",
  async judge(ctx, address) {
    const table = tableAt(ctx, address);
    if (!table || table.kmsKeyArn === undefined) return undefined;
    const key = keyOf(ctx, table.kmsKeyArn);
    if (!key) return { ok: true, detail: `key ${table.kmsKeyArn} is not defined by these stacks; table-key-accepted reports it` };
    const deployer = adminUser(ctx.model.partition, table.accountId);
    for (const [action, extra] of [
      ["kms:DescribeKey", {}],
      ["kms:CreateGrant", { "kms:GrantIsForAWSResource": "true" }],
    ] as const) {
      const decision = await decideOnKey(ctx, deployer, action, key, { ...viaDynamoDb(table), ...extra });
      if (decision.allowed) continue;
      return {
        ok: false,
        detail: `the account's deployer (AdministratorAccess) ${action} on ${keyName(key)} through DynamoDB: ${describe(decision)}`,
        answer: `AccessDeniedException: DynamoDB cannot ${action === "kms:CreateGrant" ? "create a grant on" : "describe"} the KMS key ${key.arn} with the caller's credentials (${action})`,
        fix: `let account ${table.accountId}'s IAM policies use ${keyName(key)} (the key policy's root statement) and remove what denies ${action} through DynamoDB`,
      };
    }
    return { ok: true, detail: `the deployer may describe ${keyName(key)} and grant it to DynamoDB` };
  },
};

/**
 * DeleteTable refuses a table with deletion protection on, so `destroy` fails on it
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html#WorkingWithTables.Basics.DeletionProtection).
 */
export const tableDeletionProtectionOff: DeployRuleDefinition = {
  id: "table-deletion-protection-off",
  phase: "destroy",
  call: "dynamodb:DeleteTable",
  title: "the table has no deletion protection, so destroy can delete it",
  source: "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithTables.Basics.html (deletion protection)",
  appliesTo: "aws_dynamodb_table",
  async judge(ctx, address) {
    const on = ctx.argument(address, "deletion_protection_enabled");
    if (on !== true) return { ok: true, detail: `deletion_protection_enabled is ${on === undefined ? "not set (off)" : String(on)}` };
    return {
      ok: false,
      detail: "deletion_protection_enabled is true",
      answer:
        "ValidationException: Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.",
      fix: "set deletion_protection_enabled = false (the idempotency records are short-lived; point-in-time recovery keeps what matters)",
    };
  },
};

const blocks = (value: unknown): JsonObject[] =>
  (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]).filter(isObject);

/**
 * CreateTable refuses key attributes without an AttributeDefinitions entry and definitions that are no key of the table or
 * of an index, and the provider refuses the latter before calling it (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html;
 * hashicorp/terraform-provider-aws, "all attributes must be indexed"); DynamoDB's TTL reads a Number of epoch seconds,
 * which a key attribute is not (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html).
 */
export const tableKeySchemaDefined: DeployRuleDefinition = {
  id: "table-key-schema-defined",
  phase: "create",
  call: "dynamodb:CreateTable (KeySchema, AttributeDefinitions), dynamodb:UpdateTimeToLive",
  title: "the hash key has an attribute definition, every definition is a key, and the TTL attribute is not the hash key",
  source:
    "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html (AttributeDefinitions); hashicorp/terraform-provider-aws (aws_dynamodb_table: all attributes must be indexed); https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-before-you-start.html",
  appliesTo: "aws_dynamodb_table",
  async judge(ctx, address) {
    const hashKey = ctx.argument(address, "hash_key");
    if (typeof hashKey !== "string") return undefined;
    const body = ctx.body(address);
    const name = (block: JsonObject, key: string) => {
      const raw = block[key];
      return raw === undefined || raw === null ? undefined : String(ctx.resolver.value({ stack: ctx.stack.name, address, path: key }, raw));
    };
    const defined = blocks(body.attribute).map((a) => name(a, "name"));
    const rangeKey = ctx.argument(address, "range_key");
    const keys = new Set<string>([hashKey, ...(typeof rangeKey === "string" ? [rangeKey] : [])]);
    for (const index of blocks(body.global_secondary_index))
      for (const k of [name(index, "hash_key"), name(index, "range_key")]) if (k !== undefined) keys.add(k);
    for (const index of blocks(body.local_secondary_index)) {
      const k = name(index, "range_key");
      if (k !== undefined) keys.add(k);
    }
    const undefinedKeys = [...keys].filter((k) => !defined.includes(k));
    if (undefinedKeys.length > 0)
      return {
        ok: false,
        detail: `the key attribute${undefinedKeys.length === 1 ? "" : "s"} ${undefinedKeys.join(", ")} ${undefinedKeys.length === 1 ? "has" : "have"} no attribute block`,
        answer:
          "ValidationException: One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions",
        fix: `add attribute { name = "${undefinedKeys[0]}", type = "S" } (or "N", "B": its type)`,
      };
    const notKeys = defined.filter((d): d is string => d !== undefined && !keys.has(d));
    if (notKeys.length > 0)
      return {
        ok: false,
        detail: `the attribute block${notKeys.length === 1 ? "" : "s"} ${notKeys.join(", ")} ${notKeys.length === 1 ? "is" : "are"} no key of the table or of an index`,
        answer: `Error: all attributes must be indexed. Unused attributes: ["${notKeys.join('" "')}"] (the provider; CreateTable would answer ValidationException: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions)`,
        fix: `remove the attribute block${notKeys.length === 1 ? "" : "s"} for ${notKeys.join(", ")}: DynamoDB defines only key attributes (TTL's attribute needs none)`,
      };
    const ttl = blocks(body.ttl)[0];
    const ttlOn = ttl !== undefined && name(ttl, "enabled") === "true";
    const ttlAttribute = ttl !== undefined ? name(ttl, "attribute_name") : undefined;
    if (ttlOn && ttlAttribute === hashKey)
      return {
        ok: false,
        detail: `TTL is on the hash key ${hashKey}`,
        answer: `TTL on the key attribute ${hashKey}: DynamoDB's TTL deletes items by a Number of epoch seconds, so with a ${
          blocks(body.attribute).find((a) => name(a, "name") === hashKey)?.type === "N"
            ? "Number key every id would be read as an expiry"
            : "non-Number key no record ever expires"
        }`,
        fix: `set ttl.attribute_name to the records' expiry attribute (e.g. "expiration"), not a key`,
      };
    return {
      ok: true,
      detail: `hash key ${hashKey} is defined, every attribute block is a key${ttlOn ? `, TTL reads ${ttlAttribute}` : ""}`,
    };
  },
};
