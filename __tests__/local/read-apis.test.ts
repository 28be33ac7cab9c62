/**
 * The runtime's read APIs (IAM, Lambda GetPolicy/GetFunctionConfiguration, KMS, S3 GetBucketPolicy)
 * with the real SDK v3 clients: answers as AWS shapes them, from the synthesized stacks, and every
 * read decided by the stacks' policies.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
  GetPolicyCommand as GetManagedPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  type GetRoleCommandInput,
} from "@aws-sdk/client-iam";
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetFunctionConfigurationCommand, GetPolicyCommand } from "@aws-sdk/client-lambda";
import { GetBucketPolicyCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { LocalRuntime, NamedCredentials } from "../../local/server/runtime";
import { boot, credentialsOf, errorOf, lambdaAs, OUT_DIR, stacksVariant, type TfJson } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const A = "111111111111";
const B = "222222222222";
const CALLER_ROLE = "xacct-demo-caller-exec";
const CALLER_ROLE_ARN = `arn:aws:iam::${A}:role/${CALLER_ROLE}`;
const CALLER_FN_ARN = `arn:aws:lambda:eu-west-1:${A}:function:xacct-demo-caller`;
const CALLEE_FN_ARN = `arn:aws:lambda:eu-west-1:${B}:function:xacct-demo-callee`;
const CALLER_FUNCTION_SESSION = `arn:aws:sts::${A}:assumed-role/${CALLER_ROLE}/xacct-demo-caller`;
const CALLEE_FUNCTION_SESSION = `arn:aws:sts::${B}:assumed-role/xacct-demo-callee-exec/xacct-demo-callee`;
const ADMIN_A = `arn:aws:iam::${A}:user/administrator`;
const ADMIN_B = `arn:aws:iam::${B}:user/administrator`;
const OUTSIDER = "arn:aws:iam::333333333333:user/administrator";
const CALLER_BUCKET = `xacct-demo-code-${A}-eu-west-1`;
const CALLEE_BUCKET = `xacct-demo-code-${B}-eu-west-1`;

/** IAM is global: clients sign for us-east-1 whatever the runtime's region. */
function iamAs(runtime: LocalRuntime, profile: string, region = "us-east-1", overrides: Partial<NamedCredentials> = {}): IAMClient {
  return new IAMClient({
    region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

function kmsAs(runtime: LocalRuntime, profile: string, overrides: Partial<NamedCredentials> = {}): KMSClient {
  return new KMSClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

function s3As(runtime: LocalRuntime, profile: string, region = runtime.region, overrides: Partial<NamedCredentials> = {}): S3Client {
  return new S3Client({
    region,
    endpoint: runtime.endpoint,
    forcePathStyle: true,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

/** The synthesized stack's JSON, read directly: an expectation independent of the runtime's model. */
function stackJson(stack: string, dir = OUT_DIR): TfJson {
  return JSON.parse(fs.readFileSync(path.join(dir, "stacks", stack, "cdk.tf.json"), "utf8"));
}

function resourceBody(stack: TfJson, type: string, name: string): TfJson {
  const body = stack.resource?.[type]?.[name];
  if (!body) throw new Error(`no ${type}.${name}`);
  return body;
}

/** What a test's calls added to the runtime's request counts. */
function countsSince(runtime: LocalRuntime, before: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, n] of Object.entries(runtime.requestCounts())) if (n !== (before[key] ?? 0)) delta[key] = n - (before[key] ?? 0);
  return delta;
}

const decode = (document: string | undefined): Json => JSON.parse(decodeURIComponent(document ?? ""));

/** Each statement's Sid, Effect and Action: what a stack's document and the served one share before references are resolved. */
const outline = (document: Json): Json => document.Statement.map((st: Json) => ({ Sid: st.Sid, Effect: st.Effect, Action: st.Action }));

let runtime: LocalRuntime & { logs: string[] };

beforeAll(async () => {
  runtime = await boot();
});
afterAll(async () => {
  await runtime?.stop();
});

describe("IAM reads, as each account's administrator", () => {
  it("GetRole answers every role of the stacks to its own account's administrator, with the trust policy URL-encoded", async () => {
    expect(runtime.model.roles.size).toBe(3);
    for (const role of runtime.model.roles.values()) {
      const profile = role.accountId === A ? "caller-admin" : "callee-admin";
      const res = await iamAs(runtime, profile).send(new GetRoleCommand({ RoleName: role.name }));
      expect(res.$metadata.httpStatusCode).toBe(200);
      expect(res.Role).toMatchObject({ RoleName: role.name, Arn: role.arn, RoleId: role.roleId, Path: "/", MaxSessionDuration: 3600 });
      expect(res.Role?.CreateDate).toBeInstanceOf(Date);
      expect(res.Role?.AssumeRolePolicyDocument).toMatch(/^%7B%22Version%22%3A%222012-10-17%22/);
      expect(decode(res.Role?.AssumeRolePolicyDocument)).toEqual(role.trustPolicy);
    }
    // Against the stack itself, not only the model.
    const res = await iamAs(runtime, "caller-admin").send(new GetRoleCommand({ RoleName: CALLER_ROLE }));
    expect(decode(res.Role?.AssumeRolePolicyDocument)).toEqual(
      JSON.parse(resourceBody(stackJson("caller"), "aws_iam_role", "caller_role_B6D36B5B").assume_role_policy),
    );
  });

  it("ListRolePolicies names the inline policies, and pages with MaxItems and Marker", async () => {
    const iam = iamAs(runtime, "caller-admin");
    const all = await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE }));
    expect(all.PolicyNames).toEqual(["assume-callee-invoker-role-only", "execution", "network-interfaces"]);
    expect(all.IsTruncated).toBe(false);
    expect(all.Marker).toBeUndefined();
    const first = await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE, MaxItems: 1 }));
    expect(first.PolicyNames).toEqual(["assume-callee-invoker-role-only"]);
    expect(first.IsTruncated).toBe(true);
    const second = await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE, MaxItems: 1, Marker: first.Marker }));
    expect(second.PolicyNames).toEqual(["execution"]);
    expect(second.IsTruncated).toBe(true);
    const third = await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE, MaxItems: 1, Marker: second.Marker }));
    expect(third.PolicyNames).toEqual(["network-interfaces"]);
    expect(third.IsTruncated).toBe(false);
  });

  it("GetRolePolicy returns each inline policy's document, equal to the stack's", async () => {
    for (const role of runtime.model.roles.values()) {
      const profile = role.accountId === A ? "caller-admin" : "callee-admin";
      for (const policy of role.policies) {
        const res = await iamAs(runtime, profile).send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: policy.name }));
        expect(res).toMatchObject({ RoleName: role.name, PolicyName: policy.name });
        expect(decode(res.PolicyDocument)).toEqual(policy.document);
      }
    }
    // Against the stack itself (whose references the model resolved): the same statements, effects and actions.
    const res = await iamAs(runtime, "caller-admin").send(new GetRolePolicyCommand({ RoleName: CALLER_ROLE, PolicyName: "execution" }));
    expect(outline(decode(res.PolicyDocument))).toEqual(
      outline(JSON.parse(resourceBody(stackJson("caller"), "aws_iam_role_policy", "caller_execution-policy_49C279B0").policy)),
    );
  });

  it("ListAttachedRolePolicies is empty: the stacks attach no managed policy", async () => {
    const res = await iamAs(runtime, "callee-admin").send(new ListAttachedRolePoliciesCommand({ RoleName: "xacct-demo-callee-invoker" }));
    expect(res.AttachedPolicies).toEqual([]);
    expect(res.IsTruncated).toBe(false);
  });

  it("a role or policy that does not exist is NoSuchEntity (404), with IAM's messages", async () => {
    const iam = iamAs(runtime, "caller-admin");
    const role = await errorOf(iam.send(new GetRoleCommand({ RoleName: "no-such-role" })));
    expect(role).toMatchObject({
      name: "NoSuchEntityException",
      Code: "NoSuchEntity",
      message: "The role with name no-such-role cannot be found.",
    });
    expect(role.$metadata?.httpStatusCode).toBe(404);
    const inline = await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: CALLER_ROLE, PolicyName: "no-such-policy" })));
    expect(inline).toMatchObject({ Code: "NoSuchEntity", message: "The role policy with name no-such-policy cannot be found." });
    const managed = await errorOf(iam.send(new GetManagedPolicyCommand({ PolicyArn: `arn:aws:iam::${A}:policy/no-such-policy` })));
    expect(managed).toMatchObject({
      Code: "NoSuchEntity",
      message: `Policy arn:aws:iam::${A}:policy/no-such-policy does not exist or is not attachable.`,
    });
    expect(managed.$metadata?.httpStatusCode).toBe(404);
  });

  it("a missing required parameter is IAM's ValidationError", async () => {
    const err = await errorOf(iamAs(runtime, "caller-admin").send(new GetRoleCommand({} as GetRoleCommandInput)));
    expect(err).toMatchObject({
      Code: "ValidationError",
      message: "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
    });
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe("IAM reads are refused as AWS refuses them", () => {
  it("another account's administrator and the outsider see no such role: IAM looks in the caller's own account", async () => {
    for (const profile of ["callee-admin", "outsider"]) {
      for (const send of [
        (iam: IAMClient) => iam.send(new GetRoleCommand({ RoleName: CALLER_ROLE })),
        (iam: IAMClient) => iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE })),
        (iam: IAMClient) => iam.send(new GetRolePolicyCommand({ RoleName: CALLER_ROLE, PolicyName: "execution" })),
        (iam: IAMClient) => iam.send(new ListAttachedRolePoliciesCommand({ RoleName: CALLER_ROLE })),
      ]) {
        const err = await errorOf(send(iamAs(runtime, profile)));
        expect(err).toMatchObject({
          name: "NoSuchEntityException",
          Code: "NoSuchEntity",
          message: `The role with name ${CALLER_ROLE} cannot be found.`,
        });
        expect(err.$metadata?.httpStatusCode).toBe(404);
      }
    }
  });

  it("the function role sessions may read no IAM at all, not even their own role: AccessDenied (403) naming the role", async () => {
    const cases: Array<[string, string, string]> = [
      ["caller-function", CALLER_FUNCTION_SESSION, CALLER_ROLE],
      ["callee-function", CALLEE_FUNCTION_SESSION, "xacct-demo-callee-exec"],
    ];
    for (const [profile, session, roleName] of cases) {
      const iam = iamAs(runtime, profile);
      const calls: Array<[string, Promise<unknown>]> = [
        ["iam:GetRole", iam.send(new GetRoleCommand({ RoleName: roleName }))],
        ["iam:ListRolePolicies", iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))],
        ["iam:GetRolePolicy", iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: "execution" }))],
        ["iam:ListAttachedRolePolicies", iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))],
      ];
      for (const [action, call] of calls) {
        const err = await errorOf(call);
        expect(err).toMatchObject({ name: "AccessDenied", Code: "AccessDenied" });
        expect(err.$metadata?.httpStatusCode).toBe(403);
        expect(err.message).toBe(
          `User: ${session} is not authorized to perform: ${action} on resource: role ${roleName} because no identity-based policy allows the ${action} action`,
        );
      }
      const policyArn = `arn:aws:iam::${profile === "caller-function" ? A : B}:policy/anything`;
      const managed = await errorOf(iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: "v1" })));
      expect(managed).toMatchObject({ Code: "AccessDenied" });
      expect(managed.message).toBe(
        `User: ${session} is not authorized to perform: iam:GetPolicyVersion on resource: policy ${policyArn} because no identity-based policy allows the iam:GetPolicyVersion action`,
      );
    }
  });

  it("a refusal is recorded in the audit log with what decided it; an allowed read with the allowing statement", async () => {
    const before = runtime.audit.lastSeq;
    await errorOf(iamAs(runtime, "caller-function").send(new GetRoleCommand({ RoleName: CALLER_ROLE })));
    await iamAs(runtime, "caller-admin").send(new GetRoleCommand({ RoleName: CALLER_ROLE }));
    const [denied, allowed] = runtime.audit.since(before);
    expect(denied).toMatchObject({
      service: "iam",
      action: "iam:GetRole",
      principal: CALLER_FUNCTION_SESSION,
      resource: CALLER_ROLE_ARN,
      outcome: "denied",
      errorCode: "AccessDenied",
      decidedBy: ["identity-based policy (no Allow matched)"],
    });
    expect(allowed).toMatchObject({
      service: "iam",
      action: "iam:GetRole",
      principal: ADMIN_A,
      resource: CALLER_ROLE_ARN,
      outcome: "allowed",
      decidedBy: ["arn:aws:iam::aws:policy/AdministratorAccess: statement #1"],
    });
  });

  it("IAM signed for any region but the partition's global one (us-east-1) is refused with SignatureDoesNotMatch, and served nothing", async () => {
    const before = runtime.requestCounts();
    const err = await errorOf(iamAs(runtime, "caller-admin", "eu-west-1").send(new GetRoleCommand({ RoleName: CALLER_ROLE })));
    expect(err).toMatchObject({ name: "SignatureDoesNotMatch", Code: "SignatureDoesNotMatch" });
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toContain("Credential should be scoped to a valid region, not 'eu-west-1'.");
    expect(countsSince(runtime, before)).toEqual({});
  });

  it("a bad signature or key is answered in the protocol of the service the credential scope names", async () => {
    const wrongSecret = { secretAccessKey: "not-the-secret" };
    const unknownKey = { accessKeyId: "AKIAUNKNOWNKEY000000" };
    expect(
      await errorOf(iamAs(runtime, "caller-admin", "us-east-1", wrongSecret).send(new GetRoleCommand({ RoleName: CALLER_ROLE }))),
    ).toMatchObject({ Code: "SignatureDoesNotMatch" });
    expect(
      await errorOf(iamAs(runtime, "caller-admin", "us-east-1", unknownKey).send(new GetRoleCommand({ RoleName: CALLER_ROLE }))),
    ).toMatchObject({ name: "InvalidClientTokenId", Code: "InvalidClientTokenId" });
    expect(
      (await errorOf(lambdaAs(runtime, "caller-admin", unknownKey).send(new GetPolicyCommand({ FunctionName: "xacct-demo-caller" })))).name,
    ).toBe("UnrecognizedClientException");
    expect(
      (await errorOf(kmsAs(runtime, "caller-admin", wrongSecret).send(new DescribeKeyCommand({ KeyId: "alias/xacct-demo-caller" })))).name,
    ).toBe("InvalidSignatureException");
    const s3Signature = await errorOf(
      s3As(runtime, "caller-admin", runtime.region, wrongSecret).send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })),
    );
    expect(s3Signature).toMatchObject({ name: "SignatureDoesNotMatch", Code: "SignatureDoesNotMatch" });
    expect(s3Signature.$metadata?.httpStatusCode).toBe(403);
    const s3Key = await errorOf(
      s3As(runtime, "caller-admin", runtime.region, unknownKey).send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })),
    );
    expect(s3Key).toMatchObject({
      name: "InvalidAccessKeyId",
      message: "The AWS Access Key Id you provided does not exist in our records.",
    });
  });
});

