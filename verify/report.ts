/** The proof for people (a text matrix, a Mermaid diagram) and for programs (JSON). */
import { accountOf } from "../core";
import { functionName, roleName } from "./access-model";
import type { AccessAnalysis, Cell } from "./analyze";
import type { Finding } from "./findings";
import { deployFindings, type DeployTimeResult } from "./deploy-time/check";
import { deployTimeJson, deployTimeText } from "./deploy-time/report";

export interface ProofResult {
  readonly analysis: AccessAnalysis;
  readonly findings: readonly Finding[];
  /** What AWS checks when the stacks are created and destroyed; judged with the access proof. */
  readonly deployTime?: DeployTimeResult;
  /** Live mode: differences between the deployed policies and the stacks. */
  readonly drift?: readonly string[];
  /** Whether drift fails the proof (live mode's default; --ignore-drift turns it off). */
  readonly driftJudged?: boolean;
}

export function violationsOf(result: ProofResult): { beyond: Cell[]; broken: Cell[] } {
  return {
    beyond: result.analysis.cells.filter((c) => c.verdict === "beyond-intended"),
    broken: result.analysis.cells.filter((c) => c.verdict === "path-broken"),
  };
}

export function passed(result: ProofResult): boolean {
  const { beyond, broken } = violationsOf(result);
  const deployFailures = result.deployTime ? deployFindings(result.deployTime).length : 0;
  return (
    beyond.length === 0 &&
    broken.length === 0 &&
    result.findings.length === 0 &&
    deployFailures === 0 &&
    !(result.driftJudged && (result.drift?.length ?? 0) > 0)
  );
}

const MARK: Record<Cell["verdict"], string> = {
  "as-intended": "ALLOW",
  permitted: "ALLOW",
  refused: "DENY",
  "beyond-intended": "ALLOW!",
  "path-broken": "DENY!",
};

export function intendedPathText(analysis: AccessAnalysis): string {
  const { intended, callerAccountId, calleeAccountId } = analysis.model;
  return `role ${roleName(intended.callerRoleArn)} (${callerAccountId}) -> sts:AssumeRole -> role ${roleName(intended.invokerRoleArn)} (${calleeAccountId}) -> lambda:InvokeFunction -> function ${functionName(intended.calleeFunctionArn)}`;
}

/** The matrix: one row per capability, one column per principal (numbered, with a legend). */
export function matrixText(analysis: AccessAnalysis): string {
  const { principals, capabilities, cells } = analysis;
  const cell = (p: string, c: string) => cells.find((x) => x.principalId === p && x.capabilityId === c) as Cell;
  const labelWidth = Math.max(...capabilities.map((c) => c.label.length)) + 2;
  const lines = [`Principals`];
  principals.forEach((p, i) => lines.push(`  P${i + 1}  ${p.label}`));
  lines.push("");
  lines.push(`${"".padEnd(labelWidth)}${principals.map((_, i) => `P${i + 1}`.padEnd(8)).join("")}`.trimEnd());
  for (const capability of capabilities) {
    lines.push(
      `${capability.label.padEnd(labelWidth)}${principals.map((p) => MARK[cell(p.id, capability.id).verdict].padEnd(8)).join("")}`.trimEnd(),
    );
  }
  lines.push("");
  lines.push("ALLOW: allowed as intended, or by an account's administrators over its own resources; DENY: refused;");
  lines.push("ALLOW!: access beyond the intended path; DENY!: the intended path itself is refused.");
  return lines.join("\n");
}

