/**
 * The caller's retry contract ("Never twice by accident"): the SDK re-sends an Invoke only when the
 * callee cannot have run (throttling, the errors Lambda documents as returned before running the
 * function, a connection that failed before the request was written), or when CALLEE_IDEMPOTENT=true.
 * Everything else that leaves the outcome open is INVOKE_OUTCOME_UNKNOWN, retryable only when idempotent.
 *
 * Three levels: the pure predicate, the real LambdaClient middleware over a fake HTTP layer, and a real
 * local HTTP server (node:http / node:net on 127.0.0.1) that resets, hangs up or stalls after reading the request.
 */
import { execFile } from "node:child_process";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { promisify } from "node:util";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/nested-clients/sts";
import type { RetryErrorInfo, SdkError } from "@smithy/types";
import { mockClient } from "aws-sdk-client-mock";
import { parseCallerConfig } from "../../lambda-src/caller/config";
import type { CallerFailure, CallerResult } from "../../lambda-src/caller/contract";
import { mayHaveRun, toCallerError, type CallerErrorCode } from "../../lambda-src/caller/errors";
import { createCallerHandler } from "../../lambda-src/caller/handler";
import { GuardedRetryStrategy, mayResendInvoke } from "../../lambda-src/caller/retry";
import {
  captureLogs,
  fakeContext,
  fakeLambdaHttp,
  lambdaError,
  sentPayload,
  validEnv,
  type CapturedLogs,
  type FakeHttpResponse,
  type Responder,
} from "./helpers";
import type { RunCallerInput } from "./run-caller";

const execFileAsync = promisify(execFile);
const RUN_CALLER = path.join(__dirname, "run-caller.ts");

function failure(result: CallerResult): CallerFailure["error"] {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result.error;
}

/** An error as Node's http client raises it; the SDK's node-http-handler renames ECONNRESET/ECONNREFUSED/EPIPE/ETIMEDOUT TimeoutError. */
function nodeError(message: string, fields: { code?: string; syscall?: string; name?: string }): Error {
  const renamed = ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"].includes(fields.code ?? "");
  return Object.assign(new Error(message), { ...(renamed ? { name: "TimeoutError" } : {}), ...fields });
}

type Failure = { readonly answer: FakeHttpResponse } | { readonly throws: () => Error };

interface Row {
  readonly label: string;
  readonly failure: Failure;
  /** Re-sent by the SDK to a callee that is NOT declared idempotent. */
  readonly resentAlways: boolean;
  /** Re-sent by the SDK to an idempotent callee (the SDK's own classification then decides). */
  readonly resentIfIdempotent: boolean;
  readonly code: CallerErrorCode;
}

