/** What IAM, KMS and S3 validate about the principals a stored policy names. */
import { asList, statementsOf } from "../../access-model";
import type { PolicyDocument } from "../../../core";
import { local, type DeployRuleDefinition, type RuleContext, type RuleOutcome } from "../rule-context";

const ROLE_OR_USER = /^arn:[^:]+:iam::\d{12}:(role|user)\//;

/** The role or user ARNs a policy names in Principal.AWS. */
function namedPrincipals(document: PolicyDocument): string[] {
  return statementsOf(document).flatMap((s) => {
    const principal = s.Principal;
    if (principal === undefined || principal === "*" || typeof principal !== "object") return [];
    return asList((principal as Record<string, unknown>).AWS).filter((p) => ROLE_OR_USER.test(p));
  });
}

/**
 * A role or user the stacks create, named in a policy stored before it exists: IAM (trust policies), KMS (key policies)
 * and S3 (bucket policies) refuse a principal that does not exist ("Invalid principal in policy";
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html). Principals the stacks do not
 * create are not judged: only the account knows whether they exist.
 */
function judgePrincipals(ctx: RuleContext, address: string, document: PolicyDocument | undefined): RuleOutcome | undefined {
  if (!document) return undefined;
  const named = namedPrincipals(document);
  if (named.length === 0) return { ok: true, detail: "names no role or user (accounts, services or conditions only)" };
  const existing = ctx.existingAt(address);
  const late = named.filter((arn) => {
    const role = ctx.model.roles.get(arn);
    if (!role) return false;
    const here = local(ctx, role.source);
    if (here !== undefined) return !existing.has(here);
    return ctx.deployOrder.indexOf(role.source.stack) > ctx.deployOrder.indexOf(ctx.stack.name);
  });
  if (late.length === 0)
    return { ok: true, detail: `every role it names exists first, or is not created by these stacks: ${named.join(", ")}` };
  return {
    ok: false,
    detail: `names ${late.join(", ")}, which these stacks create later`,
    answer: `MalformedPolicyDocument: Invalid principal in policy: "AWS":"${late[0]}"`,
    fix: "name the account's root and narrow it with ArnEquals aws:PrincipalArn (as the invoker role's trust does), or create the principal first",
  };
}

export const trustPrincipalsExist: DeployRuleDefinition = {
  id: "policy-principals-exist",
  phase: "create",
  call: "iam:CreateRole (AssumeRolePolicyDocument)",
  title: "a policy names no role or user that does not exist yet",
  source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html",
  appliesTo: "aws_iam_role",
  async judge(ctx, address) {
    const role = [...ctx.model.roles.values()].find((r) => r.source.stack === ctx.stack.name && r.source.address === address);
    return judgePrincipals(ctx, address, role?.trustPolicy);
  },
};

export const keyPrincipalsExist: DeployRuleDefinition = {
  ...trustPrincipalsExist,
  call: "kms:CreateKey (Policy)",
  appliesTo: "aws_kms_key",
  async judge(ctx, address) {
    const key = [...ctx.model.keys.values()].find((k) => k.source.stack === ctx.stack.name && k.source.address === address);
    return judgePrincipals(ctx, address, key?.policy);
  },
};

export const bucketPolicyPrincipalsExist: DeployRuleDefinition = {
  ...trustPrincipalsExist,
  call: "s3:PutBucketPolicy",
  appliesTo: "aws_s3_bucket_policy",
  async judge(ctx, address) {
    const text = ctx.argument(address, "policy");
    return judgePrincipals(ctx, address, typeof text === "string" ? (JSON.parse(text) as PolicyDocument) : undefined);
  },
};
