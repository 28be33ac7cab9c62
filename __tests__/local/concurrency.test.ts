/**
 * Account concurrency, as AWS has it: each account's quota (accountConcurrency, default 1000)
 * minus its functions' reservations is the unreserved pool its unreserved functions share;
 * a reserved function is capped at its own reservation only; reservations must leave 100
 * unreserved (PutFunctionConcurrency's InvalidParameterValueException); `make local
 * --account-concurrency N` sets the quota.
 */
import { execFile, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from "@aws-sdk/client-lambda";
import { zipSync } from "fflate";
import {
  DEFAULT_ACCOUNT_CONCURRENCY,
  FunctionPool,
  ThrottledError,
  UnreservedConcurrency,
  type FunctionSpec,
} from "../../local/exec/function-pool";
import type { LocalRuntime } from "../../local/server/runtime";
import { bootLocalRuntime, PROJECT_ROOT } from "../../local/start";
import { errorOf, invokeCaller, lambdaAs, payloadOf, QUOTE, stacksVariant, withRuntime, type TfJson } from "./support";
import { onlyResource } from "../support/terraform-json";

const run = promisify(execFile);
const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");
const CALLER_ACCOUNT = "111111111111";
const CALLEE_ACCOUNT = "222222222222";
const CALLEE = "xacct-demo-callee";
const TWIN = "xacct-demo-callee-twin";
const AWS_MINIMUM =
  "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of";

type Throttle = Error & { Reason?: string; $metadata?: { httpStatusCode?: number } };

/**
 * The stacks with `reserved` as each function's reserved_concurrent_executions (undefined: none,
 * as the stacks will have), and with `twin` a second function in the callee's account: a copy of
 * the callee, same code and role, named xacct-demo-callee-twin.
 */
function variant(reserved: { caller?: number; callee?: number; twin?: number }, twin = false): string {
  return stacksVariant(({ caller, callee }) => {
    const set = (fn: TfJson, value: number | undefined) => {
      if (value === undefined) delete fn.reserved_concurrent_executions;
      else fn.reserved_concurrent_executions = value;
    };
    set(onlyResource(caller, "aws_lambda_function"), reserved.caller);
    const [id, calleeFn] = Object.entries(callee.resource.aws_lambda_function as Record<string, TfJson>)[0];
    set(calleeFn, reserved.callee);
    if (twin) {
      const copy: TfJson = JSON.parse(JSON.stringify(calleeFn));
      copy.function_name = TWIN;
      copy.description = "A second function in the callee's account (test variant)";
      set(copy, reserved.twin);
      callee.resource.aws_lambda_function[`${id}_twin`] = copy;
    }
  });
}

const sleepEvent = (milliseconds: number) => Buffer.from(JSON.stringify({ operation: "sleep", milliseconds }));

function invokeAs(client: LambdaClient, functionName: string, payload: Buffer): Promise<InvokeCommandOutput> {
  return client.send(new InvokeCommand({ FunctionName: functionName, Payload: payload }));
}

/** Polls until `condition` holds (fails the test after 30 s, saying what it waited for). */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const inUse = (runtime: LocalRuntime, account: string) => runtime.concurrencyStats()[account].unreservedInUse;

describe("UnreservedConcurrency and FunctionPool (real child processes)", () => {
  let workDir: string;
  let zip: { zipPath: string; sha256: string };
  const pools: FunctionPool[] = [];

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "concurrency-test-"));
    const bytes = zipSync({
      "index.js": new TextEncoder().encode(
        `exports.sleep = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return { sleptMs: event.ms }; };`,
      ),
    });
    zip = { zipPath: path.join(workDir, "sleep.zip"), sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
    fs.writeFileSync(zip.zipPath, bytes);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

  function pool(name: string, shared: UnreservedConcurrency, reservedConcurrency?: number): FunctionPool {
    const spec: FunctionSpec = {
      name,
      arn: `arn:aws:lambda:eu-west-1:${CALLEE_ACCOUNT}:function:${name}`,
      region: "eu-west-1",
      accountId: CALLEE_ACCOUNT,
      handler: "index.sleep",
      runtime: "nodejs22.x",
      timeoutSeconds: 30,
      memorySizeMb: 128,
      ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
      environment: {},
      logGroupName: `/aws/lambda/${name}`,
      zipPath: zip.zipPath,
      zipSha256: zip.sha256,
    };
    const created = new FunctionPool(spec, {
      endpointUrl: "http://127.0.0.1:4599",
      cacheDir: path.join(workDir, "cache"),
      credentialsFor: async () => ({
        accessKeyId: "ASIATEST",
        secretAccessKey: "secret",
        sessionToken: "token",
        expiration: new Date(Date.now() + 3600_000),
      }),
      unreservedConcurrency: shared,
    });
    pools.push(created);
    return created;
  }

  const sleep = (target: FunctionPool, ms: number) =>
    target.invoke({ requestId: crypto.randomUUID(), payload: Buffer.from(JSON.stringify({ ms })), tailLogs: false });

  it("counts acquisitions, refuses beyond the limit, and refuses a release without an acquisition", () => {
    const shared = new UnreservedConcurrency(CALLEE_ACCOUNT, 2);
    shared.acquire();
    shared.acquire();
    expect({ inUse: shared.inUse, available: shared.available }).toEqual({ inUse: 2, available: false });
    expect(() => shared.acquire()).toThrow("account 222222222222: unreserved concurrency 2 is exhausted");
    shared.release();
    shared.release();
    expect(() => shared.release()).toThrow("released more often than acquired");
    expect(() => new UnreservedConcurrency(CALLEE_ACCOUNT, -1)).toThrow("must be a non-negative integer");
  });

  it("two unreserved functions share the pool; in-flight invocations count, warm idle environments do not", async () => {
    const shared = new UnreservedConcurrency(CALLEE_ACCOUNT, 2);
    const a = pool("fn-a", shared);
    const b = pool("fn-b", shared);
    const running = [sleep(a, 1500), sleep(b, 1500)];
    expect(shared.inUse).toBe(2);
    const third = sleep(a, 0);
    await expect(third).rejects.toBeInstanceOf(ThrottledError);
    await expect(third).rejects.toMatchObject({ reason: "ConcurrentInvocationLimitExceeded", detail: undefined });
    await expect(sleep(b, 0)).rejects.toMatchObject({ reason: "ConcurrentInvocationLimitExceeded" });
    await Promise.all(running);
    expect(shared.inUse).toBe(0);
    // a and b each keep a warm environment; b may still start a second one: the pool counts executions, not environments.
    const again = await Promise.all([sleep(b, 300), sleep(b, 300)]);
    expect(again.map((o) => o.coldStart).sort()).toEqual([false, true]);
    expect({ a: a.stats().environments, b: b.stats().environments, inUse: shared.inUse }).toEqual({ a: 1, b: 2, inUse: 0 });
  });

  it("a reserved function ignores the shared pool, exhausted or not, and is capped at its reservation", async () => {
    const shared = new UnreservedConcurrency(CALLEE_ACCOUNT, 1);
    const unreserved = pool("fn-unreserved", shared);
    const reserved = pool("fn-reserved", shared, 2);
    const running = sleep(unreserved, 1500);
    await expect(sleep(unreserved, 0)).rejects.toMatchObject({ reason: "ConcurrentInvocationLimitExceeded" });
    const both = [sleep(reserved, 1000), sleep(reserved, 1000)];
    expect(shared.inUse).toBe(1);
    await expect(sleep(reserved, 0)).rejects.toMatchObject({ reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
    expect((await Promise.all(both)).map((o) => o.kind)).toEqual(["success", "success"]);
    await running;
    expect(shared.inUse).toBe(0);
  });

  it("a failed invocation gives its share back (the environment died mid-invocation)", async () => {
    const shared = new UnreservedConcurrency(CALLEE_ACCOUNT, 1);
    const target = pool("fn-closing", shared);
    const killed = expect(sleep(target, 20_000)).rejects.toThrow(/closed/);
    await until("the invocation holds the share", () => shared.inUse === 1);
    await target.close();
    await killed;
    expect(shared.inUse).toBe(0);
  });
});

describe("the runtime: each account's unreserved pool", () => {
  it("unreserved functions of one account share it: with accountConcurrency 3, the 4th concurrent invoke across both is throttled; another account is not", async () => {
    await withRuntime(variant({}, true), { accountConcurrency: 3 }, async (runtime) => {
      expect(
        runtime.model.functions.get(`arn:aws:lambda:eu-west-1:${CALLEE_ACCOUNT}:function:${TWIN}`)?.reservedConcurrency,
      ).toBeUndefined();
      expect(runtime.concurrencyStats()).toEqual({
        [CALLER_ACCOUNT]: { accountConcurrency: 3, reserved: 0, unreserved: 3, unreservedInUse: 0 },
        [CALLEE_ACCOUNT]: { accountConcurrency: 3, reserved: 0, unreserved: 3, unreservedInUse: 0 },
      });
      const admin = lambdaAs(runtime, "callee-admin");
      const running = [
        invokeAs(admin, CALLEE, sleepEvent(5000)),
        invokeAs(admin, CALLEE, sleepEvent(5000)),
        invokeAs(admin, TWIN, sleepEvent(5000)),
      ];
      await until("three invocations are in flight in the callee's account", () => inUse(runtime, CALLEE_ACCOUNT) === 3);

      for (const name of [TWIN, CALLEE]) {
        const throttled = (await errorOf(invokeAs(admin, name, sleepEvent(0)))) as Throttle;
        expect({
          name: throttled.name,
          status: throttled.$metadata?.httpStatusCode,
          reason: throttled.Reason,
          message: throttled.message,
        }).toEqual({
          name: "TooManyRequestsException",
          status: 429,
          reason: "ConcurrentInvocationLimitExceeded",
          message: "Rate Exceeded.",
        });
      }

      // The caller's account has its own pool: the caller runs, and its call into the full account is throttled (3 attempts).
      const chain = await invokeCaller(runtime, { payload: QUOTE });
      expect({ status: chain.StatusCode, functionError: chain.FunctionError }).toEqual({ status: 200, functionError: undefined });
      expect((payloadOf(chain) as TfJson).error).toMatchObject({
        code: "THROTTLED",
        message: "Throttled (TooManyRequestsException after 3 attempt(s)): Rate Exceeded.",
      });

      const answers = await Promise.all(running);
      expect(answers.map((a) => (payloadOf(a) as TfJson).result)).toEqual(Array(3).fill({ sleptMs: 5000 }));
      expect(inUse(runtime, CALLEE_ACCOUNT)).toBe(0);
      // Three warm environments stay, but they are idle: three new concurrent invocations all run.
      const after = await Promise.all([
        invokeAs(admin, TWIN, sleepEvent(200)),
        invokeAs(admin, TWIN, sleepEvent(200)),
        invokeAs(admin, CALLEE, sleepEvent(200)),
      ]);
      expect(after.map((a) => a.StatusCode)).toEqual([200, 200, 200]);
    });
  });

  it("a reserved function is capped at its reservation, outside the shared pool", async () => {
    // 102 − 2 reserved = 100 unreserved, the minimum AWS allows.
    await withRuntime(variant({ callee: 2 }, true), { accountConcurrency: 102 }, async (runtime) => {
      expect(runtime.concurrencyStats()[CALLEE_ACCOUNT]).toEqual({
        accountConcurrency: 102,
        reserved: 2,
        unreserved: 100,
        unreservedInUse: 0,
      });
      const admin = lambdaAs(runtime, "callee-admin");
      const reserved = [invokeAs(admin, CALLEE, sleepEvent(4000)), invokeAs(admin, CALLEE, sleepEvent(4000))];
      await until("both reserved executions are busy", () => Object.values(runtime.poolStats()).some((s) => s.busy === 2));
      const throttled = (await errorOf(invokeAs(admin, CALLEE, sleepEvent(0)))) as Throttle;
      expect({ name: throttled.name, reason: throttled.Reason }).toEqual({
        name: "TooManyRequestsException",
        reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      });
      // Reserved executions take nothing from the unreserved pool; the twin still runs.
      expect(inUse(runtime, CALLEE_ACCOUNT)).toBe(0);
      expect((await invokeAs(admin, TWIN, sleepEvent(0))).StatusCode).toBe(200);
      expect((await Promise.all(reserved)).map((a) => a.StatusCode)).toEqual([200, 200]);
    });
  });

  it("defaults to AWS's quota of 1000 per account", async () => {
    await withRuntime(variant({ caller: 10 }), {}, async (runtime) => {
      expect(DEFAULT_ACCOUNT_CONCURRENCY).toBe(1000);
      expect(runtime.concurrencyStats()).toEqual({
        [CALLER_ACCOUNT]: { accountConcurrency: 1000, reserved: 10, unreserved: 990, unreservedInUse: 0 },
        [CALLEE_ACCOUNT]: { accountConcurrency: 1000, reserved: 0, unreserved: 1000, unreservedInUse: 0 },
      });
    });
  });
});

describe("reservations must leave 100 unreserved (PutFunctionConcurrency's InvalidParameterValueException)", () => {
  const start = (outDir: string, accountConcurrency?: number) =>
    bootLocalRuntime({ outDir, skipSynth: true, ...(accountConcurrency !== undefined ? { accountConcurrency } : {}) });

  it("refuses accountConcurrency 105 with a function reserving 10, naming the function, the account, the quota and the fix", async () => {
    const err = await errorOf(start(variant({ callee: 10 }), 105));
    expect(err.name).toBe("LocalRuntimeError");
    expect(err.message).toBe(
      `function ${CALLEE} in account ${CALLEE_ACCOUNT}: ${AWS_MINIMUM} [100]. ` +
        `With an account concurrency of 105, the reservations in account ${CALLEE_ACCOUNT} (${CALLEE} 10; 10 in all) leave 95 unreserved. ` +
        `Lower the function's reserved concurrency (reserved_concurrent_executions), or pass a larger --account-concurrency (accountConcurrency) of at least 110.`,
    );
  });

  it("accepts the boundary: 110 with 10 reserved leaves exactly 100", async () => {
    const runtime = await start(variant({ callee: 10, caller: 10 }), 110);
    try {
      expect(runtime.concurrencyStats()[CALLEE_ACCOUNT]).toEqual({
        accountConcurrency: 110,
        reserved: 10,
        unreserved: 100,
        unreservedInUse: 0,
      });
      expect(runtime.concurrencyStats()[CALLER_ACCOUNT]).toEqual({
        accountConcurrency: 110,
        reserved: 10,
        unreserved: 100,
        unreservedInUse: 0,
      });
    } finally {
      await runtime.stop();
    }
  });

  it("adds up the reservations of one account: 114 refuses 10 + 5, 115 accepts it", async () => {
    const dir = variant({ callee: 10, twin: 5 }, true);
    const err = await errorOf(start(dir, 114));
    expect(err.message).toContain(`function ${TWIN} in account ${CALLEE_ACCOUNT}: ${AWS_MINIMUM} [100].`);
    expect(err.message).toContain(`(${CALLEE} 10, ${TWIN} 5; 15 in all) leave 99 unreserved`);
    expect(err.message).toContain("of at least 115.");
    const runtime = await start(dir, 115);
    await runtime.stop();
    expect(runtime.concurrencyStats()[CALLEE_ACCOUNT]).toMatchObject({ reserved: 15, unreserved: 100 });
  });

  it("a new account's quota of 10: unreserved functions run, any reservation is refused (AWS's minimum is then the whole quota)", async () => {
    const runtime = await start(variant({}), 10);
    await runtime.stop();
    expect(runtime.concurrencyStats()[CALLEE_ACCOUNT]).toEqual({ accountConcurrency: 10, reserved: 0, unreserved: 10, unreservedInUse: 0 });
    // Reserving 0 takes nothing from the unreserved pool, so it is allowed even there.
    const zero = await start(variant({ callee: 0 }), 10);
    await zero.stop();
    const err = await errorOf(start(variant({ callee: 1 }), 10));
    expect(err.message).toContain(`${AWS_MINIMUM} [10].`);
    expect(err.message).toContain("of at least 101.");
  });

  it("refuses a reservation that is not a non-negative integer before counting it (-1 is the provider's 'none')", async () => {
    for (const bad of [-5, 1.5]) {
      const err = await errorOf(start(variant({ callee: bad })));
      expect({ name: err.name, message: err.message }).toEqual({
        name: "LocalRuntimeError",
        message: `Function ${CALLEE}: reservedConcurrency must be a non-negative integer, got ${bad}`,
      });
    }
  });

  it("refuses an accountConcurrency that is not a positive integer", async () => {
    const dir = variant({});
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const err = await errorOf(start(dir, bad));
      expect(err.name).toBe("LocalRuntimeError");
      expect(err.message).toBe(`accountConcurrency must be a positive integer (AWS's default quota is 1000), got ${bad}`);
    }
  });
});

describe("make local --account-concurrency N", () => {
  const cli = (args: string[]) =>
    run(TSX, ["local/cli.ts", ...args], { cwd: PROJECT_ROOT, env: { ...process.env, CHECKPOINT_DISABLE: "1" } }).then(
      (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );

  it.each(["0", "-3", "1.5", "ten", "1e3", "", "0x10"])("refuses %p with the usage, before anything starts", async (value) => {
    const result = await cli(["--port", "0", `--account-concurrency=${value}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `--account-concurrency must be a positive integer (AWS's default quota per account and region is 1000), got '${value}'`,
    );
    expect(result.stderr).toContain("usage:");
    expect(result.stdout).not.toContain("listening on");
  });

  it("passes the quota on and says what each account leaves unreserved; Ctrl-C stops it", async () => {
    const profiles = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-profiles-"));
    const args = [
      "--import",
      "tsx",
      "local/cli.ts",
      "--port",
      "0",
      "--quiet",
      "--dir",
      variant({ callee: 10 }),
      "--profiles-dir",
      profiles,
      "--account-concurrency",
      "2000",
    ];
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await until("local/cli.ts is serving", () => output.includes("Ctrl-C") || child.exitCode !== null);
      expect(output).toContain(`account concurrency 2000 per account; unreserved (shared by the functions without reserved concurrency): `);
      expect(output).toMatch(new RegExp(`unreserved .*${CALLEE_ACCOUNT} 1990`));
      expect(output).toMatch(new RegExp(`unreserved .*${CALLER_ACCOUNT} 2000`));
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGINT");
      await exited;
    }
  });

  it("passes the quota on: too small for the stacks' reservations, the runtime refuses to start with AWS's message (exit 1, no stack trace)", async () => {
    const profiles = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-profiles-"));
    const result = await cli([
      "--port",
      "0",
      "--quiet",
      "--dir",
      variant({ callee: 10 }),
      "--profiles-dir",
      profiles,
      "--account-concurrency",
      "105",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `function ${CALLEE} in account ${CALLEE_ACCOUNT}: ${AWS_MINIMUM} [100]. With an account concurrency of 105`,
    );
    expect(result.stderr).toContain("pass a larger --account-concurrency");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).not.toContain("listening on");
  });
});
