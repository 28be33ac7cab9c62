/**
 * Never twice by accident, end to end: the stacks synthesized with calleeIdempotency (examples/idempotent-callee.json),
 * the real caller and callee bundles, Powertools Idempotency in the callee writing to the runtime's DynamoDB (moto,
 * behind the runtime's SigV4 and authorization front door), and the runtime's faults. "The business logic ran" is
 * counted from the callee's own log: one `operation started` line per run of the operation, written before it runs.
 */
import * as path from "path";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { FaultPlan } from "../../local/server/faults";
import type { LocalRuntime } from "../../local/server/runtime";
import { PROJECT_ROOT } from "../../local/start";
import { invokeCaller, lambdaAs, payloadOf, QUOTE, stacksSynthesizedWith, withRuntime } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const IDEMPOTENT_CONFIG = path.join(PROJECT_ROOT, "examples", "idempotent-callee.json");
const CALLEE = "xacct-demo-callee";

let outDir: string;
beforeAll(async () => {
  outDir = await stacksSynthesizedWith({ XACCT_CONFIG_FILE: IDEMPOTENT_CONFIG });
}, 120_000);

type Booted = LocalRuntime & { logs: string[] };

const withIdempotentRuntime = <T>(faults: FaultPlan, body: (runtime: Booted) => Promise<T>) =>
  withRuntime(outDir, faults.length > 0 ? { faults } : {}, body);

/** The callee's `request served` log lines, parsed. */
function served(runtime: Booted): Json[] {
  return runtime.logs
    .filter((line) => line.startsWith(`[${CALLEE}] {`))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))))
    .filter((entry) => entry.message === "request served");
}

/** The callee's log lines with this message, parsed. */
function logged(runtime: Booted, message: string): Json[] {
  return runtime.logs
    .filter((line) => line.startsWith(`[${CALLEE}] {`))
    .map((line) => JSON.parse(line.slice(line.indexOf("{"))))
    .filter((entry) => entry.message === message);
}

/** How many times the business operation really ran for `key`: its "operation started" lines (a stored answer writes none). */
const runsOf = (runtime: Booted, key: string) => logged(runtime, "operation started").filter((e) => e.idempotencyKey === key).length;

async function callerAnswer(runtime: Booted, event: unknown): Promise<Json> {
  const res = await invokeCaller(runtime, event);
  expect({ status: res.StatusCode, functionError: res.FunctionError }).toEqual({ status: 200, functionError: undefined });
  return payloadOf(res);
}

/** Invokes of the callee's alias the runtime served or faulted (one audit record per request id). */
function calleeInvokes(runtime: Booted): number {
  const alias = `arn:aws:lambda:${runtime.region}:222222222222:function:${CALLEE}:live`;
  return new Set(
    runtime.audit
      .since()
      .filter((e) => e.action === "lambda:InvokeFunction" && e.resource === alias)
      .map((e) => e.requestId),
  ).size;
}

