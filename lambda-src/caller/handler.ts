import type { LambdaClient, LambdaClientConfig } from "@aws-sdk/client-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { describeCallerConfig, type CallerConfig } from "./config";
import { parseCallerEvent, salvageCorrelationId, type CallerResult, type NormalizedCallerEvent } from "./contract";
import type { CooldownClock } from "./credentials";
import { attemptsOf, describeErrorName, makeCallerError, toCallerError } from "./errors";
import {
  DEFAULT_TIMING,
  buildInvokeCommand,
  createLambdaClient,
  interpretInvokeOutput,
  invokeBudgetMs,
  raceAbort,
  type InvokeTiming,
} from "./invoke";

export interface CallerDeps {
  readonly logger?: Logger;
  /** Use this client instead of building one (the config's retry/credential settings then don't apply). */
  readonly lambdaClient?: LambdaClient;
  /** Merged into the built client's config; a test seam for a fake requestHandler. */
  readonly lambdaClientConfig?: Partial<LambdaClientConfig>;
  readonly timing?: Partial<InvokeTiming>;
  /** Clock of the STS throttle cooldown of the built client; a test seam. */
  readonly clock?: CooldownClock;
}

export type CallerHandler = (event: unknown, context: Context) => Promise<CallerResult>;

export function createCallerLogger(): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || "cross-account-caller" });
}

interface Attempt {
  readonly result: CallerResult;
  readonly attempts?: number;
  readonly sdkErrorName?: string;
  readonly idempotencyKey?: string;
}

/**
 * Builds the caller's handler with its own client and logger. index.ts calls this
 * once per container; tests call it per test to get fresh singletons.
 */
export function createCallerHandler(config: CallerConfig, deps: CallerDeps = {}): CallerHandler {
  const logger = deps.logger ?? createCallerLogger();
  const lambda = deps.lambdaClient ?? createLambdaClient(config, deps.lambdaClientConfig, deps.clock);
  const timing: InvokeTiming = { ...DEFAULT_TIMING, ...deps.timing };
  logger.debug("caller initialised", { config: describeCallerConfig(config) });

  async function callCallee(event: NormalizedCallerEvent, correlationId: string, context: Context): Promise<Attempt> {
    const caller = context.awsRequestId;
    // A hand-built context (local runs, other tests) may lack it; the budget then falls back to Lambda's maximum.
    const remainingMs = typeof context.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : Number.NaN;
    const budgetMs = invokeBudgetMs(remainingMs, timing);
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), budgetMs);
    // The same key on every attempt: the command is serialized once and the SDK re-sends those bytes.
    const idempotencyKey = event.idempotencyKey ?? correlationId;
    try {
      const command = buildInvokeCommand(config.calleeFunctionArn, event, correlationId, idempotencyKey);
      const output = await raceAbort(lambda.send(command, { abortSignal: deadline.signal }), deadline.signal);
      const outcome = interpretInvokeOutput(output, event.invocationType, caller);
      const attempts = output.$metadata?.attempts;
      const result: CallerResult = outcome.ok
        ? {
            ok: true,
            correlationId,
            invocationType: event.invocationType,
            statusCode: outcome.statusCode,
            response: outcome.response,
            requestIds: { caller, ...(outcome.calleeRequestId ? { callee: outcome.calleeRequestId } : {}) },
          }
        : { ok: false, correlationId, error: outcome.error };
      return { result, idempotencyKey, ...(attempts !== undefined ? { attempts } : {}) };
    } catch (err) {
      const error = toCallerError(err, {
        callerRequestId: caller,
        aborted: deadline.signal.aborted,
        budgetMs,
        calleeIdempotent: config.calleeIdempotent,
      });
      const attempts = attemptsOf(err);
      return {
        result: { ok: false, correlationId, error },
        sdkErrorName: describeErrorName(err),
        idempotencyKey,
        ...(attempts !== undefined ? { attempts } : {}),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  return async function handler(event: unknown, context: Context): Promise<CallerResult> {
    const startedAt = Date.now();
    const parsed = parseCallerEvent(event);
    const correlationId = (parsed.ok ? parsed.event.correlationId : salvageCorrelationId(event)) ?? context.awsRequestId;
    logger.addContext(context);
    logger.appendKeys({ correlationId });
    try {
      let attempt: Attempt;
      if (!parsed.ok) {
        const fields = parsed.issues.map((i) => `${i.path} (${i.message})`).join("; ");
        const error = makeCallerError(
          "BAD_REQUEST",
          `Invalid caller event: ${fields}`,
          { caller: context.awsRequestId },
          { issues: parsed.issues },
        );
        attempt = { result: { ok: false, correlationId, error } };
      } else {
        try {
          attempt = await callCallee(parsed.event, correlationId, context);
        } catch (err) {
          // Only a bug in this file lands here; still answer instead of crashing.
          const error = toCallerError(err, { callerRequestId: context.awsRequestId, calleeIdempotent: config.calleeIdempotent });
          attempt = { result: { ok: false, correlationId, error }, sdkErrorName: describeErrorName(err) };
        }
      }
      logOutcome(attempt, parsed.ok ? parsed.event.invocationType : undefined, Date.now() - startedAt);
      return attempt.result;
    } finally {
      // appendKeys is per invocation; without this the next request would inherit this correlationId.
      logger.resetKeys();
    }
  };

  function logOutcome(
    { result, attempts, sdkErrorName, idempotencyKey }: Attempt,
    invocationType: string | undefined,
    durationMs: number,
  ): void {
    const common = { durationMs, calleeFunctionArn: config.calleeFunctionArn, invocationType, attempts, idempotencyKey };
    if (result.ok) {
      logger.info("callee invoked", { outcome: "success", ...common, statusCode: result.statusCode, requestIds: result.requestIds });
      return;
    }
    const { error } = result;
    const fields = {
      outcome: "failure",
      code: error.code,
      retryable: error.retryable,
      ...common,
      sdkErrorName,
      calleeErrorType: error.calleeErrorType,
      badFields: error.issues?.map((i) => i.path),
      retryAfterMs: error.retryAfterMs,
      errorMessage: error.message,
      requestIds: error.requestIds,
    };
    // An unknown outcome is worth an alarm: someone may have to check whether the callee ran.
    if (error.code === "INVOKE_FAILED" || error.code === "INVOKE_OUTCOME_UNKNOWN") logger.error("callee invocation failed", fields);
    else logger.warn("callee invocation failed", fields);
  }
}
