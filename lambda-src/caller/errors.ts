/**
 * Stable error codes of the caller and the pure mapping from SDK errors to them.
 * Nothing here talks to AWS, so every branch is unit-testable.
 */

import type { FieldIssue } from "../shared/field-issues";

export const CALLER_ERROR_CODES = [
  "ASSUME_ROLE_DENIED",
  "INVOKE_DENIED",
  "CALLEE_NOT_FOUND",
  "CALLEE_ERROR",
  "CALLEE_TIMEOUT",
  "THROTTLED",
  "BAD_RESPONSE",
  "BAD_REQUEST",
  "INVOKE_FAILED",
  "INVOKE_OUTCOME_UNKNOWN",
] as const;

export type CallerErrorCode = (typeof CALLER_ERROR_CODES)[number];

/**
 * Codes where trying the same request again later can succeed. INVOKE_OUTCOME_UNKNOWN is not in the
 * set: it is retryable exactly when the callee is declared idempotent (CALLEE_IDEMPOTENT).
 */
export const RETRYABLE_CODES: ReadonlySet<CallerErrorCode> = new Set<CallerErrorCode>(["THROTTLED", "CALLEE_TIMEOUT", "INVOKE_FAILED"]);

export type { FieldIssue };

export interface CallerRequestIds {
  /** The caller's own `context.awsRequestId`. */
  readonly caller: string;
  /** Lambda's request id for the Invoke call (x-amzn-RequestId), when a response arrived. */
  readonly callee?: string;
  /** STS request id, when the failure came from AssumeRole. */
  readonly sts?: string;
}

export interface CallerError {
  readonly code: CallerErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  /** CALLEE_ERROR / CALLEE_TIMEOUT: `errorType` from the callee's error payload. */
  readonly calleeErrorType?: string;
  /** CALLEE_ERROR / CALLEE_TIMEOUT: `errorMessage` from the callee's error payload. */
  readonly calleeErrorMessage?: string;
  /** BAD_REQUEST only: every bad field of the caller's event. */
  readonly issues?: readonly FieldIssue[];
  /** THROTTLED by STS: how long the caller will not call AssumeRole again (the STS throttle cooldown). */
  readonly retryAfterMs?: number;
  readonly requestIds: CallerRequestIds;
}

/**
 * Raised by the wrapped credential provider (see credentials.ts). SDK errors carry
 * no "which service" marker, and STS and Lambda both use AccessDenied-style names,
 * so the wrapper is what proves a failure came from AssumeRole.
 */
export class StsCredentialError extends Error {
  override readonly name = "StsCredentialError";
  /** `name` of the underlying error, e.g. AccessDenied, RegionDisabledException, CredentialsProviderError. */
  readonly stsErrorName: string;
  readonly stsRequestId?: string;
  /** Set by the cooldown wrapper (credentials.ts) when this throttling started a cooldown of that many ms. */
  retryAfterMs?: number;

  constructor(cause: unknown) {
    const name = errorName(cause);
    super(`STS AssumeRole failed: ${name}: ${errorMessage(cause)}`, { cause });
    this.stsErrorName = name;
    const requestId = requestIdOf(cause);
    if (requestId !== undefined) this.stsRequestId = requestId;
  }
}

/**
 * Raised instead of calling AssumeRole while the STS throttle cooldown runs (see credentials.ts):
 * STS throttled a moment ago, and asking again at once would only feed the throttling.
 */
export class StsCooldownError extends Error {
  override readonly name = "StsCooldownError";
  /** Milliseconds until the caller calls AssumeRole again. */
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    super(`STS throttled AssumeRole moments ago; not calling it again for ${retryAfterMs} ms (STS_THROTTLE_COOLDOWN_MS)`);
    this.retryAfterMs = retryAfterMs;
  }
}

const STS_DENIED_NAMES = new Set(["AccessDenied", "AccessDeniedException"]);

// Service error names that mean "slow down", across AWS protocols.
const THROTTLING_NAMES = new Set([
  "TooManyRequestsException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "EC2ThrottledException",
  "ProvisionedThroughputExceededException",
  "SlowDown",
  "BandwidthLimitExceeded",
  "PriorRequestNotComplete",
]);

const MAX_TEXT = 1000;
// Error names are short identifiers; a longer one is garbage and must not flood the message.
const MAX_NAME = 200;

