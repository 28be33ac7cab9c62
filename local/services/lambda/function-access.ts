/**
 * The first steps of every Lambda call on a function, as AWS takes them: resolve the name (a bare
 * name is in the caller's own account and region) and its qualifier, let the simulator decide over
 * the caller's identity policies and the function's resource-based policy on the ARN as called (and, for a call
 * from a VPC through its Lambda endpoint, that endpoint's policy), then
 * look the function and the version the qualifier names up. Invoke and the reads share it.
 */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { FunctionModel } from "../../../core/model/types";
import { fail, ok, type Result } from "../../wire/result";
import { parseFunctionIdentifier } from "./function-name";
import type { LocalAccounts } from "../../server/accounts";
import { endpointPassage, type RequestNetwork } from "../../server/network";
import type { FunctionVersions, ResolvedFunction } from "./versions";

/** The function a call may act on, the ARN it named, the version that names, and the statements that allowed it. */
export interface FunctionGrant {
  readonly fn: FunctionModel;
  /** The ARN as called: unqualified, or with the alias, version or $LATEST the caller named. */
  readonly resourceArn: string;
  readonly target: ResolvedFunction;
  readonly allowedBy: readonly string[];
  /** How the policy of the VPC endpoint the call passed judged it; undefined from outside. */
  readonly endpointResult?: EvaluationResult;
}

/** Lambda's refusal, with what the audit log records of it. */
export interface FunctionRefusal {
  readonly code: string;
  readonly status: number;
  readonly message: string;
  readonly resource: string;
  readonly decidedBy: readonly string[];
  readonly resourceAccount?: string;
  /** As FunctionGrant's: undefined when refused before any authorization, or from outside. */
  readonly endpointResult?: EvaluationResult;
}

export type FunctionAccess = Result<FunctionGrant, FunctionRefusal>;

export async function authorizeFunctionCall(
  accounts: LocalAccounts,
  versions: FunctionVersions,
  call: {
    readonly caller: Principal;
    readonly action: string;
    readonly functionName: string;
    readonly qualifier?: string;
    readonly region: string;
    /** Where the call is sent from, and the Lambda endpoint it passes (undefined from outside any VPC). */
    readonly network?: RequestNetwork;
  },
): Promise<FunctionAccess> {
  const { caller, action } = call;
  const id = parseFunctionIdentifier(call.functionName, caller.accountId, call.region, call.qualifier);
  if (!id.ok) return fail({ ...id.error, resource: call.functionName, decidedBy: [] });
  const qualifier = call.qualifier ?? id.value.qualifier;
  // Lambda authorizes the ARN as called: a qualified one (alias, version or $LATEST) against that qualified ARN, an
  // unqualified one against the unqualified ARN; a grant on one does not cover the others
  // (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html, and using-aliases.html: "If you attempt
  // to invoke the function without an alias or a specific version, then you get a permission error").
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
    ...endpointPassage(call.network),
  });
  const endpointResult = decision.vpcEndpointResult !== undefined ? { endpointResult: decision.vpcEndpointResult } : {};
  if (!decision.allowed) {
    return fail({
      code: "AccessDeniedException",
      status: 403,
      message: accessDeniedMessage(caller.arn, action, resourceArn, decision.reason),
      resource: resourceArn,
      decidedBy: decision.deniedBy,
      resourceAccount: id.value.accountId,
      ...endpointResult,
    });
  }
  // An unknown function or qualifier: "Function not found: <the ARN as called>", 404.
  const target = fn ? versions.resolve(fn.arn, qualifier) : undefined;
  if (!fn || !target) {
    return fail({
      code: "ResourceNotFoundException",
      status: 404,
      message: `Function not found: ${resourceArn}`,
      resource: resourceArn,
      decidedBy: [],
      resourceAccount: id.value.accountId,
      ...endpointResult,
    });
  }
  return ok({ fn, resourceArn, target, allowedBy: decision.allowedBy, ...endpointResult });
}
