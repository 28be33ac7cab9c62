/**
 * Verification of AWS Signature Version 4 on requests arriving at the local runtime.
 *
 * The signature is recomputed with the SDK's own signer (`@smithy/signature-v4`) rather than a
 * hand-written canonicaliser: whatever the SDK does to paths, queries and headers when it signs,
 * it does again here, so the two cannot drift apart. The request handed to the signer is built
 * from exactly what the client said it signed (the SignedHeaders list, the raw percent-encoded
 * path, the query, the body) so that nothing the client left out can sneak in.
 *
 * It knows no service: what a service signs differently (S3) comes from its definition, through
 * `SigV4Options.signingRules`, and how a service answers a failure is the service's own.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { fail, ok, type Result } from "./result";

export type SigV4FailureReason =
  | "MissingAuthentication"
  | "IncompleteSignature"
  | "UnknownAccessKey"
  | "InvalidSessionToken"
  | "ExpiredToken"
  | "RequestExpired"
  | "SignatureDoesNotMatch";

export interface IncomingSignedRequest {
  method: string;
  /** Path and query exactly as received (node's `req.url`), still percent-encoded. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface KnownKey {
  secretAccessKey: string;
  /** Present for temporary (ASIA…) keys: the request must carry exactly this token. */
  sessionToken?: string;
  expiration?: Date;
}

/** Who signed, and for which region and service (as the credential scope names them). */
export interface VerifiedScope {
  accessKeyId: string;
  region: string;
  service: string;
  signingDate: Date;
}

/** Why verification failed, and AWS's wording for this request where it has one. */
export interface SigV4Failure {
  reason: SigV4FailureReason;
  message: string;
}

export type SigV4Result = Result<VerifiedScope, SigV4Failure>;

/** How a service's requests are signed, where it departs from standard SigV4. */
export interface SigningRules {
  /**
   * The x-amz-content-sha256 header's value is what is signed (S3): it is required on
   * header-signed requests, and UNSIGNED-PAYLOAD is accepted. Otherwise the service hashes the
   * body itself, and a declared hash (UNSIGNED-PAYLOAD included) must be this body's.
   */
  readonly signsDeclaredPayloadHash: boolean;
  /** The path is normalised and URI-encoded a second time before signing (every service but S3). */
  readonly uriEscapePath: boolean;
}

export const STANDARD_SIGNING: SigningRules = { signsDeclaredPayloadHash: false, uriEscapePath: true };

export interface SigV4Options {
  /** How far x-amz-date may be from `now`, either way. Default 300 (AWS Lambda's window; STS allows 900). */
  maxClockSkewSeconds?: number;
  /** The signing rules of the service a credential scope names; STANDARD_SIGNING when undefined. */
  signingRules?: (signingName: string) => SigningRules | undefined;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const SIGV4A_ALGORITHM = "AWS4-ECDSA-P256-SHA256";
const SCOPE_TERMINATOR = "aws4_request";
const DEFAULT_SKEW_SECONDS = 300;
/** SigV4 presigned URLs may live at most seven days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/** AWS's messages for the failures whose wording does not depend on the request. */
export const MSG_INVALID_TOKEN = "The security token included in the request is invalid.";
export const MSG_EXPIRED_TOKEN = "The security token included in the request is expired";
export const MSG_SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

type SignableRequest = Parameters<SignatureV4["presign"]>[0];

/**
 * SHA-256 / HMAC-SHA-256 for the signer, on node:crypto. The signer constructs it with a key when
 * it wants an HMAC and without one for a plain digest.
 */
export class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const refuse = (reason: SigV4FailureReason, message: string) => fail<SigV4Failure>({ reason, message });

/** Lower-cased header map; repeated headers are joined with "," as SigV4 canonicalisation does. */
function normaliseHeaders(headers: IncomingSignedRequest["headers"]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out.set(name.toLowerCase(), Array.isArray(value) ? value.join(",") : value);
  }
  return out;
}

type QueryMap = Record<string, string | string[]>;

/** Splits the raw URL; undefined when the query is not valid percent-encoding. */
function splitUrl(rawUrl: string): { path: string; query: QueryMap } | undefined {
  const q = rawUrl.indexOf("?");
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q === -1 ? "" : rawUrl.slice(q + 1);
  const query: QueryMap = {};
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    let key: string;
    let value: string;
    try {
      // decodeURIComponent, not URLSearchParams: '+' is a literal plus in SigV4, not a space.
      key = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
      value = eq === -1 ? "" : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined;
    }
    const existing = query[key];
    if (existing === undefined) query[key] = value;
    else query[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return { path: rawPath === "" ? "/" : rawPath, query };
}

function firstQueryValue(query: QueryMap, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses ISO-8601 basic format (20240101T000000Z), the only form SigV4 signs. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== d ? undefined : date;
}

function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

/** Equal-length comparison in constant time; hashing first hides the length too. */
function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb);
}

