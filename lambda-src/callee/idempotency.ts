/**
 * The callee's idempotency (opt-in: the stacks set IDEMPOTENCY_TABLE_NAME with calleeIdempotency): Powertools for
 * AWS Lambda Idempotency, with its DynamoDB persistence, runs the business operation once per idempotency key and
 * answers every repeat of the key with the stored answer. The key is the request's `idempotencyKey`; the request
 * without its correlation id and key is the payload hashed with it, so the same key with another request is refused.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyConfig, IdempotencyValidationError, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Idempotency, IdempotencySettings, IdempotentRunner, KeyedRequest } from "./idempotency-settings";

/**
 * Wraps `operation` so that each idempotency key runs it once while its record lives. A failed run deletes its record
 * (Powertools does), so a retry runs it again; a repeat while the first run is in progress throws
 * IdempotencyAlreadyInProgressError, which Lambda reports as the function's error (an Event invocation is retried later).
 */
function idempotentRunner<Request, Result>(
  operation: (request: Request) => Promise<Result>,
  settings: IdempotencySettings,
  client: DynamoDBClient,
): IdempotentRunner<Request, Result> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: "idempotencyKey",
    payloadValidationJmesPath: "request",
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: settings.expiresAfterSeconds,
    // Marks a stored answer: the record exists, so the operation did not run for this call.
    responseHook: (response) => ({ ...(response as object), replayed: true }),
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: settings.tableName,
    // The names the table is created with (constructs/idempotency-table.ts), spelled out rather than trusted to defaults.
    keyAttr: "id",
    expiryAttr: "expiration",
    awsSdkV3Client: client,
  });
  const run = makeIdempotent(
    async (keyed: KeyedRequest<Request>) => ({ result: (await operation(keyed.request)) as unknown, replayed: false }),
    { persistenceStore, config },
  );
  return async (keyed, context) => {
    // The in-progress record expires with this invocation's remaining time, so a run killed by its timeout can be retried.
    config.registerLambdaContext(context);
    const outcome = (await run(keyed)) as { result: Result; replayed: boolean };
    return { result: outcome.result, replayed: outcome.replayed === true };
  };
}

/** Idempotency kept in the stacks' DynamoDB table; one client per container. */
export function dynamoDbIdempotency(settings: IdempotencySettings, client: DynamoDBClient = new DynamoDBClient({})): Idempotency {
  return {
    wrap: (operation) => idempotentRunner(operation, settings, client),
    isKeyReused: (err) => err instanceof IdempotencyValidationError,
  };
}
