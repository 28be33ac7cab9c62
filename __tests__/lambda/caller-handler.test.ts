/**
 * The caller's handler with LambdaClient mocked by aws-sdk-client-mock. mockClient
 * replaces send() itself, so these tests cover the envelope, error mapping,
 * correlation ids and logging; credential resolution and retries (which live
 * inside send) are covered in caller-wire.test.ts.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { parseCallerConfig } from "../../lambda-src/caller/config";
import type { CallerFailure, CallerResult, CallerSuccess } from "../../lambda-src/caller/contract";
import { StsCredentialError } from "../../lambda-src/caller/errors";
import { createCallerHandler, createCallerLogger } from "../../lambda-src/caller/handler";
import { CALLEE_ARN, EXTERNAL_ID, captureLogs, fakeContext, payloadOf, sentPayload, validEnv, type CapturedLogs } from "./helpers";

const lambdaMock = mockClient(LambdaClient);
let logs: CapturedLogs;

beforeEach(() => {
  lambdaMock.reset();
  logs = captureLogs();
});
afterEach(() => logs.restore());
afterAll(() => lambdaMock.restore());

function newHandler(env = validEnv()) {
  return createCallerHandler(parseCallerConfig(env));
}

function expectFailure(result: CallerResult): CallerFailure {
  expect(result.ok).toBe(false);
  return result as CallerFailure;
}

function expectSuccess(result: CallerResult): CallerSuccess {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result;
}

/** Shaped like an AWS SDK v3 service exception. */
function sdkError(name: string, status: number, requestId = "lam-err-1"): Error {
  return Object.assign(new Error(`${name} from Lambda`), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId, attempts: 1 },
  });
}

describe("caller handler: success", () => {
  it("invokes RequestResponse by default and returns the parsed answer", async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: payloadOf({ ok: true, result: { totalCents: 42 } }),
      $metadata: { requestId: "lam-req-1" },
    });
    const context = fakeContext();
    const result = expectSuccess(await newHandler()({ correlationId: "corr-1", payload: { operation: "quote" } }, context));

    expect(result).toEqual({
      ok: true,
      correlationId: "corr-1",
      invocationType: "RequestResponse",
      statusCode: 200,
      response: { ok: true, result: { totalCents: 42 } },
      requestIds: { caller: context.awsRequestId, callee: "lam-req-1" },
    });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const input = lambdaMock.commandCalls(InvokeCommand)[0].args[0].input;
    expect(input.FunctionName).toBe(CALLEE_ARN);
    expect(input.InvocationType).toBe("RequestResponse");
    expect(sentPayload(input.Payload)).toEqual({ operation: "quote", correlationId: "corr-1", idempotencyKey: "corr-1" });
  });

  it("sends InvocationType Event when asked and returns 202 with a null response", async () => {
    lambdaMock.on(InvokeCommand, { InvocationType: "Event" }).resolves({ StatusCode: 202, $metadata: { requestId: "lam-async" } });
    const result = expectSuccess(await newHandler()({ invocationType: "Event", payload: { operation: "quote" } }, fakeContext()));

    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, { InvocationType: "Event" });
    expect(result).toMatchObject({
      ok: true,
      invocationType: "Event",
      statusCode: 202,
      response: null,
      requestIds: { callee: "lam-async" },
    });
  });

  it("falls back to the caller's awsRequestId as correlation id and sends it to the callee", async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payloadOf({}), $metadata: {} });
    const context = fakeContext({ awsRequestId: "aws-req-fallback" });
    const result = await newHandler()({ payload: { a: 1 } }, context);

    expect(result.correlationId).toBe("aws-req-fallback");
    expect(sentPayload(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload)).toEqual({
      a: 1,
      correlationId: "aws-req-fallback",
      idempotencyKey: "aws-req-fallback",
    });
  });

  it.each([
    ["the event's idempotencyKey", { correlationId: "corr-k", idempotencyKey: "order-42-quote" }, "aws-req-k", "order-42-quote"],
    ["the correlation id when the event has no key", { correlationId: "corr-k" }, "aws-req-k", "corr-k"],
    ["the caller's awsRequestId when the event has neither", {}, "aws-req-k", "aws-req-k"],
  ])("sends %s as the idempotency key and logs it", async (_label, event, awsRequestId, key) => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payloadOf({}), $metadata: {} });
    await newHandler()({ ...event, payload: { idempotencyKey: "spoofed" } }, fakeContext({ awsRequestId }));
    expect(sentPayload(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input.Payload).idempotencyKey).toBe(key);
    expect(logs.entries()[0]).toMatchObject({ outcome: "success", idempotencyKey: key });
  });

  it("BAD_REQUEST for an invalid idempotency key, without calling the callee", async () => {
    const result = expectFailure(await newHandler()({ correlationId: "c-k", idempotencyKey: "" }, fakeContext()));
    expect(result.correlationId).toBe("c-k");
    expect(result.error).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "idempotencyKey" }] });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });

  it("passes an abort signal to send", async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payloadOf({}), $metadata: {} });
    await newHandler()({}, fakeContext());
    // The stub's typing only knows send(command); the SDK also passes (command, options).
    const args: unknown[] = lambdaMock.send.firstCall.args;
    const options = args[1] as { abortSignal?: AbortSignal } | undefined;
    expect(options?.abortSignal).toBeInstanceOf(AbortSignal);
    expect(options?.abortSignal?.aborted).toBe(false);
  });
});

