/**
 * Every AssumeRole and Invoke the runtime serves is decided here, by @cloud-copilot/iam-simulate
 * running AWS's evaluation logic over the synthesized policies: identity policies, the trust or
 * resource policy, same- versus cross-account rules, explicit deny and conditions.
 * This module only supplies the request context AWS would set.
 */
import { anonymousPrincipal, getDenialReasons, runSimulation, type RequestDenial } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../model/types";
import type { Principal } from "./principals";
import { UserFacingError } from "../../config/user-facing-error";

/** An AWS service acting on a customer's behalf (Lambda assuming an execution role). */
export interface ServicePrincipal {
  readonly kind: "service";
  readonly service: string;
  /** The account and resource the service acts for: AWS sets aws:SourceAccount / aws:SourceArn from them. */
  readonly sourceAccount: string;
  readonly sourceArn: string;
}

/** An unsigned request: only a resource policy that allows everyone (`Principal: "*"`) can let it through. */
export interface AnonymousPrincipal {
  readonly kind: "anonymous";
}

export const ANONYMOUS: AnonymousPrincipal = { kind: "anonymous" };

export interface AuthorizationRequest {
  readonly principal: Principal | ServicePrincipal | AnonymousPrincipal;
  readonly action: string;
  readonly resourceArn: string;
  readonly resourceAccountId: string;
  readonly region: string;
  /** The role's trust policy, or the function's resource-based policy. */
  readonly resourcePolicy?: PolicyDocument;
  /** How to name the resource policy in a decision, e.g. "trust policy of role/xacct-demo-callee-invoker". */
  readonly resourcePolicyName?: string;
  /** Action-specific keys, e.g. sts:ExternalId, sts:RoleSessionName, aws:TagKeys. */
  readonly context?: Readonly<Record<string, string | readonly string[]>>;
  /** The VPC endpoint the request passes, when it is sent from a VPC through one; undefined for a request over the internet. */
  readonly vpcEndpoint?: VpcEndpointPassage;
  readonly now?: Date;
}

/**
 * A request through a VPC endpoint: AWS evaluates the endpoint's policy besides the identity and resource policies
 * (an implicit or explicit deny there refuses the request), sets aws:SourceVpce and aws:SourceVpc, and sets no
 * aws:SourceIp (the request has no public address; aws:VpcSourceIp, the private one, is not modelled).
 */
export interface VpcEndpointPassage {
  /** The endpoint's id (vpce-...): aws:SourceVpce. */
  readonly id: string;
  /** The VPC it is in: aws:SourceVpc. */
  readonly vpcId: string;
  /** Its policy; AWS's full-access default when it has none. */
  readonly policy: PolicyDocument;
  /** How to name it in a decision; default "VPC endpoint policy of <id>". */
  readonly policyName?: string;
}

export type EvaluationResult = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export interface AuthorizationDecision {
  readonly allowed: boolean;
  readonly result: EvaluationResult;
  /** The statements that allowed the request, as "<policy>: <Sid or #index>". Empty when denied. */
  readonly allowedBy: readonly string[];
  /** AWS's wording of why it was refused ("because no resource-based policy allows the sts:AssumeRole action"); empty when allowed. */
  readonly reason: string;
  /** What refused it, as "<policy>: <Sid or #index>" for an explicit deny, or "<kind> policy (no Allow matched)". */
  readonly deniedBy: readonly string[];
  /** For a request through a VPC endpoint: how its policy alone judged it; undefined when none was passed. */
  readonly vpcEndpointResult?: EvaluationResult;
}

export interface OrganizationMembership {
  readonly organizationId: string;
  readonly accounts: ReadonlySet<string>;
}

/** Raised when the simulator cannot run at all (a malformed policy): never a silent deny. */
export class SimulationError extends UserFacingError {
  readonly code = "POLICY_NOT_EVALUABLE";

  constructor(message: string) {
    super(message);
  }
}

export class Authorizer {
  constructor(private readonly organization?: OrganizationMembership) {}

  /** The global condition keys AWS sets for this principal. */
  contextFor(principal: Principal | ServicePrincipal | AnonymousPrincipal, region: string, now: Date): Record<string, string> {
    const common: Record<string, string> = {
      "aws:CurrentTime": now.toISOString(),
      "aws:EpochTime": String(Math.floor(now.getTime() / 1000)),
      "aws:RequestedRegion": region,
      // Clients reach AWS over TLS; the runtime evaluates requests as AWS would see them.
      "aws:SecureTransport": "true",
      "aws:SourceIp": "127.0.0.1",
    };
    if (principal.kind === "anonymous") return common;
    if (principal.kind === "service") {
      return {
        ...common,
        "aws:PrincipalIsAWSService": "true",
        "aws:PrincipalServiceName": principal.service,
        "aws:SourceAccount": principal.sourceAccount,
        "aws:SourceArn": principal.sourceArn,
      };
    }
    const keys: Record<string, string> = {
      ...common,
      "aws:PrincipalArn": principal.principalArn,
      "aws:PrincipalAccount": principal.accountId,
      "aws:PrincipalIsAWSService": "false",
      "aws:PrincipalType": principal.kind === "user" ? "User" : "AssumedRole",
      "aws:userid": principal.userId,
      "aws:ViaAWSService": "false",
    };
    if (principal.kind === "user") keys["aws:username"] = principal.userName;
    if (this.organization?.accounts.has(principal.accountId)) keys["aws:PrincipalOrgID"] = this.organization.organizationId;
    return keys;
  }

