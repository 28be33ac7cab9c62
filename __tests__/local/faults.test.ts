/**
 * Fault injection, end to end: the runtime injects each fault (a `faults` plan, as `make local
 * --fault` passes it), the real caller bundle meets it through its real SDK v3 clients, and for each
 * the caller answers its documented error, does not crash, retries exactly as configured
 * (INVOKE_MAX_ATTEMPTS = 3 for Invoke; the STS client inside fromTemporaryCredentials keeps the SDK's
 * default of 3 attempts) and does not fetch credentials again and again.
 */
import { spawn, execFile, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { fromIni } from "@aws-sdk/credential-providers";
import { describeFaultPlan, FAULTS, NOT_JSON_PAYLOAD, parseFaultRule, type FaultPlan } from "../../local/server/faults";
import type { LocalRuntime } from "../../local/server/runtime";
import { PROJECT_ROOT } from "../../local/start";
import { boot, invokeCaller, payloadOf, QUOTE, stacksVariant, withRuntime } from "./support";
import { onlyResource } from "../support/terraform-json";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const run = promisify(execFile);
const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
const FAIL = { payload: { operation: "fail" } };
const QUOTE_EVENT = { payload: QUOTE };

function functionArn(runtime: LocalRuntime, stack: "caller" | "callee"): string {
  const fn = [...runtime.model.functions.values()].find((f) => f.source.stack === stack);
  if (!fn) throw new Error(`no function in the ${stack} stack`);
  return fn.arn;
}

/** Invokes the caller and checks it answered normally (status 200, no FunctionError): it did not crash. */
async function callerAnswers(runtime: LocalRuntime, event: unknown = QUOTE_EVENT): Promise<Json> {
  const res = await invokeCaller(runtime, event);
  expect({ status: res.StatusCode, functionError: res.FunctionError }).toEqual({ status: 200, functionError: undefined });
  return payloadOf(res);
}

/** The ARN the caller invokes (its CALLEE_FUNCTION_ARN): the callee's alias. */
function calleeAsInvoked(runtime: LocalRuntime): string {
  const caller = runtime.model.functions.get(functionArn(runtime, "caller"))!;
  return caller.environment.CALLEE_FUNCTION_ARN;
}

/** What the runtime saw: every AssumeRole, every Invoke of the callee (served or faulted), the caller's environments. */
function seen(runtime: LocalRuntime) {
  const callee = functionArn(runtime, "callee");
  const pools = runtime.poolStats();
  return {
    assumeRole: runtime.requestCounts()["sts:AssumeRole"] ?? 0,
    // Invoke requests (one audit record each, two when a fault drops the answer after the callee ran).
    calleeInvokes: new Set(
      runtime.audit
        .since()
        .filter((e) => e.action === "lambda:InvokeFunction" && e.resource === calleeAsInvoked(runtime))
        .map((e) => e.requestId),
    ).size,
    // The callee's code really ran this many times, whichever of its versions ran.
    calleeRuns: Object.entries(pools)
      .filter(([key]) => key === callee || key.startsWith(`${callee}:`))
      .reduce((sum, [, stats]) => sum + stats.invocations, 0),
    // A crashed caller environment would be replaced: a second cold start in the same environment count.
    callerEnvironments: pools[functionArn(runtime, "caller")].environments,
    callerColdStarts: pools[functionArn(runtime, "caller")].coldStarts,
  };
}

/** The `attempts` the caller's own log line reports (the SDK's count), newest last. */
function loggedAttempts(runtime: LocalRuntime & { logs: string[] }): (number | undefined)[] {
  const prefix = "[xacct-demo-caller] ";
  return runtime.logs
    .filter((l) => l.startsWith(`${prefix}{`))
    .map((l) => JSON.parse(l.slice(prefix.length)) as Json)
    .filter((line) => line.message === "callee invoked" || line.message === "callee invocation failed")
    .map((line) => line.attempts);
}

const withFaults = <T>(faults: FaultPlan, body: (runtime: LocalRuntime & { logs: string[] }) => Promise<T>, outDir?: string) =>
  withRuntime(outDir, { faults }, body);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The caller's STS throttle cooldown at its default (STS_THROTTLE_COOLDOWN_MS 1000): at most twice that, with its jitter. */
const STS_COOLDOWN_MAX_MS = 2_050;

describe("--fault NAME[:N]", () => {
  it("parses every fault, with and without a count", () => {
    for (const name of Object.keys(FAULTS)) expect(parseFaultRule(name)).toEqual({ fault: name });
    expect(parseFaultRule("sts-throttle:2")).toEqual({ fault: "sts-throttle", times: 2 });
    expect(
      describeFaultPlan([{ fault: "sts-throttle", times: 1 }, { fault: "sts-throttle", times: 2 }, { fault: "connection-reset" }]),
    ).toBe("sts-throttle (first 1 time), sts-throttle (first 2 times), connection-reset (every time)");
  });

  it("refuses an unknown fault naming the known ones, and a count that is not a positive integer", () => {
    expect(() => parseFaultRule("sts-slow")).toThrow(
      "unknown fault 'sts-slow' in --fault sts-slow: the faults are sts-throttle, sts-deny, lambda-throttle, callee-not-json, connection-reset",
    );
    for (const bad of ["sts-deny:0", "sts-deny:x", "sts-deny:", "sts-deny:1:2", "sts-deny:-1", "sts-deny:1.5"]) {
      expect(() => parseFaultRule(bad)).toThrow(`--fault ${bad}: the count after ':' must be an integer from 1 to 1000000`);
    }
  });

  it("make local refuses an unknown fault with the usage (exit 2), before anything starts", async () => {
    const result = await run(TSX, ["local/cli.ts", "--fault", "lambda-throttle", "--fault", "callee-crash"], { cwd: PROJECT_ROOT }).then(
      () => ({ code: 0, stderr: "" }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "unknown fault 'callee-crash' in --fault callee-crash: the faults are sts-throttle, sts-deny, lambda-throttle, callee-not-json, connection-reset",
    );
    expect(result.stderr).toContain("usage:");
  });

  it("make local --help documents every fault", async () => {
    const { stdout } = await run(TSX, ["local/cli.ts", "--help"], { cwd: PROJECT_ROOT });
    expect(stdout).toContain("--fault NAME[:N]");
    for (const [name, what] of Object.entries(FAULTS)) expect(stdout).toContain(`${name.padEnd(18)}${what}`);
  });

  it("the runtime refuses a plan together with hand-made hooks", async () => {
    await expect(boot(undefined, { faults: [{ fault: "sts-deny" }], stsHooks: {} })).rejects.toThrow(
      "give either faults or stsHooks/lambdaHooks, not both",
    );
  });

  it("make local --fault callee-not-json:1 injects it once, through the profiles it writes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-faults-"));
    const cli = await startCli(["--port", "0", "--profiles-dir", dir, "--quiet", "--fault", "callee-not-json:1"]);
    try {
      expect(cli.output()).toContain("injecting faults: callee-not-json (first 1 time)");
      const lambda = new LambdaClient({
        region: "eu-west-1",
        endpoint: cli.endpoint,
        credentials: fromIni({
          profile: "caller-admin",
          filepath: path.join(dir, "credentials"),
          configFilepath: path.join(dir, "config"),
        }),
        maxAttempts: 1,
      });
      const invoke = async () =>
        payloadOf(
          await lambda.send(new InvokeCommand({ FunctionName: "xacct-demo-caller", Payload: Buffer.from(JSON.stringify(QUOTE_EVENT)) })),
        ) as Json;
      expect((await invoke()).error.code).toBe("BAD_RESPONSE");
      expect((await invoke()).ok).toBe(true);
    } finally {
      await cli.stop();
    }
  });
});

