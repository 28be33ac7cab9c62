/** The proof for people (a text matrix, a Mermaid diagram) and for programs (JSON). */
import { accountOf, splitFunctionArn } from "../core";
import { accountRoleOf, functionName, roleName, type AccessModel, type IntendedPath } from "./access-model";
import type { AccessAnalysis, Cell } from "./analyze";
import type { Capability } from "./capabilities";
import { endpointName, inTravelOrder } from "./network";
import type { AnalysisPrincipal } from "./principals";
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

/**
 * The cells that fail the proof: access beyond the intended path, the intended path refused, and access beyond it
 * that only a VPC endpoint policy refuses (the identity and resource policies must refuse it on their own: the
 * endpoint is a second layer, and a session used from anywhere else passes no endpoint).
 */
export function violationsOf(result: ProofResult): { beyond: Cell[]; broken: Cell[]; endpointOnly: Cell[] } {
  return {
    beyond: result.analysis.cells.filter((c) => c.verdict === "beyond-intended"),
    broken: result.analysis.cells.filter((c) => c.verdict === "path-broken"),
    endpointOnly: result.analysis.cells.filter((c) => c.decidedByEndpoint?.withoutEndpoints === "beyond-intended"),
  };
}

export function passed(result: ProofResult): boolean {
  const { beyond, broken, endpointOnly } = violationsOf(result);
  const deployFailures = result.deployTime ? deployFindings(result.deployTime).length : 0;
  return (
    beyond.length === 0 &&
    broken.length === 0 &&
    endpointOnly.length === 0 &&
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

/** A cell's mark in the matrix: its verdict's, with "*" when a VPC endpoint policy decided it. */
function markOf(cell: Cell): string {
  return `${MARK[cell.verdict]}${cell.decidedByEndpoint ? "*" : ""}`;
}

/** "function xacct-demo-callee:live": a function ARN's name with its qualifier. */
function qualifiedName(arn: string): string {
  const split = splitFunctionArn(arn);
  return split ? `${split.name}${split.qualifier !== undefined ? `:${split.qualifier}` : ""}` : arn;
}

function pathText(path: IntendedPath): string {
  return `role ${roleName(path.callerRoleArn)} (${accountOf(path.callerRoleArn)}) -> sts:AssumeRole -> role ${roleName(path.invokerRoleArn)} (${accountOf(path.invokerRoleArn)}) -> lambda:InvokeFunction -> function ${qualifiedName(path.targetArn)}`;
}

/** "Intended path: …" for one caller; one line per caller, by account, for several. */
export function intendedPathText(analysis: AccessAnalysis): string {
  const { intended } = analysis.model;
  if (intended.length === 1) return `Intended path: ${pathText(intended[0])}`;
  const width = Math.max(...intended.map((p) => p.caller.length)) + 1;
  return [`Intended paths, one per caller:`, ...intended.map((p) => `  ${`${p.caller}:`.padEnd(width)} ${pathText(p)}`)].join("\n");
}

/**
 * The endpoints layer: for each VPC the principals call from, its endpoints and who uses them; empty when no
 * principal's requests pass an endpoint of the stacks.
 */
export function endpointsText(analysis: AccessAnalysis): string {
  if (analysis.networks.length === 0) return "";
  const byVpc = new Map<string, { endpoints: string[]; principals: string[] }>();
  for (const { principalId, network } of analysis.networks) {
    const entry = byVpc.get(network.vpcId) ?? { endpoints: network.endpoints.map(endpointName), principals: [] };
    const principal = analysis.principals.find((p) => p.id === principalId);
    entry.principals.push(principal?.roleArn !== undefined ? roleName(principal.roleArn) : principalId);
    byVpc.set(network.vpcId, entry);
  }
  return [
    "VPC endpoints (a request from the VPC passes the policy of its service's endpoint; every other principal calls from outside):",
    ...[...byVpc].map(
      ([vpcId, e]) =>
        `  ${vpcId}: ${e.endpoints.join(", ")}; used by role${e.principals.length === 1 ? "" : "s"} ${e.principals.join(", ")}`,
    ),
  ].join("\n");
}

/** The accounts in the order the reports show them: the callers' (as the paths are grouped), the callee's, then any other. */
function accountOrder(model: AccessModel, seen: Iterable<string>): string[] {
  return [...new Set([...model.callerAccountIds, model.calleeAccountId, ...seen])];
}

function accountHeading(model: AccessModel, accountId: string): string {
  const role = accountRoleOf(model, accountId);
  return `account ${accountId}${role ? ` (${role})` : ""}`;
}

/** The legend's groups: the stacks' roles by account, then the administrators, then whoever a policy names, then anyone else. */
function principalGroup(model: AccessModel, principal: AnalysisPrincipal): string {
  switch (principal.kind) {
    case "role":
      return `roles in ${accountHeading(model, principal.accountId ?? "")}`;
    case "admin":
      return "administrators";
    case "named":
      return "named in a policy";
    default:
      return "anyone else";
  }
}

/**
 * The matrix: one row per capability, grouped by the account of its resource; one column per principal (numbered,
 * with a legend that groups them: the roles by account, the administrators, anyone else).
 */
export function matrixText(analysis: AccessAnalysis): string {
  const { model, principals, capabilities, cells } = analysis;
  const byKey = new Map(cells.map((c) => [`${c.principalId}|${c.capabilityId}`, c]));
  const cell = (p: string, c: string) => byKey.get(`${p}|${c}`) as Cell;
  const number = (i: number) => `P${i + 1}`.padEnd(`P${principals.length}`.length);
  const lines = [`Principals`];
  let group: string | undefined;
  principals.forEach((p, i) => {
    const next = principalGroup(model, p);
    if (next !== group) lines.push(`  ${next}`);
    group = next;
    lines.push(`    ${number(i)}  ${p.label}`);
  });
  lines.push("");
  const labelWidth = Math.max(...capabilities.map((c) => c.label.length)) + 4;
  lines.push(`${"".padEnd(labelWidth)}${principals.map((_, i) => `P${i + 1}`.padEnd(8)).join("")}`.trimEnd());
  for (const accountId of accountOrder(
    model,
    capabilities.map((c) => c.resourceAccountId),
  )) {
    const rows = capabilities.filter((c) => c.resourceAccountId === accountId);
    if (rows.length === 0) continue;
    lines.push(accountHeading(model, accountId));
    for (const capability of rows) {
      lines.push(
        `  ${capability.label.padEnd(labelWidth - 2)}${principals.map((p) => markOf(cell(p.id, capability.id)).padEnd(8)).join("")}`.trimEnd(),
      );
    }
  }
  lines.push("");
  lines.push("ALLOW: allowed as intended, or by an account's administrators over its own resources; DENY: refused;");
  lines.push("ALLOW!: access beyond the intended path; DENY!: the intended path itself is refused.");
  if (cells.some((c) => c.decidedByEndpoint))
    lines.push("*: a VPC endpoint policy decided it, refusing what the identity and resource policies alone allow.");
  return lines.join("\n");
}

/** Per principal, what decided each cell: every ALLOW with its statements, the DENYs grouped by what refused them. */
export function reasonsText(analysis: AccessAnalysis): string {
  const lines: string[] = [];
  analysis.principals.forEach((principal, i) => {
    lines.push(`P${i + 1}  ${principal.label}`);
    const mine = analysis.cells.filter((c) => c.principalId === principal.id);
    const label = (c: Cell) => analysis.capabilities.find((x) => x.id === c.capabilityId)?.label ?? c.capabilityId;
    for (const c of mine.filter((x) => x.allowed || x.verdict === "path-broken" || x.decidedByEndpoint)) {
      const via = c.via.length > 0 ? ` via ${c.via.map((h) => `role ${roleName(h.roleArn)}`).join(", ")};` : "";
      lines.push(
        `  ${markOf(c).padEnd(7)}${label(c)}: ${c.explanation};${via} ${c.allowed ? "allowed by" : "refused by"} ${c.decidedBy.join(" + ") || "(no statement)"}`,
      );
    }
    const refusals = new Map<string, string[]>();
    for (const c of mine.filter((x) => x.verdict === "refused" && !x.decidedByEndpoint)) {
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
  const { beyond, broken, endpointOnly } = violationsOf(result);
  const deployFailures = result.deployTime ? deployFindings(result.deployTime).length : 0;
  if (passed(result)) {
    const deploy = result.deployTime ? ` Every deploy-time check passes (${result.deployTime.checks.length}).` : "";
    const { intended } = result.analysis.model;
    const paths =
      intended.length === 1
        ? "exactly one path reaches the callee, the intended one"
        : `each of the ${intended.length} callers reaches the callee by exactly one path, through its own invoker role and only at ${[...new Set(intended.map((p) => qualifiedName(p.targetArn)))].join(", ")}, and none can assume another's invoker role`;
    const tables = result.analysis.model.tables;
    const records =
      tables.length === 0
        ? ""
        : `; only the callee's role reads and writes ${tables.length === 1 ? `its table ${tables[0].name}` : `its tables ${tables.map((t) => t.name).join(", ")}`}`;
    return `PASS: ${paths}${records}; nothing else is allowed beyond each account's administrators over their own resources.${deploy}`;
  }
  const parts = [
    beyond.length > 0 ? `${beyond.length} access${beyond.length === 1 ? "" : "es"} beyond the intended path` : "",
    broken.length > 0 ? `${broken.length} step${broken.length === 1 ? "" : "s"} of the intended path refused` : "",
    endpointOnly.length > 0
      ? `${endpointOnly.length} access${endpointOnly.length === 1 ? "" : "es"} beyond the intended path that only a VPC endpoint policy refuses`
      : "",
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
  const endpoints = endpointsText(analysis);
  const sections = [
    `Access proof of ${analysis.model.origin}`,
    intendedPathText(analysis),
    ...(endpoints ? [endpoints] : []),
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
  const { beyond, broken, endpointOnly } = violationsOf(result);
  return JSON.stringify(
    {
      origin: analysis.model.origin,
      intended: analysis.model.intended,
      passed: passed(result),
      summary: {
        beyondIntended: beyond.length,
        intendedPathRefused: broken.length,
        beyondIntendedRefusedOnlyByEndpoint: endpointOnly.length,
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
      vpcEndpoints: [...analysis.model.vpcEndpoints].sort(inTravelOrder).map((e) => ({
        id: e.id,
        service: e.service,
        vpcId: e.vpcId,
        defaultPolicy: e.defaultPolicy,
        usedBy: analysis.networks.filter((n) => n.network.endpoints.some((x) => x.id === e.id)).map((n) => n.principalId),
      })),
      ...(analysis.model.tables.length > 0
        ? {
            tables: analysis.model.tables.map((t) => ({
              arn: t.arn,
              name: t.name,
              accountId: t.accountId,
              hashKey: t.hashKey,
              ...(t.ttlAttribute !== undefined ? { ttlAttribute: t.ttlAttribute } : {}),
              ...(t.kmsKeyArn !== undefined ? { kmsKeyArn: t.kmsKeyArn } : {}),
              pointInTimeRecovery: t.pointInTimeRecovery,
              readBy: tableCells(analysis, `read-table:${t.arn}`),
              writtenBy: tableCells(analysis, `write-table:${t.arn}`),
            })),
          }
        : {}),
      cells: analysis.cells,
      findings: result.findings,
      ...(result.deployTime ? { deployTime: deployTimeJson(result.deployTime) } : {}),
      ...(result.drift ? { drift: result.drift } : {}),
    },
    null,
    2,
  );
}

/** The principals a table capability is allowed to (its ALLOW cells), by id. */
function tableCells(analysis: AccessAnalysis, capabilityId: string): string[] {
  return analysis.cells.filter((c) => c.capabilityId === capabilityId && c.allowed).map((c) => c.principalId);
}

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly action: string;
  readonly refused: boolean;
  readonly red: boolean;
  /** A refusal that a VPC endpoint policy decided. */
  readonly byEndpoint: boolean;
  /** The qualifiers the edge stands for ("unqualified", "$LATEST", "1"), when the function has several. */
  readonly qualifiers: string[];
}

/**
 * Accounts (subgraphs), roles, functions and aliases, with the allowed assume/invoke edges solid and the refused
 * attempts on the invoker roles and on what the callers invoke dashed (and an invoker role's refused attempts at the
 * callee's other qualifiers); anything beyond the intended paths in red. Edges between the same two nodes are drawn
 * once, naming the qualifiers they stand for; with several invoker roles, a principal refused at every one of them
 * gets one edge to the group of invoker roles.
 */
export function mermaidReport(analysis: AccessAnalysis): string {
  const { model, principals, cells } = analysis;
  const id = (text: string) => text.replace(/[^A-Za-z0-9]/g, "_");
  // Short node ids that stay unique across the accounts: role_<account>_<name>, fn_<account>_<name>, alias_<account>_<name>_<alias>.
  const roleNode = (arn: string) => id(`role_${accountOf(arn)}_${roleName(arn)}`);
  const fnNode = (arn: string) => id(`fn_${accountOf(arn)}_${functionName(arn)}`);
  const aliasNode = (fn: { arn: string; name: string }, alias: string) => id(`alias_${accountOf(fn.arn)}_${fn.name}_${alias}`);
  const tableNode = (arn: string) => id(`table_${accountOf(arn)}_${arn.slice(arn.lastIndexOf("/") + 1)}`);
  const nodeOfPrincipal = new Map(principals.map((p) => [p.id, p.roleArn !== undefined ? roleNode(p.roleArn) : id(p.id)]));
  const invokers = [...new Set(model.intended.map((p) => p.invokerRoleArn))];
  const invokerGroup = invokers.length > 1 ? id(`invokers_${model.calleeAccountId}`) : undefined;
  const targets = new Set(model.intended.map((p) => p.targetArn));
  const aliasNodes = new Map<string, string>();
  const lines = ["flowchart LR"];
  for (const accountId of accountOrder(model, [])) {
    lines.push(`  subgraph ${id(`account_${accountId}`)}["${accountHeading(model, accountId)}"]`);
    for (const fn of model.functions.filter((f) => f.accountId === accountId)) {
      lines.push(`    ${fnNode(fn.arn)}(["function ${fn.name}"])`);
      for (const alias of fn.aliases.values()) {
        aliasNodes.set(alias.arn, aliasNode(fn, alias.name));
        lines.push(`    ${aliasNode(fn, alias.name)}(["alias ${fn.name}:${alias.name}"])`);
      }
    }
    const roles = model.roles.filter((r) => r.accountId === accountId);
    if (invokerGroup !== undefined && accountId === model.calleeAccountId) {
      lines.push(`    subgraph ${invokerGroup}["invoker roles, one per caller"]`);
      for (const arn of invokers) lines.push(`      ${roleNode(arn)}["role ${roleName(arn)}"]`);
      lines.push("    end");
    }
    for (const role of roles.filter((r) => invokerGroup === undefined || !invokers.includes(r.arn)))
      lines.push(`    ${roleNode(role.arn)}["role ${role.name}"]`);
    for (const table of model.tables.filter((t) => t.accountId === accountId))
      lines.push(`    ${tableNode(table.arn)}[("table ${table.name}")]`);
    for (const p of principals.filter((x) => x.kind === "admin" && x.accountId === accountId))
      lines.push(`    ${nodeOfPrincipal.get(p.id)}[/"administrators"/]`);
    lines.push("  end");
  }
  for (const p of principals.filter((x) => x.kind === "outsider" || x.kind === "named" || x.kind === "anonymous"))
    lines.push(`  ${nodeOfPrincipal.get(p.id)}[/"${p.label}"/]`);
  const fixed: string[] = [];
  for (const fn of model.functions) fixed.push(`  ${fnNode(fn.arn)} -- "runs as" --> ${roleNode(fn.roleArn)}`);
  for (const fn of model.functions)
    for (const alias of fn.aliases.values())
      fixed.push(
        `  ${aliasNode(fn, alias.name)} -- "${alias.functionVersion === "$LATEST" ? "points at $LATEST" : `points at version ${alias.functionVersion}`}" --> ${fnNode(fn.arn)}`,
      );
  const edges: Edge[] = [];
  const addEdge = (edge: Omit<Edge, "qualifiers">, qualifier: string | undefined) => {
    const same = edges.find(
      (e) =>
        e.from === edge.from &&
        e.to === edge.to &&
        e.action === edge.action &&
        e.refused === edge.refused &&
        e.red === edge.red &&
        e.byEndpoint === edge.byEndpoint,
    );
    if (same) {
      if (qualifier !== undefined && !same.qualifiers.includes(qualifier)) same.qualifiers.push(qualifier);
    } else edges.push({ ...edge, qualifiers: qualifier !== undefined ? [qualifier] : [] });
  };
  const capabilityById = new Map(analysis.capabilities.map((c) => [c.id, c]));
  const qualifierOf = (capability: Capability) => {
    if (capability.qualifier !== undefined) return capability.qualifier;
    const fn = model.functions.find((f) => f.arn === capability.resourceArn);
    return fn && (fn.versions.length > 0 || fn.aliases.size > 0) ? "unqualified" : undefined;
  };
  for (const principal of principals) {
    const from = nodeOfPrincipal.get(principal.id) as string;
    const mine = cells.filter((c) => c.principalId === principal.id);
    const refusedEverywhere =
      invokerGroup !== undefined &&
      !pathsOfInvoker(model, principal.roleArn) &&
      invokers.every((arn) => mine.some((c) => c.capabilityId === `assume:${arn}` && !c.allowed));
    if (refusedEverywhere) {
      const red = mine.some((c) => invokers.some((arn) => c.capabilityId === `assume:${arn}`) && c.verdict === "path-broken");
      addEdge({ from, to: invokerGroup, action: "sts:AssumeRole", refused: true, red, byEndpoint: false }, undefined);
    }
    for (const cell of mine) {
      const capability = capabilityById.get(cell.capabilityId);
      if (!capability || principal.roleArn === capability.resourceArn) continue;
      if (capability.kind === "read-table" || capability.kind === "write-table") {
        // Who reads and writes a table: each allowed request directly, and the intended one refused, in red.
        const endpointOnly = cell.decidedByEndpoint?.withoutEndpoints === "beyond-intended";
        const red = cell.verdict === "beyond-intended" || cell.verdict === "path-broken" || endpointOnly;
        if (!((cell.allowed && cell.via.length === 0) || (!cell.allowed && red))) continue;
        const edge = {
          from,
          to: tableNode(capability.resourceArn),
          refused: !cell.allowed,
          red,
          byEndpoint: cell.decidedByEndpoint !== undefined,
        };
        // One edge per principal and table, naming the read and the write it stands for.
        const same = edges.findIndex(
          (e) =>
            e.from === edge.from &&
            e.to === edge.to &&
            e.refused === edge.refused &&
            e.red === edge.red &&
            e.byEndpoint === edge.byEndpoint,
        );
        if (same === -1) edges.push({ ...edge, action: cell.action, qualifiers: [] });
        else edges[same] = { ...edges[same], action: `${edges[same].action}, ${cell.action}` };
        continue;
      }
      const onRole = capability.kind === "assume" || capability.kind === "change-role" || capability.kind === "pass-role";
      const onFunction = capability.kind === "invoke" || capability.kind === "change-function";
      if (!onRole && !onFunction) continue;
      const to = onRole
        ? roleNode(capability.resourceArn)
        : (aliasNodes.get(capability.resourceArn) ?? fnNode(capability.functionArn ?? capability.resourceArn));
      // Access beyond the path that only a VPC endpoint policy refuses is drawn as a red refusal.
      const endpointOnly = cell.decidedByEndpoint?.withoutEndpoints === "beyond-intended";
      const byEndpoint = cell.decidedByEndpoint !== undefined;
      const red = cell.verdict === "beyond-intended" || cell.verdict === "path-broken" || endpointOnly;
      // Changing or passing a role or function is drawn only when it goes beyond the path (owners may always).
      if (capability.kind !== "assume" && capability.kind !== "invoke") {
        if (cell.verdict === "beyond-intended" || endpointOnly)
          addEdge({ from, to, action: cell.action, refused: endpointOnly, red: true, byEndpoint }, undefined);
        continue;
      }
      const action = capability.requests[0].action;
      const qualifier = capability.kind === "invoke" && !aliasNodes.has(capability.resourceArn) ? qualifierOf(capability) : undefined;
      if (cell.allowed && cell.via.length === 0) {
        addEdge({ from, to, action, refused: false, red: cell.verdict === "beyond-intended", byEndpoint: false }, qualifier);
        continue;
      }
      if (cell.allowed) continue;
      const watched =
        endpointOnly ||
        (capability.kind === "assume"
          ? invokers.includes(capability.resourceArn) &&
            !refusedEverywhere &&
            !(invokerGroup !== undefined && pathsOfInvoker(model, principal.roleArn))
          : targets.has(capability.resourceArn) ||
            (capability.functionArn === model.intended[0].calleeFunctionArn && pathsOfInvoker(model, principal.roleArn)));
      if (watched) addEdge({ from, to, action, refused: true, red, byEndpoint }, qualifier);
    }
  }
  const edgeLine = (e: Edge) => {
    const label = `${e.action}${e.refused ? (e.byEndpoint ? " refused by the VPC endpoint policy" : " refused") : ""}${e.to === invokerGroup ? " (every invoker role)" : ""}${e.qualifiers.length > 0 ? ` (${e.qualifiers.join(", ")})` : ""}`;
    return e.refused ? `  ${e.from} -. "${label}" .-> ${e.to}` : `  ${e.from} -- "${label}" --> ${e.to}`;
  };
  lines.push(...fixed, ...edges.map(edgeLine));
  edges.forEach((e, i) => {
    if (e.red) lines.push(`  linkStyle ${fixed.length + i} stroke:#d00,stroke-width:3px`);
  });
  return lines.join("\n");
}

const pathsOfInvoker = (model: AccessModel, roleArn: string | undefined): boolean =>
  model.intended.some((p) => p.invokerRoleArn === roleArn);