  async authorize(request: AuthorizationRequest): Promise<AuthorizationDecision> {
    const now = request.now ?? new Date();
    const { principal, vpcEndpoint } = request;
    const context: Record<string, string | string[]> = {
      ...this.contextFor(principal, request.region, now),
      ...(request.context as Record<string, string | string[]> | undefined),
    };
    if (vpcEndpoint !== undefined) {
      delete context["aws:SourceIp"];
      context["aws:SourceVpce"] = vpcEndpoint.id;
      context["aws:SourceVpc"] = vpcEndpoint.vpcId;
    }
    const endpointPolicyName = vpcEndpoint?.policyName ?? `VPC endpoint policy of ${vpcEndpoint?.id}`;
    const result = await runSimulation(
      {
        request: {
          principal: principal.kind === "anonymous" ? anonymousPrincipal : principal.kind === "service" ? principal.service : principal.arn,
          action: request.action,
          resource: { resource: request.resourceArn, accountId: request.resourceAccountId },
          contextVariables: context,
        },
        identityPolicies:
          principal.kind === "service" || principal.kind === "anonymous"
            ? []
            : principal.identityPolicies.map((p) => ({ name: p.name, policy: p.document })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.resourcePolicy !== undefined ? { resourcePolicy: request.resourcePolicy } : {}),
        ...(vpcEndpoint !== undefined ? { vpcEndpointPolicies: [{ name: endpointPolicyName, policy: vpcEndpoint.policy }] } : {}),
      },
      { simulationMode: "Strict" },
    );
    if (result.resultType === "error") {
      throw new SimulationError(
        `cannot evaluate ${request.action} on ${request.resourceArn}: ${result.errors.message} ${JSON.stringify(result.errors)}`,
      );
    }
    if (result.resultType !== "single") {
      throw new SimulationError(`expected one evaluation of ${request.action} on ${request.resourceArn}, got a wildcard evaluation`);
    }
    const analysis = result.result.analysis;
    const resourcePolicyName = request.resourcePolicyName ?? "resource-based policy";
    const endpoint =
      vpcEndpoint !== undefined ? { vpcEndpointResult: (analysis.endpointAnalysis?.result ?? "ImplicitlyDenied") as EvaluationResult } : {};
    if (result.overallResult === "Allowed") {
      const allowedBy = [
        ...(analysis.identityAnalysis?.allowStatements ?? []).map((s) => label(s.policyId, s.statement)),
        ...(analysis.resourceAnalysis?.allowStatements ?? []).map((s) => label(resourcePolicyName, s.statement)),
        ...(analysis.endpointAnalysis?.allowStatements ?? []).map((s) => label(endpointPolicyName, s.statement)),
      ];
      return { allowed: true, result: "Allowed", allowedBy, reason: "", deniedBy: [], ...endpoint };
    }
    const denials = getDenialReasons(analysis);
    return {
      allowed: false,
      result: result.overallResult,
      allowedBy: [],
      reason: awsReason(request.action, denials),
      // Across accounts with no resource policy at all, the simulator names no denial: say what is missing.
      deniedBy:
        denials.length > 0
          ? denials.map((d) => describeDenial(d, resourcePolicyName, endpointPolicyName))
          : [`${resourcePolicyName}: no resource-based policy exists, and a request from another account needs one to allow it`],
      ...endpoint,
    };
  }
}

/** The part of the simulator's parsed statement that names it. */
interface NamedStatement {
  sid(): string | undefined;
  index(): number;
}

function label(policy: string | undefined, statement: NamedStatement): string {
  const sid = statement.sid();
  return `${policy ?? "policy"}: ${sid !== undefined && sid !== "" ? sid : `statement #${statement.index()}`}`;
}

function describeDenial(denial: RequestDenial, resourcePolicyName: string, endpointPolicyName: string): string {
  const kind =
    denial.policyType === "identity"
      ? "identity-based policy"
      : denial.policyType === "resource"
        ? resourcePolicyName
        : denial.policyType === "vpce"
          ? endpointPolicyName
          : `${denial.policyType} policy`;
  if (denial.denialType === "Explicit") {
    const where = denial.policyType === "resource" ? resourcePolicyName : (denial.policyIdentifier ?? kind);
    return `${where}: ${denial.statementId ?? `#${denial.statementIndex}`} (explicit Deny)`;
  }
  return `${kind} (no Allow matched)`;
}

/**
 * AWS's explanation suffix for an AccessDenied message (IAM guide, "Troubleshoot access denied error messages"):
 * an explicit deny first, then the first policy type that refused: identity-based, the VPC endpoint's, resource-based.
 */
function awsReason(action: string, denials: readonly RequestDenial[]): string {
  const explicit = denials.find((d) => d.denialType === "Explicit");
  if (explicit) {
    return explicit.policyType === "resource"
      ? "with an explicit deny in a resource-based policy"
      : explicit.policyType === "vpce"
        ? "with an explicit deny in a VPC endpoint policy"
        : "with an explicit deny in an identity-based policy";
  }
  if (denials.some((d) => d.policyType === "identity")) return `because no identity-based policy allows the ${action} action`;
  if (denials.some((d) => d.policyType === "vpce")) return `because no VPC endpoint policy allows the ${action} action`;
  return `because no resource-based policy allows the ${action} action`;
}

/** AWS's AccessDenied message: "User: <arn> is not authorized to perform: <action> on resource: <arn> because ...". */
export function accessDeniedMessage(principalArn: string, action: string, resourceArn: string, reason?: string): string {
  const base = `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resourceArn}`;
  return reason ? `${base} ${reason}` : base;
}
