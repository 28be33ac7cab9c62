/**
 * Lambda's errors (restJson): `x-amzn-ErrorType` names the error, the JSON body carries the message,
 * in the casing and with the "Type" Lambda uses for that code.
 */
import type { WireError, WireResponse } from "../../wire/response";
import { fail } from "../../wire/result";
import type { SignatureErrorTable } from "../../wire/signature-errors";
import { MSG_EXPIRED_TOKEN, MSG_INVALID_TOKEN, MSG_SIGNATURE_MISMATCH } from "../../wire/sigv4";
import { validationMessage } from "../../wire/validation";

export interface LambdaErrorSpec extends WireError {
  /** Body's "Type". Omitted: "User" for 4xx, "Service" for 5xx, nothing for the codes AWS sends without one. null: never. */
  type?: "User" | "Service" | null;
  /** More body fields, e.g. `{ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" }` on TooManyRequestsException. */
  extraFields?: Record<string, string | number | boolean>;
  /** Sent as the Retry-After header (the SDK's `retryAfterSeconds` on TooManyRequestsException). */
  retryAfterSeconds?: number;
}

/** Codes whose body carries "Message" (capital M) rather than "message", per the Lambda model and observed AccessDenied bodies. */
const CAPITAL_MESSAGE = new Set([
  "AccessDeniedException",
  "ResourceNotFoundException",
  "ServiceException",
  "ResourceInUseException",
  "NoPublishedVersionException",
  "RecursiveInvocationException",
  "CodeSigningConfigNotFoundException",
  "CodeVerificationFailedException",
  "InvalidCodeSignatureException",
  "InvalidRuntimeException",
  "InvalidZipFileException",
  "InvalidSecurityGroupIDException",
  "InvalidSubnetIDException",
  "SubnetIPAddressLimitReachedException",
  "ENILimitReachedException",
  "EC2AccessDeniedException",
  "EC2ThrottledException",
  "EC2UnexpectedException",
  "EFSIOException",
  "EFSMountConnectivityException",
  "EFSMountFailureException",
  "EFSMountTimeoutException",
  "KMSAccessDeniedException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
  "SnapStartException",
  "SnapStartNotReadyException",
  "SnapStartTimeoutException",
]);

/** Errors raised by AWS's request front end (authentication, HTTP-level), which carry no "Type". */
const NO_TYPE = new Set([
  "AccessDeniedException",
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ValidationException",
  "RequestEntityTooLargeException",
  "UnknownOperationException",
]);

/** A refusal in Lambda's shape. */
export const refusal = (code: string, status: number, message: string) => fail<LambdaErrorSpec>({ code, status, message });

/** A ValidationException listing every broken constraint. */
export const validationRefusal = (problems: readonly string[]) => refusal("ValidationException", 400, validationMessage(problems));

/**
 * Lambda's restJson error: `x-amzn-ErrorType: <code>` names the error (the SDK's `name`), the JSON
 * body carries the message (and "Type", and any extra fields such as "Reason").
 */
export function lambdaErrorResponse(error: LambdaErrorSpec, requestId: string): WireResponse {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "x-amzn-ErrorType": error.code,
    "x-amzn-RequestId": requestId,
  };
  if (error.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.retryAfterSeconds);
  const type = error.type === undefined ? (NO_TYPE.has(error.code) ? undefined : error.status >= 500 ? "Service" : "User") : error.type;
  const body: Record<string, string | number | boolean> = {};
  if (type !== undefined && type !== null) body.Type = type;
  body[CAPITAL_MESSAGE.has(error.code) ? "Message" : "message"] = error.message;
  Object.assign(body, error.extraFields);
  return { status: error.status, headers, body: JSON.stringify(body) };
}

/** Lambda's front end (restJson) names signature failures as exceptions, all 403; clock skew is an InvalidSignatureException. */
export const LAMBDA_SIGNATURE_ERRORS: SignatureErrorTable = {
  MissingAuthentication: { code: "MissingAuthenticationTokenException", status: 403, message: "Missing Authentication Token" },
  IncompleteSignature: {
    code: "IncompleteSignatureException",
    status: 403,
    message: "The request signature does not conform to AWS standards.",
  },
  UnknownAccessKey: { code: "UnrecognizedClientException", status: 403, message: MSG_INVALID_TOKEN },
  InvalidSessionToken: { code: "UnrecognizedClientException", status: 403, message: MSG_INVALID_TOKEN },
  ExpiredToken: { code: "ExpiredTokenException", status: 403, message: MSG_EXPIRED_TOKEN },
  RequestExpired: { code: "InvalidSignatureException", status: 403, message: "Signature expired" },
  SignatureDoesNotMatch: { code: "InvalidSignatureException", status: 403, message: MSG_SIGNATURE_MISMATCH },
};
