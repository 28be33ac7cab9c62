import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Construct } from "constructs";
import { TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AccountScope } from "../constructs/account-context";
import { bundleFunction } from "../constructs/bundle";
import { CrossAccountInvokerRole } from "../constructs/cross-account-invoker-role";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { GatewayEndpoint } from "../constructs/gateway-endpoint";
import { IdempotencyTable } from "../constructs/idempotency-table";
import { Authorizer } from "../core/iam/authorize";
import { adminUser } from "../core/iam/principals";
import { PROJECT_ROOT } from "../core/paths";
import { onlyResource, resourcesOf, statement } from "./support/synth";

const CALLER_ROLE = "arn:aws:iam::111111111111:role/xacct-demo-caller-exec";
const CALLEE_FN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";

function invokerRole(extra: { externalId?: string; organizationId?: string } = {}) {
  return Testing.synthScope((scope) => {
    const provider = new AwsProvider(scope, "aws", { region: "eu-west-1", alias: "callee" });
    AccountScope.bind(TerraformStack.of(scope), { provider, accountId: "222222222222", region: "eu-west-1", partition: "aws" });
    new CrossAccountInvokerRole(scope, "invoker", {
      roleName: "xacct-demo-callee-invoker",
      trustedAccountId: "111111111111",
      trustedPrincipalArn: CALLER_ROLE,
      targetFunctionArn: CALLEE_FN,
      ...extra,
    });
  });
}

describe("CrossAccountInvokerRole", () => {
  it("trusts account A only through the caller role's ARN", () => {
    const synth = invokerRole();
    const role = onlyResource(synth, "aws_iam_role");
    const trust = JSON.parse(role.assume_role_policy);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0]).toEqual({
      Sid: "CallerFunctionRoleOnly",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111111111111:root" },
      Action: "sts:AssumeRole",
      Condition: { ArnEquals: { "aws:PrincipalArn": CALLER_ROLE } },
    });
    expect(role.name).toBe("xacct-demo-callee-invoker");
  });

  it("requires the external id and the organisation when they are configured", () => {
    const trust = JSON.parse(
      onlyResource(invokerRole({ externalId: "ext-123", organizationId: "o-abcdefghij" }), "aws_iam_role").assume_role_policy,
    );
    expect(statement(trust, "CallerFunctionRoleOnly").Condition).toEqual({
      ArnEquals: { "aws:PrincipalArn": CALLER_ROLE },
      StringEquals: { "sts:ExternalId": "ext-123", "aws:PrincipalOrgID": "o-abcdefghij" },
    });
  });

  it("may invoke the one callee function and do nothing else", () => {
    const policy = JSON.parse(onlyResource(invokerRole(), "aws_iam_role_policy").policy);
    expect(policy.Statement).toEqual([
      { Sid: "InvokeCalleeFunctionOnly", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: CALLEE_FN },
    ]);
  });
});

