/** What Lambda validates when a function and its event invoke configuration are created or changed. */
import { accountOf, adminUser, regionOf } from "../../../core";
import {
  PLACEHOLDER,
  decide,
  decideOnKey,
  describe,
  functionAt,
  keyName,
  keyOf,
  local,
  roleOf,
  sessionOf,
  type DeployRuleDefinition,
  type RuleContext,
  type RuleOutcome,
} from "../rule-context";

/** lambda:CreateFunction refuses a role Lambda cannot assume ("The role defined for the function cannot be assumed by Lambda"). */
export const lambdaAssumesExecutionRole: DeployRuleDefinition = {
  id: "lambda-assumes-execution-role",
  phase: "create",
  call: "lambda:CreateFunction",
  title: "Lambda may assume the execution role",
  source: "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
  appliesTo: "aws_lambda_function",
  async judge(ctx, address) {
    const fn = functionAt(ctx, address);
    const role = roleOf(ctx, fn);
    const answer = "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda.";
    const roleAddress = local(ctx, role.source);
    if (roleAddress !== undefined && !ctx.existingAt(address).has(roleAddress)) {
      return {
        ok: false,
        detail: `role ${role.name} is not created before the function`,
        answer,
        fix: `reference the role's arn from the function (role = ${role.source.address}.arn)`,
      };
    }
    const decision = await decide(ctx, {
      principal: { kind: "service", service: "lambda.amazonaws.com", sourceAccount: fn.accountId, sourceArn: fn.arn },
      action: "sts:AssumeRole",
      resourceArn: role.arn,
      resourceAccountId: role.accountId,
      resourcePolicy: role.trustPolicy,
      resourcePolicyName: `trust policy of role/${role.name}`,
    });
    const detail = `lambda.amazonaws.com assumes role/${role.name}: ${describe(decision)}`;
    if (decision.allowed) return { ok: true, detail };
    return {
      ok: false,
      detail,
      answer,
      fix: `let Principal {"Service": "lambda.amazonaws.com"} assume role/${role.name} (with aws:SourceAccount ${fn.accountId})`,
    };
  },
};

/**
 * With a VpcConfig, Lambda checks the execution role's network-interface permissions at CreateFunction (and when the
 * VPC configuration changes), for interfaces, subnets and groups that do not exist yet.
 */
export const executionRoleNetworkInterfaces: DeployRuleDefinition = {
  id: "execution-role-network-interfaces",
  phase: "create",
  call: "lambda:CreateFunction (VpcConfig)",
  title: "the execution role allows the network-interface actions in the form Lambda validates, before the function is created",
  source:
    "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html (execution role permissions); hashicorp/terraform-provider-aws#20698",
  appliesTo: "aws_lambda_function",
  async judge(ctx, address) {
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
      const request = { action, resourceArn, resourceAccountId: fn.accountId, region: fn.region };
      const decision = await decide(ctx, { principal, ...request });
      if (decision.allowed) continue;
      // Allowed once every policy of the role exists: then only the order is wrong, not the policy.
      const eventually = await decide(ctx, { principal: sessionOf(ctx, role, new Set(ctx.graph.addresses)), ...request });
      return {
        ok: false,
        detail: `${action} on ${resourceArn === "*" ? "*" : resourceArn.replace(`${ec2}:`, "")} (an id Lambda does not know yet) with the role's policies that exist before the function: ${describe(decision)}`,
        answer: `InvalidParameterValueException: The provided execution role does not have permissions to call ${action.slice("ec2:".length)} on EC2 (the provider retries this for minutes, then fails)`,
        fix: eventually.allowed
          ? `make the function depend on the policy that grants ${action} (${eventually.allowedBy.join(", ")}): it may be created after the function`
          : `grant role/${role.name} ${action} on Resource "*" (Lambda validates it for ids that do not exist yet; limit subnets and groups with lambda:SubnetIds and lambda:SecurityGroupIds on the deployer), in a policy the function depends on`,
      };
    }
    return {
      ok: true,
      detail: `role/${role.name} may create, describe and delete network interfaces for ids Lambda does not know yet, with policies that exist before the function`,
    };
  },
};

/**
 * A function with a customer-managed key: "Lambda uses your permissions to create a grant on the key" (kms:CreateGrant,
 * kms:Encrypt for the deployer), and decrypts the environment for the function through that grant, so the execution
 * role needs no key permission of its own for it.
 */
