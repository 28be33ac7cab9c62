import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { zipSync } from "fflate";
import { bundleFunction } from "../../constructs/bundle";
import {
  FunctionPool,
  matchingNode,
  ThrottledError,
  type EnvironmentCredentials,
  type FunctionSpec,
  type PoolOptions,
} from "../../local/exec/function-pool";

// Real zips with tiny CommonJS handlers, run by real child processes.
const HANDLERS = `
let count = 0;
console.log("module initialised");

class QuoteRejected extends Error {
  constructor(message) { super(message); this.name = "QuoteRejected"; }
}

exports.echo = async (event, context) => ({
  event,
  context: {
    awsRequestId: context.awsRequestId,
    invokedFunctionArn: context.invokedFunctionArn,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    memoryLimitInMB: context.memoryLimitInMB,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    remainingMs: context.getRemainingTimeInMillis(),
    callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    clientContext: context.clientContext,
    identityIsUndefined: context.identity === undefined,
  },
  traceId: process.env._X_AMZN_TRACE_ID,
});

exports.env = async () => {
  const fs = require("fs");
  return {
    env: { ...process.env },
    configFileExists: fs.existsSync(process.env.AWS_CONFIG_FILE),
    credentialsFileExists: fs.existsSync(process.env.AWS_SHARED_CREDENTIALS_FILE),
    cwd: process.cwd(),
    timezoneOffset: new Date().getTimezoneOffset(),
    argv: process.argv.slice(2),
  };
};

exports.throwError = async () => { throw new QuoteRejected("price is negative"); };
exports.throwString = async () => { throw "plain string failure"; };
exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return { sleptMs: event.ms }; };
exports.exit = async () => { process.exit(3); };
exports.count = async () => { count += 1; return { count }; };
exports.log = async (event, context) => {
  console.log("hello from", context.awsRequestId);
  console.error("first line\\nsecond line");
  return "logged";
};
exports.flood = async (event) => {
  for (let i = 0; i < event.lines; i++) {
    process.stdout.write("out " + event.tag + " " + i + "\\n");
    process.stderr.write("err " + event.tag + " " + i + "\\n");
  }
  return "flooded";
};
exports.callback = (event, context, callback) => {
  setTimeout(() => console.log("timer fired"), 200);
  callback(null, { via: "callback" });
};
exports.callbackNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log("late timer fired"), 10000);
  callback(null, { via: "callback-no-wait" });
};
exports.circular = async () => { const o = {}; o.self = o; return o; };
exports.nothing = async () => undefined;
exports.rejectUnobserved = async () => {
  Promise.reject(new Error("nobody awaited me"));
  await new Promise((r) => setTimeout(r, 5000));
  return "unreachable";
};
exports.neverSettles = async () => new Promise(() => {});
exports.notAFunction = 42;
`;

const FILES: Record<string, string> = {
  "index.js": HANDLERS,
  "lib/nested.js": `exports.handler = async () => "from a subdirectory";`,
  "broken.js": `exports.handler = async () => {;`,
  "needs-dependency.js": `require("left-pad-that-was-never-bundled"); exports.handler = async () => "never";`,
};

const ACCOUNT = "222222222222";
const REGION = "eu-central-1";
const HOST_CANARY = "FUNCTION_POOL_TEST_HOST_CANARY";

let workDir: string;
let cacheDir: string;
let zip: { zipPath: string; sha256: string };
const pools: FunctionPool[] = [];
let credentialCalls = 0;

