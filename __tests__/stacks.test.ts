import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { namesFor } from "../config/names";
import { KMS_ALIAS_NAME, kmsAliasName } from "../constructs/kms-alias-name";
import { CALLEE_OUTPUT, CALLER_OUTPUT } from "../stacks/outputs";
import { allPolicies, allResources, asList, config, Json, onlyResource, Policy, resourcesOf, statement, synthAll } from "./support/synth";

const names = namesFor(config());
const { stacks, bootstrap, callee, caller } = synthAll();
const parsed = { callee: JSON.parse(callee), caller: JSON.parse(caller), bootstrap: JSON.parse(bootstrap) };

/** Places where AWS leaves no choice but Resource "*", each with its reason. */
const AWS_REQUIRED_RESOURCE_WILDCARDS: Record<string, string> = {
  CreateAndDescribeNetworkInterfaces:
    "Lambda validates ec2:CreateNetworkInterface at CreateFunction for interfaces, subnets and groups that do not exist yet; the Describe actions support no resource-level permissions (Lambda guide, configuration-vpc; hashicorp/terraform-provider-aws#20698)",
  WriteTraces: "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions",
};
const isKeyPolicy = (where: string) => where.startsWith("aws_kms_key.");

/** The function's own security group (a caller stack also has its endpoints' group). */
function functionSecurityGroup(synth: string): Json {
  const groups = Object.values(resourcesOf(synth, "aws_security_group")).filter((g) => !String(g.name).endsWith("-endpoints"));
  if (groups.length !== 1) throw new Error(`expected one function security group, found ${groups.length}`);
  return groups[0];
}

describe.each([
  ["callee", callee, "222222222222"],
  ["caller", caller, "111111111111"],
] as const)("the %s stack's provider and state", (side, synth, accountId) => {
  const json = parsed[side];

  it("has exactly one AWS provider, aliased to its side and bound to its account", () => {
    expect(json.provider.aws).toHaveLength(1);
    expect(synth).toHaveProviderWithProperties(
      { tfResourceType: "aws" },
      { alias: side, allowed_account_ids: [accountId], region: "eu-west-1" },
    );
    expect(json.provider.aws[0].default_tags[0].tags).toEqual({
      Project: "cross-account-lambda",
      Environment: "demo",
      Side: side,
      ManagedBy: "cdktf",
    });
  });

  it("binds every resource to that provider explicitly", () => {
    const resources = allResources(synth);
    expect(resources.length).toBeGreaterThan(15);
    for (const r of resources) expect(`${r.type}.${r.id}:${r.body.provider}`).toBe(`${r.type}.${r.id}:aws.${side}`);
  });

  it("keeps its state in its own key of the S3 bucket, encrypted, with S3-native locking", () => {
    expect(json.terraform.backend.s3).toEqual({
      bucket: "xacct-demo-tfstate-111111111111",
      key: `cross-account-lambda/${side}.tfstate`,
      region: "eu-west-1",
      encrypt: true,
      use_lockfile: true,
    });
  });

  it("pins the AWS provider", () => {
    expect(json.terraform.required_providers.aws.version).toBe("6.25.0");
  });
});

describe("provider access settings", () => {
  it("assumes the configured deploy role, or uses the configured profile", () => {
    const s = synthAll({
      calleeDeployRoleArn: "arn:aws:iam::222222222222:role/deployer",
      callerProfile: "account-a",
      stateKmsKeyArn: "arn:aws:kms:eu-west-1:111111111111:key/0b1c2d3e-0000-4000-8000-000000000000",
    });
    const calleeJson = JSON.parse(s.callee);
    const callerJson = JSON.parse(s.caller);
    expect(calleeJson.provider.aws[0].assume_role).toEqual([
      { role_arn: "arn:aws:iam::222222222222:role/deployer", session_name: "cdktf-xacct-callee" },
    ]);
    expect(calleeJson.provider.aws[0].profile).toBeUndefined();
    expect(callerJson.provider.aws[0].profile).toBe("account-a");
    expect(callerJson.terraform.backend.s3.profile).toBe("account-a");
    expect(calleeJson.terraform.backend.s3.assume_role).toEqual({
      role_arn: "arn:aws:iam::222222222222:role/deployer",
      session_name: "cdktf-xacct-callee",
    });
    expect(callerJson.terraform.backend.s3.kms_key_id).toBe("arn:aws:kms:eu-west-1:111111111111:key/0b1c2d3e-0000-4000-8000-000000000000");
  });
});

