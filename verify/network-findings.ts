/**
 * Findings of the network layer: VPC endpoint policies that allow everything (AWS's default full-access policy, or
 * a statement as wide), endpoint policies that admit principals, resources or actions beyond the intended paths of
 * the callers in their VPC (or, for the callee's DynamoDB gateway endpoint, beyond its role's item requests on its
 * table), and a function security group that still sends traffic to CIDR blocks when the stacks
 * create endpoints in its VPC (around the endpoints and their policies).
 */
import {
  asList,
  calleeRoleArnOf,
  describeSource,
  functionName,
  iamPatternMatches,
  roleName,
  statementLabel,
  statementsOf,
  type AccessModel,
  type EndpointAccess,
  type IntendedPath,
  isCalleeTable,
} from "./access-model";
import { endpointName, inTravelOrder } from "./network";

/** The findings of this layer; findings.ts reports them with the others (the same shape as its Finding). */
export type NetworkFindingCode =
  "endpoint-policy-full-access" | "endpoint-policy-off-path" | "cidr-egress-with-endpoints" | "negated-element";

export interface NetworkFinding {
  readonly code: NetworkFindingCode;
  readonly where: string;
  readonly problem: string;
  readonly fix: string;
}

/** What the intended paths send through an endpoint of one service: who, which action, on what. */
interface EndpointIntent {
  readonly principals: readonly string[];
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** "the role of caller orders assumes its invoker role", for the fix. */
  readonly paths: readonly IntendedPath[];
  /** The callee's own requests (its DynamoDB table), which no caller's path sends. */
  readonly callee?: boolean;
}

/** Condition keys that narrow who may use an endpoint (a positive operator with values that are not wildcards). */
const WHO_KEYS = new Set(["aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths", "aws:userid"]);
const PRINCIPAL_ARN = new Set(["aws:principalarn"]);
const POSITIVE = /^(ForAllValues:|ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)(IfExists)?$/i;

/** The item actions the callee's idempotency records need (Powertools' DynamoDB persistence layer). */
export const CALLEE_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];

/** The paths whose caller function runs in this VPC. */
function pathsThrough(model: AccessModel, vpcId: string): IntendedPath[] {
  return model.intended.filter((p) => model.functions.find((f) => f.arn === p.callerFunctionArn)?.vpcId === vpcId);
}

/** What the paths of the VPC send through an endpoint; undefined for a service the paths do not use. */
function intentOf(model: AccessModel, endpoint: EndpointAccess): EndpointIntent | undefined {
  const paths = pathsThrough(model, endpoint.vpcId);
  const unique = (values: string[]) => [...new Set(values)];
  switch (endpoint.service.toLowerCase()) {
    case "sts":
      return {
        principals: unique(paths.map((p) => p.callerRoleArn)),
        actions: ["sts:AssumeRole"],
        resources: unique(paths.map((p) => p.invokerRoleArn)),
        paths,
      };
    case "lambda":
      return {
        principals: unique(paths.map((p) => p.invokerRoleArn)),
        actions: ["lambda:InvokeFunction"],
        resources: unique(paths.map((p) => p.targetArn)),
        paths,
      };
    case "dynamodb": {
      // The callee's role reaches its own tables from the callee's VPC; no caller's path passes this endpoint.
      const calleeRole = calleeRoleArnOf(model);
      const callee = model.functions.find((f) => f.roleArn === calleeRole && f.vpcId === endpoint.vpcId);
      return {
        principals: callee && calleeRole !== undefined ? [calleeRole] : [],
        actions: CALLEE_TABLE_ACTIONS,
        resources: callee ? model.tables.filter((t) => isCalleeTable(model, t) && t.region === endpoint.region).map((t) => t.arn) : [],
        paths: [],
        callee: true,
      };
    }
    default:
      return undefined;
  }
}

/** The policy an endpoint should have: one statement per path through it (for DynamoDB: the callee's role on its tables). */
function suggestedPolicy(intent: EndpointIntent, service: string, organizationId: string | undefined): string {
  if (service === "dynamodb")
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: "*",
          Action: intent.actions,
          Resource: intent.resources.length === 1 ? intent.resources[0] : intent.resources,
          Condition: { ArnEquals: { "aws:PrincipalArn": intent.principals.length === 1 ? intent.principals[0] : intent.principals } },
        },
      ],
    });
  const statements = intent.paths.map((p) => {
    const [principal, resource] = service === "sts" ? [p.callerRoleArn, p.invokerRoleArn] : [p.invokerRoleArn, p.targetArn];
    return {
      Effect: "Allow",
      Principal: "*",
      Action: intent.actions[0],
      Resource: resource,
      Condition: {
        ArnEquals: { "aws:PrincipalArn": principal },
        ...(organizationId !== undefined ? { StringEquals: { "aws:PrincipalOrgID": organizationId } } : {}),
      },
    };
  });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The values of a statement's positive (Equals/Like) conditions on these keys: what they admit. */
