/**
 * What the proof asks each principal: assume, change or pass each role; invoke or change each
 * function; read, write or administer each code bucket; use or administer each key. A
 * capability holds when any one of its requests is allowed; each request is what a
 * well-formed call would send. Changing a role or a function, or passing a role to a new
 * function, is as good as acting as that role: whoever can do it can reach whatever it reaches.
 */
import type { PolicyDocument } from "../core";
import { functionName, roleName, type AccessModel } from "./access-model";
import { PROOF_SESSION_NAME, type AnalysisPrincipal } from "./principals";

export type CapabilityKind =
  "assume" | "change-role" | "pass-role" | "invoke" | "change-function" | "read" | "write" | "administer-bucket" | "use" | "administer";

export interface CapabilityRequest {
  readonly action: string;
  readonly resourceArn: string;
  readonly context?: Readonly<Record<string, string>>;
}

export interface Capability {
  /** Stable id for JSON and tests: "assume:<role arn>", "invoke:<function arn>", "read:<bucket arn>", "use:<key arn>"... */
  readonly id: string;
  readonly kind: CapabilityKind;
  readonly label: string;
  readonly resourceArn: string;
  readonly resourceAccountId: string;
  readonly resourcePolicy?: PolicyDocument;
  readonly resourcePolicyName: string;
  readonly requests: readonly CapabilityRequest[];
}

/**
 * How a principal is expected to stand towards a capability:
 * - intended: the path the architecture exists for; it must be allowed.
 * - permitted: allowed or not, nothing to report (an account's administrators own its resources;
 *   a function's role uses the key that encrypts its own environment and failed events).
 * - forbidden: anything allowed here is access beyond the intended path.
 */
export type Expectation = { readonly kind: "intended" | "permitted"; readonly why: string } | { readonly kind: "forbidden" };

const ROLE_CHANGE_ACTIONS = [
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:DeleteRole",
];
/** lambda:InvokeAsync is deprecated but still served: a second way to run the function. */
const INVOKE_ACTIONS = ["lambda:InvokeFunction", "lambda:InvokeAsync"];
const FUNCTION_CHANGE_ACTIONS = [
  "lambda:UpdateFunctionCode",
  "lambda:UpdateFunctionConfiguration",
  "lambda:AddPermission",
  "lambda:RemovePermission",
  "lambda:DeleteFunction",
  "lambda:PutFunctionConcurrency",
];
const BUCKET_ADMIN_ACTIONS = [
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutEncryptionConfiguration",
  "s3:PutBucketOwnershipControls",
  "s3:PutBucketPublicAccessBlock",
  "s3:DeleteBucket",
];
const KEY_USE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"];
const KEY_ADMIN_ACTIONS = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant"];
/** An object key no one would use, so no statement matches it by accident. */
const PROBE_OBJECT = "access-proof/probe-object";

