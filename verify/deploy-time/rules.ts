/**
 * What AWS checks when the stacks' resources are created, changed and destroyed, one rule per
 * documented validation. Each rule judges a resource with only what exists at that moment of
 * Terraform's walk: at creation, the resources it depends on (created before it); at destruction,
 * again the resources it depends on (destroyed after it). Anything else may not exist yet, or no
 * longer, because Terraform runs unordered resources in any order or at once.
 */
import { adminUser, roleSession, type Principal } from "../../local/iam/principals";
import type { AuthorizationDecision, AuthorizationRequest, Authorizer } from "../../local/iam/authorize";
import type { Resolver } from "../../local/model/resolver";
import type { JsonObject, StackDoc } from "../../local/model/stack-files";
import type { AccountsModel, FunctionModel, KeyModel, PolicyDocument, RoleModel } from "../../local/model/types";
import type { DependencyGraph } from "./graph";

export type Phase = "create" | "destroy";

export interface DeployRule {
  readonly id: string;
  readonly phase: Phase;
  /** The AWS API call (or provider step) whose validation the rule encodes. */
  readonly call: string;
  readonly title: string;
  /** The document or public issue the rule encodes. */
  readonly source: string;
}

/** One rule applied to one resource: passed, or a finding. */
export interface DeployCheck {
  readonly rule: string;
  readonly stack: string;
  readonly address: string;
  readonly ok: boolean;
  /** What was checked, and what decided it. */
  readonly detail: string;
  /** For a failed check: what AWS (or the provider) would answer, and the fix. */
  readonly answer?: string;
  readonly fix?: string;
}

export interface RuleContext {
  readonly model: AccountsModel;
  readonly resolver: Resolver;
  readonly authorizer: Authorizer;
  readonly stack: StackDoc;
  readonly graph: DependencyGraph;
  /** The resources that certainly exist when `address` is created or destroyed. */
  existingAt(address: string): ReadonlySet<string>;
  body(address: string): JsonObject;
  /** A resolved argument of a resource (`kms_key_id`, `vpc_config.security_group_ids`). */
  argument(address: string, path: string): unknown;
  /** The resource addresses an argument references. */
  referencedBy(address: string, path: string): string[];
}

export const RULES = {
  lambdaAssumesRole: {
    id: "lambda-assumes-execution-role",
    phase: "create",
    call: "lambda:CreateFunction",
    title: "Lambda may assume the execution role",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
  },
  networkInterfaces: {
    id: "execution-role-network-interfaces",
    phase: "create",
    call: "lambda:CreateFunction (VpcConfig)",
    title: "the execution role allows the network-interface actions in the form Lambda validates, before the function is created",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html (execution role permissions); hashicorp/terraform-provider-aws#20698",
  },
  environmentKey: {
    id: "environment-key-usable",
    phase: "create",
    call: "lambda:CreateFunction (KMSKeyArn)",
    title: "the environment's KMS key exists first, and the deployer may grant it to Lambda (kms:CreateGrant, kms:Encrypt)",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
  },
  deployerReadsCode: {
    id: "deployer-passes-role-and-reads-code",
    phase: "create",
    call: "lambda:CreateFunction (S3Bucket, S3Key)",
    title: "the deployer may pass the execution role, and read the code object through the bucket policy and its key",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html; https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html",
  },
  asyncDestination: {
    id: "async-destination-permissions",
    phase: "create",
    call: "lambda:PutFunctionEventInvokeConfig",
    title: "the execution role may send to the on-failure destination and use its key, before the configuration is created",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (destination permissions)",
  },
  logGroupKey: {
    id: "log-group-key-allows-logs",
    phase: "create",
    call: "logs:CreateLogGroup (kmsKeyId)",
    title: "the log group's key policy lets CloudWatch Logs use the key for that log group",
    source: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
  },
  codeUpload: {
    id: "code-upload-accepted",
    phase: "create",
    call: "s3:PutObject (aws_s3_object, SSE-KMS)",
    title: "the bucket policy accepts the provider's TLS upload with the headers it sends, and the deployer may use the key",
    source: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html; https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/s3_object",
  },
  networkInterfacesOutliveGroup: {
    id: "network-interface-permissions-outlive-security-group",
    phase: "destroy",
    call: "ec2:DeleteSecurityGroup (after lambda:DeleteFunction)",
    title: "the permissions Lambda needs to delete its network interfaces are destroyed after the function's security group",
    source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html; hashicorp/terraform-provider-aws#10329",
  },
} as const satisfies Record<string, DeployRule>;

