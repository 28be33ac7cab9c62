/**
 * Lambda Invoke wire format (restJson): the request as the SDK and the CLI send it, and responses
 * shaped as Lambda shapes them, so both clients' own deserialisers read them unchanged.
 */
import { headerValue, type RequestHeaders } from "../../wire/headers";
import type { WireResponse } from "../../wire/response";
import { ok, type Result } from "../../wire/result";
import { constraint } from "../../wire/validation";
import { refusal, validationRefusal, type LambdaErrorSpec } from "./errors";
import { checkFunctionName, checkQualifier, FUNCTION_NAME_PATTERN } from "./function-name";

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

/** Synchronous request limit; Lambda's message quotes it in bytes. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Asynchronous (Event) payload limit: 1 MB since 2025 (it was 256 KB). */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;
/** Lambda returns "the last 4 KB of the execution log". */
export const LOG_TAIL_BYTES = 4 * 1024;

const INVOKE_ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

const INVOCATION_TYPES: readonly InvocationType[] = ["Event", "RequestResponse", "DryRun"];
const LOG_TYPES: readonly LogType[] = ["Tail", "None"];

/** A query parameter's decoded value (the first, when repeated); a value that is not valid percent-encoding is left as sent. */
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
  headers: RequestHeaders;
  body: Buffer;
}): Result<ParsedInvoke, LambdaErrorSpec> {
  const q = request.rawUrl.indexOf("?");
  const path = q === -1 ? request.rawUrl : request.rawUrl.slice(0, q);
  const rawQuery = q === -1 ? "" : request.rawUrl.slice(q + 1);
  const route = INVOKE_ROUTE.exec(path);
  if (!route || (request.method ?? "").toUpperCase() !== "POST") {
    return refusal("UnknownOperationException", 404, `Unknown operation ${request.method ?? "?"} ${path}`);
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
  if (problems.length > 0) return validationRefusal(problems);

  const size = request.body.length;
  if (invocationType === "Event" && size > ASYNC_PAYLOAD_LIMIT_BYTES) {
    return refusal(
      "RequestEntityTooLargeException",
      413,
      `${size} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_LIMIT_BYTES} bytes)`,
    );
  }
  if (size > SYNC_PAYLOAD_LIMIT_BYTES) {
    return refusal(
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
      return refusal(
        "InvalidRequestContentException",
        400,
        `Could not parse request body into json: Could not parse payload into json: ${invalid}`,
      );
    }
  }

  const clientContext = headerValue(request.headers, "x-amz-client-context");
  return ok({
    functionName: functionName as string,
    ...(qualifier !== undefined && { qualifier }),
    invocationType: invocationType as InvocationType,
    logType: logType as LogType,
    ...(clientContext !== undefined && { clientContext }),
    payload,
  });
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
