/**
 * The caller with the REAL LambdaClient middleware stack: only the HTTP layer is
 * fake (see fakeLambdaHttp), so credential resolution, signing, the standard retry
 * strategy and Lambda's error parsing all run for real.
 *
 * Note on mocking STS: fromTemporaryCredentials builds its STS client from
 * @aws-sdk/nested-clients/sts, a different class from @aws-sdk/client-sts's
 * STSClient, so mockClient() has to target that class to intercept AssumeRole.
 */
import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/nested-clients/sts";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { parseCallerConfig } from "../../lambda-src/caller/config";
import type { CallerFailure, CallerResult } from "../../lambda-src/caller/contract";
import { createCallerHandler } from "../../lambda-src/caller/handler";
import {
  CALLEE_ACCOUNT,
  EXTERNAL_ID,
  ROLE_ARN,
  captureLogs,
  fakeContext,
  fakeLambdaHttp,
  hangUntilAborted,
  lambdaError,
  sentPayload,
  validEnv,
  type CapturedLogs,
  type FakeLambdaHttp,
  type Responder,
} from "./helpers";

const ok: Responder = () => ({ statusCode: 200, body: JSON.stringify({ ok: true }) });

function handlerWith(http: FakeLambdaHttp, env = validEnv()) {
  return createCallerHandler(parseCallerConfig(env), { lambdaClientConfig: { requestHandler: http.requestHandler } });
}

function failure(result: CallerResult): CallerFailure["error"] {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

let logs: CapturedLogs;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
  jest.restoreAllMocks();
});

const mockSts = () => mockClient(STSClient);

