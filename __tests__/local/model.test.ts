import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REQUIRED_STACKS, ensureSynthesized, findStaleness, requiredStacks, synthInputs } from "../../core/model/freshness";
import { CONFIG_RECORD_FILE, loadConfig } from "../../config/load";
import { loadAccountsModel } from "../../core/model/load-model";
import { AccountsModel, FunctionModel, ModelError, RoleModel } from "../../core/model/types";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const CALLEE_ARN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";
/** The callee's alias live (to version 1): what the caller invokes and the invoker role may invoke. */
const CALLEE_LIVE_ARN = `${CALLEE_ARN}:live`;
const CALLER_ARN = "arn:aws:lambda:eu-west-1:111111111111:function:xacct-demo-caller";
const INVOKER_ROLE_ARN = "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker";
const CALLER_ROLE_ARN = "arn:aws:iam::111111111111:role/xacct-demo-caller-exec";
const CALLEE_ROLE_ARN = "arn:aws:iam::222222222222:role/xacct-demo-callee-exec";

let tmp: string;
let outDir: string;
let model: AccountsModel;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-model-"));
  outDir = path.join(tmp, "cdktf.out");
  const result = await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir });
  expect(result).toEqual({ synthesized: true, reason: expect.stringContaining("is missing") });
  model = loadAccountsModel(outDir);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const stackFile = (dir: string, stack: string) => path.join(dir, "stacks", stack, "cdk.tf.json");

/** A copy of the synthesized output (assets included) with `edit` applied to the callee and caller JSON. */
function variant(edit: (stacks: { callee: Json; caller: Json }, dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(tmp, "variant-"));
  fs.cpSync(outDir, dir, { recursive: true });
  const stacks = {
    callee: JSON.parse(fs.readFileSync(stackFile(dir, "callee"), "utf8")),
    caller: JSON.parse(fs.readFileSync(stackFile(dir, "caller"), "utf8")),
  };
  edit(stacks, dir);
  for (const [name, json] of Object.entries(stacks)) fs.writeFileSync(stackFile(dir, name), JSON.stringify(json, null, 2));
  return dir;
}