function writeZip(name: string, files: Record<string, string>): { zipPath: string; sha256: string } {
  const entries = Object.fromEntries(Object.entries(files).map(([file, text]) => [file, new TextEncoder().encode(text)]));
  const bytes = zipSync(entries);
  const zipPath = path.join(workDir, `${name}.zip`);
  fs.writeFileSync(zipPath, bytes);
  return { zipPath, sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
}

function credentials(): Promise<EnvironmentCredentials> {
  credentialCalls += 1;
  return Promise.resolve({
    accessKeyId: "ASIATESTEXECUTIONROLE",
    secretAccessKey: "test-secret",
    sessionToken: `test-session-${credentialCalls}`,
    expiration: new Date(Date.now() + 3600_000),
  });
}

function spec(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  const name = overrides.name ?? "kitchen-sink";
  return {
    name,
    arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    region: REGION,
    accountId: ACCOUNT,
    handler: "index.echo",
    runtime: "nodejs22.x",
    timeoutSeconds: 30,
    memorySizeMb: 128,
    environment: { STAGE: "test", GREETING: "hello" },
    logGroupName: `/aws/lambda/${name}`,
    zipPath: zip.zipPath,
    zipSha256: zip.sha256,
    ...overrides,
  };
}

function pool(overrides: Partial<FunctionSpec> = {}, options: Partial<PoolOptions> = {}): FunctionPool {
  const created = new FunctionPool(spec(overrides), {
    endpointUrl: "http://127.0.0.1:4599",
    credentialsFor: credentials,
    cacheDir,
    ...options,
  });
  pools.push(created);
  return created;
}

async function invoke(target: FunctionPool, event: unknown = {}, extra: { clientContext?: string; requestId?: string } = {}) {
  const requestId = extra.requestId ?? crypto.randomUUID();
  const outcome = await target.invoke({
    requestId,
    payload: Buffer.from(JSON.stringify(event)),
    clientContext: extra.clientContext,
    tailLogs: true,
  });
  return { requestId, outcome, body: JSON.parse(outcome.payload.toString("utf8")) as Record<string, unknown> & unknown };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The child is reaped by the time close() resolves, but an exit after a timeout is observed asynchronously. */
async function eventuallyDead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  return !isAlive(pid);
}

beforeAll(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "function-pool-test-"));
  cacheDir = path.join(workDir, "cache");
  zip = writeZip("kitchen-sink", FILES);
  process.env[HOST_CANARY] = "must-not-leak";
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(() => {
  delete process.env[HOST_CANARY];
  fs.rmSync(workDir, { recursive: true, force: true });
});

