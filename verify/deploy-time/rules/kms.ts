/** What KMS validates when a key is created with a policy. */
import { adminUser } from "../../../core";
import { decideOnKey, describe, keyName, type DeployRuleDefinition } from "../rule-context";

/**
 * CreateKey refuses a key policy that would not let the principal creating the key change the policy afterwards,
 * unless BypassPolicyLockoutSafetyCheck is set (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html).
 */
export const keyPolicyLockoutSafety: DeployRuleDefinition = {
  id: "key-policy-lockout-safety",
  phase: "create",
  call: "kms:CreateKey (Policy)",
  title: "the key policy lets its account's deployer change it later (KMS's lockout safety check)",
  source: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html (BypassPolicyLockoutSafetyCheck)",
  appliesTo: "aws_kms_key",
  async judge(ctx, address) {
    if (ctx.argument(address, "bypass_policy_lockout_safety_check") === true)
      return { ok: true, detail: "bypass_policy_lockout_safety_check is set; KMS does not check" };
    const key = [...ctx.model.keys.values()].find((k) => k.source.stack === ctx.stack.name && k.source.address === address);
    if (!key) return undefined;
    const deployer = adminUser(ctx.model.partition, key.accountId);
    const decision = await decideOnKey(ctx, deployer, "kms:PutKeyPolicy", key);
    const detail = `the account's deployer (AdministratorAccess) kms:PutKeyPolicy on ${keyName(key)}: ${describe(decision)}`;
    if (decision.allowed) return { ok: true, detail };
    return {
      ok: false,
      detail,
      answer: "MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy in the future.",
      fix: `keep the statement that delegates the key to account ${key.accountId}'s IAM (Principal arn:${ctx.model.partition}:iam::${key.accountId}:root, kms:*), or name the deploying role`,
    };
  },
};