describe("EncryptedBucket", () => {
  const synth = Testing.synthScope((scope) => {
    const provider = new AwsProvider(scope, "aws", { region: "eu-west-1", alias: "caller" });
    AccountScope.bind(TerraformStack.of(scope), { provider, accountId: "111111111111", region: "eu-west-1", partition: "aws" });
    new EncryptedBucket(scope, "code", {
      bucketName: "my-code-bucket",
      purpose: "code",
    });
  });

  it("creates a rotating KMS key whose policy only enables IAM in its own account", () => {
    expect(synth).toHaveResourceWithProperties(
      { tfResourceType: "aws_kms_key" },
      { enable_key_rotation: true, deletion_window_in_days: 30 },
    );
    const policy = JSON.parse(onlyResource(synth, "aws_kms_key").policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "EnableIamPoliciesInOwnAccount",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::111111111111:root" },
        Action: "kms:*",
        Resource: "*",
      },
    ]);
    expect(onlyResource(synth, "aws_kms_alias").name).toBe("alias/my-code-bucket");
  });

  it("encrypts with that key, versions, blocks public access and enforces bucket ownership", () => {
    const key = Object.keys(resourcesOf(synth, "aws_kms_key"))[0];
    expect(onlyResource(synth, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: `\${aws_kms_key.${key}.arn}` },
        bucket_key_enabled: true,
      },
    ]);
    expect(onlyResource(synth, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(synth).toHaveResourceWithProperties(
      { tfResourceType: "aws_s3_bucket_public_access_block" },
      { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    );
    expect(onlyResource(synth, "aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
    const rule = onlyResource(synth, "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.noncurrent_version_expiration).toEqual([{ noncurrent_days: 90 }]);
    expect(rule.status).toBe("Enabled");
  });

  it("denies plain HTTP and uploads not encrypted with its own key", () => {
    const key = Object.keys(resourcesOf(synth, "aws_kms_key"))[0];
    const policy = JSON.parse(onlyResource(synth, "aws_s3_bucket_policy").policy);
    expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "DenyUploadsNotEncryptedWithKms",
      "DenyUploadsEncryptedWithAnotherKey",
      "DenyUploadsWithCustomerProvidedKeys",
    ]);
    expect(statement(policy, "DenyInsecureTransport").Condition).toEqual({ Bool: { "aws:SecureTransport": "false" } });
    // Only when an encryption header is present: multipart parts carry none and get the bucket's default key.
    expect(statement(policy, "DenyUploadsNotEncryptedWithKms").Condition).toEqual({
      StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
      Null: { "s3:x-amz-server-side-encryption": "false" },
    });
    expect(statement(policy, "DenyUploadsEncryptedWithAnotherKey").Condition).toEqual({
      StringNotEquals: { "s3:x-amz-server-side-encryption-aws-kms-key-id": `\${aws_kms_key.${key}.arn}` },
      Null: { "s3:x-amz-server-side-encryption": "false" },
    });
    for (const s of policy.Statement) expect(s.Effect).toBe("Deny");
  });

  it.each([
    [
      "SSE-KMS with its own key",
      { "s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": "OWN" },
      true,
    ],
    ["no encryption header (a multipart part; the bucket's default key applies)", {}, true],
    [
      "SSE-KMS with another key",
      {
        "s3:x-amz-server-side-encryption": "aws:kms",
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:111111111111:key/other",
      },
      false,
    ],
    ["SSE-KMS without a key id (S3 would use aws/s3)", { "s3:x-amz-server-side-encryption": "aws:kms" }, false],
    ["SSE-S3", { "s3:x-amz-server-side-encryption": "AES256" }, false],
    ["SSE-C", { "s3:x-amz-server-side-encryption-customer-algorithm": "AES256" }, false],
  ])("takes an upload with %s: %p", async (_what, headers, accepted) => {
    const key = Object.keys(resourcesOf(synth, "aws_kms_key"))[0];
    // The ARNs as the provider resolves them (a token left as ${...} would read as an IAM policy variable).
    const own = "arn:aws:kms:eu-west-1:111111111111:key/0b1c2d3e-0000-4000-8000-000000000000";
    const policy = JSON.parse(
      onlyResource(synth, "aws_s3_bucket_policy")
        .policy.replace(/\$\{aws_s3_bucket\.[^}]+\.arn\}/g, "arn:aws:s3:::my-code-bucket")
        .replace(`\${aws_kms_key.${key}.arn}`, own),
    );
    const context = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v === "OWN" ? own : v]));
    const admin = adminUser("aws", "111111111111");
    const decision = await new Authorizer().authorize({
      principal: admin,
      action: "s3:PutObject",
      resourceArn: "arn:aws:s3:::my-code-bucket/functions/code.zip",
      resourceAccountId: "111111111111",
      region: "eu-west-1",
      resourcePolicy: policy,
      context,
    });
    expect(decision.allowed).toBe(accepted);
  });
});

/** A stack bound to account B in another partition and region, so the ARNs show they come from the scope. */
function inAccountB(build: (scope: Construct) => void) {
  return Testing.synthScope((scope) => {
    const provider = new AwsProvider(scope, "aws", { region: "cn-north-1", alias: "callee" });
    AccountScope.bind(TerraformStack.of(scope), { provider, accountId: "222222222222", region: "cn-north-1", partition: "aws-cn" });
    build(scope);
  });
}

describe("IdempotencyTable", () => {
  const KEY = "arn:aws-cn:kms:cn-north-1:222222222222:key/0b1c2d3e-0000-4000-8000-000000000000";
  let table!: IdempotencyTable;
  const synth = inAccountB((scope) => {
    table = new IdempotencyTable(scope, "idempotency", { tableName: "records", kmsKeyArn: KEY });
  });

  it("is an on-demand table keyed by Powertools' id, with TTL on its expiration, point-in-time recovery and the given key", () => {
    const { "//": _metadata, ...body } = onlyResource(synth, "aws_dynamodb_table");
    expect(body).toEqual({
      name: "records",
      billing_mode: "PAY_PER_REQUEST",
      hash_key: "id",
      attribute: [{ name: "id", type: "S" }],
      ttl: { attribute_name: "expiration", enabled: true },
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: KEY },
      deletion_protection_enabled: false,
      provider: "aws.callee",
    });
  });

  it("knows its ARN before deploy, in its scope's partition, region and account", () => {
    expect(table.tableArn).toBe("arn:aws-cn:dynamodb:cn-north-1:222222222222:table/records");
  });

  it("gives the role the four item operations on it only, and its key through DynamoDB in its region only", () => {
    expect(table.itemStatement("Items")).toEqual({
      Sid: "Items",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      Resource: "arn:aws-cn:dynamodb:cn-north-1:222222222222:table/records",
    });
    expect(table.keyStatement("Key", KEY)).toEqual({
      Sid: "Key",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
      Resource: KEY,
      Condition: { StringEquals: { "kms:ViaService": "dynamodb.cn-north-1.amazonaws.com" } },
    });
  });
});

