/**
 * The caller's pure pieces: error mapping, output interpretation, event parsing,
 * deadline budget. No AWS client involved.
 */
import { parseCallerEvent, salvageCorrelationId } from "../../lambda-src/caller/contract";
import { CALLER_ERROR_CODES, RETRYABLE_CODES, StsCredentialError, fromFunctionError, toCallerError } from "../../lambda-src/caller/errors";
import { buildInvokeCommand, interpretInvokeOutput, invokeBudgetMs, raceAbort } from "../../lambda-src/caller/invoke";
import { payloadOf, sentPayload } from "./helpers";

const ctx = { callerRequestId: "caller-1" };

/** Shaped like an AWS SDK v3 service exception. */
function sdkError(name: string, extra: { status?: number; requestId?: string; attempts?: number; message?: string } = {}): Error {
  return Object.assign(new Error(extra.message ?? `${name} happened`), {
    name,
    $fault: (extra.status ?? 400) >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: extra.status, requestId: extra.requestId, attempts: extra.attempts },
  });
}

describe("error codes", () => {
  it("exports the stable code list", () => {
    expect([...CALLER_ERROR_CODES].sort()).toEqual(
      [
        "ASSUME_ROLE_DENIED",
        "BAD_REQUEST",
        "BAD_RESPONSE",
        "CALLEE_ERROR",
        "CALLEE_NOT_FOUND",
        "CALLEE_TIMEOUT",
        "INVOKE_DENIED",
        "INVOKE_FAILED",
        "INVOKE_OUTCOME_UNKNOWN",
        "THROTTLED",
      ].sort(),
    );
    expect([...RETRYABLE_CODES].sort()).toEqual(["CALLEE_TIMEOUT", "INVOKE_FAILED", "THROTTLED"]);
  });
});