export type RuleId = (typeof RULES)[keyof typeof RULES]["id"];

/** Ids AWS has not assigned yet: Lambda validates the execution role before it creates anything. */
const PLACEHOLDER = { eni: "eni-00000000000000000", subnet: "subnet-00000000000000000", securityGroup: "sg-00000000000000000" };

type Check = Omit<DeployCheck, "stack" | "address" | "rule">;

/**
 * The role's identity policies that exist at `existing`: inline blocks with the role, aws_iam_role_policy with
 * itself, and a customer-managed policy only once both it and an attachment of it exist.
 */
function policiesExisting(ctx: RuleContext, role: RoleModel, existing: ReadonlySet<string>): RoleModel["policies"] {
  return role.policies.filter((p) => {
    if (p.source.stack !== ctx.stack.name) return true;
    if (!existing.has(p.source.address)) return false;
    if (!p.source.address.startsWith("aws_iam_policy.")) return true;
    return [...existing].some(
      (a) => /^aws_iam_(role_)?policy_attachment\./.test(a) && ctx.graph.dependsOn.get(a)?.has(p.source.address) && attachesTo(ctx, a, role),
    );
  });
}

/** Whether an attachment (`role`, or `roles` of aws_iam_policy_attachment) names this role. */
function attachesTo(ctx: RuleContext, attachment: string, role: RoleModel): boolean {
  const named = [ctx.argument(attachment, "role"), ctx.argument(attachment, "roles")].flat();
  return named.some((name) => name === role.name || name === role.arn);
}

function sessionOf(ctx: RuleContext, role: RoleModel, existing: ReadonlySet<string>): Principal {
  const model = ctx.model;
  return roleSession({
    partition: model.partition,
    roleArn: role.arn,
    roleId: role.roleId,
    sessionName: "deploy-time-check",
    identityPolicies: policiesExisting(ctx, role, existing).map((p) => ({ name: p.name, document: p.document })),
    chained: false,
  });
}

async function decide(ctx: RuleContext, request: Omit<AuthorizationRequest, "region"> & { region?: string }): Promise<AuthorizationDecision> {
  return ctx.authorizer.authorize({ region: request.region ?? ctx.model.accounts[0].region, ...request } as AuthorizationRequest);
}

function describe(decision: AuthorizationDecision): string {
  return decision.allowed ? `allowed by ${decision.allowedBy.join(", ")}` : `refused ${decision.reason} (${decision.deniedBy.join("; ")})`;
}

function keyPolicyOf(ctx: RuleContext, keyArn: string): KeyModel | undefined {
  return ctx.model.keys.get(keyArn);
}

/** The address that defines a model object, if it is in this stack. */
function local(ctx: RuleContext, source: { stack: string; address: string }): string | undefined {
  return source.stack === ctx.stack.name ? source.address : undefined;
}

function functionAt(ctx: RuleContext, address: string): FunctionModel {
  const fn = [...ctx.model.functions.values()].find((f) => f.source.stack === ctx.stack.name && f.source.address === address);
  if (!fn) throw new Error(`no function model for ${address}`);
  return fn;
}

function roleOf(ctx: RuleContext, fn: FunctionModel): RoleModel {
  const role = ctx.model.roles.get(fn.roleArn);
  if (!role) throw new Error(`no role model for ${fn.roleArn}`);
  return role;
}

// ---------------------------------------------------------------------------------------------
// Creation
// ---------------------------------------------------------------------------------------------

