/**
 * The soak: 10,000 invocations at concurrency 32 through the local runtime, mixing
 * synchronous chains with Event invocations of the caller and failing Event invocations of
 * the callee, then counting: every synchronous call answered, every Event either completed or
 * recorded in its on-failure destination, nothing lost. `make soak` runs it and fails on a loss.
 *
 * On stacks with an idempotent callee (`make soak` uses examples/idempotent-callee.json) every request carries its own
 * idempotency key, one synchronous chain in `replayEvery` sends again the key (and request) of a chain already
 * answered, as a client retry would, and the callee's log is counted: every business operation must have run exactly
 * once (one `operation started` line per key), and every replay must be answered from the table.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import * as fs from "fs";
import * as path from "path";
import type { LocalRuntime } from "../local/server/runtime";
import { bootLocalRuntime, PROJECT_ROOT } from "../local/start";
import { adminLambda, invokeChain, QUOTE_EVENT, runConcurrently, type ChainOutcome } from "./chain";
import { elapsedMs, round } from "./stats";

export interface SoakOptions {
  readonly total: number;
  readonly concurrency: number;
  /** One in `eventEvery` invocations is an Event of the caller, one an Event of the callee that fails. */
  readonly eventEvery: number;
  /**
   * With an idempotent callee: one synchronous chain in `replayEvery` repeats an answered chain's key and request, and
   * another sends a new request twice at once (both with one key), retrying "already in progress" as a client would.
   */
  readonly replayEvery?: number;
}

export const SOAK_DEFAULTS: SoakOptions = { total: 10_000, concurrency: 32, eventEvery: 20, replayEvery: 10 };

type Kind = "sync" | "replay" | "duplicate" | "caller-event" | "callee-failing-event";

/** With an idempotent callee: how often each business operation ran, counted from the callee's own log. */
export interface ExactlyOnce {
  /** Distinct idempotency keys whose operation succeeded (synchronous chains and caller Events answered ok). */
  readonly operations: number;
  readonly ran_once: number;
  readonly ran_more_than_once: number;
  readonly never_ran: number;
  /** Chains that sent an answered key again, and how many of them got the stored answer. */
  readonly replays: { readonly sent: number; readonly answered_from_store: number };
  /**
   * Requests sent twice at once with one key: pairs whose two answers were both ok and exactly one from the store, and
   * the client retries of "already in progress" (the second arrived while the first ran) they took.
   */
  readonly concurrent_duplicates: { readonly pairs: number; readonly one_ran_one_from_store: number; readonly in_progress_retries: number };
  /** The table requests the soak made (through the runtime's front door), by action, and per run of the callee. */
  readonly dynamodb_requests: Record<string, number>;
  readonly dynamodb_requests_per_callee_run: number;
}

interface Memory {
  readonly rss_mb: number;
  readonly heap_used_mb: number;
}

export interface SoakResult {
  readonly invocations: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly sync: { readonly sent: number; readonly answered: number; readonly ok: number; readonly errors: Record<string, number> };
  readonly events: {
    readonly sent: number;
    readonly accepted: number;
    readonly completed: number;
    readonly recorded_in_destination: number;
    readonly undelivered: number;
  };
  /** Runs of the callee during the soak: one per ok chain (synchronous or Event), three per failing Event (1 + 2 retries). */
  readonly callee_runs: { readonly expected: number; readonly actual: number };
  readonly lost: number;
  /** The benchmark process: the runtime and the load driver (the function processes are apart). */
  readonly runtime_memory_start: Memory;
  readonly runtime_memory_end: Memory;
  readonly execution_environments: Record<string, number>;
  /** Only with an idempotent callee. */
  readonly exactly_once?: ExactlyOnce;
}

const memory = (): Memory => {
  const m = process.memoryUsage();
  return { rss_mb: round(m.rss / 2 ** 20, 1), heap_used_mb: round(m.heapUsed / 2 ** 20, 1) };
};