describe("FunctionPool: event, context and environment", () => {
  it("passes the event and Lambda's context fields, cold then warm", async () => {
    const target = pool({ memorySizeMb: 256 });
    const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: "t-1" } })).toString("base64");
    const { requestId, outcome, body } = await invoke(target, { hello: "world", n: [1, 2] }, { clientContext });

    expect(outcome.kind).toBe("success");
    expect(outcome.functionError).toBeUndefined();
    expect(outcome.coldStart).toBe(true);
    expect(outcome.initDurationMs).toBeGreaterThan(0);
    expect(body.event).toEqual({ hello: "world", n: [1, 2] });
    const context = body.context as Record<string, unknown>;
    expect(context).toMatchObject({
      awsRequestId: requestId,
      invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:kitchen-sink`,
      functionName: "kitchen-sink",
      functionVersion: "$LATEST",
      memoryLimitInMB: "256",
      logGroupName: "/aws/lambda/kitchen-sink",
      callbackWaitsForEmptyEventLoop: true,
      clientContext: { custom: { tenant: "t-1" } },
      identityIsUndefined: true,
    });
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(30_000);
    expect(body.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;|$)/);

    const tail = outcome.logTail ?? "";
    expect(tail.startsWith(`START RequestId: ${requestId} Version: $LATEST\n`)).toBe(true);
    expect(tail).toContain(`END RequestId: ${requestId}\n`);
    expect(tail).toMatch(
      new RegExp(
        `REPORT RequestId: ${requestId}\\tDuration: \\d+\\.\\d{2} ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: [1-9]\\d* MB\\tInit Duration: \\d+\\.\\d{2} ms\\t\\n$`,
      ),
    );
    // Init output belongs to the init phase, not to the invocation's tail.
    expect(tail).not.toContain("module initialised");

    const warm = await invoke(target, { again: true });
    expect(warm.outcome.coldStart).toBe(false);
    expect(warm.outcome.initDurationMs).toBeUndefined();
    expect(warm.outcome.logTail).not.toContain("Init Duration");
    expect((warm.body.context as Record<string, unknown>).logStreamName).toBe(context.logStreamName);
    expect(warm.body.traceId).not.toBe(body.traceId);
  });

  it("gives the function a clean environment: its variables, Lambda's, the role's credentials, none of the host's", async () => {
    const before = credentialCalls;
    const target = pool({ handler: "index.env" });
    const { body } = await invoke(target);
    const env = body.env as Record<string, string>;

    expect(env).toMatchObject({
      STAGE: "test",
      GREETING: "hello",
      AWS_LAMBDA_FUNCTION_NAME: "kitchen-sink",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "128",
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/kitchen-sink",
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      _HANDLER: "index.env",
      TZ: ":UTC",
      AWS_ACCESS_KEY_ID: "ASIATESTEXECUTIONROLE",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_SESSION_TOKEN: `test-session-${before + 1}`,
      AWS_ENDPOINT_URL: "http://127.0.0.1:4599",
    });
    expect(credentialCalls).toBe(before + 1);
    expect(env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(env.LAMBDA_TASK_ROOT).toBe(path.join(cacheDir, "kitchen-sink", zip.sha256));
    expect(body.cwd).toBe(env.LAMBDA_TASK_ROOT);
    expect(body.timezoneOffset).toBe(0);
    expect(body.argv).toEqual([]);

    // Nothing of the host: no canary, not its HOME or PATH, no ~/.aws, no IPC plumbing.
    expect(env[HOST_CANARY]).toBeUndefined();
    expect(env.HOME).not.toBe(os.homedir());
    expect(env.PATH).not.toBe(process.env.PATH);
    expect(env.AWS_CONFIG_FILE.startsWith(env.HOME)).toBe(true);
    expect(env.AWS_SHARED_CREDENTIALS_FILE.startsWith(env.HOME)).toBe(true);
    expect(body.configFileExists).toBe(false);
    expect(body.credentialsFileExists).toBe(false);
    expect(Object.keys(env).filter((k) => k.startsWith("NODE_CHANNEL") || k.startsWith("JEST") || k === "NODE_OPTIONS")).toEqual([]);
  });

  it("refuses a spec that sets a reserved variable", () => {
    expect(() => pool({ environment: { AWS_REGION: "us-east-1", OK: "1" } })).toThrow(/reserved key\(s\) AWS_REGION/);
    expect(() => pool({ environment: { _HANDLER: "x.y" } })).toThrow(/_HANDLER/);
  });

  it("loads a handler from a subdirectory", async () => {
    const { outcome, body } = await invoke(pool({ handler: "lib/nested.handler" }));
    expect(outcome.kind).toBe("success");
    expect(body).toBe("from a subdirectory");
  });

  it("answers null for an undefined result", async () => {
    const { outcome } = await invoke(pool({ handler: "index.nothing" }));
    expect(outcome.kind).toBe("success");
    expect(outcome.payload.toString()).toBe("null");
  });
});

describe("FunctionPool: errors as Lambda reports them", () => {
  it("turns a thrown Error subclass into an Unhandled function error and keeps the environment", async () => {
    const target = pool({ handler: "index.throwError" });
    const { outcome, body } = await invoke(target);
    expect(outcome.kind).toBe("function-error");
    expect(outcome.functionError).toBe("Unhandled");
    expect(body.errorType).toBe("QuoteRejected");
    expect(body.errorMessage).toBe("price is negative");
    expect(body.trace).toEqual(expect.arrayContaining([expect.stringMatching(/^QuoteRejected: price is negative/)]));
    expect(outcome.logTail).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"QuoteRejected","errorMessage":"price is negative"/);

    const again = await invoke(target);
    expect(again.outcome.coldStart).toBe(false);
  });

  it("reports a thrown string with its type, as the Node runtime does", async () => {
    const { outcome, body } = await invoke(pool({ handler: "index.throwString" }));
    expect(outcome.functionError).toBe("Unhandled");
    expect(body).toEqual({ errorType: "string", errorMessage: "plain string failure", trace: [] });
  });

  it("reports a result that cannot be serialized", async () => {
    const { outcome, body } = await invoke(pool({ handler: "index.circular" }));
    expect(outcome.functionError).toBe("Unhandled");
    expect(body).toMatchObject({ errorType: "Error", errorMessage: "Unable to stringify response body" });
  });

  it("times out: Sandbox.Timedout, the log line, and a fresh environment next time", async () => {
    const target = pool({ handler: "index.sleep", timeoutSeconds: 1 });
    const warmUp = await invoke(target, { ms: 0 });
    expect(warmUp.outcome.kind).toBe("success");
    const [pid] = target.pids();

    const { requestId, outcome, body } = await invoke(target, { ms: 20_000 });
    expect(outcome.kind).toBe("function-error");
    expect(outcome.functionError).toBe("Unhandled");
    expect(body).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(outcome.logTail).toMatch(
      new RegExp(`\\n\\S+Z ${requestId} Task timed out after 1\\.00 seconds\\nEND RequestId: ${requestId}\\n`),
    );
    expect(outcome.logTail).toMatch(/\tStatus: timeout\t\n$/);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(990);
    expect(await eventuallyDead(pid)).toBe(true);

    const next = await invoke(target, { ms: 0 });
    expect(next.outcome.kind).toBe("success");
    expect(next.outcome.coldStart).toBe(true);
  });

  it("reports process.exit as Runtime.ExitError and replaces the environment", async () => {
    const target = pool({ handler: "index.exit" });
    const { requestId, outcome, body } = await invoke(target);
    expect(outcome.functionError).toBe("Unhandled");
    expect(body).toEqual({
      errorType: "Runtime.ExitError",
      errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status 3`,
    });
    expect(outcome.logTail).toContain("Status: error\tError Type: Runtime.ExitError");
    expect(target.stats().environments).toBe(0);
    const again = await invoke(target);
    expect(again.outcome.coldStart).toBe(true);
  });

  it("answers an unobserved rejection with Runtime.UnhandledPromiseRejection and replaces the environment", async () => {
    const target = pool({ handler: "index.rejectUnobserved" });
    const { outcome, body } = await invoke(target);
    expect(outcome.functionError).toBe("Unhandled");
    expect(body).toMatchObject({ errorType: "Runtime.UnhandledPromiseRejection", errorMessage: "Error: nobody awaited me" });
    expect(outcome.logTail).toContain("Unhandled Promise Rejection");
    const again = await invoke(target);
    expect(again.outcome.coldStart).toBe(true);
  });

  it("fails an async handler whose promise never settles once the event loop is empty (Runtime.NodeJsExit)", async () => {
    const target = pool({ handler: "index.neverSettles" });
    const { outcome, body } = await invoke(target);
    expect(outcome.functionError).toBe("Unhandled");
    expect(body.errorType).toBe("Runtime.NodeJsExit");
    // The runtime itself is fine: the environment stays warm.
    expect((await invoke(target)).outcome.coldStart).toBe(false);
  });

  it.each([
    ["broken.handler", "Runtime.UserCodeSyntaxError", /SyntaxError/],
    ["needs-dependency.handler", "Runtime.ImportModuleError", /Cannot find module 'left-pad-that-was-never-bundled'/],
    ["missing.handler", "Runtime.ImportModuleError", /Cannot find module 'missing'/],
    ["index.doesNotExist", "Runtime.HandlerNotFound", /^index\.doesNotExist is undefined or not exported$/],
    ["index.notAFunction", "Runtime.HandlerNotFound", /^index\.notAFunction is not a function$/],
    ["index", "Runtime.MalformedHandlerName", /^Bad handler$/],
    ["../index.echo", "Runtime.MalformedHandlerName", /is not a valid handler name/],
  ])("init error for handler %s: %s, environment discarded", async (handler, errorType, message) => {
    const target = pool({ handler });
    const { outcome, body } = await invoke(target);
    expect(outcome.kind).toBe("function-error");
    expect(outcome.functionError).toBe("Unhandled");
    expect(outcome.coldStart).toBe(true);
    expect(body.errorType).toBe(errorType);
    expect(body.errorMessage).toMatch(message);
    expect(outcome.logTail).toContain("Uncaught Exception");
    expect(outcome.logTail).toContain(`Status: error\tError Type: ${errorType}`);
    expect(target.stats().environments).toBe(0);
  });
});

