/**
 * The DynamoDB behind the front door, for one runtime: moto started, and every table of the model created in it,
 * in its account, as the stacks declare it. A failed start leaves no process behind.
 */
import type { TableModel } from "../../../core/model/types";
import { LocalRuntimeError } from "../../server/runtime-error";
import { sendToMoto, startMoto, type MotoOptions, type MotoServer } from "./moto-process";
import { DYNAMODB_CONTENT_TYPE } from "./wire";

export async function startDynamoDbBackend(tables: Iterable<TableModel>, options: MotoOptions = {}): Promise<MotoServer> {
  const moto = await startMoto(options);
  try {
    for (const table of tables) await createTable(moto, table);
    return moto;
  } catch (err) {
    await moto.stop();
    throw err;
  }
}

/** CreateTable with the stacks' hash key, on demand; then TTL on its attribute when the stacks turn it on. */
async function createTable(moto: MotoServer, table: TableModel): Promise<void> {
  const send = async (operation: string, input: unknown) => {
    const answer = await sendToMoto(moto, {
      target: `DynamoDB_20120810.${operation}`,
      contentType: DYNAMODB_CONTENT_TYPE,
      body: JSON.stringify(input),
      accountId: table.accountId,
      region: table.region,
    });
    if (answer.status !== 200)
      throw new LocalRuntimeError(
        `the local DynamoDB (moto) refused ${operation} for table ${table.name} of ${table.source.stack} (${table.source.address}): ${answer.body.toString("utf8")}`,
      );
  };
  // The request shapes of the DynamoDB API reference, CreateTable and UpdateTimeToLive.
  await send("CreateTable", {
    TableName: table.name,
    AttributeDefinitions: [{ AttributeName: table.hashKey.name, AttributeType: table.hashKey.type }],
    KeySchema: [{ AttributeName: table.hashKey.name, KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  });
  if (table.ttlAttribute !== undefined)
    await send("UpdateTimeToLive", {
      TableName: table.name,
      TimeToLiveSpecification: { Enabled: true, AttributeName: table.ttlAttribute },
    });
}
