/**
 * awsQuery, the protocol of STS and IAM: form-encoded requests in (a POST body, or a GET's query
 * string), XML out, shaped as AWS shapes them so the SDK's and the CLI's own parsers read them unchanged.
 */
import type { WireError, WireResponse } from "./response";
import { fail, ok, type Result } from "./result";
import type { SignatureErrorTable } from "./signature-errors";
import { MSG_EXPIRED_TOKEN, MSG_INVALID_TOKEN, MSG_SIGNATURE_MISMATCH } from "./sigv4";
import { el } from "./xml";

export interface QueryForm {
  action: string;
  version?: string;
  /** Every form field except Action and Version, still flattened (`Tags.member.1.Key`, ...). */
  params: Record<string, string>;
}

/**
 * Reads an awsQuery form. Both the SDK ("application/x-www-form-urlencoded") and the CLI
 * ("…; charset=utf-8") send one; anything else cannot carry an Action.
 */
export function readQueryForm(form: string, contentType: string | undefined): Result<QueryForm, WireError> {
  const mediaType = contentType?.split(";")[0].trim().toLowerCase();
  if (mediaType !== undefined && mediaType !== "application/x-www-form-urlencoded") {
    // Not confirmed against AWS: what STS and IAM answer a body that is not form-encoded.
    return fail({
      code: "MissingAction",
      status: 400,
      message: `Missing Action: the body must be application/x-www-form-urlencoded, not '${contentType}'.`,
    });
  }
  const params: Record<string, string> = {};
  // URLSearchParams implements form decoding, where '+' is a space.
  for (const [key, value] of new URLSearchParams(form)) params[key] = value;
  const { Action: action, Version: version, ...rest } = params;
  if (!action) return fail({ code: "MissingAction", status: 400, message: "Missing Action" });
  return ok({ action, ...(version !== undefined && { version }), params: rest });
}

/** AWS writes awsQuery timestamps (STS, IAM) as ISO-8601 without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function xmlResponse(status: number, body: string, requestId: string): WireResponse {
  return { status, headers: { "Content-Type": "text/xml", "x-amzn-RequestId": requestId }, body };
}

/** An awsQuery answer: <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata/>, in the service's namespace. */
export function queryActionResponse(namespace: string, action: string, result: string, requestId: string): WireResponse {
  return xmlResponse(
    200,
    `<${action}Response xmlns="${namespace}">\n` +
      `  <${action}Result>\n${result}  </${action}Result>\n` +
      `  <ResponseMetadata>\n    ${el("RequestId", requestId)}\n  </ResponseMetadata>\n` +
      `</${action}Response>\n`,
    requestId,
  );
}

/** An awsQuery error: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>, in the service's namespace. */
export function queryErrorResponse(namespace: string, error: WireError & { type: "Sender" | "Receiver" }, requestId: string): WireResponse {
  return xmlResponse(
    error.status,
    `<ErrorResponse xmlns="${namespace}">\n` +
      `  <Error>\n    ${el("Type", error.type)}\n    ${el("Code", error.code)}\n    ${el("Message", error.message)}\n  </Error>\n` +
      `  ${el("RequestId", requestId)}\n` +
      `</ErrorResponse>\n`,
    requestId,
  );
}

/**
 * What an awsQuery front end (STS, and IAM's, which answers as STS's does) answers a signature that
 * failed: codes without "Exception". A clock-skew failure is a signature failure whose message says
 * "Signature expired: …".
 */
export const QUERY_SIGNATURE_ERRORS: SignatureErrorTable = {
  MissingAuthentication: { code: "MissingAuthenticationToken", status: 403, message: "Request is missing Authentication Token" },
  IncompleteSignature: { code: "IncompleteSignature", status: 400, message: "The request signature does not conform to AWS standards." },
  UnknownAccessKey: { code: "InvalidClientTokenId", status: 403, message: MSG_INVALID_TOKEN },
  InvalidSessionToken: { code: "InvalidClientTokenId", status: 403, message: MSG_INVALID_TOKEN },
  ExpiredToken: { code: "ExpiredToken", status: 403, message: MSG_EXPIRED_TOKEN },
  RequestExpired: { code: "SignatureDoesNotMatch", status: 403, message: "Signature expired" },
  SignatureDoesNotMatch: { code: "SignatureDoesNotMatch", status: 403, message: MSG_SIGNATURE_MISMATCH },
};