describe("toCallerError", () => {
  it.each(["AccessDenied", "AccessDeniedException"])("maps STS %s (through the credential wrapper) to ASSUME_ROLE_DENIED", (name) => {
    const err = new StsCredentialError(sdkError(name, { status: 403, requestId: "sts-req-9" }));
    const mapped = toCallerError(err, ctx);
    expect(mapped.code).toBe("ASSUME_ROLE_DENIED");
    expect(mapped.retryable).toBe(false);
    expect(mapped.requestIds).toEqual({ caller: "caller-1", sts: "sts-req-9" });
    expect(mapped.message).toContain("INVOKER_ROLE_ARN");
  });

  it("does not treat an AccessDenied NOT from STS as ASSUME_ROLE_DENIED", () => {
    expect(toCallerError(sdkError("AccessDenied", { status: 403 }), ctx).code).toBe("INVOKE_FAILED");
  });

  it("maps STS throttling to THROTTLED and other STS failures to INVOKE_FAILED", () => {
    expect(toCallerError(new StsCredentialError(sdkError("Throttling", { status: 400 })), ctx).code).toBe("THROTTLED");
    const other = toCallerError(new StsCredentialError(sdkError("RegionDisabledException", { requestId: "sts-2" })), ctx);
    expect(other.code).toBe("INVOKE_FAILED");
    expect(other.message).toContain("RegionDisabledException");
    expect(other.requestIds.sts).toBe("sts-2");
  });

  it("maps Lambda AccessDeniedException to INVOKE_DENIED with the Lambda request id", () => {
    const mapped = toCallerError(sdkError("AccessDeniedException", { status: 403, requestId: "lam-1" }), ctx);
    expect(mapped).toMatchObject({ code: "INVOKE_DENIED", retryable: false, requestIds: { caller: "caller-1", callee: "lam-1" } });
  });

  it("maps ResourceNotFoundException to CALLEE_NOT_FOUND", () => {
    expect(toCallerError(sdkError("ResourceNotFoundException", { status: 404 }), ctx)).toMatchObject({
      code: "CALLEE_NOT_FOUND",
      retryable: false,
    });
  });

  it.each(["TooManyRequestsException", "ThrottlingException", "Throttling", "EC2ThrottledException", "RequestLimitExceeded"])(
    "maps %s to THROTTLED",
    (name) => {
      expect(toCallerError(sdkError(name, { status: 400 }), ctx)).toMatchObject({ code: "THROTTLED", retryable: true });
    },
  );

  it("maps RequestTooLargeException to BAD_REQUEST (not retryable: the payload itself is the problem)", () => {
    expect(toCallerError(sdkError("RequestTooLargeException", { status: 413 }), ctx)).toMatchObject({
      code: "BAD_REQUEST",
      retryable: false,
    });
  });

  it("maps any 429 to THROTTLED and reports attempts", () => {
    const mapped = toCallerError(sdkError("SomethingNew", { status: 429, attempts: 3 }), ctx);
    expect(mapped.code).toBe("THROTTLED");
    expect(mapped.message).toContain("after 3 attempt(s)");
  });

  it("maps our own deadline, whatever the error's shape, to INVOKE_OUTCOME_UNKNOWN: the request was sent, the callee may be running", () => {
    const abort = Object.assign(new Error("Request aborted"), { name: "AbortError" });
    const mapped = toCallerError(abort, { ...ctx, aborted: true, budgetMs: 1234 });
    expect(mapped).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(mapped.message).toContain("1234 ms");
    expect(mapped.message).toContain("may or may not have run");
    // Retryable only when the callee is declared idempotent.
    expect(toCallerError(abort, { ...ctx, aborted: true, calleeIdempotent: true })).toMatchObject({
      code: "INVOKE_OUTCOME_UNKNOWN",
      retryable: true,
      message: expect.stringContaining("sending it again with the same idempotencyKey is safe"),
    });
  });

  it("does not call an abort we did not cause a timeout", () => {
    expect(toCallerError(Object.assign(new Error("x"), { name: "AbortError" }), ctx).code).toBe("INVOKE_FAILED");
  });

  // Since "Never twice by accident": a 5xx that Lambda does not document as "before the function ran" (ServiceException)
  // and a reset after the request was written are INVOKE_OUTCOME_UNKNOWN; a 5xx Lambda documents as before-run and a
  // connection that never opened stay INVOKE_FAILED.
  it("maps 5xx and network errors naming the SDK error: INVOKE_FAILED when the callee cannot have run, else INVOKE_OUTCOME_UNKNOWN", () => {
    const server = toCallerError(sdkError("ServiceException", { status: 500, attempts: 3, requestId: "lam-5" }), ctx);
    expect(server).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false, requestIds: { callee: "lam-5" } });
    expect(server.message).toMatch(/ServiceException \(HTTP 500, 3 attempt\(s\)\)/);
    const notStarted = toCallerError(sdkError("ENILimitReachedException", { status: 502, attempts: 3, requestId: "lam-6" }), ctx);
    expect(notStarted).toMatchObject({ code: "INVOKE_FAILED", retryable: true, requestIds: { callee: "lam-6" } });
    expect(notStarted.message).toMatch(/ENILimitReachedException \(HTTP 502, 3 attempt\(s\)\)/);
    const network = toCallerError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), ctx);
    expect(network.code).toBe("INVOKE_OUTCOME_UNKNOWN");
    expect(network.message).toContain("Error");
    expect(network.message).toContain("socket hang up");
    const refused = toCallerError(
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED", syscall: "connect" }),
      ctx,
    );
    expect(refused).toMatchObject({ code: "INVOKE_FAILED", retryable: true });
  });

  it("names the system error code of a network failure, which the SDK may have renamed TimeoutError", () => {
    // What the SDK's node-http-handler rejects with when the connection is reset, after its retries.
    const reset = Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET", $metadata: { attempts: 3 } });
    const mapped = toCallerError(reset, ctx);
    expect(mapped).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(mapped.message).toBe(
      "Invoke outcome unknown (TimeoutError (ECONNRESET, 3 attempt(s)): socket hang up): the callee may or may not have run; " +
        "not sent again (CALLEE_IDEMPOTENT is not true): retry only if running it twice is harmless, with the same idempotencyKey",
    );
    // The same rename for a refused connection, which never carried the request.
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), {
      name: "TimeoutError",
      code: "ECONNREFUSED",
      syscall: "connect",
      $metadata: { attempts: 3 },
    });
    expect(toCallerError(refused, ctx)).toMatchObject({
      code: "INVOKE_FAILED",
      retryable: true,
      message: "Invoke failed: TimeoutError (ECONNREFUSED, 3 attempt(s)): connect ECONNREFUSED 10.0.0.1:443",
    });
    // Only Node's E... codes: an SDK error's own `code`-like fields are not system codes.
    expect(toCallerError(Object.assign(new Error("x"), { name: "Weird", code: "NotACode" }), ctx).message).toBe("Invoke failed: Weird: x");
  });

  it("says how many attempts the STS client made before STS throttling won", () => {
    const mapped = toCallerError(
      new StsCredentialError(sdkError("Throttling", { status: 400, attempts: 3, message: "Rate exceeded", requestId: "sts-3" })),
      ctx,
    );
    expect(mapped).toMatchObject({ code: "THROTTLED", retryable: true, requestIds: { caller: "caller-1", sts: "sts-3" } });
    expect(mapped.message).toBe("STS throttled AssumeRole (Throttling after 3 attempt(s)): Rate exceeded");
  });

  it("handles non-Error throwables", () => {
    expect(toCallerError("boom", ctx)).toMatchObject({ code: "INVOKE_FAILED", message: expect.stringContaining("boom") });
    expect(toCallerError(undefined, ctx).code).toBe("INVOKE_FAILED");
  });

  it("falls back to the raw x-amzn-RequestId header", () => {
    const err = Object.assign(new Error("x"), { name: "InternalFailure", $response: { headers: { "X-Amzn-RequestId": "hdr-1" } } });
    expect(toCallerError(err, ctx).requestIds.callee).toBe("hdr-1");
  });
});

