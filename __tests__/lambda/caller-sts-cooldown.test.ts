/**
 * No STS storm: once STS throttles AssumeRole, the caller fails fast (THROTTLED with retryAfterMs) for
 * STS_THROTTLE_COOLDOWN_MS plus jitter instead of calling STS on every invocation, and the STS client
 * inside fromTemporaryCredentials never re-sends a throttled AssumeRole by itself.
 *
 * AssumeRole counts with STS throttling every call, two invocations in a row:
 *
 * | measured with                                      | before | after |
 * |----------------------------------------------------|--------|-------|
 * | aws-sdk-client-mock, AssumeRole commands sent      | 2      | 1     |
 * | fake HTTP, AssumeRole requests on the wire         | 6      | 1     |
 *
 * (aws-sdk-client-mock replaces the STS client's send(), so it cannot see the STS client's own retries:
 * 3 attempts per invocation before, the SDK's default. The fake HTTP layer sees every attempt.)
 */
import { AssumeRoleCommand, STSClient, STSServiceException } from "@aws-sdk/nested-clients/sts";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { parseCallerConfig } from "../../lambda-src/caller/config";
import type { CallerFailure, CallerResult } from "../../lambda-src/caller/contract";
import { cooldownMs, type CooldownClock } from "../../lambda-src/caller/credentials";
import { StsCooldownError, StsCredentialError, toCallerError } from "../../lambda-src/caller/errors";
import { createCallerHandler } from "../../lambda-src/caller/handler";
import { mayResendAssumeRole, STS_MAX_ATTEMPTS } from "../../lambda-src/caller/retry";
import {
  captureLogs,
  fakeContext,
  fakeLambdaHttp,
  validEnv,
  type CapturedLogs,
  type FakeHttpResponse,
  type FakeLambdaHttp,
} from "./helpers";

function failure(result: CallerResult): CallerFailure["error"] {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000, random = 0.5): CooldownClock & { advance(ms: number): void; random: () => number } {
  let t = start;
  return { now: () => t, random: () => random, advance: (ms) => (t += ms) };
}

const ok = (): FakeHttpResponse => ({ statusCode: 200, body: JSON.stringify({ ok: true }) });

let logs: CapturedLogs;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => {
  logs.restore();
  jest.restoreAllMocks();
});

const mockSts = () => mockClient(STSClient);
const throttling = () =>
  new STSServiceException({
    name: "Throttling",
    $fault: "client",
    $metadata: { httpStatusCode: 400, requestId: "sts-throttled" },
    message: "Rate exceeded",
  });
const sessionCredentials = () => ({
  Credentials: { AccessKeyId: "ASIAOK", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date(Date.now() + 3600_000) },
});