function positiveValues(statement: Record<string, unknown>, keys: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [operator, entries] of Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!POSITIVE.test(operator)) continue;
    for (const [key, value] of Object.entries(entries ?? {})) if (keys.has(key.toLowerCase())) out.push(...asList(value));
  }
  return out;
}

/** The keys of a statement's positive conditions whose values are not bare wildcards. */
function pinnedKeys(statement: Record<string, unknown>): Set<string> {
  const keys = new Set<string>();
  for (const [operator, entries] of Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!POSITIVE.test(operator)) continue;
    for (const [key, value] of Object.entries(entries ?? {}))
      if (asList(value).length > 0 && !asList(value).some((v) => /^[*?]+$/.test(v))) keys.add(key.toLowerCase());
  }
  return keys;
}

export function findEndpointProblems(model: AccessModel): NetworkFinding[] {
  const findings: NetworkFinding[] = [];
  for (const endpoint of [...model.vpcEndpoints].sort(inTravelOrder)) {
    const intent = intentOf(model, endpoint);
    const named = `VPC endpoint ${endpointName(endpoint)} in ${endpoint.vpcId} (${describeSource(endpoint.source)})`;
    const what =
      endpoint.service.toLowerCase() === "dynamodb"
        ? "the callee's role on its table"
        : `the intended path${intent?.paths.length === 1 ? "" : "s"} through it`;
    const fix =
      intent && intent.principals.length > 0
        ? `set the endpoint's policy to allow only ${what}: ${suggestedPolicy(intent, endpoint.service.toLowerCase(), model.configured.organizationId)}`
        : "set a policy that names the principals and resources that use the endpoint";
    if (endpoint.defaultPolicy) {
      findings.push({
        code: "endpoint-policy-full-access",
        where: named,
        problem: `has no policy, so AWS attaches its default full-access policy: every principal that reaches the endpoint may call every ${endpoint.service} action on every resource (only the identity and resource policies stand in the way)`,
        fix,
      });
      continue;
    }
    statementsOf(endpoint.policy).forEach((statement, index) => {
      if (statement.Effect !== "Allow") return;
      const where = `VPC endpoint policy of ${endpointName(endpoint)} in ${endpoint.vpcId} (${describeSource(endpoint.source)}): ${statementLabel(statement, index)}`;
      const add = (code: NetworkFindingCode, problem: string, fixText = fix) => findings.push({ code, where, problem, fix: fixText });
      for (const element of ["NotAction", "NotResource", "NotPrincipal"])
        if (statement[element] !== undefined)
          add(
            "negated-element",
            `an Allow with ${element} grants everything it does not list`,
            `list what is allowed with ${element.slice(3)} instead`,
          );
      reviewEndpointStatement(model, endpoint, statement, intent, add);
    });
  }
  return findings;
}