function clip(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** For logs: the SDK error's name, or the STS error behind a credential failure. */
export function describeErrorName(err: unknown): string {
  return err instanceof StsCredentialError ? `StsCredentialError(${err.stsErrorName})` : errorName(err);
}

export function errorName(err: unknown): string {
  const name = asRecord(err)?.name;
  return typeof name === "string" && name ? clip(name, MAX_NAME) : typeof err === "object" && err !== null ? "Error" : typeof err;
}

function errorMessage(err: unknown): string {
  const message = asRecord(err)?.message;
  return clip(typeof message === "string" ? message : safeString(err));
}

// String() throws on objects without a usable toString (e.g. Object.create(null)).
function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function metadataOf(err: unknown): { requestId?: unknown; httpStatusCode?: unknown; attempts?: unknown } | undefined {
  return asRecord(asRecord(err)?.$metadata);
}

/** `$metadata.requestId`, else the raw x-amzn-RequestId header of the failed response. */
export function requestIdOf(err: unknown): string | undefined {
  const fromMetadata = metadataOf(err)?.requestId;
  if (typeof fromMetadata === "string" && fromMetadata) return fromMetadata;
  const headers = asRecord(asRecord(asRecord(err)?.$response)?.headers);
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === "x-amzn-requestid" && typeof value === "string" && value) return value;
  }
  return undefined;
}

/** A service's "slow down": a throttling error name, or HTTP 429. */
export function isThrottling(err: unknown): boolean {
  return THROTTLING_NAMES.has(errorName(err)) || httpStatusOf(err) === 429;
}

