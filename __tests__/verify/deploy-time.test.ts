/**
 * The deploy-time check (verify/deploy-time) on the current stacks and on weakened variants of them:
 * every rule applies where it should and passes on the unmodified stacks, and each weakness is caught
 * by the right rule on the right resource, with what AWS would answer and the fix.
 */
import * as fs from "fs";
import * as path from "path";
import { VerifyInputError } from "../../verify/access-model";
import { EXIT } from "../../verify/cli";
import { checkDeployTime, deployFindings, type DeployTimeResult } from "../../verify/deploy-time/check";
import { ruleDescriptions, type DeployCheck } from "../../verify/deploy-time/rules";
import { synthesizeWith, variantOf, verifyCli, verifyInProcess } from "./support";
import { CONFIG_FILE_ENV } from "../../config/load";
import { PROJECT_ROOT } from "../../local/start";
import { DEPLOY_ORDER } from "../../verify/from-stacks";
import { editPolicy, OUT_DIR, stacksVariant, type TfJson } from "../local/support";
import { onlyResource } from "../support/terraform-json";

type Side = "callee" | "caller";
type Stacks = { callee: TfJson; caller: TfJson };

const ACCOUNT: Record<Side, string> = { caller: "111111111111", callee: "222222222222" };
const OTHER_ACCOUNT = "999988887777";

const variants: string[] = [];
function variant(mutate: (stacks: Stacks) => void): string {
  const dir = stacksVariant(mutate);
  variants.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of variants) fs.rmSync(dir, { recursive: true, force: true });
});

const check = (dir: string): Promise<DeployTimeResult> => checkDeployTime(dir, DEPLOY_ORDER);

/** `rule stack type` of every check: which rules applied where. */
const applied = (result: DeployTimeResult) => result.checks.map((c) => `${c.rule} ${c.stack} ${c.address.split(".")[0]}`).sort();
const failed = (result: DeployTimeResult) =>
  deployFindings(result)
    .map((c) => `${c.rule} ${c.stack} ${c.address}`)
    .sort();

// ---------------------------------------------------------------------------------------------
// The synthesized JSON, read once: addresses, and mutations of it
// ---------------------------------------------------------------------------------------------

const original: Stacks = {
  callee: JSON.parse(fs.readFileSync(`${OUT_DIR}/stacks/callee/cdk.tf.json`, "utf8")),
  caller: JSON.parse(fs.readFileSync(`${OUT_DIR}/stacks/caller/cdk.tf.json`, "utf8")),
};

/** The address of the one resource of `type` in a stack (`aws_x.name`). */
function addressOf(stack: TfJson, type: string): string {
  const names = Object.keys(stack.resource?.[type] ?? {});
  if (names.length !== 1) throw new Error(`expected one ${type}, found ${names.length}`);
  return `${type}.${names[0]}`;
}

/** The address a `${type.name.attr}` reference points at. */
function referenced(expression: string): string {
  const m = /^\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(expression);
  if (!m) throw new Error(`not a single reference: ${expression}`);
  return m[1];
}

function resourceAt(stack: TfJson, address: string): TfJson {
  const [type, name] = address.split(".");
  const found = stack.resource?.[type]?.[name];
  if (!found) throw new Error(`no ${address}`);
  return found;
}

const rolePolicyNamed = (stack: TfJson, name: string): [string, TfJson] => {
  const found = Object.entries(stack.resource.aws_iam_role_policy as Record<string, TfJson>).filter(([, p]) => p.name === name);
  if (found.length !== 1) throw new Error(`expected one aws_iam_role_policy named ${name}, found ${found.length}`);
  return [`aws_iam_role_policy.${found[0][0]}`, found[0][1]];
};

const addr = {
  function: (side: Side) => addressOf(original[side], "aws_lambda_function"),
  // The function's own group (a caller with VPC endpoints has the endpoints' group too).
  securityGroup: (side: Side) => {
    const config = onlyResource(original[side], "aws_lambda_function").vpc_config;
    return referenced((Array.isArray(config) ? config[0] : config).security_group_ids[0]);
  },
  logGroup: (side: Side) => addressOf(original[side], "aws_cloudwatch_log_group"),
  invokeConfig: (side: Side) => addressOf(original[side], "aws_lambda_function_event_invoke_config"),
  codeObject: (side: Side) => addressOf(original[side], "aws_s3_object"),
  networkPolicy: (side: Side) => rolePolicyNamed(original[side], "network-interfaces")[0],
  executionPolicy: (side: Side) => rolePolicyNamed(original[side], "execution")[0],
  executionRole: (side: Side) => referenced(onlyResource(original[side], "aws_lambda_function").role),
  functionKey: (side: Side) => referenced(onlyResource(original[side], "aws_lambda_function").kms_key_arn),
};

const fn = (s: Stacks, side: Side) => resourceAt(s[side], addr.function(side));
const executionRole = (s: Stacks, side: Side) => resourceAt(s[side], addr.executionRole(side));
const functionKey = (s: Stacks, side: Side) => resourceAt(s[side], addr.functionKey(side));
const securityGroup = (s: Stacks, side: Side) => resourceAt(s[side], addr.securityGroup(side));
const bucketPolicy = (s: Stacks, side: Side) => onlyResource(s[side], "aws_s3_bucket_policy");
const withoutStatement = (sid: string) => (doc: TfJson) => {
  const before = doc.Statement.length;
  doc.Statement = doc.Statement.filter((st: TfJson) => st.Sid !== sid);
  if (doc.Statement.length !== before - 1) throw new Error(`no statement ${sid}`);
};
const removeDependsOn = (resource: TfJson, address: string) => {
  if (!resource.depends_on?.includes(address)) throw new Error(`${address} is not in depends_on`);
  resource.depends_on = resource.depends_on.filter((a: string) => a !== address);
  if (resource.depends_on.length === 0) delete resource.depends_on;
};