/** lambda:CreateFunction refuses a role Lambda cannot assume ("The role defined for the function cannot be assumed by Lambda"). */
export async function lambdaAssumesExecutionRole(ctx: RuleContext, address: string): Promise<Check> {
  const fn = functionAt(ctx, address);
  const role = roleOf(ctx, fn);
  const existing = ctx.existingAt(address);
  const roleAddress = local(ctx, role.source);
  if (roleAddress !== undefined && !existing.has(roleAddress)) {
    return { ok: false, detail: `role ${role.name} is not created before the function`, answer: "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.", fix: `reference the role's arn from the function (role = ${role.source.address}.arn)` };
  }
  const decision = await decide(ctx, {
    principal: { kind: "service", service: "lambda.amazonaws.com", sourceAccount: fn.accountId, sourceArn: fn.arn },
    action: "sts:AssumeRole",
    resourceArn: role.arn,
    resourceAccountId: role.accountId,
    resourcePolicy: role.trustPolicy,
    resourcePolicyName: `trust policy of role/${role.name}`,
  });
  if (decision.allowed) return { ok: true, detail: `lambda.amazonaws.com assumes role/${role.name}: ${describe(decision)}` };
  return {
    ok: false,
    detail: `lambda.amazonaws.com assumes role/${role.name}: ${describe(decision)}`,
    answer: "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.",
    fix: `let Principal {"Service": "lambda.amazonaws.com"} assume role/${role.name} (with aws:SourceAccount ${fn.accountId})`,
  };
}

/**
 * With a VpcConfig, Lambda checks the execution role's network-interface permissions at CreateFunction
 * (and when the VPC configuration changes), for interfaces, subnets and groups that do not exist yet.
 */
export async function executionRoleNetworkInterfaces(ctx: RuleContext, address: string): Promise<Check | undefined> {
  if (ctx.argument(address, "vpc_config") === undefined) return undefined;
  const fn = functionAt(ctx, address);
  const role = roleOf(ctx, fn);
  const principal = sessionOf(ctx, role, ctx.existingAt(address));
  const ec2 = `arn:${ctx.model.partition}:ec2:${fn.region}:${fn.accountId}`;
  const requests: [string, string][] = [
    ["ec2:CreateNetworkInterface", `${ec2}:network-interface/${PLACEHOLDER.eni}`],
    ["ec2:CreateNetworkInterface", `${ec2}:subnet/${PLACEHOLDER.subnet}`],
    ["ec2:CreateNetworkInterface", `${ec2}:security-group/${PLACEHOLDER.securityGroup}`],
    ["ec2:DescribeNetworkInterfaces", "*"],
    ["ec2:DeleteNetworkInterface", `${ec2}:network-interface/${PLACEHOLDER.eni}`],
  ];
  for (const [action, resourceArn] of requests) {
    const decision = await decide(ctx, { principal, action, resourceArn, resourceAccountId: fn.accountId, region: fn.region });
    if (!decision.allowed) {
      const name = action.slice("ec2:".length);
      // Allowed once every policy of the role exists: then only the order is wrong, not the policy.
      const eventually = await decide(ctx, { principal: sessionOf(ctx, role, new Set(ctx.graph.addresses)), action, resourceArn, resourceAccountId: fn.accountId, region: fn.region });
      return {
        ok: false,
        detail: `${action} on ${resourceArn === "*" ? "*" : resourceArn.replace(`${ec2}:`, "")} (an id Lambda does not know yet) with the role's policies that exist before the function: ${describe(decision)}`,
        answer: `InvalidParameterValueException: The provided execution role does not have permissions to call ${name} on EC2 (the provider retries this for minutes, then fails)`,
        fix: eventually.allowed
          ? `make the function depend on the policy that grants ${action} (${eventually.allowedBy.join(", ")}): it may be created after the function`
          : `grant role/${role.name} ${action} on Resource "*" (Lambda validates it for ids that do not exist yet; limit subnets and groups with lambda:SubnetIds and lambda:SecurityGroupIds on the deployer), in a policy the function depends on`,
      };
    }
  }
  return { ok: true, detail: `role/${role.name} may create, describe and delete network interfaces for ids Lambda does not know yet, with policies that exist before the function` };
}

/**
 * A function with a customer-managed key: "Lambda uses your permissions to create a grant on the key" (kms:CreateGrant,
 * kms:Encrypt for the deployer), and decrypts the environment for the function through that grant, so the execution
 * role needs no key permission of its own for it (Lambda guide, configuration-envvars-encryption).
 */
