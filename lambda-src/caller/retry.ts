/**
 * The caller's retry contract, as SDK retry strategies: the SDK's standard strategy (its error
 * classification, backoff, retry quota and attempt cap) with one more condition in front of every
 * retry. Nothing here sends a request; the SDK's retry middleware asks before each re-send.
 *
 * - Invoke (`invokeRetryStrategy`): the SDK re-sends only what the callee cannot have run, see
 *   `mayHaveRun` in errors.ts (throttling, Lambda's documented before-run errors, connection failures
 *   before the request was written), or anything the SDK would retry when CALLEE_IDEMPOTENT=true.
 * - AssumeRole (`stsRetryStrategy`): never re-sent on throttling, so one invocation makes one
 *   AssumeRole call under throttling and the cooldown in credentials.ts does the pacing; a network
 *   blip or a 5xx gets one more attempt (AssumeRole has no side effect worth guarding).
 */
import { StandardRetryStrategy } from "@smithy/core/retry";
import type { RetryErrorInfo, RetryErrorType, RetryStrategyV2, StandardRetryToken } from "@smithy/types";
import type { CallerConfig } from "./config";
import { mayHaveRun } from "./errors";

/** Decides, given the failed attempt's error and the SDK's own classification of it, whether a retry is allowed at all. */
export type RetryGuard = (error: unknown, sdkErrorType: RetryErrorType) => boolean;

/** AssumeRole attempts per credential fetch when STS does not throttle (throttling: exactly one). */
export const STS_MAX_ATTEMPTS = 2;

/**
 * `StandardRetryStrategy` behind a guard: a retry needs both the guard's yes and the standard
 * strategy's (retryable error type, attempts left, retry quota). The token and backoff are the SDK's.
 */
export class GuardedRetryStrategy implements RetryStrategyV2 {
  readonly mode = "standard";
  private readonly standard: StandardRetryStrategy;

  constructor(
    maxAttempts: number,
    private readonly guard: RetryGuard,
  ) {
    this.standard = new StandardRetryStrategy({ maxAttempts });
  }

  acquireInitialRetryToken(retryTokenScope: string): Promise<StandardRetryToken> {
    return this.standard.acquireInitialRetryToken(retryTokenScope);
  }

  refreshRetryTokenForRetry(token: StandardRetryToken, errorInfo: RetryErrorInfo): Promise<StandardRetryToken> {
    if (!this.guard(errorInfo.error, errorInfo.errorType)) {
      // The retry middleware then rethrows the attempt's own error, with $metadata.attempts set.
      return Promise.reject(new Error("No retry token available: the retry contract forbids re-sending this request"));
    }
    return this.standard.refreshRetryTokenForRetry(token, errorInfo);
  }

  recordSuccess(token: StandardRetryToken): void {
    this.standard.recordSuccess(token);
  }
}

/**
 * Pure: may the SDK send this Invoke again? Only if the callee cannot have run, or running it twice
 * is declared harmless. (The standard strategy then still decides whether the error is worth a retry.)
 */
export function mayResendInvoke(error: unknown, calleeIdempotent: boolean): boolean {
  // No error to judge (the SDK's type allows it): assume the worst.
  if (error === undefined) return calleeIdempotent;
  return calleeIdempotent || !mayHaveRun(error);
}

export function invokeRetryStrategy(config: Pick<CallerConfig, "maxAttempts" | "calleeIdempotent">): GuardedRetryStrategy {
  return new GuardedRetryStrategy(config.maxAttempts, (error) => mayResendInvoke(error, config.calleeIdempotent));
}

/** Pure: may the STS client send AssumeRole again? Not when STS throttles: the cooldown paces that. */
export function mayResendAssumeRole(_error: unknown, sdkErrorType: RetryErrorType): boolean {
  return sdkErrorType !== "THROTTLING";
}

export function stsRetryStrategy(): GuardedRetryStrategy {
  return new GuardedRetryStrategy(STS_MAX_ATTEMPTS, mayResendAssumeRole);
}
