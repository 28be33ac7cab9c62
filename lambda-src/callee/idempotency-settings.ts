/**
 * What the callee's idempotency is configured with, and the interface the handler uses it through. No SDK here: the
 * handler and the entry point load this always, and the DynamoDB implementation (idempotency.ts) only when it is on.
 */
import type { Context } from "aws-lambda";

/** What the stacks set; absent table name: the callee is not idempotent. */
export interface IdempotencySettings {
  readonly tableName: string;
  /** How long a record (and the answer it stores) is kept. */
  readonly expiresAfterSeconds: number;
}

/** The defaults of Powertools (expiresAfterSeconds) and the bounds config/config.ts enforces at synthesis. */
const DEFAULT_EXPIRY_SECONDS = 3600;
const MIN_EXPIRY_SECONDS = 3600;
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

/** Runs an operation once per idempotency key, and tells a reused key from other failures. */
export interface Idempotency {
  wrap<Request, Result>(operation: (request: Request) => Promise<Result>): IdempotentRunner<Request, Result>;
  /** The same key with another request: the stored record's payload hash differs. */
  isKeyReused(err: unknown): boolean;
}