export async function environmentKeyUsable(ctx: RuleContext, address: string): Promise<Check | undefined> {
  const fn = functionAt(ctx, address);
  if (fn.kmsKeyArn === undefined) return undefined;
  const key = keyPolicyOf(ctx, fn.kmsKeyArn);
  if (!key) return { ok: true, detail: `key ${fn.kmsKeyArn} is not defined by these stacks; not judged` };
  const existing = ctx.existingAt(address);
  const keyAddress = local(ctx, key.source);
  if (keyAddress !== undefined && !existing.has(keyAddress)) {
    return { ok: false, detail: `key ${keyName(key)} is not created before the function`, answer: "InvalidParameterValueException: the KMS key ARN does not exist (KMSNotFoundException)", fix: `reference the key's arn from the function (kms_key_arn = ${key.source.address}.arn)` };
  }
  const deployer = adminUser(ctx.model.partition, fn.accountId);
  for (const action of ["kms:CreateGrant", "kms:Encrypt"]) {
    const decision = await decide(ctx, { principal: deployer, action, resourceArn: key.arn, resourceAccountId: key.accountId, resourcePolicy: key.policy, resourcePolicyName: `key policy of ${keyName(key)}`, region: key.region });
    if (!decision.allowed) {
      return {
        ok: false,
        detail: `the account's deployer (AdministratorAccess) ${action} on ${keyName(key)}: ${describe(decision)}`,
        answer: "InvalidParameterValueException: Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant",
        fix: `let account ${fn.accountId}'s IAM policies use the key (the key policy's root statement), or grant the deployer ${action} in the key policy`,
      };
    }
  }
  return { ok: true, detail: `the deployer may grant ${keyName(key)} to Lambda (kms:CreateGrant, kms:Encrypt)` };
}

/** CreateFunction from S3 reads the object with the deployer's credentials, and the deployer passes the role. */
export async function deployerPassesRoleAndReadsCode(ctx: RuleContext, address: string): Promise<Check | undefined> {
  const bucketName = ctx.argument(address, "s3_bucket");
  const objectKey = ctx.argument(address, "s3_key");
  if (typeof bucketName !== "string" || typeof objectKey !== "string") return undefined;
  const fn = functionAt(ctx, address);
  const role = roleOf(ctx, fn);
  const deployer = adminUser(ctx.model.partition, fn.accountId);
  const pass = await decide(ctx, { principal: deployer, action: "iam:PassRole", resourceArn: role.arn, resourceAccountId: role.accountId, context: { "iam:PassedToService": "lambda.amazonaws.com" } });
  if (!pass.allowed) {
    return { ok: false, detail: `iam:PassRole on role/${role.name}: ${describe(pass)}`, answer: `AccessDeniedException: User: ${deployer.arn} is not authorized to perform: iam:PassRole on resource: ${role.arn}`, fix: "grant the deployer iam:PassRole on the execution role with iam:PassedToService lambda.amazonaws.com" };
  }
  const bucket = ctx.model.buckets.get(bucketName);
  const objectArn = `arn:${ctx.model.partition}:s3:::${bucketName}/${objectKey}`;
  const read = await decide(ctx, {
    principal: deployer,
    action: "s3:GetObject",
    resourceArn: objectArn,
    resourceAccountId: bucket?.accountId ?? fn.accountId,
    ...(bucket?.policy ? { resourcePolicy: bucket.policy, resourcePolicyName: `bucket policy of ${bucketName}` } : {}),
    region: fn.region,
  });
  if (!read.allowed) {
    return {
      ok: false,
      detail: `s3:GetObject on s3://${bucketName}/${objectKey} over TLS: ${describe(read)}`,
      answer: "InvalidParameterValueException: Error occurred while GetObject. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
      fix: `let the deployer of account ${fn.accountId} read the code objects (the bucket policy must not deny a TLS GetObject)`,
    };
  }
  const objectKeyArn = bucket?.kmsKeyArn;
  const key = objectKeyArn ? keyPolicyOf(ctx, objectKeyArn) : undefined;
  if (key) {
    const decrypt = await decide(ctx, {
      principal: deployer,
      action: "kms:Decrypt",
      resourceArn: key.arn,
      resourceAccountId: key.accountId,
      resourcePolicy: key.policy,
      resourcePolicyName: `key policy of ${keyName(key)}`,
      region: key.region,
      context: { "kms:ViaService": `s3.${key.region}.amazonaws.com`, "kms:CallerAccount": fn.accountId },
    });
    if (!decrypt.allowed) {
      return {
        ok: false,
        detail: `kms:Decrypt on ${keyName(key)} through S3: ${describe(decrypt)}`,
        answer: "InvalidParameterValueException: Error occurred while GetObject. S3 Error Code: AccessDenied (KMS)",
        fix: `let the deployer of account ${fn.accountId} decrypt with ${keyName(key)} through S3`,
      };
    }
  }
  return { ok: true, detail: `the deployer may pass role/${role.name} and read s3://${bucketName}/${objectKey}${key ? ` through ${keyName(key)}` : ""}` };
}

