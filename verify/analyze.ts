/**
 * The access proof: for every principal and capability, AWS's policy evaluation (through
 * @cloud-copilot/iam-simulate, the same simulator the local runtime uses) decides whether the
 * request is allowed, directly or through any chain of roles the principal can assume.
 */
import {
  type AnonymousPrincipal,
  type AuthorizationDecision,
  Authorizer,
  type OrganizationMembership,
  type Principal,
  roleSession,
} from "../core";
import { calleeRoleArnOf, pathOfCallerRole, pathsOfInvokerRole, roleName, type AccessModel } from "./access-model";
import { capabilitiesOf, expectationFor, type Capability, type CapabilityRequest, type Expectation } from "./capabilities";
import { endpointPolicyName, networkOf, passageFor, type PrincipalNetwork } from "./network";
import { accountOfPrincipal, enumeratePrincipals, namedAwsPrincipals, PROOF_SESSION_NAME, type AnalysisPrincipal } from "./principals";

export interface Hop {
  readonly roleArn: string;
  /** The statements that let the previous principal assume this role (identity side and trust). */
  readonly allowedBy: readonly string[];
}

export type Verdict = "as-intended" | "permitted" | "refused" | "beyond-intended" | "path-broken";

/** A VPC endpoint a request passed: "vpce-306b2a1d7b102686c", "sts", "vpc-0a1a1a1a1a1a1a1a1". */
export interface EndpointRef {
  readonly id: string;
  readonly service: string;
  readonly vpcId: string;
}

/** A cell a VPC endpoint's policy decided: it refused what the identity and resource policies alone allow. */
export interface EndpointDecision {
  readonly endpoint: EndpointRef;
  /** The verdict from outside the VPC, where no endpoint policy applies. */
  readonly withoutEndpoints: Verdict;
}

export interface Cell {
  readonly principalId: string;
  readonly capabilityId: string;
  readonly allowed: boolean;
  /** Roles assumed on the way, in order; empty when the principal is allowed (or refused) directly. */
  readonly via: readonly Hop[];
  /** The action that decided: the first one allowed, or the first one tried when all were refused. */
  readonly action: string;
  /** Statements that allowed the last step, or the policies that refused the direct attempt. */
  readonly decidedBy: readonly string[];
  readonly expectation: Expectation;
  readonly verdict: Verdict;
  /** Why the verdict is what it is, in a sentence. */
  readonly explanation: string;
  /**
   * The VPC endpoints whose policies took part, in the order of the requests (the assumes on the way, then the
   * last request); empty for a principal that calls from outside the stacks' VPCs, or from a VPC without endpoints.
   */
  readonly endpoints: readonly EndpointRef[];
  /** Set when a VPC endpoint's policy decided the cell (refused what the other policies allow). */
  readonly decidedByEndpoint?: EndpointDecision;
}

export interface AccessAnalysis {
  readonly model: AccessModel;
  readonly principals: readonly AnalysisPrincipal[];
  readonly capabilities: readonly Capability[];
  readonly cells: readonly Cell[];
  /** The principals that call from a VPC with endpoints: their requests pass the endpoints' policies. */
  readonly networks: readonly { readonly principalId: string; readonly network: PrincipalNetwork }[];
}

/** APIs that accept only signed requests: no policy can let an anonymous caller use them. */
const SIGNED_ONLY_SERVICES = new Set(["sts", "lambda", "kms", "iam", "dynamodb"]);

interface Session {
  readonly principal: Principal;
  readonly path: readonly Hop[];
}

/** A cell before the endpoints it passed are listed. */
type CellCore = Omit<Cell, "endpoints">;

