/**
 * `make bench`: every figure of the performance section in one run, written to
 * bench/results.json and printed as a table. Ratios are what to compare across machines;
 * nothing here is asserted as a time in a test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureSynthesized } from "../core/model/freshness";
import { loadAccountsModel } from "../core/model/load-model";
import { prepareFunctionCode } from "../local/exec/code-cache";
import { PROJECT_ROOT } from "../local/start";
import { measureChainLatency, measureCredentialReuse, measureRuntimeOverhead } from "./chain";
import { measureInit } from "./init";
import { bootForLoad, runSoak, soakProblems } from "./soak";
import { measureSynth, measureUnitTests } from "./synth";

const RESULTS_FILE = path.join(PROJECT_ROOT, "bench", "results.json");
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** The callee's handler loaded in this process; its log lines are formatted but not written, as a fair in-process baseline. */
function inProcessCallee(model: ReturnType<typeof loadAccountsModel>) {
  const fn = [...model.functions.values()].find((f) => f.source.stack === "callee");
  if (!fn) throw new Error("no callee function in cdktf.out");
  const root = prepareFunctionCode(fn.name, fn.zipPath, fn.zipSha256, path.join(PROJECT_ROOT, "build", "bench", "code"));
  Object.assign(process.env, fn.environment, { AWS_REGION: fn.region, AWS_LAMBDA_FUNCTION_NAME: fn.name });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(root, "index.js")) as { handler: (e: unknown, c: unknown) => Promise<unknown> };
  return {
    name: fn.name,
    handler: async (event: unknown, context: unknown) => {
      const write = process.stdout.write;
      process.stdout.write = (() => true) as typeof process.stdout.write;
      try {
        return await mod.handler(event, context);
      } finally {
        process.stdout.write = write;
      }
    },
  };
}

async function main(): Promise<void> {
  const outDir = path.join(PROJECT_ROOT, "cdktf.out");
  await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, log });
  const model = loadAccountsModel(outDir);

  log("synthesis, 5 runs each with deep imports and with the barrel");
  const synth = measureSynth(5);
  log("unit tests");
  const unit = measureUnitTests();
  log("function init, 20 fresh processes each, bundled and unbundled");
  const functions = Object.fromEntries([...model.functions.values()].map((fn) => [fn.source.stack, measureInit(fn, 20)]));

  const runtime = await bootForLoad();
  let results: Record<string, unknown>;
  try {
    const caller = runtime.model.outputs.get("caller")?.caller_function_name as string;
    log("1,000 warm caller invocations: AssumeRole calls and hot-path API calls");
    const reuse = await measureCredentialReuse(runtime, caller);
    log("chain latency at concurrency 1, 8 and 32");
    const latency = await measureChainLatency(runtime, caller, [1, 8, 32], (c) => (c === 1 ? 300 : c === 8 ? 800 : 1600));
    log("runtime overhead against the handler in-process");
    const overhead = await measureRuntimeOverhead(runtime, inProcessCallee(model));
    log("soak: 10,000 invocations at concurrency 32");
    const soak = await runSoak(runtime);
    const problems = soakProblems(soak);
    if (problems.length > 0) throw new Error(`the soak failed: ${problems.join("; ")}`);
    results = {
      generated_at: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model ?? "unknown",
        memory_gb: Math.round(os.totalmem() / 2 ** 30),
      },
      ...synth,
      ...unit,
      functions,
      sts_assume_role_per_1000_invocations: reuse.sts_assume_role_per_1000_invocations,
      hot_path_api_calls_per_invocation: reuse.hot_path_api_calls_per_invocation,
      hot_path_calls_in_1000_warm_invocations: reuse.hot_path_calls,
      chain_latency_ms: Object.fromEntries(
        latency.map((l) => [
          `concurrency_${l.concurrency}`,
          { p50: l.p50_ms, p95: l.p95_ms, invocations: l.invocations, failed: l.failed, throughput_per_s: l.throughput_per_s },
        ]),
      ),
      chain_throughput_per_s: Math.max(...latency.map((l) => l.throughput_per_s)),
      ...overhead,
      soak,
    };
  } finally {
    await runtime.stop();
  }
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  printTable(results);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

function printTable(r: Record<string, unknown>): void {
  const rows: [string, string][] = [];
  const add = (name: string, value: unknown) => rows.push([name, typeof value === "object" ? JSON.stringify(value) : String(value)]);
  add("synth_seconds (median of 5, both stacks)", r.synth_seconds);
  add("synth_barrel_import_ratio", r.synth_barrel_import_ratio);
  add("unit_tests_seconds", `${r.unit_tests_seconds} (${r.unit_tests} tests)`);
  for (const [name, f] of Object.entries(r.functions as Record<string, Record<string, number>>)) {
    add(`${name}: zip_bytes`, f.zip_bytes);
    add(
      `${name}: init_ms (median of 20)`,
      `${f.init_ms} (unbundled ${f.unbundled_init_ms}, ratio ${f.init_ratio_vs_unbundled}; as ESM ${f.esm_init_ms}, ratio ${f.esm_ratio_vs_cjs}; main-first ${f.main_first_init_ms}, ratio ${f.main_first_ratio_vs_shipped})`,
    );
  }
  add("sts_assume_role_per_1000_invocations", r.sts_assume_role_per_1000_invocations);
  add("hot_path_api_calls_per_invocation", r.hot_path_api_calls_per_invocation);
  for (const [level, l] of Object.entries(r.chain_latency_ms as Record<string, Record<string, number>>))
    add(
      `chain_latency_ms ${level.replace("_", " ")}`,
      `p50 ${l.p50}, p95 ${l.p95}, ${l.throughput_per_s}/s, ${l.failed} failed of ${l.invocations}`,
    );
  add("chain_throughput_per_s", r.chain_throughput_per_s);
  add(
    "runtime_overhead_ratio",
    `${r.runtime_overhead_ratio} (${r.through_runtime_median_ms} ms through the runtime, ${r.in_process_median_ms} ms in-process)`,
  );
  const soak = r.soak as {
    invocations: number;
    seconds: number;
    lost: number;
    runtime_memory_start: { rss_mb: number };
    runtime_memory_end: { rss_mb: number };
  };
  add(
    "soak",
    `${soak.invocations} invocations in ${soak.seconds} s, ${soak.lost} lost, benchmark process RSS ${soak.runtime_memory_start.rss_mb} -> ${soak.runtime_memory_end.rss_mb} MB`,
  );
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}${v}`);
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