export const environmentKeyUsable: DeployRuleDefinition = {
  id: "environment-key-usable",
  phase: "create",
  call: "lambda:CreateFunction (KMSKeyArn)",
  title: "the environment's KMS key exists first, and the deployer may grant it to Lambda (kms:CreateGrant, kms:Encrypt)",
  source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html",
  appliesTo: "aws_lambda_function",
  async judge(ctx, address) {
    const fn = functionAt(ctx, address);
    if (fn.kmsKeyArn === undefined) return undefined;
    const key = keyOf(ctx, fn.kmsKeyArn);
    if (!key) return { ok: true, detail: `key ${fn.kmsKeyArn} is not defined by these stacks; not judged` };
    const keyAddress = local(ctx, key.source);
    if (keyAddress !== undefined && !ctx.existingAt(address).has(keyAddress)) {
      return {
        ok: false,
        detail: `key ${keyName(key)} is not created before the function`,
        answer: "InvalidParameterValueException: the KMS key ARN does not exist (KMSNotFoundException)",
        fix: `reference the key's arn from the function (kms_key_arn = ${key.source.address}.arn)`,
      };
    }
    const deployer = adminUser(ctx.model.partition, fn.accountId);
    for (const action of ["kms:CreateGrant", "kms:Encrypt"]) {
      const decision = await decideOnKey(ctx, deployer, action, key);
      if (decision.allowed) continue;
      return {
        ok: false,
        detail: `the account's deployer (AdministratorAccess) ${action} on ${keyName(key)}: ${describe(decision)}`,
        answer:
          "InvalidParameterValueException: Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant",
        fix: `let account ${fn.accountId}'s IAM policies use the key (the key policy's root statement), or grant the deployer ${action} in the key policy`,
      };
    }
    return { ok: true, detail: `the deployer may grant ${keyName(key)} to Lambda (kms:CreateGrant, kms:Encrypt)` };
  },
};