describe("with STS mocked (aws-sdk-client-mock)", () => {
  let sts: ReturnType<typeof mockSts>;
  beforeEach(() => {
    sts = mockSts();
  });
  afterEach(() => sts.restore());

  function handlerWith(http: FakeLambdaHttp, clock: CooldownClock, env: Record<string, string> = {}) {
    return createCallerHandler(parseCallerConfig(validEnv(env)), { lambdaClientConfig: { requestHandler: http.requestHandler }, clock });
  }

  it("STS throttling every call, two invocations in a row: ONE AssumeRole (it was two), the second answered from the cooldown", async () => {
    sts.on(AssumeRoleCommand).rejects(throttling());
    const http = fakeLambdaHttp(ok);
    const clock = manualClock(1_000_000, 0.5);
    const handler = handlerWith(http, clock);

    const first = failure(await handler({}, fakeContext()));
    clock.advance(100);
    const second = failure(await handler({}, fakeContext()));

    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(http.requests).toHaveLength(0);
    // Default STS_THROTTLE_COOLDOWN_MS 1000 with random 0.5: 1500 ms.
    expect(first).toMatchObject({ code: "THROTTLED", retryable: true, retryAfterMs: 1500, requestIds: { sts: "sts-throttled" } });
    expect(first.message).toContain("STS throttled AssumeRole (Throttling");
    expect(second).toMatchObject({ code: "THROTTLED", retryable: true, retryAfterMs: 1400 });
    expect(second.requestIds).toEqual({ caller: expect.any(String) });
    expect(second.message).toMatch(/not calling it again for 1400 ms \(STS_THROTTLE_COOLDOWN_MS\); nothing was sent to the callee/);
    const entries = logs.entries();
    expect(entries.map((e) => [e.code, e.sdkErrorName, e.retryAfterMs])).toEqual([
      ["THROTTLED", "StsCredentialError(Throttling)", 1500],
      ["THROTTLED", "StsCooldownError", 1400],
    ]);
  });

  it("calls STS again once the cooldown is over (not a millisecond before), and recovers when STS allows it", async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(throttling()).resolves(sessionCredentials());
    const http = fakeLambdaHttp(ok);
    const clock = manualClock(5_000, 0);
    const handler = handlerWith(http, clock);

    expect(failure(await handler({}, fakeContext()))).toMatchObject({ code: "THROTTLED", retryAfterMs: 1000 });
    clock.advance(999);
    expect(failure(await handler({}, fakeContext()))).toMatchObject({ code: "THROTTLED", retryAfterMs: 1 });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    clock.advance(1);
    expect(await handler({}, fakeContext())).toMatchObject({ ok: true });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(http.requests).toHaveLength(1);
  });

  it("a throttle after the cooldown starts a new one", async () => {
    sts.on(AssumeRoleCommand).rejects(throttling());
    const clock = manualClock(0, 0);
    const handler = handlerWith(fakeLambdaHttp(ok), clock);
    for (let i = 0; i < 3; i++) {
      await handler({}, fakeContext());
      clock.advance(1000);
    }
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
  });

  it.each([
    ["STS_THROTTLE_COOLDOWN_MS=2500, random 0", { STS_THROTTLE_COOLDOWN_MS: "2500" }, 0, 2500],
    ["STS_THROTTLE_COOLDOWN_MS=2500, random 0.999", { STS_THROTTLE_COOLDOWN_MS: "2500" }, 0.999, 4997],
    ["the default, random 0.25", {}, 0.25, 1250],
  ])("the cooldown is base + jitter in [0, base): %s", async (_label, env, random, expected) => {
    sts.on(AssumeRoleCommand).rejects(throttling());
    const handler = handlerWith(fakeLambdaHttp(ok), manualClock(0, random), env);
    expect(failure(await handler({}, fakeContext())).retryAfterMs).toBe(expected);
  });

  it("STS_THROTTLE_COOLDOWN_MS=0 turns the cooldown off: every invocation asks STS, and no retryAfterMs", async () => {
    sts.on(AssumeRoleCommand).rejects(throttling());
    const handler = handlerWith(fakeLambdaHttp(ok), manualClock(), { STS_THROTTLE_COOLDOWN_MS: "0" });
    const first = failure(await handler({}, fakeContext()));
    await handler({}, fakeContext());
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(first).not.toHaveProperty("retryAfterMs");
  });

  it("only throttling starts a cooldown: a denial is asked again on the next invocation", async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(
        new STSServiceException({ name: "AccessDenied", $fault: "client", $metadata: { httpStatusCode: 403 }, message: "not authorized" }),
      )
      .resolves(sessionCredentials());
    const handler = handlerWith(fakeLambdaHttp(ok), manualClock());
    expect(failure(await handler({}, fakeContext()))).toMatchObject({ code: "ASSUME_ROLE_DENIED" });
    expect(await handler({}, fakeContext())).toMatchObject({ ok: true });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it("each container (client) has its own cooldown", async () => {
    sts.on(AssumeRoleCommand).rejects(throttling());
    const clock = manualClock();
    await handlerWith(fakeLambdaHttp(ok), clock)({}, fakeContext());
    await handlerWith(fakeLambdaHttp(ok), clock)({}, fakeContext());
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });
});

