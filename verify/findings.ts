/**
 * Policy findings, each naming the statement and the fix: the shapes a reviewer rejects on
 * sight, whether or not the matrix shows them opening access today (a wildcard on a role may
 * match nothing now and everything after the next deploy).
 */
import { accountOf, accountRootArn, functionNameOf, type PolicyDocument, type RoleModel } from "../core";
import {
  asList,
  calleeFunctionArnOf,
  describeSource,
  iamPatternMatches,
  pathOfCallerRole,
  pathsOfInvokerRole,
  roleName,
  statementLabel,
  statementsOf,
  type AccessModel,
  type IntendedPath,
} from "./access-model";
import { keyName } from "./capabilities";
import { findCidrEgress, findEndpointProblems, type NetworkFindingCode } from "./network-findings";
import { accountOfPrincipal, conditionValues } from "./principals";
import { findTableProblems, type TableFindingCode } from "./table-findings";

export type FindingCode =
  | "public-principal"
  | "account-without-narrowing"
  | "trust-without-principal-arn"
  | "principal-off-path"
  | "federated-principal"
  | "foreign-account"
  | "action-wildcard"
  | "resource-wildcard"
  | "negated-element"
  | "external-id-not-required"
  | "organization-not-required"
  | "service-without-source"
  | "invoke-beyond-alias"
  | "cross-caller-assume"
  | "trust-names-another-caller"
  | NetworkFindingCode
  | TableFindingCode;

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
 * Where AWS leaves no choice but a wildcard in a role's policy: actions allowed only on all resources,
 * and resources whose names AWS picks (Lambda's network interfaces, log streams).
 */
const ALL_RESOURCES_REQUIRED_ACTIONS = new Set(["xray:puttracesegments", "xray:puttelemetryrecords"]);
/**
 * For a function's execution role only: Lambda validates CreateNetworkInterface at CreateFunction for ids that do not
 * exist yet (Lambda guide, configuration-vpc; hashicorp/terraform-provider-aws#20698), and the Describe actions
 * support no resource-level permissions. Any other role with them is a finding.
 */
const EXECUTION_ROLE_ALL_RESOURCES_ACTIONS = new Set([
  "ec2:createnetworkinterface",
  "ec2:describenetworkinterfaces",
  "ec2:describesubnets",
]);
/** Also for execution roles only: "either a unique resource ID, or all resource IDs" (the guide's arn:...:*\/*), in its own account and region. */
const EXECUTION_ROLE_NAMED_RESOURCES = {
  pattern: /^arn:[^:]+:ec2:[a-z0-9-]+:\d{12}:(\*|\*\/\*|network-interface\/\*)$/,
  actions: new Set(["ec2:deletenetworkinterface", "ec2:assignprivateipaddresses", "ec2:unassignprivateipaddresses"]),
};
const AWS_NAMED_RESOURCES: readonly { readonly pattern: RegExp; readonly actions: ReadonlySet<string>; readonly why: string }[] = [
  {
    // Both forms AWS documents: the group's streams, and the group with everything under it.
    pattern: /^arn:[^:]+:logs:[a-z0-9-]+:\d{12}:log-group:[^*?]+:(log-stream:)?\*$/,
    actions: new Set(["logs:createlogstream", "logs:putlogevents"]),
    why: "Lambda names the log streams",
  },
  {
    pattern: /^arn:[^:]+:lambda:[a-z0-9-]+:\d{12}:function:[^*?:]+:\*$/,
    actions: new Set(["lambda:invokefunction", "lambda:invokeasync", "lambda:getfunction", "lambda:getfunctionconfiguration"]),
    why: "the versions and aliases of one named function",
  },
];
/** Condition keys that pin a statement to one principal (or, for services, one source). */
const PRINCIPAL_NARROWING = ["aws:principalarn", "aws:userid"];
const ANY_NARROWING = [...PRINCIPAL_NARROWING, "aws:principalaccount", "aws:principalorgid", "aws:sourcearn", "aws:sourceaccount"];
/** What pins a service principal to this account's own resources (the confused deputy). */
const SOURCE_NARROWING = ["aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceowner", "kms:encryptioncontext:aws:logs:arn"];
const PRINCIPAL_ARN_KEY = new Set(["aws:principalarn"]);
const PRINCIPAL_ACCOUNT_KEY = new Set(["aws:principalaccount"]);
const POSITIVE_OPERATORS = /^(ForAllValues:|ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)(IfExists)?$/i;

export function findPolicyProblems(model: AccessModel): Finding[] {
  const findings: Finding[] = [];
  for (const policy of policiesOf(model)) {
    statementsOf(policy.document).forEach((statement, index) => {
      if (statement.Effect !== "Allow") return;
      const where = `${policy.name}: ${statementLabel(statement, index)}`;
      const add = (code: FindingCode, problem: string, fix: string) => findings.push({ code, where, problem, fix });
      for (const element of ["NotAction", "NotResource", "NotPrincipal"]) {
        if (statement[element] !== undefined)
          add(
            "negated-element",
            `an Allow with ${element} grants everything it does not list`,
            `list what is allowed with ${element.slice(3)} instead`,
          );
      }
      if (policy.kind === "identity") {
        reviewIdentityStatement(statement, add, policy.role !== undefined && model.functions.some((f) => f.roleArn === policy.role?.arn));
        if (policy.role) reviewPathGrants(model, policy.role, statement, add);
      } else reviewResourceStatement(model, policy, statement, add);
    });
  }
  findings.push(...reviewInvokerTrust(model));
  findings.push(...findEndpointProblems(model), ...findCidrEgress(model), ...findTableProblems(model));
  return findings;
}

type Add = (code: FindingCode, problem: string, fix: string) => void;

function reviewIdentityStatement(statement: Record<string, unknown>, add: Add, executionRole: boolean): void {
  const actions = asList(statement.Action).map((a) => a.toLowerCase());
  for (const action of actions.filter((a) => a.includes("*"))) {
    add(
      "action-wildcard",
      `the action "${action}" is a wildcard`,
      "list the actions the role calls (a caller's role needs only sts:AssumeRole on its invoker role; an invoker role only lambda:InvokeFunction on the callee's alias)",
    );
  }
  for (const resource of asList(statement.Resource).filter((r) => r.includes("*"))) {
    const allResources = executionRole
      ? new Set([...ALL_RESOURCES_REQUIRED_ACTIONS, ...EXECUTION_ROLE_ALL_RESOURCES_ACTIONS])
      : ALL_RESOURCES_REQUIRED_ACTIONS;
    if (resource === "*" && actions.every((a) => allResources.has(a))) continue;
    const named = executionRole ? [...AWS_NAMED_RESOURCES, EXECUTION_ROLE_NAMED_RESOURCES] : AWS_NAMED_RESOURCES;
    if (named.some((n) => n.pattern.test(resource) && actions.every((a) => n.actions.has(a)))) continue;
    add(
      "resource-wildcard",
      `the resource "${resource}" is a wildcard AWS does not require here`,
      "name the ARNs the role acts on (for an invoker role: the ARN of the callee's alias)",
    );
  }
}

function reviewResourceStatement(model: AccessModel, policy: PolicyUnderReview, statement: Record<string, unknown>, add: Add): void {
  const conditionKeys = conditionKeysOf(statement);
  const principal = statement.Principal;
  const awsPrincipals = principal === "*" ? ["*"] : asList((principal as Record<string, unknown> | undefined)?.AWS);
  const services = principal === "*" ? [] : asList((principal as Record<string, unknown> | undefined)?.Service);
  const federated = principal === "*" ? [] : asList((principal as Record<string, unknown> | undefined)?.Federated);
  const narrowedTo = conditionValues(statement, PRINCIPAL_ARN_KEY);
  if (awsPrincipals.includes("*") && !ANY_NARROWING.some((k) => conditionKeys.has(k))) {
    add(
      "public-principal",
      'Principal "*" with no condition narrowing it: anyone in any account',
      policy.kind === "function"
        ? "remove this permission: the invoker role is in the callee's account and needs none"
        : 'name the one principal that needs access instead of "*"',
    );
  }
  if (federated.length > 0 && policy.kind === "trust") {
    add(
      "federated-principal",
      `trusts the identity provider ${federated.join(", ")}: its users can assume the role with web identity or SAML`,
      "remove the federated principal: only the caller's execution role takes part",
    );
  }
  for (const account of [...awsPrincipals, ...narrowedTo, ...conditionValues(statement, PRINCIPAL_ACCOUNT_KEY)]
    .map(accountOfPrincipal)
    .filter((a): a is string => a !== undefined)) {
    if (!model.callerAccountIds.includes(account) && account !== model.calleeAccountId) {
      const callers = model.callerAccountIds.length === 1 ? "the caller's" : "a caller's";
      add(
        "foreign-account",
        `names account ${account}, which is neither ${callers} (${model.callerAccountIds.join(", ")}) nor the callee's (${model.calleeAccountId})`,
        `remove account ${account}: only the ${model.callerAccountIds.length === 1 ? "caller and callee accounts" : "callers' and the callee's accounts"} take part`,
      );
    }
  }
  for (const value of awsPrincipals.filter((p) => p !== "*")) {
    const account = accountOfPrincipal(value);
    const wholeAccount = /^\d{12}$/.test(value) || /:root$/.test(value);
    // A key policy's grant to its own account root is KMS's default: it hands the key to the account's IAM policies.
    if (!wholeAccount || (policy.kind === "key" && account === policy.accountId) || PRINCIPAL_NARROWING.some((k) => conditionKeys.has(k)))
      continue;
    if (policy.kind === "trust") {
      const callerRole = (pathsOfInvokerRole(model, policy.role?.arn)[0] ?? model.intended[0]).callerRoleArn;
      add(
        "trust-without-principal-arn",
        `trusts all of account ${account} with no aws:PrincipalArn condition: any role or user there that may call sts:AssumeRole gets in`,
        `add "Condition": {"ArnEquals": {"aws:PrincipalArn": "${callerRole}"}} (or name that role as the Principal)`,
      );
    } else {
      add(
        "account-without-narrowing",
        `grants all of account ${account} with no aws:PrincipalArn condition`,
        "name the role that needs access, or add an aws:PrincipalArn condition",
      );
    }
  }
  // Another caller's role the trust lets in is reported as that (trust-names-another-caller), not twice.
  const otherCallers = policy.kind === "trust" ? otherCallersAdmitted(model, policy, statement) : [];
  for (const off of offPath(
    model,
    policy,
    [...awsPrincipals.filter((p) => p !== "*"), ...narrowedTo],
    services,
    new Set(otherCallers.map((o) => o.roleArn)),
  ))
    add("principal-off-path", off.problem, off.fix);
  for (const other of otherCallers) add("trust-names-another-caller", other.problem, other.fix);
  const sourcePinned = SOURCE_NARROWING.some((k) => conditionKeys.has(k));
  // The callee's policy is judged whole by principal-off-path; elsewhere a service must be pinned to its source.
  if (
    services.length > 0 &&
    !sourcePinned &&
    !(policy.kind === "function" && policy.name.startsWith(`resource policy of function ${functionNameOf(calleeFunctionArnOf(model))} `))
  ) {
    add(
      "service-without-source",
      `lets ${services.join(", ")} act for any account's resources (the confused deputy)`,
      `add "Condition": {"StringEquals": {"aws:SourceAccount": "${policy.accountId}"}} (and aws:SourceArn where the service sets it)`,
    );
  }
}

/**
 * Principals a policy lets in beyond the intended paths: on an invoker role anyone but its own
 * caller's role (another caller's role is trust-names-another-caller's); on the callee anyone at
 * all (the invoker roles are in its account and need no resource policy); on the execution roles
 * any AWS principal (Lambda alone assumes them); on buckets, keys and the callers, anyone from
 * another account.
 */
function offPath(
  model: AccessModel,
  policy: PolicyUnderReview,
  named: readonly string[],
  services: readonly string[],
  reportedElsewhere: ReadonlySet<string>,
): { problem: string; fix: string }[] {
  const out: { problem: string; fix: string }[] = [];
  const unique = [...new Set(named)];
  const own = pathsOfInvokerRole(model, policy.role?.arn);
  if (policy.kind === "trust" && own.length > 0) {
    const allowed = new Set(own.map((p) => p.callerRoleArn));
    const callerAccounts = new Set(
      own.flatMap((p) => [accountOf(p.callerRoleArn), accountRootArn(model.partition, accountOf(p.callerRoleArn))]),
    );
    const which = own.length === 1 && model.intended.length === 1 ? "the invoker role" : `${roleName(own[0].invokerRoleArn)}`;
    for (const value of unique.filter((v) => !allowed.has(v) && !callerAccounts.has(v) && !reportedElsewhere.has(v))) {
      out.push({
        problem: `lets ${value} assume ${which}, which only ${[...allowed].join(" and ")} may`,
        fix: `remove ${value} from the Principal and from any aws:PrincipalArn condition`,
      });
    }
  } else if (policy.kind === "trust") {
    for (const value of unique)
      out.push({
        problem: `lets ${value} assume an execution role, which only Lambda should`,
        fix: `remove ${value}: the role's trust needs only the lambda.amazonaws.com service principal`,
      });
  } else if (
    policy.kind === "function" &&
    policy.name.startsWith(`resource policy of function ${functionNameOf(calleeFunctionArnOf(model))} `)
  ) {
    for (const value of [...unique, ...services])
      out.push({
        problem: `lets ${value} act on the callee directly, around the invoker role`,
        fix: "remove this permission: the invoker role is in the callee's account and needs no resource policy",
      });
  } else {
    for (const value of unique.filter((v) => accountOfPrincipal(v) !== undefined && accountOfPrincipal(v) !== policy.accountId)) {
      out.push({
        problem: `grants ${value}, from another account, access to a resource of account ${policy.accountId}`,
        fix: `remove ${value}: nothing in this architecture crosses accounts except the invoker role's trust`,
      });
    }
  }
  return out;
}

/** A configured external id or organisation must be required by every statement of an invoker role's trust that lets a caller's account in. */
function reviewInvokerTrust(model: AccessModel): Finding[] {
  const findings: Finding[] = [];
  for (const invokerArn of new Set(model.intended.map((p) => p.invokerRoleArn))) findings.push(...reviewOneInvokerTrust(model, invokerArn));
  return findings;
}

function reviewOneInvokerTrust(model: AccessModel, invokerArn: string): Finding[] {
  const invoker = model.roles.find((r) => r.arn === invokerArn);
  if (!invoker) return [];
  const findings: Finding[] = [];
  const name = trustPolicyName(invoker);
  statementsOf(invoker.trustPolicy).forEach((statement, index) => {
    if (statement.Effect !== "Allow" || asList((statement.Principal as Record<string, unknown> | undefined)?.AWS).length === 0) return;
    const where = `${name}: ${statementLabel(statement, index)}`;
    const externalId = pathsOfInvokerRole(model, invokerArn)[0]?.externalId ?? model.configured.externalId;
    const { organizationId } = model.configured;
    if (externalId !== undefined && !requiresValue(statement, "sts:externalid", externalId)) {
      findings.push({
        code: "external-id-not-required",
        where,
        problem: "the configuration sets an external id, but this statement does not require it",
        fix: `add "Condition": {"StringEquals": {"sts:ExternalId": "<the configured external id>"}}`,
      });
    }
    if (organizationId !== undefined && !requiresValue(statement, "aws:principalorgid", organizationId)) {
      findings.push({
        code: "organization-not-required",
        where,
        problem: `the configuration sets organisation ${organizationId}, but this statement does not require it`,
        fix: `add "Condition": {"StringEquals": {"aws:PrincipalOrgID": "${organizationId}"}}`,
      });
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
    for (const [key, value] of Object.entries(entries ?? {})) if (!asList(value).some((v) => /[*?]/.test(v))) keys.add(key.toLowerCase());
  }
  return keys;
}

function requiresValue(statement: Record<string, unknown>, key: string, expected: string): boolean {
  const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
  return Object.entries(condition ?? {}).some(
    ([operator, entries]) =>
      /^StringEquals$/i.test(operator) &&
      Object.entries(entries ?? {}).some(([k, v]) => k.toLowerCase() === key && asList(v).length === 1 && asList(v)[0] === expected),
  );
}

function trustPolicyName(role: RoleModel): string {
  return `trust policy of role/${role.name} (${describeSource(role.source)})`;
}

function policiesOf(model: AccessModel): PolicyUnderReview[] {
  const out: PolicyUnderReview[] = [];
  for (const role of model.roles) {
    out.push({ kind: "trust", accountId: role.accountId, name: trustPolicyName(role), document: role.trustPolicy, role });
    for (const policy of role.policies)
      out.push({
        kind: "identity",
        accountId: role.accountId,
        name: `policy ${policy.name} of role/${role.name} (${describeSource(policy.source)})`,
        document: policy.document,
        role,
      });
  }
  for (const fn of model.functions)
    if (fn.resourcePolicy)
      out.push({
        kind: "function",
        accountId: fn.accountId,
        name: `resource policy of function ${fn.name} (${describeSource(fn.source)})`,
        document: fn.resourcePolicy,
      });
  for (const bucket of model.buckets)
    if (bucket.policy)
      out.push({
        kind: "bucket",
        accountId: bucket.accountId,
        name: `bucket policy of ${bucket.name} (${describeSource(bucket.source)})`,
        document: bucket.policy,
      });
  for (const key of model.keys)
    out.push({
      kind: "key",
      accountId: key.accountId,
      name: `key policy of ${keyName(key)} (${describeSource(key.source)})`,
      document: key.policy,
    });
  return out;
}

const INVOKE = ["lambda:InvokeFunction", "lambda:InvokeAsync"];

/** Whether an Allow statement's actions cover one of these (wildcards included); NotAction is negated-element's. */
const grantsAction = (statement: Record<string, unknown>, actions: readonly string[]) =>
  asList(statement.Action).some((pattern) => actions.some((action) => iamPatternMatches(pattern, action, true)));

/** Whether a statement's Resource covers this ARN (wildcards included). */
const coversResource = (statement: Record<string, unknown>, arn: string) =>
  asList(statement.Resource).some((r) => iamPatternMatches(r, arn));

/**
 * What the paths rely on in the roles' own policies: an invoker role invokes the callee only at the ARN its caller
 * invokes (Lambda authorizes a qualified ARN against itself, so a grant on the unqualified function, $LATEST or a
 * version opens code the alias does not point at); a caller's role assumes only its own invoker role.
 */
function reviewPathGrants(model: AccessModel, role: RoleModel, statement: Record<string, unknown>, add: Add): void {
  const invoking = pathsOfInvokerRole(model, role.arn);
  if (invoking.length > 0 && grantsAction(statement, INVOKE)) {
    const targets = new Set(invoking.map((p) => p.targetArn));
    const callee = model.functions.find((f) => f.arn === invoking[0].calleeFunctionArn);
    const qualified = [...targets].some((t) => t !== invoking[0].calleeFunctionArn);
    if (callee && qualified) {
      const beyond = [
        { arn: callee.arn, what: `the unqualified function ${callee.name} (its $LATEST code)` },
        { arn: `${callee.arn}:$LATEST`, what: `${callee.name}:$LATEST` },
        ...callee.versions.map((v) => ({ arn: `${callee.arn}:${v}`, what: `version ${v} (${callee.name}:${v})` })),
        ...[...callee.aliases.values()].map((a) => ({ arn: a.arn, what: `alias ${a.name} (${callee.name}:${a.name})` })),
      ].filter((t) => !targets.has(t.arn) && coversResource(statement, t.arn));
      if (beyond.length > 0) {
        const alias = [...targets].map((t) => t.slice(t.lastIndexOf(":") + 1)).join(", ");
        add(
          "invoke-beyond-alias",
          `grants lambda:InvokeFunction on ${beyond.map((t) => t.what).join(", ")}: the callers invoke the callee only at ${alias}, and Lambda authorizes each qualifier on its own`,
          `grant only the alias ARN: "Resource": "${[...targets].join('", "')}"`,
        );
      }
    }
  }
  const own = pathOfCallerRole(model, role.arn);
  if (own && grantsAction(statement, ["sts:AssumeRole"])) {
    const others = model.intended.filter((p) => p.invokerRoleArn !== own.invokerRoleArn && coversResource(statement, p.invokerRoleArn));
    for (const other of others.filter((p, i) => others.findIndex((q) => q.invokerRoleArn === p.invokerRoleArn) === i)) {
      add(
        "cross-caller-assume",
        `lets the role of caller ${own.caller} assume ${roleName(other.invokerRoleArn)}, the invoker role of caller ${other.caller}: each caller assumes only its own`,
        `grant sts:AssumeRole on its own invoker role only: "Resource": "${own.invokerRoleArn}"`,
      );
    }
  }
}

/** The values of a statement's positive (Equals/Like) conditions on these keys. */
function positiveConditionValues(statement: Record<string, unknown>, keys: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [operator, entries] of Object.entries((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!POSITIVE_OPERATORS.test(operator)) continue;
    for (const [key, value] of Object.entries(entries ?? {})) if (keys.has(key.toLowerCase())) out.push(...asList(value));
  }
  return out;
}

/**
 * Whether an Allow statement of a trust lets this role in, on the resource side: its Principal names the role, its
 * account or anyone (exactly or by a wildcard), and any aws:PrincipalArn condition matches it.
 */
function admitsRole(model: AccessModel, statement: Record<string, unknown>, roleArn: string): boolean {
  const principal = statement.Principal;
  const values = principal === "*" ? ["*"] : asList((principal as Record<string, unknown> | undefined)?.AWS);
  const account = accountOf(roleArn);
  const named = values.some((v) => v === account || v === accountRootArn(model.partition, account) || iamPatternMatches(v, roleArn));
  if (!named) return false;
  const pinned = positiveConditionValues(statement, PRINCIPAL_ARN_KEY);
  return pinned.length === 0 || pinned.some((v) => iamPatternMatches(v, roleArn));
}

/** An invoker role's trust admitting a caller's role other than its own: the isolation between callers is gone. */
function otherCallersAdmitted(
  model: AccessModel,
  policy: PolicyUnderReview,
  statement: Record<string, unknown>,
): { roleArn: string; problem: string; fix: string }[] {
  const own = pathsOfInvokerRole(model, policy.role?.arn);
  if (own.length === 0 || statement.Effect !== "Allow") return [];
  const mine = new Set(own.map((p) => p.callerRoleArn));
  const others: IntendedPath[] = model.intended.filter((p) => !mine.has(p.callerRoleArn) && admitsRole(model, statement, p.callerRoleArn));
  const ownCaller = own[0];
  return others.map((other) => ({
    roleArn: other.callerRoleArn,
    problem: `lets ${roleName(other.callerRoleArn)}, the role of caller ${other.caller}, assume ${roleName(ownCaller.invokerRoleArn)}, which only the role of caller ${ownCaller.caller} may (caller ${other.caller} has its own invoker role, ${roleName(other.invokerRoleArn)})`,
    fix: `trust only ${ownCaller.callerRoleArn}: "Principal": {"AWS": "${accountRootArn(model.partition, accountOf(ownCaller.callerRoleArn))}"} with "Condition": {"ArnEquals": {"aws:PrincipalArn": "${ownCaller.callerRoleArn}"}}`,
  }));
}