describe("STS faults", () => {
  // Before the cooldown, two throttled invocations made 6 AssumeRole calls (3 SDK attempts each); now 1.
  it("throttling: THROTTLED after one AssumeRole, then a cooldown in which the next invocation does not call STS at all, never Invoke", async () => {
    await withFaults([{ fault: "sts-throttle" }], async (runtime) => {
      const first = await callerAnswers(runtime);
      expect(first.error).toMatchObject({
        code: "THROTTLED",
        retryable: true,
        message: "STS throttled AssumeRole (Throttling after 1 attempt(s)): Rate exceeded",
        requestIds: { sts: expect.any(String) },
      });
      expect(first.error.retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(first.error.retryAfterMs).toBeLessThan(2000);
      const second = await callerAnswers(runtime);
      expect(second.error.code).toBe("THROTTLED");
      expect(second.error.message).toMatch(
        /^STS throttled AssumeRole moments ago; not calling it again for \d+ ms \(STS_THROTTLE_COOLDOWN_MS\)/,
      );
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 0, calleeRuns: 0, callerEnvironments: 1, callerColdStarts: 1 });
    });
  });

  it("a single throttle: THROTTLED once, and after the cooldown one AssumeRole serves every later invocation", async () => {
    await withFaults([{ fault: "sts-throttle", times: 1 }], async (runtime) => {
      expect((await callerAnswers(runtime)).error.code).toBe("THROTTLED");
      await sleep(STS_COOLDOWN_MAX_MS);
      for (let i = 0; i < 4; i++) expect((await callerAnswers(runtime)).ok).toBe(true);
      expect(seen(runtime)).toEqual({ assumeRole: 2, calleeInvokes: 4, calleeRuns: 4, callerEnvironments: 1, callerColdStarts: 1 });
    });
  });

  it("three throttles, each after a cooldown: one AssumeRole each, then one that succeeds serves every later invocation", async () => {
    await withFaults([{ fault: "sts-throttle", times: 3 }], async (runtime) => {
      for (let i = 1; i <= 3; i++) {
        expect((await callerAnswers(runtime)).error.code).toBe("THROTTLED");
        expect(seen(runtime).assumeRole).toBe(i);
        await sleep(STS_COOLDOWN_MAX_MS);
      }
      for (let i = 0; i < 5; i++) expect((await callerAnswers(runtime)).ok).toBe(true);
      expect(seen(runtime)).toEqual({ assumeRole: 4, calleeInvokes: 5, calleeRuns: 5, callerEnvironments: 1, callerColdStarts: 1 });
    });
  });

  it("denial: ASSUME_ROLE_DENIED with STS's message, one AssumeRole per invocation (not retried), and the next allowed one works", async () => {
    await withFaults([{ fault: "sts-deny", times: 3 }], async (runtime) => {
      for (let i = 1; i <= 3; i++) {
        const answer = await callerAnswers(runtime);
        expect(answer.error).toMatchObject({ code: "ASSUME_ROLE_DENIED", retryable: false, requestIds: { sts: expect.any(String) } });
        expect(answer.error.message).toContain(
          "(AccessDenied): check the role's trust policy (caller role as principal, sts:ExternalId) and the caller's sts:AssumeRole permission. " +
            "User: arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/xacct-demo-callee-invoker",
        );
        expect(seen(runtime).assumeRole).toBe(i);
      }
      // A failed AssumeRole is not cached: once STS allows it, the very next invocation works.
      expect((await callerAnswers(runtime)).ok).toBe(true);
      expect(seen(runtime)).toEqual({ assumeRole: 4, calleeInvokes: 1, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
    });
  });
});

describe("Lambda throttling of the callee", () => {
  it("429 TooManyRequestsException: THROTTLED after exactly INVOKE_MAX_ATTEMPTS (3) Invoke attempts", async () => {
    await withFaults([{ fault: "lambda-throttle" }], async (runtime) => {
      const answer = await callerAnswers(runtime);
      expect(answer.error).toEqual({
        code: "THROTTLED",
        retryable: true,
        message: "Throttled (TooManyRequestsException after 3 attempt(s)): Rate Exceeded.",
        requestIds: { caller: expect.any(String), callee: expect.any(String) },
      });
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 3, calleeRuns: 0, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([3]);
    });
  });

  it("two throttles are absorbed by the retries: the third attempt answers", async () => {
    await withFaults([{ fault: "lambda-throttle", times: 2 }], async (runtime) => {
      const answer = await callerAnswers(runtime);
      expect(answer.ok).toBe(true);
      expect(answer.response.result.totalCents).toBe(3998);
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 3, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([3]);
    });
  });

  it("reserved concurrency 0 on the callee: Lambda throttles every Invoke by itself, THROTTLED after 3 attempts", async () => {
    const dir = stacksVariant(({ callee }) => {
      onlyResource(callee, "aws_lambda_function").reserved_concurrent_executions = 0;
    });
    await withFaults(
      [],
      async (runtime) => {
        expect(runtime.model.functions.get(functionArn(runtime, "callee"))?.reservedConcurrency).toBe(0);
        const answer = await callerAnswers(runtime);
        expect(answer.error).toMatchObject({
          code: "THROTTLED",
          retryable: true,
          message: "Throttled (TooManyRequestsException after 3 attempt(s)): Rate Exceeded.",
        });
        expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 3, calleeRuns: 0, callerEnvironments: 1, callerColdStarts: 1 });
        expect(runtime.audit.since().filter((e) => e.errorCode === "TooManyRequestsException")).toHaveLength(3);
      },
      dir,
    );
  });
});