export function capabilitiesOf(model: AccessModel): Capability[] {
  const out: Capability[] = [];
  const roles = [...model.roles].sort(
    (a, b) =>
      Number(b.arn === model.intended.invokerRoleArn) - Number(a.arn === model.intended.invokerRoleArn) || a.arn.localeCompare(b.arn),
  );
  for (const role of roles) {
    // Worst case for the trust: whoever asks knows the external id (AWS: it is not a secret).
    const externalId = model.configured.externalId ?? externalIdRequiredBy(role.trustPolicy);
    out.push({
      id: `assume:${role.arn}`,
      kind: "assume",
      label: `assume role ${role.name}`,
      resourceArn: role.arn,
      resourceAccountId: role.accountId,
      resourcePolicy: role.trustPolicy,
      resourcePolicyName: `trust policy of role/${role.name}`,
      requests: [
        {
          action: "sts:AssumeRole",
          resourceArn: role.arn,
          context: { "sts:RoleSessionName": PROOF_SESSION_NAME, ...(externalId !== undefined ? { "sts:ExternalId": externalId } : {}) },
        },
      ],
    });
  }
  // IAM has no resource policies: only identity policies in the role's own account decide these.
  for (const role of roles) {
    const common = { resourceArn: role.arn, resourceAccountId: role.accountId, resourcePolicyName: `role/${role.name}` };
    out.push({
      id: `change-role:${role.arn}`,
      kind: "change-role",
      label: `change role ${role.name}`,
      ...common,
      requests: ROLE_CHANGE_ACTIONS.map((action) => ({ action, resourceArn: role.arn })),
    });
    out.push({
      id: `pass-role:${role.arn}`,
      kind: "pass-role",
      label: `pass role ${role.name}`,
      ...common,
      requests: [{ action: "iam:PassRole", resourceArn: role.arn, context: { "iam:PassedToService": "lambda.amazonaws.com" } }],
    });
  }
  const functions = [...model.functions].sort(
    (a, b) =>
      Number(b.arn === model.intended.calleeFunctionArn) - Number(a.arn === model.intended.calleeFunctionArn) || a.arn.localeCompare(b.arn),
  );
  for (const fn of functions) {
    out.push({
      id: `invoke:${fn.arn}`,
      kind: "invoke",
      label: `invoke function ${fn.name}`,
      resourceArn: fn.arn,
      resourceAccountId: fn.accountId,
      ...(fn.resourcePolicy ? { resourcePolicy: fn.resourcePolicy } : {}),
      resourcePolicyName: `resource policy of function ${fn.name}`,
      requests: INVOKE_ACTIONS.map((action) => ({ action, resourceArn: fn.arn })),
    });
  }
  for (const fn of functions) {
    out.push({
      id: `change-function:${fn.arn}`,
      kind: "change-function",
      label: `change function ${fn.name}`,
      resourceArn: fn.arn,
      resourceAccountId: fn.accountId,
      ...(fn.resourcePolicy ? { resourcePolicy: fn.resourcePolicy } : {}),
      resourcePolicyName: `resource policy of function ${fn.name}`,
      requests: FUNCTION_CHANGE_ACTIONS.map((action) => ({ action, resourceArn: fn.arn })),
    });
  }
  for (const bucket of [...model.buckets].sort((a, b) => a.accountId.localeCompare(b.accountId) || a.name.localeCompare(b.name))) {
    const common = {
      resourceArn: bucket.arn,
      resourceAccountId: bucket.accountId,
      ...(bucket.policy ? { resourcePolicy: bucket.policy } : {}),
      resourcePolicyName: `bucket policy of ${bucket.name}`,
    };
    const object = `${bucket.arn}/${PROBE_OBJECT}`;
    out.push({
      id: `read:${bucket.arn}`,
      kind: "read",
      label: `read s3://${bucket.name}`,
      ...common,
      requests: [{ action: "s3:GetObject", resourceArn: object }],
    });
    // A well-formed upload names the bucket's own key, as the bucket policy demands.
    const sse: Record<string, string> =
      bucket.kmsKeyArn !== undefined
        ? { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": bucket.kmsKeyArn }
        : {};
    out.push({
      id: `write:${bucket.arn}`,
      kind: "write",
      label: `write s3://${bucket.name}`,
      ...common,
      requests: [{ action: "s3:PutObject", resourceArn: object, context: sse }],
    });
    out.push({
      id: `administer-bucket:${bucket.arn}`,
      kind: "administer-bucket",
      label: `administer s3://${bucket.name}`,
      ...common,
      requests: BUCKET_ADMIN_ACTIONS.map((action) => ({ action, resourceArn: bucket.arn })),
    });
  }
  for (const key of [...model.keys].sort((a, b) => a.accountId.localeCompare(b.accountId) || keyName(a).localeCompare(keyName(b)))) {
    const common = {
      resourceArn: key.arn,
      resourceAccountId: key.accountId,
      resourcePolicy: key.policy,
      resourcePolicyName: `key policy of ${keyName(key)}`,
    };
    out.push({
      id: `use:${key.arn}`,
      kind: "use",
      label: `use key ${keyName(key)}`,
      ...common,
      requests: KEY_USE_ACTIONS.map((action) => ({ action, resourceArn: key.arn })),
    });
    out.push({
      id: `administer:${key.arn}`,
      kind: "administer",
      label: `administer key ${keyName(key)}`,
      ...common,
      requests: KEY_ADMIN_ACTIONS.map((action) => ({ action, resourceArn: key.arn })),
    });
  }
  return out;
}

export function keyName(key: { arn: string; aliases: readonly string[] }): string {
  return key.aliases[0] ?? key.arn;
}

function externalIdRequiredBy(trust: PolicyDocument): string | undefined {
  const text = JSON.stringify(trust);
  return /"sts:ExternalId"\s*:\s*"([^"]+)"/i.exec(text)?.[1];
}

export function expectationFor(model: AccessModel, principal: AnalysisPrincipal, capability: Capability): Expectation {
  const { intended } = model;
  const isRole = (arn: string) => principal.roleArn === arn;
  const ownerAdmin = principal.kind === "admin" && principal.accountId === capability.resourceAccountId;
  // A principal a policy names, in the resource's own account: what it may do there beyond what the
  // stacks grant it is decided by identity policies the stacks do not define (the findings report the naming).
  if (principal.kind === "named" && principal.accountId === capability.resourceAccountId && capability.kind !== "assume") {
    return { kind: "permitted", why: `in its own account, decided by identity policies the stacks do not define` };
  }
  switch (capability.kind) {
    case "assume":
      if (capability.resourceArn === intended.invokerRoleArn && isRole(intended.callerRoleArn)) {
        return { kind: "intended", why: `the caller function's role assumes ${roleName(intended.invokerRoleArn)}` };
      }
      return { kind: "forbidden" };
    case "invoke":
      if (capability.resourceArn === intended.calleeFunctionArn) {
        if (isRole(intended.callerRoleArn)) return { kind: "intended", why: `through ${roleName(intended.invokerRoleArn)}` };
        if (isRole(intended.invokerRoleArn)) return { kind: "intended", why: "the invoker role exists for this" };
      }
      return ownerAdmin
        ? { kind: "permitted", why: `account ${principal.accountId}'s administrators own ${functionName(capability.resourceArn)}` }
        : { kind: "forbidden" };
    case "use": {
      if (ownerAdmin) return { kind: "permitted", why: "its account's administrators own the key" };
      const encrypts = model.functions.find((f) => f.kmsKeyArn === capability.resourceArn && isRole(f.roleArn));
      return encrypts ? { kind: "permitted", why: `it encrypts ${encrypts.name}'s environment and failed events` } : { kind: "forbidden" };
    }
    case "change-role":
    case "pass-role":
    case "change-function":
    case "read":
    case "write":
    case "administer-bucket":
    case "administer":
      return ownerAdmin ? { kind: "permitted", why: "its account's administrators own it" } : { kind: "forbidden" };
  }
}