describe("FunctionPool: the Node.js a function runs on", () => {
  const major = process.versions.node.split(".")[0];

  it("runs a function on the Node.js major its runtime declares, and INIT_START names the exact version", async () => {
    const lines: string[] = [];
    const target = pool({ runtime: `nodejs${major}.x` }, { onLog: (_fn, line) => lines.push(line) });
    expect(target.nodeVersion).toBe(process.version);
    await invoke(target);
    expect(lines).toContain(`INIT_START Runtime Version: nodejs${major}.x (local node ${process.version})`);
  });

  it.each([
    [
      `nodejs${Number(major) - 2}.x`,
      new RegExp(
        `declares runtime nodejs${Number(major) - 2}\\.x, but the local runtime would run it on Node\\.js ${process.version.replace(/\./g, "\\.")} .*make provides Node\\.js 22 only: declare nodejs22\\.x, or run the runtime .* on Node\\.js ${Number(major) - 2}$`,
      ),
    ],
    ["python3.12", /declares runtime python3\.12: the local runtime runs only Node\.js functions/],
  ])("refuses a function declaring %s before any environment starts", (runtime, message) => {
    expect(() => pool({ runtime })).toThrow(message);
    expect(() => matchingNode({ name: "f", runtime }, process.execPath)).toThrow(message);
  });
});

