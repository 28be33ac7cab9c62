/**
 * Property-based tests of the caller's error mapping (lambda-src/caller/errors.ts): every error
 * name the caller can meet maps to the intended stable code, whatever message, metadata,
 * deadline and idempotency context come with it, and nothing thrown can make the mapping itself throw.
 *
 * The exception names of the AWS SDK are enumerated from the installed packages, so an SDK
 * upgrade that adds one fails here until someone decides how the caller reports it.
 */
import * as lambdaSdk from "@aws-sdk/client-lambda";
import * as stsSdk from "@aws-sdk/client-sts";
import * as nestedStsSdk from "@aws-sdk/nested-clients/sts";
import fc from "fast-check";
import { anyJavaScriptValue } from "./arbitraries";
import {
  CALLER_ERROR_CODES,
  RETRYABLE_CODES,
  StsCredentialError,
  fromFunctionError,
  toCallerError,
  type CallerError,
  type CallerErrorCode,
} from "../../lambda-src/caller/errors";

type Ctor = new (opts: { message: string; $metadata: unknown }) => Error;

/** Every class a module exports whose prototype chain includes `base`, by exception name. */
function exceptionClasses(mod: Record<string, unknown>, base: unknown): Map<string, Ctor> {
  const out = new Map<string, Ctor>();
  for (const value of Object.values(mod)) {
    if (typeof value === "function" && typeof base === "function" && value.prototype instanceof base) {
      const name = new (value as Ctor)({ message: "probe", $metadata: {} }).name;
      out.set(name, value as Ctor);
    }
  }
  return out;
}

const LAMBDA_CLASSES = exceptionClasses(lambdaSdk, lambdaSdk.LambdaServiceException);
const STS_CLASSES = new Map([
  ...exceptionClasses(stsSdk, stsSdk.STSServiceException),
  // fromTemporaryCredentials really uses this STS client; its exception list can differ.
  ...exceptionClasses(nestedStsSdk, nestedStsSdk.STSServiceException),
]);

// ---------------------------------------------------------------------------
// The intended mapping, written out by hand from errors.ts and lambda-src/caller/README.md.
// These are the codes for a plain failure: not our own deadline (aborted), and not HTTP 429
// (429 turns INVOKE_FAILED into THROTTLED; the named codes stay).
// ---------------------------------------------------------------------------