/** Per principal, what decided each cell: every ALLOW with its statements, the DENYs grouped by what refused them. */
export function reasonsText(analysis: AccessAnalysis): string {
  const lines: string[] = [];
  analysis.principals.forEach((principal, i) => {
    lines.push(`P${i + 1}  ${principal.label}`);
    const mine = analysis.cells.filter((c) => c.principalId === principal.id);
    const label = (c: Cell) => analysis.capabilities.find((x) => x.id === c.capabilityId)?.label ?? c.capabilityId;
    for (const c of mine.filter((x) => x.allowed || x.verdict === "path-broken")) {
      const via = c.via.length > 0 ? ` via ${c.via.map((h) => `role ${roleName(h.roleArn)}`).join(", ")};` : "";
      lines.push(
        `  ${MARK[c.verdict].padEnd(7)}${label(c)}: ${c.explanation};${via} ${c.allowed ? "allowed by" : "refused by"} ${c.decidedBy.join(" + ") || "(no statement)"}`,
      );
    }
    const refusals = new Map<string, string[]>();
    for (const c of mine.filter((x) => x.verdict === "refused")) {
      const why = c.decidedBy.join(" + ") || c.explanation;
      refusals.set(why, [...(refusals.get(why) ?? []), label(c)]);
    }
    for (const [why, labels] of refusals) lines.push(`  DENY   ${labels.join(", ")}: ${why}`);
  });
  return lines.join("\n");
}

export function findingsText(findings: readonly Finding[]): string {
  if (findings.length === 0) return "Findings: none.";
  return [
    `Findings (${findings.length}):`,
    ...findings.map((f) => `  [${f.code}] ${f.where}\n      problem: ${f.problem}\n      fix: ${f.fix}`),
  ].join("\n");
}

export function verdictText(result: ProofResult): string {
  const { beyond, broken } = violationsOf(result);
  const deployFailures = result.deployTime ? deployFindings(result.deployTime).length : 0;
  if (passed(result)) {
    const deploy = result.deployTime ? ` Every deploy-time check passes (${result.deployTime.checks.length}).` : "";
    return `PASS: exactly one path reaches the callee, the intended one; nothing else is allowed beyond each account's administrators over their own resources.${deploy}`;
  }
  const parts = [
    beyond.length > 0 ? `${beyond.length} access${beyond.length === 1 ? "" : "es"} beyond the intended path` : "",
    broken.length > 0 ? `${broken.length} step${broken.length === 1 ? "" : "s"} of the intended path refused` : "",
    result.findings.length > 0 ? `${result.findings.length} finding${result.findings.length === 1 ? "" : "s"}` : "",
    deployFailures > 0 ? `${deployFailures} deploy-time finding${deployFailures === 1 ? "" : "s"}` : "",
    result.driftJudged && (result.drift?.length ?? 0) > 0
      ? `${result.drift?.length} difference${result.drift?.length === 1 ? "" : "s"} from the stacks (--ignore-drift to judge access alone)`
      : "",
  ].filter(Boolean);
  return `FAIL: ${parts.join(", ")}.`;
}

export function textReport(result: ProofResult): string {
  const { analysis } = result;
  const sections = [
    `Access proof of ${analysis.model.origin}`,
    `Intended path: ${intendedPathText(analysis)}`,
    "",
    matrixText(analysis),
    "",
    "What decided each cell",
    reasonsText(analysis),
    "",
    findingsText(result.findings),
  ];
  if (result.drift && result.drift.length > 0)
    sections.push("", `Drift from the stacks (${result.drift.length}):`, ...result.drift.map((d) => `  ${d}`));
  if (result.deployTime) sections.push("", deployTimeText(result.deployTime));
  sections.push("", verdictText(result));
  return sections.join("\n");
}

export function jsonReport(result: ProofResult): string {
  const { analysis } = result;
  const { beyond, broken } = violationsOf(result);
  return JSON.stringify(
    {
      origin: analysis.model.origin,
      intended: analysis.model.intended,
      passed: passed(result),
      summary: {
        beyondIntended: beyond.length,
        intendedPathRefused: broken.length,
        findings: result.findings.length,
        ...(result.deployTime ? { deployTimeFindings: deployFindings(result.deployTime).length } : {}),
        ...(result.drift ? { drift: result.drift.length } : {}),
      },
      principals: analysis.principals.map(({ id, label, kind, accountId }) => ({
        id,
        label,
        kind,
        ...(accountId !== undefined ? { accountId } : {}),
      })),
      capabilities: analysis.capabilities.map(({ id, kind, label, resourceArn }) => ({ id, kind, label, resourceArn })),
      cells: analysis.cells,
      findings: result.findings,
      ...(result.deployTime ? { deployTime: deployTimeJson(result.deployTime) } : {}),
      ...(result.drift ? { drift: result.drift } : {}),
    },
    null,
    2,
  );
}