describe("fromFunctionError", () => {
  const ids = { caller: "c", callee: "l" };

  it("reports the callee's errorType and errorMessage as CALLEE_ERROR", () => {
    const mapped = fromFunctionError("Unhandled", JSON.stringify({ errorType: "DemoFailure", errorMessage: "boom", trace: [] }), ids);
    expect(mapped).toEqual({
      code: "CALLEE_ERROR",
      message: expect.stringContaining("DemoFailure: boom"),
      retryable: false,
      calleeErrorType: "DemoFailure",
      calleeErrorMessage: "boom",
      requestIds: ids,
    });
  });

  it("recognises Sandbox.Timedout and 'Task timed out' as CALLEE_TIMEOUT", () => {
    expect(fromFunctionError("Unhandled", JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage: "x" }), ids).code).toBe(
      "CALLEE_TIMEOUT",
    );
    const byMessage = fromFunctionError(
      "Unhandled",
      JSON.stringify({ errorMessage: "2025-01-01T00:00:00Z abc Task timed out after 3.00 seconds" }),
      ids,
    );
    expect(byMessage).toMatchObject({ code: "CALLEE_TIMEOUT", retryable: true });
  });

  it("makes an idempotent callee's 'already in progress' a retryable CALLEE_ERROR (a retry returns the stored answer); other errors stay final", () => {
    const inProgress = JSON.stringify({
      errorType: "IdempotencyAlreadyInProgressError",
      errorMessage: "There is already an execution in progress",
    });
    expect(fromFunctionError("Unhandled", inProgress, ids)).toMatchObject({
      code: "CALLEE_ERROR",
      retryable: true,
      calleeErrorType: "IdempotencyAlreadyInProgressError",
      message: expect.stringContaining("retry the same request once it has finished"),
    });
    const other = JSON.stringify({ errorType: "IdempotencyPersistenceLayerError", errorMessage: "Failed to put record" });
    expect(fromFunctionError("Unhandled", other, ids).retryable).toBe(false);
  });

  it("still reports CALLEE_ERROR when the error payload is not JSON", () => {
    const mapped = fromFunctionError("Unhandled", "not json", ids);
    expect(mapped.code).toBe("CALLEE_ERROR");
    expect(mapped.calleeErrorType).toBeUndefined();
  });
});

