/**
 * The first steps of every Lambda call on a function, as AWS takes them: resolve the name (a bare
 * name is in the caller's own account and region), let the simulator decide over the caller's
 * identity policies and the function's resource-based policy, then look the function up (only
 * `$LATEST` exists: the stacks publish no versions or aliases). Invoke and the reads share it.
 */
import { accessDeniedMessage } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { FunctionModel } from "../../../core/model/types";
import { parseFunctionIdentifier } from "./wire";
import type { LocalAccounts } from "../../server/accounts";

export type FunctionAccess =
  | { readonly ok: true; readonly fn: FunctionModel; readonly resourceArn: string; readonly allowedBy: readonly string[] }
  | {
      readonly ok: false;
      readonly code: string;
      readonly status: number;
      readonly message: string;
      readonly resource: string;
      readonly decidedBy: readonly string[];
      readonly resourceAccount?: string;
    };

export async function authorizeFunctionCall(
  accounts: LocalAccounts,
  call: {
    readonly caller: Principal;
    readonly action: string;
    readonly functionName: string;
    readonly qualifier?: string;
    readonly region: string;
  },
): Promise<FunctionAccess> {
  const { caller, action } = call;
  const id = parseFunctionIdentifier(call.functionName, caller.accountId, call.region, call.qualifier);
  if (!id.ok) return { ok: false, ...id.error, resource: call.functionName, decidedBy: [] };
  const qualifier = call.qualifier ?? id.value.qualifier;
  const resourceArn = qualifier !== undefined ? `${id.value.arn}:${qualifier}` : id.value.arn;
  const fn = accounts.model.functions.get(id.value.arn);
  const decision = await accounts.authorizer.authorize({
    principal: caller,
    action,
    resourceArn,
    resourceAccountId: id.value.accountId,
    region: call.region,
    ...(fn?.resourcePolicy !== undefined ? { resourcePolicy: fn.resourcePolicy } : {}),
    resourcePolicyName: `resource-based policy of function:${id.value.name}`,
  });
  if (!decision.allowed) {
    return {
      ok: false,
      code: "AccessDeniedException",
      status: 403,
      message: accessDeniedMessage(caller.arn, action, resourceArn, decision.reason),
      resource: resourceArn,
      decidedBy: decision.deniedBy,
      resourceAccount: id.value.accountId,
    };
  }
  if (!fn || (qualifier !== undefined && qualifier !== "$LATEST")) {
    return {
      ok: false,
      code: "ResourceNotFoundException",
      status: 404,
      message: `Function not found: ${resourceArn}`,
      resource: resourceArn,
      decidedBy: [],
      resourceAccount: id.value.accountId,
    };
  }
  return { ok: true, fn, resourceArn, allowedBy: decision.allowedBy };
}
