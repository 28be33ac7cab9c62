/**
 * What the access proof reasons about: the accounts' roles, functions, code buckets and keys,
 * with every policy that decides who reaches them, and the paths that are intended (one per caller).
 * It is built either from the synthesized stacks (from-stacks.ts) or from the deployed
 * accounts through AWS's read APIs (live.ts); the analysis cannot tell which.
 */
import {
  accountOf,
  type BucketModel,
  type FunctionModel,
  type KeyModel,
  type PolicyDocument,
  type RoleModel,
  type SourceRef,
  type TableModel,
  type VpcEndpointModel,
} from "../core";
import { UserFacingError } from "../config/user-facing-error";

export type FunctionAccess = Pick<
  FunctionModel,
  "arn" | "name" | "accountId" | "region" | "roleArn" | "kmsKeyArn" | "resourcePolicy" | "source" | "versions" | "aliases" | "vpcId"
>;
export type BucketAccess = Pick<BucketModel, "name" | "arn" | "accountId" | "policy" | "kmsKeyArn" | "source">;
export type KeyAccess = Pick<KeyModel, "arn" | "accountId" | "aliases" | "policy" | "source">;
export type EndpointAccess = Pick<
  VpcEndpointModel,
  "id" | "accountId" | "region" | "vpcId" | "serviceName" | "service" | "type" | "privateDns" | "policy" | "defaultPolicy" | "source"
> &
  Partial<Pick<VpcEndpointModel, "routeTableIds">>;
export type TableAccess = Pick<
  TableModel,
  "name" | "arn" | "accountId" | "region" | "hashKey" | "ttlAttribute" | "kmsKeyArn" | "pointInTimeRecovery" | "source"
>;

/** A security-group rule that lets a function send traffic to CIDR blocks (inline egress, or a rule of its own). */
export interface CidrEgress {
  /** The function (unqualified ARN) whose security group it is. */
  readonly functionArn: string;
  /** The security group: "stack 'caller' aws_security_group.caller_sg_221964A1". */
  readonly securityGroup: SourceRef;
  /** Where the rule is: the group itself (inline egress) or an aws_vpc_security_group_egress_rule / aws_security_group_rule. */
  readonly rule: SourceRef;
  readonly cidrBlocks: readonly string[];
  /** "tcp 443", "all traffic". */
  readonly traffic: string;
}

/**
 * The only path the architecture means to open for one caller: its function's role → its own
 * invoker role (in the callee's account) → the callee, at the ARN the caller invokes (the alias).
 */
export interface IntendedPath {
  /** The caller's name: "caller" for the single-caller shorthand, else its name in the callers list. */
  readonly caller: string;
  /** Its stack: "caller", or "caller-<name>". */
  readonly stack: string;
  readonly callerFunctionArn: string;
  readonly callerRoleArn: string;
  /** Its own invoker role: the one its function assumes (INVOKER_ROLE_ARN). */
  readonly invokerRoleArn: string;
  /** The callee function, unqualified. */
  readonly calleeFunctionArn: string;
  /** What the caller invokes (CALLEE_FUNCTION_ARN): the callee's alias (a qualified ARN), or the function itself. */
  readonly targetArn: string;
  /** The external id the configuration asks its invoker role's trust to require. */
  readonly externalId?: string;
}

export interface AccessModel {
  /** Where the policies came from, for the report ("the stacks in cdktf.out", "the deployed accounts"). */
  readonly origin: string;
  readonly partition: string;
  readonly region: string;
  /** The accounts the callers run in, each once, in the order of the paths. */
  readonly callerAccountIds: readonly string[];
  readonly calleeAccountId: string;
  readonly roles: readonly RoleModel[];
  readonly functions: readonly FunctionAccess[];
  readonly buckets: readonly BucketAccess[];
  readonly keys: readonly KeyAccess[];
  /** The DynamoDB tables (the callee's idempotency records, when it is idempotent); read from the stacks, in live mode too. */
  readonly tables: readonly TableAccess[];
  /** Every VPC endpoint the stacks create: requests sent from its VPC to its service pass its policy. */
  readonly vpcEndpoints: readonly EndpointAccess[];
  /** Egress to CIDR blocks that the functions' security groups allow (read from the stacks, in live mode too). */
  readonly cidrEgress: readonly CidrEgress[];
  /** One path per caller, grouped by the caller's account (callerAccountIds' order), then in the configuration's order. */
  readonly intended: readonly IntendedPath[];
  /** What the configuration asks the invoker roles' trusts to require (config keys externalId, organizationId). */
  readonly configured: { readonly externalId?: string; readonly organizationId?: string };
}

