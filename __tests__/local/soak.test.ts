/**
 * The soak's accounting on a short run (the 10,000-invocation soak itself is `make soak`,
 * part of `make test`): every call counted once, nothing lost, and a loss is reported.
 */
import * as path from "path";
import { bootForLoad, runSoak, soakProblems, type SoakResult } from "../../bench/soak";
import { PROJECT_ROOT } from "../../local/start";
import { stacksSynthesizedWith } from "./support";

describe("the soak", () => {
  it("counts 200 mixed invocations at concurrency 8: every synchronous call answered, every Event completed or in its destination", async () => {
    const runtime = await bootForLoad();
    try {
      const result = await runSoak(runtime, { total: 200, concurrency: 8, eventEvery: 20 });
      expect(result.sync).toEqual({ sent: 180, answered: 180, ok: 180, errors: {} });
      expect(result.events).toEqual({ sent: 20, accepted: 20, completed: 10, recorded_in_destination: 10, undelivered: 0 });
      // 180 + 10 chains reach the callee once each; 10 failing events run it 3 times each.
      expect(result.callee_runs).toEqual({ expected: 220, actual: 220 });
      expect(result.lost).toBe(0);
      expect(soakProblems(result)).toEqual([]);
      // Each failing Event ran 1 + maximum_retry_attempts (2) times before its record was sent.
      const queue = runtime.model.functions.get("arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee")?.asyncConfig
        ?.onFailureDestination as string;
      expect(
        runtime
          .destinations(queue)
          .slice(-10)
          .map((r) => r.requestContext.approximateInvokeCount),
      ).toEqual(Array(10).fill(3));
      expect(result.runtime_memory_end.rss_mb).toBeGreaterThan(0);
    } finally {
      await runtime.stop();
    }
  });

  it("with an idempotent callee: every business operation of 200 invocations ran exactly once, every replay and concurrent duplicate was answered from the table", async () => {
    const outDir = await stacksSynthesizedWith({ XACCT_CONFIG_FILE: path.join(PROJECT_ROOT, "examples", "idempotent-callee.json") });
    const runtime = await bootForLoad(outDir);
    try {
      const result = await runSoak(runtime, { total: 200, concurrency: 8, eventEvery: 20, replayEvery: 10 }, runtime.operationRuns);
      expect(result.sync).toEqual({ sent: 180, answered: 180, ok: 180, errors: {} });
      expect(result.events).toEqual({ sent: 20, accepted: 20, completed: 10, recorded_in_destination: 10, undelivered: 0 });
      const once = result.exactly_once!;
      // i % 10 == 3 replays an answered chain (the first few find none answered yet and run as new chains instead).
      expect(once.replays.sent).toBeGreaterThanOrEqual(15);
      expect(once.replays.answered_from_store).toBe(once.replays.sent);
      // i % 10 == 7 sends a new request twice at once: one of the two ran it, the other was answered from the table
      // (at once, or after retrying "already in progress").
      expect(once.concurrent_duplicates).toMatchObject({ pairs: 20, one_ran_one_from_store: 20 });
      // Every other synchronous chain (a duplicate pair is one) and every caller Event is one operation with a key of its own.
      expect(once.operations).toBe(180 - once.replays.sent + 10);
      expect(once).toMatchObject({ ran_once: once.operations, ran_more_than_once: 0, never_ran: 0 });
      // The callee still ran for every chain (replays and both of a pair, answered from the table), each client retry of
      // "in progress", and 3 times per failing event.
      const runs = 220 + 20 + once.concurrent_duplicates.in_progress_retries;
      expect(result.callee_runs).toEqual({ expected: runs, actual: runs });
      expect(soakProblems(result)).toEqual([]);
      // A new key writes its record and then its answer; a replay's conditional PutItem fails and returns the stored one.
      expect(once.dynamodb_requests["dynamodb:UpdateItem"]).toBe(once.operations);
      expect(once.dynamodb_requests["dynamodb:PutItem"]).toBeGreaterThanOrEqual(once.operations + once.replays.sent + 20);
    } finally {
      await runtime.stop();
    }
  }, 120_000);

  it("reports a lost invocation, an unanswered chain and an event with no destination", () => {
    const clean: SoakResult = {
      invocations: 10,
      concurrency: 2,
      seconds: 1,
      sync: { sent: 8, answered: 8, ok: 8, errors: {} },
      events: { sent: 2, accepted: 2, completed: 1, recorded_in_destination: 1, undelivered: 0 },
      callee_runs: { expected: 12, actual: 12 },
      lost: 0,
      runtime_memory_start: { rss_mb: 1, heap_used_mb: 1 },
      runtime_memory_end: { rss_mb: 1, heap_used_mb: 1 },
      execution_environments: {},
    };
    expect(soakProblems(clean)).toEqual([]);
    expect(soakProblems({ ...clean, lost: 1, sync: { sent: 8, answered: 7, ok: 7, errors: { TimeoutError: 1 } } })).toEqual([
      "1 invocation(s) lost",
      '1 synchronous chain(s) did not answer ok: {"TimeoutError":1}',
    ]);
    expect(soakProblems({ ...clean, callee_runs: { expected: 12, actual: 11 } })).toEqual([
      "the callee ran 11 time(s), 12 expected: some chains did not reach it",
    ]);
    const once = {
      operations: 9,
      ran_once: 9,
      ran_more_than_once: 0,
      never_ran: 0,
      replays: { sent: 1, answered_from_store: 1 },
      concurrent_duplicates: { pairs: 2, one_ran_one_from_store: 2, in_progress_retries: 1 },
      dynamodb_requests: {},
      dynamodb_requests_per_callee_run: 2,
    };
    expect(soakProblems({ ...clean, exactly_once: once })).toEqual([]);
    expect(
      soakProblems({
        ...clean,
        exactly_once: {
          ...once,
          ran_once: 7,
          ran_more_than_once: 1,
          never_ran: 1,
          replays: { sent: 1, answered_from_store: 0 },
          concurrent_duplicates: { pairs: 2, one_ran_one_from_store: 1, in_progress_retries: 0 },
        },
      }),
    ).toEqual([
      "1 business operation(s) ran more than once",
      "1 business operation(s) answered ok but never ran",
      "1 of 1 replay(s) not answered from the table",
      "1 of 2 concurrent duplicate(s) not run once and answered once from the table",
    ]);
    expect(soakProblems({ ...clean, events: { ...clean.events, recorded_in_destination: 0, undelivered: 1 } })).toEqual([
      "Event invocations: 2 sent, 1 completed + 0 recorded",
      "1 failed Event invocation(s) reached no destination",
    ]);
  });
});
