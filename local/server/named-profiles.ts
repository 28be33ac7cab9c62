/**
 * The credentials the runtime hands out under profile names (as `make local` writes them to
 * .local-aws/), named by stack: `<stack>-admin`, the administrator of the stack's account (two
 * callers in one account share that identity, each stack still has its profile), `<stack>-function`,
 * a session of the stack's function's execution role, used from the function's VPC as the function's own credentials
 * are (network.ts); and `outsider`, an account outside the stacks. The administrators and the outsider call from outside any VPC.
 * With one caller: caller-admin, callee-admin, caller-function, callee-function, outsider; with
 * several, caller-orders-admin, caller-orders-function, and so on.
 */
import type { IssuedCredentials } from "../../core/iam/principals";
import type { FunctionModel } from "../../core/model/types";
import type { LocalAccounts } from "./accounts";
import { LocalRuntimeError } from "./runtime-error";

export interface NamedCredentials extends IssuedCredentials {
  readonly profile: string;
  readonly principalArn: string;
  readonly accountId: string;
}

const profileNameFor = (fn: FunctionModel) => fn.source.stack;

export class NamedProfiles {
  private readonly byName = new Map<string, NamedCredentials>();

  /** Every `<stack>-admin`, then every `<stack>-function`, then outsider. */
  constructor(private readonly accounts: LocalAccounts) {
    for (const fn of accounts.model.functions.values()) {
      const admin = accounts.admins.get(fn.accountId);
      if (admin)
        this.byName.set(`${profileNameFor(fn)}-admin`, {
          profile: `${profileNameFor(fn)}-admin`,
          ...admin.credentials,
          principalArn: admin.principal.arn,
          accountId: fn.accountId,
        });
    }
    this.renewSessions();
    this.byName.set("outsider", {
      profile: "outsider",
      ...accounts.outsider.credentials,
      principalArn: accounts.outsider.principal.arn,
      accountId: accounts.outsider.principal.accountId,
    });
  }

  /** Function profiles are role sessions: they expire like Lambda's, and this replaces them. */
  renewSessions(): void {
    for (const fn of this.accounts.model.functions.values()) {
      const role = this.accounts.role(fn.roleArn);
      if (!role) continue;
      // The profile stands for the function's credentials: its requests are sent from the function's VPC, as theirs are.
      const { principal, credentials } = this.accounts.startSession(role, fn.name, role.maxSessionDurationSeconds, false, {
        vpcId: fn.vpcId,
      });
      this.byName.set(`${profileNameFor(fn)}-function`, {
        profile: `${profileNameFor(fn)}-function`,
        ...credentials,
        principalArn: principal.arn,
        accountId: fn.accountId,
      });
    }
  }

  all(): NamedCredentials[] {
    return [...this.byName.values()];
  }

  get(profile: string): NamedCredentials {
    const c = this.byName.get(profile);
    if (!c) throw new LocalRuntimeError(`no local profile '${profile}': the profiles are ${[...this.byName.keys()].join(", ")}`);
    return c;
  }
}
