/**
 * Who the proof asks about: every role the stacks create, each account's administrators,
 * an outsider account, anonymous callers, and anyone else a policy names (a third account,
 * a foreign role), each given the most a principal of that kind could have.
 */
import { accountRootArn } from "../local/model/attributes";
import { ANONYMOUS, type AnonymousPrincipal } from "../local/iam/authorize";
import { adminUser, OUTSIDER_ACCOUNT_ID, roleSession, uniqueId, ADMINISTRATOR_ACCESS, type Principal } from "../local/iam/principals";
import { asList, statementsOf, type AccessModel } from "./access-model";

export const PROOF_SESSION_NAME = "access-proof";

export type PrincipalKind = "role" | "admin" | "outsider" | "named" | "anonymous";

export interface AnalysisPrincipal {
  /** Short, stable id used in reports and JSON: "role/xacct-demo-caller-exec", "admin/111111111111", "anonymous". */
  readonly id: string;
  readonly label: string;
  readonly kind: PrincipalKind;
  readonly accountId?: string;
  readonly principal: Principal | AnonymousPrincipal;
  /** For roles of the stacks: the role ARN (chains start from its session). */
  readonly roleArn?: string;
}

/** Every AWS principal a resource-side policy names (account ids, root ARNs, role/user ARNs), with no service principals. */
export function namedAwsPrincipals(model: AccessModel): string[] {
  const documents = [
    ...model.roles.map((r) => r.trustPolicy),
    ...model.functions.flatMap((f) => (f.resourcePolicy ? [f.resourcePolicy] : [])),
    ...model.buckets.flatMap((b) => (b.policy ? [b.policy] : [])),
    ...model.keys.map((k) => k.policy),
  ];
  const named = new Set<string>();
  for (const document of documents) {
    for (const statement of statementsOf(document)) {
      const principal = statement.Principal;
      if (principal === undefined || principal === "*") continue;
      for (const value of asList((principal as Record<string, unknown>).AWS)) if (value !== "*") named.add(value);
    }
  }
  return [...named].sort();
}

export function accountOfPrincipal(value: string): string | undefined {
  if (/^\d{12}$/.test(value)) return value;
  return /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(value)?.[1];
}

function outsiderAccount(model: AccessModel, taken: ReadonlySet<string>): string {
  if (!taken.has(OUTSIDER_ACCOUNT_ID)) return OUTSIDER_ACCOUNT_ID;
  for (let digit = 4; digit <= 9; digit++) {
    const candidate = String(digit).repeat(12);
    if (!taken.has(candidate)) return candidate;
  }
  throw new Error(`no free outsider account id beside ${[...taken].join(", ")} in ${model.origin}`);
}

export function enumeratePrincipals(model: AccessModel): AnalysisPrincipal[] {
  const ours = new Set([model.callerAccountId, model.calleeAccountId]);
  const roles = [...model.roles].sort((a, b) => roleOrder(model, a.arn) - roleOrder(model, b.arn) || a.arn.localeCompare(b.arn));
  const principals: AnalysisPrincipal[] = roles.map((role) => ({
    id: `role/${role.name}`,
    label: `role ${role.name} (account ${role.accountId})`,
    kind: "role",
    accountId: role.accountId,
    roleArn: role.arn,
    principal: roleSession({ partition: model.partition, roleArn: role.arn, roleId: role.roleId, sessionName: PROOF_SESSION_NAME, identityPolicies: role.policies, chained: false }),
  }));
  for (const [side, accountId] of [["caller", model.callerAccountId], ["callee", model.calleeAccountId]] as const) {
    principals.push({ id: `admin/${accountId}`, label: `administrators of account ${accountId} (${side})`, kind: "admin", accountId, principal: adminUser(model.partition, accountId) });
  }
  // A third party that policies name gets the most it could have: AdministratorAccess in its own account.
  const foreign = namedAwsPrincipals(model).filter((p) => {
    const account = accountOfPrincipal(p);
    return account !== undefined && !ours.has(account);
  });
  const taken = new Set([...ours, ...foreign.map((p) => accountOfPrincipal(p) as string)]);
  for (const value of foreign) {
    const accountId = accountOfPrincipal(value) as string;
    const roleMatch = /^arn:[^:]+:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(value);
    if (roleMatch) {
      principals.push({
        id: `named/${value}`,
        label: `role ${roleMatch[1]} of account ${accountId}, named in a policy`,
        kind: "named",
        accountId,
        principal: roleSession({ partition: model.partition, roleArn: value, roleId: uniqueId("AROA", value), sessionName: PROOF_SESSION_NAME, identityPolicies: [{ name: "AdministratorAccess", document: ADMINISTRATOR_ACCESS }], chained: false }),
      });
    } else if (!principals.some((p) => p.id === `named/${accountRootArn(model.partition, accountId)}`)) {
      principals.push({ id: `named/${accountRootArn(model.partition, accountId)}`, label: `administrators of account ${accountId}, named in a policy`, kind: "named", accountId, principal: adminUser(model.partition, accountId) });
    }
  }
  const outsider = outsiderAccount(model, taken);
  principals.push({ id: `outsider/${outsider}`, label: `administrators of an unrelated account (${outsider})`, kind: "outsider", accountId: outsider, principal: adminUser(model.partition, outsider) });
  principals.push({ id: "anonymous", label: "anonymous (unsigned requests)", kind: "anonymous", principal: ANONYMOUS });
  return principals;
}

/** The intended path's roles first, so reports read in the order a request travels. */
function roleOrder(model: AccessModel, arn: string): number {
  if (arn === model.intended.callerRoleArn) return 0;
  if (arn === model.intended.invokerRoleArn) return 1;
  return 2;
}
