/**
 * Lambda Invoke wire format (restJson): the request as the SDK and the CLI send it, and responses
 * shaped as Lambda shapes them, so both clients' own deserialisers read them unchanged.
 */

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  /** A Buffer for invoke payloads, which are bytes rather than text. */
  body: string | Buffer;
}

export interface LambdaErrorSpec {
  code: string;
  message: string;
  status: number;
  /** Body's "Type". Omitted: "User" for 4xx, "Service" for 5xx, nothing for the codes AWS sends without one. null: never. */
  type?: "User" | "Service" | null;
  /** More body fields, e.g. `{ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" }` on TooManyRequestsException. */
  extraFields?: Record<string, string | number | boolean>;
  /** Sent as the Retry-After header (the SDK's `retryAfterSeconds` on TooManyRequestsException). */
  retryAfterSeconds?: number;
}

export type InvocationType = "RequestResponse" | "Event" | "DryRun";
export type LogType = "None" | "Tail";

export interface ParsedInvoke {
  /** Decoded from the path: a name, name:qualifier, partial ARN or full ARN, as the caller wrote it. */
  functionName: string;
  /** The Qualifier query parameter, when present. */
  qualifier?: string;
  invocationType: InvocationType;
  logType: LogType;
  /** X-Amz-Client-Context, still base64. */
  clientContext?: string;
  /** The event, as JSON bytes; an empty body becomes `{}`, which is what Lambda hands the handler. */
  payload: Buffer;
}

export type InvokeParseResult = { ok: true; value: ParsedInvoke } | { ok: false; error: LambdaErrorSpec };

export interface FunctionIdentifier {
  partition: string;
  accountId: string;
  region: string;
  name: string;
  qualifier?: string;
  /** Unqualified: arn:<partition>:lambda:<region>:<account>:function:<name>. */
  arn: string;
}

export type FunctionIdentifierResult = { ok: true; value: FunctionIdentifier } | { ok: false; error: LambdaErrorSpec };

/** Synchronous request limit; Lambda's message quotes it in bytes. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Asynchronous (Event) payload limit: 1 MB since 2025 (it was 256 KB). */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;
/** Lambda returns "the last 4 KB of the execution log". */
export const LOG_TAIL_BYTES = 4 * 1024;

const INVOKE_ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

// The Lambda API model's constraints, shown to callers exactly as the model writes them.
const FUNCTION_NAME_PATTERN =
  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