describe("interpretInvokeOutput", () => {
  const meta = { $metadata: { requestId: "lam-7", httpStatusCode: 200 } };

  it("parses the JSON answer of a RequestResponse call", () => {
    expect(interpretInvokeOutput({ ...meta, StatusCode: 200, Payload: payloadOf({ ok: true, n: 1 }) }, "RequestResponse", "c")).toEqual({
      ok: true,
      statusCode: 200,
      response: { ok: true, n: 1 },
      calleeRequestId: "lam-7",
    });
  });

  it("accepts a JSON null answer", () => {
    expect(interpretInvokeOutput({ ...meta, StatusCode: 200, Payload: payloadOf("null") }, "RequestResponse", "c")).toMatchObject({
      ok: true,
      response: null,
    });
  });

  it("returns null response for Event", () => {
    expect(interpretInvokeOutput({ $metadata: { requestId: "lam-8" }, StatusCode: 202 }, "Event", "c")).toEqual({
      ok: true,
      statusCode: 202,
      response: null,
      calleeRequestId: "lam-8",
    });
  });

  it.each([
    ["invalid JSON", payloadOf("{not json"), /not valid JSON/],
    ["an empty payload", payloadOf(""), /no payload/],
    ["no payload", undefined, /no payload/],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]) as ReturnType<typeof payloadOf>, /UTF-8/],
  ])("maps %s to BAD_RESPONSE", (_label, Payload, pattern) => {
    const outcome = interpretInvokeOutput({ ...meta, StatusCode: 200, Payload }, "RequestResponse", "c");
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toMatchObject({ code: "BAD_RESPONSE", retryable: false, requestIds: { caller: "c", callee: "lam-7" } });
    expect(outcome.error.message).toMatch(pattern);
  });

  it("maps FunctionError to CALLEE_ERROR before looking at the payload shape", () => {
    const outcome = interpretInvokeOutput(
      {
        ...meta,
        StatusCode: 200,
        FunctionError: "Unhandled",
        Payload: payloadOf({ errorType: "TypeError", errorMessage: "x is undefined" }),
      },
      "RequestResponse",
      "c",
    );
    expect(outcome).toMatchObject({
      ok: false,
      error: { code: "CALLEE_ERROR", calleeErrorType: "TypeError", calleeErrorMessage: "x is undefined" },
    });
  });
});