describe("with STS answered over (fake) HTTP: every AssumeRole attempt counted", () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDCALLERBASE";
    process.env.AWS_SECRET_ACCESS_KEY = "caller-base-secret";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_MAX_ATTEMPTS;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  const stsError = (status: number, type: "Sender" | "Receiver", code: string, message: string): FakeHttpResponse => ({
    statusCode: status,
    headers: { "content-type": "text/xml", "x-amzn-requestid": `sts-${code}` },
    body:
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code>` +
      `<Message>${message}</Message></Error><RequestId>sts-${code}</RequestId></ErrorResponse>`,
  });
  const stsOk = (): FakeHttpResponse => ({
    statusCode: 200,
    headers: { "content-type": "text/xml" },
    body:
      '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>' +
      `<AccessKeyId>ASIAHTTP</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>${new Date(Date.now() + 3600_000).toISOString()}</Expiration>` +
      "</Credentials><AssumedRoleUser><AssumedRoleId>AROAX:caller</AssumedRoleId><Arn>arn:aws:sts::222222222222:assumed-role/invoker/caller</Arn></AssumedRoleUser>" +
      "</AssumeRoleResult><ResponseMetadata><RequestId>sts-ok</RequestId></ResponseMetadata></AssumeRoleResponse>",
  });
  const stsRequests = (http: FakeLambdaHttp) => http.requests.filter((r) => r.hostname === "sts.eu-west-1.amazonaws.com");
  const handlerWith = (http: FakeLambdaHttp, clock: CooldownClock) =>
    createCallerHandler(parseCallerConfig(validEnv()), { lambdaClientConfig: { requestHandler: http.requestHandler }, clock });

  it("STS throttling every call, two invocations in a row: ONE AssumeRole request on the wire (it was six: 3 attempts each)", async () => {
    const http = fakeLambdaHttp((req) => (req.hostname.startsWith("sts.") ? stsError(400, "Sender", "Throttling", "Rate exceeded") : ok()));
    const clock = manualClock();
    const handler = handlerWith(http, clock);
    const first = failure(await handler({}, fakeContext()));
    clock.advance(10);
    const second = failure(await handler({}, fakeContext()));

    expect(stsRequests(http)).toHaveLength(1);
    expect(http.requests.filter((r) => r.hostname.startsWith("lambda."))).toHaveLength(0);
    // One invocation does not retry a throttled AssumeRole by itself: 1 attempt, and the cooldown paces the rest.
    expect(first).toMatchObject({
      code: "THROTTLED",
      retryAfterMs: 1500,
      message: "STS throttled AssumeRole (Throttling after 1 attempt(s)): Rate exceeded",
    });
    expect(second).toMatchObject({ code: "THROTTLED", retryAfterMs: 1490 });
  });

  it.each([
    ["a 500 InternalFailure", () => stsError(500, "Receiver", "InternalFailure", "internal")],
    [
      "a connection reset",
      () => {
        throw Object.assign(new Error("read ECONNRESET"), { name: "TimeoutError", code: "ECONNRESET", syscall: "read" });
      },
    ],
  ])(
    "a blip that is not throttling (%s) gets one more AssumeRole attempt (STS_MAX_ATTEMPTS = 2), then the Invoke",
    async (_label, blip) => {
      let stsSeen = 0;
      const http = fakeLambdaHttp((req) => {
        if (!req.hostname.startsWith("sts.")) return ok();
        stsSeen += 1;
        return stsSeen === 1 ? blip() : stsOk();
      });
      const result = await handlerWith(http, manualClock())({}, fakeContext());
      expect(result).toMatchObject({ ok: true });
      expect(stsRequests(http)).toHaveLength(STS_MAX_ATTEMPTS);
      expect(http.requests.at(-1)?.headers.authorization).toContain("Credential=ASIAHTTP/");
    },
  );

  it("a blip that outlasts both attempts fails this invocation (INVOKE_FAILED) without a cooldown", async () => {
    const http = fakeLambdaHttp((req) =>
      req.hostname.startsWith("sts.") ? stsError(500, "Receiver", "InternalFailure", "internal") : ok(),
    );
    const handler = handlerWith(http, manualClock());
    expect(failure(await handler({}, fakeContext()))).toMatchObject({ code: "INVOKE_FAILED" });
    await handler({}, fakeContext());
    expect(stsRequests(http)).toHaveLength(2 * STS_MAX_ATTEMPTS);
  });
});

describe("the pieces", () => {
  it.each([
    [1000, 0, 1000],
    [1000, 0.5, 1500],
    [1000, 0.9999, 1999],
    [1000, -1, 1000],
    [1000, 7, 2000],
    [0, 0.5, 0],
  ])("cooldownMs(%d, random %d) = %d", (base, random, expected) => {
    expect(cooldownMs(base, random)).toBe(expected);
  });

  it.each([
    ["THROTTLING", false],
    ["TRANSIENT", true],
    ["SERVER_ERROR", true],
    ["CLIENT_ERROR", true],
  ] as const)(
    "the STS client may re-send AssumeRole after %s: %s (the standard strategy still drops what it never retries)",
    (type, expected) => {
      expect(mayResendAssumeRole(new Error("x"), type)).toBe(expected);
    },
  );

  it("maps the cooldown to THROTTLED with retryAfterMs and no STS request id, before anything else", () => {
    expect(toCallerError(new StsCooldownError(1234), { callerRequestId: "c", aborted: true })).toEqual({
      code: "THROTTLED",
      message:
        "STS throttled AssumeRole moments ago; not calling it again for 1234 ms (STS_THROTTLE_COOLDOWN_MS); nothing was sent to the callee",
      retryable: true,
      retryAfterMs: 1234,
      requestIds: { caller: "c" },
    });
    const throttled = new StsCredentialError(throttling());
    expect(toCallerError(throttled, { callerRequestId: "c" })).not.toHaveProperty("retryAfterMs");
    throttled.retryAfterMs = 1500;
    expect(toCallerError(throttled, { callerRequestId: "c" })).toMatchObject({ code: "THROTTLED", retryAfterMs: 1500 });
  });
});
