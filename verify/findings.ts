/**
 * Policy findings, each naming the statement and the fix: the shapes a reviewer rejects on
 * sight, whether or not the matrix shows them opening access today (a wildcard on a role may
 * match nothing now and everything after the next deploy).
 */
import type { PolicyDocument, RoleModel } from "../local/model/types";
import { asList, describeSource, statementLabel, statementsOf, type AccessModel } from "./access-model";
import { keyName } from "./capabilities";
import { accountOfPrincipal } from "./principals";

export type FindingCode =
  | "public-principal"
  | "account-without-narrowing"
  | "trust-without-principal-arn"
  | "foreign-account"
  | "action-wildcard"
  | "resource-wildcard"
  | "negated-element"
  | "external-id-not-required"
  | "organization-not-required"
  | "service-trust-without-source";

export interface Finding {
  readonly code: FindingCode;
  /** The policy and statement: "trust policy of role/x (stack 'callee' aws_iam_role.y): CallerFunctionRoleOnly". */
  readonly where: string;
  readonly problem: string;
  readonly fix: string;
}

type PolicyKind = "trust" | "function" | "bucket" | "key" | "identity";

interface PolicyUnderReview {
  readonly kind: PolicyKind;
  readonly accountId: string;
  readonly name: string;
  readonly document: PolicyDocument;
  readonly role?: RoleModel;
}

/**
 * Where AWS leaves no choice but a wildcard in a role's policy: actions with no resource-level
 * permissions, and resources whose names AWS picks (Lambda's network interfaces, log streams).
 */
const NO_RESOURCE_LEVEL_ACTIONS = new Set(["ec2:describenetworkinterfaces", "ec2:describesubnets", "xray:puttracesegments", "xray:puttelemetryrecords"]);
const AWS_NAMED_RESOURCES: readonly { readonly pattern: RegExp; readonly actions: ReadonlySet<string>; readonly why: string }[] = [
  {
    pattern: /^arn:[^:]+:ec2:[a-z0-9-]+:\d{12}:network-interface\/\*$/,
    actions: new Set(["ec2:createnetworkinterface", "ec2:deletenetworkinterface", "ec2:assignprivateipaddresses", "ec2:unassignprivateipaddresses"]),
    why: "Lambda creates the network interfaces, so their ids are not known in advance",
  },
  {
    pattern: /^arn:[^:]+:logs:[a-z0-9-]+:\d{12}:log-group:[^*]+:log-stream:\*$/,
    actions: new Set(["logs:createlogstream", "logs:putlogevents"]),
    why: "Lambda names the log streams",
  },
];
/** Condition keys that pin a statement to one principal (or, for services, one source). */
const PRINCIPAL_NARROWING = ["aws:principalarn", "aws:userid"];
const ANY_NARROWING = [...PRINCIPAL_NARROWING, "aws:principalaccount", "aws:principalorgid", "aws:sourcearn", "aws:sourceaccount"];
const POSITIVE_OPERATORS = /^(ForAllValues:|ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)(IfExists)?$/i;

export function findPolicyProblems(model: AccessModel): Finding[] {
  const findings: Finding[] = [];
  for (const policy of policiesOf(model)) {
    statementsOf(policy.document).forEach((statement, index) => {
      if (statement.Effect !== "Allow") return;
      const where = `${policy.name}: ${statementLabel(statement, index)}`;
      const add = (code: FindingCode, problem: string, fix: string) => findings.push({ code, where, problem, fix });
      for (const element of ["NotAction", "NotResource", "NotPrincipal"]) {
        if (statement[element] !== undefined) add("negated-element", `an Allow with ${element} grants everything it does not list`, `list what is allowed with ${element.slice(3)} instead`);
      }
      if (policy.kind === "identity") reviewIdentityStatement(statement, add);
      else reviewResourceStatement(model, policy, statement, add);
    });
  }
  findings.push(...reviewInvokerTrust(model));
  return findings;
}

type Add = (code: FindingCode, problem: string, fix: string) => void;

function reviewIdentityStatement(statement: Record<string, unknown>, add: Add): void {
  const actions = asList(statement.Action).map((a) => a.toLowerCase());
  for (const action of actions.filter((a) => a.includes("*"))) {
    add("action-wildcard", `the action "${action}" is a wildcard`, "list the actions the role calls (the caller's role needs only sts:AssumeRole on the invoker role; the invoker role only lambda:InvokeFunction on the callee)");
  }
  for (const resource of asList(statement.Resource).filter((r) => r.includes("*"))) {
    if (resource === "*" && actions.every((a) => NO_RESOURCE_LEVEL_ACTIONS.has(a))) continue;
    if (AWS_NAMED_RESOURCES.some((n) => n.pattern.test(resource) && actions.every((a) => n.actions.has(a)))) continue;
    add("resource-wildcard", `the resource "${resource}" is a wildcard AWS does not require here`, "name the ARNs the role acts on (for the invoker role: the callee function's ARN)");
  }
}

