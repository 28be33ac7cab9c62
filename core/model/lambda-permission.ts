/**
 * An aws_lambda_permission as the statement Lambda's AddPermission stores in the
 * function's resource-based policy (the document GetPolicy returns).
 */
import { accountRootArn } from "./attributes";

export interface PermissionInput {
  readonly statementId: string;
  readonly action: string;
  readonly principal: string;
  /** Unqualified function ARN. */
  readonly functionArn: string;
  readonly partition: string;
  readonly qualifier?: string;
  readonly sourceArn?: string;
  readonly sourceAccount?: string;
  readonly principalOrgId?: string;
  readonly eventSourceToken?: string;
  readonly functionUrlAuthType?: string;
}

/**
 * Lambda's rendering of a principal: `*` stays a string, an account id becomes that
 * account's root ARN, an ARN stays an AWS principal, a service name a Service principal.
 * undefined for anything else (the caller reports it).
 */
export function lambdaPrincipal(principal: string, partition: string): "*" | Record<string, string> | undefined {
  if (principal === "*") return "*";
  if (/^\d{12}$/.test(principal)) return { AWS: accountRootArn(partition, principal) };
  if (principal.startsWith("arn:")) return { AWS: principal };
  if (/^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/.test(principal)) return { Service: principal };
  return undefined;
}

export function permissionStatement(p: PermissionInput, principal: "*" | Record<string, string>): Record<string, unknown> {
  const stringEquals: Record<string, string> = {};
  if (p.sourceAccount !== undefined) stringEquals["AWS:SourceAccount"] = p.sourceAccount;
  if (p.principalOrgId !== undefined) stringEquals["aws:PrincipalOrgID"] = p.principalOrgId;
  if (p.eventSourceToken !== undefined) stringEquals["lambda:EventSourceToken"] = p.eventSourceToken;
  if (p.functionUrlAuthType !== undefined) stringEquals["lambda:FunctionUrlAuthType"] = p.functionUrlAuthType;
  const condition: Record<string, Record<string, string>> = {};
  if (Object.keys(stringEquals).length > 0) condition.StringEquals = stringEquals;
  if (p.sourceArn !== undefined) condition.ArnLike = { "AWS:SourceArn": p.sourceArn };
  return {
    Sid: p.statementId,
    Effect: "Allow",
    Principal: principal,
    Action: p.action,
    Resource: p.qualifier === undefined ? p.functionArn : `${p.functionArn}:${p.qualifier}`,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}