/** Every exception class @aws-sdk/client-lambda exports, and how the caller reports it. */
const LAMBDA_EXCEPTION_CODES: Readonly<Record<string, CallerErrorCode>> = {
  AliasLimitExceededException: "INVOKE_FAILED",
  CallbackTimeoutException: "INVOKE_FAILED",
  CapacityProviderLimitExceededException: "INVOKE_FAILED",
  CodeArtifactUserDeletedException: "INVOKE_FAILED",
  CodeArtifactUserFailedException: "INVOKE_FAILED",
  CodeArtifactUserPendingException: "INVOKE_FAILED",
  CodeSigningConfigNotFoundException: "INVOKE_FAILED",
  CodeStorageExceededException: "INVOKE_FAILED",
  CodeVerificationFailedException: "INVOKE_FAILED",
  DurableExecutionAlreadyStartedException: "INVOKE_FAILED",
  EC2AccessDeniedException: "INVOKE_FAILED", // the callee's own execution role, not lambda:InvokeFunction
  EC2ThrottledException: "THROTTLED",
  EC2UnexpectedException: "INVOKE_FAILED",
  EFSIOException: "INVOKE_FAILED",
  EFSMountConnectivityException: "INVOKE_FAILED",
  EFSMountFailureException: "INVOKE_FAILED",
  EFSMountTimeoutException: "INVOKE_FAILED",
  ENILimitReachedException: "INVOKE_FAILED",
  ENINotReadyException: "INVOKE_FAILED",
  FunctionVersionsPerCapacityProviderLimitExceededException: "INVOKE_FAILED",
  InvalidCodeSignatureException: "INVOKE_FAILED",
  InvalidParameterValueException: "INVOKE_FAILED",
  InvalidRequestContentException: "INVOKE_FAILED",
  InvalidRuntimeException: "INVOKE_FAILED",
  InvalidSecurityGroupIDException: "INVOKE_FAILED",
  InvalidSubnetIDException: "INVOKE_FAILED",
  InvalidZipFileException: "INVOKE_FAILED",
  KMSAccessDeniedException: "INVOKE_FAILED", // the callee cannot decrypt its environment
  KMSDisabledException: "INVOKE_FAILED",
  KMSInvalidStateException: "INVOKE_FAILED",
  KMSNotFoundException: "INVOKE_FAILED",
  ModeNotSupportedException: "INVOKE_FAILED",
  NoPublishedVersionException: "INVOKE_FAILED",
  PolicyLengthExceededException: "INVOKE_FAILED",
  PreconditionFailedException: "INVOKE_FAILED",
  ProvisionedConcurrencyConfigNotFoundException: "INVOKE_FAILED",
  PublicPolicyException: "INVOKE_FAILED",
  RecursiveInvocationException: "INVOKE_FAILED",
  RequestTooLargeException: "BAD_REQUEST",
  ResourceConflictException: "INVOKE_FAILED",
  ResourceInUseException: "INVOKE_FAILED",
  ResourceNotFoundException: "CALLEE_NOT_FOUND",
  ResourceNotReadyException: "INVOKE_FAILED",
  S3FilesMountConnectivityException: "INVOKE_FAILED",
  S3FilesMountFailureException: "INVOKE_FAILED",
  S3FilesMountTimeoutException: "INVOKE_FAILED",
  // Invoke's other "payload too large" answer: the payload is the problem, a retry cannot help.
  SerializedRequestEntityTooLargeException: "BAD_REQUEST",
  // "The Lambda service encountered an internal error": nothing says the callee did not run.
  ServiceException: "INVOKE_OUTCOME_UNKNOWN",
  ServiceQuotaExceededException: "INVOKE_FAILED",
  SnapStartException: "INVOKE_FAILED",
  SnapStartNotReadyException: "INVOKE_FAILED",
  SnapStartRegenerationFailureException: "INVOKE_FAILED",
  SnapStartTimeoutException: "INVOKE_FAILED",
  SubnetIPAddressLimitReachedException: "INVOKE_FAILED",
  TooManyRequestsException: "THROTTLED",
  UnsupportedMediaTypeException: "INVOKE_FAILED",
};

/** Every exception class the STS clients export; met only inside StsCredentialError. */
const STS_EXCEPTION_CODES: Readonly<Record<string, CallerErrorCode>> = {
  ExpiredTokenException: "INVOKE_FAILED",
  ExpiredTradeInTokenException: "INVOKE_FAILED",
  IDPCommunicationErrorException: "INVOKE_FAILED",
  IDPRejectedClaimException: "INVOKE_FAILED",
  InvalidAuthorizationMessageException: "INVOKE_FAILED",
  InvalidContextAssertionException: "INVOKE_FAILED",
  InvalidIdentityTokenException: "INVOKE_FAILED",
  JWTPayloadSizeExceededException: "INVOKE_FAILED",
  MalformedPolicyDocumentException: "INVOKE_FAILED",
  OutboundWebIdentityFederationDisabledException: "INVOKE_FAILED",
  PackedPolicyTooLargeException: "INVOKE_FAILED",
  RegionDisabledException: "INVOKE_FAILED",
  SessionDurationEscalationException: "INVOKE_FAILED",
};

/** The throttling names listed in errors.ts, restated. */
const THROTTLING_NAMES = [
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
];

/**
 * Names the caller meets that no service model declares: common AWS errors (returned by every
 * service, so never modeled), the SDK's own errors, and Node's network failures (name "Error",
 * with `code` ECONNRESET etc.), for a Lambda call that failed outside STS.
 */