/** The network-interface statement as it was before Lambda's CreateFunction validation was taken into account. */
function scopedNetworkInterfaceStatements(s: Stacks, side: Side, securityGroupArn: string): TfJson[] {
  const ec2 = `arn:aws:ec2:eu-west-1:${ACCOUNT[side]}`;
  return [
    {
      Sid: "DescribeNetworkForVpcAttachment",
      Effect: "Allow",
      Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
      Resource: "*",
    },
    {
      Sid: "CreateNetworkInterfacesInOwnSubnetsAndSecurityGroup",
      Effect: "Allow",
      Action: "ec2:CreateNetworkInterface",
      Resource: [
        `${ec2}:network-interface/*`,
        ...fn(s, side).vpc_config.subnet_ids.map((subnet: string) => `${ec2}:subnet/${subnet}`),
        securityGroupArn,
      ],
    },
    {
      Sid: "ManageNetworkInterfacesInOwnAccountAndRegion",
      Effect: "Allow",
      Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
      Resource: `${ec2}:network-interface/*`,
    },
  ];
}
const setNetworkInterfaceStatements = (s: Stacks, side: Side, statements: TfJson[]) =>
  editPolicy(rolePolicyNamed(s[side], "network-interfaces")[1], "policy", (doc) => (doc.Statement = statements));

// ---------------------------------------------------------------------------------------------
// The unmodified stacks
// ---------------------------------------------------------------------------------------------

/** The checks the unmodified stacks must get: every rule, on every resource it is about. */
const EXPECTED_APPLIED = [
  ...(["callee", "caller"] as const).flatMap((side) => [
    `lambda-assumes-execution-role ${side} aws_lambda_function`,
    `execution-role-network-interfaces ${side} aws_lambda_function`,
    `environment-key-usable ${side} aws_lambda_function`,
    `deployer-passes-role-and-reads-code ${side} aws_lambda_function`,
    `async-destination-permissions ${side} aws_lambda_function_event_invoke_config`,
    `async-destination-key-usable ${side} aws_lambda_function_event_invoke_config`,
    `log-group-key-allows-logs ${side} aws_cloudwatch_log_group`,
    `code-upload-accepted ${side} aws_s3_object`,
    `bucket-policy-not-public ${side} aws_s3_bucket_policy`,
    `policy-principals-exist ${side} aws_s3_bucket_policy`,
    // Two keys per side: the function's and the code bucket's.
    `key-policy-lockout-safety ${side} aws_kms_key`,
    `key-policy-lockout-safety ${side} aws_kms_key`,
    `policy-principals-exist ${side} aws_kms_key`,
    `policy-principals-exist ${side} aws_kms_key`,
    `policy-principals-exist ${side} aws_iam_role`,
    `network-interface-permissions-outlive-security-group ${side} aws_security_group`,
  ]),
  // The callee's second role: the invoker role, whose trust names account A's root, never the caller's role.
  "policy-principals-exist callee aws_iam_role",
  // The caller's VPC endpoints (vpcEndpoints 'create'): each private-DNS endpoint, and the two rules between the groups.
  "private-dns-endpoint-unique-per-vpc caller aws_vpc_endpoint",
  "private-dns-endpoint-unique-per-vpc caller aws_vpc_endpoint",
  "security-group-rule-same-vpc caller aws_vpc_security_group_egress_rule",
  "security-group-rule-same-vpc caller aws_vpc_security_group_ingress_rule",
  // The bootstrap stack: the state bucket's key and policy.
  "key-policy-lockout-safety bootstrap aws_kms_key",
  "policy-principals-exist bootstrap aws_kms_key",
  "bucket-policy-not-public bootstrap aws_s3_bucket_policy",
  "policy-principals-exist bootstrap aws_s3_bucket_policy",
].sort();

