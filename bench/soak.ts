/**
 * The soak: 10,000 invocations at concurrency 32 through the local runtime, mixing
 * synchronous chains with Event invocations of the caller and failing Event invocations of
 * the callee, then counting: every synchronous call answered, every Event either completed or
 * recorded in its on-failure destination, nothing lost. `make soak` runs it and fails on a loss.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import * as fs from "fs";
import * as path from "path";
import type { LocalRuntime } from "../local/server/runtime";
import { bootLocalRuntime, PROJECT_ROOT } from "../local/start";
import { adminLambda, invokeChain, QUOTE_EVENT, runConcurrently } from "./chain";
import { elapsedMs, round } from "./stats";

export interface SoakOptions {
  readonly total: number;
  readonly concurrency: number;
  /** One in `eventEvery` invocations is an Event of the caller, one an Event of the callee that fails. */
  readonly eventEvery: number;
}

export const SOAK_DEFAULTS: SoakOptions = { total: 10_000, concurrency: 32, eventEvery: 20 };

type Kind = "sync" | "caller-event" | "callee-failing-event";

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
}

const memory = (): Memory => {
  const m = process.memoryUsage();
  return { rss_mb: round(m.rss / 2 ** 20, 1), heap_used_mb: round(m.heapUsed / 2 ** 20, 1) };
};

function kindOf(i: number, every: number): Kind {
  if (i % every === 0) return "caller-event";
  if (i % every === Math.floor(every / 2)) return "callee-failing-event";
  return "sync";
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

export async function runSoak(runtime: LocalRuntime, options: SoakOptions = SOAK_DEFAULTS): Promise<SoakResult> {
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
  const began = process.hrtime.bigint();
  const { results } = await runConcurrently(options.total, options.concurrency, async (i) => {
    const kind = kindOf(i, options.eventEvery);
    if (kind === "sync") return { kind, outcome: await invokeChain(asCaller, caller) };
    const accepted =
      kind === "caller-event"
        ? await sendEvent(asCaller, caller, QUOTE_EVENT)
        : await sendEvent(asCallee, failingTarget, { operation: "fail" });
    return { kind, outcome: { ok: accepted, ...(accepted ? {} : { error: "not accepted" }) } };
  });
  await runtime.whenIdle();
  const seconds = round(elapsedMs(began) / 1000, 1);
  const after = runtime.asyncStats();
  const calleeRunsAfter = calleeRuns(runtime, callee);
  asCaller.destroy();
  asCallee.destroy();

  const sync = results.filter((r) => r.kind === "sync");
  const events = results.filter((r) => r.kind !== "sync");
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
  const expectedCalleeRuns = sync.filter((r) => r.outcome.ok).length + callerEvents + attemptsPerFailingEvent * failingEvents;
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
  return problems;
}

export async function bootForLoad(): Promise<LocalRuntime> {
  // The stacks reserve no concurrency, so 32 chains share each account's unreserved pool (1,000, as in AWS) and the
  // figures measure the runtime, not a throttle. Failed Event invocations are retried after 20 ms × attempt, not minutes.
  return bootLocalRuntime({ outDir: path.join(PROJECT_ROOT, "cdktf.out"), skipSynth: true, asyncRetryDelayMs: 20 });
}

async function main(): Promise<void> {
  const runtime = await bootForLoad();
  try {
    const result = await runSoak(runtime);
    const file = path.join(PROJECT_ROOT, "build", "soak-results.json");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const problems = soakProblems(result);
    const summary =
      `${result.invocations} invocations at concurrency ${result.concurrency} in ${result.seconds} s: ${result.sync.ok}/${result.sync.sent} synchronous answered ok, ` +
      `${result.events.completed} events completed + ${result.events.recorded_in_destination} recorded in the on-failure queue of ${result.events.sent} sent, ${result.lost} lost; ` +
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
