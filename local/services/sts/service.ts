/** STS AssumeRole and GetCallerIdentity, decided by the simulator over the stacks' trust policies. */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { WireError, WireResponse } from "../../wire/response";
import type { RoleModel } from "../../../core/model/types";
import { fail, ok, type Result } from "../../wire/result";
import { assumeRoleResponse, getCallerIdentityResponse, stsErrorResponse, validateAssumeRoleParams, type AssumeRoleParams } from "./wire";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, endpointPassage, refusedByEndpoint, type RequestNetwork } from "../../server/network";

/** AWS caps sessions made by a role session (role chaining) at one hour. */
const ROLE_CHAINING_LIMIT_SECONDS = 3600;
const DEFAULT_DURATION_SECONDS = 3600;

export interface StsCall {
  readonly caller: Principal;
  readonly region: string;
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly requestId: string;
  /** The VPC the call is sent from and the STS endpoint it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

/** The error an injected fault answers. */
export type StsFault = Readonly<WireError>;

export interface StsHooks {
  /** Fault injection (off by default, see faults.ts): answer this error instead of serving the call. */
  readonly fault?: (action: string, call: StsCall) => StsFault | undefined;
}

export class StsService {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
    private readonly hooks: StsHooks = {},
  ) {}

  async handle(call: StsCall): Promise<WireResponse> {
    const fault = this.hooks.fault?.(call.action, call);
    if (fault) {
      this.audit.record({
        requestId: call.requestId,
        service: "sts",
        action: `sts:${call.action}`,
        principal: call.caller.arn,
        principalAccount: call.caller.accountId,
        ...(call.params.RoleArn ? { resource: call.params.RoleArn } : {}),
        outcome: fault.code === "AccessDenied" ? "denied" : "error",
        errorCode: fault.code,
        message: `injected fault: ${fault.message}`,
        decidedBy: ["injected fault"],
        ...auditedEndpoint(call.network),
      });
      return stsErrorResponse({ ...fault, type: fault.status >= 500 ? "Receiver" : "Sender" }, call.requestId);
    }
    switch (call.action) {
      case "GetCallerIdentity":
        return this.getCallerIdentity(call);
      case "AssumeRole":
        return this.assumeRole(call);
      default:
        return stsErrorResponse(
          {
            code: "InvalidAction",
            status: 400,
            type: "Sender",
            message: `Could not find operation ${call.action} for version 2011-06-15 (the local runtime serves only AssumeRole and GetCallerIdentity)`,
          },
          call.requestId,
        );
    }
  }

  /** Needs no permission in AWS: even an explicit deny cannot stop it. */
  private getCallerIdentity(call: StsCall): WireResponse {
    const { caller } = call;
    this.audit.record({
      requestId: call.requestId,
      service: "sts",
      action: "sts:GetCallerIdentity",
      principal: caller.arn,
      principalAccount: caller.accountId,
      outcome: "allowed",
      decidedBy: ["always allowed"],
      ...auditedEndpoint(call.network),
    });
    return getCallerIdentityResponse({ arn: caller.arn, userId: caller.userId, account: caller.accountId }, call.requestId);
  }