describe("FunctionPool: warm environments and logs", () => {
  it("reuses a warm environment: module state survives, one cold start", async () => {
    const before = credentialCalls;
    const target = pool({ handler: "index.count" });
    const first = await invoke(target);
    const second = await invoke(target);
    expect(first.body).toEqual({ count: 1 });
    expect(first.outcome.coldStart).toBe(true);
    expect(second.body).toEqual({ count: 2 });
    expect(second.outcome.coldStart).toBe(false);
    expect(target.stats()).toEqual({ environments: 1, busy: 0, coldStarts: 1, invocations: 2 });
    expect(credentialCalls).toBe(before + 1);
  });

  it("prints console output as Lambda's text lines, into the tail and onLog", async () => {
    const lines: string[] = [];
    const target = pool({ handler: "index.log" }, { onLog: (fn, line) => lines.push(`${fn}|${line}`) });
    const { requestId, outcome } = await invoke(target);
    const tail = outcome.logTail ?? "";
    expect(tail).toMatch(new RegExp(`\\n\\d{4}-\\d{2}-\\d{2}T[^\\t]+Z\\t${requestId}\\tINFO\\thello from ${requestId}\\n`));
    // A multi-line message stays one record.
    expect(tail).toMatch(new RegExp(`\\t${requestId}\\tERROR\\tfirst line\\nsecond line\\n`));
    expect(lines).toContain(`kitchen-sink|START RequestId: ${requestId} Version: $LATEST`);
    expect(lines.some((l) => l.startsWith("kitchen-sink|") && l.endsWith("\tundefined\tINFO\tmodule initialised"))).toBe(true);
    expect(lines.some((l) => l.startsWith(`kitchen-sink|REPORT RequestId: ${requestId}\t`))).toBe(true);
  });

  it("prints JSON lines when the log format is JSON", async () => {
    const target = pool({ handler: "index.log", environment: { AWS_LAMBDA_LOG_FORMAT: "JSON" } });
    const { requestId, outcome } = await invoke(target);
    const records = (outcome.logTail ?? "")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: "INFO", requestId, message: `hello from ${requestId}` }),
        expect.objectContaining({ level: "ERROR", requestId, message: "first line\nsecond line" }),
      ]),
    );
  });

  it("attributes every stdout and stderr line to its own invocation", async () => {
    const target = pool({ handler: "index.flood" });
    const first = await invoke(target, { tag: "A", lines: 2000 });
    const second = await invoke(target, { tag: "B", lines: 2000 });
    for (const [run, tag, other] of [
      [first, "A", "B"],
      [second, "B", "A"],
    ] as const) {
      const tail = run.outcome.logTail ?? "";
      const out = tail.split("\n").filter((l) => l.startsWith(`out ${tag} `));
      const err = tail.split("\n").filter((l) => l.startsWith(`err ${tag} `));
      expect(out).toEqual(Array.from({ length: 2000 }, (_, i) => `out ${tag} ${i}`));
      expect(err).toEqual(Array.from({ length: 2000 }, (_, i) => `err ${tag} ${i}`));
      expect(tail).not.toContain(`out ${other} `);
      expect(tail).not.toContain(`err ${other} `);
      expect(tail.indexOf(`err ${tag} 1999`)).toBeLessThan(tail.indexOf(`END RequestId: ${run.requestId}`));
    }
  });

  it("callback handlers: waits for the empty event loop by default, not when told not to", async () => {
    const waits = await invoke(pool({ handler: "index.callback" }));
    expect(waits.body).toEqual({ via: "callback" });
    expect(waits.outcome.logTail).toContain("timer fired");

    const noWait = await invoke(pool({ handler: "index.callbackNoWait" }));
    expect(noWait.body).toEqual({ via: "callback-no-wait" });
    // The 10 s timer is still pending when the answer comes.
    expect(noWait.outcome.logTail).not.toContain("late timer fired");
  });
});