const UNMODELED_CODES: Readonly<Record<string, CallerErrorCode>> = {
  ...Object.fromEntries(THROTTLING_NAMES.map((n) => [n, "THROTTLED"])),
  AccessDeniedException: "INVOKE_DENIED",
  // "AccessDenied" is STS's spelling; from Lambda it is not an AssumeRole failure.
  AccessDenied: "INVOKE_FAILED",
  // The SDK's retry layer also counts these as throttling; Lambda and STS do not send them, and
  // both codes are retryable, so the caller leaves them to INVOKE_FAILED.
  LimitExceededException: "INVOKE_FAILED",
  TransactionInProgressException: "INVOKE_FAILED",
  TimeoutError: "INVOKE_FAILED", // our deadline not reached: the SDK's own socket/request timeout
  AbortError: "INVOKE_FAILED", // an abort we did not cause
  RequestTimeout: "INVOKE_FAILED",
  RequestTimeoutException: "INVOKE_FAILED",
  NetworkingError: "INVOKE_FAILED",
  Error: "INVOKE_FAILED", // ECONNRESET, ECONNREFUSED, EPIPE, ETIMEDOUT, ENOTFOUND, EAI_AGAIN, ...
  TypeError: "INVOKE_FAILED",
  SyntaxError: "INVOKE_FAILED", // an unparsable error body
  CredentialsProviderError: "INVOKE_FAILED",
  ProviderError: "INVOKE_FAILED",
  InvalidSignatureException: "INVOKE_FAILED",
  IncompleteSignatureException: "INVOKE_FAILED",
  SignatureDoesNotMatch: "INVOKE_FAILED",
  UnrecognizedClientException: "INVOKE_FAILED",
  InvalidClientTokenId: "INVOKE_FAILED",
  MissingAuthenticationTokenException: "INVOKE_FAILED",
  ExpiredToken: "INVOKE_FAILED",
  ExpiredTokenException: "INVOKE_FAILED",
  RequestExpired: "INVOKE_FAILED",
  InternalFailure: "INVOKE_FAILED",
  InternalServerError: "INVOKE_FAILED",
  ServiceUnavailable: "INVOKE_FAILED",
  ServiceUnavailableException: "INVOKE_FAILED",
  UnknownError: "INVOKE_FAILED",
};

/** The same names when they come out of the credential provider (wrapped in StsCredentialError). */
const UNMODELED_STS_CODES: Readonly<Record<string, CallerErrorCode>> = {
  ...Object.fromEntries(Object.keys(UNMODELED_CODES).map((n) => [n, "INVOKE_FAILED"])),
  ...Object.fromEntries(THROTTLING_NAMES.map((n) => [n, "THROTTLED"])),
  AccessDenied: "ASSUME_ROLE_DENIED",
  AccessDeniedException: "ASSUME_ROLE_DENIED",
};

const NODE_NETWORK_CODES = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"];
/**
 * Of those, the ones only a connection being set up raises: the request never left. (Without a `syscall`,
 * EHOSTUNREACH, ENETUNREACH and ETIMEDOUT may come after the request was written, so they count as "may have run".)
 */
const NOT_SENT_NETWORK_CODES = ["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"];

/**
 * The 5xx errors the Invoke API reference documents as Lambda failing to set the function up (before it runs),
 * restated from lambda-src/caller/README.md: every other 5xx may come after the callee ran.
 */
const DOCUMENTED_NOT_STARTED_5XX = [
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
];

