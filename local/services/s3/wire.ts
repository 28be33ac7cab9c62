/**
 * S3 wire format for GetBucketPolicy, path-style (GET /<bucket>?policy): the policy document is the
 * whole response body; errors are S3's own XML (<Error><Code>…</Code><Message>…</Message>…</Error>).
 */
import { createHash } from "crypto";
import type { WireError, WireResponse } from "../../wire/response";
import { el } from "../../wire/xml";

export interface S3ErrorSpec extends WireError {
  /** More elements of the error, e.g. BucketName, Region. */
  fields?: Record<string, string>;
  /** More headers, e.g. x-amz-bucket-region on a redirect. */
  headers?: Record<string, string>;
}

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