describe("FunctionPool: concurrency, lifecycle, packages", () => {
  it("throttles beyond reserved concurrency", async () => {
    const target = pool({ handler: "index.sleep", reservedConcurrency: 2 });
    const first = invoke(target, { ms: 1500 });
    const second = invoke(target, { ms: 1500 });
    const third = invoke(target, { ms: 1500 });
    await expect(third).rejects.toBeInstanceOf(ThrottledError);
    await expect(third).rejects.toMatchObject({ reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    const results = await Promise.all([first, second]);
    expect(results.map((r) => r.body)).toEqual([{ sleptMs: 1500 }, { sleptMs: 1500 }]);
    expect(target.stats()).toMatchObject({ environments: 2, busy: 0, coldStarts: 2, invocations: 2 });

    // Both warm and idle now: a third invocation runs.
    expect((await invoke(target, { ms: 0 })).outcome.coldStart).toBe(false);
  });

  it("throttles every invocation with reserved concurrency 0", async () => {
    const target = pool({ reservedConcurrency: 0 });
    await expect(invoke(target)).rejects.toMatchObject({
      name: "ThrottledError",
      reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
    });
    expect(target.stats()).toEqual({ environments: 0, busy: 0, coldStarts: 0, invocations: 0 });
  });

  it("close() kills every child, also mid-invocation, and is idempotent", async () => {
    const target = pool({ handler: "index.sleep" });
    await Promise.all([invoke(target, { ms: 0 }), invoke(target, { ms: 0 })]);
    // Observed before close() so the rejection is never unhandled.
    const running = expect(invoke(target, { ms: 20_000 })).rejects.toThrow(/closed/);
    const pids = target.pids();
    expect(pids).toHaveLength(2);
    expect(pids.every(isAlive)).toBe(true);

    await Promise.all([target.close(), target.close()]);
    await running;
    expect(pids.filter(isAlive)).toEqual([]);
    expect(target.stats().environments).toBe(0);
    await expect(invoke(target)).rejects.toThrow(/closed/);
  });

  it("replaces a warm environment whose role session would expire during the next invocation", async () => {
    const shortLived = (): Promise<EnvironmentCredentials> =>
      credentials().then((c) => ({ ...c, expiration: new Date(Date.now() + 45_000) }));
    const target = pool({ handler: "index.count", timeoutSeconds: 30 }, { credentialsFor: shortLived });
    expect((await invoke(target)).outcome.coldStart).toBe(true);
    const second = await invoke(target);
    expect(second.outcome.coldStart).toBe(true);
    expect(second.body).toEqual({ count: 1 });
  });

  it("rejects a payload or client context Lambda would refuse, before starting anything", async () => {
    const target = pool();
    await expect(target.invoke({ requestId: "r-1", payload: Buffer.from("{not json"), tailLogs: false })).rejects.toThrow(/not valid JSON/);
    await expect(
      target.invoke({ requestId: "r-2", payload: Buffer.from("{}"), clientContext: "bm90IGpzb24=", tailLogs: false }),
    ).rejects.toThrow(/Client context must be a valid Base64-encoded JSON object/);
    expect(target.stats().environments).toBe(0);
    const empty = await target.invoke({ requestId: "r-3", payload: Buffer.alloc(0), tailLogs: false });
    expect(JSON.parse(empty.payload.toString()).event).toEqual({});
    expect(empty.logTail).toBeUndefined();
  });

  it("names the missing zip and the fix", async () => {
    const missing = path.join(workDir, "nope", "function.zip");
    await expect(invoke(pool({ zipPath: missing, zipSha256: undefined }))).rejects.toThrow(
      new RegExp(`${missing.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} does not exist.*make synth`),
    );
  });

  it("refuses a zip whose hash differs from the stack's (stale bundle)", async () => {
    await expect(invoke(pool({ zipSha256: "0".repeat(64) }))).rejects.toThrow(/stale.*make synth/);
  });

  it("refuses a corrupt zip", async () => {
    const corrupt = path.join(workDir, "corrupt.zip");
    fs.writeFileSync(corrupt, "this is not a zip file at all");
    await expect(invoke(pool({ zipPath: corrupt, zipSha256: undefined }))).rejects.toThrow(/not a valid zip/);
  });
});

describe("FunctionPool: the project's real callee bundle", () => {
  it("answers a quote like the deployed function", async () => {
    const bundle = bundleFunction(path.resolve(__dirname, "../../lambda-src/callee"), path.join(workDir, "callee-build"));
    const lines: string[] = [];
    const target = pool(
      {
        name: "cross-account-callee",
        handler: "index.handler",
        zipPath: bundle.zipPath,
        zipSha256: bundle.sha256Hex,
        environment: { POWERTOOLS_SERVICE_NAME: "cross-account-callee", AWS_LAMBDA_LOG_FORMAT: "JSON", AWS_LAMBDA_LOG_LEVEL: "INFO" },
      },
      { onLog: (_fn, line) => lines.push(line) },
    );
    const event = { correlationId: "order-42", operation: "quote", items: [{ sku: "A", quantity: 2, unitPriceCents: 150 }] };

    const cold = await invoke(target, event);
    const warm = await invoke(target, event);

    const expected = {
      ok: true,
      result: {
        currency: "EUR",
        lines: [{ sku: "A", quantity: 2, unitPriceCents: 150, lineTotalCents: 300 }],
        totalQuantity: 2,
        totalCents: 300,
      },
      correlationId: "order-42",
      servedBy: { functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:cross-account-callee`, accountId: ACCOUNT },
    };
    expect(cold.outcome.kind).toBe("success");
    expect(cold.body).toEqual(expected);
    expect(warm.body).toEqual(expected);
    expect(cold.outcome.coldStart).toBe(true);
    expect(warm.outcome.coldStart).toBe(false);
    // Powertools prints its own JSON line, with the request id from the context.
    const served = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(served).toEqual(
      expect.arrayContaining([expect.objectContaining({ message: "request served", function_request_id: warm.requestId })]),
    );

    // Cold and warm timings are measured by make bench (init_ms), not printed by a test.
  });
});