describe("Lambda GetFunctionConfiguration and GetPolicy", () => {
  it("GetFunctionConfiguration answers what the stack configures, by name, full ARN and partial ARN", async () => {
    const fn = runtime.model.functions.get(CALLER_FN_ARN)!;
    const zip = fs.readFileSync(fn.zipPath);
    const stackFn = resourceBody(stackJson("caller"), "aws_lambda_function", "caller_function_ADA6C1F4");
    for (const name of ["xacct-demo-caller", CALLER_FN_ARN, `${A}:function:xacct-demo-caller`]) {
      const res = await lambdaAs(runtime, "caller-admin").send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      expect(res.$metadata.httpStatusCode).toBe(200);
      expect(res).toMatchObject({
        FunctionName: "xacct-demo-caller",
        FunctionArn: CALLER_FN_ARN,
        Runtime: stackFn.runtime,
        Role: CALLER_ROLE_ARN,
        Handler: stackFn.handler,
        Timeout: stackFn.timeout,
        MemorySize: stackFn.memory_size,
        Version: "$LATEST",
        State: "Active",
        LastUpdateStatus: "Successful",
        PackageType: "Zip",
        CodeSize: zip.length,
        // Lambda reports the package's SHA-256 in base64; the zip on disk is what was deployed.
        CodeSha256: createHash("sha256").update(zip).digest("base64"),
        LoggingConfig: { LogFormat: "JSON", ApplicationLogLevel: "INFO", LogGroup: "/aws/lambda/xacct-demo-caller" },
        Architectures: stackFn.architectures,
        Description: stackFn.description,
        KMSKeyArn: fn.kmsKeyArn,
      });
      expect(res.KMSKeyArn).toMatch(/^arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f-]{36}$/);
      expect(res.Architectures).toEqual(["arm64"]);
      expect(res.Environment?.Variables).toEqual(fn.environment);
      // The caller invokes the callee's alias live, the one ARN its invoker role may invoke.
      expect(res.Environment?.Variables?.CALLEE_FUNCTION_ARN).toBe(`${CALLEE_FN_ARN}:live`);
      expect(res.RevisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(res.LastModified).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    }
  });

  it("GetPolicy of a function without a resource-based policy is ResourceNotFoundException with Lambda's message", async () => {
    const err = await errorOf(lambdaAs(runtime, "callee-admin").send(new GetPolicyCommand({ FunctionName: "xacct-demo-callee" })));
    expect(err.name).toBe("ResourceNotFoundException");
    expect(err.$metadata?.httpStatusCode).toBe(404);
    expect(err.message).toBe("The resource you requested does not exist.");
  });

  it("a function or version that does not exist is 'Function not found'", async () => {
    const lambda = lambdaAs(runtime, "caller-admin");
    const missing = await errorOf(lambda.send(new GetFunctionConfigurationCommand({ FunctionName: "no-such-function" })));
    expect(missing).toMatchObject({
      name: "ResourceNotFoundException",
      message: `Function not found: arn:aws:lambda:eu-west-1:${A}:function:no-such-function`,
    });
    const version = await errorOf(lambda.send(new GetPolicyCommand({ FunctionName: "xacct-demo-caller", Qualifier: "7" })));
    expect(version).toMatchObject({ name: "ResourceNotFoundException", message: `Function not found: ${CALLER_FN_ARN}:7` });
    expect(version.$metadata?.httpStatusCode).toBe(404);
  });

  it("another account's administrator and the outsider are refused: no resource-based policy lets them", async () => {
    for (const [profile, who] of [
      ["callee-admin", ADMIN_B],
      ["outsider", OUTSIDER],
    ]) {
      for (const [action, call] of [
        [
          "lambda:GetFunctionConfiguration",
          lambdaAs(runtime, profile).send(new GetFunctionConfigurationCommand({ FunctionName: CALLER_FN_ARN })),
        ],
        ["lambda:GetPolicy", lambdaAs(runtime, profile).send(new GetPolicyCommand({ FunctionName: CALLER_FN_ARN }))],
      ] as const) {
        const err = await errorOf(call);
        expect(err.name).toBe("AccessDeniedException");
        expect(err.$metadata?.httpStatusCode).toBe(403);
        expect(err.message).toBe(
          `User: ${who} is not authorized to perform: ${action} on resource: ${CALLER_FN_ARN} because no resource-based policy allows the ${action} action`,
        );
      }
    }
  });

  it("the function role sessions may not read even their own function", async () => {
    for (const [profile, session, arn] of [
      ["caller-function", CALLER_FUNCTION_SESSION, CALLER_FN_ARN],
      ["callee-function", CALLEE_FUNCTION_SESSION, CALLEE_FN_ARN],
    ]) {
      const err = await errorOf(lambdaAs(runtime, profile).send(new GetFunctionConfigurationCommand({ FunctionName: arn })));
      expect(err.name).toBe("AccessDeniedException");
      expect(err.message).toBe(
        `User: ${session} is not authorized to perform: lambda:GetFunctionConfiguration on resource: ${arn} because no identity-based policy allows the lambda:GetFunctionConfiguration action`,
      );
    }
  });
});

