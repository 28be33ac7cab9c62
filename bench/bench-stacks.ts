/**
 * The benchmark and the soak drive up to 32 chains at once; the stacks reserve 10 executions
 * per function (a deliberate production default). They run on a copy of cdktf.out with more
 * reserved, so the numbers measure the runtime, not the throttle.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../local/start";

export const BENCH_RESERVED_CONCURRENCY = 40;

export function stacksWithReservedConcurrency(reserved: number, sourceDir = path.join(PROJECT_ROOT, "cdktf.out")): string {
  const dir = path.join(PROJECT_ROOT, "build", "bench", `stacks-reserved-${reserved}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(sourceDir, dir, { recursive: true });
  for (const stack of ["caller", "callee"]) {
    const file = path.join(dir, "stacks", stack, "cdk.tf.json");
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const fn of Object.values(json.resource.aws_lambda_function as Record<string, Record<string, unknown>>)) fn.reserved_concurrent_executions = reserved;
    fs.writeFileSync(file, JSON.stringify(json, null, 2));
  }
  return dir;
}
