/**
 * Who the proof asks about: every role the stacks create, each account's administrators,
 * an outsider account, anonymous callers, and anyone else a policy names (in a Principal or
 * in an aws:PrincipalArn / aws:PrincipalAccount condition: another role or user, a third
 * account), each given the most a principal of that kind could have.
 */
import {
  accountOf,
  accountRootArn,
  ADMINISTRATOR_ACCESS,
  adminUser,
  ANONYMOUS,
  type AnonymousPrincipal,
  OUTSIDER_ACCOUNT_ID,
  type PolicyDocument,
  type Principal,
  roleSession,
  uniqueId,
  type UserPrincipal,
} from "../core";
import { accountRoleOf, asList, statementsOf, type AccessModel } from "./access-model";

export const PROOF_SESSION_NAME = "access-proof";

export type PrincipalKind = "role" | "admin" | "outsider" | "named" | "anonymous";

export interface AnalysisPrincipal {
  /** Short, stable id used in reports and JSON: "role/xacct-demo-caller-exec", "admin/111111111111", "named/<arn>", "anonymous". */
  readonly id: string;
  readonly label: string;
  readonly kind: PrincipalKind;
  readonly accountId?: string;
  readonly principal: Principal | AnonymousPrincipal;
  /** For roles of the stacks: the role ARN (chains start from its session). */
  readonly roleArn?: string;
}

/** Condition keys whose values name a principal or an account. */
const PRINCIPAL_ARN_KEYS = new Set(["aws:principalarn"]);
const PRINCIPAL_ACCOUNT_KEYS = new Set(["aws:principalaccount"]);

export function resourceSideDocuments(model: AccessModel): PolicyDocument[] {
  return [
    ...model.roles.map((r) => r.trustPolicy),
    ...model.functions.flatMap((f) => (f.resourcePolicy ? [f.resourcePolicy] : [])),
    ...model.buckets.flatMap((b) => (b.policy ? [b.policy] : [])),
    ...model.keys.map((k) => k.policy),
  ];
}

/** The values a statement's conditions give for the keys in `keys` (any operator), wildcards included. */
export function conditionValues(statement: Record<string, unknown>, keys: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const entries of Object.values((statement.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const [key, value] of Object.entries(entries ?? {})) if (keys.has(key.toLowerCase())) out.push(...asList(value));
  }
  return out;
}

/**
 * Every AWS principal the resource-side policies name: Principal.AWS values (account ids, root,
 * role, user and session ARNs) and the exact values of aws:PrincipalArn and aws:PrincipalAccount
 * conditions (as account ids). Wildcards name no one in particular; the findings report them.
 */
export function namedAwsPrincipals(model: AccessModel): string[] {
  const named = new Set<string>();
  for (const document of resourceSideDocuments(model)) {
    for (const statement of statementsOf(document)) {
      const principal = statement.Principal;
      if (principal !== undefined && principal !== "*")
        for (const value of asList((principal as Record<string, unknown>).AWS)) named.add(value);
      for (const value of conditionValues(statement, PRINCIPAL_ARN_KEYS)) named.add(value);
      for (const value of conditionValues(statement, PRINCIPAL_ACCOUNT_KEYS)) named.add(value);
    }
  }
  return [...named].filter((v) => !/[*?]/.test(v)).sort();
}

export function accountOfPrincipal(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(value)?.[1];
}

function outsiderAccount(taken: ReadonlySet<string>): string {
  for (const candidate of [OUTSIDER_ACCOUNT_ID, ...[4, 5, 6, 7, 8, 9].map((d) => String(d).repeat(12))])
    if (!taken.has(candidate)) return candidate;
  throw new Error(`no free outsider account id beside ${[...taken].join(", ")}`);
}

/** A user someone named, given AdministratorAccess: the most their account could give them. */
function namedUser(arn: string, accountId: string, userName: string): UserPrincipal {
  return {
    kind: "user",
    accountId,
    arn,
    principalArn: arn,
    userId: uniqueId("AIDA", arn),
    userName,
    identityPolicies: [{ name: "AdministratorAccess", document: ADMINISTRATOR_ACCESS }],
  };
}

