/**
 * Measurements through the local runtime: credential reuse, API calls on the hot path,
 * chain latency and throughput under concurrency, and the runtime's own overhead against
 * calling the handler in-process.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { LocalRuntime } from "../local/server/runtime";
import { elapsedMs, median, percentile, round } from "./stats";

export const QUOTE_EVENT = {
  payload: { operation: "quote", currency: "EUR", items: [{ sku: "ABC-123", quantity: 2, unitPriceCents: 1999 }] },
};

/** A real SDK client as an account's administrator, one attempt; the SDK's agent keeps 50 sockets alive, enough for 32 at once. */
export function adminLambda(runtime: LocalRuntime, profile: "caller-admin" | "callee-admin"): LambdaClient {
  const c = runtime.credentials(profile);
  return new LambdaClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    },
    maxAttempts: 1,
  });
}

export interface ChainOutcome {
  readonly ok: boolean;
  readonly error?: string;
  /** An idempotent callee's word on the answer: true when it was the one stored for the key (the operation did not run). */
  readonly replayed?: boolean;
  /** The caller's `retryable` on a failed chain. */
  readonly retryable?: boolean;
}

/** One caller invocation, judged by the caller's own answer. */
export async function invokeChain(client: LambdaClient, functionName: string, event: unknown = QUOTE_EVENT): Promise<ChainOutcome> {
  try {
    const res = await client.send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }));
    if (res.FunctionError) return { ok: false, error: `FunctionError ${res.FunctionError}` };
    const answer = JSON.parse(Buffer.from(res.Payload ?? new Uint8Array()).toString("utf8"));
    if (answer.ok !== true) return { ok: false, error: answer.error?.code ?? "no ok", retryable: answer.error?.retryable === true };
    // The caller's ok is the cross-account call's; the callee's own verdict (a reused key, bad input) is inside.
    if (answer.response?.ok === false) return { ok: false, error: answer.response.error?.code ?? "callee not ok" };
    const replayed = answer.response?.idempotency?.replayed;
    return typeof replayed === "boolean" ? { ok: true, replayed } : { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).name };
  }
}

/** Runs `total` calls of `task` with `concurrency` workers; returns each call's latency. */
export async function runConcurrently<T>(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<{ latencies: number[]; results: T[]; wallMs: number }> {
  const latencies: number[] = new Array(total);
  const results: T[] = new Array(total);
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = process.hrtime.bigint();
        results[i] = await task(i);
        latencies[i] = elapsedMs(t);
      }
    }),
  );
  return { latencies, results, wallMs: elapsedMs(start) };
}

/** Who signed each request the runtime served, counted from its audit log while `body` runs. */
export async function countByPrincipal(runtime: LocalRuntime, body: () => Promise<void>): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const unsubscribe = runtime.audit.subscribe((e) =>
    counts.set(`${e.principal} ${e.action}`, (counts.get(`${e.principal} ${e.action}`) ?? 0) + 1),
  );
  try {
    await body();
  } finally {
    unsubscribe();
  }
  return counts;
}

export interface CredentialReuse {
  readonly sts_assume_role_per_1000_invocations: number;
  readonly hot_path_api_calls_per_invocation: number;
  readonly hot_path_calls: Record<string, number>;
}

/**
 * 1,000 caller invocations one after another (one execution environment, as Lambda would
 * reuse it): AssumeRole calls counted by the runtime, and the AWS calls the caller's code
 * makes per warm invocation (its own role's and the invoker session's requests).
 */
