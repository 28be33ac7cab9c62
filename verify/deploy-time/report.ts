/** The deploy-time check in each of the proof's output formats. */
import { deployFindings, type DeployTimeResult } from "./check";
import type { DeployCheck } from "./rule-context";

const shortAddress = (address: string) => address.replace(/_[0-9A-F]{8}$/, "");

function checkLine(check: DeployCheck): string {
  return `  ${check.ok ? "OK  " : "FAIL"}  [${check.rule}] stack '${check.stack}' ${check.address}: ${check.detail}`;
}

export function deployTimeText(result: DeployTimeResult): string {
  const findings = deployFindings(result);
  const lines = ["Deploy time: what AWS checks as Terraform creates, then destroys, each stack's resources"];
  for (const stack of result.stacks) {
    lines.push(`  stack '${stack.stack}': ${stack.createOrder.length} resources; created in dependency order, destroyed in reverse`);
  }
  lines.push("  Rules:");
  for (const rule of result.rules) lines.push(`    ${rule.id} (${rule.phase}, ${rule.call}): ${rule.title}. Source: ${rule.source}`);
  lines.push("  Checks, in the order of the walk:");
  lines.push(...result.checks.map(checkLine));
  if (findings.length === 0) {
    lines.push(`Deploy-time findings: none (${result.checks.length} checks).`);
  } else {
    lines.push(`Deploy-time findings (${findings.length} of ${result.checks.length} checks):`);
    for (const f of findings)
      lines.push(`  [${f.rule}] stack '${f.stack}' ${f.address}\n      AWS would answer: ${f.answer}\n      fix: ${f.fix}`);
  }
  return lines.join("\n");
}

export function deployTimeJson(result: DeployTimeResult) {
  return {
    passed: deployFindings(result).length === 0,
    rules: result.rules,
    stacks: result.stacks,
    checks: result.checks,
    findings: deployFindings(result),
  };
}

/** Mermaid comments: the diagram stays the access diagram, and a reader of the file sees the deploy-time verdict. */
export function deployTimeMermaid(result: DeployTimeResult): string {
  const findings = deployFindings(result);
  return [
    `%% Deploy time: ${result.checks.length} checks, ${findings.length} finding${findings.length === 1 ? "" : "s"}`,
    ...findings.map((f) => `%%   [${f.rule}] stack '${f.stack}' ${f.address}: ${f.answer}`),
  ].join("\n");
}

/** The README's table of deploy-time checks on the current stacks. */
export function deployTimeTable(result: DeployTimeResult): string {
  const lines = ["| Stack | Resource | Rule | Result |", "|---|---|---|---|"];
  for (const c of result.checks) lines.push(`| ${c.stack} | \`${shortAddress(c.address)}\` | ${c.rule} | ${c.ok ? "OK" : "FAIL"} |`);
  return lines.join("\n");
}