describe("caller handler: every error code", () => {
  it("BAD_REQUEST lists the bad fields and does not call the callee", async () => {
    const context = fakeContext();
    const result = expectFailure(await newHandler()({ correlationId: "c-bad", invocationType: "Later", payload: "x", typo: 1 }, context));

    expect(result.correlationId).toBe("c-bad");
    expect(result.error).toMatchObject({ code: "BAD_REQUEST", retryable: false, requestIds: { caller: context.awsRequestId } });
    expect(result.error.issues?.map((i) => i.path).sort()).toEqual(["invocationType", "payload", "typo"]);
    expect(result.error.message).toMatch(/invocationType.*payload.*typo/);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });

  it("ASSUME_ROLE_DENIED when the credential provider reports an STS AccessDenied", async () => {
    const stsError = Object.assign(new Error("not authorized to perform: sts:AssumeRole"), {
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403, requestId: "sts-req-1" },
    });
    lambdaMock.on(InvokeCommand).rejects(new StsCredentialError(stsError));
    const result = expectFailure(await newHandler()({}, fakeContext()));
    expect(result.error).toMatchObject({ code: "ASSUME_ROLE_DENIED", retryable: false, requestIds: { sts: "sts-req-1" } });
  });

  it("INVOKE_DENIED on AccessDeniedException", async () => {
    lambdaMock.on(InvokeCommand).rejects(sdkError("AccessDeniedException", 403, "lam-denied"));
    const result = expectFailure(await newHandler()({}, fakeContext()));
    expect(result.error).toMatchObject({ code: "INVOKE_DENIED", retryable: false, requestIds: { callee: "lam-denied" } });
  });

  it("CALLEE_NOT_FOUND on ResourceNotFoundException", async () => {
    lambdaMock.on(InvokeCommand).rejects(sdkError("ResourceNotFoundException", 404));
    expect(expectFailure(await newHandler()({}, fakeContext())).error).toMatchObject({ code: "CALLEE_NOT_FOUND", retryable: false });
  });

  it("CALLEE_ERROR with the callee's errorType and errorMessage", async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: payloadOf({ errorType: "DemoFailure", errorMessage: 'Deliberate failure requested with operation "fail"', trace: [] }),
      $metadata: { requestId: "lam-fe" },
    });
    const result = expectFailure(await newHandler()({ payload: { operation: "fail" } }, fakeContext()));
    expect(result.error).toMatchObject({
      code: "CALLEE_ERROR",
      retryable: false,
      calleeErrorType: "DemoFailure",
      calleeErrorMessage: 'Deliberate failure requested with operation "fail"',
      requestIds: { callee: "lam-fe" },
    });
  });

  it("CALLEE_TIMEOUT when the callee itself timed out (FunctionError)", async () => {
    lambdaMock.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: payloadOf({ errorType: "Sandbox.Timedout", errorMessage: "RequestId: x Error: Task timed out after 3.00 seconds" }),
      $metadata: { requestId: "lam-to" },
    });
    const result = expectFailure(await newHandler()({}, fakeContext()));
    expect(result.error).toMatchObject({ code: "CALLEE_TIMEOUT", retryable: true, calleeErrorType: "Sandbox.Timedout" });
  });

  it("INVOKE_OUTCOME_UNKNOWN when our deadline fires before the caller runs out of time (the callee may be running)", async () => {
    lambdaMock.on(InvokeCommand).callsFake(() => new Promise(() => undefined)); // never answers
    const started = Date.now();
    const result = expectFailure(await newHandler()({}, fakeContext({ remainingMs: 800 })));
    const elapsed = Date.now() - started;

    expect(result.error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(result.error.message).toContain("within 300 ms");
    // 800 ms left minus the 500 ms safety margin: abort at ~300 ms, well before 800.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(700);
  });

  it.each(["TooManyRequestsException", "ThrottlingException", "EC2ThrottledException"])("THROTTLED on %s", async (name) => {
    lambdaMock.on(InvokeCommand).rejects(sdkError(name, 429));
    expect(expectFailure(await newHandler()({}, fakeContext())).error).toMatchObject({ code: "THROTTLED", retryable: true });
  });

  it("BAD_RESPONSE when the callee's payload is not JSON", async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payloadOf("<html>"), $metadata: {} });
    expect(expectFailure(await newHandler()({}, fakeContext())).error).toMatchObject({ code: "BAD_RESPONSE", retryable: false });
  });

  it("BAD_RESPONSE when a RequestResponse answer has no payload", async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, $metadata: {} });
    expect(expectFailure(await newHandler()({}, fakeContext())).error.code).toBe("BAD_RESPONSE");
  });

  // ServiceException used to be the example here; it is INVOKE_OUTCOME_UNKNOWN now (see below).
  it("INVOKE_FAILED on anything else, naming the SDK error", async () => {
    lambdaMock.on(InvokeCommand).rejects(sdkError("KMSAccessDeniedException", 502));
    const result = expectFailure(await newHandler()({}, fakeContext()));
    expect(result.error).toMatchObject({ code: "INVOKE_FAILED", retryable: true });
    expect(result.error.message).toContain("KMSAccessDeniedException");
  });

  it.each([
    ["false (the default)", {}, false],
    ["true", { CALLEE_IDEMPOTENT: "true" }, true],
  ])("INVOKE_OUTCOME_UNKNOWN on ServiceException, retryable only with CALLEE_IDEMPOTENT %s", async (_label, env, retryable) => {
    lambdaMock.on(InvokeCommand).rejects(sdkError("ServiceException", 500, "lam-500"));
    const result = expectFailure(await newHandler(validEnv(env))({}, fakeContext()));
    expect(result.error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable, requestIds: { callee: "lam-500" } });
    expect(result.error.message).toContain("ServiceException");
    expect(logs.entries()[0]).toMatchObject({ level: "ERROR", code: "INVOKE_OUTCOME_UNKNOWN", retryable });
  });
});

