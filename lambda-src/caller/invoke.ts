import { InvokeCommand, LambdaClient, type InvokeCommandOutput, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import type { CallerConfig } from "./config";
import type { InvocationType, NormalizedCallerEvent } from "./contract";
import { fromFunctionError, makeCallerError, type CallerError, type CallerRequestIds } from "./errors";
import { invokerRoleCredentials, SYSTEM_CLOCK, type CooldownClock } from "./credentials";
import { invokeRetryStrategy } from "./retry";

export interface InvokeTiming {
  /** Time kept back so the caller can still build and return its answer. */
  readonly safetyMarginMs: number;
  /** Never give the Invoke call less than this, even when almost out of time. */
  readonly minBudgetMs: number;
}

export const DEFAULT_TIMING: InvokeTiming = { safetyMarginMs: 500, minBudgetMs: 100 };

// Lambda's longest timeout; used only if the context cannot tell the remaining time.
const MAX_LAMBDA_TIMEOUT_MS = 900_000;

/** How long the Invoke call may take before we abort it. Pure. */
export function invokeBudgetMs(remainingMs: number, timing: InvokeTiming = DEFAULT_TIMING): number {
  const remaining = Number.isFinite(remainingMs) ? remainingMs : MAX_LAMBDA_TIMEOUT_MS;
  return Math.max(timing.minBudgetMs, Math.floor(remaining - timing.safetyMarginMs));
}

/**
 * One client per container. `overrides` is a test seam (e.g. a fake requestHandler), and so is
 * `clock` (the STS throttle cooldown's); production passes neither.
 *
 * Retries: the SDK's standard strategy, capped at INVOKE_MAX_ATTEMPTS, behind the retry contract
 * (retry.ts): an Invoke the callee may have run is sent again only when CALLEE_IDEMPOTENT=true.
 */
export function createLambdaClient(
  config: CallerConfig,
  overrides: Partial<LambdaClientConfig> = {},
  clock: CooldownClock = SYSTEM_CLOCK,
): LambdaClient {
  return new LambdaClient({
    // The callee's region, which may differ from the caller's.
    region: config.calleeRegion,
    credentials: invokerRoleCredentials(config, clock),
    maxAttempts: config.maxAttempts,
    retryStrategy: invokeRetryStrategy(config),
    ...overrides,
  });
}

/**
 * The payload is `{ ...payload, correlationId, idempotencyKey }` (ours win over the same names inside
 * `payload`). It is serialized once, so every SDK retry sends the very same bytes, key included.
 */
export function buildInvokeCommand(
  functionArn: string,
  event: NormalizedCallerEvent,
  correlationId: string,
  idempotencyKey: string = event.idempotencyKey ?? correlationId,
): InvokeCommand {
  return new InvokeCommand({
    FunctionName: functionArn,
    InvocationType: event.invocationType,
    Payload: new TextEncoder().encode(JSON.stringify({ ...event.payload, correlationId, idempotencyKey })),
  });
}

export type InvokeOutcome =
  | { readonly ok: true; readonly statusCode: number; readonly response: unknown; readonly calleeRequestId?: string }
  | { readonly ok: false; readonly error: CallerError };

// fatal: invalid UTF-8 is a bad response, not something to paper over with U+FFFD.
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Turns a resolved Invoke output into success or CALLEE_ERROR / CALLEE_TIMEOUT / BAD_RESPONSE. Pure. */
export function interpretInvokeOutput(
  output: Pick<InvokeCommandOutput, "StatusCode" | "FunctionError" | "Payload" | "$metadata">,
  invocationType: InvocationType,
  callerRequestId: string,
): InvokeOutcome {
  const calleeRequestId = output.$metadata?.requestId;
  const ids: CallerRequestIds = { caller: callerRequestId, ...(calleeRequestId ? { callee: calleeRequestId } : {}) };
  const statusCode = output.StatusCode ?? output.$metadata?.httpStatusCode ?? 0;

  let text: string | undefined;
  let undecodable = false;
  if (output.Payload && output.Payload.byteLength > 0) {
    try {
      text = utf8.decode(output.Payload);
    } catch {
      undecodable = true;
    }
  }

  if (output.FunctionError) {
    return { ok: false, error: fromFunctionError(output.FunctionError, text, ids) };
  }

  // Async invocations are only queued; there is no answer to read.
  if (invocationType === "Event") {
    return { ok: true, statusCode, response: null, ...(calleeRequestId ? { calleeRequestId } : {}) };
  }

  if (undecodable) {
    return { ok: false, error: makeCallerError("BAD_RESPONSE", "The callee's payload is not valid UTF-8", ids) };
  }
  if (text === undefined) {
    return { ok: false, error: makeCallerError("BAD_RESPONSE", "The callee returned no payload for a RequestResponse invocation", ids) };
  }
  try {
    return { ok: true, statusCode, response: JSON.parse(text), ...(calleeRequestId ? { calleeRequestId } : {}) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, error: makeCallerError("BAD_RESPONSE", `The callee's payload is not valid JSON: ${reason}`, ids) };
  }
}

/**
 * Rejects as soon as `signal` aborts, even if the wrapped promise is stuck somewhere the
 * SDK does not watch the signal (e.g. resolving credentials from STS).
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(Object.assign(new Error("Invoke aborted: caller deadline reached"), { name: "AbortError" }));
    // Handlers go on first, so a late rejection of `promise` is never left unhandled.
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