describe.each([
  ["callee", callee, "222222222222", names.calleeFunctionName, names.calleeRoleName, 10],
  ["caller", caller, "111111111111", names.callerFunctionName, names.callerRoleName, 30],
] as const)("the %s function", (side, synth, accountId, functionName, roleName, timeout) => {
  const fn = onlyResource(synth, "aws_lambda_function");
  const keyId = Object.entries(resourcesOf(synth, "aws_kms_key")).find(([, k]) => k.description.includes(functionName))![0];
  const logGroupArn = `arn:aws:logs:eu-west-1:${accountId}:log-group:/aws/lambda/${functionName}`;

  it("runs Node.js 22 on arm64 in the given VPC with tracing, JSON logs and an encrypted environment", () => {
    const sgId = Object.keys(resourcesOf(synth, "aws_security_group"))[0];
    expect(fn).toMatchObject({
      function_name: functionName,
      runtime: "nodejs22.x",
      handler: "index.handler",
      architectures: ["arm64"],
      memory_size: 256,
      timeout,
      tracing_config: { mode: "Active" },
      kms_key_arn: `\${aws_kms_key.${keyId}.arn}`,
      vpc_config: {
        subnet_ids:
          side === "caller"
            ? ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"]
            : ["subnet-0b1b1b1b1b1b1b1b1", "subnet-0b2b2b2b2b2b2b2b2"],
        security_group_ids: [`\${aws_security_group.${sgId}.id}`],
      },
    });
    expect(fn.logging_config).toMatchObject({
      log_format: "JSON",
      log_group: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\..+\.name\}$/),
    });
  });

  it("reserves no concurrency unless configured (a new account's quota of 10 leaves none to reserve)", () => {
    expect(fn).not.toHaveProperty("reserved_concurrent_executions");
    const key = side === "caller" ? "callerReservedConcurrency" : "calleeReservedConcurrency";
    const reserved = onlyResource(synthAll({ [key]: 25 })[side], "aws_lambda_function");
    expect(reserved.reserved_concurrent_executions).toBe(25);
  });

  it("takes its code from its KMS-encrypted bucket under a content-addressed key, with a matching source_code_hash", () => {
    const object = onlyResource(synth, "aws_s3_object");
    expect(object.source).toMatch(/^assets\/.+\/function\.zip$/);
    const built = fs.readFileSync(path.join(__dirname, "..", "build", side, "function.zip"));
    const sha = crypto.createHash("sha256").update(built);
    const hex = sha.copy().digest("hex");
    expect(object.key).toBe(`functions/${side}/${hex}.zip`);
    expect(object.server_side_encryption).toBe("aws:kms");
    const bucketKey = Object.entries(resourcesOf(synth, "aws_kms_key")).find(([, k]) => k.description.includes("s3://"))![0];
    expect(object.kms_key_id).toBe(`\${aws_kms_key.${bucketKey}.arn}`);
    expect(fn.s3_key).toBe(`\${aws_s3_object.${Object.keys(resourcesOf(synth, "aws_s3_object"))[0]}.key}`);
    expect(fn.source_code_hash).toBe(sha.digest("base64"));
  });

  it("writes to its own log group, kept for the configured days and encrypted with its key", () => {
    expect(synth).toHaveResourceWithProperties(
      { tfResourceType: "aws_cloudwatch_log_group" },
      { name: `/aws/lambda/${functionName}`, retention_in_days: 365, kms_key_id: `\${aws_kms_key.${keyId}.arn}` },
    );
    const keyPolicy: Policy = JSON.parse(resourcesOf(synth, "aws_kms_key")[keyId].policy);
    expect(statement(keyPolicy, "AllowCloudWatchLogsForOwnLogGroupOnly")).toMatchObject({
      Principal: { Service: "logs.eu-west-1.amazonaws.com" },
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroupArn } },
    });
  });

  it("has a security group with no ingress and no CIDR egress (the caller: HTTPS to its VPC endpoints only; the callee: nothing)", () => {
    const sg = functionSecurityGroup(synth);
    expect(sg.ingress).toEqual([]);
    expect(JSON.stringify(sg)).not.toContain("cidr_blocks");
    expect(sg.vpc_id).toBe(side === "caller" ? "vpc-0a1a1a1a1a1a1a1a1" : "vpc-0b1b1b1b1b1b1b1b1");
    if (side === "callee") {
      expect(sg.egress).toEqual([]);
      expect(resourcesOf(synth, "aws_vpc_security_group_egress_rule")).toEqual({});
    } else {
      expect(sg.egress).toBeUndefined();
      const [rule] = Object.values(resourcesOf(synth, "aws_vpc_security_group_egress_rule"));
      expect(Object.keys(resourcesOf(synth, "aws_vpc_security_group_egress_rule"))).toHaveLength(1);
      expect(rule).toMatchObject({ ip_protocol: "tcp", from_port: 443, to_port: 443 });
      expect(rule.referenced_security_group_id).toMatch(/^\$\{aws_security_group\.endpoints_sg_\w+\.id\}$/);
      expect(rule.cidr_ipv4).toBeUndefined();
    }
  });

  it("has an execution role only Lambda in its own account can assume", () => {
    const role = Object.values(resourcesOf(synth, "aws_iam_role")).find((r) => r.name === roleName)!;
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      {
        Sid: "LambdaInOwnAccountOnly",
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      },
    ]);
  });

  it("lets the execution role write its own logs, attach to its VPC, trace, and use its own key and queue only", () => {
    const policy: Policy = JSON.parse(Object.values(resourcesOf(synth, "aws_iam_role_policy")).find((p) => p.name === "execution")!.policy);
    expect(statement(policy, "WriteOwnLogGroupOnly")).toMatchObject({
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${logGroupArn}:log-stream:*`,
    });
    expect(policy.Statement.flatMap((s) => asList(s.Action)).filter((a) => a.startsWith("ec2:"))).toEqual([]);
    expect(statement(policy, "UseOwnKeyForEnvironmentAndFailedEvents").Resource).toBe(`\${aws_kms_key.${keyId}.arn}`);
    expect(statement(policy, "SendFailedAsyncEventsToOwnQueue").Resource).toMatch(/^\$\{aws_sqs_queue\..+\.arn\}$/);
    expect(policy.Statement.flatMap((s) => asList(s.Action)).some((a) => a.startsWith("logs:CreateLogGroup"))).toBe(false);
  });

  it("grants the network-interface actions in the shape Lambda validates at CreateFunction, in a policy of their own", () => {
    const [id, body] = Object.entries(resourcesOf(synth, "aws_iam_role_policy")).find(([, p]) => p.name === "network-interfaces")!;
    const policy: Policy = JSON.parse(body.policy);
    // Lambda checks these before any subnet, group or interface id exists: scoped ARNs are refused at CreateFunction.
    expect(policy.Statement).toEqual([
      {
        Sid: "CreateAndDescribeNetworkInterfaces",
        Effect: "Allow",
        Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
        Resource: "*",
      },
      {
        // All resource ids, in its own account and region only (the guide's arn:...:*/*).
        Sid: "ManageNetworkInterfacesInOwnAccountAndRegion",
        Effect: "Allow",
        Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
        Resource: `arn:aws:ec2:eu-west-1:${accountId}:*`,
      },
    ]);
    expect(fn.depends_on).toContain(`aws_iam_role_policy.${id}`);
  });

  it("destroys its security group before the network-interface permissions Lambda needs to delete its interfaces", () => {
    const policyId = Object.entries(resourcesOf(synth, "aws_iam_role_policy")).find(([, p]) => p.name === "network-interfaces")![0];
    expect(functionSecurityGroup(synth).depends_on).toEqual([`aws_iam_role_policy.${policyId}`]);
  });

  it("sends failed asynchronous invocations to its encrypted queue", () => {
    const queueId = Object.keys(resourcesOf(synth, "aws_sqs_queue"))[0];
    expect(onlyResource(synth, "aws_sqs_queue").kms_master_key_id).toBe(`\${aws_kms_key.${keyId}.arn}`);
    expect(onlyResource(synth, "aws_lambda_function_event_invoke_config").destination_config).toEqual({
      on_failure: { destination: `\${aws_sqs_queue.${queueId}.arn}` },
    });
  });
});

describe("the callee stack", () => {
  const trust: Policy = JSON.parse(
    Object.values(resourcesOf(callee, "aws_iam_role")).find((r) => r.name === names.invokerRoleName)!.assume_role_policy,
  );

  it("trusts exactly the caller's execution role, by the name the caller stack gives it", () => {
    const callerRoleName = Object.values(resourcesOf(caller, "aws_iam_role"))[0].name;
    expect(statement(trust, "CallerFunctionRoleOnly").Condition).toEqual({
      ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::111111111111:role/${callerRoleName}` },
    });
    expect(trust.Statement).toHaveLength(1);
  });

  it("adds sts:ExternalId and aws:PrincipalOrgID to the trust when configured", () => {
    const s = synthAll({ externalId: "shared-secret-value", organizationId: "o-abcdefghij" });
    const t: Policy = JSON.parse(
      Object.values(resourcesOf(s.callee, "aws_iam_role")).find((r) => r.name === names.invokerRoleName)!.assume_role_policy,
    );
    expect(statement(t, "CallerFunctionRoleOnly").Condition!.StringEquals).toEqual({
      "sts:ExternalId": "shared-secret-value",
      "aws:PrincipalOrgID": "o-abcdefghij",
    });
    const outputs = JSON.parse(s.callee).output;
    expect(outputs[CALLEE_OUTPUT.externalIdRequired].value).toBe(true);
    expect(JSON.stringify(outputs)).not.toContain("shared-secret-value");
    const callerFn = onlyResource(s.caller, "aws_lambda_function");
    expect(callerFn.environment.variables.INVOKER_EXTERNAL_ID).toBe("shared-secret-value");
  });

  it("grants the invoker role lambda:InvokeFunction on the callee's live alias and nothing else (not $LATEST, not a version)", () => {
    const aliasId = Object.keys(resourcesOf(callee, "aws_lambda_alias"))[0];
    const invoke = Object.values(resourcesOf(callee, "aws_iam_role_policy")).find((p) => p.name === "invoke-callee-only")!;
    expect(JSON.parse(invoke.policy).Statement).toEqual([
      {
        Sid: "InvokeCalleeFunctionOnly",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: `\${aws_lambda_alias.${aliasId}.arn}`,
      },
    ]);
  });

  it("publishes a version on every change and points the alias live at it", () => {
    const [fnId, fn] = Object.entries(resourcesOf(callee, "aws_lambda_function"))[0];
    expect(fn.publish).toBe(true);
    expect(onlyResource(callee, "aws_lambda_alias")).toMatchObject({
      name: "live",
      function_name: `\${aws_lambda_function.${fnId}.function_name}`,
      function_version: `\${aws_lambda_function.${fnId}.version}`,
      provider: "aws.callee",
    });
    expect(parsed.callee.output[CALLEE_OUTPUT.aliasArn].value).toMatch(/^\$\{aws_lambda_alias\.[\w-]+\.arn\}$/);
  });

  it("configures asynchronous invocation for the alias the callers invoke (the settings are per qualifier)", () => {
    const aliasId = Object.keys(resourcesOf(callee, "aws_lambda_alias"))[0];
    expect(onlyResource(callee, "aws_lambda_function_event_invoke_config").qualifier).toBe(`\${aws_lambda_alias.${aliasId}.name}`);
    expect(onlyResource(caller, "aws_lambda_function_event_invoke_config").qualifier).toBeUndefined();
    expect(resourcesOf(caller, "aws_lambda_alias")).toEqual({});
  });

  it("gives the callee no resource policy, so only IAM principals of account B can invoke it", () => {
    expect(resourcesOf(callee, "aws_lambda_permission")).toEqual({});
  });

  it("outputs the function, the invoker role and whether an external id is required, never the id (no idempotency table by default)", () => {
    const { idempotencyTable: _onlyWithIdempotency, ...always } = CALLEE_OUTPUT;
    expect(Object.keys(parsed.callee.output).sort()).toEqual(Object.values(always).sort());
    expect(parsed.callee.output[CALLEE_OUTPUT.externalIdRequired].value).toBe(false);
  });
});

