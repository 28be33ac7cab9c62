/**
 * IAM policy documents as plain typed objects. They are rendered with
 * JSON.stringify into the synthesized Terraform, so the exact policy a reviewer
 * reads in cdktf.out is the one AWS receives (and the one the tests assert).
 */
import { accountRootArn } from "../core/arn";

export type ConditionBlock = Record<string, Record<string, string | string[] | boolean>>;

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Record<string, string | string[]>;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

export function renderPolicy(...statements: PolicyStatement[]): string {
  return JSON.stringify(policyDocument(...statements));
}

/**
 * Key policy statement that delegates access to IAM in the key's own account
 * (AWS's default key policy). Key policies must use Resource "*", which means
 * "this key".
 */
export function enableIamStatement(partition: string, accountId: string): PolicyStatement {
  return {
    Sid: "EnableIamPoliciesInOwnAccount",
    Effect: "Allow",
    Principal: { AWS: accountRootArn(partition, accountId) },
    Action: "kms:*",
    Resource: "*",
  };
}