describe("the callee fails", () => {
  it("throws: CALLEE_ERROR with its errorType and message, one attempt (a function error is an answer, not retried)", async () => {
    await withFaults([], async (runtime) => {
      const answer = await callerAnswers(runtime, FAIL);
      expect(answer.error).toEqual({
        code: "CALLEE_ERROR",
        retryable: false,
        message: 'The callee failed (FunctionError Unhandled): DemoFailure: Deliberate failure requested with operation "fail"',
        calleeErrorType: "DemoFailure",
        calleeErrorMessage: 'Deliberate failure requested with operation "fail"',
        requestIds: { caller: expect.any(String), callee: expect.any(String) },
      });
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 1, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([1]);
    });
  });

  it("times out (the stack's timeout at 2 s): CALLEE_TIMEOUT with Sandbox.Timedout, one attempt", async () => {
    const dir = stacksVariant(({ callee }) => {
      onlyResource(callee, "aws_lambda_function").timeout = 2;
    });
    await withFaults(
      [],
      async (runtime) => {
        const answer = await callerAnswers(runtime, { payload: { operation: "sleep", milliseconds: 6000 } });
        expect(answer.error).toMatchObject({ code: "CALLEE_TIMEOUT", retryable: true, calleeErrorType: "Sandbox.Timedout" });
        expect(answer.error.message).toMatch(
          /^The callee timed out \(FunctionError Unhandled\): Sandbox\.Timedout: .*Task timed out after 2\.00 seconds/,
        );
        expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 1, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
        expect(loggedAttempts(runtime)).toEqual([1]);
      },
      dir,
    );
  });

  it("returns something that is not JSON: BAD_RESPONSE naming the parse error, one attempt", async () => {
    await withFaults([{ fault: "callee-not-json" }], async (runtime) => {
      const answer = await callerAnswers(runtime);
      expect(answer.error).toEqual({
        code: "BAD_RESPONSE",
        retryable: false,
        message: `The callee's payload is not valid JSON: ${jsonParseError(NOT_JSON_PAYLOAD)}`,
        requestIds: { caller: expect.any(String), callee: expect.any(String) },
      });
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 1, calleeRuns: 0, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([1]);
    });
  });
});