describe("the caller stack", () => {
  const remote = parsed.caller.data.terraform_remote_state;
  const remoteId = Object.keys(remote)[0];

  it("reads the callee's outputs from exactly the key the callee stack writes", () => {
    expect(Object.keys(remote)).toHaveLength(1);
    expect(remote[remoteId].backend).toBe("s3");
    expect(remote[remoteId].config.key).toBe(parsed.callee.terraform.backend.s3.key);
    expect(remote[remoteId].config.bucket).toBe(parsed.callee.terraform.backend.s3.bucket);
    expect(remote[remoteId].config.region).toBe(parsed.callee.terraform.backend.s3.region);
  });

  it("consumes only outputs the callee stack really has (a rename on one side fails here)", () => {
    const consumed = new Set([...caller.matchAll(/data\.terraform_remote_state\.[\w-]+\.outputs\.(\w+)/g)].map((m) => m[1]));
    expect(consumed.size).toBeGreaterThanOrEqual(3);
    for (const name of consumed) expect(Object.keys(parsed.callee.output)).toContain(name);
  });

  it("tells the caller function the callee's alias ARN and the invoker role's ARN from that state", () => {
    const env = onlyResource(caller, "aws_lambda_function").environment.variables;
    expect(env.CALLEE_FUNCTION_ARN).toBe(`\${data.terraform_remote_state.${remoteId}.outputs.${CALLEE_OUTPUT.aliasArn}}`);
    expect(env.INVOKER_ROLE_ARN).toBe(`\${data.terraform_remote_state.${remoteId}.outputs.${CALLEE_OUTPUT.invokerRoleArn}}`);
    expect(env.INVOKER_EXTERNAL_ID).toBeUndefined();
  });

  it("may assume the invoker role and reach nothing else in account B", () => {
    const assume = Object.values(resourcesOf(caller, "aws_iam_role_policy")).find((p) => p.name === "assume-callee-invoker-role-only")!;
    expect(JSON.parse(assume.policy).Statement).toEqual([
      {
        Sid: "AssumeCalleeInvokerRoleOnly",
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: `\${data.terraform_remote_state.${remoteId}.outputs.${CALLEE_OUTPUT.invokerRoleArn}}`,
      },
    ]);
    // Endpoint policies only narrow what passes the endpoint; they grant nothing (tested in "the caller's VPC endpoints").
    for (const { where, policy } of allPolicies(caller).filter((p) => !p.where.startsWith("aws_vpc_endpoint.")))
      expect(`${where}: ${JSON.stringify(policy)}`).not.toContain("222222222222");
  });

  it("stops the plan when the state it reads is not the configured callee", () => {
    const assume = Object.values(resourcesOf(caller, "aws_iam_role_policy")).find((p) => p.name === "assume-callee-invoker-role-only")!;
    const conditions = assume.lifecycle.precondition.map((p: Json) => p.condition);
    expect(conditions).toContain(`\${data.terraform_remote_state.${remoteId}.outputs.invoker_role_arn == "${names.invokerRoleArn}"}`);
    expect(conditions).toContain(
      `\${data.terraform_remote_state.${remoteId}.outputs.callee_alias_arn == "arn:aws:lambda:eu-west-1:222222222222:function:${names.calleeFunctionName}:live"}`,
    );
  });

  it("is deployed after the callee, whatever order the stacks are named in", () => {
    expect(stacks.caller.dependencies).toContain(stacks.callee);
  });

  it("outputs the caller function and its execution role", () => {
    expect(Object.keys(parsed.caller.output).sort()).toEqual(Object.values(CALLER_OUTPUT).sort());
  });
});

