/**
 * Shared test helpers for the Lambda sources (not a test file itself).
 */
import type { InvokeCommandOutput } from "@aws-sdk/client-lambda";
import type { Context } from "aws-lambda";

export const CALLER_ACCOUNT = "111111111111";
export const CALLEE_ACCOUNT = "222222222222";
/** The callee's alias ARN, as the caller stack passes it: the invoker role may invoke only the alias. */
export const CALLEE_ARN = `arn:aws:lambda:eu-central-1:${CALLEE_ACCOUNT}:function:cross-account-callee:live`;
export const CALLEE_UNQUALIFIED_ARN = `arn:aws:lambda:eu-central-1:${CALLEE_ACCOUNT}:function:cross-account-callee`;
export const ROLE_ARN = `arn:aws:iam::${CALLEE_ACCOUNT}:role/cross-account-invoker`;
export const EXTERNAL_ID = "ext-id-Secr3t-do-not-log";

/** A complete, valid caller environment. */
export function validEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return {
    CALLEE_FUNCTION_ARN: CALLEE_ARN,
    INVOKER_ROLE_ARN: ROLE_ARN,
    AWS_REGION: "eu-west-1",
    AWS_LAMBDA_FUNCTION_NAME: "cross-account-caller",
    ...overrides,
  };
}

let requestCounter = 0;

/** A Lambda context whose remaining time is fixed at `remainingMs`. */
export function fakeContext(overrides: Partial<Context> & { remainingMs?: number } = {}): Context {
  const { remainingMs = 30_000, ...rest } = overrides;
  requestCounter += 1;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "cross-account-caller",
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:${CALLER_ACCOUNT}:function:cross-account-caller`,
    memoryLimitInMB: "256",
    awsRequestId: `caller-req-${requestCounter}`,
    logGroupName: "/aws/lambda/cross-account-caller",
    logStreamName: "2025/01/01/[$LATEST]abc",
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...rest,
  };
}

/** Invoke output Payload as the SDK hands it out (a Uint8Array subclass). */
export function payloadOf(value: unknown): InvokeCommandOutput["Payload"] {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return new TextEncoder().encode(text) as InvokeCommandOutput["Payload"];
}

/** Parses the JSON Payload the caller sent in an InvokeCommand input. */
export function sentPayload(payload: unknown): Record<string, unknown> {
  if (typeof payload === "string") return JSON.parse(payload) as Record<string, unknown>;
  return JSON.parse(new TextDecoder().decode(payload as Uint8Array)) as Record<string, unknown>;
}

export interface CapturedLogs {
  /** Everything written to stdout/stderr since capture started. */
  text(): string;
  /** Each JSON log line, parsed (non-JSON lines are skipped). */
  entries(): Record<string, unknown>[];
  restore(): void;
}

/**
 * Captures what Powertools Logger writes. It logs through a Console bound to
 * process.stdout/stderr, so the streams' write methods are the place to listen.
 */
export function captureLogs(): CapturedLogs {
  const chunks: string[] = [];
  const record = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  };
  const out = jest.spyOn(process.stdout, "write").mockImplementation(record as typeof process.stdout.write);
  const err = jest.spyOn(process.stderr, "write").mockImplementation(record as typeof process.stderr.write);
  return {
    text: () => chunks.join(""),
    entries: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line.trim().startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

// ---------------------------------------------------------------------------
// A fake HTTP layer for LambdaClient. Unlike mockClient(LambdaClient), which
// replaces send() wholesale, this keeps the SDK's middleware stack: credential
// resolution (so STS is really asked), signing, retries and error parsing.
// ---------------------------------------------------------------------------

export interface FakeHttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface RecordedRequest {
  hostname: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export type Responder = (
  request: RecordedRequest,
  attempt: number,
  abortSignal?: AbortSignal,
) => FakeHttpResponse | Promise<FakeHttpResponse>;

export interface FakeLambdaHttp {
  /** Pass as `lambdaClientConfig.requestHandler`. */
  readonly requestHandler: {
    handle(request: unknown, options?: { abortSignal?: AbortSignal }): Promise<{ response: unknown }>;
  };
  readonly requests: RecordedRequest[];
}

export function fakeLambdaHttp(responder: Responder): FakeLambdaHttp {
  const requests: RecordedRequest[] = [];
  let seq = 0;
  return {
    requests,
    requestHandler: {
      async handle(request: unknown, options?: { abortSignal?: AbortSignal }) {
        const req = request as { hostname: string; path: string; headers: Record<string, string>; body?: unknown };
        const body =
          req.body === undefined ? "" : typeof req.body === "string" ? req.body : Buffer.from(req.body as Uint8Array).toString("utf8");
        const recorded: RecordedRequest = { hostname: req.hostname, path: req.path, headers: { ...req.headers }, body };
        requests.push(recorded);
        seq += 1;
        const res = await responder(recorded, requests.length, options?.abortSignal);
        return {
          response: {
            statusCode: res.statusCode,
            headers: { "x-amzn-requestid": `lambda-req-${seq}`, ...res.headers },
            body: new TextEncoder().encode(res.body ?? ""),
          },
        };
      },
    },
  };
}

/** Lambda's REST-JSON error shape. */
export function lambdaError(statusCode: number, type: string, message: string, headers: Record<string, string> = {}): FakeHttpResponse {
  return {
    statusCode,
    headers: { "x-amzn-errortype": type, "content-type": "application/json", ...headers },
    body: JSON.stringify({ Type: statusCode >= 500 ? "Service" : "User", message }),
  };
}

/** A responder that never answers and fails like the Node HTTP handler once aborted. */
export const hangUntilAborted: Responder = (_req, _attempt, abortSignal) =>
  new Promise<FakeHttpResponse>((_resolve, reject) => {
    const fail = () => reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
    if (abortSignal?.aborted) fail();
    abortSignal?.addEventListener("abort", fail, { once: true });
  });
