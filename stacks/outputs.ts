/** Names of the callee stack's outputs that the caller stack reads through remote state. */
export const CALLEE_OUTPUT = {
  functionArn: "callee_function_arn",
  functionName: "callee_function_name",
  /** The qualified ARN of the alias callers invoke. */
  aliasArn: "callee_alias_arn",
  /** The single caller's keys; with a callers list each caller has its own (ResolvedCaller.outputs). */
  invokerRoleArn: "invoker_role_arn",
  externalIdRequired: "external_id_required",
  /** With calleeIdempotency: the table of the callee's idempotency records. */
  idempotencyTable: "idempotency_table_name",
} as const;

/** The alias every caller invokes (its qualified ARN is all an invoker role may invoke). */
export const CALLEE_ALIAS = "live";

export const CALLER_OUTPUT = {
  functionArn: "caller_function_arn",
  functionName: "caller_function_name",
  executionRoleArn: "caller_execution_role_arn",
  /** With vpcEndpoints 'create': the endpoints' security group, for another caller in the same VPC ('existing'). */
  endpointSecurityGroupId: "endpoint_security_group_id",
} as const;

export const BOOTSTRAP_OUTPUT = {
  stateBucket: "state_bucket",
  stateKmsKeyArn: "state_kms_key_arn",
} as const;
