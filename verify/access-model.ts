/**
 * What the access proof reasons about: the two accounts' roles, functions, code buckets and
 * keys, with every policy that decides who reaches them, and the one path that is intended.
 * It is built either from the synthesized stacks (from-stacks.ts) or from the deployed
 * accounts through AWS's read APIs (live.ts); the analysis cannot tell which.
 */
import type { BucketModel, FunctionModel, KeyModel, PolicyDocument, RoleModel, SourceRef } from "../core";
import { UserFacingError } from "../config/user-facing-error";

export type FunctionAccess = Pick<
  FunctionModel,
  "arn" | "name" | "accountId" | "region" | "roleArn" | "kmsKeyArn" | "resourcePolicy" | "source"
>;
export type BucketAccess = Pick<BucketModel, "name" | "arn" | "accountId" | "policy" | "kmsKeyArn" | "source">;
export type KeyAccess = Pick<KeyModel, "arn" | "accountId" | "aliases" | "policy" | "source">;

/** The only path the architecture means to open: caller function's role → invoker role → callee. */
export interface IntendedPath {
  readonly callerFunctionArn: string;
  readonly callerRoleArn: string;
  readonly invokerRoleArn: string;
  readonly calleeFunctionArn: string;
}

export interface AccessModel {
  /** Where the policies came from, for the report ("the stacks in cdktf.out", "the deployed accounts"). */
  readonly origin: string;
  readonly partition: string;
  readonly region: string;
  readonly callerAccountId: string;
  readonly calleeAccountId: string;
  readonly roles: readonly RoleModel[];
  readonly functions: readonly FunctionAccess[];
  readonly buckets: readonly BucketAccess[];
  readonly keys: readonly KeyAccess[];
  readonly intended: IntendedPath;
  /** What the configuration asks the invoker role's trust to require (config keys externalId, organizationId). */
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