describe("with STS mocked (aws-sdk-client-mock)", () => {
  let sts: ReturnType<typeof mockSts>;
  const sessionCredentials = () => ({
    AccessKeyId: "ASIAASSUMEDROLE",
    SecretAccessKey: "assumed-secret",
    SessionToken: "assumed-session-token",
    Expiration: new Date(Date.now() + 3600_000),
  });

  beforeEach(() => {
    sts = mockSts();
    sts.on(AssumeRoleCommand).callsFake(async () => ({ Credentials: sessionCredentials(), $metadata: { requestId: "sts-ok" } }));
  });
  afterEach(() => sts.restore());

  it("assumes the role ONCE across 5 warm invocations and signs Invoke with the session", async () => {
    const http = fakeLambdaHttp(ok);
    const handler = handlerWith(http);
    for (let i = 0; i < 5; i++) {
      const result = await handler({ correlationId: `warm-${i}` }, fakeContext());
      expect(result.ok).toBe(true);
    }

    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(http.requests).toHaveLength(5);
    for (const request of http.requests) {
      // The callee's region, and the assumed role's keys, not the caller's own.
      expect(request.hostname).toBe("lambda.eu-central-1.amazonaws.com");
      expect(request.headers.authorization).toContain("Credential=ASIAASSUMEDROLE/");
      expect(request.headers["x-amz-security-token"]).toBe("assumed-session-token");
    }
    expect(http.requests.map((r) => sentPayload(r.body).correlationId)).toEqual(["warm-0", "warm-1", "warm-2", "warm-3", "warm-4"]);
  });

  it("sends RoleArn, RoleSessionName and DurationSeconds, and no ExternalId unless configured", async () => {
    await handlerWith(fakeLambdaHttp(ok), validEnv({ AWS_LAMBDA_FUNCTION_NAME: "my caller/fn" }))({}, fakeContext());
    const input = sts.commandCalls(AssumeRoleCommand)[0].args[0].input;
    expect(input).toEqual({ RoleArn: ROLE_ARN, RoleSessionName: "my-caller-fn", DurationSeconds: 3600 });
    expect(input).not.toHaveProperty("ExternalId");
  });

  it("passes the ExternalId to AssumeRole and never logs it", async () => {
    const previous = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
    try {
      const handler = handlerWith(fakeLambdaHttp(ok), validEnv({ INVOKER_EXTERNAL_ID: EXTERNAL_ID }));
      await handler({ correlationId: "with-external-id" }, fakeContext());
      expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: ROLE_ARN, ExternalId: EXTERNAL_ID });
      expect(logs.entries().some((e) => e.correlationId === "with-external-id")).toBe(true);
      expect(logs.text()).not.toContain(EXTERNAL_ID);
      expect(logs.text()).not.toContain("assumed-secret");
      expect(logs.text()).not.toContain("assumed-session-token");
    } finally {
      if (previous === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = previous;
    }
  });

  it("refreshes the session only once it is within 5 minutes of expiry", async () => {
    const handler = handlerWith(fakeLambdaHttp(ok));
    await handler({}, fakeContext());
    await handler({}, fakeContext());
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);

    const realNow = Date.now();
    jest.spyOn(Date, "now").mockReturnValue(realNow + 56 * 60_000); // 4 minutes before expiry
    await handler({}, fakeContext());
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("ASSUME_ROLE_DENIED when STS refuses, without calling Lambda; a later invocation retries STS", async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(
        new STSServiceException({
          name: "AccessDenied",
          $fault: "client",
          $metadata: { httpStatusCode: 403, requestId: "sts-denied-1" },
          message: `User: arn:aws:sts::111111111111:assumed-role/caller/caller is not authorized to perform: sts:AssumeRole on resource: ${ROLE_ARN}`,
        }),
      )
      .callsFake(async () => ({ Credentials: sessionCredentials(), $metadata: { requestId: "sts-ok" } }));
    const http = fakeLambdaHttp(ok);
    const handler = handlerWith(http);
    const context = fakeContext();

    const error = failure(await handler({}, context));
    expect(error).toMatchObject({
      code: "ASSUME_ROLE_DENIED",
      retryable: false,
      requestIds: { caller: context.awsRequestId, sts: "sts-denied-1" },
    });
    expect(error.requestIds.callee).toBeUndefined();
    expect(http.requests).toHaveLength(0);
    expect(logs.entries()[0]).toMatchObject({ code: "ASSUME_ROLE_DENIED", sdkErrorName: "StsCredentialError(AccessDenied)" });

    // Failures are not cached: once the trust policy is fixed the same container recovers.
    expect(await handler({}, fakeContext())).toMatchObject({ ok: true });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  // A ServiceException may come after the callee ran: re-sent only to an idempotent callee, and INVOKE_OUTCOME_UNKNOWN
  // (it was INVOKE_FAILED, and re-sent to any callee, before "Never twice by accident").
  it("with CALLEE_IDEMPOTENT=true, bounds retries of a 5xx to INVOKE_MAX_ATTEMPTS and reports INVOKE_OUTCOME_UNKNOWN", async () => {
    const http = fakeLambdaHttp(() => lambdaError(500, "ServiceException", "internal"));
    const error = failure(await handlerWith(http, validEnv({ INVOKE_MAX_ATTEMPTS: "3", CALLEE_IDEMPOTENT: "true" }))({}, fakeContext()));
    expect(http.requests).toHaveLength(3);
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: true });
    expect(error.message).toContain("ServiceException (HTTP 500, 3 attempt(s))");
  });

  it("without CALLEE_IDEMPOTENT, sends a 5xx ServiceException once and reports INVOKE_OUTCOME_UNKNOWN, not retryable", async () => {
    const http = fakeLambdaHttp(() => lambdaError(500, "ServiceException", "internal"));
    const error = failure(await handlerWith(http, validEnv({ INVOKE_MAX_ATTEMPTS: "3" }))({}, fakeContext()));
    expect(http.requests).toHaveLength(1);
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(error.message).toContain("ServiceException (HTTP 500, 1 attempt(s))");
  });

  it("does not retry at all with INVOKE_MAX_ATTEMPTS=1", async () => {
    const http = fakeLambdaHttp(() => lambdaError(503, "ServiceException", "unavailable"));
    failure(await handlerWith(http, validEnv({ INVOKE_MAX_ATTEMPTS: "1" }))({}, fakeContext()));
    expect(http.requests).toHaveLength(1);
  });

  it("succeeds when a retry succeeds (CALLEE_IDEMPOTENT=true, since a 500 may come after the callee ran)", async () => {
    const http = fakeLambdaHttp((_req, attempt) => (attempt === 1 ? lambdaError(500, "ServiceException", "blip") : ok(_req, attempt)));
    const result = await handlerWith(http, validEnv({ CALLEE_IDEMPOTENT: "true" }))({}, fakeContext());
    expect(result).toMatchObject({ ok: true, response: { ok: true }, requestIds: { callee: "lambda-req-2" } });
    expect(http.requests).toHaveLength(2);
  });

  it.each([
    ["the event's key", { correlationId: "c-retry", idempotencyKey: "k-retry" }, "k-retry"],
    ["the correlation id (the default)", { correlationId: "c-retry" }, "c-retry"],
  ])("sends the same idempotency key, %s, in the very same bytes on every attempt", async (_label, event, key) => {
    const http = fakeLambdaHttp((req, attempt) =>
      attempt < 3 ? lambdaError(429, "TooManyRequestsException", "Rate exceeded") : ok(req, attempt),
    );
    const result = await handlerWith(http)({ ...event, payload: { operation: "quote" } }, fakeContext());
    expect(result).toMatchObject({ ok: true });
    expect(http.requests).toHaveLength(3);
    expect(http.requests.map((r) => sentPayload(r.body).idempotencyKey)).toEqual([key, key, key]);
    expect(new Set(http.requests.map((r) => r.body)).size).toBe(1);
    // The SDK's own attempt header shows these were retries of one Invoke, not three Invokes.
    expect(http.requests.map((r) => r.headers["amz-sdk-request"])).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    expect(new Set(http.requests.map((r) => r.headers["amz-sdk-invocation-id"])).size).toBe(1);
  });

  it("bounds retries of throttling and reports THROTTLED", async () => {
    const http = fakeLambdaHttp(() => lambdaError(429, "TooManyRequestsException", "Rate exceeded"));
    const error = failure(await handlerWith(http, validEnv({ INVOKE_MAX_ATTEMPTS: "2" }))({}, fakeContext()));
    expect(http.requests).toHaveLength(2);
    expect(error).toMatchObject({ code: "THROTTLED", retryable: true, requestIds: { callee: "lambda-req-2" } });
  });

  it("INVOKE_OUTCOME_UNKNOWN when the SDK call is aborted at the deadline (the request was sent), and no retry follows", async () => {
    const http = fakeLambdaHttp(hangUntilAborted);
    const started = Date.now();
    const error = failure(await handlerWith(http)({}, fakeContext({ remainingMs: 750 })));
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(http.requests).toHaveLength(1);
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(750);
  });

  it("parses Lambda's real error responses", async () => {
    const denied = fakeLambdaHttp(() => lambdaError(403, "AccessDeniedException", "not authorized to perform: lambda:InvokeFunction"));
    expect(failure(await handlerWith(denied)({}, fakeContext()))).toMatchObject({
      code: "INVOKE_DENIED",
      requestIds: { callee: "lambda-req-1" },
    });

    const missing = fakeLambdaHttp(() => lambdaError(404, "ResourceNotFoundException", "Function not found"));
    expect(failure(await handlerWith(missing)({}, fakeContext())).code).toBe("CALLEE_NOT_FOUND");
    expect(missing.requests).toHaveLength(1);

    const crashed = fakeLambdaHttp(() => ({
      statusCode: 200,
      headers: { "x-amz-function-error": "Unhandled" },
      body: JSON.stringify({ errorType: "DemoFailure", errorMessage: "boom", trace: [] }),
    }));
    expect(failure(await handlerWith(crashed)({}, fakeContext()))).toMatchObject({
      code: "CALLEE_ERROR",
      calleeErrorType: "DemoFailure",
      calleeErrorMessage: "boom",
    });
  });

  it("sends Event invocations with the right header and returns 202", async () => {
    const http = fakeLambdaHttp(() => ({ statusCode: 202 }));
    const result = await handlerWith(http)({ invocationType: "Event", payload: { operation: "quote" } }, fakeContext());
    expect(result).toMatchObject({ ok: true, invocationType: "Event", statusCode: 202, response: null });
    expect(http.requests[0].headers["x-amz-invocation-type"]).toBe("Event");
    expect(http.requests[0].path).toContain(encodeURIComponent(`:${CALLEE_ACCOUNT}:function:`));
  });
});