function kindOf(i: number, every: number, replayEvery: number | undefined): Kind {
  if (i % every === 0) return "caller-event";
  if (i % every === Math.floor(every / 2)) return "callee-failing-event";
  if (replayEvery !== undefined && i % replayEvery === 3) return "replay";
  if (replayEvery !== undefined && i % replayEvery === 7) return "duplicate";
  return "sync";
}

/** The callee's runs of its business operation by idempotency key, from its `operation started` log lines (one per run). */
export class OperationRuns {
  private readonly runs = new Map<string, number>();

  /** Give it every log line of the callee (the runtime's onFunctionLog). */
  observe(line: string): void {
    if (!line.startsWith("{") || !line.includes('"operation started"')) return;
    const entry = JSON.parse(line) as { message?: string; idempotencyKey?: string };
    if (entry.message !== "operation started" || entry.idempotencyKey === undefined) return;
    this.runs.set(entry.idempotencyKey, (this.runs.get(entry.idempotencyKey) ?? 0) + 1);
  }

  of(key: string): number {
    return this.runs.get(key) ?? 0;
  }
}

async function sendEvent(client: LambdaClient, functionName: string, payload: unknown): Promise<boolean> {
  try {
    const res = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(payload)) }),
    );
    return res.StatusCode === 202;
  } catch {
    return false;
  }
}