/** Lambda validates the execution role's permission on a destination when the event invoke configuration is put. */
export async function asyncDestinationPermissions(ctx: RuleContext, address: string): Promise<Check | undefined> {
  const functionAddress = ctx.referencedBy(address, "function_name").find((a) => a.startsWith("aws_lambda_function."));
  const destination = ctx.argument(address, "destination_config.on_failure.destination");
  if (functionAddress === undefined || typeof destination !== "string") return undefined;
  const fn = functionAt(ctx, functionAddress);
  const role = roleOf(ctx, fn);
  const existing = ctx.existingAt(address);
  const principal = sessionOf(ctx, role, existing);
  if (!destination.includes(":sqs:")) return { ok: true, detail: `destination ${destination} is not an SQS queue; not judged` };
  const send = await decide(ctx, { principal, action: "sqs:SendMessage", resourceArn: destination, resourceAccountId: destination.split(":")[4], region: destination.split(":")[3] });
  if (!send.allowed) {
    return {
      ok: false,
      detail: `role/${role.name} sqs:SendMessage on ${destination} with the policies that exist before the configuration: ${describe(send)}`,
      answer: `InvalidParameterValueException: The function's execution role does not have permissions to call SendMessage on ${destination}`,
      fix: `grant role/${role.name} sqs:SendMessage on the queue in a policy the event invoke configuration depends on`,
    };
  }
  const queueAddress = ctx.referencedBy(address, "destination_config").find((a) => a.startsWith("aws_sqs_queue."));
  const queueKeyArn = queueAddress ? ctx.argument(queueAddress, "kms_master_key_id") : undefined;
  const key = typeof queueKeyArn === "string" ? keyPolicyOf(ctx, queueKeyArn) : undefined;
  if (key) {
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
      const decision = await decide(ctx, { principal, action, resourceArn: key.arn, resourceAccountId: key.accountId, resourcePolicy: key.policy, resourcePolicyName: `key policy of ${keyName(key)}`, region: key.region });
      if (!decision.allowed) {
        const byKeyPolicy = decision.deniedBy.some((d) => d.startsWith("key policy"));
        return {
          ok: false,
          detail: `role/${role.name} ${action} on ${keyName(key)}, the queue's key: ${describe(decision)}`,
          answer: "KMS.AccessDeniedException when Lambda sends a failed event: the record is lost",
          fix: byKeyPolicy
            ? `let the key policy of ${keyName(key)} delegate to account ${key.accountId}'s IAM (the root statement) or name role/${role.name}`
            : `grant role/${role.name} ${action} on ${key.arn} in a policy the event invoke configuration depends on`,
        };
      }
    }
  }
  return { ok: true, detail: `role/${role.name} may send to ${destination}${key ? ` and use ${keyName(key)}` : ""}` };
}

/**
 * CloudWatch Logs uses the key as logs.<region>.amazonaws.com, with the log group's ARN as encryption context.
 * iam-simulate 0.1.173 ignores `kms:EncryptionContext:<key>` context keys (its variable keys split on '/'), so
 * the policy is judged with that key read as aws:SourceArn, which Logs sets to the same log group ARN.
 */