export async function analyzeAccess(model: AccessModel): Promise<AccessAnalysis> {
  const authorizer = new Authorizer(organizationOf(model));
  const principals = enumeratePrincipals(model);
  const capabilities = capabilitiesOf(model);
  const decisions = new Map<string, Promise<AuthorizationDecision>>();
  const now = new Date();

  /** Decides one request; from a VPC with an endpoint for the action's service, through that endpoint. */
  const decideFrom =
    (network: PrincipalNetwork | undefined): Decide =>
    (principal, capability, request) => {
      const who = principal.kind === "anonymous" ? "anonymous" : principal.arn;
      const passage = passageFor(network, request.action);
      const key = `${who}|${request.action}|${request.resourceArn}|${JSON.stringify(request.context ?? {})}|${passage?.id ?? ""}`;
      let decision = decisions.get(key);
      if (!decision) {
        decision = authorizer.authorize({
          principal,
          action: request.action,
          resourceArn: request.resourceArn,
          resourceAccountId: capability.resourceAccountId,
          region: model.region,
          ...(capability.resourcePolicy ? { resourcePolicy: capability.resourcePolicy } : {}),
          resourcePolicyName: capability.resourcePolicyName,
          ...(request.context ? { context: request.context } : {}),
          ...(passage
            ? { vpcEndpoint: { id: passage.id, vpcId: passage.vpcId, policy: passage.policy, policyName: passage.policyName } }
            : {}),
          now,
        });
        decisions.set(key, decision);
      }
      return decision;
    };

  const assumeCapabilities = capabilities.filter((c) => c.kind === "assume");
  /** Every role session the principal can reach, shortest chains first; from its VPC, each session is used there too. */
  const reachable = async (start: AnalysisPrincipal, decide: Decide): Promise<Session[]> => {
    if (start.principal.kind === "anonymous") return [];
    const seen = new Set<string>(start.roleArn !== undefined ? [start.roleArn] : []);
    const out: Session[] = [];
    let frontier: Session[] = [{ principal: start.principal, path: [] }];
    while (frontier.length > 0) {
      const next: Session[] = [];
      for (const session of frontier) {
        for (const capability of assumeCapabilities) {
          if (seen.has(capability.resourceArn)) continue;
          const decision = await decide(session.principal, capability, capability.requests[0]);
          if (!decision.allowed) continue;
          seen.add(capability.resourceArn);
          const role = model.roles.find((r) => r.arn === capability.resourceArn);
          if (!role) continue;
          const principal = roleSession({
            partition: model.partition,
            roleArn: role.arn,
            roleId: role.roleId,
            sessionName: PROOF_SESSION_NAME,
            identityPolicies: role.policies,
            chained: true,
          });
          next.push({ principal, path: [...session.path, { roleArn: role.arn, allowedBy: decision.allowedBy }] });
        }
      }
      out.push(...next);
      frontier = next;
    }
    return out;
  };

  const cells: Cell[] = [];
  const networks: { principalId: string; network: PrincipalNetwork }[] = [];
  for (const principal of principals) {
    // A caller's role tries its own invoker role first: reaching the callee through another's is a finding of its own.
    const own = pathOfCallerRole(model, principal.roleArn)?.invokerRoleArn;
    const sessionsOf = async (decide: Decide) =>
      (await reachable(principal, decide)).sort(
        (a, b) => Number(b.path[0]?.roleArn === own) - Number(a.path[0]?.roleArn === own) || a.path.length - b.path.length,
      );
    const network = networkOf(model, principal);
    const decide = decideFrom(network);
    const sessions = await sessionsOf(decide);
    // From outside the VPC, to tell which cells an endpoint policy decided.
    const outside = network ? { decide: decideFrom(undefined), sessions: await sessionsOf(decideFrom(undefined)) } : undefined;
    if (network) networks.push({ principalId: principal.id, network });
    for (const capability of capabilities) {
      const expectation = expectationFor(model, principal, capability);
      let cell = await evaluateCell(model, principal, capability, expectation, sessions, decide);
      if (network && outside && !cell.allowed) {
        const without = await evaluateCell(model, principal, capability, expectation, outside.sessions, outside.decide);
        if (without.allowed)
          cell = (await refusalFromTheVpc(assumeCapabilities, principal, capability, cell, without, sessions, decide, network)) ?? cell;
      }
      cells.push({ ...cell, endpoints: endpointsPassed(network, cell) });
    }
  }
  return { model, principals, capabilities, cells, networks };
}

