/**
 * IAM's read operations on roles and their policies, answered from the model and decided by the
 * simulator over the caller's identity policies. IAM is per account: a role name or policy ARN is
 * looked up in the caller's own account only, so anything elsewhere does not exist for it.
 */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import { uniqueId, type Principal } from "../../../core/iam/principals";
import type { NamedPolicy, RoleModel } from "../../../core/model/types";
import {
  DEFAULT_POLICY_VERSION,
  getPolicyResponse,
  getPolicyVersionResponse,
  getRolePolicyResponse,
  getRoleResponse,
  iamErrorResponse,
  iamResourceLabel,
  isServedIamAction,
  listAttachedRolePoliciesResponse,
  listRolePoliciesResponse,
  pageOf,
  splitPolicyArn,
  validateIamParams,
  IAM_ACTIONS,
  IAM_VERSION,
  type IamAction,
  type IamManagedPolicyView,
  type IamParams,
} from "./wire";
import type { WireResponse } from "../../wire/response";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, endpointPassage, type RequestNetwork } from "../../server/network";

export interface IamCall {
  readonly caller: Principal;
  /** The credential scope's region: the partition's global signing region. */
  readonly region: string;
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly requestId: string;
  /** The VPC the call is sent from and the endpoint of this service it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

type Refusal = (code: string, status: number, message: string, resource?: string, decidedBy?: readonly string[]) => WireResponse;

/** The model's attached customer-managed policies are named by their ARN. */
const isManaged = (policy: NamedPolicy): boolean => policy.name.startsWith("arn:");

export class IamService {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
    /** Stands in for every CreateDate: the model does not know when the stacks were applied. */
    private readonly deployedAt: Date,
  ) {}

