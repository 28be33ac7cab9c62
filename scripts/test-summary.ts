/**
 * The last line of `make test`: one total in the plain form CI reads ("N passed, N failed"), after one line per part.
 * It runs only when every part before it passed (make stops at the first failure), and reads what they wrote in build/.
 */
import * as fs from "fs";
import * as path from "path";

const BUILD = path.join(__dirname, "..", "build");

function readJson(file: string): Record<string, unknown> | undefined {
  const full = path.join(BUILD, file);
  return fs.existsSync(full) ? (JSON.parse(fs.readFileSync(full, "utf8")) as Record<string, unknown>) : undefined;
}

interface Part {
  readonly name: string;
  readonly passed: number;
  readonly failed: number;
  readonly detail: string;
}

/** The reports make checkov writes: the default stacks (cdktf.out) and the idempotent callee's (examples/idempotent-callee.json). */
export const CHECKOV_REPORTS = ["checkov.json", "checkov-idempotent-callee.json"] as const;

/**
 * Every check of every report, added up; undefined when make checkov wrote none of them. A report missing beside
 * the others counts as one failure: make checkov writes both, so a scan that left none proves nothing.
 */
function checkovTotals(): { passed: number; failed: number; missing: string[] } | undefined {
  const found = CHECKOV_REPORTS.map((file) => ({ file, data: readJson(file) }));
  const missing = found.filter((r) => r.data === undefined).map((r) => r.file);
  if (missing.length === CHECKOV_REPORTS.length) return undefined;
  const reports = found.flatMap(({ data }) => (data === undefined ? [] : Array.isArray(data) ? data : [data])) as {
    summary?: { passed?: number; failed?: number };
  }[];
  return reports.reduce((t, r) => ({ ...t, passed: t.passed + (r.summary?.passed ?? 0), failed: t.failed + (r.summary?.failed ?? 0) }), {
    passed: 0,
    failed: missing.length,
    missing,
  });
}

export function summaryParts(): Part[] {
  const parts: Part[] = [];
  const jest = readJson("jest-results.json") as { numPassedTests?: number; numFailedTests?: number } | undefined;
  if (jest) parts.push({ name: "jest", passed: jest.numPassedTests ?? 0, failed: jest.numFailedTests ?? 0, detail: "tests" });
  const checkov = checkovTotals();
  if (checkov)
    parts.push({
      name: "checkov",
      passed: checkov.passed,
      failed: checkov.failed,
      detail:
        checkov.missing.length === 0
          ? "checks, default and idempotent-callee stacks"
          : `checks; no report ${checkov.missing.map((f) => `build/${f}`).join(", ")}: run make checkov`,
    });
  // make verify exits non-zero on any finding, so reaching this line means the proof held.
  parts.push({ name: "access proof", passed: 1, failed: 0, detail: "proof, with its deploy-time checks" });
  const soak = readJson("soak-results.json") as
    { invocations?: number; lost?: number; exactly_once?: { operations: number; ran_once: number } } | undefined;
  if (soak) {
    const once = soak.exactly_once;
    // make soak fails on any of its problems first; this line restates the two that matter most.
    const held = soak.lost === 0 && (once === undefined || once.ran_once === once.operations);
    parts.push({
      name: "soak",
      passed: held ? 1 : 0,
      failed: held ? 0 : 1,
      detail:
        `run: ${soak.invocations} invocations, ${soak.lost} lost` +
        (once ? `, ${once.ran_once} of ${once.operations} business operations exactly once` : ""),
    });
  }
  const cdktn = readJson("cdktn-jest.json") as { numPassedTests?: number; numFailedTests?: number } | undefined;
  if (cdktn)
    parts.push({
      name: "cdktn",
      passed: cdktn.numPassedTests ?? 0,
      failed: cdktn.numFailedTests ?? 0,
      detail: "tests on CDK Terrain's output",
    });
  return parts;
}

if (require.main === module) {
  const parts = summaryParts();
  for (const p of parts) console.log(`  ${p.name}: ${p.passed} passed, ${p.failed} failed (${p.detail})`);
  const passed = parts.reduce((n, p) => n + p.passed, 0);
  const failed = parts.reduce((n, p) => n + p.failed, 0);
  console.log(`make test: ${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || parts.length === 0 ? 1 : 0;
}