describe("GatewayEndpoint", () => {
  const statementOfPolicy = {
    Sid: "OneRoleOnly",
    Effect: "Allow" as const,
    Principal: "*" as const,
    Action: "dynamodb:GetItem",
    Resource: "arn:aws-cn:dynamodb:cn-north-1:222222222222:table/records",
    Condition: { ArnEquals: { "aws:PrincipalArn": "arn:aws-cn:iam::222222222222:role/fn" } },
  };
  const synth = inAccountB((scope) => {
    new GatewayEndpoint(scope, "ddb", {
      service: "dynamodb",
      name: "fn",
      vpcId: "vpc-0b1b1b1b1b1b1b1b1",
      routeTableIds: ["rtb-0b1b1b1b1b1b1b1b1", "rtb-0b2b2b2b2b2b2b2b2"],
      clientSecurityGroupIds: ["sg-0a0a0a0a0a0a0a0a0", "sg-0c0c0c0c0c0c0c0c0"],
      policyStatements: [statementOfPolicy],
    });
  });
  const endpointId = Object.keys(resourcesOf(synth, "aws_vpc_endpoint"))[0];

  it("is a Gateway endpoint in the route tables given, with exactly the policy given and no interface settings", () => {
    const { "//": _metadata, ...body } = onlyResource(synth, "aws_vpc_endpoint");
    expect(body).toEqual({
      vpc_id: "vpc-0b1b1b1b1b1b1b1b1",
      service_name: "com.amazonaws.cn-north-1.dynamodb",
      vpc_endpoint_type: "Gateway",
      route_table_ids: ["rtb-0b1b1b1b1b1b1b1b1", "rtb-0b2b2b2b2b2b2b2b2"],
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [statementOfPolicy] }),
      tags: { Name: "fn-dynamodb" },
      provider: "aws.callee",
    });
  });

  it("gives each client group one egress rule, TCP 443 to the endpoint's prefix list and nowhere else", () => {
    const rules = Object.values(resourcesOf(synth, "aws_vpc_security_group_egress_rule")).map(({ "//": _metadata, ...body }) => body);
    expect(rules).toEqual(
      ["sg-0a0a0a0a0a0a0a0a0", "sg-0c0c0c0c0c0c0c0c0"].map((group) => ({
        security_group_id: group,
        description: "HTTPS to dynamodb through its gateway endpoint only",
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
        prefix_list_id: `\${aws_vpc_endpoint.${endpointId}.prefix_list_id}`,
        provider: "aws.callee",
      })),
    );
  });
});

describe("bundleFunction", () => {
  it("produces byte-identical zips from the same source (a stable source_code_hash)", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
    const a = bundleFunction(path.join(PROJECT_ROOT, "lambda-src", "callee"), path.join(out, "a"));
    const b = bundleFunction(path.join(PROJECT_ROOT, "lambda-src", "callee"), path.join(out, "b"));
    expect(a.sha256Base64).toBe(b.sha256Base64);
    expect(fs.readFileSync(a.zipPath).equals(fs.readFileSync(b.zipPath))).toBe(true);
    expect(crypto.createHash("sha256").update(fs.readFileSync(a.zipPath)).digest("base64")).toBe(a.sha256Base64);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("changes the hash when the source changes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-src-"));
    const src = path.join(dir, "lambda-src", "fn");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "index.ts"), "export const handler = async () => 1;\n");
    const first = bundleFunction(src, path.join(dir, "out1"));
    fs.writeFileSync(path.join(src, "index.ts"), "export const handler = async () => 2;\n");
    const second = bundleFunction(src, path.join(dir, "out2"));
    expect(second.sha256Base64).not.toBe(first.sha256Base64);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("names the missing entry file instead of failing obscurely", () => {
    expect(() => bundleFunction("/nonexistent/lambda-src/ghost", os.tmpdir())).toThrow(
      "Cannot bundle function: /nonexistent/lambda-src/ghost/index.ts does not exist",
    );
  });

  it("reports a compile error with its file and line", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-bad-"));
    const src = path.join(dir, "lambda-src", "bad");
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, "index.ts"), "export const handler = async () => {\n  return (;\n};\n");
    expect(() => bundleFunction(src, path.join(dir, "out"))).toThrow(/Cannot bundle .*index\.ts:\n.*index\.ts:2: /);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("AccountScope", () => {
  it("tells a construct in a stack bound to no account what to do", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        new EncryptedBucket(scope, "code", { bucketName: "my-code-bucket", purpose: "code" });
      }),
    ).toThrow(/is bound to no account: create it as an AccountStack, or call AccountScope\.bind\(stack, \.\.\.\) first/);
  });

  it("refuses to bind a stack to a second account", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const provider = new AwsProvider(scope, "aws", { region: "eu-west-1" });
        const stack = TerraformStack.of(scope);
        AccountScope.bind(stack, { provider, accountId: "111111111111", region: "eu-west-1", partition: "aws" });
        AccountScope.bind(stack, { provider, accountId: "222222222222", region: "eu-west-1", partition: "aws" });
      }),
    ).toThrow(/is already bound to account 111111111111/);
  });
});