export async function measureCredentialReuse(runtime: LocalRuntime, callerName: string): Promise<CredentialReuse> {
  const client = adminLambda(runtime, "caller-admin");
  const before = runtime.requestCounts()["sts:AssumeRole"] ?? 0;
  const total = () => Object.values(runtime.requestCounts()).reduce((n, c) => n + c, 0);
  const first = await invokeChain(client, callerName);
  if (!first.ok) throw new Error(`the first chain invocation failed: ${first.error}`);
  const warm = 999;
  const requestsBefore = total();
  const counts = await countByPrincipal(runtime, async () => {
    for (let i = 0; i < warm; i++) {
      const outcome = await invokeChain(client, callerName);
      if (!outcome.ok) throw new Error(`chain invocation ${i + 2} failed: ${outcome.error}`);
    }
  });
  const assumeRole = (runtime.requestCounts()["sts:AssumeRole"] ?? 0) - before;
  // Every request the runtime received, refused and unknown ones included, less the benchmark's own Invokes of the caller.
  const callerRequests = total() - requestsBefore - warm;
  // The caller's code signs as its execution role (AssumeRole) and as the invoker session (Invoke).
  const byCaller = [...counts].filter(([key]) => /assumed-role\/[^/]+-(caller-exec|callee-invoker)\//.test(key));
  client.destroy();
  return {
    sts_assume_role_per_1000_invocations: assumeRole,
    hot_path_api_calls_per_invocation: round(callerRequests / warm, 3),
    hot_path_calls: Object.fromEntries(byCaller.map(([key, c]) => [key.replace(/^.*assumed-role\/([^/]+)\/\S+ /, "$1 "), c])),
  };
}

export interface LatencyAt {
  readonly concurrency: number;
  readonly invocations: number;
  readonly p50_ms: number;
  readonly p95_ms: number;
  readonly throughput_per_s: number;
  readonly failed: number;
}

export async function measureChainLatency(
  runtime: LocalRuntime,
  callerName: string,
  levels: readonly number[],
  invocationsPer: (c: number) => number,
): Promise<LatencyAt[]> {
  const out: LatencyAt[] = [];
  for (const concurrency of levels) {
    const client = adminLambda(runtime, "caller-admin");
    // Warm every environment this level will use before timing it.
    await runConcurrently(concurrency * 2, concurrency, () => invokeChain(client, callerName));
    const total = invocationsPer(concurrency);
    const { latencies, results, wallMs } = await runConcurrently(total, concurrency, () => invokeChain(client, callerName));
    const failed = results.filter((r) => !r.ok);
    // A fast refusal would flatter the percentiles: a level with failures is no measurement.
    if (failed.length > 0)
      throw new Error(
        `${failed.length} of ${total} chains failed at concurrency ${concurrency} (${failed[0].error}); latency is measured on successful chains only`,
      );
    out.push({
      concurrency,
      invocations: total,
      p50_ms: round(median(latencies)),
      p95_ms: round(percentile(latencies, 95)),
      throughput_per_s: round((total / wallMs) * 1000, 1),
      failed: results.filter((r) => !r.ok).length,
    });
    client.destroy();
  }
  return out;
}

/**
 * The callee through the runtime (SigV4, authorization, the warm child process) against the
 * same handler called in-process: what the runtime adds to one invocation.
 */
export async function measureRuntimeOverhead(
  runtime: LocalRuntime,
  callee: { name: string; handler: (event: unknown, context: unknown) => Promise<unknown> },
  n = 500,
): Promise<{ in_process_median_ms: number; through_runtime_median_ms: number; runtime_overhead_ratio: number }> {
  const event = { operation: "quote", currency: "EUR", items: [{ sku: "ABC-123", quantity: 2, unitPriceCents: 1999 }] };
  const context = { awsRequestId: "bench", functionName: callee.name, getRemainingTimeInMillis: () => 10_000 };
  for (let i = 0; i < 50; i++) await callee.handler(event, context);
  const inProcess: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await callee.handler(event, context);
    inProcess.push(elapsedMs(t));
  }
  const client = adminLambda(runtime, "callee-admin");
  const send = () => client.send(new InvokeCommand({ FunctionName: callee.name, Payload: Buffer.from(JSON.stringify(event)) }));
  for (let i = 0; i < 20; i++) await send();
  const through: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const res = await send();
    through.push(elapsedMs(t));
    if (res.FunctionError)
      throw new Error(`callee failed in the overhead run: ${Buffer.from(res.Payload ?? new Uint8Array()).toString("utf8")}`);
  }
  client.destroy();
  const a = median(inProcess);
  const b = median(through);
  return { in_process_median_ms: round(a, 4), through_runtime_median_ms: round(b, 3), runtime_overhead_ratio: round(b / a, 1) };
}
