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
] as const;

export type CallerErrorCode = (typeof CALLER_ERROR_CODES)[number];

/** Codes where trying the same request again later can succeed. */
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

  constructor(cause: unknown) {
    const name = errorName(cause);
    super(`STS AssumeRole failed: ${name}: ${errorMessage(cause)}`, { cause });
    this.stsErrorName = name;
    const requestId = requestIdOf(cause);
    if (requestId !== undefined) this.stsRequestId = requestId;
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

export function makeCallerError(
  code: CallerErrorCode,
  message: string,
  requestIds: CallerRequestIds,
  extra: Pick<CallerError, "calleeErrorType" | "calleeErrorMessage" | "issues"> = {},
): CallerError {
  return { code, message, retryable: RETRYABLE_CODES.has(code), ...extra, requestIds };
}

export interface ToCallerErrorContext {
  readonly callerRequestId: string;
  /** True when OUR deadline signal fired (the caller was about to run out of time). */
  readonly aborted?: boolean;
  /** The time budget the Invoke call had, for the timeout message. */
  readonly budgetMs?: number;
}

/** Maps anything thrown by `LambdaClient.send(InvokeCommand)` to a stable error. Pure. */
export function toCallerError(err: unknown, ctx: ToCallerErrorContext): CallerError {
  const caller = ctx.callerRequestId;

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
    if (THROTTLING_NAMES.has(err.stsErrorName) || httpStatusOf(err.cause) === 429) {
      // The STS client inside the credential provider retries on its own; say how often it tried.
      const stsAttempts = attemptsOf(err.cause);
      return makeCallerError(
        "THROTTLED",
        `STS throttled AssumeRole (${err.stsErrorName}${stsAttempts ? ` after ${stsAttempts} attempt(s)` : ""}): ${errorMessage(err.cause)}`,
        ids,
      );
    }
    return makeCallerError("INVOKE_FAILED", `Could not get credentials for INVOKER_ROLE_ARN: ${err.message}`, ids);
  }

  const calleeRequestId = requestIdOf(err);
  const ids: CallerRequestIds = { caller, ...(calleeRequestId ? { callee: calleeRequestId } : {}) };
  const name = errorName(err);

  if (ctx.aborted) {
    const budget = ctx.budgetMs !== undefined ? ` within ${ctx.budgetMs} ms` : "";
    return makeCallerError(
      "CALLEE_TIMEOUT",
      `No answer from the callee${budget}; gave up before the caller's own timeout (${name}). The callee may still be running.`,
      ids,
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

  if (THROTTLING_NAMES.has(name) || httpStatusOf(err) === 429) {
    const attempts = attemptsOf(err);
    return makeCallerError("THROTTLED", `Throttled (${name}${attempts ? ` after ${attempts} attempt(s)` : ""}): ${errorMessage(err)}`, ids);
  }

  const status = httpStatusOf(err);
  const attempts = attemptsOf(err);
  const detail = [status ? `HTTP ${status}` : undefined, systemCodeOf(err), attempts ? `${attempts} attempt(s)` : undefined]
    .filter(Boolean)
    .join(", ");
  return makeCallerError("INVOKE_FAILED", `Invoke failed: ${name}${detail ? ` (${detail})` : ""}: ${errorMessage(err)}`, ids);
}

/** Lambda's own errorType for a run that hit the callee's timeout. */
const CALLEE_TIMEOUT_TYPE = "Sandbox.Timedout";
const CALLEE_TIMEOUT_MESSAGE = /Task timed out/;

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
  return makeCallerError("CALLEE_ERROR", `The callee failed (FunctionError ${functionError}): ${description}`, requestIds, extra);
}