  async handle(call: IamCall): Promise<WireResponse> {
    const { caller, requestId, action } = call;
    // How the endpoint's policy judged the call, once authorized: every record after names it.
    const judged: { endpointResult?: EvaluationResult } = {};
    const fail: Refusal = (code, status, message, resource, decidedBy = []) => {
      this.audit.record({
        requestId,
        service: "iam",
        action: `iam:${action}`,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        resourceAccount: resource !== undefined ? caller.accountId : undefined,
        outcome: code === "AccessDenied" ? "denied" : "error",
        errorCode: code,
        message,
        decidedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return iamErrorResponse({ code, status, message }, requestId);
    };
    if (!isServedIamAction(action)) {
      return fail(
        "InvalidAction",
        400,
        `Could not find operation ${action} for version ${IAM_VERSION} (the local runtime serves only ${IAM_ACTIONS.join(", ")})`,
      );
    }
    const validated = validateIamParams(action, call.params);
    if (!validated.ok) return fail(validated.error.code, validated.error.status, validated.error.message);
    const params = validated.value;

    const role = params.roleName !== undefined ? this.roleNamed(caller.accountId, params.roleName) : undefined;
    const resourceArn =
      params.policyArn ?? role?.arn ?? `arn:${this.accounts.model.partition}:iam::${caller.accountId}:role/${params.roleName ?? ""}`;
    // IAM acts in the caller's account whatever the ARN names: another account's policy simply is not there.
    const decision = await this.accounts.authorizer.authorize({
      principal: caller,
      action: `iam:${action}`,
      resourceArn,
      resourceAccountId: caller.accountId,
      region: call.region,
      ...endpointPassage(call.network),
    });
    judged.endpointResult = decision.vpcEndpointResult;
    if (!decision.allowed) {
      return fail(
        "AccessDenied",
        403,
        accessDeniedMessage(caller.arn, `iam:${action}`, iamResourceLabel(resourceArn), decision.reason),
        resourceArn,
        decision.deniedBy,
      );
    }
    const allowed = (response: WireResponse): WireResponse => {
      this.audit.record({
        requestId,
        service: "iam",
        action: `iam:${action}`,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource: resourceArn,
        resourceAccount: caller.accountId,
        outcome: "allowed",
        decidedBy: decision.allowedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return response;
    };

    if (params.roleName !== undefined) {
      if (!role) return fail("NoSuchEntity", 404, `The role with name ${params.roleName} cannot be found.`, resourceArn);
      return this.roleAction(action, role, params, requestId, allowed, fail);
    }
    const policy = this.managedPolicy(caller.accountId, resourceArn);
    if (!policy) return fail("NoSuchEntity", 404, `Policy ${resourceArn} does not exist or is not attachable.`, resourceArn);
    if (action === "GetPolicy") return allowed(getPolicyResponse(policy, requestId));
    if (params.versionId !== DEFAULT_POLICY_VERSION) {
      // Not confirmed against AWS: the wording for a version that does not exist.
      return fail(
        "NoSuchEntity",
        404,
        `Policy ${resourceArn} version ${params.versionId ?? ""} does not exist or is not attachable.`,
        resourceArn,
      );
    }
    return allowed(getPolicyVersionResponse(policy, requestId));
  }

  /** The operations on a role the caller may read and that exists. */
  private roleAction(
    action: IamAction,
    role: RoleModel,
    params: IamParams,
    requestId: string,
    allowed: (r: WireResponse) => WireResponse,
    fail: Refusal,
  ): WireResponse {
    // Inline policies are named; attached customer-managed ones carry their ARN as name in the model.
    const inline = role.policies.filter((p) => !isManaged(p));
    switch (action) {
      case "GetRole":
        return allowed(getRoleResponse({ ...role, createDate: this.deployedAt }, requestId));
      case "GetRolePolicy": {
        const policy = inline.find((p) => p.name === params.policyName);
        if (!policy) return fail("NoSuchEntity", 404, `The role policy with name ${params.policyName ?? ""} cannot be found.`, role.arn);
        return allowed(getRolePolicyResponse({ roleName: role.name, policyName: policy.name, document: policy.document }, requestId));
      }
      case "ListRolePolicies": {
        // Not confirmed against AWS: that IAM lists the names in this (sorted) order.
        const page = pageOf(inline.map((p) => p.name).sort(), params);
        if (!page.ok) return fail(page.error.code, page.error.status, page.error.message, role.arn);
        return allowed(listRolePoliciesResponse(page.value.items, page.value.marker, requestId));
      }
      case "ListAttachedRolePolicies": {
        const attached = role.policies
          .filter(isManaged)
          .map((p) => ({ arn: p.name, ...splitPolicyArn(p.name) }))
          .filter((p) => p.name !== undefined && (params.pathPrefix === undefined || (p.path ?? "/").startsWith(params.pathPrefix)))
          .map((p) => ({ name: p.name ?? "", arn: p.arn }))
          .sort((a, b) => a.name.localeCompare(b.name));
        const page = pageOf(attached, params);
        if (!page.ok) return fail(page.error.code, page.error.status, page.error.message, role.arn);
        return allowed(listAttachedRolePoliciesResponse(page.value.items, page.value.marker, requestId));
      }
      default:
        throw new Error(`${action} is not an operation on a role`);
    }
  }

  /** IAM names are unique within an account regardless of case, and found that way. */
  private roleNamed(accountId: string, name: string): RoleModel | undefined {
    const wanted = name.toLowerCase();
    return [...this.accounts.model.roles.values()].find((r) => r.accountId === accountId && r.name.toLowerCase() === wanted);
  }

  /** A customer-managed policy of the caller's account, as the roles it is attached to carry it. */
  private managedPolicy(accountId: string, arn: string): IamManagedPolicyView | undefined {
    const parts = splitPolicyArn(arn);
    if (!parts || parts.accountId !== accountId) return undefined;
    const holders = [...this.accounts.model.roles.values()].filter(
      (r) => r.accountId === accountId && r.policies.some((p) => p.name === arn),
    );
    const document = holders[0]?.policies.find((p) => p.name === arn)?.document;
    if (!document) return undefined;
    return {
      name: parts.name,
      policyId: uniqueId("ANPA", arn),
      arn,
      path: parts.path,
      attachmentCount: holders.length,
      createDate: this.deployedAt,
      document,
    };
  }
}