describe("caller handler: logging", () => {
  it("logs exactly one structured line per invocation with outcome, code, duration, ARN and request ids", async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payloadOf({}), $metadata: { requestId: "lam-ok" } })
      .rejectsOnce(sdkError("ResourceNotFoundException", 404, "lam-404"));
    const handler = newHandler();
    const first = fakeContext();
    const second = fakeContext();
    await handler({ correlationId: "first" }, first);
    await handler({ correlationId: "second" }, second);

    const entries = logs.entries();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      level: "INFO",
      correlationId: "first",
      outcome: "success",
      calleeFunctionArn: CALLEE_ARN,
      requestIds: { caller: first.awsRequestId, callee: "lam-ok" },
      function_request_id: first.awsRequestId,
    });
    expect(typeof entries[0].durationMs).toBe("number");
    expect(entries[1]).toMatchObject({
      level: "WARN",
      correlationId: "second",
      outcome: "failure",
      code: "CALLEE_NOT_FOUND",
      requestIds: { caller: second.awsRequestId, callee: "lam-404" },
    });
  });

  it("resets the correlation id between invocations", async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payloadOf({}), $metadata: {} });
    const logger = createCallerLogger();
    const handler = createCallerHandler(parseCallerConfig(validEnv()), { logger });
    await handler({ correlationId: "only-first" }, fakeContext());
    logger.info("between invocations");
    await handler({}, fakeContext({ awsRequestId: "second-req" }));
    const entries = logs.entries();
    expect(entries.map((e) => e.correlationId)).toEqual(["only-first", undefined, "second-req"]);
  });

  it("never logs the external id, even at DEBUG", async () => {
    const previous = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = "DEBUG";
    try {
      lambdaMock
        .on(InvokeCommand)
        .rejectsOnce(sdkError("AccessDeniedException", 403))
        .resolves({ StatusCode: 200, Payload: payloadOf({}), $metadata: {} });
      const handler = newHandler(validEnv({ INVOKER_EXTERNAL_ID: EXTERNAL_ID }));
      await handler({}, fakeContext());
      await handler({ payload: { x: 1 } }, fakeContext());
      const text = logs.text();
      expect(text).toContain("caller initialised"); // the DEBUG config line was really captured
      expect(text).toContain('"externalIdConfigured":true');
      expect(text).not.toContain(EXTERNAL_ID);
    } finally {
      if (previous === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
      else process.env.POWERTOOLS_LOG_LEVEL = previous;
    }
  });
});