export async function runSoak(
  runtime: LocalRuntime,
  options: SoakOptions = SOAK_DEFAULTS,
  operationRuns?: OperationRuns,
): Promise<SoakResult> {
  const caller = runtime.model.outputs.get("caller")?.caller_function_name as string;
  const callee = runtime.model.outputs.get("callee")?.callee_function_name as string;
  const calleeFn = [...runtime.model.functions.values()].find((f) => f.name === callee);
  const failureQueue = calleeFn?.asyncConfig?.onFailureDestination;
  if (!failureQueue) throw new Error(`the callee ${callee} has no on-failure destination; the soak counts failed events there`);
  // The event-invoke config belongs to the qualifier it names (the stacks: the alias live), so the failing events go there.
  const qualifier = calleeFn?.asyncConfig?.qualifier;
  const failingTarget = qualifier !== undefined ? `${callee}:${qualifier}` : callee;
  const asCaller = adminLambda(runtime, "caller-admin");
  const asCallee = adminLambda(runtime, "callee-admin");
  // Warm every environment first, so the start memory is that of a running system.
  await runConcurrently(options.concurrency * 2, options.concurrency, () => invokeChain(asCaller, caller));
  const start = memory();
  const before = runtime.asyncStats();
  const calleeRunsBefore = calleeRuns(runtime, callee);
  const countsBefore = runtime.requestCounts();
  const idempotent = runtime.model.tables.size > 0;
  if (idempotent && operationRuns === undefined)
    throw new Error("an idempotent callee's soak counts its runs: give runSoak an OperationRuns");
  const replayEvery = idempotent ? options.replayEvery : undefined;
  // Keys of chains answered ok, for the replays to send again; and the keys whose operation must have run once.
  const answered: string[] = [];
  const mustRunOnce = new Set<string>();
  const keyed = (event: object, key: string) => (idempotent ? { ...event, idempotencyKey: key } : event);
  // The callee answers "already in progress" (retryable) to a key that is running: retry it as a client would, for up
  // to 60 s. Each such answer is a run of the callee (not of its operation).
  let inProgressRetries = 0;
  let inProgressAnswers = 0;
  let pairChainsOk = 0;
  const chainRetryingInProgress = async (event: object): Promise<ChainOutcome> => {
    const began = Date.now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await invokeChain(asCaller, caller, event);
      const inProgress = !outcome.ok && outcome.error === "CALLEE_ERROR" && outcome.retryable === true;
      if (inProgress) inProgressAnswers++;
      if (outcome.ok) pairChainsOk++;
      if (!inProgress || Date.now() - began > 60_000) return outcome;
      inProgressRetries++;
      await new Promise((resolve) => setTimeout(resolve, Math.min(25 * attempt, 250)));
    }
  };
  const began = process.hrtime.bigint();
  const { results } = await runConcurrently(options.total, options.concurrency, async (i) => {
    const kind = kindOf(i, options.eventEvery, replayEvery);
    if (kind === "sync" || (kind === "replay" && answered.length === 0)) {
      const key = `soak-${i}`;
      const outcome = await invokeChain(asCaller, caller, keyed(QUOTE_EVENT, key));
      if (outcome.ok && idempotent) {
        answered.push(key);
        mustRunOnce.add(key);
      }
      return { kind: "sync" as Kind, outcome };
    }
    if (kind === "replay") {
      const key = answered[i % answered.length];
      return { kind, outcome: await invokeChain(asCaller, caller, keyed(QUOTE_EVENT, key)) };
    }
    if (kind === "duplicate") {
      const key = `duplicate-${i}`;
      const [a, b] = await Promise.all([0, 1].map(() => chainRetryingInProgress(keyed(QUOTE_EVENT, key))));
      if (a.ok && b.ok) mustRunOnce.add(key);
      const outcome: ChainOutcome & { oneFromStore: boolean } = {
        ok: a.ok && b.ok,
        ...(a.ok && b.ok ? {} : { error: a.error ?? b.error ?? "?" }),
        oneFromStore: a.replayed !== b.replayed,
      };
      return { kind, outcome };
    }
    const key = `${kind}-${i}`;
    const accepted =
      kind === "caller-event"
        ? await sendEvent(asCaller, caller, keyed(QUOTE_EVENT, key))
        : await sendEvent(asCallee, failingTarget, keyed({ operation: "fail" }, key));
    if (accepted && kind === "caller-event" && idempotent) mustRunOnce.add(key);
    return { kind, outcome: { ok: accepted, ...(accepted ? {} : { error: "not accepted" }) } };
  });
  await runtime.whenIdle();
  const seconds = round(elapsedMs(began) / 1000, 1);
  const after = runtime.asyncStats();
  const calleeRunsAfter = calleeRuns(runtime, callee);
  const countsAfter = runtime.requestCounts();
  const dynamodbRequests = Object.fromEntries(
    Object.keys(countsAfter)
      .filter((action) => action.startsWith("dynamodb:"))
      .sort()
      .map((action) => [action, (countsAfter[action] ?? 0) - (countsBefore[action] ?? 0)]),
  );
  asCaller.destroy();
  asCallee.destroy();

  // A replay is a synchronous chain too: the caller and the callee both run, the business operation does not. A
  // duplicate is one entry for two chains (and their retries).
  const isSync = (kind: Kind) => kind === "sync" || kind === "replay" || kind === "duplicate";
  const sync = results.filter((r) => isSync(r.kind));
  const replays = results.filter((r) => r.kind === "replay");
  const duplicates = results.filter((r) => r.kind === "duplicate");
  const events = results.filter((r) => !isSync(r.kind));
  const errors: Record<string, number> = {};
  for (const r of sync) if (!r.outcome.ok) errors[r.outcome.error ?? "?"] = (errors[r.outcome.error ?? "?"] ?? 0) + 1;
  // A synchronous call is answered when the caller's answer came back, whatever it says; a transport error is no answer.
  const unanswered = sync.filter(
    (r) => !r.outcome.ok && /^(TimeoutError|Error|AbortError|ECONN|socket)/.test(r.outcome.error ?? ""),
  ).length;
  const completed = after.succeeded - before.succeeded;
  const recorded = (after.delivered[failureQueue] ?? 0) - (before.delivered[failureQueue] ?? 0);
  const undelivered = after.undelivered - before.undelivered;
  const accepted = events.filter((r) => r.outcome.ok).length;
  // A caller Event "succeeds" even when its chain failed (the caller answers errors, it does not throw):
  // the callee's own run count shows whether every chain really reached it.
  const callerEvents = results.filter((r) => r.kind === "caller-event" && r.outcome.ok).length;
  const failingEvents = results.filter((r) => r.kind === "callee-failing-event" && r.outcome.ok).length;
  const attemptsPerFailingEvent = 1 + (calleeFn.asyncConfig?.maximumRetryAttempts ?? 2);
  // A pair's chains that answered ok, and every "in progress" answer, ran the callee (from the table, or to say so).
  const expectedCalleeRuns =
    sync.filter((r) => r.kind !== "duplicate" && r.outcome.ok).length +
    pairChainsOk +
    inProgressAnswers +
    callerEvents +
    attemptsPerFailingEvent * failingEvents;
  return {
    invocations: options.total,
    concurrency: options.concurrency,
    seconds,
    sync: { sent: sync.length, answered: sync.length - unanswered, ok: sync.filter((r) => r.outcome.ok).length, errors },
    events: { sent: events.length, accepted, completed, recorded_in_destination: recorded, undelivered },
    callee_runs: { expected: expectedCalleeRuns, actual: calleeRunsAfter - calleeRunsBefore },
    lost: unanswered + (events.length - completed - recorded) + Math.max(0, expectedCalleeRuns - (calleeRunsAfter - calleeRunsBefore)),
    runtime_memory_start: start,
    runtime_memory_end: memory(),
    // By function and version: xacct-demo-caller ($LATEST), xacct-demo-callee:1, ...
    execution_environments: Object.fromEntries(
      Object.entries(runtime.poolStats()).map(([arn, s]) => [arn.split(":function:").pop() as string, s.environments]),
    ),
    ...(idempotent && operationRuns
      ? {
          exactly_once: {
            operations: mustRunOnce.size,
            ran_once: [...mustRunOnce].filter((key) => operationRuns.of(key) === 1).length,
            ran_more_than_once: [...mustRunOnce].filter((key) => operationRuns.of(key) > 1).length,
            never_ran: [...mustRunOnce].filter((key) => operationRuns.of(key) === 0).length,
            replays: { sent: replays.length, answered_from_store: replays.filter((r) => r.outcome.replayed === true).length },
            concurrent_duplicates: {
              pairs: duplicates.length,
              one_ran_one_from_store: duplicates.filter(
                (r) => r.outcome.ok && "oneFromStore" in r.outcome && r.outcome.oneFromStore === true,
              ).length,
              in_progress_retries: inProgressRetries,
            },
            dynamodb_requests: dynamodbRequests,
            dynamodb_requests_per_callee_run: round(
              Object.values(dynamodbRequests).reduce((sum, n) => sum + n, 0) / Math.max(1, calleeRunsAfter - calleeRunsBefore),
              2,
            ),
          },
        }
      : {}),
  };
}