/** The principal a named ARN or account id stands for; undefined for ARNs that name no one who signs (e.g. a service). */
function namedPrincipal(model: AccessModel, value: string): AnalysisPrincipal | undefined {
  const accountId = accountOfPrincipal(value);
  if (accountId === undefined) return undefined;
  const ours = model.callerAccountIds.includes(accountId) || accountId === model.calleeAccountId;
  const where = ours
    ? `account ${accountId}`
    : `account ${accountId}, which is neither ${model.callerAccountIds.length === 1 ? "the caller's" : "a caller's"} nor the callee's`;
  const adminAccess = [{ name: "AdministratorAccess", document: ADMINISTRATOR_ACCESS }];
  const role = /^arn:([^:]+):iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(value);
  if (role) {
    const principal = roleSession({
      partition: model.partition,
      roleArn: value,
      roleId: uniqueId("AROA", value),
      sessionName: PROOF_SESSION_NAME,
      identityPolicies: adminAccess,
      chained: false,
    });
    return { id: `named/${value}`, label: `role ${role[2]} of ${where}, named in a policy`, kind: "named", accountId, principal };
  }
  const session = /^arn:([^:]+):sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(value);
  if (session) {
    const roleArn = `arn:${session[1]}:iam::${accountId}:role/${session[2]}`;
    const principal = roleSession({
      partition: model.partition,
      roleArn,
      roleId: uniqueId("AROA", roleArn),
      sessionName: session[3],
      identityPolicies: adminAccess,
      chained: false,
    });
    return {
      id: `named/${value}`,
      label: `session ${session[3]} of role ${session[2]} in ${where}, named in a policy`,
      kind: "named",
      accountId,
      principal,
    };
  }
  const user = /^arn:[^:]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(value);
  if (user)
    return {
      id: `named/${value}`,
      label: `user ${user[1]} of ${where}, named in a policy`,
      kind: "named",
      accountId,
      principal: namedUser(value, accountId, user[1]),
    };
  // An account id or root ARN: the account's administrators, which the stack accounts already have.
  if (ours) return undefined;
  return {
    id: `named/${accountRootArn(model.partition, accountId)}`,
    label: `administrators of ${where}, named in a policy`,
    kind: "named",
    accountId,
    principal: adminUser(model.partition, accountId),
  };
}

export function enumeratePrincipals(model: AccessModel): AnalysisPrincipal[] {
  const ours = new Set([...model.callerAccountIds, model.calleeAccountId]);
  const roles = [...model.roles].sort((a, b) => roleOrder(model, a.arn) - roleOrder(model, b.arn) || a.arn.localeCompare(b.arn));
  const principals: AnalysisPrincipal[] = roles.map((role) => ({
    id: `role/${role.name}`,
    label: `role ${role.name} (account ${role.accountId})`,
    kind: "role",
    accountId: role.accountId,
    roleArn: role.arn,
    principal: roleSession({
      partition: model.partition,
      roleArn: role.arn,
      roleId: role.roleId,
      sessionName: PROOF_SESSION_NAME,
      identityPolicies: role.policies,
      chained: false,
    }),
  }));
  for (const accountId of [...model.callerAccountIds, model.calleeAccountId]) {
    principals.push({
      id: `admin/${accountId}`,
      label: `administrators of account ${accountId} (${accountRoleOf(model, accountId)})`,
      kind: "admin",
      accountId,
      principal: adminUser(model.partition, accountId),
    });
  }
  const stackRoles = new Set(model.roles.map((r) => r.arn));
  const taken = new Set(ours);
  for (const value of namedAwsPrincipals(model)) {
    if (stackRoles.has(value)) continue;
    const named = namedPrincipal(model, value);
    if (!named || principals.some((p) => p.id === named.id)) continue;
    principals.push(named);
    if (named.accountId !== undefined) taken.add(named.accountId);
  }
  const outsider = outsiderAccount(taken);
  principals.push({
    id: `outsider/${outsider}`,
    label: `administrators of an unrelated account (${outsider})`,
    kind: "outsider",
    accountId: outsider,
    principal: adminUser(model.partition, outsider),
  });
  principals.push({ id: "anonymous", label: "anonymous (unsigned requests)", kind: "anonymous", principal: ANONYMOUS });
  return principals;
}

/**
 * Roles grouped by account (the callers' accounts in the paths' order, then the callee's, then any other), and in
 * each account the intended paths' roles first, so reports read in the order a request travels: the callers' roles,
 * then the invoker roles in the same order, then every other role.
 */
function roleOrder(model: AccessModel, arn: string): number {
  const n = model.intended.length;
  const accounts = [...model.callerAccountIds, model.calleeAccountId];
  const account = accounts.indexOf(accountOf(arn));
  const caller = model.intended.findIndex((p) => p.callerRoleArn === arn);
  const invoker = model.intended.findIndex((p) => p.invokerRoleArn === arn);
  const within = caller !== -1 ? caller : invoker !== -1 ? n + invoker : 2 * n;
  return (account === -1 ? accounts.length : account) * (2 * n + 1) + within;
}