describe("parseCallerEvent", () => {
  it("applies defaults", () => {
    expect(parseCallerEvent({})).toEqual({ ok: true, event: { invocationType: "RequestResponse", payload: {} } });
    expect(parseCallerEvent(null)).toEqual({ ok: true, event: { invocationType: "RequestResponse", payload: {} } });
  });

  it("keeps valid fields", () => {
    expect(parseCallerEvent({ correlationId: "c-1", invocationType: "Event", payload: { a: [1] } })).toEqual({
      ok: true,
      event: { correlationId: "c-1", invocationType: "Event", payload: { a: [1] } },
    });
  });

  it("keeps a valid idempotency key, absent by default", () => {
    expect(parseCallerEvent({ correlationId: "c-1", idempotencyKey: "k-1" })).toEqual({
      ok: true,
      event: { correlationId: "c-1", idempotencyKey: "k-1", invocationType: "RequestResponse", payload: {} },
    });
    expect(parseCallerEvent({ correlationId: "c-1" })).not.toHaveProperty("event.idempotencyKey");
    expect(parseCallerEvent({ idempotencyKey: "k".repeat(128) })).toMatchObject({ ok: true, event: { idempotencyKey: "k".repeat(128) } });
  });

  it.each([
    ["empty", ""],
    ["129 characters", "k".repeat(129)],
    ["a number", 7],
    ["null", null],
  ])("rejects an idempotency key that is %s", (_label, idempotencyKey) => {
    expect(parseCallerEvent({ idempotencyKey })).toMatchObject({ ok: false, issues: [{ path: "idempotencyKey" }] });
  });

  it("lists every bad field", () => {
    const parsed = parseCallerEvent({ correlationId: "", invocationType: "DryRun", payload: [1, 2], extra: 1, other: 2 });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.path).sort()).toEqual(["correlationId", "extra", "invocationType", "other", "payload"]);
  });

  it.each([["a string"], [42], [[1]], [true]])("rejects a non-object event %j at the root", (event) => {
    const parsed = parseCallerEvent(event);
    expect(parsed).toMatchObject({ ok: false, issues: [{ path: "(root)" }] });
  });

  it("salvages a valid correlation id from an otherwise bad event", () => {
    expect(salvageCorrelationId({ correlationId: "keep-me", invocationType: 1 })).toBe("keep-me");
    expect(salvageCorrelationId({ correlationId: "x".repeat(200) })).toBeUndefined();
    expect(salvageCorrelationId("nope")).toBeUndefined();
  });
});

describe("buildInvokeCommand", () => {
  it("sends the payload with the correlation id, which wins over one inside the payload", () => {
    const command = buildInvokeCommand("arn:fn", { invocationType: "Event", payload: { a: 1, correlationId: "spoofed" } }, "real");
    expect(command.input.FunctionName).toBe("arn:fn");
    expect(command.input.InvocationType).toBe("Event");
    // The idempotency key defaults to the correlation id.
    expect(sentPayload(command.input.Payload)).toEqual({ a: 1, correlationId: "real", idempotencyKey: "real" });
  });

  it("sends the event's idempotency key, which wins over one inside the payload", () => {
    const event = { idempotencyKey: "key-1", invocationType: "RequestResponse" as const, payload: { a: 1, idempotencyKey: "spoofed" } };
    expect(sentPayload(buildInvokeCommand("arn:fn", event, "corr").input.Payload)).toEqual({
      a: 1,
      correlationId: "corr",
      idempotencyKey: "key-1",
    });
    expect(sentPayload(buildInvokeCommand("arn:fn", event, "corr", "explicit").input.Payload).idempotencyKey).toBe("explicit");
  });
});

describe("invokeBudgetMs", () => {
  it("keeps the safety margin", () => {
    expect(invokeBudgetMs(10_000)).toBe(9_500);
    expect(invokeBudgetMs(10_000, { safetyMarginMs: 2_000, minBudgetMs: 100 })).toBe(8_000);
  });
  it("never goes below the floor", () => {
    expect(invokeBudgetMs(300)).toBe(100);
    expect(invokeBudgetMs(-5)).toBe(100);
  });
  it("copes with a context that cannot tell the remaining time", () => {
    expect(invokeBudgetMs(Number.NaN)).toBe(899_500);
  });
});

describe("raceAbort", () => {
  it("rejects with AbortError when the signal fires first", async () => {
    const controller = new AbortController();
    const never = new Promise<never>(() => undefined);
    setTimeout(() => controller.abort(), 10);
    await expect(raceAbort(never, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
  it("passes through the result and errors of the promise", async () => {
    const signal = new AbortController().signal;
    await expect(raceAbort(Promise.resolve(5), signal)).resolves.toBe(5);
    await expect(raceAbort(Promise.reject(new Error("nope")), signal)).rejects.toThrow("nope");
  });
});