/** Runs of the callee, whichever of its versions ran ($LATEST's pool is keyed by the function ARN, a version's by <arn>:<n>). */
function calleeRuns(runtime: LocalRuntime, callee: string): number {
  return Object.entries(runtime.poolStats())
    .filter(([arn]) => arn.endsWith(`:function:${callee}`) || arn.includes(`:function:${callee}:`))
    .reduce((sum, [, stats]) => sum + stats.invocations, 0);
}

/** What a soak must show; empty when it holds. */
export function soakProblems(result: SoakResult): string[] {
  const problems: string[] = [];
  if (result.lost !== 0) problems.push(`${result.lost} invocation(s) lost`);
  if (result.sync.ok !== result.sync.sent)
    problems.push(`${result.sync.sent - result.sync.ok} synchronous chain(s) did not answer ok: ${JSON.stringify(result.sync.errors)}`);
  if (result.events.accepted !== result.events.sent)
    problems.push(`${result.events.sent - result.events.accepted} Event invocation(s) not accepted`);
  if (result.events.completed + result.events.recorded_in_destination !== result.events.sent) {
    problems.push(
      `Event invocations: ${result.events.sent} sent, ${result.events.completed} completed + ${result.events.recorded_in_destination} recorded`,
    );
  }
  if (result.callee_runs.actual !== result.callee_runs.expected)
    problems.push(
      `the callee ran ${result.callee_runs.actual} time(s), ${result.callee_runs.expected} expected: some chains did not reach it`,
    );
  if (result.events.undelivered !== 0) problems.push(`${result.events.undelivered} failed Event invocation(s) reached no destination`);
  const once = result.exactly_once;
  if (once !== undefined) {
    if (once.ran_more_than_once > 0) problems.push(`${once.ran_more_than_once} business operation(s) ran more than once`);
    if (once.never_ran > 0) problems.push(`${once.never_ran} business operation(s) answered ok but never ran`);
    if (once.replays.answered_from_store !== once.replays.sent)
      problems.push(
        `${once.replays.sent - once.replays.answered_from_store} of ${once.replays.sent} replay(s) not answered from the table`,
      );
    const pairs = once.concurrent_duplicates;
    if (pairs.one_ran_one_from_store !== pairs.pairs)
      problems.push(
        `${pairs.pairs - pairs.one_ran_one_from_store} of ${pairs.pairs} concurrent duplicate(s) not run once and answered once from the table`,
      );
  }
  return problems;
}