function reviewEndpointStatement(
  model: AccessModel,
  endpoint: EndpointAccess,
  statement: Record<string, unknown>,
  intent: EndpointIntent | undefined,
  add: (code: NetworkFindingCode, problem: string) => void,
): void {
  const service = endpoint.service.toLowerCase();
  const principal = statement.Principal;
  const principalValues = principal === "*" ? ["*"] : asList((principal as Record<string, unknown> | undefined)?.AWS);
  const actions = asList(statement.Action);
  const resources = asList(statement.Resource);
  const pinned = pinnedKeys(statement);
  const everyone = principalValues.includes("*") && ![...WHO_KEYS].some((k) => pinned.has(k));
  const wide = [
    ...actions.filter((a) => a === "*" || a.toLowerCase() === `${service}:*`).map((a) => `Action "${a}" (every ${service} action)`),
    ...resources.filter((r) => r === "*").map(() => `Resource "*" (every resource)`),
    ...(everyone ? [`Principal "*" with no condition on who (aws:PrincipalArn, aws:PrincipalAccount or aws:PrincipalOrgID)`] : []),
  ];
  if (wide.length > 0)
    add(
      "endpoint-policy-full-access",
      `allows ${wide.join(", ")}: as wide as AWS's default full-access policy, the endpoint does not narrow what passes it to the intended path`,
    );
  if (!intent) return;
  const { principals, resources: intendedResources, actions: intendedActions } = intent;
  const only = (values: readonly string[], show: (v: string) => string) =>
    values.length > 0
      ? `only ${values.map(show).join(" and ")}`
      : service === "dynamodb"
        ? "no function of the stacks uses a table through this endpoint"
        : "no caller's path passes this endpoint";
  // Who: the aws:PrincipalArn values of a Principal "*", or the principals named; an account or organisation alone admits all of it.
  const arns = [...principalValues.filter((v) => v !== "*"), ...positiveValues(statement, PRINCIPAL_ARN)];
  for (const value of [...new Set(arns)].filter((v) => !principals.includes(v))) {
    const other = otherCallerOf(model, value, intent);
    add(
      "endpoint-policy-off-path",
      `admits ${value}${other}, which is not on the intended path through ${endpointName(endpoint)}: ${only(principals, (p) => roleName(p))} ${principals.length === 1 ? "calls" : "call"} ${service} from ${endpoint.vpcId}`,
    );
  }
  if (principalValues.includes("*") && !pinned.has("aws:principalarn") && pinned.size > 0 && !everyone) {
    const by = [...pinned].filter((k) => WHO_KEYS.has(k) && k !== "aws:principalarn");
    if (by.length > 0)
      add(
        "endpoint-policy-off-path",
        `admits every principal that matches ${by.join(" and ")}, not only ${principals.map((p) => roleName(p)).join(" and ") || "the intended principals"}: add an aws:PrincipalArn condition`,
      );
  }
  for (const resource of resources.filter((r) => r !== "*" && !intendedResources.includes(r))) {
    const covers = resource.includes("*") || resource.includes("?") ? " (a wildcard)" : "";
    add(
      "endpoint-policy-off-path",
      `allows the resource ${resource}${covers}, beyond the intended path: ${only(intendedResources, (r) => (r.includes(":function:") ? functionName(r) + r.slice(r.lastIndexOf(":")) : r.includes(":table/") ? `table ${roleName(r)}` : roleName(r)))} ${intendedResources.length === 1 ? "is" : "are"} reached through ${endpointName(endpoint)}`,
    );
  }
  for (const action of actions.filter((a) => a !== "*" && a.toLowerCase() !== `${service}:*`)) {
    if (intendedActions.some((i) => i.toLowerCase() === action.toLowerCase())) continue;
    const beyond = intendedActions.every((i) => iamPatternMatches(action, i, true)) ? " (a wildcard that matches more)" : "";
    add("endpoint-policy-off-path", `allows ${action}${beyond}, which the intended path does not use (${intendedActions.join(", ")})`);
  }
}

/** ", the invoker role of caller billing" or "": the role of a caller whose path does not pass this endpoint. */
function otherCallerOf(model: AccessModel, value: string, intent: EndpointIntent): string {
  if (intent.callee) return "";
  const other = model.intended.find((p) => !intent.paths.includes(p) && (p.invokerRoleArn === value || p.callerRoleArn === value));
  if (!other) return "";
  return `, ${other.invokerRoleArn === value ? "the invoker role" : "the role"} of caller ${other.caller} (whose path runs from another VPC)`;
}

/**
 * A function whose VPC has endpoints the stacks create, but whose security group still allows egress to CIDR blocks:
 * the function reaches past the endpoints (a NAT gateway, the internet, any host in the block), and the public
 * service endpoints there know no endpoint policy.
 */
export function findCidrEgress(model: AccessModel): NetworkFinding[] {
  const findings: NetworkFinding[] = [];
  for (const egress of model.cidrEgress) {
    const fn = model.functions.find((f) => f.arn === egress.functionArn);
    if (!fn || fn.vpcId === undefined) continue;
    const endpoints = model.vpcEndpoints.filter((e) => e.vpcId === fn.vpcId).sort(inTravelOrder);
    if (endpoints.length === 0) continue;
    const inline = egress.rule.address === egress.securityGroup.address;
    findings.push({
      code: "cidr-egress-with-endpoints",
      where: `security group of function ${fn.name} (${describeSource(egress.securityGroup)})${inline ? ": inline egress" : `: ${egress.rule.address}`}`,
      problem: `allows ${egress.traffic} to ${egress.cidrBlocks.join(", ")}, although the stacks create the endpoints ${endpoints.map(endpointName).join(", ")} in ${fn.vpcId}: the function can send requests around them and their policies (through a NAT gateway to the public service endpoints, or to any host in the block)`,
      fix: `remove the rule${inline ? " (the egress block)" : ""}: with vpcEndpoints 'create' the function's only egress is TCP 443 to the endpoints' security group`,
    });
  }
  return findings;
}