describe("the caller's VPC endpoints (vpcEndpoints 'create', the default)", () => {
  const endpoints = resourcesOf(caller, "aws_vpc_endpoint");
  const byService = (service: string) => Object.values(endpoints).find((e) => e.service_name === `com.amazonaws.eu-west-1.${service}`)!;
  const endpointGroup = Object.values(resourcesOf(caller, "aws_security_group")).find(
    (g) => g.name === `${names.callerFunctionName}-endpoints`,
  )!;
  const groupId = Object.entries(resourcesOf(caller, "aws_security_group")).find(([, g]) => g.name === endpointGroup.name)![0];
  const fnGroupId = Object.entries(resourcesOf(caller, "aws_security_group")).find(([, g]) => g.name !== endpointGroup.name)![0];

  it("creates interface endpoints for STS and Lambda only, with private DNS, in the function's subnets, behind their own group", () => {
    expect(
      Object.values(endpoints)
        .map((e) => e.service_name)
        .sort(),
    ).toEqual(["com.amazonaws.eu-west-1.lambda", "com.amazonaws.eu-west-1.sts"]);
    for (const e of Object.values(endpoints)) {
      expect(e).toMatchObject({
        vpc_endpoint_type: "Interface",
        private_dns_enabled: true,
        vpc_id: "vpc-0a1a1a1a1a1a1a1a1",
        subnet_ids: ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"],
        security_group_ids: [`\${aws_security_group.${groupId}.id}`],
        provider: "aws.caller",
      });
    }
    expect(resourcesOf(callee, "aws_vpc_endpoint")).toEqual({});
  });

  it("admits TCP 443 to the endpoints from the function's group only, and has no inline rule nor egress", () => {
    expect(endpointGroup.ingress).toBeUndefined();
    expect(endpointGroup.egress).toBeUndefined();
    expect(Object.values(resourcesOf(caller, "aws_vpc_security_group_ingress_rule"))).toEqual([
      expect.objectContaining({
        security_group_id: `\${aws_security_group.${groupId}.id}`,
        referenced_security_group_id: `\${aws_security_group.${fnGroupId}.id}`,
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
      }),
    ]);
  });

  it("lets through the STS endpoint only the caller's role assuming its own invoker role, and through Lambda only that role invoking the alias", () => {
    expect(JSON.parse(byService("sts").policy).Statement).toEqual([
      {
        Sid: "CallerRoleAssumesItsInvokerRoleOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "sts:AssumeRole",
        Resource: names.invokerRoleArn,
        Condition: { ArnEquals: { "aws:PrincipalArn": names.callerRoleArn } },
      },
    ]);
    expect(JSON.parse(byService("lambda").policy).Statement).toEqual([
      {
        Sid: "InvokerRoleInvokesCalleeAliasOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "lambda:InvokeFunction",
        Resource: `arn:aws:lambda:eu-west-1:222222222222:function:${names.calleeFunctionName}:live`,
        Condition: { ArnEquals: { "aws:PrincipalArn": names.invokerRoleArn } },
      },
    ]);
  });

  it("adds aws:PrincipalOrgID to both endpoint policies when an organisation is configured", () => {
    const s = synthAll({ organizationId: "o-abcdefghij" });
    for (const e of Object.values(resourcesOf(s.caller, "aws_vpc_endpoint"))) {
      expect(JSON.parse(e.policy).Statement[0].Condition.StringEquals).toEqual({ "aws:PrincipalOrgID": "o-abcdefghij" });
    }
  });

  it("outputs the endpoints' security group, for another caller in the same VPC", () => {
    expect(parsed.caller.output[CALLER_OUTPUT.endpointSecurityGroupId].value).toBe(`\${aws_security_group.${groupId}.id}`);
  });
});

describe.each([
  ["none", { callerVpcEndpoints: "none", calleeVpcEndpoints: "none" }],
  [
    "existing",
    {
      callerVpcEndpoints: "existing",
      callerEndpointSecurityGroupIds: ["sg-0e1e1e1e1e1e1e1e1"],
      callerEndpointPrefixListIds: ["pl-0f1f1f1f1f1f1f1f1"],
      calleeVpcEndpoints: "existing",
      calleeEndpointSecurityGroupIds: ["sg-0e2e2e2e2e2e2e2e2"],
    },
  ],
] as const)("vpcEndpoints '%s'", (mode, overrides) => {
  const s = synthAll(overrides as Parameters<typeof synthAll>[0]);

  it("creates no endpoint and no endpoint security group", () => {
    for (const stack of [s.caller, s.callee]) {
      expect(resourcesOf(stack, "aws_vpc_endpoint")).toEqual({});
      expect(Object.keys(resourcesOf(stack, "aws_security_group"))).toHaveLength(1);
      expect(JSON.parse(stack).output[CALLER_OUTPUT.endpointSecurityGroupId]).toBeUndefined();
    }
  });

  it(
    mode === "none"
      ? "allows egress TCP 443 to egressCidrBlocks, inline"
      : "allows egress TCP 443 to the given endpoint groups and prefix lists only",
    () => {
      const callerGroup = functionSecurityGroup(s.caller);
      const rules = Object.values(resourcesOf(s.caller, "aws_vpc_security_group_egress_rule"));
      if (mode === "none") {
        expect(callerGroup.egress).toEqual([
          expect.objectContaining({ protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"] }),
        ]);
        expect(functionSecurityGroup(s.callee).egress).toEqual([expect.objectContaining({ cidr_blocks: ["0.0.0.0/0"] })]);
        expect(rules).toEqual([]);
      } else {
        expect(callerGroup.egress).toBeUndefined();
        expect(rules.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.referenced_security_group_id ?? r.prefix_list_id])).toEqual([
          ["tcp", 443, 443, "sg-0e1e1e1e1e1e1e1e1"],
          ["tcp", 443, 443, "pl-0f1f1f1f1f1f1f1f1"],
        ]);
        expect(
          Object.values(resourcesOf(s.callee, "aws_vpc_security_group_egress_rule")).map((r) => r.referenced_security_group_id),
        ).toEqual(["sg-0e2e2e2e2e2e2e2e2"]);
        expect(JSON.stringify(JSON.parse(s.caller).resource.aws_security_group)).not.toContain("cidr_blocks");
      }
    },
  );
});

