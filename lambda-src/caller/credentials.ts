import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { CallerConfig } from "./config";
import { StsCooldownError, StsCredentialError, isThrottling } from "./errors";
import { stsRetryStrategy, STS_MAX_ATTEMPTS } from "./retry";

type CredentialProvider = ReturnType<typeof fromTemporaryCredentials>;

/**
 * Role chaining (the Lambda execution role assuming another role) caps sessions at
 * one hour, so 3600 s is both the longest allowed and the fewest STS calls.
 */
export const SESSION_DURATION_SECONDS = 3600;

/** Time and randomness of the STS throttle cooldown; a test seam. */
export interface CooldownClock {
  now(): number;
  /** In [0, 1), like Math.random. */
  random(): number;
}

export const SYSTEM_CLOCK: CooldownClock = { now: () => Date.now(), random: () => Math.random() };

/**
 * Wraps a credential provider so any failure becomes a {@link StsCredentialError}.
 * Errors thrown by the SDK don't say which service produced them; this does.
 */
export function tagStsErrors(provider: CredentialProvider): CredentialProvider {
  return async (props) => {
    try {
      return await provider(props);
    } catch (err) {
      throw new StsCredentialError(err);
    }
  };
}

/** The cooldown after a throttled AssumeRole: `baseMs` plus up to `baseMs` of jitter, so containers do not come back in step. */
export function cooldownMs(baseMs: number, random: number): number {
  return baseMs + Math.floor(Math.min(Math.max(random, 0), 1) * baseMs);
}

/**
 * No STS storm: once STS throttles AssumeRole, fail fast with {@link StsCooldownError} (THROTTLED,
 * with `retryAfterMs`) for {@link cooldownMs} instead of calling STS again on every invocation.
 * The throttled error itself carries `retryAfterMs` too. `baseMs` 0 turns this off.
 */
export function withStsThrottleCooldown(
  provider: CredentialProvider,
  baseMs: number,
  clock: CooldownClock = SYSTEM_CLOCK,
): CredentialProvider {
  let coolUntil = 0;
  return async (props) => {
    const left = coolUntil - clock.now();
    if (left > 0) throw new StsCooldownError(Math.ceil(left));
    try {
      return await provider(props);
    } catch (err) {
      if (baseMs > 0 && err instanceof StsCredentialError && isThrottling(err.cause)) {
        const ms = cooldownMs(baseMs, clock.random());
        coolUntil = clock.now() + ms;
        err.retryAfterMs = ms;
      }
      throw err;
    }
  };
}

/**
 * Credentials for the invoker role in the callee's account.
 *
 * No AssumeRole happens here: the LambdaClient memoizes this provider and calls it
 * again only when the session is within five minutes of expiry, so a warm
 * container does one AssumeRole per hour, not one per invocation. A failure is not
 * memoized; under STS throttling the cooldown keeps the next invocations from asking again.
 *
 * The STS client inside makes at most {@link STS_MAX_ATTEMPTS} attempts, and exactly one when STS
 * throttles (see retry.ts): one invocation never hammers STS on its own.
 */
export function invokerRoleCredentials(config: CallerConfig, clock: CooldownClock = SYSTEM_CLOCK): CredentialProvider {
  return withStsThrottleCooldown(
    tagStsErrors(
      fromTemporaryCredentials({
        params: {
          RoleArn: config.invokerRoleArn,
          RoleSessionName: config.roleSessionName,
          DurationSeconds: SESSION_DURATION_SECONDS,
          ...(config.externalId !== undefined ? { ExternalId: config.externalId } : {}),
        },
        // The caller's own region: STS is called from account A, close to where it runs.
        clientConfig: { region: config.region, maxAttempts: STS_MAX_ATTEMPTS, retryStrategy: stsRetryStrategy() },
      }),
    ),
    config.stsThrottleCooldownMs,
    clock,
  );
}