const FUNCTION_NAME_REGEX =
  /^(?:arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?(\d{12}:)?(function:)?([a-zA-Z0-9._-]+)(?::(\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$/;
const FUNCTION_NAME_MAX = 256;
/** "If you specify only the function name, it is limited to 64 characters in length." */
const BARE_NAME_MAX = 64;
const QUALIFIER_PATTERN = "(|[a-zA-Z0-9$_-]+)";
const QUALIFIER_REGEX = /^[a-zA-Z0-9$_-]*$/;
const QUALIFIER_MAX = 128;
const INVOCATION_TYPES: readonly InvocationType[] = ["Event", "RequestResponse", "DryRun"];
const LOG_TYPES: readonly LogType[] = ["Tail", "None"];

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

const err = (code: string, status: number, message: string): { ok: false; error: LambdaErrorSpec } => ({
  ok: false,
  error: { code, status, message },
});

/** AWS's aggregate wording: "N validation error(s) detected: …", clauses joined by "; ". */
function validationError(problems: string[]): { ok: false; error: LambdaErrorSpec } {
  const count = problems.length === 1 ? "1 validation error detected" : `${problems.length} validation errors detected`;
  return err("ValidationException", 400, `${count}: ${problems.join("; ")}`);
}

const constraint = (value: string, at: string, rule: string): string =>
  `Value '${value}' at '${at}' failed to satisfy constraint: Member must ${rule}`;

function checkFunctionName(name: string, problems: string[]): void {
  if (name.length < 1) problems.push(constraint(name, "functionName", "have length greater than or equal to 1"));
  if (name.length > FUNCTION_NAME_MAX)
    problems.push(constraint(name, "functionName", `have length less than or equal to ${FUNCTION_NAME_MAX}`));
  if (!FUNCTION_NAME_REGEX.test(name))
    problems.push(constraint(name, "functionName", `satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`));
}

function checkQualifier(qualifier: string, problems: string[]): void {
  if (qualifier.length < 1) problems.push(constraint(qualifier, "qualifier", "have length greater than or equal to 1"));
  if (qualifier.length > QUALIFIER_MAX)
    problems.push(constraint(qualifier, "qualifier", `have length less than or equal to ${QUALIFIER_MAX}`));
  if (!QUALIFIER_REGEX.test(qualifier))
    problems.push(constraint(qualifier, "qualifier", `satisfy regular expression pattern: ${QUALIFIER_PATTERN}`));
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export function queryValue(rawQuery: string, name: string): string | undefined {
  for (const pair of rawQuery.split("&")) {
    const eq = pair.indexOf("=");
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (safeDecode(key) !== name) continue;
    return eq === -1 ? "" : (safeDecode(pair.slice(eq + 1)) ?? pair.slice(eq + 1));
  }
  return undefined;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Strict UTF-8 decoding: Lambda refuses invalid bytes rather than replacing them. */
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads an Invoke request: route, FunctionName (URL-decoded), Qualifier, the X-Amz-* headers and
 * the payload, applying Lambda's checks in its order (constraints, then size, then JSON).
 */
export function parseInvokeRequest(request: {
  method?: string;
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}): InvokeParseResult {
  const q = request.rawUrl.indexOf("?");
  const path = q === -1 ? request.rawUrl : request.rawUrl.slice(0, q);
  const rawQuery = q === -1 ? "" : request.rawUrl.slice(q + 1);
  const route = INVOKE_ROUTE.exec(path);
  if (!route || (request.method ?? "").toUpperCase() !== "POST") {
    return err("UnknownOperationException", 404, `Unknown operation ${request.method ?? "?"} ${path}`);
  }

  const rawName = route[1];
  const functionName = safeDecode(rawName);
  const problems: string[] = [];
  if (functionName === undefined)
    problems.push(constraint(rawName, "functionName", `satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`));
  else checkFunctionName(functionName, problems);

  const qualifier = queryValue(rawQuery, "Qualifier");
  if (qualifier !== undefined) checkQualifier(qualifier, problems);

  const invocationType = headerValue(request.headers, "x-amz-invocation-type") ?? "RequestResponse";
  if (!(INVOCATION_TYPES as readonly string[]).includes(invocationType)) {
    problems.push(constraint(invocationType, "invocationType", `satisfy enum value set: [${INVOCATION_TYPES.join(", ")}]`));
  }
  const logType = headerValue(request.headers, "x-amz-log-type") ?? "None";
  if (!(LOG_TYPES as readonly string[]).includes(logType)) {
    problems.push(constraint(logType, "logType", `satisfy enum value set: [${LOG_TYPES.join(", ")}]`));
  }
  if (problems.length > 0) return validationError(problems);

  const size = request.body.length;
  if (invocationType === "Event" && size > ASYNC_PAYLOAD_LIMIT_BYTES) {
    return err(
      "RequestEntityTooLargeException",
      413,
      `${size} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_LIMIT_BYTES} bytes)`,
    );
  }
  if (size > SYNC_PAYLOAD_LIMIT_BYTES) {
    return err(
      "RequestEntityTooLargeException",
      413,
      `Request must be smaller than ${SYNC_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`,
    );
  }

  let payload = request.body;
  if (size === 0) {
    payload = Buffer.from("{}");
  } else {
    const invalid = invalidJson(request.body);
    if (invalid !== undefined) {
      return err(
        "InvalidRequestContentException",
        400,
        `Could not parse request body into json: Could not parse payload into json: ${invalid}`,
      );
    }
  }

  const clientContext = headerValue(request.headers, "x-amz-client-context");
  return {
    ok: true,
    value: {
      functionName: functionName as string,
      ...(qualifier !== undefined && { qualifier }),
      invocationType: invocationType as InvocationType,
      logType: logType as LogType,
      ...(clientContext !== undefined && { clientContext }),
      payload,
    },
  };
}

/** Why `body` is not JSON, or undefined when it is. Any JSON value is an acceptable event. */
function invalidJson(body: Buffer): string | undefined {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return "Invalid UTF-8 byte sequence";
  }
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Splits any of Lambda's FunctionName forms (name, name:qualifier, 123456789012:function:name[:q],
 * arn:aws:lambda:region:123456789012:function:name[:q]) into its parts. A bare name belongs to
 * `defaultAccount`; `qualifier` is the Qualifier parameter, which must agree with one in the name.
 */
export function parseFunctionIdentifier(
  name: string,
  defaultAccount: string,
  defaultRegion: string,
  qualifier?: string,
): FunctionIdentifierResult {
  const problems: string[] = [];
  checkFunctionName(name, problems);
  if (qualifier !== undefined) checkQualifier(qualifier, problems);
  const m = FUNCTION_NAME_REGEX.exec(name);
  if (problems.length > 0 || !m) return validationError(problems);

  const isArn = name.startsWith("arn:");
  const [, partition, regionPart, accountPart, functionPart, bareName, namedQualifier] = m;
  const region = regionPart?.slice(0, -1);
  const account = accountPart?.slice(0, -1);
  // The pattern admits odd combinations; Lambda needs an ARN to be complete and "function:" to follow an account.
  if ((isArn && (!region || !account || !functionPart)) || (!isArn && region !== undefined) || (functionPart !== undefined && !account)) {
    // Not confirmed against AWS: the code is Lambda's, the wording our own.
    return err("InvalidParameterValueException", 400, `Unsupported function name: ${name}`);
  }
  if (!account && bareName.length > BARE_NAME_MAX) {
    return validationError([constraint(name, "functionName", `have length less than or equal to ${BARE_NAME_MAX}`)]);
  }
  if (qualifier !== undefined && namedQualifier !== undefined && qualifier !== namedQualifier) {
    return err(
      "InvalidParameterValueException",
      400,
      "The derived qualifier from the function name does not match the specified qualifier.",
    );
  }
  if (region !== undefined && region !== defaultRegion) {
    return err("ResourceNotFoundException", 404, `Functions from '${region}' are not reachable in this region ('${defaultRegion}')`);
  }
  const resolvedPartition = partition || "aws";
  const accountId = account ?? defaultAccount;
  const finalQualifier = namedQualifier ?? qualifier;
  return {
    ok: true,
    value: {
      partition: resolvedPartition,
      accountId,
      region: defaultRegion,
      name: bareName,
      ...(finalQualifier !== undefined && { qualifier: finalQualifier }),
      arn: `arn:${resolvedPartition}:lambda:${defaultRegion}:${accountId}:function:${bareName}`,
    },
  };
}

export interface InvokeOutput {
  /** 200 RequestResponse, 202 Event, 204 DryRun. */
  statusCode: 200 | 202 | 204;
  payload?: Buffer;
  /** "Unhandled" (or "Handled") when the function failed; the payload then holds the error object. */
  functionError?: string;
  /** The invocation's log as raw text; only its last 4 KB are sent, base64-encoded. */
  logTail?: string;
  executedVersion?: string;
}

export function invokeSuccessResponse(output: InvokeOutput, requestId: string): WireResponse {
  const headers: Record<string, string> = { "Content-Type": "application/json", "x-amzn-RequestId": requestId };
  if (output.executedVersion !== undefined) headers["X-Amz-Executed-Version"] = output.executedVersion;
  if (output.functionError !== undefined) headers["X-Amz-Function-Error"] = output.functionError;
  if (output.logTail !== undefined) {
    const log = Buffer.from(output.logTail, "utf8");
    headers["X-Amz-Log-Result"] = log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString("base64");
  }
  // Event and DryRun answer with a status only.
  const body = output.statusCode === 200 ? (output.payload ?? Buffer.alloc(0)) : Buffer.alloc(0);
  return { status: output.statusCode, headers, body };
}

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
