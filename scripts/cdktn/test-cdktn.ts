/**
 * make test-cdktn: the project migrated to CDK Terrain, in a copy (build/cdktn), must synthesize what
 * cdktf synthesizes and pass the same checks.
 *
 *  1. copy the sources into build/cdktn, apply the migration (scripts/cdktn/migrate.ts) there;
 *  2. npm ci with the committed toolchain/cdktn/package-lock.json (skipped when that lock's hash, the
 *     platform and the Node.js major are those of the last install in build/cdktn);
 *  3. `cdktn synth` there (the CLI, as users run it) into build/cdktn/cdktf.out;
 *  4. compare it with the project's cdktf.out (make synth, a prerequisite) resource by resource and argument
 *     by argument, and everything outside resources; every difference is printed, and fails unless
 *     toolchain/cdktn/allowed-differences.json lists it with its reason;
 *  5. on the cdktn output: the migrated stack tests (jest, in build/cdktn), checkov and the access proof.
 *
 * Ends with one summary line; exit 0 only when every step passed.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ensureSynthesized } from "../../core/model/freshness";
import { compareOutputs, formatReport, judge, readAllowed } from "./compare";
import {
  applyMigration,
  AWS_PROVIDER,
  CDKTN_VERSIONS,
  installedCdktfProviderVersion,
  planMigration,
  SKIPPED_DIRS,
  SKIPPED_PATHS,
  unresolvedDeepImports,
  usesCdktf,
} from "./migrate";
import { requireNode } from "./node-version";
import { ALLOWED_DIFFERENCES, PROJECT_ROOT, TOOLCHAIN_LOCK, toolchainMismatch, UPDATE_LOCK_COMMAND } from "./paths";

requireNode("make test-cdktn");

const BUILD = path.join(PROJECT_ROOT, "build", "cdktn");
const CDKTF_OUT = path.join(PROJECT_ROOT, "cdktf.out");
const CDKTN_OUT = path.join(BUILD, "cdktf.out");
const STAMP = path.join(BUILD, "node_modules", ".cdktn-installed");
/** Not copied: what the migration never walks (installed, generated, state, and its own tooling). */
const NOT_COPIED = SKIPPED_DIRS;
const NOT_COPIED_PATHS = SKIPPED_PATHS;
const STACK_TESTS = ["__tests__/stacks.test.ts", "__tests__/constructs.test.ts"];
const ENV = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" };

const started = Date.now();
const rel = (p: string) => path.relative(PROJECT_ROOT, p) || ".";
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (msg: string) => console.log(`test-cdktn: ${msg}`);
function fail(msg: string): never {
  console.error(`test-cdktn: FAILED: ${msg}`);
  process.exit(1);
}

interface Run {
  readonly code: number;
  readonly output: string;
  readonly ms: number;
}

/** Runs a command, capturing stdout and stderr together (printed by the caller: several run at once). */
function run(cmd: string, args: readonly string[], cwd: string): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    child.on("error", (err) => resolve({ code: 127, output: `${output}cannot run ${cmd}: ${err.message}\n`, ms: Date.now() - t0 }));
    child.on("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), output: signal ? `${output}killed by ${signal}\n` : output, ms: Date.now() - t0 }),
    );
  });
}

const indent = (text: string) =>
  text
    .trimEnd()
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

function copySources(from: string, to: string, relDir = ""): number {
  let n = 0;
  for (const entry of fs.readdirSync(path.join(from, relDir), { withFileTypes: true })) {
    const child = relDir ? `${relDir}/${entry.name}` : entry.name;
    if ((relDir === "" && NOT_COPIED.has(entry.name)) || NOT_COPIED_PATHS.has(child) || entry.name === "node_modules") continue;
    const src = path.join(from, child);
    const dst = path.join(to, child);
    if (entry.isDirectory()) {
      fs.mkdirSync(dst, { recursive: true });
      n += copySources(from, to, child);
    } else if (entry.isFile()) {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, fs.statSync(src).mode);
      n++;
    }
  }
  return n;
}