export async function logGroupKeyAllowsLogs(ctx: RuleContext, address: string): Promise<Check | undefined> {
  const keyArn = ctx.argument(address, "kms_key_id");
  const name = ctx.argument(address, "name");
  if (typeof keyArn !== "string" || typeof name !== "string") return undefined;
  const key = keyPolicyOf(ctx, keyArn);
  if (!key) return { ok: true, detail: `key ${keyArn} is not defined by these stacks; not judged` };
  const logGroupArn = `arn:${ctx.model.partition}:logs:${key.region}:${key.accountId}:log-group:${name}`;
  const service = `logs.${key.region}.amazonaws.com`;
  // The documented statement's kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey* and Describe*, action by action.
  for (const action of ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]) {
    const decision = await decide(ctx, {
      principal: { kind: "service", service, sourceAccount: key.accountId, sourceArn: logGroupArn },
      action,
      resourceArn: key.arn,
      resourceAccountId: key.accountId,
      resourcePolicy: encryptionContextAsSourceArn(key.policy),
      resourcePolicyName: `key policy of ${keyName(key)}`,
      region: key.region,
    });
    if (!decision.allowed) {
      return {
        ok: false,
        detail: `${service} ${action} on ${keyName(key)} for ${logGroupArn}: ${describe(decision)}`,
        answer: `AccessDeniedException: The specified KMS key does not exist or is not allowed to be used with Arn '${logGroupArn}'`,
        fix: `allow Principal {"Service": "${service}"} kms:Encrypt*, kms:Decrypt*, kms:ReEncrypt*, kms:GenerateDataKey*, kms:Describe* in the key policy, with ArnEquals kms:EncryptionContext:aws:logs:arn = ${logGroupArn}`,
      };
    }
  }
  return { ok: true, detail: `${service} may use ${keyName(key)} for ${name}` };
}

/** The provider's PutObject: TLS, x-amz-server-side-encryption and the kms_key_id it was given, by the deployer. */
export async function codeUploadAccepted(ctx: RuleContext, address: string): Promise<Check | undefined> {
  const bucketName = ctx.argument(address, "bucket");
  const objectKey = ctx.argument(address, "key");
  if (typeof bucketName !== "string" || typeof objectKey !== "string") return undefined;
  const bucket = ctx.model.buckets.get(bucketName);
  if (!bucket) return { ok: true, detail: `bucket ${bucketName} is not defined by these stacks; not judged` };
  const sse = ctx.argument(address, "server_side_encryption");
  const kmsKeyId = ctx.argument(address, "kms_key_id");
  const deployer = adminUser(ctx.model.partition, bucket.accountId);
  const context: Record<string, string> = {};
  if (typeof sse === "string") context["s3:x-amz-server-side-encryption"] = sse;
  if (typeof kmsKeyId === "string") context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = kmsKeyId;
  const put = await decide(ctx, {
    principal: deployer,
    action: "s3:PutObject",
    resourceArn: `${bucket.arn}/${objectKey}`,
    resourceAccountId: bucket.accountId,
    ...(bucket.policy ? { resourcePolicy: bucket.policy, resourcePolicyName: `bucket policy of ${bucketName}` } : {}),
    region: bucket.region,
    context,
  });
  const headers = Object.entries(context).map(([k, v]) => `${k.slice(3)}: ${v}`).join(", ") || "no encryption headers";
  if (!put.allowed) {
    return {
      ok: false,
      detail: `s3:PutObject of s3://${bucketName}/${objectKey} over TLS with ${headers}: ${describe(put)}`,
      answer: `AccessDenied: User: ${deployer.arn} is not authorized to perform: s3:PutObject on resource: ${bucket.arn}/${objectKey} ${put.reason}`,
      fix: "upload with server_side_encryption = \"aws:kms\" and kms_key_id = the ARN of the key the bucket policy requires",
    };
  }
  // Above 5 MiB the provider's uploader sends the parts (UploadPart, authorized as s3:PutObject) with no encryption headers.
  const part = await decide(ctx, {
    principal: deployer,
    action: "s3:PutObject",
    resourceArn: `${bucket.arn}/${objectKey}`,
    resourceAccountId: bucket.accountId,
    ...(bucket.policy ? { resourcePolicy: bucket.policy, resourcePolicyName: `bucket policy of ${bucketName}` } : {}),
    region: bucket.region,
  });
  if (!part.allowed) {
    return {
      ok: false,
      detail: `an UploadPart of s3://${bucketName}/${objectKey} (multipart, above 5 MiB; no encryption headers): ${describe(part)}`,
      answer: "AccessDenied when calling the UploadPart operation: Access Denied (boto/botocore#471)",
      fix: 'deny wrong encryption only when the header is present (add Null {"s3:x-amz-server-side-encryption": "false"} to the Deny), and let the bucket\'s default encryption apply to parts',
    };
  }
  const key = typeof kmsKeyId === "string" ? keyPolicyOf(ctx, kmsKeyId) : undefined;
  if (key) {
    const decision = await decide(ctx, {
      principal: deployer,
      action: "kms:GenerateDataKey",
      resourceArn: key.arn,
      resourceAccountId: key.accountId,
      resourcePolicy: key.policy,
      resourcePolicyName: `key policy of ${keyName(key)}`,
      region: key.region,
      context: { "kms:ViaService": `s3.${key.region}.amazonaws.com`, "kms:CallerAccount": bucket.accountId },
    });
    if (!decision.allowed) {
      return { ok: false, detail: `kms:GenerateDataKey on ${keyName(key)} through S3: ${describe(decision)}`, answer: "AccessDenied: KMS refused GenerateDataKey for the upload", fix: `let the deployer of account ${bucket.accountId} use ${keyName(key)} through S3` };
    }
  }
  return { ok: true, detail: `the bucket policy accepts the upload over TLS with ${headers}, and its multipart parts${key ? `; the deployer may use ${keyName(key)}` : ""}` };
}