/** The endpoints a cell's requests passed: one sts:AssumeRole per hop, then its action. */
function endpointsPassed(network: PrincipalNetwork | undefined, cell: CellCore): EndpointRef[] {
  if (!network) return [];
  const out: EndpointRef[] = [];
  for (const action of [...cell.via.map(() => "sts:AssumeRole"), cell.action]) {
    const passage = passageFor(network, action);
    if (passage && !out.some((e) => e.id === passage.id)) out.push(refOf(passage.endpoint));
  }
  return out;
}

const refOf = (endpoint: { id: string; service: string; vpcId: string }): EndpointRef => ({
  id: endpoint.id,
  service: endpoint.service,
  vpcId: endpoint.vpcId,
});

/**
 * A cell refused from the principal's VPC that the identity and resource policies alone allow (from outside it):
 * the refusal along the route that works from outside, the first request of it that fails, and whether the
 * endpoint's policy refused it (decidedByEndpoint) or a key AWS sets differently there (aws:SourceVpce, aws:SourceIp).
 */
async function refusalFromTheVpc(
  assumeCapabilities: readonly Capability[],
  principal: AnalysisPrincipal,
  capability: Capability,
  inside: CellCore,
  without: CellCore,
  sessions: readonly Session[],
  decide: Decide,
  network: PrincipalNetwork,
): Promise<CellCore | undefined> {
  if (principal.principal.kind === "anonymous") return undefined;
  const { expectation } = inside;
  let from: Principal = principal.principal;
  let via: readonly Hop[] = [];
  let step: { capability: Capability; request: CapabilityRequest; onTheWay?: string } | undefined;
  for (const hop of without.via) {
    const session = sessions.find((s) => s.path[s.path.length - 1]?.roleArn === hop.roleArn);
    if (!session) {
      const assume = assumeCapabilities.find((c) => c.resourceArn === hop.roleArn);
      if (!assume) return undefined;
      step = { capability: assume, request: assume.requests[0], onTheWay: hop.roleArn };
      break;
    }
    from = session.principal;
    via = session.path;
  }
  step ??= { capability, request: capability.requests.find((r) => r.action === without.action) ?? capability.requests[0] };
  const decision = await decide(from, step.capability, step.request);
  if (decision.allowed) return undefined;
  const passage = passageFor(network, step.request.action);
  const verdict = verdictOf(expectation, false);
  const onTheWay = step.onTheWay !== undefined ? ` on the way, at sts:AssumeRole on role ${roleName(step.onTheWay)},` : "";
  const base = {
    principalId: principal.id,
    capabilityId: capability.id,
    expectation,
    allowed: false,
    via,
    action: step.request.action,
    decidedBy: decision.deniedBy,
    verdict,
  };
  if (!passage || decision.vpcEndpointResult === "Allowed") {
    // The endpoint's policy allowed it: a condition on a key that differs inside the VPC refused it.
    return {
      ...base,
      explanation: `${explain(verdict, expectation, `from the VPC${onTheWay} ${decision.reason}`)} (requests from ${network.vpcId} carry aws:SourceVpce and aws:SourceVpc, and no aws:SourceIp; from outside it they are allowed)`,
    };
  }
  const by = `by the ${endpointPolicyName(passage.endpoint)} in ${network.vpcId}${onTheWay} ${decision.reason}`;
  // From outside the VPC: the outside cell's own explanation ("access beyond the intended path: ...").
  const outside = without.explanation.replace(/^access beyond the intended path: /, "");
  const decidedByEndpoint = { endpoint: refOf(passage.endpoint), withoutEndpoints: without.verdict };
  if (without.verdict === "beyond-intended" && verdict === "path-broken")
    // The intended path is refused on its own; the way around it is held back only by the endpoint.
    return {
      ...inside,
      explanation: `${inside.explanation}; another way, which the identity and resource policies allow from outside the VPC, is refused only ${by}: access beyond the intended path (${outside})`,
      decidedByEndpoint,
    };
  const alone =
    without.verdict === "beyond-intended"
      ? `refused only ${by}: from outside the VPC the identity and resource policies allow it, access beyond the intended path (${outside})`
      : verdict === "path-broken"
        ? `the intended path is refused ${by}; the identity and resource policies allow it`
        : `refused ${by}; from outside the VPC the identity and resource policies allow it`;
  return { ...base, explanation: alone, decidedByEndpoint };
}

