/**
 * S3 wire format for GetBucketPolicy, path-style (GET /<bucket>?policy): the policy document is the
 * whole response body; errors are S3's own XML (<Error><Code>…</Code><Message>…</Message>…</Error>).
 */
import { createHash } from "crypto";
import type { WireError, WireResponse } from "../../wire/response";
import type { SignatureErrorTable } from "../../wire/signature-errors";
import type { SigV4FailureReason } from "../../wire/sigv4";
import { el } from "../../wire/xml";

export interface S3ErrorSpec extends WireError {
  /** More elements of the error, e.g. BucketName, Region. */
  fields?: Record<string, string>;
  /** More headers, e.g. x-amz-bucket-region on a redirect. */
  headers?: Record<string, string>;
}

/**
 * S3's own codes for signature failures, clock skew (RequestTimeTooSkewed) included.
 * Not confirmed against AWS: InvalidRequest for every malformed authorization.
 */
export const S3_SIGNATURE_ERRORS: SignatureErrorTable = {
  MissingAuthentication: { code: "AccessDenied", status: 403, message: "Access Denied" },
  IncompleteSignature: {
    code: "InvalidRequest",
    status: 400,
    message: "The authorization mechanism you have provided is not supported.",
  },
  UnknownAccessKey: {
    code: "InvalidAccessKeyId",
    status: 403,
    message: "The AWS Access Key Id you provided does not exist in our records.",
  },
  InvalidSessionToken: { code: "InvalidToken", status: 400, message: "The provided token is malformed or otherwise invalid." },
  ExpiredToken: { code: "ExpiredToken", status: 400, message: "The provided token has expired." },
  RequestExpired: {
    code: "RequestTimeTooSkewed",
    status: 403,
    message: "The difference between the request time and the current time is too large.",
  },
  SignatureDoesNotMatch: {
    code: "SignatureDoesNotMatch",
    status: 403,
    message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  },
};

/** S3 keeps its own fixed wording for signature mismatches and clock skew: only a malformed authorization is worded for the request. */
export const S3_REQUEST_SPECIFIC: ReadonlySet<SigV4FailureReason> = new Set(["IncompleteSignature"]);

/** The bucket of a path-style GetBucketPolicy, or undefined when the request is not one. */
export function matchGetBucketPolicy(method: string, rawUrl: string): { bucket: string } | undefined {
  const q = rawUrl.indexOf("?");
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query =
    q === -1
      ? []
      : rawUrl
          .slice(q + 1)
          .split("&")
          .map((pair) => pair.split("=")[0]);
  // The SDK sends "/<bucket>/?policy=", the CLI "/<bucket>?policy".
  const m = /^\/([^/]+)\/?$/.exec(path);
  if (method.toUpperCase() !== "GET" || !m || !query.includes("policy")) return undefined;
  let bucket: string;
  try {
    bucket = decodeURIComponent(m[1]);
  } catch {
    // Bucket names never need encoding; an undecodable one names no bucket.
    bucket = m[1];
  }
  return { bucket };
}

/** S3's extended request id, sent with every answer as x-amz-id-2. */
function hostIdOf(requestId: string): string {
  return createHash("sha256").update(requestId).digest("base64");
}

function s3Headers(requestId: string, contentType: string): Record<string, string> {
  return { "Content-Type": contentType, "x-amz-request-id": requestId, "x-amz-id-2": hostIdOf(requestId) };
}

export function bucketPolicyResponse(policy: string, requestId: string): WireResponse {
  return { status: 200, headers: s3Headers(requestId, "application/json"), body: policy };
}

export function s3ErrorResponse(error: S3ErrorSpec, requestId: string): WireResponse {
  const fields = Object.entries(error.fields ?? {}).map(([name, value]) => el(name, value));
  return {
    status: error.status,
    headers: { ...s3Headers(requestId, "application/xml"), ...error.headers },
    body:
      `<?xml version="1.0" encoding="UTF-8"?>\n` +
      `<Error>${el("Code", error.code)}${el("Message", error.message)}${fields.join("")}${el("RequestId", requestId)}${el("HostId", hostIdOf(requestId))}</Error>`,
  };
}