  private async assumeRole(call: StsCall): Promise<WireResponse> {
    const { caller, requestId } = call;
    const parsed = validateAssumeRoleParams(call.params);
    if (!parsed.ok) {
      this.audit.record({
        requestId,
        service: "sts",
        action: "sts:AssumeRole",
        principal: caller.arn,
        principalAccount: caller.accountId,
        outcome: "error",
        errorCode: parsed.error.code,
        message: parsed.error.message,
        decidedBy: [],
        ...auditedEndpoint(call.network),
      });
      return stsErrorResponse({ ...parsed.error, type: "Sender" }, requestId);
    }
    const params = parsed.value;
    const refuse = (
      code: string,
      status: number,
      message: string,
      decidedBy: readonly string[] = [],
      resourceAccount?: string,
      endpointResult?: EvaluationResult,
    ) => {
      this.audit.record({
        requestId,
        service: "sts",
        action: "sts:AssumeRole",
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource: params.roleArn,
        resourceAccount,
        outcome: code === "AccessDenied" ? "denied" : "error",
        errorCode: code,
        message,
        decidedBy,
        ...auditedEndpoint(call.network, endpointResult),
      });
      return stsErrorResponse({ code, status, message, type: "Sender" }, requestId);
    };
    const unmodelled = unmodelledParameters(call.params, params);
    if (unmodelled !== undefined) return refuse("ValidationError", 400, unmodelled);
    const role = this.accounts.role(params.roleArn);
    if (!role) {
      // AWS does not reveal whether a role exists to someone who may not assume it.
      return refuse("AccessDenied", 403, accessDeniedMessage(caller.arn, "sts:AssumeRole", params.roleArn));
    }
    const decision = await this.authorize(call, params, role);
    if (!decision.ok) {
      // STS's message names principal, action and resource, without the "because ..." suffix; but for a refusal by the
      // VPC endpoint's policy it says so ("because no VPC endpoint policy allows the sts:AssumeRole action").
      const { action, deniedBy, reason, endpointResult } = decision.error;
      const because = refusedByEndpoint(reason) ? reason : undefined;
      return refuse(
        "AccessDenied",
        403,
        accessDeniedMessage(caller.arn, action, role.arn, because),
        deniedBy,
        role.accountId,
        endpointResult,
      );
    }
    const chained = caller.kind === "role-session";
    const duration = params.durationSeconds ?? DEFAULT_DURATION_SECONDS;
    const tooLong = durationRefusal(duration, chained, role);
    if (tooLong !== undefined) return refuse("ValidationError", 400, tooLong, [], role.accountId, decision.value.endpointResult);

    // The session is used where it was obtained: from the caller's VPC when the caller calls from one.
    const session = this.accounts.startSession(role, params.roleSessionName, duration, chained, { vpcId: call.network?.vpcId });
    this.audit.record({
      requestId,
      service: "sts",
      action: "sts:AssumeRole",
      principal: caller.arn,
      principalAccount: caller.accountId,
      resource: role.arn,
      resourceAccount: role.accountId,
      outcome: "allowed",
      decidedBy: decision.value.allowedBy,
      ...auditedEndpoint(call.network, decision.value.endpointResult),
    });
    const { credentials } = session;
    return assumeRoleResponse(
      {
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: credentials.secretAccessKey,
          sessionToken: credentials.sessionToken,
          expiration: credentials.expiration,
        },
        assumedRoleId: session.principal.userId,
        arn: session.principal.arn,
        ...(params.sourceIdentity !== undefined ? { sourceIdentity: params.sourceIdentity } : {}),
      },
      requestId,
    );
  }

  /**
   * The trust policy (and, across accounts, the caller's identity policies) decide each action the
   * call needs: session tags and a source identity each need their own, in addition to
   * sts:AssumeRole; from a VPC, each through its STS endpoint, whose policy decides too. The statements that allowed
   * them all, or the first action refused and why.
   */
  private async authorize(
    call: StsCall,
    params: AssumeRoleParams,
    role: RoleModel,
  ): Promise<
    Result<
      { allowedBy: string[]; endpointResult?: EvaluationResult },
      { action: string; deniedBy: readonly string[]; reason: string; endpointResult?: EvaluationResult }
    >
  > {
    const context: Record<string, string | string[]> = { "sts:RoleSessionName": params.roleSessionName };
    if (params.externalId !== undefined) context["sts:ExternalId"] = params.externalId;
    if (params.sourceIdentity !== undefined) context["sts:SourceIdentity"] = params.sourceIdentity;
    if (params.tags !== undefined) {
      for (const tag of params.tags) context[`aws:RequestTag/${tag.key}`] = tag.value;
      context["aws:TagKeys"] = params.tags.map((t) => t.key);
      if (params.transitiveTagKeys !== undefined) context["sts:TransitiveTagKeys"] = params.transitiveTagKeys;
    }
    const actions = [
      "sts:AssumeRole",
      ...(params.tags !== undefined ? ["sts:TagSession"] : []),
      ...(params.sourceIdentity !== undefined ? ["sts:SetSourceIdentity"] : []),
    ];
    const allowedBy: string[] = [];
    let endpointResult: { endpointResult?: EvaluationResult } = {};
    for (const action of actions) {
      const decision = await this.accounts.authorizer.authorize({
        principal: call.caller,
        action,
        resourceArn: role.arn,
        resourceAccountId: role.accountId,
        region: call.region,
        resourcePolicy: role.trustPolicy,
        resourcePolicyName: `trust policy of role/${role.name}`,
        context,
        ...endpointPassage(call.network),
      });
      endpointResult = decision.vpcEndpointResult !== undefined ? { endpointResult: decision.vpcEndpointResult } : {};
      if (!decision.allowed) return fail({ action, deniedBy: decision.deniedBy, reason: decision.reason, ...endpointResult });
      allowedBy.push(...decision.allowedBy);
    }
    return ok({ allowedBy, ...endpointResult });
  }
}

/** Why the call asks for what the runtime does not model (session policies, MFA, trusted contexts), if it does. */
function unmodelledParameters(raw: Readonly<Record<string, string>>, params: AssumeRoleParams): string | undefined {
  if (params.policy !== undefined || (params.policyArns?.length ?? 0) > 0) {
    return "The local runtime does not model session policies (Policy, PolicyArns.member.N): remove them, or test this call against AWS.";
  }
  const unmodelled = Object.keys(raw).filter((k) => k === "SerialNumber" || k === "TokenCode" || k.startsWith("ProvidedContexts."));
  if (unmodelled.length === 0) return undefined;
  const names = [...new Set(unmodelled.map((k) => k.split(".")[0]))].join(", ");
  return `The local runtime does not model MFA or trusted-identity contexts (${names}): remove them, or test this call against AWS.`;
}

/** Why a session of `duration` seconds is too long, if it is: one hour when chained, and the role's maximum. */
function durationRefusal(duration: number, chained: boolean, role: RoleModel): string | undefined {
  if (chained && duration > ROLE_CHAINING_LIMIT_SECONDS) {
    return "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.";
  }
  if (duration > role.maxSessionDurationSeconds) return "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.";
  return undefined;
}