type Decide = (
  principal: Principal | AnonymousPrincipal,
  capability: Capability,
  request: CapabilityRequest,
) => Promise<AuthorizationDecision>;

async function firstAllowed(
  principal: Principal | AnonymousPrincipal,
  capability: Capability,
  decide: Decide,
): Promise<{ request: CapabilityRequest; decision: AuthorizationDecision } | undefined> {
  for (const request of capability.requests) {
    const decision = await decide(principal, capability, request);
    if (decision.allowed) return { request, decision };
  }
  return undefined;
}

async function evaluateCell(
  model: AccessModel,
  principal: AnalysisPrincipal,
  capability: Capability,
  expectation: Expectation,
  sessions: readonly Session[],
  decide: Decide,
): Promise<CellCore> {
  const base = { principalId: principal.id, capabilityId: capability.id, expectation };
  const service = capability.requests[0].action.split(":")[0];
  if (principal.principal.kind === "anonymous" && SIGNED_ONLY_SERVICES.has(service)) {
    return {
      ...base,
      allowed: false,
      via: [],
      action: capability.requests[0].action,
      decidedBy: [`${service} accepts only signed requests`],
      verdict: verdictOf(expectation, false),
      explanation: `AWS refuses unsigned ${service} requests whatever the policies say`,
    };
  }
  const direct = await firstAllowed(principal.principal, capability, decide);
  const own = pathOfCallerRole(model, principal.roleArn);
  if (direct) {
    // A caller's role must reach the callee through its invoker role, not around it.
    const bypass = own !== undefined && capability.kind === "invoke" && capability.functionArn === own.calleeFunctionArn;
    const verdict: Verdict = bypass ? "beyond-intended" : verdictOf(expectation, true);
    return {
      ...base,
      allowed: true,
      via: [],
      action: direct.request.action,
      decidedBy: direct.decision.allowedBy,
      verdict,
      explanation: bypass
        ? `allowed directly, bypassing ${roleName(own.invokerRoleArn)}: a second path to the callee`
        : explain(verdict, expectation, "", beyondWhy(model, principal, capability, [])),
    };
  }
  for (const session of sessions) {
    const chained = await firstAllowed(session.principal, capability, decide);
    if (chained) {
      // The intended path goes through the caller's own invoker role; through another caller's it is beyond.
      const astray = expectation.kind === "intended" && own !== undefined && session.path[0]?.roleArn !== own.invokerRoleArn;
      const verdict: Verdict = astray ? "beyond-intended" : verdictOf(expectation, true);
      return {
        ...base,
        allowed: true,
        via: session.path,
        action: chained.request.action,
        decidedBy: chained.decision.allowedBy,
        verdict,
        explanation: explain(verdict, expectation, "", beyondWhy(model, principal, capability, session.path)),
      };
    }
  }
  const refused = await decide(principal.principal, capability, capability.requests[0]);
  const verdict = verdictOf(expectation, false);
  return {
    ...base,
    allowed: false,
    via: [],
    action: capability.requests[0].action,
    decidedBy: refused.deniedBy,
    verdict,
    explanation: explain(verdict, expectation, refused.reason),
  };
}