/**
 * Accounts, roles and functions, with the allowed assume/invoke edges solid and the refused
 * attempts on the intended path's role and function dashed; anything beyond the path in red.
 */
export function mermaidReport(analysis: AccessAnalysis): string {
  const { model, principals, cells } = analysis;
  const { intended } = model;
  const id = (text: string) => text.replace(/[^A-Za-z0-9]/g, "_");
  // Short node ids that stay unique across the two accounts: role_<account>_<name>, fn_<account>_<name>.
  const roleNode = (arn: string) => id(`role_${accountOf(arn)}_${roleName(arn)}`);
  const fnNode = (arn: string) => id(`fn_${accountOf(arn)}_${functionName(arn)}`);
  const nodeOfPrincipal = new Map(principals.map((p) => [p.id, p.roleArn !== undefined ? roleNode(p.roleArn) : id(p.id)]));
  const lines = ["flowchart LR"];
  const accountName = (accountId: string) =>
    accountId === model.callerAccountId ? "caller" : accountId === model.calleeAccountId ? "callee" : "";
  for (const accountId of [model.callerAccountId, model.calleeAccountId]) {
    lines.push(`  subgraph ${id(`account_${accountId}`)}["account ${accountId} (${accountName(accountId)})"]`);
    for (const fn of model.functions.filter((f) => f.accountId === accountId)) lines.push(`    ${fnNode(fn.arn)}(["function ${fn.name}"])`);
    for (const role of model.roles.filter((r) => r.accountId === accountId)) lines.push(`    ${roleNode(role.arn)}["role ${role.name}"]`);
    for (const p of principals.filter((x) => x.kind === "admin" && x.accountId === accountId))
      lines.push(`    ${nodeOfPrincipal.get(p.id)}[/"administrators"/]`);
    lines.push("  end");
  }
  for (const p of principals.filter((x) => x.kind === "outsider" || x.kind === "named" || x.kind === "anonymous"))
    lines.push(`  ${nodeOfPrincipal.get(p.id)}[/"${p.label}"/]`);
  const edges: { line: string; style?: string }[] = [];
  for (const fn of model.functions) edges.push({ line: `  ${fnNode(fn.arn)} -- "runs as" --> ${roleNode(fn.roleArn)}` });
  for (const cell of cells) {
    const capability = analysis.capabilities.find((c) => c.id === cell.capabilityId);
    if (!capability) continue;
    const principal = principals.find((p) => p.id === cell.principalId);
    if (!principal || principal.roleArn === capability.resourceArn) continue;
    const from = nodeOfPrincipal.get(principal.id) as string;
    const onRole = capability.kind === "assume" || capability.kind === "change-role" || capability.kind === "pass-role";
    const onFunction = capability.kind === "invoke" || capability.kind === "change-function";
    if (!onRole && !onFunction) continue;
    const to = onRole ? roleNode(capability.resourceArn) : fnNode(capability.resourceArn);
    // Changing or passing a role or function is drawn only when it goes beyond the path (owners may always).
    if (capability.kind !== "assume" && capability.kind !== "invoke") {
      if (cell.verdict === "beyond-intended")
        edges.push({ line: `  ${from} -- "${cell.action}" --> ${to}`, style: "stroke:#d00,stroke-width:3px" });
      continue;
    }
    const action = capability.requests[0].action;
    if (cell.allowed && cell.via.length === 0) {
      edges.push({
        line: `  ${from} -- "${action}" --> ${to}`,
        ...(cell.verdict === "beyond-intended" ? { style: "stroke:#d00,stroke-width:3px" } : {}),
      });
    } else if (
      !cell.allowed &&
      (capability.resourceArn === intended.invokerRoleArn || capability.resourceArn === intended.calleeFunctionArn)
    ) {
      edges.push({
        line: `  ${from} -. "${action} refused" .-> ${to}`,
        ...(cell.verdict === "path-broken" ? { style: "stroke:#d00,stroke-width:3px" } : {}),
      });
    }
  }
  lines.push(...edges.map((e) => e.line));
  edges.forEach((e, i) => {
    if (e.style) lines.push(`  linkStyle ${i} ${e.style}`);
  });
  return lines.join("\n");
}