// ---------------------------------------------------------------------------------------------
// Destruction
// ---------------------------------------------------------------------------------------------

/**
 * Lambda deletes a VPC function's interfaces after the function, with the execution role's permissions;
 * until then the provider's security-group delete waits (up to 45 minutes), then fails with DependencyViolation.
 * The group must therefore be destroyed while the role's interface permissions still exist.
 */
export async function networkInterfacePermissionsOutliveGroup(ctx: RuleContext, functionAddress: string): Promise<DeployCheck[]> {
  if (ctx.argument(functionAddress, "vpc_config") === undefined) return [];
  const fn = functionAt(ctx, functionAddress);
  const role = roleOf(ctx, fn);
  const ec2 = `arn:${ctx.model.partition}:ec2:${fn.region}:${fn.accountId}`;
  const checks: DeployCheck[] = [];
  for (const group of ctx.referencedBy(functionAddress, "vpc_config").filter((a) => a.startsWith("aws_security_group."))) {
    const outliving = ctx.existingAt(group);
    const principal = sessionOf(ctx, role, outliving);
    const roleAddress = local(ctx, role.source);
    let check: Check;
    if (roleAddress !== undefined && !outliving.has(roleAddress)) {
      check = {
        ok: false,
        detail: `role/${role.name} may be destroyed before ${group}`,
        answer: "DependencyViolation: resource sg-… has a dependent object (after the provider waited up to 45 minutes for Lambda's network interfaces)",
        fix: `make ${group} depend on the policy that grants ec2:DeleteNetworkInterface (depends_on), so that destroy removes the group first`,
      };
    } else {
      const decision = await decide(ctx, { principal, action: "ec2:DeleteNetworkInterface", resourceArn: `${ec2}:network-interface/${PLACEHOLDER.eni}`, resourceAccountId: fn.accountId, region: fn.region });
      check = decision.allowed
        ? { ok: true, detail: `while ${group} is destroyed, role/${role.name} still may delete Lambda's interfaces: ${describe(decision)}` }
        : {
            ok: false,
            detail: `while ${group} is destroyed, role/${role.name} has only the policies ${group} depends on: ec2:DeleteNetworkInterface ${describe(decision)}`,
            answer: "DependencyViolation: resource sg-… has a dependent object (after the provider waited up to 45 minutes for Lambda's network interfaces)",
            fix: `make ${group} depend on the policy that grants ec2:DeleteNetworkInterface (depends_on), so that destroy removes the group first`,
          };
    }
    checks.push({ rule: RULES.networkInterfacesOutliveGroup.id, stack: ctx.stack.name, address: group, ...check });
  }
  return checks;
}

export function keyName(key: { arn: string; aliases: readonly string[] }): string {
  return key.aliases[0] ?? key.arn;
}

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
        rewritten[operator] = Object.fromEntries(Object.entries(keys).map(([k, v]) => [k.toLowerCase() === "kms:encryptioncontext:aws:logs:arn" ? "aws:SourceArn" : k, v]));
      }
      return { ...statement, Condition: rewritten };
    }),
  };
}
