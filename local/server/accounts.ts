/**
 * The identities of the local accounts: built from the model (roles and their policies) plus the
 * people who exist outside the stacks (each account's administrator, and an outsider's).
 */
import type { AccountsModel, PolicyDocument, RoleModel } from "../../core/model/types";
import { Authorizer, type OrganizationMembership } from "../../core/iam/authorize";
import {
  adminUser,
  CredentialStore,
  OUTSIDER_ACCOUNT_ID,
  roleSession,
  type IssuedCredentials,
  type Principal,
  type RoleSessionPrincipal,
  type UserPrincipal,
} from "../../core/iam/principals";

/** Used when no policy in the stacks names an organisation: any id in AWS's o-xxxxxxxxxx shape will do. */
export const DEFAULT_ORGANIZATION_ID = "o-localxacct01";

export interface LocalAccountsOptions {
  /** Overrides the organisation id taken from the stacks' aws:PrincipalOrgID conditions. */
  readonly organizationId?: string;
  readonly outsiderAccountId?: string;
}

export class LocalAccounts {
  readonly credentials = new CredentialStore();
  readonly authorizer: Authorizer;
  readonly organization: OrganizationMembership;
  readonly admins = new Map<string, { principal: UserPrincipal; credentials: IssuedCredentials }>();
  readonly outsider: { principal: UserPrincipal; credentials: IssuedCredentials };
  /**
   * The VPC each session's requests are sent from (see network.ts): a function's, for the sessions its execution
   * environments and its profile hold and the sessions obtained with them. Keyed by the session's principal, which
   * is its own for every session, so an expired session's entry goes when its key is pruned.
   */
  private readonly vpcs = new WeakMap<Principal, string>();

  constructor(
    readonly model: AccountsModel,
    options: LocalAccountsOptions = {},
  ) {
    const outsiderAccount = options.outsiderAccountId ?? OUTSIDER_ACCOUNT_ID;
    if (model.accounts.some((a) => a.accountId === outsiderAccount)) {
      throw new Error(`the outsider account ${outsiderAccount} is one of the stacks' accounts: choose another outsider account id`);
    }
    this.organization = {
      organizationId: options.organizationId ?? organizationIdFromPolicies(model) ?? DEFAULT_ORGANIZATION_ID,
      accounts: new Set(model.accounts.map((a) => a.accountId)),
    };
    this.authorizer = new Authorizer(this.organization);
    for (const account of model.accounts) {
      const principal = adminUser(model.partition, account.accountId);
      this.admins.set(account.accountId, { principal, credentials: this.credentials.issueLongTerm(principal) });
    }
    const outsider = adminUser(model.partition, outsiderAccount);
    this.outsider = { principal: outsider, credentials: this.credentials.issueLongTerm(outsider) };
  }

  role(roleArn: string): RoleModel | undefined {
    return this.model.roles.get(roleArn);
  }

  /** The principal a session of `role` would be, carrying the role's own policies. */
  sessionPrincipal(role: RoleModel, sessionName: string, chained: boolean): RoleSessionPrincipal {
    return roleSession({
      partition: this.model.partition,
      roleArn: role.arn,
      roleId: role.roleId,
      sessionName,
      identityPolicies: role.policies.map((p) => ({ name: `${role.name}/${p.name}`, document: p.document })),
      chained,
    });
  }

  /** A session of `role`, and credentials for it; used from `where.vpcId` when given, else from outside any VPC. */
  startSession(
    role: RoleModel,
    sessionName: string,
    durationSeconds: number,
    chained: boolean,
    where: { readonly now?: Date; readonly vpcId?: string | undefined } = {},
  ) {
    const principal = this.sessionPrincipal(role, sessionName, chained);
    if (where.vpcId !== undefined) this.vpcs.set(principal, where.vpcId);
    return { principal, credentials: this.credentials.issueSession(principal, durationSeconds, where.now ?? new Date()) };
  }

  /** The VPC a principal's requests are sent from; undefined for the administrators, the outsider and sessions made outside. */
  vpcOf(principal: Principal): string | undefined {
    return this.vpcs.get(principal);
  }
}

/**
 * When the trust policies require one organisation (aws:PrincipalOrgID), the demo accounts
 * belong to it; two different required ids cannot both be satisfied, and that is reported.
 */
export function organizationIdFromPolicies(model: AccountsModel): string | undefined {
  const ids = new Set<string>();
  const visit = (doc: PolicyDocument) => {
    const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
    for (const st of statements) {
      const condition = st.Condition as Record<string, Record<string, unknown>> | undefined;
      for (const operator of Object.values(condition ?? {})) {
        for (const [key, value] of Object.entries(operator)) {
          if (key.toLowerCase() !== "aws:principalorgid") continue;
          for (const v of Array.isArray(value) ? value : [value]) if (typeof v === "string") ids.add(v);
        }
      }
    }
  };
  for (const role of model.roles.values()) visit(role.trustPolicy);
  for (const fn of model.functions.values()) if (fn.resourcePolicy) visit(fn.resourcePolicy);
  if (ids.size > 1) {
    throw new Error(`the stacks require more than one organisation (${[...ids].join(", ")}): the local accounts can belong to one only`);
  }
  return [...ids][0];
}