interface ParsedAuth {
  accessKeyId: string;
  shortDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** Presigned requests only. */
  expiresSeconds?: number;
  token?: string;
}

type ParseOutcome = Result<ParsedAuth, SigV4Failure>;

function parseCredential(credential: string): Result<string[], SigV4Failure> {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts.slice(0, 4).some((p) => p === "")) {
    return refuse(
      "IncompleteSignature",
      `Credential should be of the form <AccessKeyId>/<yyyyMMdd>/<region>/<service>/aws4_request, not '${credential}'.`,
    );
  }
  if (parts[4] !== SCOPE_TERMINATOR) {
    return refuse("IncompleteSignature", `Credential should be scoped with a valid terminator: 'aws4_request', not '${parts[4]}'.`);
  }
  return ok(parts);
}

/** The parsed authorization, wherever it came from (header or presigned query). */
function parsedAuth(
  credential: string,
  fields: { signedHeaders: string; signature: string; amzDate: string; token: string | undefined; expiresSeconds?: number },
): ParseOutcome {
  const parsed = parseCredential(credential);
  if (!parsed.ok) return parsed;
  const [accessKeyId, shortDate, region, service] = parsed.value;
  return ok({
    accessKeyId,
    shortDate,
    region,
    service,
    signedHeaders: fields.signedHeaders.split(";").filter((h) => h !== ""),
    signature: fields.signature,
    amzDate: fields.amzDate,
    ...(fields.token !== undefined ? { token: fields.token } : {}),
    ...(fields.expiresSeconds !== undefined ? { expiresSeconds: fields.expiresSeconds } : {}),
  });
}

function parseAuthorizationHeader(authorization: string, headers: Map<string, string>): ParseOutcome {
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(" ");
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  const rest = space === -1 ? "" : trimmed.slice(space + 1);
  if (algorithm === SIGV4A_ALGORITHM) {
    return refuse("IncompleteSignature", "SigV4a (AWS4-ECDSA-P256-SHA256) signatures are not supported by the local runtime.");
  }
  const fields = new Map<string, string>();
  if (algorithm === ALGORITHM) {
    for (const part of rest.split(",")) {
      const token = part.trim();
      if (token === "") continue;
      const eq = token.indexOf("=");
      if (eq === -1) {
        return refuse(
          "IncompleteSignature",
          `'${token}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'.`,
        );
      }
      fields.set(token.slice(0, eq), token.slice(eq + 1));
    }
  }
  // AWS lists every missing piece at once, then echoes the header.
  const missing: string[] = [];
  for (const name of ["Credential", "Signature", "SignedHeaders"]) {
    if (!fields.get(name)) missing.push(`Authorization header requires '${name}' parameter.`);
  }
  const amzDate = headers.get("x-amz-date");
  if (amzDate === undefined) missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (missing.length > 0) {
    return refuse("IncompleteSignature", `${missing.join(" ")} Authorization=${authorization}`);
  }
  return parsedAuth(fields.get("Credential") ?? "", {
    signedHeaders: fields.get("SignedHeaders") ?? "",
    signature: fields.get("Signature") ?? "",
    amzDate: amzDate ?? "",
    token: headers.get("x-amz-security-token"),
  });
}

function parsePresignedQuery(query: QueryMap): ParseOutcome {
  const required = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"];
  const missing = required.filter((name) => !firstQueryValue(query, name));
  if (missing.length > 0) {
    return refuse(
      "IncompleteSignature",
      `AWS query-string parameters must include ${missing.map((m) => `'${m}'`).join(", ")}. Re-examine the query-string parameters.`,
    );
  }
  const algorithm = firstQueryValue(query, "X-Amz-Algorithm") ?? "";
  if (algorithm !== ALGORITHM) {
    return refuse("IncompleteSignature", `X-Amz-Algorithm only supports "${ALGORITHM}", not "${algorithm}".`);
  }
  const expiresText = firstQueryValue(query, "X-Amz-Expires") ?? "";
  const expiresSeconds = /^\d+$/.test(expiresText) ? Number(expiresText) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGN_SECONDS)) {
    return refuse(
      "IncompleteSignature",
      `X-Amz-Expires must be an integer between 1 and ${MAX_PRESIGN_SECONDS} seconds, not '${expiresText}'.`,
    );
  }
  return parsedAuth(firstQueryValue(query, "X-Amz-Credential") ?? "", {
    signedHeaders: firstQueryValue(query, "X-Amz-SignedHeaders") ?? "",
    signature: firstQueryValue(query, "X-Amz-Signature") ?? "",
    amzDate: firstQueryValue(query, "X-Amz-Date") ?? "",
    token: firstQueryValue(query, "X-Amz-Security-Token"),
    expiresSeconds,
  });
}