/** Known fixed text around a clipped message (1000 chars + "…") and a short name stays below this. */
const MAX_MESSAGE = 1700;
const MAX_TEXT = 1000;
const clip = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}…` : s);

const CALLER_REQUEST_ID = "caller-req-1";

// ---------------------------------------------------------------------------
// Oracles
// ---------------------------------------------------------------------------

const asRecord = (v: unknown) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined);

/** The request id the documentation says a failed call carries: $metadata.requestId, else the x-amzn-RequestId header. */
function expectedRequestId(err: unknown): string | undefined {
  const fromMetadata = asRecord(asRecord(err)?.$metadata)?.requestId;
  if (typeof fromMetadata === "string" && fromMetadata) return fromMetadata;
  const headers = asRecord(asRecord(asRecord(err)?.$response)?.headers);
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === "x-amzn-requestid" && typeof v === "string" && v) return v;
  return undefined;
}

const statusOf = (err: unknown) => asRecord(asRecord(err)?.$metadata)?.httpStatusCode;

/**
 * The README's "may the callee have run?" for a Lambda-side failure that is not throttling: a 5xx not documented as
 * before-run (ServiceException whatever its status), or, with no HTTP status, a network failure after the request
 * was written (a Node code other than the never-sent ones, or the HTTP handler's TimeoutError).
 */
function documentedMayHaveRun(name: string, err: unknown): boolean {
  if (THROTTLING_NAMES.includes(name) || DOCUMENTED_NOT_STARTED_5XX.includes(name)) return false;
  if (name === "ServiceException") return true;
  const status = statusOf(err);
  if (typeof status === "number") return status >= 500;
  const code = asRecord(err)?.code;
  if (typeof code === "string") return !NOT_SENT_NETWORK_CODES.includes(code);
  return name === "TimeoutError";
}

function expectedCode(
  table: Readonly<Record<string, CallerErrorCode>>,
  name: string,
  err: unknown,
  aborted: boolean,
  viaSts: boolean,
): CallerErrorCode {
  // Our own deadline with the request sent: the outcome is unknown, whatever the error looks like.
  if (!viaSts && aborted) return "INVOKE_OUTCOME_UNKNOWN";
  let plain = table[name] ?? "INVOKE_FAILED";
  if (!viaSts && plain === "INVOKE_FAILED" && documentedMayHaveRun(name, err)) plain = "INVOKE_OUTCOME_UNKNOWN";
  // HTTP 429 says "throttled, not run", whatever the name.
  return (plain === "INVOKE_FAILED" || plain === "INVOKE_OUTCOME_UNKNOWN") && statusOf(err) === 429 ? "THROTTLED" : plain;
}

/** Retryable: the fixed set, plus INVOKE_OUTCOME_UNKNOWN exactly when the callee is declared idempotent. */
const expectedRetryable = (code: CallerErrorCode, idempotent: boolean | undefined) =>
  code === "INVOKE_OUTCOME_UNKNOWN" ? idempotent === true : RETRYABLE_CODES.has(code);

function expectWellFormed(mapped: CallerError, expectedIds: Record<string, string>, idempotent?: boolean): void {
  expect(Object.keys(mapped).sort()).toEqual(["code", "message", "requestIds", "retryable"]);
  expect(CALLER_ERROR_CODES).toContain(mapped.code);
  expect(mapped.retryable).toBe(expectedRetryable(mapped.code, idempotent));
  expect(mapped.requestIds).toStrictEqual(expectedIds);
  expect(typeof mapped.message).toBe("string");
  expect(mapped.message.length).toBeGreaterThan(0);
  expect(mapped.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
}

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/**
 * A string of `min..max` characters built by repeating a short random piece: long, yet quick to
 * shrink (a failing 5000-character fc.string() takes minutes to shrink one character at a time).
 */
const longString = (min: number, max: number) =>
  fc
    .tuple(fc.string({ unit: "binary", minLength: 1, maxLength: 8 }), fc.integer({ min, max }))
    .map(([piece, n]) => piece.repeat(Math.ceil(n / piece.length)).slice(0, n));

const message = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }),
  longString(990, 3000),
  fc.constantFrom("", "socket hang up", "Task timed out after 3.00 seconds", "%s %d {}", "\u0000\uffff"),
);

const requestId = fc.oneof(fc.uuid(), fc.constant(""), fc.string({ maxLength: 40 }));

const metadata = fc.oneof(
  {
    arbitrary: fc.record(
      {
        httpStatusCode: fc.oneof(
          fc.constantFrom(200, 400, 403, 404, 413, 429, 500, 502, 503, 504),
          fc.integer({ min: 100, max: 599 }),
          fc.constant("429"),
        ),
        requestId: fc.oneof(requestId, fc.integer(), fc.constant(null)),
        attempts: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant("3"), fc.constant(Number.NaN)),
        cfId: fc.string({ maxLength: 10 }),
        extendedRequestId: fc.string({ maxLength: 10 }),
      },
      { requiredKeys: [] },
    ),
    weight: 8,
  },
  fc.constantFrom(undefined, null, "metadata", 42, []),
);

/** A raw HTTP response with the request id header in any spelling, or nothing. */
const rawResponse = fc.option(
  fc.record({
    statusCode: fc.integer({ min: 100, max: 599 }),
    headers: fc
      .tuple(fc.constantFrom("x-amzn-RequestId", "x-amzn-requestid", "X-AMZN-REQUESTID", "x-amz-request-id"), requestId)
      .map(([k, v]) => ({ [k]: v })),
  }),
  { nil: undefined },
);

const context = fc.record(
  {
    aborted: fc.boolean(),
    calleeIdempotent: fc.boolean(),
    budgetMs: fc.oneof(fc.integer({ min: 0, max: 900_000 }), fc.double(), fc.constant(Number.NaN)),
  },
  { requiredKeys: [] },
);

interface Fields {
  readonly message: string;
  readonly $metadata: unknown;
  readonly $response: unknown;
}

/** An error called `name`, shaped as the SDK or Node would throw it. */
function buildError(name: string, shape: "class" | "service" | "error" | "object", f: Fields, code: string): unknown {
  const cls = LAMBDA_CLASSES.get(name) ?? STS_CLASSES.get(name);
  const extra = { $metadata: f.$metadata, ...(f.$response !== undefined ? { $response: f.$response } : {}) };
  if (shape === "class" && cls) {
    return Object.assign(
      new cls({ message: f.message, $metadata: f.$metadata }),
      f.$response !== undefined ? { $response: f.$response } : {},
    );
  }
  switch (shape) {
    // An unmodeled name comes out of the SDK as the service's base exception.
    case "class":
    case "service":
      return new lambdaSdk.LambdaServiceException({
        name,
        $fault: "client",
        message: f.message,
        $metadata: f.$metadata as never,
        ...(f.$response !== undefined ? { $response: f.$response as never } : {}),
      });
    case "error":
      return Object.assign(new Error(f.message), { name, ...extra, ...(name === "Error" ? { code } : {}) });
    case "object":
      return { name, message: f.message, ...extra };
  }
}

const errorShape = fc.constantFrom("class" as const, "service" as const, "error" as const, "object" as const);
const fields: fc.Arbitrary<Fields> = fc.record({ message, $metadata: metadata, $response: rawResponse });

// ---------------------------------------------------------------------------

describe("the SDK's exception names are all mapped on purpose", () => {
  it("@aws-sdk/client-lambda exports exactly the exceptions the table maps", () => {
    const exported = [...LAMBDA_CLASSES.keys()].sort();
    const mapped = Object.keys(LAMBDA_EXCEPTION_CODES).sort();
    const unmapped = exported.filter((n) => !mapped.includes(n));
    const gone = mapped.filter((n) => !exported.includes(n));
    // An SDK upgrade added or removed an exception: decide its CallerErrorCode in errors.ts
    // (and the caller's README), then record the decision in LAMBDA_EXCEPTION_CODES.
    expect({ unmappedLambdaExceptions: unmapped, noLongerExported: gone }).toEqual({ unmappedLambdaExceptions: [], noLongerExported: [] });
    expect(exported.length).toBeGreaterThan(40);
  });

  it("the STS clients (@aws-sdk/client-sts and the nested one fromTemporaryCredentials uses) export exactly the exceptions the table maps", () => {
    const exported = [...STS_CLASSES.keys()].sort();
    const mapped = Object.keys(STS_EXCEPTION_CODES).sort();
    expect({
      unmappedStsExceptions: exported.filter((n) => !mapped.includes(n)),
      noLongerExported: mapped.filter((n) => !exported.includes(n)),
    }).toEqual({ unmappedStsExceptions: [], noLongerExported: [] });
  });

  it.each(Object.entries(LAMBDA_EXCEPTION_CODES))("Lambda %s maps to %s", (name, code) => {
    const cls = LAMBDA_CLASSES.get(name);
    expect(cls).toBeDefined();
    if (!cls) return;
    const mapped = toCallerError(new cls({ message: "m", $metadata: { httpStatusCode: 400, requestId: "lam-1", attempts: 1 } }), {
      callerRequestId: CALLER_REQUEST_ID,
    });
    expect(mapped).toStrictEqual({
      code,
      message: expect.any(String),
      retryable: RETRYABLE_CODES.has(code),
      requestIds: { caller: CALLER_REQUEST_ID, callee: "lam-1" },
    });
  });

  it.each(Object.entries(STS_EXCEPTION_CODES))("STS %s (from the credential provider) maps to %s", (name, code) => {
    const cls = STS_CLASSES.get(name);
    expect(cls).toBeDefined();
    if (!cls) return;
    const mapped = toCallerError(
      new StsCredentialError(new cls({ message: "m", $metadata: { httpStatusCode: 400, requestId: "sts-1" } })),
      {
        callerRequestId: CALLER_REQUEST_ID,
      },
    );
    expect(mapped).toStrictEqual({
      code,
      message: expect.stringContaining(name),
      retryable: RETRYABLE_CODES.has(code),
      requestIds: { caller: CALLER_REQUEST_ID, sts: "sts-1" },
    });
  });
});

describe("toCallerError (property-based)", () => {
  const lambdaNames = Object.keys({ ...LAMBDA_EXCEPTION_CODES, ...UNMODELED_CODES });
  const stsNames = Object.keys({ ...STS_EXCEPTION_CODES, ...UNMODELED_STS_CODES });

  it("maps every Lambda-side name, with any message, metadata and deadline context, to its intended code, never throwing", () => {
    const table = { ...UNMODELED_CODES, ...LAMBDA_EXCEPTION_CODES };
    fc.assert(
      fc.property(
        fc.constantFrom(...lambdaNames),
        errorShape,
        fields,
        fc.constantFrom(...NODE_NETWORK_CODES),
        context,
        (name, shape, f, code, ctx) => {
          const err = buildError(name, shape, f, code);
          const mapped = toCallerError(err, { callerRequestId: CALLER_REQUEST_ID, ...ctx });
          const expected = expectedCode(table, name, err, ctx.aborted === true, false);
          expect({ name, code: mapped.code }).toEqual({ name, code: expected });
          const callee = expectedRequestId(err);
          expectWellFormed(mapped, { caller: CALLER_REQUEST_ID, ...(callee ? { callee } : {}) }, ctx.calleeIdempotent);
          if (ctx.aborted === true) {
            expect(mapped.message).toContain(`(${name})`);
            if (ctx.budgetMs !== undefined) expect(mapped.message).toContain(`within ${ctx.budgetMs} ms`);
          } else {
            expect(mapped.message).toContain(clip(f.message));
            if (expected === "THROTTLED" || expected === "INVOKE_FAILED" || expected === "INVOKE_OUTCOME_UNKNOWN") {
              expect(mapped.message).toContain(name);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("maps every name met while assuming the role (wrapped in StsCredentialError) to its intended code, whatever the deadline says", () => {
    const table = { ...UNMODELED_STS_CODES, ...STS_EXCEPTION_CODES };
    fc.assert(
      fc.property(
        fc.constantFrom(...stsNames),
        errorShape,
        fields,
        fc.constantFrom(...NODE_NETWORK_CODES),
        context,
        (name, shape, f, code, ctx) => {
          const cause = buildError(name, shape, f, code);
          const mapped = toCallerError(new StsCredentialError(cause), { callerRequestId: CALLER_REQUEST_ID, ...ctx });
          expect({ name, code: mapped.code }).toEqual({ name, code: expectedCode(table, name, cause, ctx.aborted === true, true) });
          const sts = expectedRequestId(cause);
          expectWellFormed(mapped, { caller: CALLER_REQUEST_ID, ...(sts ? { sts } : {}) }, ctx.calleeIdempotent);
          expect(mapped.message).toContain(name);
          expect(mapped.message).toContain(clip(f.message));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("maps anything else thrown (strings, numbers, null, symbols, objects without a name or with odd ones) without throwing", () => {
    const anything = anyJavaScriptValue(3);
    const odd = fc.oneof(
      anything,
      fc.constantFrom<unknown>(undefined, null, 0, -0, Number.NaN, "", Symbol("thrown"), Symbol(), 10n, () => undefined, []),
      fc.constant(null).map(() => Object.create(null) as unknown),
      fc.record(
        {
          name: fc.oneof(fc.string({ maxLength: 100 }), longString(1000, 5000), anything),
          message: fc.oneof(message, anything),
          $metadata: fc.oneof(metadata, anything),
        },
        { requiredKeys: [] },
      ),
      fc.constantFrom<unknown>(
        { toString: 1 },
        { toString: () => ({}) },
        { name: 5 },
        { message: {} },
        { [Symbol.toPrimitive]: () => ({}) },
      ),
    );
    fc.assert(
      fc.property(odd, context, (thrown, ctx) => {
        const mapped = toCallerError(thrown, { callerRequestId: CALLER_REQUEST_ID, ...ctx });
        const callee = expectedRequestId(thrown);
        expectWellFormed(mapped, { caller: CALLER_REQUEST_ID, ...(callee ? { callee } : {}) }, ctx.calleeIdempotent);
        const name = asRecord(thrown)?.name;
        const known = typeof name === "string" && Object.hasOwn({ ...UNMODELED_CODES, ...LAMBDA_EXCEPTION_CODES }, name);
        // A thrown value with a Node-style `code` or `syscall` is judged as a network failure: the properties above cover those.
        const networkish = asRecord(thrown) !== undefined && ("code" in asRecord(thrown)! || "syscall" in asRecord(thrown)!);
        const status = statusOf(thrown);
        if (ctx.aborted) expect(mapped.code).toBe("INVOKE_OUTCOME_UNKNOWN");
        else if (!known && !networkish) {
          expect(mapped.code).toBe(
            status === 429 ? "THROTTLED" : typeof status === "number" && status >= 500 ? "INVOKE_OUTCOME_UNKNOWN" : "INVOKE_FAILED",
          );
        }
        // Wrapped as the credential provider does it, the same values still map.
        const viaSts = toCallerError(new StsCredentialError(thrown), { callerRequestId: CALLER_REQUEST_ID, ...ctx });
        expect(CALLER_ERROR_CODES).toContain(viaSts.code);
        expect(viaSts.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("fromFunctionError (property-based)", () => {
  it("maps any error payload of a FunctionError to CALLEE_ERROR or CALLEE_TIMEOUT, never throwing", () => {
    const payload = fc.oneof(
      fc
        .record(
          {
            errorType: fc.oneof(fc.string(), fc.constantFrom("Sandbox.Timedout", "DemoFailure", "Runtime.ExitError")),
            errorMessage: message,
            trace: fc.array(fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((p) => JSON.stringify(p)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(fc.constantFrom("Unhandled", "Handled", ""), payload, (functionError, text) => {
        const ids = { caller: CALLER_REQUEST_ID, callee: "lam-1" };
        const mapped = fromFunctionError(functionError, text, ids);
        let parsed: Record<string, unknown> | undefined;
        try {
          parsed = asRecord(text ? JSON.parse(text) : undefined);
        } catch {
          parsed = undefined;
        }
        const type = typeof parsed?.errorType === "string" ? parsed.errorType : undefined;
        const msg = typeof parsed?.errorMessage === "string" ? parsed.errorMessage : undefined;
        const timedOut = type === "Sandbox.Timedout" || (msg !== undefined && /Task timed out/.test(clip(msg)));
        expect(mapped).toStrictEqual({
          code: timedOut ? "CALLEE_TIMEOUT" : "CALLEE_ERROR",
          message: expect.any(String),
          retryable: timedOut,
          ...(type !== undefined ? { calleeErrorType: clip(type) } : {}),
          ...(msg !== undefined ? { calleeErrorMessage: clip(msg) } : {}),
          requestIds: ids,
        });
        expect(mapped.message.length).toBeLessThanOrEqual(2 * (MAX_TEXT + 1) + 100);
      }),
      { numRuns: 500 },
    );
  });
});