describe("KMS DescribeKey and GetKeyPolicy", () => {
  const callerKey = () => [...runtime.model.keys.values()].find((k) => k.aliases.includes("alias/xacct-demo-caller"))!;

  it("DescribeKey finds a key by id, key ARN, alias name and alias ARN, and describes it", async () => {
    const key = callerKey();
    const stackKey = resourceBody(stackJson("caller"), "aws_kms_key", "caller_key_AE16D28E");
    for (const keyId of [key.keyId, key.arn, "alias/xacct-demo-caller", `arn:aws:kms:eu-west-1:${A}:alias/xacct-demo-caller`]) {
      const res = await kmsAs(runtime, "caller-admin").send(new DescribeKeyCommand({ KeyId: keyId }));
      expect(res.$metadata.httpStatusCode).toBe(200);
      expect(res.KeyMetadata).toMatchObject({
        KeyId: key.keyId,
        Arn: `arn:aws:kms:eu-west-1:${A}:key/${key.keyId}`,
        AWSAccountId: A,
        Description: stackKey.description,
        KeyState: "Enabled",
        Enabled: true,
        KeyManager: "CUSTOMER",
        KeyUsage: "ENCRYPT_DECRYPT",
        KeySpec: "SYMMETRIC_DEFAULT",
        Origin: "AWS_KMS",
      });
      expect(res.KeyMetadata?.CreationDate).toBeInstanceOf(Date);
    }
  });

  it("GetKeyPolicy returns the key policy of the stack as its 'default' policy, by key id or key ARN", async () => {
    const key = callerKey();
    const stackPolicy = JSON.parse(resourceBody(stackJson("caller"), "aws_kms_key", "caller_key_AE16D28E").policy);
    for (const keyId of [key.keyId, key.arn]) {
      const res = await kmsAs(runtime, "caller-admin").send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: "default" }));
      expect(res.PolicyName).toBe("default");
      expect(JSON.parse(res.Policy ?? "")).toEqual(stackPolicy);
      expect(JSON.parse(res.Policy ?? "")).toEqual(key.policy);
    }
  });

  it("unknown keys and aliases are NotFoundException (400)", async () => {
    const kms = kmsAs(runtime, "caller-admin");
    const key = await errorOf(kms.send(new DescribeKeyCommand({ KeyId: "00000000-0000-0000-0000-000000000000" })));
    expect(key).toMatchObject({
      name: "NotFoundException",
      message: `Key 'arn:aws:kms:eu-west-1:${A}:key/00000000-0000-0000-0000-000000000000' does not exist`,
    });
    expect(key.$metadata?.httpStatusCode).toBe(400);
    const alias = await errorOf(kms.send(new DescribeKeyCommand({ KeyId: "alias/no-such-alias" })));
    expect(alias).toMatchObject({
      name: "NotFoundException",
      message: `Alias arn:aws:kms:eu-west-1:${A}:alias/no-such-alias is not found.`,
    });
    // An alias name resolves in the caller's own account: account B has no alias/xacct-demo-caller.
    expect((await errorOf(kmsAs(runtime, "callee-admin").send(new DescribeKeyCommand({ KeyId: "alias/xacct-demo-caller" })))).name).toBe(
      "NotFoundException",
    );
  });

  it("another account's administrator and the outsider are refused by the key policy; the function sessions by their own policies", async () => {
    const key = callerKey();
    for (const [profile, who, because] of [
      ["callee-admin", ADMIN_B, "no resource-based policy"],
      ["outsider", OUTSIDER, "no resource-based policy"],
      ["caller-function", CALLER_FUNCTION_SESSION, "no identity-based policy"],
    ]) {
      for (const [action, call] of [
        ["kms:DescribeKey", kmsAs(runtime, profile).send(new DescribeKeyCommand({ KeyId: key.arn }))],
        ["kms:GetKeyPolicy", kmsAs(runtime, profile).send(new GetKeyPolicyCommand({ KeyId: key.arn }))],
      ] as const) {
        const err = await errorOf(call);
        expect(err.name).toBe("AccessDeniedException");
        expect(err.$metadata?.httpStatusCode).toBe(400);
        expect(err.message).toBe(
          `User: ${who} is not authorized to perform: ${action} on resource: ${key.arn} because ${because} allows the ${action} action`,
        );
      }
    }
  });
});