describe("the connection resets", () => {
  const OUTCOME_UNKNOWN = {
    code: "INVOKE_OUTCOME_UNKNOWN",
    retryable: false,
    // The SDK renames a reset socket's error TimeoutError; the code says what happened.
    message:
      "Invoke outcome unknown (TimeoutError (ECONNRESET, 1 attempt(s)): read ECONNRESET): the callee may or may not have run; not sent again (CALLEE_IDEMPOTENT is not true): retry only if running it twice is harmless, with the same idempotencyKey",
    requestIds: { caller: expect.any(String) },
  };

  it("a reset before the callee ran looks the same to the caller: INVOKE_OUTCOME_UNKNOWN after one attempt, not sent again", async () => {
    await withFaults([{ fault: "connection-reset", times: 1 }], async (runtime) => {
      expect((await callerAnswers(runtime)).error).toEqual(OUTCOME_UNKNOWN);
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 1, calleeRuns: 0, callerEnvironments: 1, callerColdStarts: 1 });
      expect((await callerAnswers(runtime)).ok).toBe(true);
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 2, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([1, 1]);
    });
  });

  it("a reset after the callee ran: INVOKE_OUTCOME_UNKNOWN, and the callee ran exactly once (the caller did not send it again)", async () => {
    await withFaults([{ fault: "connection-reset-after-run", times: 1 }], async (runtime) => {
      expect((await callerAnswers(runtime)).error).toEqual(OUTCOME_UNKNOWN);
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 1, calleeRuns: 1, callerEnvironments: 1, callerColdStarts: 1 });
      expect(loggedAttempts(runtime)).toEqual([1]);
    });
  });
});

describe("no credential storm", () => {
  it("20 invocations in a row with the callee throwing: one AssumeRole in the one environment", async () => {
    await withFaults([], async (runtime) => {
      for (let i = 0; i < 20; i++) expect((await callerAnswers(runtime, FAIL)).error.code).toBe("CALLEE_ERROR");
      expect(seen(runtime)).toEqual({ assumeRole: 1, calleeInvokes: 20, calleeRuns: 20, callerEnvironments: 1, callerColdStarts: 1 });
    });
  });

  it("20 invocations, 5 at a time, with the callee throttled: exactly one AssumeRole per execution environment, 3 attempts each", async () => {
    await withFaults([{ fault: "lambda-throttle" }], async (runtime) => {
      for (let batch = 0; batch < 4; batch++) {
        const answers = await Promise.all(Array.from({ length: 5 }, () => callerAnswers(runtime)));
        expect(answers.map((a) => a.error.code)).toEqual(Array(5).fill("THROTTLED"));
      }
      // The first batch found no warm environment and started five; the others reused them.
      expect(seen(runtime)).toEqual({ assumeRole: 5, calleeInvokes: 60, calleeRuns: 0, callerEnvironments: 5, callerColdStarts: 5 });
      expect(loggedAttempts(runtime)).toEqual(Array(20).fill(3));
    });
  });
});

/** The message JSON.parse gives for `text` on this Node, as the caller reports it. */
function jsonParseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`${text} parsed as JSON`);
}

interface Cli {
  readonly endpoint: string;
  output(): string;
  stop(): Promise<void>;
}

/** `make local`'s program in its own process group; resolves once it is serving. */
async function startCli(args: string[]): Promise<Cli> {
  let output = "";
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "local/cli.ts", ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, "SIGINT");
    await exited;
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`local/cli.ts did not start within 60 s:\n${output}`)), 60_000);
      child.stdout!.on("data", () => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (m && output.includes("Ctrl-C")) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`local/cli.ts exited early:\n${output}`));
      });
    });
    return { endpoint, output: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
