/**
 * What the proof asks each principal: assume, change or pass each role; invoke or change each
 * function; read, write or administer each code bucket; use or administer each key. A
 * capability holds when any one of its requests is allowed; each request is what a
 * well-formed call would send. Changing a role or a function, or passing a role to a new
 * function, is as good as acting as that role: whoever can do it can reach whatever it reaches.
 */
import type { PolicyDocument } from "../core";
import {
  calleeRoleArnOf,
  functionName,
  isCalleeTable,
  pathOfCallerRole,
  pathsOfInvokerRole,
  roleName,
  type AccessModel,
  type FunctionAccess,
} from "./access-model";
import { PROOF_SESSION_NAME, type AnalysisPrincipal } from "./principals";

export type CapabilityKind =
  | "assume"
  | "change-role"
  | "pass-role"
  | "invoke"
  | "change-function"
  | "read"
  | "write"
  | "administer-bucket"
  | "use"
  | "administer"
  | "read-table"
  | "write-table";

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
  /** For invoke: the function (unqualified) and the qualifier asked about (an alias, "$LATEST" or a version); none for the unqualified ARN. */
  readonly functionArn?: string;
  readonly qualifier?: string;
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
/** Reading a table's items: one at a time, by key range, all of them, or in batches. */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"];
/** Writing a table's items: creating, changing or deleting one, or many in a batch. */
export const TABLE_WRITE_ACTIONS = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"];
/** An object key no one would use, so no statement matches it by accident. */
const PROBE_OBJECT = "access-proof/probe-object";

export function capabilitiesOf(model: AccessModel): Capability[] {
  const out: Capability[] = [];
  // The invoker roles first, then the callers' roles, each in the order of the paths; then the others by ARN.
  const n = model.intended.length;
  const roleRank = (arn: string) => {
    const invoker = model.intended.findIndex((p) => p.invokerRoleArn === arn);
    const caller = model.intended.findIndex((p) => p.callerRoleArn === arn);
    return invoker !== -1 ? invoker : caller !== -1 ? n + caller : 2 * n;
  };
  const roles = [...model.roles].sort((a, b) => roleRank(a.arn) - roleRank(b.arn) || a.arn.localeCompare(b.arn));
  for (const role of roles) {
    // Worst case for the trust: whoever asks knows the external id (AWS: it is not a secret).
    const externalId =
      pathsOfInvokerRole(model, role.arn)[0]?.externalId ?? model.configured.externalId ?? externalIdRequiredBy(role.trustPolicy);
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
  const callee = model.intended[0].calleeFunctionArn;
  // The callee first, then the callers' functions in the order of the paths; then any other by ARN.
  const functionRank = (arn: string) => {
    if (arn === callee) return 0;
    const caller = model.intended.findIndex((p) => p.callerFunctionArn === arn);
    return caller !== -1 ? 1 + caller : 1 + n;
  };
  const functions = [...model.functions].sort((a, b) => functionRank(a.arn) - functionRank(b.arn) || a.arn.localeCompare(b.arn));
  for (const fn of functions) {
    for (const target of invokeTargetsOf(model, fn)) {
      out.push({
        id: `invoke:${target.arn}`,
        kind: "invoke",
        label: `invoke function ${target.label}`,
        resourceArn: target.arn,
        resourceAccountId: fn.accountId,
        ...(fn.resourcePolicy ? { resourcePolicy: fn.resourcePolicy } : {}),
        resourcePolicyName: `resource policy of function ${fn.name}`,
        requests: INVOKE_ACTIONS.map((action) => ({ action, resourceArn: target.arn })),
        functionArn: fn.arn,
        ...(target.qualifier !== undefined ? { qualifier: target.qualifier } : {}),
      });
    }
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
  // The tables: DynamoDB authorizes item requests on the table's ARN, with the identity policies and the table's
  // resource-based policy (the stacks set none, so another account is refused).
  for (const table of [...model.tables].sort((a, b) => a.accountId.localeCompare(b.accountId) || a.name.localeCompare(b.name))) {
    const common = {
      resourceArn: table.arn,
      resourceAccountId: table.accountId,
      resourcePolicyName: `resource policy of table ${table.name}`,
    };
    out.push({
      id: `read-table:${table.arn}`,
      kind: "read-table",
      label: `read table ${table.name}`,
      ...common,
      requests: TABLE_READ_ACTIONS.map((action) => ({ action, resourceArn: table.arn })),
    });
    out.push({
      id: `write-table:${table.arn}`,
      kind: "write-table",
      label: `write table ${table.name}`,
      ...common,
      requests: TABLE_WRITE_ACTIONS.map((action) => ({ action, resourceArn: table.arn })),
    });
  }
  return out;
}

/**
 * What a function can be invoked at. A function that publishes versions or has aliases is asked about each ARN a
 * request can name, as Lambda authorizes each against itself (an identity policy on ":live" allows only ":live"):
 * the targets the paths invoke first, then the unqualified function, $LATEST, the other aliases and each version.
 */
export function invokeTargetsOf(
  model: Pick<AccessModel, "intended">,
  fn: Pick<FunctionAccess, "arn" | "name" | "versions" | "aliases">,
): { arn: string; label: string; qualifier?: string }[] {
  const aliases = [...fn.aliases.values()].map((a) => ({ arn: a.arn, label: `${fn.name}:${a.name}`, qualifier: a.name }));
  if (aliases.length === 0 && fn.versions.length === 0) return [{ arn: fn.arn, label: fn.name }];
  const all = [
    { arn: fn.arn, label: `${fn.name} (unqualified)` },
    ...aliases,
    { arn: `${fn.arn}:$LATEST`, label: `${fn.name}:$LATEST`, qualifier: "$LATEST" },
    ...fn.versions.map((v) => ({ arn: `${fn.arn}:${v}`, label: `${fn.name}:${v} (version)`, qualifier: v })),
  ];
  const targets = new Set(model.intended.map((p) => p.targetArn));
  return [...all.filter((t) => targets.has(t.arn)), ...all.filter((t) => !targets.has(t.arn))];
}

export function keyName(key: { arn: string; aliases: readonly string[] }): string {
  return key.aliases[0] ?? key.arn;
}

function externalIdRequiredBy(trust: PolicyDocument): string | undefined {
  const text = JSON.stringify(trust);
  return /"sts:ExternalId"\s*:\s*"([^"]+)"/i.exec(text)?.[1];
}