/** The logical id of the one resource of `type` in a stack (or the one whose id starts with `prefix`). */
function idOf(stack: Json, type: string, prefix = ""): string {
  const ids = Object.keys(stack.resource[type] ?? {}).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(", ") || "none"}`);
  return ids[0];
}

function modelErrorOf(dir: string, options?: Parameters<typeof loadAccountsModel>[1]): string {
  try {
    loadAccountsModel(dir, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ModelError);
    return (err as Error).message;
  }
  throw new Error("expected a ModelError");
}

function fn(m: AccountsModel, arn: string): FunctionModel {
  const found = m.functions.get(arn);
  if (!found) throw new Error(`no function ${arn} in the model`);
  return found;
}

function role(m: AccountsModel, arn: string): RoleModel {
  const found = m.roles.get(arn);
  if (!found) throw new Error(`no role ${arn} in the model`);
  return found;
}

/** Every string anywhere in a value (maps, lists and objects included). */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (value instanceof Map) return [...value.entries()].flatMap(([k, v]) => [...stringsIn(k), ...stringsIn(v)]);
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  return [];
}

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("the model of the synthesized stacks", () => {
  it("has both accounts, each with its stacks", () => {
    expect(model.dir).toBe(outDir);
    expect(model.partition).toBe("aws");
    expect(model.accounts).toEqual([
      { accountId: "111111111111", region: "eu-west-1", stacks: ["bootstrap", "caller"] },
      { accountId: "222222222222", region: "eu-west-1", stacks: ["callee"] },
    ]);
  });

  it("resolves the caller's environment through the callee's remote state", () => {
    const env = fn(model, CALLER_ARN).environment;
    expect(env.CALLEE_FUNCTION_ARN).toBe(CALLEE_LIVE_ARN);
    expect(env.INVOKER_ROLE_ARN).toBe(INVOKER_ROLE_ARN);
    expect(env.POWERTOOLS_SERVICE_NAME).toBe("xacct-demo-caller");
  });

  it.each([
    [CALLER_ARN, "xacct-demo-caller", "111111111111", CALLER_ROLE_ARN, 30],
    [CALLEE_ARN, "xacct-demo-callee", "222222222222", CALLEE_ROLE_ARN, 10],
  ])("models %s with its configuration", (arn, name, accountId, roleArn, timeout) => {
    expect(fn(model, arn)).toMatchObject({
      name,
      arn,
      accountId,
      region: "eu-west-1",
      handler: "index.handler",
      runtime: "nodejs22.x",
      timeoutSeconds: timeout,
      memorySizeMb: 256,
      // Reserved concurrency is opt-in: a new account's quota leaves none to reserve.
      reservedConcurrency: undefined,
      roleArn,
      logGroupName: `/aws/lambda/${name}`,
      source: { stack: name.replace("xacct-demo-", "") },
    });
    expect(model.roles.has(roleArn)).toBe(true);
    // README: no resource policy, so no other account can invoke either function directly.
    expect(fn(model, arn).resourcePolicy).toBeUndefined();
  });

  it.each([
    [CALLER_ARN, undefined, "arn:aws:sqs:eu-west-1:111111111111:xacct-demo-caller-async-failures"],
    [CALLEE_ARN, "live", "arn:aws:sqs:eu-west-1:222222222222:xacct-demo-callee-async-failures"],
  ])("sends %s's failed async events (qualifier %s) to its own queue", (arn, qualifier, queueArn) => {
    expect(fn(model, arn).asyncConfig).toEqual({
      ...(qualifier !== undefined ? { qualifier } : {}),
      maximumRetryAttempts: 2,
      maximumEventAgeSeconds: 3600,
      onFailureDestination: queueArn,
    });
  });

  it("publishes the callee's version 1 with an alias live to it; the caller publishes none", () => {
    expect(fn(model, CALLEE_ARN).versions).toEqual(["1"]);
    expect([...fn(model, CALLEE_ARN).aliases.values()]).toEqual([
      {
        name: "live",
        arn: CALLEE_LIVE_ARN,
        functionVersion: "1",
        description: "What callers invoke: the released version of xacct-demo-callee",
        source: { stack: "callee", address: expect.stringMatching(/^aws_lambda_alias\./) },
      },
    ]);
    expect(fn(model, CALLER_ARN).versions).toEqual([]);
    expect(fn(model, CALLER_ARN).aliases.size).toBe(0);
  });

  it("points each function at its synthesized zip, whose SHA-256 is the recorded one", () => {
    for (const f of model.functions.values()) {
      expect(f.zipPath.startsWith(path.join(outDir, "stacks", f.source.stack, "assets") + path.sep)).toBe(true);
      expect(fs.existsSync(f.zipPath)).toBe(true);
      expect(f.zipSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(sha256(f.zipPath)).toBe(f.zipSha256);
    }
  });

  it("has the three roles with parsed trust and inline policies", () => {
    expect([...model.roles.keys()].sort()).toEqual([CALLER_ROLE_ARN, CALLEE_ROLE_ARN, INVOKER_ROLE_ARN].sort());
    for (const r of model.roles.values()) {
      expect(r.trustPolicy.Version).toBe("2012-10-17");
      expect(Array.isArray(r.trustPolicy.Statement)).toBe(true);
      expect(r.policies.length).toBeGreaterThan(0);
      for (const p of r.policies) expect(Array.isArray(p.document.Statement)).toBe(true);
      expect(r.maxSessionDurationSeconds).toBe(3600);
      expect(r.path).toBe("/");
    }
    const invoker = role(model, INVOKER_ROLE_ARN);
    expect(invoker).toMatchObject({ name: "xacct-demo-callee-invoker", accountId: "222222222222", source: { stack: "callee" } });
    expect(invoker.trustPolicy.Statement).toEqual([
      expect.objectContaining({
        Principal: { AWS: "arn:aws:iam::111111111111:root" },
        Action: "sts:AssumeRole",
        Condition: { ArnEquals: { "aws:PrincipalArn": CALLER_ROLE_ARN } },
      }),
    ]);
    expect(invoker.policies.map((p) => p.document.Statement)).toEqual([
      [expect.objectContaining({ Action: "lambda:InvokeFunction", Resource: CALLEE_LIVE_ARN })],
    ]);
  });

  it("resolves the caller's AssumeRole permission to the invoker role's ARN", () => {
    const assume = role(model, CALLER_ROLE_ARN).policies.find((p) => p.name === "assume-callee-invoker-role-only");
    expect(assume?.source.address).toMatch(/^aws_iam_role_policy\./);
    expect(assume?.document.Statement).toEqual([
      { Sid: "AssumeCalleeInvokerRoleOnly", Effect: "Allow", Action: "sts:AssumeRole", Resource: INVOKER_ROLE_ARN },
    ]);
  });

  it("resolves the execution policies' key, queue and security-group ARNs", () => {
    const statements = role(model, CALLEE_ROLE_ARN).policies.flatMap((p) => p.document.Statement as Json[]);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    expect(bySid("SendFailedAsyncEventsToOwnQueue").Resource).toBe("arn:aws:sqs:eu-west-1:222222222222:xacct-demo-callee-async-failures");
    expect(bySid("UseOwnKeyForEnvironmentAndFailedEvents").Resource).toMatch(
      /^arn:aws:kms:eu-west-1:222222222222:key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    // Lambda validates CreateNetworkInterface for ids that do not exist yet: "*", not the group's ARN.
    expect(bySid("CreateAndDescribeNetworkInterfaces").Resource).toBe("*");
    expect(bySid("ManageNetworkInterfacesInOwnAccountAndRegion").Resource).toBe("arn:aws:ec2:eu-west-1:222222222222:*");
  });

  it("resolves a security group's ARN referenced from a policy", () => {
    const dir = variant(({ callee }) => {
      const sg = idOf(callee, "aws_security_group");
      const policy = Object.values(callee.resource.aws_iam_role_policy as Record<string, Json>).find((p) => p.name === "execution") as Json;
      const doc = JSON.parse(policy.policy);
      doc.Statement.push({
        Sid: "OwnSecurityGroup",
        Effect: "Allow",
        Action: "ec2:DescribeSecurityGroupRules",
        Resource: `\${aws_security_group.${sg}.arn}`,
      });
      policy.policy = JSON.stringify(doc);
    });
    const statements = role(loadAccountsModel(dir), CALLEE_ROLE_ARN).policies.flatMap((p) => p.document.Statement as Json[]);
    expect(statements.find((s) => s.Sid === "OwnSecurityGroup")?.Resource).toMatch(
      /^arn:aws:ec2:eu-west-1:222222222222:security-group\/sg-[0-9a-f]{17}$/,
    );
  });

  it("leaves no ${ anywhere in the model", () => {
    const all = stringsIn(model);
    expect(all.length).toBeGreaterThan(100);
    expect(all.filter((s) => s.includes("${"))).toEqual([]);
  });

  it("resolves every stack's outputs", () => {
    expect(model.outputs.get("callee")).toEqual({
      callee_alias_arn: CALLEE_LIVE_ARN,
      callee_function_arn: CALLEE_ARN,
      callee_function_name: "xacct-demo-callee",
      external_id_required: false,
      invoker_role_arn: INVOKER_ROLE_ARN,
    });
    expect(model.outputs.get("caller")).toEqual({
      caller_execution_role_arn: CALLER_ROLE_ARN,
      caller_function_arn: CALLER_ARN,
      caller_function_name: "xacct-demo-caller",
      // With vpcEndpoints 'create' (the default), the endpoints' own security group.
      endpoint_security_group_id: expect.stringMatching(/^sg-[0-9a-f]{17}$/),
    });
    expect(model.outputs.get("bootstrap")?.state_kms_key_arn).toMatch(/^arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f-]{36}$/);
  });

  it("derives the server-assigned ids in AWS's shapes, the same on every load", () => {
    for (const r of model.roles.values()) expect(r.roleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(new Set([...model.roles.values()].map((r) => r.roleId)).size).toBe(3);
    const again = loadAccountsModel(outDir);
    expect([...again.roles.values()]).toEqual([...model.roles.values()]);
    expect(again.outputs).toEqual(model.outputs);
  });

  it("models only the stacks asked for, still resolving remote state into the others", () => {
    const callerOnly = loadAccountsModel(outDir, { stacks: ["caller"] });
    expect([...callerOnly.functions.keys()]).toEqual([CALLER_ARN]);
    expect([...callerOnly.roles.keys()]).toEqual([CALLER_ROLE_ARN]);
    expect([...callerOnly.outputs.keys()]).toEqual(["caller"]);
    expect(fn(callerOnly, CALLER_ARN).environment.INVOKER_ROLE_ARN).toBe(INVOKER_ROLE_ARN);
    expect(modelErrorOf(outDir, { stacks: ["nope"] })).toMatch(/no stack 'nope'.*stacks: bootstrap, callee, caller/);
  });

  it("applies Lambda's defaults to what a stack leaves out", () => {
    const dir = variant(({ callee }) => {
      const f = callee.resource.aws_lambda_function[idOf(callee, "aws_lambda_function")];
      for (const key of ["timeout", "memory_size", "logging_config", "environment"]) delete f[key];
      f.reserved_concurrent_executions = -1;
      const config = callee.resource.aws_lambda_function_event_invoke_config[idOf(callee, "aws_lambda_function_event_invoke_config")];
      delete config.maximum_retry_attempts;
      delete config.maximum_event_age_in_seconds;
      config.destination_config = [{ on_success: [{ destination: `\${aws_lambda_function.${idOf(callee, "aws_lambda_function")}.arn}` }] }];
    });
    const callee = fn(loadAccountsModel(dir), CALLEE_ARN);
    expect(callee).toMatchObject({ timeoutSeconds: 3, memorySizeMb: 128, logGroupName: "/aws/lambda/xacct-demo-callee", environment: {} });
    expect(callee.reservedConcurrency).toBeUndefined();
    expect(callee.asyncConfig).toEqual({
      qualifier: "live",
      maximumRetryAttempts: 2,
      maximumEventAgeSeconds: 21600,
      onSuccessDestination: CALLEE_ARN,
    });
  });

  it("takes a function's zip from filename, checked against source_code_hash", () => {
    const zip = fn(model, CALLEE_ARN).zipPath;
    const relative = path.relative(path.join(outDir, "stacks", "callee"), zip);
    const edit = (hash: string) =>
      variant(({ callee }) => {
        const f = callee.resource.aws_lambda_function[idOf(callee, "aws_lambda_function")];
        delete f.s3_bucket;
        delete f.s3_key;
        f.filename = relative;
        f.source_code_hash = hash;
      });
    const base64 = crypto.createHash("sha256").update(fs.readFileSync(zip)).digest("base64");
    const dir = edit(base64);
    expect(fn(loadAccountsModel(dir), CALLEE_ARN)).toMatchObject({
      zipPath: path.join(dir, "stacks", "callee", relative),
      zipSha256: sha256(zip),
    });
    expect(modelErrorOf(edit(Buffer.alloc(32).toString("base64")))).toContain("stale bundle");
  });

  it("escapes resolved values for the JSON of a policy document", () => {
    const dir = variant(({ callee, caller }) => {
      callee.output.odd = { value: 'a"b\\c' };
      const policy = caller.resource.aws_iam_role_policy[idOf(caller, "aws_iam_role_policy", "caller_assume")];
      policy.policy = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "sts:AssumeRole",
            Resource: "${data.terraform_remote_state.callee-state.outputs.odd}/$${aws:username}",
          },
        ],
      });
    });
    const assume = role(loadAccountsModel(dir), CALLER_ROLE_ARN).policies.find((p) => p.name === "assume-callee-invoker-role-only");
    // `$${` is Terraform's escape for a literal `${`, here an IAM policy variable.
    expect(assume?.document.Statement).toEqual([{ Effect: "Allow", Action: "sts:AssumeRole", Resource: 'a"b\\c/${aws:username}' }]);
  });

  it("reads the stacks/ folder when there is no manifest.json", () => {
    const dir = variant(() => undefined);
    fs.rmSync(path.join(dir, "manifest.json"));
    expect([...loadAccountsModel(dir).functions.keys()].sort()).toEqual([CALLEE_ARN, CALLER_ARN].sort());
  });
});

describe("aws_lambda_permission and policy attachments", () => {
  it("turns a cross-account permission into the statement Lambda stores", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_lambda_permission = {
        allow_caller: {
          function_name: `\${aws_lambda_function.${idOf(callee, "aws_lambda_function")}.function_name}`,
          statement_id: "AllowAccountA",
          action: "lambda:InvokeFunction",
          principal: "111111111111",
          provider: "aws.callee",
        },
      };
    });
    expect(fn(loadAccountsModel(dir), CALLEE_ARN).resourcePolicy).toEqual({
      Version: "2012-10-17",
      Id: "default",
      Statement: [
        {
          Sid: "AllowAccountA",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::111111111111:root" },
          Action: "lambda:InvokeFunction",
          Resource: CALLEE_ARN,
        },
      ],
    });
  });

  it("renders service principals, qualifiers and conditions", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_lambda_permission = {
        from_queue: {
          function_name: `\${aws_lambda_function.${idOf(callee, "aws_lambda_function")}.arn}`,
          statement_id: "FromSns",
          action: "lambda:InvokeFunction",
          principal: "sns.amazonaws.com",
          qualifier: "live",
          source_arn: "arn:aws:sns:eu-west-1:222222222222:topic",
          source_account: "222222222222",
          provider: "aws.callee",
        },
        org: {
          function_name: "xacct-demo-callee",
          statement_id: "Org",
          action: "lambda:InvokeFunction",
          principal: "*",
          principal_org_id: "o-a1b2c3d4e5",
          provider: "aws.callee",
        },
      };
    });
    expect(fn(loadAccountsModel(dir), CALLEE_ARN).resourcePolicy?.Statement).toEqual([
      {
        Sid: "FromSns",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "lambda:InvokeFunction",
        Resource: `${CALLEE_ARN}:live`,
        Condition: {
          StringEquals: { "AWS:SourceAccount": "222222222222" },
          ArnLike: { "AWS:SourceArn": "arn:aws:sns:eu-west-1:222222222222:topic" },
        },
      },
      {
        Sid: "Org",
        Effect: "Allow",
        Principal: "*",
        Action: "lambda:InvokeFunction",
        Resource: CALLEE_ARN,
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
      },
    ]);
  });

  it("adds an attached customer-managed policy under its ARN", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_iam_policy = {
        extra: {
          name: "extra",
          policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sqs:GetQueueUrl", Resource: "*" }] }),
          provider: "aws.callee",
        },
      };
      callee.resource.aws_iam_role_policy_attachment = {
        extra: {
          role: `\${aws_iam_role.${idOf(callee, "aws_iam_role", "callee_")}.name}`,
          policy_arn: "${aws_iam_policy.extra.arn}",
          provider: "aws.callee",
        },
      };
    });
    const policies = role(loadAccountsModel(dir), CALLEE_ROLE_ARN).policies;
    expect(policies.map((p) => p.name)).toEqual(["execution", "network-interfaces", "arn:aws:iam::222222222222:policy/extra"]);
    expect(policies[2]).toMatchObject({
      source: { stack: "callee", address: "aws_iam_policy.extra" },
      document: { Statement: [{ Action: "sqs:GetQueueUrl" }] },
    });
  });

  it("refuses an AWS-managed policy attachment, whose document the stacks do not hold", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_iam_role_policy_attachment = {
        managed: {
          role: `\${aws_iam_role.${idOf(callee, "aws_iam_role", "callee_")}.id}`,
          policy_arn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
          provider: "aws.callee",
        },
      };
    });
    const message = modelErrorOf(dir);
    expect(message).toContain("stack 'callee', aws_iam_role_policy_attachment.managed.policy_arn");
    expect(message).toContain("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole");
    expect(message).toContain("AWS-managed");
  });
});

describe("buckets and keys", () => {
  const CODE_BUCKET_B = "xacct-demo-code-222222222222-eu-west-1";

  it("has each code bucket with its resolved policy and the key of its default encryption", () => {
    expect([...model.buckets.keys()].sort()).toEqual([
      "xacct-demo-code-111111111111-eu-west-1",
      CODE_BUCKET_B,
      "xacct-demo-tfstate-111111111111",
    ]);
    const bucket = model.buckets.get(CODE_BUCKET_B)!;
    const key = [...model.keys.values()].find((k) => k.aliases.includes("alias/xacct-demo-code-222222222222-eu-west-1"))!;
    expect(bucket).toMatchObject({
      arn: `arn:aws:s3:::${CODE_BUCKET_B}`,
      accountId: "222222222222",
      region: "eu-west-1",
      kmsKeyArn: key.arn,
    });
    const statements = bucket.policy!.Statement as Json[];
    expect(statements.map((st) => st.Sid)).toEqual([
      "DenyInsecureTransport",
      "DenyUploadsNotEncryptedWithKms",
      "DenyUploadsEncryptedWithAnotherKey",
      "DenyUploadsWithCustomerProvidedKeys",
    ]);
    expect(statements[2].Condition.StringNotEquals["s3:x-amz-server-side-encryption-aws-kms-key-id"]).toBe(key.arn);
    expect(statements[0].Resource).toEqual([`arn:aws:s3:::${CODE_BUCKET_B}`, `arn:aws:s3:::${CODE_BUCKET_B}/*`]);
  });

  it("has each key with its aliases and its policy, and KMS's default policy when a stack sets none", () => {
    expect([...model.keys.values()].map((k) => `${k.accountId} ${k.aliases.join(",")}`).sort()).toEqual([
      "111111111111 alias/xacct-demo-caller",
      "111111111111 alias/xacct-demo-code-111111111111-eu-west-1",
      "111111111111 alias/xacct-demo-tfstate-111111111111",
      "222222222222 alias/xacct-demo-callee",
      "222222222222 alias/xacct-demo-code-222222222222-eu-west-1",
    ]);
    const calleeKey = [...model.keys.values()].find((k) => k.aliases.includes("alias/xacct-demo-callee"))!;
    expect(calleeKey.arn).toBe(`arn:aws:kms:eu-west-1:222222222222:key/${calleeKey.keyId}`);
    expect((calleeKey.policy.Statement as Json[]).map((st) => st.Sid)).toEqual([
      "EnableIamPoliciesInOwnAccount",
      "AllowCloudWatchLogsForOwnLogGroupOnly",
    ]);
    expect(fn(model, CALLEE_ARN).kmsKeyArn).toBe(calleeKey.arn);

    const dir = variant(({ callee }) => delete callee.resource.aws_kms_key[idOf(callee, "aws_kms_key", "callee_key")].policy);
    const withoutPolicy = [...loadAccountsModel(dir).keys.values()].find((k) => k.aliases.includes("alias/xacct-demo-callee"))!;
    expect(withoutPolicy.policy.Statement).toEqual([
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::222222222222:root" },
        Action: "kms:*",
        Resource: "*",
      },
    ]);
  });

  it("refuses an alias that points at no key of the stacks", () => {
    const dir = variant(
      ({ callee }) =>
        (callee.resource.aws_kms_alias[idOf(callee, "aws_kms_alias", "callee_alias")].target_key_id =
          "1234abcd-12ab-34cd-56ef-1234567890ab"),
    );
    expect(modelErrorOf(dir)).toMatch(
      /aws_kms_alias\.callee_alias_[0-9A-F]+.*target_key_id.*points at 1234abcd-12ab-34cd-56ef-1234567890ab, which is no aws_kms_key of the stacks/,
    );
  });
});

describe("what the model refuses to guess", () => {
  it("names the stack, address, attribute path and expression of an unknown reference", () => {
    let fnId = "";
    const dir = variant(({ caller }) => {
      fnId = idOf(caller, "aws_lambda_function");
      caller.resource.aws_lambda_function[fnId].environment.variables.EXTRA = "prefix-${aws_iam_role.nope_1234.arn}";
    });
    const message = modelErrorOf(dir);
    expect(message).toContain(`stack 'caller', aws_lambda_function.${fnId}.environment.variables.EXTRA`);
    expect(message).toContain("${aws_iam_role.nope_1234.arn}");
    expect(message).toContain("has no resource aws_iam_role.nope_1234");
  });

  it.each([
    ["${jsonencode({a = 1})}", "function call jsonencode(...) is not supported"],
    ["${data.aws_caller_identity.current.account_id}", "data source data.aws_caller_identity.current is not modelled"],
    ["${var.x}", "input variables are not modelled"],
    ["${aws_sqs_queue.other.arn}", "has no resource aws_sqs_queue.other"],
    ["%{ if true }x%{ endif }", "template directives"],
  ])("reports %s", (expression, reason) => {
    const dir = variant(({ caller }) => {
      caller.resource.aws_lambda_function[idOf(caller, "aws_lambda_function")].environment.variables.EXTRA = expression;
    });
    expect(modelErrorOf(dir)).toContain(reason);
  });

  it("reports an attribute it does not model, with the attribute and the expression", () => {
    const dir = variant(({ caller }) => {
      const fnId = idOf(caller, "aws_lambda_function");
      caller.resource.aws_lambda_function[fnId].environment.variables.EXTRA =
        `\${aws_iam_role.${idOf(caller, "aws_iam_role")}.create_date}`;
    });
    expect(modelErrorOf(dir)).toMatch(
      /cannot resolve \$\{aws_iam_role\.caller_role_\w+\.create_date\}: attribute 'create_date' of aws_iam_role is not modelled/,
    );
  });

  it("reports a remote state that no stack's backend matches, with the bucket/key read and the stacks there are", () => {
    const dir = variant(({ callee }) => {
      callee.terraform.backend.s3.key = "cross-account-lambda/elsewhere.tfstate";
    });
    const message = modelErrorOf(dir);
    expect(message).toContain("stack 'caller'");
    expect(message).toContain("${data.terraform_remote_state.callee-state.outputs.");
    expect(message).toContain("reads state s3://xacct-demo-tfstate-111111111111/cross-account-lambda/callee.tfstate");
    expect(message).toContain("callee (s3://xacct-demo-tfstate-111111111111/cross-account-lambda/elsewhere.tfstate)");
    expect(message).toContain("bootstrap (no S3 backend)");
  });

  it("names the stack and the output a remote-state read cannot find", () => {
    const dir = variant(({ callee }) => {
      delete callee.output.invoker_role_arn;
    });
    expect(modelErrorOf(dir)).toContain("stack 'callee' has no output 'invoker_role_arn'");
  });

  it("fails with a precondition's error_message when it is false, as terraform plan would", () => {
    const dir = variant(({ callee }) => {
      callee.output.external_id_required.value = true;
    });
    const message = modelErrorOf(dir);
    expect(message).toContain("precondition ${data.terraform_remote_state.callee-state.outputs.external_id_required == false} is false");
    expect(message).toContain("externalId is set on one side only");
  });

  it("fails when the invoker role the caller expects is not the one the callee's state describes", () => {
    const dir = variant(({ callee }) => {
      callee.output.invoker_role_arn.value = "arn:aws:iam::222222222222:role/someone-else";
    });
    expect(modelErrorOf(dir)).toContain("does not describe invoker role arn:aws:iam::222222222222:role/xacct-demo-callee-invoker");
  });

  it("refuses a precondition of a shape it does not evaluate", () => {
    const dir = variant(({ caller }) => {
      const policy = caller.resource.aws_iam_role_policy[idOf(caller, "aws_iam_role_policy", "caller_assume")];
      policy.lifecycle.precondition[0].condition = "${length(data.terraform_remote_state.callee-state.outputs.invoker_role_arn) > 0}";
    });
    expect(modelErrorOf(dir)).toMatch(
      /lifecycle\.precondition\[0\]\.condition: the precondition .*length\(.*shape the model does not evaluate/,
    );
  });

  it("reports a missing zip and says how to rebuild it", () => {
    const zip = fn(model, CALLEE_ARN).zipPath;
    const dir = variant((_stacks, d) => fs.rmSync(path.join(d, path.relative(outDir, zip))));
    const message = modelErrorOf(dir);
    expect(message).toContain(path.join(dir, path.relative(outDir, zip)));
    expect(message).toContain("does not exist");
    expect(message).toContain("npx cdktf synth");
  });

  it("reports a zip whose SHA-256 is not the recorded one as a stale bundle", () => {
    const zip = fn(model, CALLER_ARN).zipPath;
    const dir = variant((_stacks, d) => fs.appendFileSync(path.join(d, path.relative(outDir, zip)), "x"));
    expect(modelErrorOf(dir)).toMatch(
      /stack 'caller', aws_lambda_function\.\S+: stale bundle: .*function\.zip has SHA-256 [0-9a-f]{64} but the stack records [0-9a-f]{64}; re-synthesize/,
    );
  });

  it("requires a function's role to be one the stacks define", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_lambda_function[idOf(callee, "aws_lambda_function")].role = "arn:aws:iam::222222222222:role/not-here";
    });
    expect(modelErrorOf(dir)).toMatch(/\.role: the function's role arn:aws:iam::222222222222:role\/not-here is not defined by the stacks/);
  });

  it("requires a valid trust policy", () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_iam_role[idOf(callee, "aws_iam_role", "invoker_")].assume_role_policy =
        '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}';
    });
    expect(modelErrorOf(dir)).toMatch(
      /aws_iam_role\.invoker_\w+\.assume_role_policy: not a valid policy document \(Effect must be Allow or Deny/,
    );
  });

  it("refuses a role name given as name_prefix", () => {
    const dir = variant(({ callee }) => {
      const invoker = callee.resource.aws_iam_role[idOf(callee, "aws_iam_role", "invoker_")];
      delete invoker.name;
      invoker.name_prefix = "invoker-";
    });
    expect(modelErrorOf(dir)).toMatch(/aws_iam_role\.invoker_\w+\.name_prefix: the name is generated from name_prefix at apply time/);
  });

  it("needs allowed_account_ids with exactly one account on every provider", () => {
    const dir = variant(({ callee }) => {
      callee.provider.aws[0].allowed_account_ids = ["222222222222", "333333333333"];
    });
    expect(modelErrorOf(dir)).toContain(
      "stack 'callee', provider aws.callee: the model needs allowed_account_ids with exactly one 12-digit account id",
    );
  });

  it("says which command builds the stacks when there are none", () => {
    expect(modelErrorOf(fs.mkdtempSync(path.join(tmp, "empty-")))).toMatch(/no synthesized stacks .*npx cdktf synth/);
  });
});

describe("findStaleness", () => {
  const NOW = Date.now() / 1000;
  let project: string;

  /** A minimal project: the inputs 100 s old, the synthesized stacks 50 s old. */
  beforeEach(() => {
    project = fs.mkdtempSync(path.join(tmp, "project-"));
    const write = (rel: string, ageSeconds: number) => {
      const file = path.join(project, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "x");
      fs.utimesSync(file, NOW - ageSeconds, NOW - ageSeconds);
    };
    for (const rel of [
      "main.ts",
      "cdktf.json",
      "package-lock.json",
      "config/config.ts",
      "constructs/a.ts",
      "stacks/b.ts",
      "lambda-src/callee/index.ts",
      "lambda-src/callee/README.md",
    ])
      write(rel, 100);
    fs.writeFileSync(path.join(project, "cdktf.json"), "{}");
    fs.utimesSync(path.join(project, "cdktf.json"), NOW - 100, NOW - 100);
    for (const stack of REQUIRED_STACKS) write(`cdktf.out/stacks/${stack}/cdk.tf.json`, 50);
    // What main.ts records at synthesis: the configuration resolved for this project.
    fs.writeFileSync(path.join(project, "cdktf.out", CONFIG_RECORD_FILE), JSON.stringify(loadConfig({ cwd: project })));
  });

  const touch = (rel: string) => {
    const file = path.join(project, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (!fs.existsSync(file)) fs.writeFileSync(file, "x");
    fs.utimesSync(file, NOW, NOW);
  };

  it("finds nothing when the stacks are newer than every input", () => {
    expect(findStaleness({ projectRoot: project })).toBeUndefined();
  });

  it("lists the inputs: entry point, configuration, lock file and the .ts sources", () => {
    expect(
      synthInputs(project)
        .map((f) => path.relative(project, f))
        .sort(),
    ).toEqual(
      [
        "cdktf.json",
        "config/config.ts",
        "constructs/a.ts",
        "lambda-src/callee/index.ts",
        "main.ts",
        "package-lock.json",
        "stacks/b.ts",
      ].sort(),
    );
    touch("cross-account.config.json");
    expect(synthInputs(project).map((f) => path.relative(project, f))).toContain("cross-account.config.json");
  });

  it("reports a missing stack", () => {
    fs.rmSync(path.join(project, "cdktf.out/stacks/caller/cdk.tf.json"));
    expect(findStaleness({ projectRoot: project })).toBe("cdktf.out/stacks/caller/cdk.tf.json is missing");
  });

  it("with several callers, requires every caller stack the manifest lists instead of `caller`", () => {
    const out = path.join(project, "cdktf.out");
    const stacks = ["bootstrap", "callee", "caller-orders", "caller-billing"];
    fs.writeFileSync(path.join(out, "manifest.json"), JSON.stringify({ stacks: Object.fromEntries(stacks.map((n) => [n, {}])) }));
    expect(requiredStacks(out)).toEqual(["callee", "caller-orders", "caller-billing"]);
    expect(findStaleness({ projectRoot: project })).toBe("cdktf.out/stacks/caller-orders/cdk.tf.json is missing");
    for (const stack of ["caller-orders", "caller-billing"]) touch(`cdktf.out/stacks/${stack}/cdk.tf.json`);
    fs.rmSync(path.join(out, "stacks", "caller"), { recursive: true });
    expect(findStaleness({ projectRoot: project })).toBeUndefined();
    // Without a manifest: the single caller's names.
    fs.rmSync(path.join(out, "manifest.json"));
    expect(requiredStacks(out)).toEqual([...REQUIRED_STACKS]);
  });

  it.each([
    "main.ts",
    "cdktf.json",
    "package-lock.json",
    "config/config.ts",
    "constructs/a.ts",
    "stacks/b.ts",
    "lambda-src/callee/index.ts",
    "lambda-src/shared/new.ts",
    "cross-account.config.json",
  ])("reports the stacks as older than a newer %s", (rel) => {
    touch(rel);
    expect(findStaleness({ projectRoot: project })).toMatch(
      new RegExp(`^cdktf\\.out/stacks/(callee|caller)/cdk\\.tf\\.json is older than ${rel.replace(/\./g, "\\.")}$`),
    );
  });

  it("ignores files that are not inputs", () => {
    touch("lambda-src/callee/README.md");
    touch("scripts/demo.ts");
    expect(findStaleness({ projectRoot: project })).toBeUndefined();
  });

  it("reports a configuration that differs from the one recorded at synthesis, naming the fields", () => {
    expect(findStaleness({ projectRoot: project, env: { XACCT_EXTERNAL_ID: "ext-123", XACCT_CALLEE_MEMORY_MB: "512" } })).toBe(
      "the configuration changed since the last synthesis (calleeMemoryMb, externalId)",
    );
  });

  it("reports an invalid configuration as stale, so that synthesis shows the error", () => {
    expect(findStaleness({ projectRoot: project, env: { XACCT_CALLER_ACCOUNT_ID: "1234" } })).toBe("the current configuration is invalid");
  });

  it("reports stacks without a configuration record", () => {
    fs.rmSync(path.join(project, "cdktf.out", CONFIG_RECORD_FILE));
    expect(findStaleness({ projectRoot: project })).toMatch(
      /cross-account\.config\.resolved\.json is missing, so the configuration the stacks were built from is unknown$/,
    );
  });

  it("compares against the oldest stack, in another output directory and with explicit inputs", () => {
    const other = path.join(project, "elsewhere");
    fs.mkdirSync(other, { recursive: true });
    fs.copyFileSync(path.join(project, "cdktf.out", CONFIG_RECORD_FILE), path.join(other, CONFIG_RECORD_FILE));
    for (const stack of REQUIRED_STACKS) touch(`elsewhere/stacks/${stack}/cdk.tf.json`);
    fs.utimesSync(path.join(other, "stacks/callee/cdk.tf.json"), NOW - 200, NOW - 200);
    expect(findStaleness({ projectRoot: project, outDir: other })).toBe("elsewhere/stacks/callee/cdk.tf.json is older than main.ts");
    expect(findStaleness({ projectRoot: project, outDir: other, inputs: [] })).toBeUndefined();
  });
});

describe("ensureSynthesized", () => {
  it("does nothing when the output is fresh", async () => {
    const logs: string[] = [];
    await expect(ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, log: (m) => logs.push(m) })).resolves.toEqual({
      synthesized: false,
    });
    expect(logs).toEqual([]);
  });

  it("carries the synthesis's stderr in a ModelError when it fails", async () => {
    const failing = path.join(tmp, "failing", "cdktf.out");
    const logs: string[] = [];
    const run = ensureSynthesized({
      projectRoot: PROJECT_ROOT,
      outDir: failing,
      env: { XACCT_CALLER_ACCOUNT_ID: "1234" },
      log: (m) => logs.push(m),
    });
    await expect(run).rejects.toThrow(ModelError);
    await expect(run).rejects.toThrow(/synthesis failed[\s\S]*callerAccountId must be 12 digits, got '1234'/);
    expect(logs).toEqual([expect.stringContaining(`synthesizing into ${failing}: `)]);
  });

  it("synthesizes several callers (XACCT_CONFIG_FILE) as a success, and then finds them fresh", async () => {
    const several = path.join(tmp, "several", "cdktf.out");
    const env = { XACCT_CONFIG_FILE: path.join(PROJECT_ROOT, "examples", "three-callers.json") };
    await expect(ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir: several, env })).resolves.toEqual({
      synthesized: true,
      reason: expect.stringContaining("is missing"),
    });
    expect(requiredStacks(several).sort()).toEqual(["callee", "caller-billing", "caller-orders", "caller-reports"]);
    expect(fs.existsSync(path.join(several, "stacks", "caller"))).toBe(false);
    await expect(ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir: several, env })).resolves.toEqual({ synthesized: false });
  });
});