function reviewResourceStatement(model: AccessModel, policy: PolicyUnderReview, statement: Record<string, unknown>, add: Add): void {
  const conditionKeys = conditionKeysOf(statement);
  const principal = statement.Principal;
  const awsPrincipals = principal === "*" ? ["*"] : asList((principal as Record<string, unknown> | undefined)?.AWS);
  const services = principal === "*" ? [] : asList((principal as Record<string, unknown> | undefined)?.Service);
  if (awsPrincipals.includes("*") && !ANY_NARROWING.some((k) => conditionKeys.has(k))) {
    add("public-principal", 'Principal "*" with no condition narrowing it: anyone in any account', policy.kind === "function" ? "remove this permission: the invoker role is in the callee's account and needs none" : "name the one principal that needs access instead of \"*\"");
  }
  for (const value of awsPrincipals.filter((p) => p !== "*")) {
    const account = accountOfPrincipal(value);
    if (account !== undefined && account !== model.callerAccountId && account !== model.calleeAccountId) {
      add("foreign-account", `trusts account ${account}, which is neither the caller's (${model.callerAccountId}) nor the callee's (${model.calleeAccountId})`, `remove ${value}: only the caller and callee accounts take part`);
    }
    const wholeAccount = /^\d{12}$/.test(value) || /:root$/.test(value);
    // A key policy's grant to its own account root is KMS's default: it hands the key to the account's IAM policies.
    if (!wholeAccount || (policy.kind === "key" && account === policy.accountId) || PRINCIPAL_NARROWING.some((k) => conditionKeys.has(k))) continue;
    if (policy.kind === "trust") {
      add("trust-without-principal-arn", `trusts all of account ${account} with no aws:PrincipalArn condition: any role or user there that may call sts:AssumeRole gets in`, `add "Condition": {"ArnEquals": {"aws:PrincipalArn": "${model.intended.callerRoleArn}"}} (or name that role as the Principal)`);
    } else {
      add("account-without-narrowing", `grants all of account ${account} with no aws:PrincipalArn condition`, "name the role that needs access, or add an aws:PrincipalArn condition");
    }
  }
  if (policy.kind === "trust" && services.length > 0 && !["aws:sourceaccount", "aws:sourcearn"].some((k) => conditionKeys.has(k))) {
    add("service-trust-without-source", `trusts ${services.join(", ")} for any account's resources (the confused deputy)`, `add "Condition": {"StringEquals": {"aws:SourceAccount": "${policy.accountId}"}}`);
  }
}

/** A configured external id or organisation must be required by every statement that lets account A in. */
function reviewInvokerTrust(model: AccessModel): Finding[] {
  const invoker = model.roles.find((r) => r.arn === model.intended.invokerRoleArn);
  if (!invoker) return [];
  const findings: Finding[] = [];
  const name = trustPolicyName(invoker);
  statementsOf(invoker.trustPolicy).forEach((statement, index) => {
    if (statement.Effect !== "Allow" || asList((statement.Principal as Record<string, unknown> | undefined)?.AWS).length === 0) return;
    const where = `${name}: ${statementLabel(statement, index)}`;
    const { externalId, organizationId } = model.configured;
    if (externalId !== undefined && !requiresValue(statement, "sts:externalid", externalId)) {
      findings.push({ code: "external-id-not-required", where, problem: "the configuration sets an external id, but this statement does not require it", fix: `add "Condition": {"StringEquals": {"sts:ExternalId": "<the configured external id>"}}` });
    }
    if (organizationId !== undefined && !requiresValue(statement, "aws:principalorgid", organizationId)) {
      findings.push({ code: "organization-not-required", where, problem: `the configuration sets organisation ${organizationId}, but this statement does not require it`, fix: `add "Condition": {"StringEquals": {"aws:PrincipalOrgID": "${organizationId}"}}` });
    }
  });
  return findings;
}

function conditionKeysOf(statement: Record<string, unknown>): Set<string> {
  const keys = new Set<string>();
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    if (!POSITIVE_OPERATORS.test(operator)) continue;
    // A wildcard value narrows nothing.
    for (const [key, value] of Object.entries(entries ?? {})) if (!asList(value).some((v) => v.includes("*"))) keys.add(key.toLowerCase());
  }
  return keys;
}

function requiresValue(statement: Record<string, unknown>, key: string, expected: string): boolean {
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  return Object.entries(condition ?? {}).some(
    ([operator, entries]) => /^StringEquals$/i.test(operator) && Object.entries(entries ?? {}).some(([k, v]) => k.toLowerCase() === key && asList(v).length === 1 && asList(v)[0] === expected),
  );
}

function trustPolicyName(role: RoleModel): string {
  return `trust policy of role/${role.name} (${describeSource(role.source)})`;
}

function policiesOf(model: AccessModel): PolicyUnderReview[] {
  const out: PolicyUnderReview[] = [];
  for (const role of model.roles) {
    out.push({ kind: "trust", accountId: role.accountId, name: trustPolicyName(role), document: role.trustPolicy, role });
    for (const policy of role.policies) out.push({ kind: "identity", accountId: role.accountId, name: `policy ${policy.name} of role/${role.name} (${describeSource(policy.source)})`, document: policy.document, role });
  }
  for (const fn of model.functions) if (fn.resourcePolicy) out.push({ kind: "function", accountId: fn.accountId, name: `resource policy of function ${fn.name} (${describeSource(fn.source)})`, document: fn.resourcePolicy });
  for (const bucket of model.buckets) if (bucket.policy) out.push({ kind: "bucket", accountId: bucket.accountId, name: `bucket policy of ${bucket.name} (${describeSource(bucket.source)})`, document: bucket.policy });
  for (const key of model.keys) out.push({ kind: "key", accountId: key.accountId, name: `key policy of ${keyName(key)} (${describeSource(key.source)})`, document: key.policy });
  return out;
}