describe("the deploy-time check of the unmodified stacks", () => {
  let result: DeployTimeResult;
  beforeAll(async () => {
    result = await check(OUT_DIR);
  });

  it("passes every check: 0 findings", () => {
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(deployFindings(result)).toEqual([]);
    for (const c of result.checks) expect(c.detail).not.toBe("");
  });

  it("applies each rule to each resource it is about, and nothing else (a rule that stops applying fails here)", () => {
    expect(applied(result)).toEqual(EXPECTED_APPLIED);
    // Exactly once per resource: the addresses too, not only the types.
    const perResource = result.checks.map((c) => `${c.rule} ${c.stack} ${c.address}`);
    expect(new Set(perResource).size).toBe(perResource.length);
    for (const side of ["callee", "caller"] as const) {
      expect(result.checks.filter((c) => c.stack === side && c.address === addr.function(side)).map((c) => c.rule)).toEqual([
        "lambda-assumes-execution-role",
        "execution-role-network-interfaces",
        "environment-key-usable",
        "deployer-passes-role-and-reads-code",
      ]);
      expect(
        result.checks.find((c) => c.stack === side && c.rule === "network-interface-permissions-outlive-security-group")?.address,
      ).toBe(addr.securityGroup(side));
      expect(result.checks.find((c) => c.stack === side && c.rule === "async-destination-permissions")?.address).toBe(
        addr.invokeConfig(side),
      );
      expect(result.checks.find((c) => c.stack === side && c.rule === "log-group-key-allows-logs")?.address).toBe(addr.logGroup(side));
      expect(result.checks.find((c) => c.stack === side && c.rule === "code-upload-accepted")?.address).toBe(addr.codeObject(side));
    }
  });

  it("lists the twenty-one rules (the table's and the gateway endpoint's too, which these stacks do not use), and judges with what the rule says (the policies and statements that decided)", () => {
    expect(result.rules.map((r) => r.id)).toEqual([
      "lambda-assumes-execution-role",
      "execution-role-network-interfaces",
      "environment-key-usable",
      "deployer-passes-role-and-reads-code",
      "async-destination-permissions",
      "async-destination-key-usable",
      "log-group-key-allows-logs",
      "code-upload-accepted",
      "bucket-policy-not-public",
      "key-policy-lockout-safety",
      "policy-principals-exist",
      "network-interface-permissions-outlive-security-group",
      "private-dns-endpoint-unique-per-vpc",
      "security-group-rule-same-vpc",
      "table-key-accepted",
      "table-key-grantable-by-deployer",
      "table-key-schema-defined",
      "table-deletion-protection-off",
      "gateway-endpoint-arguments",
      "gateway-endpoint-policy-principal-any",
      "prefix-list-egress-own-gateway",
    ]);
    expect(result.rules.map((r) => r.phase)).toEqual([
      "create",
      "create",
      "create",
      "create",
      "create",
      "run",
      "create",
      "create",
      "create",
      "create",
      "create",
      "destroy",
      "create",
      "create",
      "create",
      "create",
      "create",
      "destroy",
      "create",
      "run",
      "create",
    ]);
    // Each rule names its source (an AWS document or a provider issue).
    for (const rule of result.rules) expect(rule.source).toMatch(/https:\/\/|hashicorp\//);
    // One rule, three calls: the principals a trust, key or bucket policy names.
    expect(result.rules.find((r) => r.id === "policy-principals-exist")?.call).toBe(
      "iam:CreateRole (AssumeRolePolicyDocument), kms:CreateKey (Policy), s3:PutBucketPolicy",
    );
    const detail = (rule: string, side: Side) => result.checks.find((c) => c.rule === rule && c.stack === side)?.detail;
    expect(detail("lambda-assumes-execution-role", "callee")).toBe(
      "lambda.amazonaws.com assumes role/xacct-demo-callee-exec: allowed by trust policy of role/xacct-demo-callee-exec: LambdaInOwnAccountOnly",
    );
    expect(detail("network-interface-permissions-outlive-security-group", "caller")).toMatch(
      /allowed by network-interfaces: ManageNetworkInterfacesInOwnAccountAndRegion$/,
    );
  });

  it("walks the stacks in deploy order, creating dependencies first and destroying in reverse; creation checks come before destruction checks", () => {
    expect(result.stacks.map((s) => s.stack)).toEqual(["bootstrap", "callee", "caller"]);
    for (const { stack, createOrder, destroyOrder } of result.stacks) {
      expect(destroyOrder).toEqual([...createOrder].reverse());
      expect(new Set(createOrder).size).toBe(createOrder.length);
      if (stack === "bootstrap") continue;
      const side = stack as Side;
      const before = (a: string, b: string) => expect(createOrder.indexOf(a)).toBeLessThan(createOrder.indexOf(b));
      for (const a of [
        addr.executionRole(side),
        addr.networkPolicy(side),
        addr.executionPolicy(side),
        addr.functionKey(side),
        addr.securityGroup(side),
        addr.logGroup(side),
        addr.codeObject(side),
      ]) {
        expect(createOrder).toContain(a);
        before(a, addr.function(side));
      }
      before(addr.networkPolicy(side), addr.securityGroup(side));
      before(addr.function(side), addr.invokeConfig(side));
    }
    expect(result.stacks.find((s) => s.stack === "caller")?.createOrder).toContain("data.terraform_remote_state.callee-state");
    const phases = result.checks.map((c) => result.rules.find((r) => r.id === c.rule)?.phase);
    expect(phases.lastIndexOf("create")).toBeLessThan(phases.indexOf("destroy"));
  });
});

// ---------------------------------------------------------------------------------------------
// Weakened variants
// ---------------------------------------------------------------------------------------------

interface Expected {
  readonly rule: string;
  readonly side: Side;
  readonly address: string;
  readonly answer: RegExp;
  readonly detail?: RegExp;
  readonly fix?: RegExp;
}

async function expectCaught(dir: string, expected: readonly Expected[]): Promise<DeployCheck[]> {
  const result = await check(dir);
  expect(failed(result)).toEqual(expected.map((e) => `${e.rule} ${e.side} ${e.address}`).sort());
  // The rules still apply everywhere they did: a weakened variant does not make a check disappear.
  expect(applied(result)).toEqual(EXPECTED_APPLIED);
  const findings = deployFindings(result);
  for (const e of expected) {
    const f = findings.find((c) => c.rule === e.rule && c.stack === e.side && c.address === e.address) as DeployCheck;
    expect(f.answer).toMatch(e.answer);
    expect(f.fix).toMatch(e.fix ?? /\S/);
    if (e.detail) expect(f.detail).toMatch(e.detail);
  }
  return findings;
}

describe("weakened variants, each caught by the right rule on the right resource", () => {
  it("(a) the former scoped network-interface policy (CreateNetworkInterface on the subnets and the group): CreateFunction would be refused", async () => {
    const dir = variant((s) =>
      setNetworkInterfaceStatements(
        s,
        "callee",
        scopedNetworkInterfaceStatements(s, "callee", "arn:aws:ec2:eu-west-1:222222222222:security-group/sg-0c0ffee0c0ffee0c0"),
      ),
    );
    await expectCaught(dir, [
      {
        rule: "execution-role-network-interfaces",
        side: "callee",
        address: addr.function("callee"),
        answer:
          /^InvalidParameterValueException: The provided execution role does not have permissions to call CreateNetworkInterface on EC2/,
        detail: /^ec2:CreateNetworkInterface on subnet\/subnet-00000000000000000 \(an id Lambda does not know yet\).*refused/,
        // The policy itself is wrong (not only its order): grant on "*".
        fix: /^grant role\/xacct-demo-callee-exec ec2:CreateNetworkInterface on Resource "\*"/,
      },
    ]);
  });

  it("(a') the same, with the group's ARN referenced as it once was: the group depends on that policy, so the stack has a cycle (bad input, naming both)", async () => {
    const dir = variant((s) =>
      setNetworkInterfaceStatements(s, "caller", scopedNetworkInterfaceStatements(s, "caller", `\${${addr.securityGroup("caller")}.arn}`)),
    );
    const err = await check(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyInputError);
    expect((err as Error).message).toContain(`stack 'caller': the resources `);
    expect((err as Error).message).toContain(addr.securityGroup("caller"));
    expect((err as Error).message).toContain(addr.networkPolicy("caller"));
    expect((err as Error).message).toMatch(/\(Error: Cycle\)$/);
  });

  it("(b) the security group no longer depends on the interface permissions: destroy would hang on DependencyViolation; creation still passes", async () => {
    const dir = variant((s) => removeDependsOn(securityGroup(s, "caller"), addr.networkPolicy("caller")));
    await expectCaught(dir, [
      {
        rule: "network-interface-permissions-outlive-security-group",
        side: "caller",
        address: addr.securityGroup("caller"),
        answer: /^DependencyViolation: resource sg-… has a dependent object/,
        fix: new RegExp(
          `make ${addr.securityGroup("caller").replace(/\./g, "\\.")} depend on the policy that grants ec2:DeleteNetworkInterface`,
        ),
      },
    ]);
  });

  it("(b') the security group depending on the execution policy instead: the role outlives it, but not the interface permissions", async () => {
    const dir = variant((s) => (securityGroup(s, "callee").depends_on = [addr.executionPolicy("callee")]));
    await expectCaught(dir, [
      {
        rule: "network-interface-permissions-outlive-security-group",
        side: "callee",
        address: addr.securityGroup("callee"),
        answer: /^DependencyViolation/,
        detail: /has only the policies .* depends on: ec2:DeleteNetworkInterface refused/,
      },
    ]);
  });

  it("(c) the function no longer depends on the network-interfaces policy directly: still ordered before it, through the security group it references", async () => {
    const dir = variant((s) => removeDependsOn(fn(s, "callee"), addr.networkPolicy("callee")));
    const result = await check(dir);
    expect(failed(result)).toEqual([]);
    expect(applied(result)).toEqual(EXPECTED_APPLIED);
  });

  it("(c') ... nor does its security group: the policy may not exist yet at CreateFunction (and is gone before the group at destroy)", async () => {
    const dir = variant((s) => {
      removeDependsOn(fn(s, "callee"), addr.networkPolicy("callee"));
      removeDependsOn(securityGroup(s, "callee"), addr.networkPolicy("callee"));
    });
    await expectCaught(dir, [
      {
        rule: "execution-role-network-interfaces",
        side: "callee",
        address: addr.function("callee"),
        answer: /does not have permissions to call CreateNetworkInterface on EC2/,
        detail: /with the role's policies that exist before the function: refused/,
        // The policy is right but may come too late: only the order needs fixing.
        fix: /^make the function depend on the policy that grants ec2:CreateNetworkInterface \(network-interfaces: CreateAndDescribeNetworkInterfaces\)/,
      },
      {
        rule: "network-interface-permissions-outlive-security-group",
        side: "callee",
        address: addr.securityGroup("callee"),
        answer: /^DependencyViolation/,
      },
    ]);
  });

  it("(d) the log group's key without the CloudWatch Logs statement: CreateLogGroup would be refused", async () => {
    const dir = variant((s) => editPolicy(functionKey(s, "callee"), "policy", withoutStatement("AllowCloudWatchLogsForOwnLogGroupOnly")));
    await expectCaught(dir, [
      {
        rule: "log-group-key-allows-logs",
        side: "callee",
        address: addr.logGroup("callee"),
        answer:
          /^AccessDeniedException: The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:eu-west-1:222222222222:log-group:\/aws\/lambda\/xacct-demo-callee'$/,
        detail: /^logs\.eu-west-1\.amazonaws\.com kms:Encrypt on alias\/xacct-demo-callee/,
        fix: /kms:EncryptionContext:aws:logs:arn = arn:aws:logs:eu-west-1:222222222222:log-group:\/aws\/lambda\/xacct-demo-callee/,
      },
    ]);
  });

  it("(d') the CloudWatch Logs statement's encryption context naming another log group: refused too", async () => {
    const dir = variant((s) =>
      editPolicy(functionKey(s, "caller"), "policy", (doc) => {
        const st = doc.Statement.find((x: TfJson) => x.Sid === "AllowCloudWatchLogsForOwnLogGroupOnly");
        st.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] =
          "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/someone-else";
      }),
    );
    await expectCaught(dir, [
      {
        rule: "log-group-key-allows-logs",
        side: "caller",
        address: addr.logGroup("caller"),
        answer: /is not allowed to be used with Arn 'arn:aws:logs:eu-west-1:111111111111:log-group:\/aws\/lambda\/xacct-demo-caller'/,
      },
    ]);
  });

  it("(d'') the CloudWatch Logs statement without kms:Describe*: refused on DescribeKey", async () => {
    const dir = variant((s) =>
      editPolicy(functionKey(s, "callee"), "policy", (doc) => {
        const st = doc.Statement.find((x: TfJson) => x.Sid === "AllowCloudWatchLogsForOwnLogGroupOnly");
        st.Action = st.Action.filter((a: string) => a !== "kms:Describe*");
      }),
    );
    await expectCaught(dir, [
      {
        rule: "log-group-key-allows-logs",
        side: "callee",
        address: addr.logGroup("callee"),
        answer: /is not allowed to be used with Arn/,
        detail: / kms:DescribeKey on /,
      },
    ]);
  });

  it("(l) a second private-DNS STS endpoint in the caller's VPC: CreateVpcEndpoint would be refused for the DNS name", async () => {
    const dir = variant((s) => {
      const endpoints = s.caller.resource.aws_vpc_endpoint as Record<string, TfJson>;
      const [stsId, sts] = Object.entries(endpoints).find(([, e]) => String(e.service_name).endsWith(".sts"))!;
      endpoints[`${stsId}_second`] = JSON.parse(JSON.stringify(sts));
    });
    const result = await check(dir);
    const failed = result.checks.filter((c) => !c.ok && c.rule === "private-dns-endpoint-unique-per-vpc");
    expect(failed).toHaveLength(2);
    expect(failed[0].answer).toBe(
      "InvalidParameter: private-dns-enabled cannot be set because there is already a conflicting DNS domain for sts.eu-west-1.amazonaws.com in the VPC vpc-0a1a1a1a1a1a1a1a1",
    );
    expect(failed[0].fix).toMatch(/create the endpoints once per VPC/);
  });

  it("(m) the endpoints' group in another VPC than the function's: the rules between them would be refused", async () => {
    const dir = variant((s) => {
      const group = Object.values(s.caller.resource.aws_security_group as Record<string, TfJson>).find((g) =>
        String(g.name).endsWith("-endpoints"),
      )!;
      group.vpc_id = "vpc-0f9f9f9f9f9f9f9f9";
    });
    const result = await check(dir);
    const failed = result.checks.filter((c) => !c.ok && c.rule === "security-group-rule-same-vpc");
    expect(failed.map((c) => c.address.split(".")[0]).sort()).toEqual([
      "aws_vpc_security_group_egress_rule",
      "aws_vpc_security_group_ingress_rule",
    ]);
    expect(failed[0].answer).toBe("InvalidGroup.NotFound: You have specified two resources that belong to different networks.");
  });

  it("(e) the execution role without sqs:SendMessage on its queue: PutFunctionEventInvokeConfig would be refused", async () => {
    const dir = variant((s) =>
      editPolicy(rolePolicyNamed(s.caller, "execution")[1], "policy", withoutStatement("SendFailedAsyncEventsToOwnQueue")),
    );
    await expectCaught(dir, [
      {
        rule: "async-destination-permissions",
        side: "caller",
        address: addr.invokeConfig("caller"),
        answer:
          /^InvalidParameterValueException: The function's execution role does not have permissions to call SendMessage on arn:aws:sqs:eu-west-1:111111111111:xacct-demo-caller-async-failures$/,
        fix: /grant role\/xacct-demo-caller-exec sqs:SendMessage on the queue/,
      },
    ]);
  });

  it("(f) the execution role trusting ec2.amazonaws.com instead of Lambda: CreateFunction would be refused", async () => {
    const dir = variant((s) =>
      editPolicy(
        executionRole(s, "callee"),
        "assume_role_policy",
        (doc) => (doc.Statement[0].Principal = { Service: "ec2.amazonaws.com" }),
      ),
    );
    await expectCaught(dir, [
      {
        rule: "lambda-assumes-execution-role",
        side: "callee",
        address: addr.function("callee"),
        answer: /^InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda\.$/,
        detail: /^lambda\.amazonaws\.com assumes role\/xacct-demo-callee-exec: refused/,
        fix: /let Principal \{"Service": "lambda\.amazonaws\.com"\} assume role\/xacct-demo-callee-exec \(with aws:SourceAccount 222222222222\)/,
      },
    ]);
  });

  it("(f') the execution role's trust pinned to another account by aws:SourceAccount: refused too", async () => {
    const dir = variant((s) =>
      editPolicy(
        executionRole(s, "caller"),
        "assume_role_policy",
        (doc) => (doc.Statement[0].Condition.StringEquals["aws:SourceAccount"] = OTHER_ACCOUNT),
      ),
    );
    await expectCaught(dir, [
      {
        rule: "lambda-assumes-execution-role",
        side: "caller",
        address: addr.function("caller"),
        answer: /cannot be assumed by Lambda/,
        fix: /aws:SourceAccount 111111111111/,
      },
    ]);
  });

  it("(g) the code bucket's former denials (no Null guard on the encryption header): the multipart parts of the upload are refused", async () => {
    const dir = variant((s) =>
      editPolicy(bucketPolicy(s, "callee"), "policy", (doc) => {
        // The Null guard of the two header checks; the SSE-C denial is a Null condition alone, and stays.
        for (const st of doc.Statement) if (st.Condition?.Null && st.Condition?.StringNotEquals) delete st.Condition.Null;
      }),
    );
    await expectCaught(dir, [
      {
        rule: "code-upload-accepted",
        side: "callee",
        address: addr.codeObject("callee"),
        answer: /^AccessDenied when calling the UploadPart operation/,
        detail:
          /^an UploadPart of s3:\/\/xacct-demo-code-222222222222-eu-west-1\/functions\/callee\/.*refused.*DenyUploadsNotEncryptedWithKms/,
        fix: /add Null \{"s3:x-amz-server-side-encryption": "false"\} to the Deny/,
      },
    ]);
  });

  it("(g') the code object encrypted with another key (the function's own): the upload itself is refused", async () => {
    const dir = variant((s) => (onlyResource(s.caller, "aws_s3_object").kms_key_id = `\${${addr.functionKey("caller")}.arn}`));
    await expectCaught(dir, [
      {
        rule: "code-upload-accepted",
        side: "caller",
        address: addr.codeObject("caller"),
        answer:
          /^AccessDenied: User: arn:aws:iam::111111111111:\S+ is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::xacct-demo-code-111111111111-eu-west-1\/functions\/caller\//,
        detail:
          /^s3:PutObject of .* over TLS with x-amz-server-side-encryption: aws:kms, x-amz-server-side-encryption-aws-kms-key-id: arn:aws:kms:eu-west-1:111111111111:key\/.*DenyUploadsEncryptedWithAnotherKey/,
        fix: /kms_key_id = the ARN of the key the bucket policy requires/,
      },
    ]);
  });

  it("(h) the environment key without the root (IAM delegation) statement: Lambda cannot grant itself the key; the queue on that key loses failed events", async () => {
    const dir = variant((s) => editPolicy(functionKey(s, "caller"), "policy", withoutStatement("EnableIamPoliciesInOwnAccount")));
    const findings = await expectCaught(dir, [
      // KMS refuses the key itself first: nobody could change its policy afterwards.
      {
        rule: "key-policy-lockout-safety",
        side: "caller",
        address: addr.functionKey("caller"),
        answer: /^MalformedPolicyDocumentException: The new key policy will not allow you to update the key policy in the future\.$/,
        detail: /kms:PutKeyPolicy on alias\/xacct-demo-caller: refused/,
        fix: /keep the statement that delegates the key to account 111111111111's IAM/,
      },
      {
        rule: "environment-key-usable",
        side: "caller",
        address: addr.function("caller"),
        answer: /Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant$/,
        detail: /^the account's deployer \(AdministratorAccess\) kms:CreateGrant on alias\/xacct-demo-caller: refused/,
        fix: /let account 111111111111's IAM policies use the key \(the key policy's root statement\)/,
      },
      // The failure queue is encrypted with the same key: the role's kms:GenerateDataKey is an IAM grant, void without the root statement.
      {
        rule: "async-destination-key-usable",
        side: "caller",
        address: addr.invokeConfig("caller"),
        answer: /^KMS\.AccessDeniedException when Lambda sends a failed event/,
        detail: /kms:GenerateDataKey on alias\/xacct-demo-caller, the queue's key: refused/,
        // The key policy refused, not the role's own policy: the fix is in the key policy.
        fix: /^let the key policy of alias\/xacct-demo-caller delegate to account 111111111111's IAM \(the root statement\) or name role\/xacct-demo-caller-exec$/,
      },
    ]);
    expect(findings).toHaveLength(3);
  });

  it("(j) the invoker role trusting the caller's role by its ARN: IAM refuses a principal that does not exist yet (the caller stack comes later)", async () => {
    const callerRole = "arn:aws:iam::111111111111:role/xacct-demo-caller-exec";
    const invoker = Object.entries(original.callee.resource.aws_iam_role as Record<string, TfJson>).find(([, r]) =>
      String(r.name).endsWith("-callee-invoker"),
    );
    if (!invoker) throw new Error("no invoker role");
    const dir = variant((s) =>
      editPolicy(s.callee.resource.aws_iam_role[invoker[0]], "assume_role_policy", (doc) => {
        doc.Statement[0].Principal = { AWS: callerRole };
        delete doc.Statement[0].Condition;
      }),
    );
    await expectCaught(dir, [
      {
        rule: "policy-principals-exist",
        side: "callee",
        address: `aws_iam_role.${invoker[0]}`,
        answer: new RegExp(`^MalformedPolicyDocument: Invalid principal in policy: "AWS":"${callerRole}"$`),
        detail: /which these stacks create later/,
        fix: /name the account's root and narrow it with ArnEquals aws:PrincipalArn/,
      },
    ]);
  });

  it("(k) a bucket policy allowing everyone to read while Block Public Access blocks public policies: PutBucketPolicy is refused", async () => {
    const dir = variant((s) =>
      editPolicy(bucketPolicy(s, "caller"), "policy", (doc) =>
        doc.Statement.push({
          Sid: "PublicRead",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: doc.Statement[0].Resource,
        }),
      ),
    );
    await expectCaught(dir, [
      {
        rule: "bucket-policy-not-public",
        side: "caller",
        address: addressOf(original.caller, "aws_s3_bucket_policy"),
        answer: /public policies are blocked by the BlockPublicPolicy block public access setting\.$/,
        detail: /is public \(PublicRead\)/,
      },
    ]);
    // The same statement pinned to the organisation is not public.
    const pinned = variant((s) =>
      editPolicy(bucketPolicy(s, "caller"), "policy", (doc) =>
        doc.Statement.push({
          Sid: "OrgRead",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: doc.Statement[0].Resource,
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
        }),
      ),
    );
    expect(failed(await check(pinned))).toEqual([]);
  });

  it("(i) a bucket policy denying s3:GetObject to everyone: CreateFunction cannot read the code", async () => {
    const dir = variant((s) =>
      editPolicy(bucketPolicy(s, "callee"), "policy", (doc) =>
        doc.Statement.push({
          Sid: "DenyReads",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: doc.Statement[0].Resource,
        }),
      ),
    );
    await expectCaught(dir, [
      {
        rule: "deployer-passes-role-and-reads-code",
        side: "callee",
        address: addr.function("callee"),
        answer:
          /^InvalidParameterValueException: Error occurred while GetObject\. S3 Error Code: AccessDenied\. S3 Error Message: Access Denied$/,
        detail: /^s3:GetObject on s3:\/\/xacct-demo-code-222222222222-eu-west-1\/functions\/callee\/.* over TLS: refused.*DenyReads/,
        fix: /let the deployer of account 222222222222 read the code objects/,
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the command line
// ---------------------------------------------------------------------------------------------

describe("the deploy-time check in `npm run verify`", () => {
  const checks = EXPECTED_APPLIED.length;
  const sg = addr.securityGroup("callee");
  let weakened: string;
  beforeAll(() => {
    weakened = variant((s) => removeDependsOn(securityGroup(s, "callee"), addr.networkPolicy("callee")));
  });

  it("the unmodified stacks: a Deploy time section, no findings, PASS, exit 0 (in process and from the real command line)", async () => {
    const run = await verifyInProcess(["--dir", OUT_DIR]);
    expect(run.code).toBe(EXIT.proven);
    expect(run.out).toContain("\nDeploy time: what AWS checks as Terraform creates, then destroys, each stack's resources\n");
    for (const rule of ruleDescriptions()) expect(run.out).toContain(`    ${rule.id} (${rule.phase}, ${rule.call}): `);
    expect(run.out.match(/^ {2}OK {2}\s+\[/gm)).toHaveLength(checks);
    expect(run.out).not.toMatch(/^ {2}FAIL/m);
    expect(run.out).toContain(`\nDeploy-time findings: none (${checks} checks).\n`);
    expect(run.out).toMatch(new RegExp(`^PASS: .* Every deploy-time check passes \\(${checks}\\)\\.$`, "m"));

    const cli = await verifyCli(["--dir", OUT_DIR]);
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(EXIT.proven);
    expect(cli.stdout).toContain(`\nDeploy-time findings: none (${checks} checks).\n`);

    const json = JSON.parse((await verifyInProcess(["--dir", OUT_DIR, "--format", "json"])).out);
    expect(json.summary.deployTimeFindings).toBe(0);
    expect(json.deployTime).toMatchObject({ passed: true, findings: [] });
    expect(json.deployTime.checks).toHaveLength(checks);
    expect((await verifyInProcess(["--dir", OUT_DIR, "--format", "mermaid"])).out).toContain(
      `\n%% Deploy time: ${checks} checks, 0 findings\n`,
    );
  });

  it("a variant with only a deploy-time weakness: FAIL and exit 1, the finding in text, JSON and Mermaid", async () => {
    const text = await verifyInProcess(["--dir", weakened]);
    expect(text.code).toBe(EXIT.violation);
    expect(text.out).toContain(
      `\n  FAIL  [network-interface-permissions-outlive-security-group] stack 'callee' ${sg}: role/xacct-demo-callee-exec may be destroyed before ${sg}\n`,
    );
    expect(text.out).toContain(
      `\nDeploy-time findings (1 of ${checks} checks):\n  [network-interface-permissions-outlive-security-group] stack 'callee' ${sg}\n      AWS would answer: DependencyViolation`,
    );
    expect(text.out).toMatch(/\n {6}fix: make aws_security_group\.\S+ depend on the policy that grants ec2:DeleteNetworkInterface/);
    expect(text.out).toMatch(/^FAIL: 1 deploy-time finding\.$/m);
    expect(text.out).toContain("Findings: none.");

    const jsonRun = await verifyInProcess(["--dir", weakened, "--format", "json"]);
    expect(jsonRun.code).toBe(EXIT.violation);
    const json = JSON.parse(jsonRun.out);
    expect(json.passed).toBe(false);
    expect(json.summary).toEqual({
      beyondIntended: 0,
      intendedPathRefused: 0,
      beyondIntendedRefusedOnlyByEndpoint: 0,
      findings: 0,
      deployTimeFindings: 1,
    });
    expect(json.deployTime.passed).toBe(false);
    expect(json.deployTime.findings).toEqual([
      expect.objectContaining({
        rule: "network-interface-permissions-outlive-security-group",
        stack: "callee",
        address: sg,
        ok: false,
        answer: expect.stringMatching(/^DependencyViolation/),
        fix: expect.stringContaining("depends_on"),
      }),
    ]);
    expect(json.deployTime.checks).toHaveLength(checks);

    const mermaid = await verifyInProcess(["--dir", weakened, "--format", "mermaid"]);
    expect(mermaid.code).toBe(EXIT.violation);
    expect(mermaid.out).toContain(
      `\n%% Deploy time: ${checks} checks, 1 finding\n%%   [network-interface-permissions-outlive-security-group] stack 'callee' ${sg}: DependencyViolation`,
    );
  });

  it("a stack whose resources form a cycle: bad input (exit 2) naming them, from the real command line", async () => {
    const dir = variant((s) =>
      setNetworkInterfaceStatements(s, "callee", scopedNetworkInterfaceStatements(s, "callee", `\${${addr.securityGroup("callee")}.arn}`)),
    );
    const cli = await verifyCli(["--dir", dir]);
    expect(cli.code).toBe(EXIT.badInput);
    expect(cli.stderr).toMatch(
      /^verify: stack 'callee': the resources .* depend on each other, so Terraform cannot order them \(Error: Cycle\)\n$/,
    );
    expect(cli.stderr).toContain(addr.securityGroup("callee"));
    expect(cli.stdout).toBe("");
  });
});

// ---------------------------------------------------------------------------------------------
// The idempotent callee (examples/idempotent-callee.json): its table, gateway endpoint and prefix-list egress
// ---------------------------------------------------------------------------------------------

/** The checks the idempotent synth adds to the default stacks' (its other resources are the same). */
const IDEMPOTENT_ADDS = [
  "table-key-accepted callee aws_dynamodb_table",
  "table-key-grantable-by-deployer callee aws_dynamodb_table",
  "table-key-schema-defined callee aws_dynamodb_table",
  "table-deletion-protection-off callee aws_dynamodb_table",
  "gateway-endpoint-arguments callee aws_vpc_endpoint",
  "gateway-endpoint-policy-principal-any callee aws_vpc_endpoint",
  "prefix-list-egress-own-gateway callee aws_vpc_security_group_egress_rule",
];
const EXPECTED_APPLIED_IDEMPOTENT = [...EXPECTED_APPLIED, ...IDEMPOTENT_ADDS].sort();

describe("the idempotent callee: the table's and the gateway endpoint's rules", () => {
  let base: string;
  let calleeJson: TfJson;
  beforeAll(async () => {
    base = await synthesizeWith({ [CONFIG_FILE_ENV]: path.join(PROJECT_ROOT, "examples/idempotent-callee.json") });
    variants.push(base);
    calleeJson = JSON.parse(fs.readFileSync(`${base}/stacks/callee/cdk.tf.json`, "utf8"));
  }, 120_000);

  const tableAddress = () => addressOf(calleeJson, "aws_dynamodb_table");
  const endpointAddress = () => addressOf(calleeJson, "aws_vpc_endpoint");
  const egressAddress = () => addressOf(calleeJson, "aws_vpc_security_group_egress_rule");
  const tableKeyAddress = () => referenced(onlyResource(calleeJson, "aws_dynamodb_table").server_side_encryption.kms_key_arn);

  function idempotentVariant(mutate: (callee: TfJson) => void): string {
    const dir = variantOf(base, (stacks) => mutate(stacks.callee));
    variants.push(dir);
    return dir;
  }

  /** The findings of a variant are exactly these (rule @ address), on the same checks as the unmodified synth. */
  async function expectIdempotentCaught(dir: string, expected: readonly Omit<Expected, "side">[]): Promise<DeployCheck[]> {
    const result = await check(dir);
    expect(failed(result)).toEqual(expected.map((e) => `${e.rule} callee ${e.address}`).sort());
    expect(applied(result)).toEqual(EXPECTED_APPLIED_IDEMPOTENT);
    const findings = deployFindings(result);
    for (const e of expected) {
      const f = findings.find((c) => c.rule === e.rule && c.address === e.address) as DeployCheck;
      expect(f.answer).toMatch(e.answer);
      expect(f.fix).toMatch(e.fix ?? /\S/);
      if (e.detail) expect(f.detail).toMatch(e.detail);
    }
    return findings;
  }

  it("the unmodified synth: the seven new checks apply, on the table, the endpoint and the egress rule, and all pass", async () => {
    const result = await check(base);
    expect(applied(result)).toEqual(EXPECTED_APPLIED_IDEMPOTENT);
    expect(deployFindings(result)).toEqual([]);
    const on = (rule: string) => result.checks.filter((c) => c.rule === rule).map((c) => c.address);
    for (const rule of [
      "table-key-accepted",
      "table-key-grantable-by-deployer",
      "table-key-schema-defined",
      "table-deletion-protection-off",
    ])
      expect(on(rule)).toEqual([tableAddress()]);
    expect(on("gateway-endpoint-arguments")).toEqual([endpointAddress()]);
    expect(on("gateway-endpoint-policy-principal-any")).toEqual([endpointAddress()]);
    expect(on("prefix-list-egress-own-gateway")).toEqual([egressAddress()]);
    // Deletion protection is judged when the table is destroyed, after every creation check.
    const phases = result.checks.map((c) => c.rule);
    expect(phases.indexOf("table-deletion-protection-off")).toBeGreaterThan(phases.lastIndexOf("table-key-accepted"));
    expect(result.checks.find((c) => c.rule === "table-key-accepted")?.detail).toMatch(
      /^alias\/xacct-demo-callee is a symmetric key of account 222222222222 in eu-west-1, created first/,
    );
  });

  it("table-key-accepted: an asymmetric key (RSA_2048, SIGN_VERIFY) for the table", async () => {
    const dir = idempotentVariant((callee) => {
      const key = resourceAt(callee, tableKeyAddress());
      key.customer_master_key_spec = "RSA_2048";
      key.key_usage = "SIGN_VERIFY";
    });
    await expectIdempotentCaught(dir, [
      {
        rule: "table-key-accepted",
        address: tableAddress(),
        answer: /^ValidationException: .*DynamoDB supports only symmetric encryption keys, not RSA_2048 \(SIGN_VERIFY\)/,
        fix: /SYMMETRIC_DEFAULT/,
      },
    ]);
  });

  it("table-key-accepted: a key ARN that is not one of the stacks' (another Region)", async () => {
    const dir = idempotentVariant(
      (callee) =>
        (onlyResource(callee, "aws_dynamodb_table").server_side_encryption.kms_key_arn =
          "arn:aws:kms:us-east-1:222222222222:key/00000000-0000-0000-0000-000000000000"),
    );
    await expectIdempotentCaught(dir, [
      {
        rule: "table-key-accepted",
        address: tableAddress(),
        answer: /^ValidationException: the KMS key arn:aws:kms:us-east-1:222222222222:key\/0{8}-/,
        detail: /is not a key these stacks create/,
      },
    ]);
  });

  it("table-key-accepted and table-key-grantable-by-deployer: a key policy that denies every use through DynamoDB", async () => {
    const dir = idempotentVariant((callee) =>
      editPolicy(resourceAt(callee, tableKeyAddress()), "policy", (doc) =>
        doc.Statement.push({
          Sid: "NoDynamoDb",
          Effect: "Deny",
          Principal: "*",
          Action: "kms:*",
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com" } },
        }),
      ),
    );
    await expectIdempotentCaught(dir, [
      {
        rule: "table-key-accepted",
        address: tableAddress(),
        answer: /^KMSAccessDeniedException \(DynamoDB\)/,
        detail: /through DynamoDB: refused with an explicit deny in a resource-based policy .*NoDynamoDb/,
      },
      {
        rule: "table-key-grantable-by-deployer",
        address: tableAddress(),
        answer: /^AccessDeniedException: DynamoDB cannot describe the KMS key/,
        detail: /kms:DescribeKey on alias\/xacct-demo-callee through DynamoDB: refused/,
      },
    ]);
  });

  it("table-key-grantable-by-deployer alone: a key policy that denies kms:CreateGrant through DynamoDB (Lambda's grant, without it, still passes)", async () => {
    const dir = idempotentVariant((callee) =>
      editPolicy(resourceAt(callee, tableKeyAddress()), "policy", (doc) =>
        doc.Statement.push({
          Sid: "NoDynamoDbGrants",
          Effect: "Deny",
          Principal: "*",
          Action: "kms:CreateGrant",
          Resource: "*",
          Condition: { StringEquals: { "kms:ViaService": "dynamodb.eu-west-1.amazonaws.com" } },
        }),
      ),
    );
    await expectIdempotentCaught(dir, [
      {
        rule: "table-key-grantable-by-deployer",
        address: tableAddress(),
        answer: /^AccessDeniedException: DynamoDB cannot create a grant on the KMS key .* \(kms:CreateGrant\)$/,
        detail: /kms:CreateGrant on alias\/xacct-demo-callee through DynamoDB: refused .*NoDynamoDbGrants/,
      },
    ]);
  });

  it("table-deletion-protection-off: deletion protection on, so destroy fails at DeleteTable", async () => {
    const dir = idempotentVariant((callee) => (onlyResource(callee, "aws_dynamodb_table").deletion_protection_enabled = true));
    await expectIdempotentCaught(dir, [
      {
        rule: "table-deletion-protection-off",
        address: tableAddress(),
        answer: /^ValidationException: Resource cannot be deleted as it is currently protected against deletion/,
        fix: /deletion_protection_enabled = false/,
      },
    ]);
  });

  it("table-key-schema-defined: TTL on the hash key; an attribute block that is no key", async () => {
    const ttlOnKey = idempotentVariant((callee) => (onlyResource(callee, "aws_dynamodb_table").ttl.attribute_name = "id"));
    await expectIdempotentCaught(ttlOnKey, [
      { rule: "table-key-schema-defined", address: tableAddress(), answer: /^TTL on the key attribute id: .*no record ever expires/ },
    ]);
    const extra = idempotentVariant((callee) =>
      onlyResource(callee, "aws_dynamodb_table").attribute.push({ name: "expiration", type: "N" }),
    );
    await expectIdempotentCaught(extra, [
      {
        rule: "table-key-schema-defined",
        address: tableAddress(),
        answer: /^Error: all attributes must be indexed\. Unused attributes: \["expiration"\]/,
        fix: /remove the attribute block for expiration/,
      },
    ]);
  });

  it("a hash key without its attribute block is refused before any rule runs: bad input naming the attribute", async () => {
    const dir = idempotentVariant((callee) => (onlyResource(callee, "aws_dynamodb_table").attribute = [{ name: "other", type: "S" }]));
    const err = await check(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerifyInputError);
    expect((err as Error).message).toMatch(/the hash key 'id' has no attribute block/);
  });

  it("gateway-endpoint-arguments: subnets on a gateway endpoint; no route tables", async () => {
    const withSubnets = idempotentVariant((callee) => (onlyResource(callee, "aws_vpc_endpoint").subnet_ids = ["subnet-0b1b1b1b1b1b1b1b1"]));
    await expectIdempotentCaught(withSubnets, [
      {
        rule: "gateway-endpoint-arguments",
        address: endpointAddress(),
        answer: /^InvalidParameter: subnet_ids cannot be specified for a VPC endpoint of type Gateway$/,
      },
    ]);
    const noRoutes = idempotentVariant((callee) => delete onlyResource(callee, "aws_vpc_endpoint").route_table_ids);
    await expectIdempotentCaught(noRoutes, [
      { rule: "gateway-endpoint-arguments", address: endpointAddress(), answer: /no route table sends dynamodb traffic to the endpoint/ },
    ]);
  });

  it("gateway-endpoint-policy-principal-any: the callee's role named as the Principal instead of in aws:PrincipalArn", async () => {
    const dir = idempotentVariant((callee) =>
      editPolicy(onlyResource(callee, "aws_vpc_endpoint"), "policy", (doc) => {
        doc.Statement[0].Principal = { AWS: "arn:aws:iam::222222222222:role/xacct-demo-callee-exec" };
        delete doc.Statement[0].Condition;
      }),
    );
    await expectIdempotentCaught(dir, [
      {
        rule: "gateway-endpoint-policy-principal-any",
        address: endpointAddress(),
        answer: /grants a named principal as the account's root user only/,
        detail: /names \{"AWS":"arn:aws:iam::222222222222:role\/xacct-demo-callee-exec"\} \(CalleeRoleUsesItsIdempotencyTableOnly\)/,
      },
    ]);
  });

  it("prefix-list-egress-own-gateway: the gateway endpoint in another VPC than the callee's security group", async () => {
    const dir = idempotentVariant((callee) => (onlyResource(callee, "aws_vpc_endpoint").vpc_id = "vpc-0c1c1c1c1c1c1c1c1"));
    await expectIdempotentCaught(dir, [
      {
        rule: "prefix-list-egress-own-gateway",
        address: egressAddress(),
        answer: /vpc-0b1b1b1b1b1b1b1b1 has no route to aws_vpc_endpoint\./,
        detail: /is in vpc-0b1b1b1b1b1b1b1b1 but the rule's prefix list is of the dynamodb gateway endpoint in vpc-0c1c1c1c1c1c1c1c1/,
      },
    ]);
  });
});