describe("S3 GetBucketPolicy (path-style)", () => {
  it("returns each bucket's policy to its own account's administrator", async () => {
    for (const bucket of runtime.model.buckets.values()) {
      const res = await s3As(runtime, bucket.accountId === A ? "caller-admin" : "callee-admin").send(
        new GetBucketPolicyCommand({ Bucket: bucket.name }),
      );
      expect(res.$metadata.httpStatusCode).toBe(200);
      expect(JSON.parse(res.Policy ?? "")).toEqual(bucket.policy);
    }
    const res = await s3As(runtime, "caller-admin").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET }));
    const stackPolicy = JSON.parse(resourceBody(stackJson("caller"), "aws_s3_bucket_policy", "code-bucket_policy_90437C27").policy);
    expect(outline(JSON.parse(res.Policy ?? ""))).toEqual(outline(stackPolicy));
    expect(JSON.parse(res.Policy ?? "").Statement[0].Resource).toEqual([
      `arn:aws:s3:::${CALLER_BUCKET}`,
      `arn:aws:s3:::${CALLER_BUCKET}/*`,
    ]);
  });

  it("refuses another account's administrator and the outsider with a bare Access Denied, and explains it to the owner's function session", async () => {
    for (const profile of ["callee-admin", "outsider"]) {
      const err = await errorOf(s3As(runtime, profile).send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })));
      expect(err).toMatchObject({ name: "AccessDenied", Code: "AccessDenied", message: "Access Denied" });
      expect(err.$metadata?.httpStatusCode).toBe(403);
    }
    const own = await errorOf(s3As(runtime, "caller-function").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })));
    expect(own).toMatchObject({ name: "AccessDenied" });
    expect(own.message).toBe(
      `User: ${CALLER_FUNCTION_SESSION} is not authorized to perform: s3:GetBucketPolicy on resource: "arn:aws:s3:::${CALLER_BUCKET}" because no identity-based policy allows the s3:GetBucketPolicy action`,
    );
  });

  it("a bucket that does not exist is NoSuchBucket (404); a request signed for another region is AuthorizationHeaderMalformed", async () => {
    const missing = await errorOf(s3As(runtime, "caller-admin").send(new GetBucketPolicyCommand({ Bucket: "no-such-bucket-xacct" })));
    expect(missing).toMatchObject({
      name: "NoSuchBucket",
      message: "The specified bucket does not exist",
      BucketName: "no-such-bucket-xacct",
    });
    expect(missing.$metadata?.httpStatusCode).toBe(404);
    const region = await errorOf(s3As(runtime, "caller-admin", "us-east-1").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })));
    expect(region).toMatchObject({
      name: "AuthorizationHeaderMalformed",
      message: "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'",
    });
    expect(region.$metadata?.httpStatusCode).toBe(400);
  });
});