describe("the idempotent callee (calleeIdempotency)", () => {
  const ROUTE_TABLES = ["rtb-0b1b1b1b1b1b1b1b1", "rtb-0b2b2b2b2b2b2b2b2"];
  const ITEM_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];
  const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:222222222222:table/${names.calleeIdempotencyTable}`;
  const idem = synthAll({ calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES });
  const idemJson = JSON.parse(idem.callee);
  const idOf = (synth: string, type: string, match: (body: Json) => boolean) => {
    const ids = Object.entries(resourcesOf(synth, type))
      .filter(([, body]) => match(body))
      .map(([id]) => id);
    if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
    return ids[0];
  };
  const functionKeyId = (synth: string) => idOf(synth, "aws_kms_key", (k) => k.description.includes(names.calleeFunctionName));
  const bucketKeyId = (synth: string) => idOf(synth, "aws_kms_key", (k) => k.description.includes("s3://"));
  const env = (synth: string): Record<string, string> => onlyResource(synth, "aws_lambda_function").environment.variables;
  const egressRules = (synth: string) => Object.values(resourcesOf(synth, "aws_vpc_security_group_egress_rule"));
  const idempotencyPolicy = (synth: string) =>
    Object.values(resourcesOf(synth, "aws_iam_role_policy")).filter((p) => p.name === "idempotency-table");
  const withoutMetadata = ({ "//": _metadata, ...body }: Json) => body;

  describe("off by default", () => {
    it("has no table, no gateway endpoint, no table policy and no output in any stack", () => {
      for (const synth of [bootstrap, callee, caller]) {
        expect(resourcesOf(synth, "aws_dynamodb_table")).toEqual({});
        expect(Object.values(resourcesOf(synth, "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type !== "Interface")).toEqual([]);
        expect(idempotencyPolicy(synth)).toEqual([]);
        expect(synth).not.toContain("dynamodb");
      }
      expect(parsed.callee.output[CALLEE_OUTPUT.idempotencyTable]).toBeUndefined();
    });

    it("gives the callee no IDEMPOTENCY_* variable", () => {
      expect(Object.keys(env(callee)).filter((k) => k.startsWith("IDEMPOTENCY_"))).toEqual([]);
      expect(Object.keys(env(callee))).toEqual(["POWERTOOLS_SERVICE_NAME"]);
    });

    it("keeps the callee's explicit empty egress (it calls nothing), with no egress rule", () => {
      expect(functionSecurityGroup(callee).egress).toEqual([]);
      expect(egressRules(callee)).toEqual([]);
    });

    it("is off with calleeIdempotency false too", () => {
      const off = synthAll({ calleeIdempotency: false });
      expect(off.callee).toBe(callee);
    });
  });

  describe("with vpcEndpoints 'create' (examples/idempotent-callee.json)", () => {
    const tableId = () => Object.keys(resourcesOf(idem.callee, "aws_dynamodb_table"))[0];
    const endpointId = () => Object.keys(resourcesOf(idem.callee, "aws_vpc_endpoint"))[0];
    const endpointPolicy = (synth: string): Policy => JSON.parse(onlyResource(synth, "aws_vpc_endpoint").policy);

    it("is what the example configures", () => {
      const example = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "examples", "idempotent-callee.json"), "utf8"));
      expect(example).toEqual({ calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES });
    });

    it("creates exactly one table, in account B only: on demand, TTL on expiration, point-in-time recovery, the callee function's key, no deletion protection", () => {
      expect(Object.keys(resourcesOf(idem.callee, "aws_dynamodb_table"))).toHaveLength(1);
      expect(withoutMetadata(onlyResource(idem.callee, "aws_dynamodb_table"))).toEqual({
        name: names.calleeIdempotencyTable,
        billing_mode: "PAY_PER_REQUEST",
        hash_key: "id",
        attribute: [{ name: "id", type: "S" }],
        ttl: { attribute_name: "expiration", enabled: true },
        point_in_time_recovery: { enabled: true },
        server_side_encryption: { enabled: true, kms_key_arn: `\${aws_kms_key.${functionKeyId(idem.callee)}.arn}` },
        deletion_protection_enabled: false,
        provider: "aws.callee",
      });
      expect(onlyResource(idem.callee, "aws_dynamodb_table").server_side_encryption.kms_key_arn).not.toContain(bucketKeyId(idem.callee));
      expect(resourcesOf(idem.caller, "aws_dynamodb_table")).toEqual({});
      expect(resourcesOf(idem.bootstrap, "aws_dynamodb_table")).toEqual({});
    });

    it("binds every new resource to the callee's provider", () => {
      for (const r of allResources(idem.callee)) expect(`${r.type}.${r.id}:${r.body.provider}`).toBe(`${r.type}.${r.id}:aws.callee`);
    });

    it("lets the callee's role do the four item operations on its table only, and use its key only through DynamoDB in its region", () => {
      const [policy] = idempotencyPolicy(idem.callee);
      expect(idempotencyPolicy(idem.callee)).toHaveLength(1);
      const roleId = idOf(idem.callee, "aws_iam_role", (r) => r.name === names.calleeRoleName);
      expect(policy.role).toBe(`\${aws_iam_role.${roleId}.id}`);
      expect(JSON.parse(policy.policy).Statement).toEqual([
        { Sid: "IdempotencyRecordsInOwnTableOnly", Effect: "Allow", Action: ITEM_ACTIONS, Resource: TABLE_ARN },
        {
          Sid: "OwnKeyThroughDynamoDbOnly",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
          Resource: `\${aws_kms_key.${functionKeyId(idem.callee)}.arn}`,
          Condition: { StringEquals: { "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com" } },
        },
      ]);
    });

    it("grants DynamoDB actions nowhere else (not the invoker role, not the caller)", () => {
      const withDynamoDb = [...allPolicies(idem.callee), ...allPolicies(idem.caller)]
        .filter(({ policy }) => policy.Statement.some((st) => asList(st.Action).some((a) => a.startsWith("dynamodb:"))))
        .map(({ where }) => where.replace(/_[0-9A-F]{8}\./, "."));
      expect(withDynamoDb.sort()).toEqual([
        "aws_iam_role_policy.callee_idempotency-policy.policy",
        "aws_vpc_endpoint.dynamodb-endpoint.policy",
      ]);
    });

    it("adds a DynamoDB gateway endpoint to the configured route tables of the callee's VPC, with no interface settings", () => {
      expect(Object.keys(resourcesOf(idem.callee, "aws_vpc_endpoint"))).toHaveLength(1);
      const endpoint = onlyResource(idem.callee, "aws_vpc_endpoint");
      expect(endpoint).toMatchObject({
        vpc_endpoint_type: "Gateway",
        service_name: "com.amazonaws.eu-west-1.dynamodb",
        vpc_id: "vpc-0b1b1b1b1b1b1b1b1",
        provider: "aws.callee",
      });
      expect(endpoint.route_table_ids).toEqual(ROUTE_TABLES);
      for (const field of ["subnet_ids", "security_group_ids", "private_dns_enabled"]) expect(endpoint).not.toHaveProperty(field);
    });

    it("lets through the endpoint only the callee's role, doing the four item operations on its table", () => {
      expect(endpointPolicy(idem.callee).Statement).toEqual([
        {
          Sid: "CalleeRoleUsesItsIdempotencyTableOnly",
          Effect: "Allow",
          Principal: "*",
          Action: ITEM_ACTIONS,
          Resource: TABLE_ARN,
          Condition: { ArnEquals: { "aws:PrincipalArn": names.calleeRoleArn } },
        },
      ]);
    });

    it("adds aws:PrincipalOrgID to the endpoint policy when an organisation is configured", () => {
      const org = synthAll({ calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, organizationId: "o-abcdefghij" });
      expect(endpointPolicy(org.callee).Statement[0].Condition).toEqual({
        ArnEquals: { "aws:PrincipalArn": names.calleeRoleArn },
        StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" },
      });
    });

    it("gives the callee's security group no ingress, and one egress: TCP 443 to the endpoint's prefix list, no CIDR", () => {
      const group = functionSecurityGroup(idem.callee);
      const groupId = idOf(idem.callee, "aws_security_group", (g) => g.name === names.calleeFunctionName);
      expect(group.ingress).toEqual([]);
      expect(group).not.toHaveProperty("egress");
      expect(egressRules(idem.callee).map(withoutMetadata)).toEqual([
        {
          security_group_id: `\${aws_security_group.${groupId}.id}`,
          description: "HTTPS to dynamodb through its gateway endpoint only",
          ip_protocol: "tcp",
          from_port: 443,
          to_port: 443,
          prefix_list_id: `\${aws_vpc_endpoint.${endpointId()}.prefix_list_id}`,
          provider: "aws.callee",
        },
      ]);
      expect(JSON.stringify(idemJson.resource.aws_security_group)).not.toMatch(/cidr/);
      expect(JSON.stringify(egressRules(idem.callee))).not.toMatch(/cidr/);
    });

    it("tells the callee its table and the default expiry, and a configured expiry", () => {
      expect(env(idem.callee)).toEqual({
        POWERTOOLS_SERVICE_NAME: names.calleeFunctionName,
        IDEMPOTENCY_TABLE_NAME: names.calleeIdempotencyTable,
        IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "3600",
      });
      expect(env(idem.callee).IDEMPOTENCY_TABLE_NAME).toBe(onlyResource(idem.callee, "aws_dynamodb_table").name);
      const custom = synthAll({ calleeIdempotency: true, calleeRouteTableIds: ROUTE_TABLES, calleeIdempotencyExpirySeconds: 86400 });
      expect(env(custom.callee).IDEMPOTENCY_EXPIRES_AFTER_SECONDS).toBe("86400");
    });

    it("outputs the table's name", () => {
      expect(idemJson.output[CALLEE_OUTPUT.idempotencyTable]).toEqual({ value: `\${aws_dynamodb_table.${tableId()}.name}` });
      expect(Object.keys(idemJson.output).sort()).toEqual(Object.values(CALLEE_OUTPUT).sort());
    });
  });

  describe("with vpcEndpoints 'none'", () => {
    const none = synthAll({ calleeIdempotency: true, calleeVpcEndpoints: "none", egressCidrBlocks: ["10.20.0.0/16"] });

    it("creates the table and its policy, and no endpoint", () => {
      expect(Object.keys(resourcesOf(none.callee, "aws_dynamodb_table"))).toHaveLength(1);
      expect(idempotencyPolicy(none.callee)).toHaveLength(1);
      expect(resourcesOf(none.callee, "aws_vpc_endpoint")).toEqual({});
      expect(env(none.callee).IDEMPOTENCY_TABLE_NAME).toBe(names.calleeIdempotencyTable);
    });

    it("allows egress TCP 443 to egressCidrBlocks, inline, and nothing else", () => {
      expect(functionSecurityGroup(none.callee).egress).toEqual([
        expect.objectContaining({ protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["10.20.0.0/16"] }),
      ]);
      expect(egressRules(none.callee)).toEqual([]);
    });
  });

  describe("with vpcEndpoints 'existing'", () => {
    const existing = synthAll({
      calleeIdempotency: true,
      calleeVpcEndpoints: "existing",
      calleeEndpointSecurityGroupIds: ["sg-0e2e2e2e2e2e2e2e2"],
      calleeEndpointPrefixListIds: ["pl-0f2f2f2f2f2f2f2f2"],
    });

    it("creates the table and its policy, and no endpoint", () => {
      expect(Object.keys(resourcesOf(existing.callee, "aws_dynamodb_table"))).toHaveLength(1);
      expect(idempotencyPolicy(existing.callee)).toHaveLength(1);
      expect(resourcesOf(existing.callee, "aws_vpc_endpoint")).toEqual({});
    });

    it("allows egress TCP 443 to the given groups and prefix lists only, no CIDR", () => {
      expect(functionSecurityGroup(existing.callee)).not.toHaveProperty("egress");
      expect(
        egressRules(existing.callee).map((r) => [
          r.ip_protocol,
          r.from_port,
          r.to_port,
          r.referenced_security_group_id ?? r.prefix_list_id,
        ]),
      ).toEqual([
        ["tcp", 443, 443, "sg-0e2e2e2e2e2e2e2e2"],
        ["tcp", 443, 443, "pl-0f2f2f2f2f2f2f2f2"],
      ]);
      expect(JSON.stringify(egressRules(existing.callee))).not.toMatch(/cidr/);
      expect(JSON.stringify(JSON.parse(existing.callee).resource.aws_security_group)).not.toMatch(/cidr/);
    });
  });
});

describe("several callers (examples/three-callers.json)", () => {
  const example = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "examples", "three-callers.json"), "utf8"));
  const three = synthAll({ callers: example.callers, externalId: "shared-secret-value" });
  const calleeJson = JSON.parse(three.callee);
  const invokers = Object.values(resourcesOf(three.callee, "aws_iam_role")).filter((r) => r.name.includes("-invoker-"));

  it("has one stack per caller, named caller-<name>, each after the callee, each with its own state key", () => {
    expect([...three.callers.keys()]).toEqual(["caller-orders", "caller-billing", "caller-reports"]);
    const keys = [...three.callers.values()].map((text) => JSON.parse(text).terraform.backend.s3.key);
    expect(keys).toEqual([
      "cross-account-lambda/caller-orders.tfstate",
      "cross-account-lambda/caller-billing.tfstate",
      "cross-account-lambda/caller-reports.tfstate",
    ]);
    for (const stack of three.stacks.callers) expect(stack.dependencies).toContain(three.stacks.callee);
  });

  it("gives each caller its own invoker role, trusting that caller's execution role only", () => {
    expect(invokers.map((r) => r.name).sort()).toEqual([
      "xacct-demo-invoker-billing",
      "xacct-demo-invoker-orders",
      "xacct-demo-invoker-reports",
    ]);
    for (const role of invokers) {
      const name = role.name.replace("xacct-demo-invoker-", "");
      const account = example.callers.find((c: Json) => c.name === name).accountId;
      const trust: Policy = JSON.parse(role.assume_role_policy);
      expect(trust.Statement).toHaveLength(1);
      expect(trust.Statement[0].Principal).toEqual({ AWS: `arn:aws:iam::${account}:root` });
      expect(trust.Statement[0].Condition).toEqual({
        ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${account}:role/xacct-demo-${name}-exec` },
        StringEquals: { "sts:ExternalId": "shared-secret-value" },
      });
    }
  });

  it("outputs each invoker role keyed by caller name, and each caller reads its own", () => {
    for (const name of ["orders", "billing", "reports"]) {
      expect(calleeJson.output[`invoker_role_arn_${name}`]).toBeDefined();
      const callerJson = JSON.parse(three.callers.get(`caller-${name}`)!);
      const remoteId = Object.keys(callerJson.data.terraform_remote_state)[0];
      const fn = onlyResource(callerJson, "aws_lambda_function");
      expect(fn.function_name).toBe(`xacct-demo-${name}`);
      expect(fn.environment.variables.INVOKER_ROLE_ARN).toBe(
        `\${data.terraform_remote_state.${remoteId}.outputs.invoker_role_arn_${name}}`,
      );
      const assume = Object.values(resourcesOf(callerJson, "aws_iam_role_policy")).find(
        (p) => p.name === "assume-callee-invoker-role-only",
      )!;
      const conditions: string[] = assume.lifecycle.precondition.map((p: Json) => p.condition);
      expect(conditions).toContain(
        `\${data.terraform_remote_state.${remoteId}.outputs.invoker_role_arn_${name} == "arn:aws:iam::222222222222:role/xacct-demo-invoker-${name}"}`,
      );
      expect(JSON.stringify(callerJson)).not.toMatch(new RegExp(`invoker_role_arn_(?!${name}\\b)`));
    }
  });

  it("applies each caller's own settings over the shared defaults", () => {
    const fn = (name: string) => onlyResource(JSON.parse(three.callers.get(`caller-${name}`)!), "aws_lambda_function");
    expect([fn("orders").memory_size, fn("billing").memory_size, fn("reports").memory_size]).toEqual([256, 512, 256]);
    expect([fn("orders").timeout, fn("reports").timeout]).toEqual([30, 60]);
  });

  it("lets a caller in another account than the state bucket's use its own state key and read the callee's, nothing more", () => {
    const bucketPolicy: Policy = JSON.parse(onlyResource(three.bootstrap, "aws_s3_bucket_policy").policy);
    const forReports = bucketPolicy.Statement.filter((st) => JSON.stringify(st.Principal).includes("444444444444"));
    expect(forReports.map((st) => [st.Sid, st.Action, st.Resource])).toEqual([
      ["CallerListsOwnAndCalleeStateOnlyreports", "s3:ListBucket", "arn:aws:s3:::xacct-demo-tfstate-111111111111"],
      [
        "CallerReadsAndWritesOwnStateOnlyreports",
        ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        [
          "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda/caller-reports.tfstate",
          "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda/caller-reports.tfstate.tflock",
        ],
      ],
      ["CallerReadsCalleeStatereports", "s3:GetObject", "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda/callee.tfstate"],
    ]);
    // The callers in the bucket's own account get nothing from the bucket policy: their account's IAM decides.
    expect(JSON.stringify(bucketPolicy)).not.toMatch(/caller-orders|caller-billing|Onlyorders|Onlybilling/);
    const keyPolicy: Policy = JSON.parse(Object.values(resourcesOf(three.bootstrap, "aws_kms_key"))[0].policy);
    expect(statement(keyPolicy, "CallerKeyThroughS3Only" + "reports").Condition).toEqual({
      StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
    });
  });

  it("with a one-entry list the stack is still named caller", () => {
    const one = synthAll({ callers: [example.callers[0]] });
    expect([...one.callers.keys()]).toEqual(["caller"]);
    expect(JSON.parse(one.caller).terraform.backend.s3.key).toBe("cross-account-lambda/caller-orders.tfstate");
  });
});