/** CreateFunction from S3 reads the object with the deployer's credentials, and the deployer passes the role. */
export const deployerPassesRoleAndReadsCode: DeployRuleDefinition = {
  id: "deployer-passes-role-and-reads-code",
  phase: "create",
  call: "lambda:CreateFunction (S3Bucket, S3Key)",
  title: "the deployer may pass the execution role, and read the code object through the bucket policy and its key",
  source:
    "https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html; https://docs.aws.amazon.com/lambda/latest/api/API_FunctionCode.html",
  appliesTo: "aws_lambda_function",
  async judge(ctx, address) {
    const bucketName = ctx.argument(address, "s3_bucket");
    const objectKey = ctx.argument(address, "s3_key");
    if (typeof bucketName !== "string" || typeof objectKey !== "string") return undefined;
    const fn = functionAt(ctx, address);
    const role = roleOf(ctx, fn);
    const deployer = adminUser(ctx.model.partition, fn.accountId);
    const pass = await decide(ctx, {
      principal: deployer,
      action: "iam:PassRole",
      resourceArn: role.arn,
      resourceAccountId: role.accountId,
      context: { "iam:PassedToService": "lambda.amazonaws.com" },
    });
    if (!pass.allowed) {
      return {
        ok: false,
        detail: `iam:PassRole on role/${role.name}: ${describe(pass)}`,
        answer: `AccessDeniedException: User: ${deployer.arn} is not authorized to perform: iam:PassRole on resource: ${role.arn}`,
        fix: "grant the deployer iam:PassRole on the execution role with iam:PassedToService lambda.amazonaws.com",
      };
    }
    const bucket = ctx.model.buckets.get(bucketName);
    const read = await decide(ctx, {
      principal: deployer,
      action: "s3:GetObject",
      resourceArn: `arn:${ctx.model.partition}:s3:::${bucketName}/${objectKey}`,
      resourceAccountId: bucket?.accountId ?? fn.accountId,
      ...(bucket?.policy ? { resourcePolicy: bucket.policy, resourcePolicyName: `bucket policy of ${bucketName}` } : {}),
      region: fn.region,
    });
    if (!read.allowed) {
      return {
        ok: false,
        detail: `s3:GetObject on s3://${bucketName}/${objectKey} over TLS: ${describe(read)}`,
        answer:
          "InvalidParameterValueException: Error occurred while GetObject. S3 Error Code: AccessDenied. S3 Error Message: Access Denied",
        fix: `let the deployer of account ${fn.accountId} read the code objects (the bucket policy must not deny a TLS GetObject)`,
      };
    }
    const key = bucket?.kmsKeyArn ? keyOf(ctx, bucket.kmsKeyArn) : undefined;
    if (key) {
      const decrypt = await decideOnKey(ctx, deployer, "kms:Decrypt", key, {
        "kms:ViaService": `s3.${key.region}.amazonaws.com`,
        "kms:CallerAccount": fn.accountId,
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
    return {
      ok: true,
      detail: `the deployer may pass role/${role.name} and read s3://${bucketName}/${objectKey}${key ? ` through ${keyName(key)}` : ""}`,
    };
  },
};

/** The function behind an event invoke configuration, and its SQS on-failure destination. */
function asyncDestination(ctx: RuleContext, address: string) {
  const functionAddress = ctx.referencedBy(address, "function_name").find((a) => a.startsWith("aws_lambda_function."));
  const destination = ctx.argument(address, "destination_config.on_failure.destination");
  if (functionAddress === undefined || typeof destination !== "string") return undefined;
  const role = roleOf(ctx, functionAt(ctx, functionAddress));
  return { role, destination, principal: sessionOf(ctx, role, ctx.existingAt(address)) };
}

/** Lambda validates the execution role's permission on a destination when the event invoke configuration is put. */
export const asyncDestinationPermissions: DeployRuleDefinition = {
  id: "async-destination-permissions",
  phase: "create",
  call: "lambda:PutFunctionEventInvokeConfig",
  title: "the execution role may send to the on-failure destination, before the configuration is created",
  source: "https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (destination permissions)",
  appliesTo: "aws_lambda_function_event_invoke_config",
  async judge(ctx, address) {
    const target = asyncDestination(ctx, address);
    if (!target) return undefined;
    const { role, destination, principal } = target;
    if (!destination.includes(":sqs:")) return { ok: true, detail: `destination ${destination} is not an SQS queue; not judged` };
    const send = await decide(ctx, {
      principal,
      action: "sqs:SendMessage",
      resourceArn: destination,
      resourceAccountId: accountOf(destination),
      region: regionOf(destination),
    });
    if (send.allowed) return { ok: true, detail: `role/${role.name} may send to ${destination}` };
    return {
      ok: false,
      detail: `role/${role.name} sqs:SendMessage on ${destination} with the policies that exist before the configuration: ${describe(send)}`,
      // Confirmed for SNS in the provider's source (Publish); the SQS wording is assumed to follow it.
      answer: `InvalidParameterValueException: The function's execution role does not have permissions to call SendMessage on ${destination}`,
      fix: `grant role/${role.name} sqs:SendMessage on the queue in a policy the event invoke configuration depends on`,
    };
  },
};

/**
 * Not refused at deploy time, but the first failed event is lost: Lambda sends to an SSE-KMS queue with the execution
 * role, which then needs kms:GenerateDataKey and kms:Decrypt on the queue's key.
 */
export const asyncDestinationKeyUsable: DeployRuleDefinition = {
  id: "async-destination-key-usable",
  phase: "run",
  call: "sqs:SendMessage (Lambda, for a failed event)",
  title: "the execution role may use the on-failure queue's KMS key",
  source: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html",
  appliesTo: "aws_lambda_function_event_invoke_config",
  async judge(ctx, address) {
    const target = asyncDestination(ctx, address);
    if (!target) return undefined;
    const { role, principal } = target;
    const queueAddress = ctx.referencedBy(address, "destination_config").find((a) => a.startsWith("aws_sqs_queue."));
    const queueKeyArn = queueAddress ? ctx.argument(queueAddress, "kms_master_key_id") : undefined;
    const key = typeof queueKeyArn === "string" ? keyOf(ctx, queueKeyArn) : undefined;
    if (!key) return undefined;
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
      const decision = await decideOnKey(ctx, principal, action, key);
      if (decision.allowed) continue;
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
    return { ok: true, detail: `role/${role.name} may use ${keyName(key)}, the queue's key` } satisfies RuleOutcome;
  },
};
