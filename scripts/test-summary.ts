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

function checkovTotals(): { passed: number; failed: number } | undefined {
  const data = readJson("checkov.json");
  if (!data) return undefined;
  const reports = (Array.isArray(data) ? data : [data]) as { summary?: { passed?: number; failed?: number } }[];
  return reports.reduce((t, r) => ({ passed: t.passed + (r.summary?.passed ?? 0), failed: t.failed + (r.summary?.failed ?? 0) }), {
    passed: 0,
    failed: 0,
  });
}

export function summaryParts(): Part[] {
  const parts: Part[] = [];
  const jest = readJson("jest-results.json") as { numPassedTests?: number; numFailedTests?: number } | undefined;
  if (jest) parts.push({ name: "jest", passed: jest.numPassedTests ?? 0, failed: jest.numFailedTests ?? 0, detail: "tests" });
  const checkov = checkovTotals();
  if (checkov) parts.push({ name: "checkov", ...checkov, detail: "checks" });
  // make verify exits non-zero on any finding, so reaching this line means the proof held.
  parts.push({ name: "access proof", passed: 1, failed: 0, detail: "proof, with its deploy-time checks" });
  const soak = readJson("soak-results.json") as { invocations?: number; lost?: number } | undefined;
  if (soak)
    parts.push({
      name: "soak",
      passed: soak.lost === 0 ? 1 : 0,
      failed: soak.lost === 0 ? 0 : 1,
      detail: `run: ${soak.invocations} invocations, ${soak.lost} lost`,
    });
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
