/** Synthesis time of both stacks (main.ts, transpile-only, deep imports), and the same with the provider's barrel loaded. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../local/start";
import { elapsedMs, median, round } from "./stats";

function synthOnce(extraNodeArgs: readonly string[]): number {
  const outDir = path.join(PROJECT_ROOT, "build", "bench", "synth-out");
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, [...extraNodeArgs, "--import", "tsx", "main.ts"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outDir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const ms = elapsedMs(start);
  if (!fs.existsSync(path.join(outDir, "stacks", "caller", "cdk.tf.json")))
    throw new Error(`synthesis wrote no caller stack into ${outDir}`);
  return ms;
}

export interface SynthTimes {
  readonly synth_seconds: number;
  readonly synth_barrel_seconds: number;
  readonly synth_barrel_import_ratio: number;
}

export function measureSynth(runs = 5): SynthTimes {
  const ours = median(Array.from({ length: runs }, () => synthOnce([])));
  const barrel = median(
    Array.from({ length: runs }, () => synthOnce(["--require", path.join(PROJECT_ROOT, "bench", "barrel-preload.cjs")])),
  );
  return {
    synth_seconds: round(ours / 1000, 3),
    synth_barrel_seconds: round(barrel / 1000, 3),
    synth_barrel_import_ratio: round(barrel / ours, 2),
  };
}

/** The unit suites (no runtime, no processes): configuration, constructs, stacks, handlers, properties. */
export function measureUnitTests(): { unit_tests_seconds: number; unit_tests: number } {
  const start = process.hrtime.bigint();
  const out = path.join(PROJECT_ROOT, "build", "bench", "unit-tests.json");
  execFileSync(
    process.execPath,
    [
      path.join(PROJECT_ROOT, "node_modules", "jest", "bin", "jest.js"),
      "--json",
      `--outputFile=${out}`,
      "__tests__/config.test.ts",
      "__tests__/constructs.test.ts",
      "__tests__/stacks.test.ts",
      "__tests__/lambda",
      "__tests__/properties",
    ],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  const seconds = elapsedMs(start) / 1000;
  const report = JSON.parse(fs.readFileSync(out, "utf8")) as { numTotalTests: number; numFailedTests: number };
  if (report.numFailedTests > 0) throw new Error(`${report.numFailedTests} unit test(s) failed; the benchmark measures a passing suite`);
  return { unit_tests_seconds: round(seconds, 2), unit_tests: report.numTotalTests };
}