describe("with STS answered over (fake) HTTP", () => {
  // Nothing mocked but the network: checks the real STS error parsing yields the name we map.
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDCALLERBASE";
    process.env.AWS_SECRET_ACCESS_KEY = "caller-base-secret";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  const stsDenied =
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>' +
    "<Message>User: arn:aws:sts::111111111111:assumed-role/caller/caller is not authorized to perform: sts:AssumeRole</Message>" +
    "</Error><RequestId>sts-http-denied</RequestId></ErrorResponse>";

  it("maps a real STS AccessDenied response to ASSUME_ROLE_DENIED with the STS request id", async () => {
    const http = fakeLambdaHttp((req) =>
      req.hostname.startsWith("sts.")
        ? { statusCode: 403, headers: { "content-type": "text/xml", "x-amzn-requestid": "sts-http-denied" }, body: stsDenied }
        : ok(req, 0),
    );
    const error = failure(await handlerWith(http, validEnv({ INVOKER_EXTERNAL_ID: EXTERNAL_ID }))({}, fakeContext()));

    expect(error).toMatchObject({ code: "ASSUME_ROLE_DENIED", requestIds: { sts: "sts-http-denied" } });
    const stsRequests = http.requests.filter((r) => r.hostname === "sts.eu-west-1.amazonaws.com");
    expect(stsRequests).toHaveLength(1);
    expect(stsRequests[0].body).toContain(`ExternalId=${EXTERNAL_ID}`);
    expect(http.requests.filter((r) => r.hostname.startsWith("lambda."))).toHaveLength(0);
    expect(logs.text()).not.toContain(EXTERNAL_ID);
  });
});
