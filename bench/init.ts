/**
 * Cold-start cost the function's own code adds: loading the module and constructing its SDK
 * clients (both happen at import, once per execution environment), in fresh Node processes.
 * The deployed bundle is compared with the same handler loaded from unbundled node_modules.
 */
import { execFileSync } from "child_process";
import { buildSync } from "esbuild";
import * as fs from "fs";
import * as path from "path";
import { prepareFunctionCode } from "../local/exec/code-cache";
import type { FunctionModel } from "../core/model/types";
import { PROJECT_ROOT } from "../local/start";
import { median, round } from "./stats";

const PROBE = `const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
/** The same for an ES module, as Lambda's Node.js runtime loads an .mjs handler: import(). */
const ESM_PROBE = `const t=process.hrtime.bigint();import(require("url").pathToFileURL(process.argv[1]).href).then(()=>process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)));`;

/** Lambda's view of the environment at init: the stack's variables, the region, placeholder credentials. */
function initEnvironment(fn: FunctionModel): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...fn.environment,
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySizeMb),
    AWS_ACCESS_KEY_ID: "ASIABENCHMARK0000000",
    AWS_SECRET_ACCESS_KEY: "benchmark",
    AWS_SESSION_TOKEN: "benchmark",
  };
}

function timeLoads(modulePath: string, env: NodeJS.ProcessEnv, runs: number, probe = PROBE): number[] {
  return Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ["-e", probe, modulePath], { env, encoding: "utf8" })));
}

/**
 * The deployed bundle's build as an ES module (the other format nodejs22.x loads), or with esbuild's default mainFields:
 * what the stacks ship is kept only while it measures lower. An ES module gets its require back through createRequire.
 */
function variantBundle(fn: FunctionModel, variant: "esm" | "main-first"): string {
  const side = fn.source.stack;
  const outfile = path.join(PROJECT_ROOT, "build", "bench", variant, side, variant === "esm" ? "index.mjs" : "index.js");
  buildSync({
    entryPoints: [path.join(PROJECT_ROOT, "lambda-src", side, "index.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: variant === "esm" ? "esm" : "cjs",
    minify: true,
    treeShaking: true,
    // The shipped bundle reads packages' ES builds first ("module"); esbuild's default for node reads "main" first.
    mainFields: variant === "esm" ? ["module", "main"] : ["main", "module"],
    legalComments: "none",
    ...(variant === "esm"
      ? { banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" } }
      : {}),
    logLevel: "error",
  });
  return outfile;
}

/** The handler's source, bundled for our own files only: every package is required from node_modules. */
function unbundledEntry(fn: FunctionModel): string {
  const side = fn.source.stack;
  const outfile = path.join(PROJECT_ROOT, "build", "bench", "unbundled", side, "index.js");
  buildSync({
    entryPoints: [path.join(PROJECT_ROOT, "lambda-src", side, "index.ts")],
    outfile,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node22",
    format: "cjs",
    logLevel: "error",
  });
  return outfile;
}

export interface FunctionInit {
  readonly zip_bytes: number;
  readonly init_ms: number;
  readonly unbundled_init_ms: number;
  readonly init_ratio_vs_unbundled: number;
  /** The same bundle as an ES module, and its import against the CommonJS one the stacks ship. */
  readonly esm_init_ms: number;
  readonly esm_ratio_vs_cjs: number;
  /** The same CommonJS bundle with esbuild's default mainFields for node ("main" first), against the shipped one. */
  readonly main_first_init_ms: number;
  readonly main_first_ratio_vs_shipped: number;
}

export function measureInit(fn: FunctionModel, runs = 20): FunctionInit {
  const taskRoot = prepareFunctionCode(fn.name, fn.zipPath, fn.zipSha256, path.join(PROJECT_ROOT, "build", "bench", "code"));
  const handlerFile = path.join(taskRoot, `${fn.handler.slice(0, fn.handler.lastIndexOf("."))}.js`);
  const env = initEnvironment(fn);
  // One unmeasured load each warms the OS file cache, as a reused Lambda host would have it.
  timeLoads(handlerFile, env, 1);
  const bundled = median(timeLoads(handlerFile, env, runs));
  const unbundledFile = unbundledEntry(fn);
  timeLoads(unbundledFile, env, 1);
  const unbundled = median(timeLoads(unbundledFile, env, runs));
  const esmFile = variantBundle(fn, "esm");
  timeLoads(esmFile, env, 1, ESM_PROBE);
  const esm = median(timeLoads(esmFile, env, runs, ESM_PROBE));
  const mainFirstFile = variantBundle(fn, "main-first");
  timeLoads(mainFirstFile, env, 1);
  const mainFirst = median(timeLoads(mainFirstFile, env, runs));
  return {
    zip_bytes: fs.statSync(fn.zipPath).size,
    init_ms: round(bundled),
    unbundled_init_ms: round(unbundled),
    init_ratio_vs_unbundled: round(bundled / unbundled, 3),
    esm_init_ms: round(esm),
    esm_ratio_vs_cjs: round(esm / bundled, 3),
    main_first_init_ms: round(mainFirst),
    main_first_ratio_vs_shipped: round(mainFirst / bundled, 3),
  };
}