/** What makes an allowed cell beyond the intended paths, when it is one the architecture names; undefined otherwise. */
function beyondWhy(model: AccessModel, principal: AnalysisPrincipal, capability: Capability, via: readonly Hop[]): string | undefined {
  const own = pathOfCallerRole(model, principal.roleArn);
  const other = (arn: string | undefined) =>
    pathsOfInvokerRole(model, arn).find((p) => p !== own && p.invokerRoleArn !== own?.invokerRoleArn);
  if (capability.kind === "assume" && own) {
    const theirs = other(capability.resourceArn);
    if (theirs)
      return `the role of caller ${own.caller} assumes ${roleName(theirs.invokerRoleArn)}, the invoker role of caller ${theirs.caller}: each caller may assume only its own`;
  }
  if (capability.kind === "read-table" || capability.kind === "write-table") {
    const table = model.tables.find((t) => t.arn === capability.resourceArn);
    const calleeRole = calleeRoleArnOf(model);
    const how = via.length > 0 ? ` through ${via.map((h) => roleName(h.roleArn)).join(", ")}` : "";
    return `${capability.kind === "read-table" ? "reads" : "writes"} table ${table?.name ?? capability.resourceArn}${how}: only ${calleeRole !== undefined ? roleName(calleeRole) : "the callee's role"} may read and write it`;
  }
  if (capability.kind === "invoke" && capability.functionArn === model.intended[0].calleeFunctionArn) {
    const targets = model.intended.map((p) => p.targetArn);
    if (!targets.includes(capability.resourceArn)) {
      const at = capability.qualifier === undefined ? "unqualified (its $LATEST code)" : `at ${capability.qualifier}`;
      return `invokes the callee ${at}: only ${[...new Set(targets)].map((t) => t.slice(t.lastIndexOf(":") + 1)).join(", ")} may be invoked`;
    }
    const through = own && via.length > 0 ? other(via[0].roleArn) : undefined;
    if (through)
      return `the role of caller ${own?.caller} reaches the callee through ${roleName(through.invokerRoleArn)}, the invoker role of caller ${through.caller}, not its own`;
  }
  return undefined;
}

function verdictOf(expectation: Expectation, allowed: boolean): Verdict {
  if (expectation.kind === "intended") return allowed ? "as-intended" : "path-broken";
  if (expectation.kind === "permitted") return allowed ? "permitted" : "refused";
  return allowed ? "beyond-intended" : "refused";
}

function explain(verdict: Verdict, expectation: Expectation, reason = "", beyond?: string): string {
  switch (verdict) {
    case "as-intended":
      return `the intended path: ${expectation.kind === "intended" ? expectation.why : ""}`;
    case "permitted":
      return expectation.kind === "permitted" ? expectation.why : "";
    case "beyond-intended":
      return beyond !== undefined ? `access beyond the intended path: ${beyond}` : "access beyond the intended path";
    case "path-broken":
      return `the intended path is refused${reason ? ` ${reason}` : ""}`;
    case "refused":
      return reason ? `refused ${reason}` : "refused";
  }
}

/**
 * The organisation the policies name. The callers' and the callee's accounts are in it; so is any
 * third account a policy names (the worst case: it could be); the outsider is not.
 */
function organizationOf(model: AccessModel): OrganizationMembership | undefined {
  const named = [
    model.configured.organizationId,
    ...[...allPolicyText(model).matchAll(/"aws:PrincipalOrgID"\s*:\s*"(o-[a-z0-9]+)"/gi)].map((m) => m[1]),
  ].find((v) => v !== undefined);
  if (named === undefined) return undefined;
  const foreign = namedAwsPrincipals(model)
    .map(accountOfPrincipal)
    .filter((a): a is string => a !== undefined);
  return { organizationId: named, accounts: new Set([...model.callerAccountIds, model.calleeAccountId, ...foreign]) };
}

function allPolicyText(model: AccessModel): string {
  return JSON.stringify([
    model.roles.map((r) => [r.trustPolicy, r.policies.map((p) => p.document)]),
    model.functions.map((f) => f.resourcePolicy),
    model.buckets.map((b) => b.policy),
    model.keys.map((k) => k.policy),
    model.vpcEndpoints.map((e) => e.policy),
  ]);
}