async function main(): Promise<void> {
  const projectPkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
  if (!usesCdktf(projectPkg)) {
    log(
      "package.json depends on no cdktf package: this project already uses CDK Terrain, there is no cdktf output to compare with; skipped.",
    );
    return;
  }
  if (!fs.existsSync(path.join(CDKTF_OUT, "manifest.json")))
    fail(`${rel(CDKTF_OUT)} is missing: run make synth first (make test-cdktn does)`);
  // make synth goes by file times only; XACCT_* variables configure the stacks too, and cdktn synth below sees
  // them: cdktf.out is re-synthesized (with cdktf, as make demo does) when it was built from another configuration.
  const fresh = await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir: CDKTF_OUT });
  if (fresh.synthesized) log(`cdktf: ${rel(CDKTF_OUT)} re-synthesized (${fresh.reason})`);
  const mismatch = toolchainMismatch(path.join(PROJECT_ROOT, "package.json"));
  if (mismatch) fail(`${mismatch}: run \`${UPDATE_LOCK_COMMAND}\` (it needs the npm registry), review toolchain/cdktn and commit it`);
  const allowed = readAllowed(ALLOWED_DIFFERENCES);

  // 1. The copy: everything but node_modules is replaced, so no file of an earlier run survives.
  let t0 = Date.now();
  fs.mkdirSync(BUILD, { recursive: true });
  for (const entry of fs.readdirSync(BUILD))
    if (entry !== "node_modules") fs.rmSync(path.join(BUILD, entry), { recursive: true, force: true });
  const copied = copySources(PROJECT_ROOT, BUILD);
  const plan = planMigration(BUILD);
  if (plan.unmapped.length > 0) fail(`the migration has no mapping for: ${plan.unmapped.join(", ")}`);
  applyMigration(BUILD, plan);
  fs.copyFileSync(TOOLCHAIN_LOCK, path.join(BUILD, "package-lock.json"));
  log(
    `copied ${copied} files into ${rel(BUILD)} and migrated ${plan.changes.length} (${plan.changes.map((c) => c.file).join(", ")}) in ${secs(Date.now() - t0)}`,
  );

  // 2. npm ci, integrity-checked against the committed lock; skipped when nothing it depends on changed.
  const lockHash = crypto.createHash("sha256").update(fs.readFileSync(TOOLCHAIN_LOCK)).digest("hex");
  const stamp = `${lockHash} ${process.platform}-${process.arch} node${process.versions.node.split(".")[0]}\n`;
  if (
    fs.existsSync(STAMP) &&
    fs.readFileSync(STAMP, "utf8") === stamp &&
    fs.existsSync(path.join(BUILD, "node_modules", ".package-lock.json"))
  ) {
    log(`npm ci skipped: node_modules was installed from this lock (sha256 ${lockHash.slice(0, 12)}...)`);
  } else {
    const ci = await run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], BUILD);
    if (ci.code !== 0) fail(`npm ci in ${rel(BUILD)} exited with ${ci.code}:\n${indent(ci.output)}`);
    fs.writeFileSync(STAMP, stamp);
    log(`npm ci from toolchain/cdktn/package-lock.json in ${secs(ci.ms)}`);
  }
  const unresolved = unresolvedDeepImports(BUILD);
  if (unresolved.length > 0)
    fail(`deep imports that do not exist in @cdktn/provider-aws ${CDKTN_VERSIONS["@cdktn/provider-aws"]}: ${unresolved.join(", ")}`);
  // The AWS provider each binding declares, from its own metadata: the migration's AWS_PROVIDER must say the same.
  const cdktfBinding = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@cdktf", "provider-aws", "package.json"), "utf8"),
  );
  const cdktnBinding = JSON.parse(fs.readFileSync(path.join(BUILD, "node_modules", "@cdktn", "provider-aws", "package.json"), "utf8"));
  const providers = {
    cdktf: installedCdktfProviderVersion(PROJECT_ROOT),
    cdktn: cdktnBinding.cdktn?.provider?.version as string | undefined,
  };
  if (providers.cdktf !== AWS_PROVIDER.cdktf || providers.cdktn !== AWS_PROVIDER.cdktn) {
    fail(
      `the bindings pin AWS provider ${providers.cdktf} (cdktf) and ${providers.cdktn} (cdktn), but scripts/cdktn/migrate.ts's AWS_PROVIDER says ${AWS_PROVIDER.cdktf} and ${AWS_PROVIDER.cdktn}: update it`,
    );
  }
  log(
    `AWS provider: @cdktf/provider-aws ${cdktfBinding.version} declares ${providers.cdktf}, @cdktn/provider-aws ${cdktnBinding.version} declares ${providers.cdktn}`,
  );

  // 3. cdktn synth, as a user runs it (cdktf.json's app, through the CLI).
  const synth = await run(process.execPath, [path.join(BUILD, "node_modules", "cdktn-cli", "bin", "cdktn"), "synth"], BUILD);
  if (synth.code !== 0 || !fs.existsSync(path.join(CDKTN_OUT, "manifest.json")))
    fail(`cdktn synth exited with ${synth.code}:\n${indent(synth.output)}`);
  log(`cdktn synth in ${secs(synth.ms)}`);

  // 4. The comparison.
  t0 = Date.now();
  const comparison = compareOutputs(CDKTF_OUT, CDKTN_OUT);
  const judgement = judge(comparison.differences, allowed);
  console.log(
    `\ncdktf (${rel(CDKTF_OUT)}) vs cdktn (${rel(CDKTN_OUT)}): stacks ${comparison.stacks.join(", ")}, ${comparison.resources} resources`,
  );
  console.log(formatReport(comparison, judgement, rel(ALLOWED_DIFFERENCES)));
  console.log("");
  log(
    `comparison in ${secs(Date.now() - t0)}: ${comparison.differences.length} difference(s), ${judgement.allowed.length} allowed, ${judgement.failed.length} not allowed`,
  );

  // 5. The checks on cdktn's output: jest in the copy, and checkov and the access proof beside it.
  const jestReport = path.join(PROJECT_ROOT, "build", "cdktn-jest.json");
  fs.rmSync(jestReport, { force: true });
  const [jest, tsc, checkov, proof] = await Promise.all([
    run(
      process.execPath,
      [path.join(BUILD, "node_modules", "jest", "bin", "jest.js"), "--ci", "--json", `--outputFile=${jestReport}`, ...STACK_TESTS],
      BUILD,
    ),
    // The migrated project's types against cdktn's declarations (tsx and ts-jest only transpile).
    run(process.execPath, [path.join(BUILD, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", BUILD], BUILD),
    // From the copy (its .checkov.yaml is the project's, verbatim), so its report (build/checkov.json under the
    // working directory) is not the one make checkov writes.
    run(
      path.join(PROJECT_ROOT, "scripts", "checkov.sh"),
      [path.join(PROJECT_ROOT, ".venv", "bin", "checkov"), path.join(CDKTN_OUT, "stacks")],
      BUILD,
    ),
    run(process.execPath, ["--import", "tsx", "verify/cli.ts", "--dir", CDKTN_OUT], PROJECT_ROOT),
  ]);
  const results: string[] = [];
  let failed = judgement.failed.length > 0;

  let jestLine: string;
  try {
    const r = JSON.parse(fs.readFileSync(jestReport, "utf8")) as {
      numTotalTests: number;
      numPassedTests: number;
      numFailedTests: number;
      success: boolean;
    };
    const ok = jest.code === 0 && r.success && r.numTotalTests > 0 && r.numFailedTests === 0;
    jestLine = `jest ${r.numPassedTests}/${r.numTotalTests} passed`;
    if (!ok) {
      failed = true;
      console.log(
        `jest (${STACK_TESTS.join(", ")}) in ${rel(BUILD)}: FAILED (exit ${jest.code}, ${r.numFailedTests} failed, ${r.numTotalTests} run)\n${indent(jest.output)}`,
      );
    }
  } catch {
    failed = true;
    jestLine = "jest FAILED";
    console.log(`jest in ${rel(BUILD)} wrote no report (exit ${jest.code}):\n${indent(jest.output)}`);
  }
  log(`${jestLine} (${STACK_TESTS.join(", ")}, migrated) in ${secs(jest.ms)}`);

  if (tsc.code !== 0) {
    failed = true;
    console.log(`tsc --noEmit in ${rel(BUILD)}: FAILED (exit ${tsc.code})\n${indent(tsc.output)}`);
  }
  log(`tsc --noEmit (the migrated project, strict) ${tsc.code === 0 ? "ok" : "FAILED"} in ${secs(tsc.ms)}`);

  const checkovLine = /checkov: \d+ passed, \d+ failed/.exec(checkov.output)?.[0] ?? "checkov: no summary";
  if (checkov.code !== 0) {
    failed = true;
    console.log(`checkov on ${rel(CDKTN_OUT)}/stacks: FAILED (exit ${checkov.code})\n${indent(checkov.output)}`);
  }
  log(`${checkovLine} on ${rel(CDKTN_OUT)}/stacks in ${secs(checkov.ms)}`);

  const proofLine = proof.output.trimEnd().split("\n").pop() ?? "";
  if (proof.code !== 0) {
    failed = true;
    console.log(`access proof on ${rel(CDKTN_OUT)}: FAILED (exit ${proof.code})\n${indent(proof.output)}`);
  }
  log(`access proof (verify/cli.ts --dir ${rel(CDKTN_OUT)}) exit ${proof.code} in ${secs(proof.ms)}: ${proofLine.slice(0, 120)}`);

  results.push(
    `${comparison.stacks.length} stacks, ${comparison.resources} resources compared: ${comparison.differences.length} difference(s) (${judgement.allowed.length} allowed, ${judgement.failed.length} not)`,
    jestLine,
    `tsc ${tsc.code === 0 ? "ok" : "FAILED"}`,
    checkovLine.replace("checkov: ", "checkov "),
    `access proof ${proof.code === 0 ? "ok" : `FAILED (exit ${proof.code})`}`,
  );
  const versions = `cdktn ${CDKTN_VERSIONS.cdktn}, @cdktn/provider-aws ${CDKTN_VERSIONS["@cdktn/provider-aws"]}`;
  const summary = `test-cdktn: ${failed ? "FAILED" : "ok"} (${versions}, Node ${process.version}): ${results.join("; ")}; ${secs(Date.now() - started)}`;
  if (failed) {
    console.error(summary);
    process.exit(1);
  }
  console.log(summary);
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