describe("S3's own signing", () => {
  it("an object key is signed as S3 signs it (path not encoded twice): the signature verifies, and the unmodelled GetObject is NotImplemented", async () => {
    const before = runtime.requestCounts();
    const err = await errorOf(
      s3As(runtime, "caller-admin").send(new GetObjectCommand({ Bucket: CALLER_BUCKET, Key: "dir/a b+c~é=(1).zip" })),
    );
    expect(err).toMatchObject({ name: "NotImplemented", Code: "NotImplemented" });
    expect(err.$metadata?.httpStatusCode).toBe(501);
    expect(err.message).toContain("signed for 's3' is not one of them");
    expect(countsSince(runtime, before)).toEqual({ "unknown-operation": 1 });
  });
});

describe("request counts", () => {
  it("counts each served read once, under its IAM action name", async () => {
    const key = [...runtime.model.keys.values()].find((k) => k.accountId === A)!;
    const before = runtime.requestCounts();
    const iam = iamAs(runtime, "caller-admin");
    await iam.send(new GetRoleCommand({ RoleName: CALLER_ROLE }));
    await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE }));
    await iam.send(new GetRolePolicyCommand({ RoleName: CALLER_ROLE, PolicyName: "execution" }));
    await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: CALLER_ROLE }));
    await errorOf(iam.send(new GetManagedPolicyCommand({ PolicyArn: `arn:aws:iam::${A}:policy/none` })));
    await errorOf(iam.send(new GetPolicyVersionCommand({ PolicyArn: `arn:aws:iam::${A}:policy/none`, VersionId: "v1" })));
    await errorOf(lambdaAs(runtime, "caller-admin").send(new GetPolicyCommand({ FunctionName: "xacct-demo-caller" })));
    await lambdaAs(runtime, "caller-admin").send(new GetFunctionConfigurationCommand({ FunctionName: "xacct-demo-caller" }));
    await lambdaAs(runtime, "caller-admin").send(new GetFunctionConfigurationCommand({ FunctionName: "xacct-demo-caller" }));
    await kmsAs(runtime, "caller-admin").send(new DescribeKeyCommand({ KeyId: key.arn }));
    await kmsAs(runtime, "caller-admin").send(new GetKeyPolicyCommand({ KeyId: key.arn }));
    await s3As(runtime, "caller-admin").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET }));
    expect(countsSince(runtime, before)).toEqual({
      "iam:GetRole": 1,
      "iam:ListRolePolicies": 1,
      "iam:GetRolePolicy": 1,
      "iam:ListAttachedRolePolicies": 1,
      "iam:GetPolicy": 1,
      "iam:GetPolicyVersion": 1,
      "lambda:GetPolicy": 1,
      "lambda:GetFunctionConfiguration": 2,
      "kms:DescribeKey": 1,
      "kms:GetKeyPolicy": 1,
      "s3:GetBucketPolicy": 1,
    });
  });
});