// The retry contract, row by row (lambda-src/caller/README.md, "Retry contract").
const ROWS: readonly Row[] = [
  // Lambda answered, and says the function did not run.
  {
    label: "429 TooManyRequestsException",
    failure: { answer: lambdaError(429, "TooManyRequestsException", "Rate exceeded") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "THROTTLED",
  },
  {
    label: "502 EC2ThrottledException",
    failure: { answer: lambdaError(502, "EC2ThrottledException", "EC2 throttled") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "THROTTLED",
  },
  {
    label: "502 ENILimitReachedException",
    failure: { answer: lambdaError(502, "ENILimitReachedException", "no ENI") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "502 ENINotReadyException",
    failure: { answer: lambdaError(502, "ENINotReadyException", "ENI not ready") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "502 ResourceNotReadyException",
    failure: { answer: lambdaError(502, "ResourceNotReadyException", "inactive") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "502 SubnetIPAddressLimitReachedException",
    failure: { answer: lambdaError(502, "SubnetIPAddressLimitReachedException", "no IPs") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "502 KMSAccessDeniedException (set-up failure: safe, if pointless, to re-send)",
    failure: { answer: lambdaError(502, "KMSAccessDeniedException", "kms") },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  // Lambda answered a refusal the SDK does not retry anyway.
  {
    label: "404 ResourceNotFoundException",
    failure: { answer: lambdaError(404, "ResourceNotFoundException", "no such function") },
    resentAlways: false,
    resentIfIdempotent: false,
    code: "CALLEE_NOT_FOUND",
  },
  // Lambda answered, but nothing says the function did not run.
  {
    label: "500 ServiceException",
    failure: { answer: lambdaError(500, "ServiceException", "internal") },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "503 with an unmodeled error type",
    failure: { answer: lambdaError(503, "ServiceUnavailable", "unavailable") },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "a bare 502 from something in between",
    failure: { answer: { statusCode: 502, body: "<html>Bad Gateway</html>" } },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  // The request never left.
  {
    label: "connection refused",
    failure: { throws: () => nodeError("connect ECONNREFUSED 10.0.0.1:443", { code: "ECONNREFUSED", syscall: "connect" }) },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "DNS failure",
    failure: {
      throws: () => nodeError("getaddrinfo ENOTFOUND lambda.eu-central-1.amazonaws.com", { code: "ENOTFOUND", syscall: "getaddrinfo" }),
    },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "DNS failure, temporary",
    failure: {
      throws: () => nodeError("getaddrinfo EAI_AGAIN lambda.eu-central-1.amazonaws.com", { code: "EAI_AGAIN", syscall: "getaddrinfo" }),
    },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "host unreachable while connecting",
    failure: { throws: () => nodeError("connect EHOSTUNREACH 10.0.0.1:443", { code: "EHOSTUNREACH", syscall: "connect" }) },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "reset while connecting",
    failure: { throws: () => nodeError("connect ECONNRESET 10.0.0.1:443", { code: "ECONNRESET", syscall: "connect" }) },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "closed during the TLS handshake",
    failure: {
      throws: () => nodeError("Client network socket disconnected before secure TLS connection was established", { code: "ECONNRESET" }),
    },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  {
    label: "the SDK's connection timeout",
    failure: {
      throws: () =>
        nodeError(
          "@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 1000 ms.",
          { name: "TimeoutError" },
        ),
    },
    resentAlways: true,
    resentIfIdempotent: true,
    code: "INVOKE_FAILED",
  },
  // A TLS handshake the SDK does not retry (not transient), still a failure before sending.
  {
    label: "TLS: the server does not speak TLS",
    failure: {
      throws: () =>
        nodeError("write EPROTO ...:SSL routines:tls_validate_record_header:wrong version number", { code: "EPROTO", syscall: "write" }),
    },
    resentAlways: false,
    resentIfIdempotent: false,
    code: "INVOKE_FAILED",
  },
  // The request was written: the callee may have run.
  {
    label: "connection reset after the request",
    failure: { throws: () => nodeError("read ECONNRESET", { code: "ECONNRESET", syscall: "read" }) },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "socket hang up",
    failure: { throws: () => nodeError("socket hang up", { code: "ECONNRESET" }) },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "broken pipe while writing",
    failure: { throws: () => nodeError("write EPIPE", { code: "EPIPE", syscall: "write" }) },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "the SDK's requestTimeout",
    failure: {
      throws: () =>
        nodeError("@smithy/node-http-handler - [ERROR] a request has exceeded the configured 3000 ms requestTimeout.", {
          code: "ETIMEDOUT",
          name: "TimeoutError",
        }),
    },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "the SDK's socket inactivity timeout",
    failure: {
      throws: () =>
        nodeError(
          "@smithy/node-http-handler - the request socket timed out after 3000 ms of inactivity (configured by client requestHandler).",
          { name: "TimeoutError" },
        ),
    },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
  {
    label: "host unreachable on an open connection",
    failure: { throws: () => nodeError("read EHOSTUNREACH", { code: "EHOSTUNREACH", syscall: "read" }) },
    resentAlways: false,
    resentIfIdempotent: true,
    code: "INVOKE_OUTCOME_UNKNOWN",
  },
];

let logs: CapturedLogs;
const mockSts = () => mockClient(STSClient);
let sts: ReturnType<typeof mockSts>;
beforeEach(() => {
  logs = captureLogs();
  sts = mockSts();
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: "ASIAX", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date(Date.now() + 3600_000) },
  });
});
afterEach(() => {
  sts.restore();
  logs.restore();
});

describe("the retry contract, SDK failure by SDK failure (real LambdaClient middleware, fake HTTP)", () => {
  const responderFor =
    (failure: Failure): Responder =>
    () => {
      if ("throws" in failure) throw failure.throws();
      return failure.answer;
    };

  describe.each([
    ["not declared idempotent (the default)", false],
    ["CALLEE_IDEMPOTENT=true", true],
  ])("callee %s", (_label, idempotent) => {
    it.each(ROWS.map((row) => [row.label, row] as const))("%s", async (_name, row) => {
      const http = fakeLambdaHttp(responderFor(row.failure));
      const env = validEnv({ INVOKE_MAX_ATTEMPTS: "3", CALLEE_IDEMPOTENT: idempotent ? "true" : "" });
      const handler = createCallerHandler(parseCallerConfig(env), { lambdaClientConfig: { requestHandler: http.requestHandler } });
      const error = failure(await handler({ correlationId: "c-row", payload: { operation: "quote" } }, fakeContext()));

      const resent = idempotent ? row.resentIfIdempotent : row.resentAlways;
      expect({ attempts: http.requests.length, code: error.code }).toEqual({ attempts: resent ? 3 : 1, code: row.code });
      expect(error.retryable).toBe(row.code === "INVOKE_OUTCOME_UNKNOWN" ? idempotent : row.code !== "CALLEE_NOT_FOUND");
      expect(logs.entries().at(-1)).toMatchObject({ code: row.code, attempts: resent ? 3 : 1 });
      // Every attempt carries the same idempotency key.
      expect(new Set(http.requests.map((r) => sentPayload(r.body).idempotencyKey))).toEqual(new Set(["c-row"]));
    });
  });

  it("the predicate behind it agrees with every row", () => {
    for (const row of ROWS) {
      const err =
        "throws" in row.failure
          ? row.failure.throws()
          : Object.assign(new Error("answered"), {
              name: row.failure.answer.headers?.["x-amzn-errortype"] ?? "UnknownError",
              $metadata: { httpStatusCode: row.failure.answer.statusCode },
            });
      const maybeRan = row.code === "INVOKE_OUTCOME_UNKNOWN";
      expect({ row: row.label, mayHaveRun: mayHaveRun(err) }).toEqual({ row: row.label, mayHaveRun: maybeRan });
      expect({ row: row.label, resend: mayResendInvoke(err, false) }).toEqual({ row: row.label, resend: !maybeRan });
      expect(mayResendInvoke(err, true)).toBe(true);
      expect(toCallerError(err, { callerRequestId: "c", calleeIdempotent: false }).retryable).toBe(
        maybeRan ? false : row.code !== "CALLEE_NOT_FOUND",
      );
      expect(toCallerError(err, { callerRequestId: "c", calleeIdempotent: true }).retryable).toBe(row.code !== "CALLEE_NOT_FOUND");
    }
    // No error to judge: only an idempotent callee is re-sent to.
    expect(mayResendInvoke(undefined, false)).toBe(false);
    expect(mayResendInvoke(undefined, true)).toBe(true);
  });
});

describe("GuardedRetryStrategy", () => {
  const transient: RetryErrorInfo = { errorType: "TRANSIENT", error: new Error("x") as SdkError };

  it("needs both the guard's yes and the standard strategy's", async () => {
    const yes = new GuardedRetryStrategy(3, () => true);
    const token = await yes.acquireInitialRetryToken("");
    await expect(yes.refreshRetryTokenForRetry(token, transient)).resolves.toMatchObject({});
    // The standard strategy still refuses what it never retries.
    await expect(yes.refreshRetryTokenForRetry(token, { ...transient, errorType: "CLIENT_ERROR" })).rejects.toThrow(/No retry token/);
    const no = new GuardedRetryStrategy(3, () => false);
    await expect(no.refreshRetryTokenForRetry(await no.acquireInitialRetryToken(""), transient)).rejects.toThrow(/retry contract/);
  });

  it("caps attempts at the configured maximum (INVOKE_MAX_ATTEMPTS)", async () => {
    const strategy = new GuardedRetryStrategy(2, () => true);
    const first = await strategy.acquireInitialRetryToken("");
    const second = await strategy.refreshRetryTokenForRetry(first, transient);
    expect(second.getRetryCount()).toBe(1);
    await expect(strategy.refreshRetryTokenForRetry(second, transient)).rejects.toThrow(/No retry token/);
  });

  it("hands the guard the failed attempt's error and the SDK's classification", async () => {
    const guard = jest.fn(() => false);
    const strategy = new GuardedRetryStrategy(3, guard);
    await expect(strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(""), transient)).rejects.toThrow();
    expect(guard).toHaveBeenCalledWith(transient.error, "TRANSIENT");
  });
});

// ---------------------------------------------------------------------------
// A real socket: the request really reaches a server on 127.0.0.1, which then misbehaves. The caller runs in
// a plain Node process (run-caller.ts), since jest's sandbox distorts node:http's errors (see there).
// ---------------------------------------------------------------------------

interface LocalServer {
  readonly endpoint: string;
  /** Request bodies the server read completely, in order. */
  readonly bodies: string[];
  /** TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, scheme: "http" | "https", bodies: string[]): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const sockets = new Set<net.Socket>();
  const local: LocalServer = {
    endpoint: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  server.on("connection", (socket: net.Socket) => {
    local.connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return local;
}

/** An HTTP server that reads each request completely, then does `misbehave` instead of answering. */
function httpServer(misbehave: (req: http.IncomingMessage) => void): Promise<LocalServer> {
  const bodies: string[] = [];
  const server = http.createServer((req) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      misbehave(req);
    });
  });
  return listen(server, "http", bodies);
}

interface RunOutcome {
  readonly error: CallerFailure["error"];
  readonly logs: Record<string, unknown>[];
}

async function runCaller(input: RunCallerInput): Promise<RunOutcome> {
  const { stdout, stderr } = await execFileAsync(process.execPath, ["--import", "tsx", RUN_CALLER, JSON.stringify(input)], {
    cwd: path.resolve(__dirname, "..", ".."),
    env: { ...process.env, AWS_MAX_ATTEMPTS: "", POWERTOOLS_LOG_LEVEL: "INFO" },
    timeout: 30_000,
  });
  // Powertools logs WARN and ERROR lines to stderr, the rest to stdout.
  const lines = `${stdout}\n${stderr}`
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const result = lines.find((l) => "harnessResult" in l)?.harnessResult as CallerResult | undefined;
  if (!result) throw new Error(`run-caller printed no result:\n${stdout}\n${stderr}`);
  return { error: failure(result), logs: lines.filter((l) => !("harnessResult" in l)) };
}

describe("against a real local server on 127.0.0.1", () => {
  let server: LocalServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    [
      "resets the connection (TCP RST) after reading the request",
      (req: http.IncomingMessage) => req.socket.resetAndDestroy(),
      "read ECONNRESET",
    ],
    [
      "closes the connection (socket hang up) after reading the request",
      (req: http.IncomingMessage) => req.socket.destroy(),
      "socket hang up",
    ],
  ])("a server that %s: sent once, INVOKE_OUTCOME_UNKNOWN, not retryable", async (_label, misbehave, detail) => {
    server = await httpServer(misbehave);
    const { error, logs: lines } = await runCaller({
      endpoint: server.endpoint,
      event: { correlationId: "c-real", payload: { operation: "quote" } },
    });
    expect(server.bodies).toHaveLength(1);
    expect(sentPayload(server.bodies[0])).toMatchObject({ operation: "quote", correlationId: "c-real", idempotencyKey: "c-real" });
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(error.message).toContain("(ECONNRESET, 1 attempt(s))");
    expect(error.message).toContain(detail);
    expect(lines.at(-1)).toMatchObject({ level: "ERROR", code: "INVOKE_OUTCOME_UNKNOWN", attempts: 1, idempotencyKey: "c-real" });
  });

  it("the same server and CALLEE_IDEMPOTENT=true: sent INVOKE_MAX_ATTEMPTS times with one idempotency key, retryable", async () => {
    server = await httpServer((req) => req.socket.resetAndDestroy());
    const { error } = await runCaller({
      endpoint: server.endpoint,
      env: { CALLEE_IDEMPOTENT: "true", INVOKE_MAX_ATTEMPTS: "3" },
      event: { idempotencyKey: "k-real", payload: { operation: "quote" } },
    });
    expect(server.bodies).toHaveLength(3);
    expect(server.bodies.map((b) => sentPayload(b).idempotencyKey)).toEqual(["k-real", "k-real", "k-real"]);
    expect(new Set(server.bodies).size).toBe(1);
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: true });
    expect(error.message).toContain("3 attempt(s)");
  });

  it("a server that stalls after reading the request, past the SDK's requestTimeout: sent once, INVOKE_OUTCOME_UNKNOWN", async () => {
    server = await httpServer(() => undefined); // never answers
    const { error } = await runCaller({ endpoint: server.endpoint, requestTimeoutMs: 300 });
    expect(server.bodies).toHaveLength(1);
    expect(error).toMatchObject({ code: "INVOKE_OUTCOME_UNKNOWN", retryable: false });
    expect(error.message).toContain("TimeoutError (ETIMEDOUT, 1 attempt(s))");
  });

  it("nothing listening (connection refused): the request never left, so it is re-sent up to INVOKE_MAX_ATTEMPTS; INVOKE_FAILED", async () => {
    const closed = await httpServer(() => undefined);
    await closed.close();
    const { error, logs: lines } = await runCaller({ endpoint: closed.endpoint });
    expect(error).toMatchObject({ code: "INVOKE_FAILED", retryable: true });
    expect(error.message).toContain("(ECONNREFUSED, 3 attempt(s)): connect ECONNREFUSED 127.0.0.1:");
    expect(lines.at(-1)).toMatchObject({ code: "INVOKE_FAILED", attempts: 3 });
  });

  it("a TLS endpoint that closes every connection before the handshake completes: never sent, re-sent, INVOKE_FAILED", async () => {
    server = await listen(
      net.createServer((socket) => socket.end()),
      "https",
      [],
    );
    const { error } = await runCaller({ endpoint: server.endpoint });
    expect(server.connections).toBe(3);
    expect(error).toMatchObject({ code: "INVOKE_FAILED", retryable: true });
    expect(error.message).toContain(
      "(ECONNRESET, 3 attempt(s)): Client network socket disconnected before secure TLS connection was established",
    );
  });

  it("a TLS endpoint that speaks plain HTTP: the handshake fails before sending; INVOKE_FAILED, not INVOKE_OUTCOME_UNKNOWN", async () => {
    server = await listen(
      net.createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")),
      "https",
      [],
    );
    const { error } = await runCaller({ endpoint: server.endpoint });
    // The SDK does not retry a TLS protocol error (not transient), idempotent or not.
    expect(server.connections).toBe(1);
    expect(error).toMatchObject({ code: "INVOKE_FAILED", retryable: true });
    expect(error.message).toContain("EPROTO");
    expect(error.message).toContain("wrong version number");
  });
});
