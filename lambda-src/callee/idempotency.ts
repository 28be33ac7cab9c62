/**
 * The callee's idempotency (opt-in: the stacks set IDEMPOTENCY_TABLE_NAME with calleeIdempotency): Powertools for
 * AWS Lambda Idempotency, with its DynamoDB persistence, runs the business operation once per idempotency key and
 * answers every repeat of the key with the stored answer. The key is the request's `idempotencyKey`; the request
 * without its correlation id and key is the payload hashed with it, so the same key with another request is refused.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IdempotencyConfig, makeIdempotent } from "@aws-lambda-powertools/idempotency";
import { IdempotencyValidationError } from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { Context } from "aws-lambda";

/** What the stacks set; absent table name: the callee is not idempotent. */
export interface IdempotencySettings {
  readonly tableName: string;
  /** How long a record (and the answer it stores) is kept. */
  readonly expiresAfterSeconds: number;
}

/** The defaults of Powertools (expiresAfterSeconds) and the bounds config/config.ts enforces at synthesis. */
const DEFAULT_EXPIRY_SECONDS = 3600;
const MIN_EXPIRY_SECONDS = 60;
const MAX_EXPIRY_SECONDS = 30 * 24 * 3600;

/** A callee whose idempotency environment is wrong: raised at start, so no request runs half-configured. */
export class CalleeConfigError extends Error {
  override readonly name = "CalleeConfigError";
}

/** The settings from the function's environment; undefined when the callee is not idempotent. */
export function idempotencySettingsFrom(env: Readonly<Record<string, string | undefined>>): IdempotencySettings | undefined {
  const tableName = env.IDEMPOTENCY_TABLE_NAME;
  const expiry = env.IDEMPOTENCY_EXPIRES_AFTER_SECONDS;
  if (tableName === undefined || tableName === "") {
    if (expiry !== undefined && expiry !== "")
      throw new CalleeConfigError(
        "IDEMPOTENCY_EXPIRES_AFTER_SECONDS is set but IDEMPOTENCY_TABLE_NAME is not: set the table (calleeIdempotency in the stacks) or remove the expiry",
      );
    return undefined;
  }
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName))
    throw new CalleeConfigError(`IDEMPOTENCY_TABLE_NAME '${tableName}' is not a DynamoDB table name (3-255 of a-z, A-Z, 0-9, _ . -)`);
  const seconds = expiry === undefined || expiry === "" ? DEFAULT_EXPIRY_SECONDS : Number(expiry);
  if (!Number.isInteger(seconds) || seconds < MIN_EXPIRY_SECONDS || seconds > MAX_EXPIRY_SECONDS)
    throw new CalleeConfigError(
      `IDEMPOTENCY_EXPIRES_AFTER_SECONDS must be a whole number from ${MIN_EXPIRY_SECONDS} to ${MAX_EXPIRY_SECONDS}, got '${expiry}'`,
    );
  return { tableName, expiresAfterSeconds: seconds };
}

/** One request as the idempotent wrapper sees it: the key, and what is hashed to tell a repeat from a reuse. */
export interface KeyedRequest<Request> {
  readonly idempotencyKey: string;
  readonly request: Request;
}

/** The answer of one idempotent run: the operation's result, and whether it was the stored one. */
export interface IdempotentOutcome<Result> {
  readonly result: Result;
  /** True when the operation did not run: this key's stored answer was returned. */
  readonly replayed: boolean;
}

export type IdempotentRunner<Request, Result> = (keyed: KeyedRequest<Request>, context: Context) => Promise<IdempotentOutcome<Result>>;

/** The same key with another request: the stored record's payload hash differs (Powertools' IdempotencyValidationError). */
export function isKeyReused(err: unknown): boolean {
  return err instanceof IdempotencyValidationError;
}

/**
 * Wraps `operation` so that each idempotency key runs it once while its record lives. A failed run deletes its record
 * (Powertools does), so a retry runs it again; a repeat while the first run is in progress throws
 * IdempotencyAlreadyInProgressError, which Lambda reports as the function's error (an Event invocation is retried later).
 */
export function idempotentRunner<Request, Result>(
  operation: (request: Request) => Promise<Result>,
  settings: IdempotencySettings,
  client: DynamoDBClient = new DynamoDBClient({}),
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