/** The stacks `make soak` runs on: synthesized from examples/idempotent-callee.json by the Makefile. */
export const IDEMPOTENT_STACKS = path.join(PROJECT_ROOT, "build", "synth", "idempotent-callee");

/** The runtime for a load run, and the counter of the callee's operation runs fed from its log. */
export async function bootForLoad(outDir = path.join(PROJECT_ROOT, "cdktf.out")): Promise<LocalRuntime & { operationRuns: OperationRuns }> {
  const operationRuns = new OperationRuns();
  // The stacks reserve no concurrency, so 32 chains share each account's unreserved pool (1,000, as in AWS) and the
  // figures measure the runtime, not a throttle. Failed Event invocations are retried after 20 ms × attempt, not minutes.
  const runtime = await bootLocalRuntime({
    outDir,
    skipSynth: true,
    asyncRetryDelayMs: 20,
    onFunctionLog: (fn, line) => {
      if (fn.endsWith("-callee")) operationRuns.observe(line);
    },
  });
  return Object.assign(runtime, { operationRuns });
}

async function main(): Promise<void> {
  const runtime = await bootForLoad(IDEMPOTENT_STACKS);
  try {
    const result = await runSoak(runtime, SOAK_DEFAULTS, runtime.operationRuns);
    const file = path.join(PROJECT_ROOT, "build", "soak-results.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const problems = soakProblems(result);
    const summary =
      `${result.invocations} invocations at concurrency ${result.concurrency} in ${result.seconds} s: ${result.sync.ok}/${result.sync.sent} synchronous answered ok, ` +
      `${result.events.completed} events completed + ${result.events.recorded_in_destination} recorded in the on-failure queue of ${result.events.sent} sent, ${result.lost} lost; ` +
      (result.exactly_once
        ? `idempotent callee: ${result.exactly_once.ran_once} of ${result.exactly_once.operations} business operations ran exactly once, ` +
          `${result.exactly_once.replays.answered_from_store} of ${result.exactly_once.replays.sent} replays and ` +
          `${result.exactly_once.concurrent_duplicates.one_ran_one_from_store} of ${result.exactly_once.concurrent_duplicates.pairs} concurrent pairs answered from the table; `
        : "") +
      `benchmark process RSS ${result.runtime_memory_start.rss_mb} -> ${result.runtime_memory_end.rss_mb} MB (${path.relative(process.cwd(), file)})`;
    if (problems.length > 0) {
      console.error(`soak: FAIL: ${summary}\n  ${problems.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log(`soak: ${summary}`);
    }
  } finally {
    await runtime.stop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`soak: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