export function expectationFor(model: AccessModel, principal: AnalysisPrincipal, capability: Capability): Expectation {
  const isRole = (arn: string) => principal.roleArn === arn;
  const single = model.intended.length === 1;
  const ownerAdmin = principal.kind === "admin" && principal.accountId === capability.resourceAccountId;
  // A principal a policy names, in the resource's own account: what it may do there beyond what the
  // stacks grant it is decided by identity policies the stacks do not define (the findings report the naming).
  if (principal.kind === "named" && principal.accountId === capability.resourceAccountId && capability.kind !== "assume") {
    return { kind: "permitted", why: `in its own account, decided by identity policies the stacks do not define` };
  }
  switch (capability.kind) {
    case "assume": {
      const own = pathOfCallerRole(model, principal.roleArn);
      if (own && capability.resourceArn === own.invokerRoleArn) {
        return {
          kind: "intended",
          why: single
            ? `the caller function's role assumes ${roleName(own.invokerRoleArn)}`
            : `the role of caller ${own.caller} assumes its own invoker role, ${roleName(own.invokerRoleArn)}`,
        };
      }
      return { kind: "forbidden" };
    }
    case "invoke": {
      const own = pathOfCallerRole(model, principal.roleArn);
      if (own && capability.resourceArn === own.targetArn) return { kind: "intended", why: `through ${roleName(own.invokerRoleArn)}` };
      const invoking = pathsOfInvokerRole(model, principal.roleArn).find((p) => p.targetArn === capability.resourceArn);
      if (invoking)
        return {
          kind: "intended",
          why: single ? "the invoker role exists for this" : `the invoker role of caller ${invoking.caller} exists for this`,
        };
      return ownerAdmin
        ? {
            kind: "permitted",
            why: `account ${principal.accountId}'s administrators own ${functionName(capability.functionArn ?? capability.resourceArn)}`,
          }
        : { kind: "forbidden" };
    }
    case "use": {
      if (ownerAdmin) return { kind: "permitted", why: "its account's administrators own the key" };
      const encrypts = model.functions.find((f) => f.kmsKeyArn === capability.resourceArn && isRole(f.roleArn));
      return encrypts ? { kind: "permitted", why: `it encrypts ${encrypts.name}'s environment and failed events` } : { kind: "forbidden" };
    }
    case "read-table":
    case "write-table": {
      if (ownerAdmin) return { kind: "permitted", why: "its account's administrators own the table" };
      const table = model.tables.find((t) => t.arn === capability.resourceArn);
      const calleeRole = calleeRoleArnOf(model);
      if (table && isCalleeTable(model, table) && calleeRole !== undefined && isRole(calleeRole))
        return {
          kind: "intended",
          why: `the callee's role ${capability.kind === "read-table" ? "reads" : "writes"} its own idempotency records in ${table.name}`,
        };
      return { kind: "forbidden" };
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
