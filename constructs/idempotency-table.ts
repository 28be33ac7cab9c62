import { Construct } from "constructs";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { AccountScope } from "./account-context";
import type { PolicyStatement } from "./iam-policy";

/**
 * The attribute names Powertools Idempotency's DynamoDB persistence layer writes by default
 * (DynamoDBPersistenceLayer: keyAttr "id", expiryAttr "expiration"); the callee passes them explicitly too.
 */
export const IDEMPOTENCY_KEY_ATTRIBUTE = "id";
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = "expiration";

/**
 * The item operations Powertools' DynamoDB persistence layer performs (its docs, "IAM permissions"): it reads a
 * record, writes one with a condition, updates it with the answer, and deletes it when the operation fails.
 */
export const IDEMPOTENCY_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"] as const;

export interface IdempotencyTableProps {
  /** The table's name: deterministic, so the function's policy and the gateway endpoint's can name it. @default none: required */
  readonly tableName: string;
  /** The customer-managed key the table is encrypted with (the callee's own key). @default none: required */
  readonly kmsKeyArn: string;
}

/**
 * The callee's idempotency records: one item per idempotency key, with the answer it gave, deleted by TTL after
 * its expiry. On demand, so an idle table costs its storage only; encrypted with the callee's key;
 * point-in-time recovery on. Deletion protection stays off so `cdktf destroy` can remove it (with it on,
 * DeleteTable fails: DynamoDB API reference, DeleteTable).
 */
export class IdempotencyTable extends Construct {
  readonly table: DynamodbTable;
  /** Known before deploy: the policies name it. */
  readonly tableArn: string;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps) {
    super(scope, id);
    const { provider, partition, region, accountId } = AccountScope.of(this);
    this.tableArn = `arn:${partition}:dynamodb:${region}:${accountId}:table/${props.tableName}`;
    this.table = new DynamodbTable(this, "table", {
      provider,
      name: props.tableName,
      // On demand: no capacity to plan or autoscale, and no charge while nobody calls.
      billingMode: "PAY_PER_REQUEST",
      hashKey: IDEMPOTENCY_KEY_ATTRIBUTE,
      // CreateTable wants a definition for each key attribute and refuses any other (DynamoDB API reference, CreateTable).
      attribute: [{ name: IDEMPOTENCY_KEY_ATTRIBUTE, type: "S" }],
      // TTL deletes a record some time after its expiry (usually within days); Powertools ignores an expired one at once.
      ttl: { attributeName: IDEMPOTENCY_EXPIRY_ATTRIBUTE, enabled: true },
      pointInTimeRecovery: { enabled: true },
      // The key must be a symmetric key in the table's region (DynamoDB developer guide, "Encryption at rest").
      serverSideEncryption: { enabled: true, kmsKeyArn: props.kmsKeyArn },
      deletionProtectionEnabled: false,
    });
  }

  /** The execution role's statement: the item operations Powertools needs, on this table only. */
  itemStatement(sid: string): PolicyStatement {
    return { Sid: sid, Effect: "Allow", Action: [...IDEMPOTENCY_TABLE_ACTIONS], Resource: this.tableArn };
  }

  /**
   * The execution role's use of the table's key, only through DynamoDB in this region: reads decrypt and writes
   * encrypt under the table's key (the key-policy example of the DynamoDB developer guide, "Using a customer
   * managed key", conditions its statement on kms:ViaService in the same way).
   */
  keyStatement(sid: string, keyArn: string): PolicyStatement {
    const { region } = AccountScope.of(this);
    return {
      Sid: sid,
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
      Resource: keyArn,
      Condition: { StringEquals: { "kms:ViaService": `dynamodb.${region}.amazonaws.com` } },
    };
  }
}
