/** What CloudWatch Logs validates when a log group is created with a KMS key. */
import type { PolicyDocument } from "../../../core";
import { decide, describe, keyName, keyOf, type DeployRuleDefinition } from "../rule-context";

/**
 * The actions of the key policy statement CloudWatch Logs documents (kms:Encrypt*, Decrypt*, ReEncrypt*,
 * GenerateDataKey*, Describe*), action by action: the key policy must grant at least what the guide says it needs.
 */
const LOGS_KEY_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:DescribeKey",
];

/**
 * CloudWatch Logs uses the key as logs.<region>.amazonaws.com, with the log group's ARN as encryption context.
 * iam-simulate 0.1.173 ignores `kms:EncryptionContext:<key>` context keys (its variable keys split on '/'), so
 * the policy is judged with that key read as aws:SourceArn, which Logs sets to the same log group ARN.
 */
export const logGroupKeyAllowsLogs: DeployRuleDefinition = {
  id: "log-group-key-allows-logs",
  phase: "create",
  call: "logs:CreateLogGroup (kmsKeyId)",
  title: "the log group's key policy lets CloudWatch Logs use the key for that log group",
  source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
  appliesTo: "aws_cloudwatch_log_group",
  async judge(ctx, address) {
    const keyArn = ctx.argument(address, "kms_key_id");
    const name = ctx.argument(address, "name");
    if (typeof keyArn !== "string" || typeof name !== "string") return undefined;
    const key = keyOf(ctx, keyArn);
    if (!key) return { ok: true, detail: `key ${keyArn} is not defined by these stacks; not judged` };
    const logGroupArn = `arn:${ctx.model.partition}:logs:${key.region}:${key.accountId}:log-group:${name}`;
    const service = `logs.${key.region}.amazonaws.com`;
    for (const action of LOGS_KEY_ACTIONS) {
      const decision = await decide(ctx, {
        principal: { kind: "service", service, sourceAccount: key.accountId, sourceArn: logGroupArn },
        action,
        resourceArn: key.arn,
        resourceAccountId: key.accountId,
        resourcePolicy: encryptionContextAsSourceArn(key.policy),
        resourcePolicyName: `key policy of ${keyName(key)}`,
        region: key.region,
      });
      if (decision.allowed) continue;
      return {
        ok: false,
        detail: `${service} ${action} on ${keyName(key)} for ${logGroupArn}: ${describe(decision)}`,
        answer: `AccessDeniedException: The specified KMS key does not exist or is not allowed to be used with Arn '${logGroupArn}'`,
        fix: `allow Principal {"Service": "${service}"} kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* in the key policy, with ArnEquals kms:EncryptionContext:aws:logs:arn = ${logGroupArn}`,
      };
    }
    return { ok: true, detail: `${service} may use ${keyName(key)} for ${name}` };
  },
};

/** The key policy with `kms:EncryptionContext:aws:logs:arn` read as `aws:SourceArn` (see logGroupKeyAllowsLogs). */
function encryptionContextAsSourceArn(policy: PolicyDocument): PolicyDocument {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  return {
    ...policy,
    Statement: statements.map((statement) => {
      const condition = statement.Condition as Record<string, Record<string, unknown>> | undefined;
      if (!condition) return statement;
      const rewritten: Record<string, Record<string, unknown>> = {};
      for (const [operator, keys] of Object.entries(condition)) {
        rewritten[operator] = Object.fromEntries(
          Object.entries(keys).map(([k, v]) => [k.toLowerCase() === "kms:encryptioncontext:aws:logs:arn" ? "aws:SourceArn" : k, v]),
        );
      }
      return { ...statement, Condition: rewritten };
    }),
  };
}
