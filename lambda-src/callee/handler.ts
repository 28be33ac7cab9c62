import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { computeQuote, type Quote } from "./business-logic";
import { demoFail, demoSleep, realSleep, type Sleep } from "./demo-operations";
import type { Idempotency } from "./idempotency-settings";
import { salvageCorrelationId, validateCalleeInput, type CalleeInput, type ValidationIssue } from "./schema";

export interface ServedBy {
  readonly functionArn: string;
  /** Account id from `functionArn`; null if the ARN could not be parsed. */
  readonly accountId: string | null;
}

export type OperationResult = Quote | { readonly sleptMs: number };

export interface CalleeSuccess {
  readonly ok: true;
  readonly result: OperationResult;
  readonly correlationId: string;
  readonly servedBy: ServedBy;
  /** With idempotency on: the key, and whether this answer is the one stored for it (the operation did not run again). */
  readonly idempotency?: { readonly key: string; readonly replayed: boolean };
}

export interface CalleeValidationFailure {
  readonly ok: false;
  readonly error: { readonly code: "VALIDATION_FAILED"; readonly issues: readonly ValidationIssue[] };
  readonly correlationId: string;
  readonly servedBy: ServedBy;
}

/** The key was used before for another request: nothing ran, and the stored answer belongs to that other request. */
export interface CalleeKeyReused {
  readonly ok: false;
  readonly error: { readonly code: "IDEMPOTENCY_KEY_REUSED"; readonly message: string };
  readonly correlationId: string;
  readonly servedBy: ServedBy;
}

export type CalleeResponse = CalleeSuccess | CalleeValidationFailure | CalleeKeyReused;

/** The request without the fields that only identify it: what an idempotency key is bound to. */
export type OperationRequest = CalleeInput extends infer Input
  ? Input extends unknown
    ? Omit<Input, "correlationId" | "idempotencyKey">
    : never
  : never;

export interface CalleeDeps {
  readonly logger?: Logger;
  /** Test seam for the demo `sleep` operation. */
  readonly sleep?: Sleep;
  /**
   * Run the operation once per idempotency key (idempotency.ts), with the table the stacks create for calleeIdempotency.
   * @default none: every request runs the operation
   */
  readonly idempotency?: Idempotency;
}

export type CalleeHandler = (event: unknown, context: Context) => Promise<CalleeResponse>;

/** arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>] -> account. */
export function accountIdFromArn(arn: string | undefined): string | null {
  const account = arn?.split(":")[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : null;
}

export function createCalleeLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || "cross-account-callee" });
}

async function runOperation(input: OperationRequest, sleep: Sleep): Promise<OperationResult> {
  switch (input.operation) {
    case "quote":
      return computeQuote(input);
    // DEMO operations: delete these two cases with demo-operations.ts.
    case "fail":
      return demoFail();
    case "sleep":
      return demoSleep(input.milliseconds, sleep);
  }
}

const KEY_REQUIRED: ValidationIssue = {
  path: "idempotencyKey",
  message: "Required: this callee is idempotent, so every request needs a key (1-128 characters), the same on every retry of it",
};

function operationRequestOf(input: CalleeInput): OperationRequest {
  const { correlationId: _correlationId, idempotencyKey: _idempotencyKey, ...request } = input;
  return request;
}

/** index.ts calls this once per container; tests build fresh instances. */
export function createCalleeHandler(deps: CalleeDeps = {}): CalleeHandler {
  const logger = deps.logger ?? createCalleeLogger();
  const sleep = deps.sleep ?? realSleep;
  // With idempotency, one "operation started" line per run of the business logic, written before it runs whatever
  // happens after: what "the operation ran exactly once" is counted by (the soak, the tests, make demo).
  const idempotent = deps.idempotency?.wrap((request: OperationRequest) => {
    logger.info("operation started", { operation: request.operation });
    return runOperation(request, sleep);
  });

  return async function handler(event: unknown, context: Context): Promise<CalleeResponse> {
    const startedAt = Date.now();
    const servedBy: ServedBy = { functionArn: context.invokedFunctionArn, accountId: accountIdFromArn(context.invokedFunctionArn) };
    const validation = validateCalleeInput(event);
    const correlationId = (validation.ok ? validation.value.correlationId : salvageCorrelationId(event)) ?? context.awsRequestId;
    logger.addContext(context);
    logger.appendKeys({ correlationId });
    try {
      if (!validation.ok) {
        // Bad input is the caller's problem: answer it, don't throw (a throw would look like a callee bug).
        logger.warn("request rejected", {
          outcome: "validation_failed",
          badFields: validation.issues.map((i) => i.path),
          durationMs: Date.now() - startedAt,
        });
        return { ok: false, error: { code: "VALIDATION_FAILED", issues: validation.issues }, correlationId, servedBy };
      }
      const operation = validation.value.operation;
      const key = validation.value.idempotencyKey;
      if (idempotent && key === undefined) {
        logger.warn("request rejected", {
          outcome: "validation_failed",
          badFields: [KEY_REQUIRED.path],
          durationMs: Date.now() - startedAt,
        });
        return { ok: false, error: { code: "VALIDATION_FAILED", issues: [KEY_REQUIRED] }, correlationId, servedBy };
      }
      // On every line of this invocation, "operation started" included.
      if (key !== undefined) logger.appendKeys({ idempotencyKey: key });
      try {
        const request = operationRequestOf(validation.value);
        if (idempotent && key !== undefined) {
          const { result, replayed } = await idempotent({ idempotencyKey: key, request }, context);
          logger.info("request served", {
            outcome: "success",
            operation,
            idempotencyKey: key,
            replayed,
            durationMs: Date.now() - startedAt,
          });
          return { ok: true, result, correlationId, servedBy, idempotency: { key, replayed } };
        }
        const result = await runOperation(request, sleep);
        logger.info("request served", { outcome: "success", operation, durationMs: Date.now() - startedAt });
        return { ok: true, result, correlationId, servedBy };
      } catch (err) {
        if (deps.idempotency?.isKeyReused(err)) {
          const message = `idempotencyKey '${key}' was already used for a different request (another operation or other fields): nothing ran. Send a new key for a new request; a retry must repeat the request exactly.`;
          logger.warn("request rejected", {
            outcome: "idempotency_key_reused",
            operation,
            idempotencyKey: key,
            durationMs: Date.now() - startedAt,
          });
          return { ok: false, error: { code: "IDEMPOTENCY_KEY_REUSED", message }, correlationId, servedBy };
        }
        logger.error("operation failed", { outcome: "error", operation, durationMs: Date.now() - startedAt, error: err });
        // Rethrown on purpose: Lambda turns it into FunctionError + {errorType, errorMessage} for the caller.
        throw err;
      }
    } finally {
      logger.resetKeys();
    }
  };
}