describe("a variant granting reads across accounts, with a managed policy and without one bucket policy", () => {
  const MANAGED_ARN = `arn:aws:iam::${A}:policy/readers/xacct-demo-caller-read-own-role`;
  const MANAGED_DOCUMENT = {
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadOwnRoleOnly", Effect: "Allow", Action: "iam:GetRole", Resource: CALLER_ROLE_ARN }],
  };
  let variant: LocalRuntime & { logs: string[] };
  let callerKeyArn: string;

  beforeAll(async () => {
    const dir = stacksVariant(({ caller, callee }) => {
      caller.resource.aws_iam_policy = {
        read_own_role: {
          provider: "aws.caller",
          name: "xacct-demo-caller-read-own-role",
          path: "/readers/",
          policy: JSON.stringify(MANAGED_DOCUMENT),
        },
      };
      caller.resource.aws_iam_role_policy_attachment = {
        read_own_role: { provider: "aws.caller", role: CALLER_ROLE, policy_arn: "${aws_iam_policy.read_own_role.arn}" },
      };
      callee.resource.aws_lambda_permission = {
        invoke: {
          provider: "aws.callee",
          function_name: "xacct-demo-callee",
          statement_id: "CallerAccountInvokes",
          action: "lambda:InvokeFunction",
          principal: A,
        },
        configuration: {
          provider: "aws.callee",
          function_name: "xacct-demo-callee",
          statement_id: "CallerAccountReadsConfiguration",
          action: "lambda:GetFunctionConfiguration",
          principal: A,
        },
      };
      const key = resourceBody(caller, "aws_kms_key", "caller_key_AE16D28E");
      const keyPolicy = JSON.parse(key.policy);
      keyPolicy.Statement.push({
        Sid: "CalleeAccountReadsKey",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${B}:root` },
        Action: ["kms:DescribeKey", "kms:GetKeyPolicy"],
        Resource: "*",
      });
      key.policy = JSON.stringify(keyPolicy);
      const bucketPolicy = resourceBody(caller, "aws_s3_bucket_policy", "code-bucket_policy_90437C27");
      const document = JSON.parse(bucketPolicy.policy);
      document.Statement.push({
        Sid: "CalleeAccountReadsPolicy",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${B}:root` },
        Action: "s3:GetBucketPolicy",
        Resource: `arn:aws:s3:::${CALLER_BUCKET}`,
      });
      bucketPolicy.policy = JSON.stringify(document);
      delete callee.resource.aws_s3_bucket_policy;
    });
    variant = await boot(dir);
    callerKeyArn = [...variant.model.keys.values()].find((k) => k.aliases.includes("alias/xacct-demo-caller"))!.arn;
  });
  afterAll(async () => {
    await variant?.stop();
  });

  it("Lambda GetPolicy returns the stored statements exactly, with a stable RevisionId", async () => {
    const lambda = lambdaAs(variant, "callee-admin");
    const res = await lambda.send(new GetPolicyCommand({ FunctionName: "xacct-demo-callee" }));
    expect(res.$metadata.httpStatusCode).toBe(200);
    expect(JSON.parse(res.Policy ?? "")).toEqual({
      Version: "2012-10-17",
      Id: "default",
      Statement: [
        {
          Sid: "CallerAccountInvokes",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${A}:root` },
          Action: "lambda:InvokeFunction",
          Resource: CALLEE_FN_ARN,
        },
        {
          Sid: "CallerAccountReadsConfiguration",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${A}:root` },
          Action: "lambda:GetFunctionConfiguration",
          Resource: CALLEE_FN_ARN,
        },
      ],
    });
    expect(res.RevisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await lambda.send(new GetPolicyCommand({ FunctionName: CALLEE_FN_ARN }))).RevisionId).toBe(res.RevisionId);
  });

  it("the resource-based policy decides across accounts: account A reads the configuration, not the policy; the outsider neither", async () => {
    const config = await lambdaAs(variant, "caller-admin").send(new GetFunctionConfigurationCommand({ FunctionName: CALLEE_FN_ARN }));
    expect(config).toMatchObject({
      FunctionName: "xacct-demo-callee",
      FunctionArn: CALLEE_FN_ARN,
      Role: `arn:aws:iam::${B}:role/xacct-demo-callee-exec`,
    });
    const policy = await errorOf(lambdaAs(variant, "caller-admin").send(new GetPolicyCommand({ FunctionName: CALLEE_FN_ARN })));
    expect(policy.name).toBe("AccessDeniedException");
    expect(policy.message).toBe(
      `User: ${ADMIN_A} is not authorized to perform: lambda:GetPolicy on resource: ${CALLEE_FN_ARN} because no resource-based policy allows the lambda:GetPolicy action`,
    );
    const outsider = await errorOf(
      lambdaAs(variant, "outsider").send(new GetFunctionConfigurationCommand({ FunctionName: CALLEE_FN_ARN })),
    );
    expect(outsider.name).toBe("AccessDeniedException");
  });

  it("ListAttachedRolePolicies lists the managed policy (filtered by PathPrefix); ListRolePolicies still only the inline ones", async () => {
    const iam = iamAs(variant, "caller-admin");
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: CALLER_ROLE }));
    expect(attached.AttachedPolicies).toEqual([{ PolicyName: "xacct-demo-caller-read-own-role", PolicyArn: MANAGED_ARN }]);
    expect(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: CALLER_ROLE, PathPrefix: "/readers/" }))).AttachedPolicies,
    ).toHaveLength(1);
    expect(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: CALLER_ROLE, PathPrefix: "/writers/" }))).AttachedPolicies,
    ).toEqual([]);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: CALLER_ROLE }))).PolicyNames).toEqual([
      "assume-callee-invoker-role-only",
      "execution",
      "network-interfaces",
    ]);
  });

  it("GetPolicy has default version v1, GetPolicyVersion v1 is the document, and no other version exists", async () => {
    const iam = iamAs(variant, "caller-admin");
    const policy = await iam.send(new GetManagedPolicyCommand({ PolicyArn: MANAGED_ARN }));
    expect(policy.Policy).toMatchObject({
      PolicyName: "xacct-demo-caller-read-own-role",
      Arn: MANAGED_ARN,
      Path: "/readers/",
      DefaultVersionId: "v1",
      AttachmentCount: 1,
      IsAttachable: true,
    });
    expect(policy.Policy?.PolicyId).toMatch(/^ANPA[A-Z2-7]{17}$/);
    const version = await iam.send(new GetPolicyVersionCommand({ PolicyArn: MANAGED_ARN, VersionId: "v1" }));
    expect(version.PolicyVersion).toMatchObject({ VersionId: "v1", IsDefaultVersion: true });
    expect(decode(version.PolicyVersion?.Document)).toEqual(MANAGED_DOCUMENT);
    const v2 = await errorOf(iam.send(new GetPolicyVersionCommand({ PolicyArn: MANAGED_ARN, VersionId: "v2" })));
    expect(v2).toMatchObject({ name: "NoSuchEntityException", Code: "NoSuchEntity" });
    expect(v2.$metadata?.httpStatusCode).toBe(404);
    // Account B's administrator: account A's policy is not in account B.
    const other = await errorOf(iamAs(variant, "callee-admin").send(new GetManagedPolicyCommand({ PolicyArn: MANAGED_ARN })));
    expect(other).toMatchObject({ Code: "NoSuchEntity", message: `Policy ${MANAGED_ARN} does not exist or is not attachable.` });
  });

  it("the attached policy lets the caller's function session read its own role, and nothing more", async () => {
    const iam = iamAs(variant, "caller-function");
    const own = await iam.send(new GetRoleCommand({ RoleName: CALLER_ROLE }));
    expect(own.Role?.Arn).toBe(CALLER_ROLE_ARN);
    const inline = await errorOf(iam.send(new GetRolePolicyCommand({ RoleName: CALLER_ROLE, PolicyName: "execution" })));
    expect(inline).toMatchObject({ Code: "AccessDenied" });
    expect(inline.message).toBe(
      `User: ${CALLER_FUNCTION_SESSION} is not authorized to perform: iam:GetRolePolicy on resource: role ${CALLER_ROLE} because no identity-based policy allows the iam:GetRolePolicy action`,
    );
  });

  it("a key policy granting account B lets it DescribeKey by ARN, but GetKeyPolicy never works across accounts", async () => {
    const described = await kmsAs(variant, "callee-admin").send(new DescribeKeyCommand({ KeyId: callerKeyArn }));
    expect(described.KeyMetadata).toMatchObject({ Arn: callerKeyArn, AWSAccountId: A });
    const policy = await errorOf(kmsAs(variant, "callee-admin").send(new GetKeyPolicyCommand({ KeyId: callerKeyArn })));
    expect(policy.name).toBe("AccessDeniedException");
    expect(policy.message).toBe(`User: ${ADMIN_B} is not authorized to perform: kms:GetKeyPolicy on resource: ${callerKeyArn}`);
    // The outsider is still refused by the key policy.
    expect((await errorOf(kmsAs(variant, "outsider").send(new DescribeKeyCommand({ KeyId: callerKeyArn })))).name).toBe(
      "AccessDeniedException",
    );
  });

  it("a bucket policy granting account B s3:GetBucketPolicy gets it 405 MethodNotAllowed: only the owner's account may read it", async () => {
    const err = await errorOf(s3As(variant, "callee-admin").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })));
    expect(err).toMatchObject({
      name: "MethodNotAllowed",
      Code: "MethodNotAllowed",
      message: "The specified method is not allowed against this resource.",
    });
    expect(err.$metadata?.httpStatusCode).toBe(405);
    const outsider = await errorOf(s3As(variant, "outsider").send(new GetBucketPolicyCommand({ Bucket: CALLER_BUCKET })));
    expect(outsider.$metadata?.httpStatusCode).toBe(403);
  });

  it("a bucket without a policy is NoSuchBucketPolicy (404)", async () => {
    const err = await errorOf(s3As(variant, "callee-admin").send(new GetBucketPolicyCommand({ Bucket: CALLEE_BUCKET })));
    expect(err).toMatchObject({
      name: "NoSuchBucketPolicy",
      Code: "NoSuchBucketPolicy",
      message: "The bucket policy does not exist",
      BucketName: CALLEE_BUCKET,
    });
    expect(err.$metadata?.httpStatusCode).toBe(404);
  });
});