describe("the idempotent callee, on the local runtime", () => {
  it("runs the operation once for a key: the same event replayed with its idempotency key returns the stored answer", async () => {
    await withIdempotentRuntime([], async (runtime) => {
      const event = { idempotencyKey: "order-42-quote", payload: QUOTE };
      const first = await callerAnswer(runtime, { ...event, correlationId: "first" });
      const replay = await callerAnswer(runtime, { ...event, correlationId: "replay" });
      expect(first.ok).toBe(true);
      expect(first.response).toMatchObject({ ok: true, correlationId: "first", idempotency: { key: "order-42-quote", replayed: false } });
      expect(replay.response).toMatchObject({ ok: true, correlationId: "replay", idempotency: { key: "order-42-quote", replayed: true } });
      expect(replay.response.result).toEqual(first.response.result);
      expect(first.response.result.totalCents).toBe(3998);
      expect(runsOf(runtime, "order-42-quote")).toBe(1);
      // Both invocations reached the callee; the second found the record (GetItem after the conditional PutItem failed, or PutItem refused).
      expect(calleeInvokes(runtime)).toBe(2);
      const counts = runtime.requestCounts();
      expect(counts["dynamodb:PutItem"]).toBeGreaterThanOrEqual(2);
      expect(counts["dynamodb:UpdateItem"]).toBe(1);
    });
  });

  it("refuses the same key with another request: IDEMPOTENCY_KEY_REUSED, and nothing runs", async () => {
    await withIdempotentRuntime([], async (runtime) => {
      expect((await callerAnswer(runtime, { idempotencyKey: "k-1", payload: QUOTE })).response.ok).toBe(true);
      const other = { ...QUOTE, items: [{ sku: "ABC-123", quantity: 3, unitPriceCents: 1999 }] };
      const reused = await callerAnswer(runtime, { idempotencyKey: "k-1", payload: other });
      expect(reused.ok).toBe(true);
      expect(reused.response).toMatchObject({
        ok: false,
        error: {
          code: "IDEMPOTENCY_KEY_REUSED",
          message: expect.stringContaining("idempotencyKey 'k-1' was already used for a different request"),
        },
      });
      expect(runsOf(runtime, "k-1")).toBe(1);
    });
  });

  it("asks for a key when a request to it has none (sent by hand: the caller always sends one)", async () => {
    await withIdempotentRuntime([], async (runtime) => {
      const res = await lambdaAs(runtime, "callee-admin").send(
        new InvokeCommand({ FunctionName: `${CALLEE}:live`, Payload: Buffer.from(JSON.stringify(QUOTE)) }),
      );
      expect(payloadOf(res)).toMatchObject({
        ok: false,
        error: {
          code: "VALIDATION_FAILED",
          issues: [{ path: "idempotencyKey", message: expect.stringContaining("this callee is idempotent") }],
        },
      });
      expect(served(runtime)).toEqual([]);
      expect(logged(runtime, "operation started")).toEqual([]);
    });
  });

  it("a reset after the callee ran: the caller sends it again (CALLEE_IDEMPOTENT), gets the stored answer, and the operation ran once", async () => {
    await withIdempotentRuntime([{ fault: "connection-reset-after-run", times: 1 }], async (runtime) => {
      const answer = await callerAnswer(runtime, { idempotencyKey: "reset-1", payload: QUOTE });
      expect(answer.ok).toBe(true);
      expect(answer.response).toMatchObject({ ok: true, idempotency: { key: "reset-1", replayed: true } });
      expect(calleeInvokes(runtime)).toBe(2);
      expect(runsOf(runtime, "reset-1")).toBe(1);
    });
  });

  it("an Event invocation delivered twice runs the operation once", async () => {
    await withIdempotentRuntime([{ fault: "event-delivered-twice" }], async (runtime) => {
      const res = await lambdaAs(runtime, "callee-admin").send(
        new InvokeCommand({
          FunctionName: `${CALLEE}:live`,
          InvocationType: "Event",
          Payload: Buffer.from(JSON.stringify({ ...QUOTE, idempotencyKey: "event-1" })),
        }),
      );
      expect(res.StatusCode).toBe(202);
      await runtime.whenIdle();
      const stats = runtime.asyncStats();
      expect(stats.queued).toBe(2);
      // Both deliveries succeed: the second one answered with the stored answer, or waited out the first in a retry.
      expect(stats.succeeded).toBe(2);
      expect(runsOf(runtime, "event-1")).toBe(1);
      expect(served(runtime).filter((e) => e.idempotencyKey === "event-1" && e.replayed === true).length).toBeGreaterThanOrEqual(1);
    });
  });

  it("without idempotency the same Event delivered twice runs it twice: the fault is real, and so is what the table prevents", async () => {
    await withRuntime(undefined, { faults: [{ fault: "event-delivered-twice" }] }, async (runtime) => {
      await lambdaAs(runtime, "callee-admin").send(
        new InvokeCommand({
          FunctionName: `${CALLEE}:live`,
          InvocationType: "Event",
          Payload: Buffer.from(JSON.stringify({ ...QUOTE, idempotencyKey: "event-1" })),
        }),
      );
      await runtime.whenIdle();
      // Without idempotency each run answers once ("request served"), and no answer is a stored one.
      expect(served(runtime).length).toBe(2);
      expect(served(runtime).every((e) => e.replayed === undefined)).toBe(true);
    });
  });
});