function httpStatusOf(err: unknown): number | undefined {
  const status = metadataOf(err)?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/**
 * Node's system error code (ECONNRESET, ECONNREFUSED, ...). The SDK renames some of these errors
 * "TimeoutError", and "socket hang up" alone does not say the connection was reset: the code does.
 */
function systemCodeOf(err: unknown): string | undefined {
  const code = asRecord(err)?.code;
  return typeof code === "string" && /^E[A-Z0-9_]+$/.test(code) ? code : undefined;
}

/** How many HTTP attempts the SDK made before giving up (set by the retry middleware). */
export function attemptsOf(err: unknown): number | undefined {
  const attempts = metadataOf(err)?.attempts;
  return typeof attempts === "number" ? attempts : undefined;
}

// ---------------------------------------------------------------------------
// Did the callee possibly run? The one question behind both the SDK's retries (retry.ts) and the
// INVOKE_OUTCOME_UNKNOWN code.
// ---------------------------------------------------------------------------

/**
 * The 5xx errors Invoke documents as Lambda failing to set the function up, i.e. before it runs
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors); every other 5xx,
 * ServiceException ("an internal error") first, says nothing about whether the function ran.
 */
export const LAMBDA_NOT_STARTED_5XX: ReadonlySet<string> = new Set([
  "EC2AccessDeniedException",
  "EC2ThrottledException",
  "EC2UnexpectedException",
  "ENILimitReachedException",
  "ENINotReadyException",
  "InvalidRuntimeException",
  "InvalidSecurityGroupIDException",
  "InvalidSubnetIDException",
  "InvalidZipFileException",
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
  "ResourceNotReadyException",
  "SubnetIPAddressLimitReachedException",
]);

/** Node error codes that only a connection being set up raises: nothing of the request has left. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EAI_NODATA",
  // TLS: certificate verification and protocol mismatch fail the handshake, before any request byte is sent.
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "HOSTNAME_MISMATCH",
]);
/** System calls of connection set-up: a failure there (EHOSTUNREACH, ETIMEDOUT, ...) happened before sending. */
const NOT_SENT_SYSCALLS = new Set(["connect", "getaddrinfo"]);
// Node's message for a connection that closed during the TLS handshake (code ECONNRESET).
const TLS_NOT_ESTABLISHED = /before secure TLS connection was established/;
// OpenSSL's handshake failures, which Node reports as EPROTO (e.g. "wrong version number" from a server not speaking TLS).
const TLS_HANDSHAKE_FAILED =
  /wrong version number|handshake failure|alert protocol version|unsupported protocol|no shared cipher|unknown ca|certificate verify failed/i;
// @smithy/node-http-handler's connectionTimeout (name TimeoutError, no code).
const CONNECT_TIMEOUT = /did not establish a connection/;
const NETWORK_CODE =
  /^(?:E[A-Z0-9_]+|CERT_[A-Z_]+|UNABLE_TO_[A-Z_]+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)$/;

function stringField(err: unknown, key: string): string | undefined {
  const value = asRecord(err)?.[key];
  return typeof value === "string" ? value : undefined;
}

/** A failure of the connection (Node's error code, or the HTTP handler's TimeoutError) rather than an answer. */
function isNetworkFailure(err: unknown): boolean {
  const code = stringField(err, "code");
  return (code !== undefined && NETWORK_CODE.test(code)) || errorName(err) === "TimeoutError";
}

/** True when the connection failed before any byte of the request was written. */
function neverSent(err: unknown): boolean {
  const code = stringField(err, "code") ?? "";
  const syscall = stringField(err, "syscall") ?? "";
  const message = stringField(err, "message") ?? "";
  return (
    NOT_SENT_CODES.has(code) ||
    NOT_SENT_SYSCALLS.has(syscall) ||
    TLS_NOT_ESTABLISHED.test(message) ||
    (code === "EPROTO" && TLS_HANDSHAKE_FAILED.test(message)) ||
    CONNECT_TIMEOUT.test(message)
  );
}

/**
 * Pure: may the callee have run although the Invoke failed? False when Lambda said it did not
 * (throttling, any 4xx refusal, a 5xx documented as "before running the function") or when the
 * request never left (connection refused, DNS, TLS handshake, connect timeout); true for
 * ServiceException and other 5xx, and for a connection reset, hang-up or timeout after the request
 * was written. Anything else (a client-side failure, nothing sent) is false.
 */
export function mayHaveRun(err: unknown): boolean {
  const name = errorName(err);
  if (isThrottling(err) || LAMBDA_NOT_STARTED_5XX.has(name)) return false;
  if (name === "ServiceException") return true;
  const status = httpStatusOf(err);
  if (status !== undefined) return status >= 500;
  return isNetworkFailure(err) && !neverSent(err);
}

export function makeCallerError(
  code: CallerErrorCode,
  message: string,
  requestIds: CallerRequestIds,
  extra: Pick<CallerError, "calleeErrorType" | "calleeErrorMessage" | "issues" | "retryAfterMs"> = {},
  retryable: boolean = RETRYABLE_CODES.has(code),
): CallerError {
  return { code, message, retryable, ...extra, requestIds };
}

export interface ToCallerErrorContext {
  readonly callerRequestId: string;
  /** True when OUR deadline signal fired (the caller was about to run out of time). */
  readonly aborted?: boolean;
  /** The time budget the Invoke call had, for the timeout message. */
  readonly budgetMs?: number;
  /** CALLEE_IDEMPOTENT: makes INVOKE_OUTCOME_UNKNOWN retryable. Default false. */
  readonly calleeIdempotent?: boolean;
}

/** Maps anything thrown by `LambdaClient.send(InvokeCommand)` to a stable error. Pure. */
export function toCallerError(err: unknown, ctx: ToCallerErrorContext): CallerError {
  const caller = ctx.callerRequestId;

  // Checked first, like an STS failure: AssumeRole was not even attempted, so nothing was sent.
  if (err instanceof StsCooldownError) {
    return makeCallerError("THROTTLED", `${err.message}; nothing was sent to the callee`, { caller }, { retryAfterMs: err.retryAfterMs });
  }

  // Checked first: an STS failure is definitive even if the deadline also passed meanwhile.
  if (err instanceof StsCredentialError) {
    const ids: CallerRequestIds = { caller, ...(err.stsRequestId ? { sts: err.stsRequestId } : {}) };
    if (STS_DENIED_NAMES.has(err.stsErrorName)) {
      return makeCallerError(
        "ASSUME_ROLE_DENIED",
        `STS refused AssumeRole on INVOKER_ROLE_ARN (${err.stsErrorName}): check the role's trust policy (caller role as principal, sts:ExternalId) and the caller's sts:AssumeRole permission. ${errorMessage(err.cause)}`,
        ids,
      );
    }
    if (isThrottling(err.cause)) {
      // The STS client inside the credential provider retries on its own; say how often it tried.
      const stsAttempts = attemptsOf(err.cause);
      return makeCallerError(
        "THROTTLED",
        `STS throttled AssumeRole (${err.stsErrorName}${stsAttempts ? ` after ${stsAttempts} attempt(s)` : ""}): ${errorMessage(err.cause)}`,
        ids,
        err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {},
      );
    }
    return makeCallerError("INVOKE_FAILED", `Could not get credentials for INVOKER_ROLE_ARN: ${err.message}`, ids);
  }

  const calleeRequestId = requestIdOf(err);
  const ids: CallerRequestIds = { caller, ...(calleeRequestId ? { callee: calleeRequestId } : {}) };
  const name = errorName(err);

  if (ctx.aborted) {
    // Our deadline fired with the request (probably) sent: the callee may have run, may be running, or may never start.
    const budget = ctx.budgetMs !== undefined ? ` within ${ctx.budgetMs} ms` : "";
    const idempotent = ctx.calleeIdempotent === true;
    return makeCallerError(
      "INVOKE_OUTCOME_UNKNOWN",
      `No answer from the callee${budget}; gave up before the caller's own timeout (${name}): the callee may or may not have run, and may still be running; ` +
        (idempotent
          ? "CALLEE_IDEMPOTENT=true: sending it again with the same idempotencyKey is safe"
          : "retry only if running it twice is harmless, with the same idempotencyKey"),
      ids,
      {},
      idempotent,
    );
  }

  switch (name) {
    case "AccessDeniedException":
      return makeCallerError(
        "INVOKE_DENIED",
        `Lambda denied lambda:InvokeFunction: check the invoker role's policy and the callee's resource policy. ${errorMessage(err)}`,
        ids,
      );
    case "ResourceNotFoundException":
      return makeCallerError("CALLEE_NOT_FOUND", `Callee function (or its qualifier) not found: ${errorMessage(err)}`, ids);
    // The caller's payload is what is wrong here, and sending it again cannot help.
    case "RequestTooLargeException":
    case "SerializedRequestEntityTooLargeException":
      return makeCallerError(
        "BAD_REQUEST",
        `The payload is larger than Lambda accepts for this invocation type: ${errorMessage(err)}`,
        ids,
      );
  }

  if (isThrottling(err)) {
    const attempts = attemptsOf(err);
    return makeCallerError("THROTTLED", `Throttled (${name}${attempts ? ` after ${attempts} attempt(s)` : ""}): ${errorMessage(err)}`, ids);
  }

  const status = httpStatusOf(err);
  const attempts = attemptsOf(err);
  const detail = [status ? `HTTP ${status}` : undefined, systemCodeOf(err), attempts ? `${attempts} attempt(s)` : undefined]
    .filter(Boolean)
    .join(", ");
  const what = `${name}${detail ? ` (${detail})` : ""}`;
  if (mayHaveRun(err)) {
    const idempotent = ctx.calleeIdempotent === true;
    const advice = idempotent
      ? "CALLEE_IDEMPOTENT=true: sending it again with the same idempotencyKey is safe"
      : "not sent again (CALLEE_IDEMPOTENT is not true): retry only if running it twice is harmless, with the same idempotencyKey";
    return makeCallerError(
      "INVOKE_OUTCOME_UNKNOWN",
      `Invoke outcome unknown (${what}: ${errorMessage(err)}): the callee may or may not have run; ${advice}`,
      ids,
      {},
      idempotent,
    );
  }
  return makeCallerError("INVOKE_FAILED", `Invoke failed: ${what}: ${errorMessage(err)}`, ids);
}

/** Lambda's own errorType for a run that hit the callee's timeout. */
const CALLEE_TIMEOUT_TYPE = "Sandbox.Timedout";
const CALLEE_TIMEOUT_MESSAGE = /Task timed out/;
/**
 * An idempotent callee (Powertools Idempotency) already running a request with this idempotency key: retrying the
 * same request once that run ends returns its stored answer, and cannot run the operation twice.
 */
const IDEMPOTENCY_IN_PROGRESS_TYPE = "IdempotencyAlreadyInProgressError";

/**
 * Maps a response with `FunctionError` set (the callee threw, crashed or timed out).
 * `payloadText` is the raw error payload, normally `{"errorType":..,"errorMessage":..}`.
 */
export function fromFunctionError(functionError: string, payloadText: string | undefined, requestIds: CallerRequestIds): CallerError {
  let errorType: string | undefined;
  let errorMsg: string | undefined;
  try {
    const parsed = asRecord(payloadText ? JSON.parse(payloadText) : undefined);
    if (typeof parsed?.errorType === "string") errorType = clip(parsed.errorType);
    if (typeof parsed?.errorMessage === "string") errorMsg = clip(parsed.errorMessage);
  } catch {
    // An unparsable error payload still is a callee error; we just know less about it.
  }
  const extra = {
    ...(errorType !== undefined ? { calleeErrorType: errorType } : {}),
    ...(errorMsg !== undefined ? { calleeErrorMessage: errorMsg } : {}),
  };
  const description = [errorType, errorMsg].filter(Boolean).join(": ") || "no error details in payload";
  if (errorType === CALLEE_TIMEOUT_TYPE || (errorMsg !== undefined && CALLEE_TIMEOUT_MESSAGE.test(errorMsg))) {
    return makeCallerError("CALLEE_TIMEOUT", `The callee timed out (FunctionError ${functionError}): ${description}`, requestIds, extra);
  }
  if (errorType === IDEMPOTENCY_IN_PROGRESS_TYPE) {
    const message = `The callee is still running an earlier request with this idempotency key (FunctionError ${functionError}): retry the same request once it has finished, to get its answer`;
    return makeCallerError("CALLEE_ERROR", message, requestIds, extra, true);
  }
  return makeCallerError("CALLEE_ERROR", `The callee failed (FunctionError ${functionError}): ${description}`, requestIds, extra);
}