/** Bad input (missing directory, unreadable stack, unusable profile): exit code 2, never 1. */
export class VerifyInputError extends UserFacingError {
  readonly code = "VERIFY_BAD_INPUT";

  constructor(message: string) {
    super(message);
  }
}

/** "stack 'callee' aws_iam_role.invoker_role_95275810", or the deployed resource for live mode. */
export function describeSource(source: SourceRef): string {
  return source.stack === DEPLOYED ? source.address : `stack '${source.stack}' ${source.address}`;
}

/** The `stack` of a SourceRef for something read from a deployed account. */
export const DEPLOYED = "(deployed)";

export function statementsOf(document: PolicyDocument): Record<string, unknown>[] {
  return Array.isArray(document.Statement)
    ? [...(document.Statement as Record<string, unknown>[])]
    : [document.Statement as Record<string, unknown>];
}

export function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** "Sid" or "statement #i" (1-based, as a reader counts). */
export function statementLabel(statement: Record<string, unknown>, index: number): string {
  return typeof statement.Sid === "string" && statement.Sid !== "" ? statement.Sid : `statement #${index + 1}`;
}

/** The names the proof prints: a role's without its path, a function's without its ARN. */
export { iamNameOf as roleName, functionNameOf as functionName } from "../core";

/** The callee function every path ends at (unqualified). */
export function calleeFunctionArnOf(model: Pick<AccessModel, "intended">): string {
  return model.intended[0].calleeFunctionArn;
}

/** The callee function's execution role: the one principal meant to read and write the callee's tables. */
export function calleeRoleArnOf(model: Pick<AccessModel, "intended" | "functions">): string | undefined {
  return model.functions.find((f) => f.arn === calleeFunctionArnOf(model))?.roleArn;
}

/** A table is the callee's when it is in the callee's account: its idempotency records. */
export function isCalleeTable(model: Pick<AccessModel, "calleeAccountId">, table: Pick<TableAccess, "accountId">): boolean {
  return table.accountId === model.calleeAccountId;
}

/** The path of the caller whose function runs as this role. */
export function pathOfCallerRole(model: Pick<AccessModel, "intended">, roleArn: string | undefined): IntendedPath | undefined {
  return roleArn === undefined ? undefined : model.intended.find((p) => p.callerRoleArn === roleArn);
}

/** The paths whose invoker role this is (one, unless two callers share an invoker role). */
export function pathsOfInvokerRole(model: Pick<AccessModel, "intended">, roleArn: string | undefined): IntendedPath[] {
  return model.intended.filter((p) => p.invokerRoleArn === roleArn);
}

/** "caller" when there is one caller; else "caller reports" or "callers orders, billing"; "callee"; "" for any other account. */
export function accountRoleOf(model: Pick<AccessModel, "intended" | "calleeAccountId">, accountId: string): string {
  if (accountId === model.calleeAccountId) return "callee";
  const callers = model.intended.filter((p) => accountOf(p.callerRoleArn) === accountId).map((p) => p.caller);
  if (callers.length === 0) return "";
  if (model.intended.length === 1) return "caller";
  return `${callers.length === 1 ? "caller" : "callers"} ${callers.join(", ")}`;
}

/** Whether an IAM pattern (`*` any run, `?` one character) matches a value; actions compare case-insensitively. */
export function iamPatternMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}