/** Checks the request's date against `now`; AWS's own wording, with our window. */
function checkClock(auth: ParsedAuth, signingDate: Date, now: Date, skewSeconds: number): SigV4Result | undefined {
  const windowMs = skewSeconds * 1000;
  const minutes = `${Math.round(skewSeconds / 60)} min.`;
  if (auth.expiresSeconds !== undefined && now.getTime() > signingDate.getTime() + auth.expiresSeconds * 1000) {
    return refuse("RequestExpired", "Request has expired");
  }
  if (auth.expiresSeconds === undefined && signingDate.getTime() < now.getTime() - windowMs) {
    const earliest = formatAmzDate(new Date(now.getTime() - windowMs));
    return refuse(
      "RequestExpired",
      `Signature expired: ${auth.amzDate} is now earlier than ${earliest} (${formatAmzDate(now)} - ${minutes})`,
    );
  }
  if (signingDate.getTime() > now.getTime() + windowMs) {
    const latest = formatAmzDate(new Date(now.getTime() + windowMs));
    return refuse(
      "RequestExpired",
      `Signature not yet current: ${auth.amzDate} is still later than ${latest} (${formatAmzDate(now)} + ${minutes})`,
    );
  }
  return undefined;
}

/** The authorization a request carries, in its header or its presigned query. */
function readAuthorization(headers: Map<string, string>, query: QueryMap): ParseOutcome {
  const authorization = headers.get("authorization");
  if (authorization !== undefined) return parseAuthorizationHeader(authorization, headers);
  if (firstQueryValue(query, "X-Amz-Algorithm") !== undefined) return parsePresignedQuery(query);
  return refuse("MissingAuthentication", "Request is missing Authentication Token");
}

/** The key's secret, when the key exists, carries the token it must, and has not expired. */
function checkKey(auth: ParsedAuth, key: KnownKey | undefined, now: Date): Result<KnownKey, SigV4Failure> {
  if (!key) return refuse("UnknownAccessKey", MSG_INVALID_TOKEN);
  // A temporary key is only half a credential without its token; a long-term key takes none.
  if (
    key.sessionToken === undefined ? auth.token !== undefined : auth.token === undefined || !constantTimeEqual(auth.token, key.sessionToken)
  ) {
    return refuse("InvalidSessionToken", MSG_INVALID_TOKEN);
  }
  if (key.expiration !== undefined && key.expiration.getTime() <= now.getTime()) return refuse("ExpiredToken", MSG_EXPIRED_TOKEN);
  return ok(key);
}

/**
 * The signer would take a client-supplied x-amz-content-sha256 as the payload hash. A service that
 * hashes the body itself needs a declared hash (UNSIGNED-PAYLOAD included) to be this body's; one
 * that signs the declared hash (S3) requires it on header-signed requests, and accepts UNSIGNED-PAYLOAD.
 */
function checkPayloadHash(auth: ParsedAuth, declaredHash: string | undefined, body: Buffer, rules: SigningRules): SigV4Result | undefined {
  if (rules.signsDeclaredPayloadHash && declaredHash === undefined && auth.expiresSeconds === undefined) {
    return refuse("IncompleteSignature", "Missing required header for this request: x-amz-content-sha256");
  }
  const unsignedPayloadAllowed = rules.signsDeclaredPayloadHash && declaredHash === "UNSIGNED-PAYLOAD";
  if (declaredHash !== undefined && !unsignedPayloadAllowed && createHash("sha256").update(body).digest("hex") !== declaredHash) {
    // Not confirmed against AWS for S3, which names this XAmzContentSHA256Mismatch.
    return refuse("SignatureDoesNotMatch", MSG_SIGNATURE_MISMATCH);
  }
  return undefined;
}