describe("the bootstrap stack", () => {
  it("keeps its own state locally and creates the KMS-encrypted, versioned, TLS-only state bucket in account A", () => {
    // Outside cdktf.out (which `make clean` and every synth may replace): the project's terraform-state/ folder.
    expect(parsed.bootstrap.terraform.backend.local).toEqual({ path: "../../../terraform-state/bootstrap.tfstate" });
    const projectRoot = path.resolve(__dirname, "..");
    expect(path.resolve(projectRoot, "cdktf.out", "stacks", "bootstrap", parsed.bootstrap.terraform.backend.local.path)).toBe(
      path.join(projectRoot, "terraform-state", "bootstrap.tfstate"),
    );
    const ignored = spawnSync("git", ["check-ignore", "-q", "terraform-state/bootstrap.tfstate"], { cwd: projectRoot });
    expect(ignored.status).toBe(0);
    expect(parsed.bootstrap.provider.aws[0]).toMatchObject({ alias: "bootstrap", allowed_account_ids: ["111111111111"] });
    expect(onlyResource(bootstrap, "aws_s3_bucket").bucket).toBe("xacct-demo-tfstate-111111111111");
    expect(onlyResource(bootstrap, "aws_s3_bucket_versioning").versioning_configuration.status).toBe("Enabled");
    expect(
      onlyResource(bootstrap, "aws_s3_bucket_server_side_encryption_configuration").rule[0].apply_server_side_encryption_by_default
        .sse_algorithm,
    ).toBe("aws:kms");
    expect(onlyResource(bootstrap, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const policy: Policy = JSON.parse(onlyResource(bootstrap, "aws_s3_bucket_policy").policy);
    expect(statement(policy, "DenyInsecureTransport").Effect).toBe("Deny");
  });

  it("lets account B read and write the callee's state key and nothing else", () => {
    const policy: Policy = JSON.parse(onlyResource(bootstrap, "aws_s3_bucket_policy").policy);
    const rw = statement(policy, "CalleeAccountReadsAndWritesOwnStateOnly");
    expect(rw.Principal).toEqual({ AWS: "arn:aws:iam::222222222222:root" });
    expect(rw.Resource).toEqual([
      "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda/callee.tfstate",
      "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda/callee.tfstate.tflock",
    ]);
    expect(statement(policy, "CalleeAccountListsOwnStateOnly").Condition).toEqual({
      StringLike: { "s3:prefix": "cross-account-lambda/callee.tfstate*" },
    });
    const key: Policy = JSON.parse(onlyResource(bootstrap, "aws_kms_key").policy);
    expect(statement(key, "CalleeAccountUsesKeyThroughS3Only").Condition).toEqual({
      StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
    });
  });
});

describe("KMS aliases", () => {
  const dotted = synthAll({ stateBucket: "acme.tfstate.eu-west-1" });

  it.each([
    ["bootstrap", bootstrap],
    ["callee", callee],
    ["caller", caller],
    ["bootstrap with a dotted state bucket", dotted.bootstrap],
  ] as const)("are valid alias names in the %s stack (letters, digits, '/', '_', '-'; not alias/aws/)", (_name, synth) => {
    const aliases = Object.values(resourcesOf(synth, "aws_kms_alias")).map((a) => a.name as string);
    expect(aliases.length).toBeGreaterThan(0);
    for (const alias of aliases) expect(alias).toMatch(KMS_ALIAS_NAME);
  });

  it("are derived from a dotted bucket name by replacing the dots", () => {
    expect(onlyResource(dotted.bootstrap, "aws_kms_alias").name).toBe("alias/acme-tfstate-eu-west-1");
    expect(() => kmsAliasName("aws/x")).toThrow(/cannot derive a valid KMS alias from 'aws\/x'/);
  });
});

const idempotentCallee = synthAll({ calleeIdempotency: true, calleeRouteTableIds: ["rtb-0b1b1b1b1b1b1b1b1"] }).callee;

describe.each([
  ["bootstrap", bootstrap],
  ["callee", callee],
  ["caller", caller],
  ["idempotent callee", idempotentCallee],
] as const)("least privilege across the %s stack", (_name, synth) => {
  const policies = allPolicies(synth);

  it("has policies to check", () => {
    expect(policies.length).toBeGreaterThan(1);
  });

  it('never allows Principal "*" (only in Deny statements of bucket policies, and in endpoint policies narrowed to one role by aws:PrincipalArn)', () => {
    for (const { where, policy } of policies) {
      for (const s of policy.Statement) {
        const principals = s.Principal === "*" ? ["*"] : Object.values(s.Principal ?? {}).flatMap(asList);
        if (!principals.includes("*") || s.Effect === "Deny") continue;
        expect(where).toMatch(/^aws_vpc_endpoint\./);
        const narrowedTo = asList(s.Condition?.ArnEquals?.["aws:PrincipalArn"] as string | string[] | undefined);
        expect(`${where} ${s.Sid}: ${narrowedTo.length}`).toBe(`${where} ${s.Sid}: 1`);
        expect(narrowedTo[0]).toMatch(/^arn:aws:iam::\d{12}:role\/[\w-]+$/);
      }
    }
  });

  it('never allows Action "*"; a service-wide action only in the key policies\' IAM-delegation statement', () => {
    for (const { where, policy } of policies) {
      for (const s of policy.Statement.filter((st) => st.Effect === "Allow")) {
        for (const action of asList(s.Action)) {
          expect(action).not.toBe("*");
          if (action.endsWith(":*")) expect(`${where} ${s.Sid} ${action}`).toBe(`${where} EnableIamPoliciesInOwnAccount kms:*`);
        }
      }
    }
  });

  it('uses Resource "*" only where AWS requires it (key policies, where it means "this key", and the named statements)', () => {
    for (const { where, policy } of policies) {
      for (const s of policy.Statement.filter((st) => st.Effect === "Allow")) {
        if (asList(s.Resource).includes("*") && !isKeyPolicy(where)) {
          expect(Object.keys(AWS_REQUIRED_RESOURCE_WILDCARDS)).toContain(s.Sid);
        }
      }
    }
  });
});
