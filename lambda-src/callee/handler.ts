import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { computeQuote, type Quote } from "./business-logic";
import { demoFail, demoSleep, realSleep, type Sleep } from "./demo-operations";
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
}

export interface CalleeValidationFailure {
  readonly ok: false;
  readonly error: { readonly code: "VALIDATION_FAILED"; readonly issues: readonly ValidationIssue[] };
  readonly correlationId: string;
  readonly servedBy: ServedBy;
}

export type CalleeResponse = CalleeSuccess | CalleeValidationFailure;

export interface CalleeDeps {
  readonly logger?: Logger;
  /** Test seam for the demo `sleep` operation. */
  readonly sleep?: Sleep;
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

async function runOperation(input: CalleeInput, sleep: Sleep): Promise<OperationResult> {
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

/** index.ts calls this once per container; tests build fresh instances. */
export function createCalleeHandler(deps: CalleeDeps = {}): CalleeHandler {
  const logger = deps.logger ?? createCalleeLogger();
  const sleep = deps.sleep ?? realSleep;

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
      try {
        const result = await runOperation(validation.value, sleep);
        logger.info("request served", { outcome: "success", operation, durationMs: Date.now() - startedAt });
        return { ok: true, result, correlationId, servedBy };
      } catch (err) {
        logger.error("operation failed", { outcome: "error", operation, durationMs: Date.now() - startedAt, error: err });
        // Rethrown on purpose: Lambda turns it into FunctionError + {errorType, errorMessage} for the caller.
        throw err;
      }
    } finally {
      logger.resetKeys();
    }
  };
}