/** The signature the SDK's signer computes over exactly what the client said it signed. */
async function expectedSignature(
  request: IncomingSignedRequest,
  signedRequest: { headers: Map<string, string>; url: { path: string; query: QueryMap } },
  auth: ParsedAuth,
  secretAccessKey: string,
  signingDate: Date,
  rules: SigningRules,
): Promise<string> {
  const { headers, url } = signedRequest;
  const signed = new Set(auth.signedHeaders);
  const signableHeaders: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headers.get(name);
    // A signed header that did not arrive simply drops out, and the signature then cannot match.
    if (value !== undefined) signableHeaders[name] = value;
  }
  const toSign: SignableRequest = {
    method: request.method.toUpperCase(),
    protocol: "http:",
    hostname: (headers.get("host") ?? "").replace(/:\d+$/, ""),
    path: url.path,
    query: url.query,
    headers: signableHeaders,
    body: request.body,
  };
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    // No session token here: the signer would add it as a header; the client's own header is signed as-is.
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    sha256: NodeSha256,
    // Never add an x-amz-content-sha256 header the client did not sign.
    applyChecksum: false,
    // S3 alone signs the path as sent, without normalising or encoding it a second time (the SDK's S3 signer does the same).
    uriEscapePath: rules.uriEscapePath,
  });
  const resigned = await signer.sign(toSign, {
    signingDate,
    signingRegion: auth.region,
    signingService: auth.service,
    signableHeaders: signed,
    // The signer always stamps x-amz-date; keep it out unless the client signed it (presigned URLs carry it in the query).
    unsignableHeaders: signed.has("x-amz-date") ? undefined : new Set(["x-amz-date"]),
  });
  return /Signature=([0-9a-f]+)/.exec(String(resigned.headers["authorization"] ?? ""))?.[1] ?? "";
}

/**
 * Verifies the SigV4 signature (Authorization header, or a presigned query string) of `request`.
 * Pure apart from the clock, which `now` replaces; `lookupKey` answers for the access key id.
 * The checks run in AWS's order: the form of the authorization, the key, the clock, the scope's
 * date, the payload hash, the signature.
 */
export async function verifySigV4(
  request: IncomingSignedRequest,
  lookupKey: (accessKeyId: string) => KnownKey | undefined,
  now: Date = new Date(),
  options: SigV4Options = {},
): Promise<SigV4Result> {
  const headers = normaliseHeaders(request.headers);
  const url = splitUrl(request.rawUrl);
  if (!url) return refuse("IncompleteSignature", "The query string is not valid percent-encoding, so it cannot be canonicalised.");
  const parsed = readAuthorization(headers, url.query);
  if (!parsed.ok) return parsed;
  const auth = parsed.value;

  const signingDate = parseAmzDate(auth.amzDate);
  if (!signingDate) {
    return refuse(
      "IncompleteSignature",
      `Date must be in ISO-8601 'basic format'. Got '${auth.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (!auth.signedHeaders.includes("host")) {
    return refuse("IncompleteSignature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const key = checkKey(auth, lookupKey(auth.accessKeyId), now);
  if (!key.ok) return key;
  const clock = checkClock(auth, signingDate, now, options.maxClockSkewSeconds ?? DEFAULT_SKEW_SECONDS);
  if (clock) return clock;
  if (auth.shortDate !== auth.amzDate.slice(0, 8)) {
    return refuse(
      "SignatureDoesNotMatch",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.shortDate}' != '${auth.amzDate.slice(0, 8)}', from '${auth.amzDate}'.`,
    );
  }
  const rules = options.signingRules?.(auth.service) ?? STANDARD_SIGNING;
  const payload = checkPayloadHash(auth, headers.get("x-amz-content-sha256"), request.body, rules);
  if (payload) return payload;

  const expected = await expectedSignature(request, { headers, url }, auth, key.value.secretAccessKey, signingDate, rules);
  if (expected === "" || !constantTimeEqual(expected, auth.signature)) return refuse("SignatureDoesNotMatch", MSG_SIGNATURE_MISMATCH);
  return ok({ accessKeyId: auth.accessKeyId, region: auth.region, service: auth.service, signingDate });
}

/**
 * The service a request says it is signed for, read from its credential scope (Authorization
 * header or presigned X-Amz-Credential) before anything is verified: it only chooses the protocol
 * an early error is written in. undefined when there is no readable scope.
 */
export function claimedSigningName(request: Pick<IncomingSignedRequest, "rawUrl" | "headers">): string | undefined {
  const headers = normaliseHeaders(request.headers);
  let credential = /Credential=([^,\s]+)/.exec(headers.get("authorization") ?? "")?.[1];
  if (credential === undefined) {
    const url = splitUrl(request.rawUrl);
    credential = url ? firstQueryValue(url.query, "X-Amz-Credential") : undefined;
  }
  return credential?.split("/")[3];
}

/** A global service (IAM) is signed for the partition's one signing region, whatever the endpoint's. */
export function globalSigningRegion(partition: string): string {
  switch (partition) {
    case "aws-cn":
      return "cn-north-1";
    case "aws-us-gov":
      return "us-gov-west-1";
    case "aws-iso":
      return "us-iso-east-1";
    case "aws-iso-b":
      return "us-isob-east-1";
    default:
      return "us-east-1";
  }
}
