/**
 * The README's deployer policy is a document IAM would store, and it does what the README says:
 * checked with the same simulator the access proof uses.
 */
import * as fs from "fs";
import * as path from "path";
import { enableIamStatement, policyDocument } from "../constructs/iam-policy";
import { Authorizer } from "../core/iam/authorize";
import type { UserPrincipal } from "../core/iam/principals";
import type { PolicyDocument } from "../core/model/types";
import { policyProblems } from "../verify/validate-policies";
import { RULES } from "../verify/deploy-time/rules";

const README = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
const A = "111111111111";
const STATE = "arn:aws:s3:::xacct-demo-tfstate-111111111111/cross-account-lambda";

function deployerPolicy(): PolicyDocument {
  const section = README.slice(README.indexOf("### Deployer permissions"));
  const block = /```json\n([\s\S]*?)\n```/.exec(section);
  if (!block) throw new Error("README: no JSON policy under 'Deployer permissions'");
  return JSON.parse(block[1]) as PolicyDocument;
}

const deployer = (): UserPrincipal => ({
  kind: "user",
  accountId: A,
  arn: `arn:aws:iam::${A}:user/deployer`,
  principalArn: `arn:aws:iam::${A}:user/deployer`,
  userId: "AIDAAAAAAAAAAAAAAAAAA",
  userName: "deployer",
  identityPolicies: [{ name: "readme-deployer", document: deployerPolicy() }],
});

/** KMS decides with the key policy too: the stacks' keys delegate to their account's IAM. */
const KEY_POLICY: PolicyDocument = policyDocument(enableIamStatement("aws", A)) as unknown as PolicyDocument;

async function allowed(action: string, resourceArn: string, context: Record<string, string | string[]> = {}): Promise<boolean> {
  const decision = await new Authorizer().authorize({
    principal: deployer(),
    action,
    resourceArn,
    resourceAccountId: A,
    region: "eu-west-1",
    context,
    ...(action.startsWith("kms:") ? { resourcePolicy: KEY_POLICY } : {}),
  });
  return decision.allowed;
}

describe("the README's deployer policy for account A", () => {
  it("is a policy IAM would store", () => {
    expect(policyProblems(deployerPolicy(), "identity")).toEqual([]);
  });

  it("passes the caller's execution role to Lambda only", async () => {
    const role = `arn:aws:iam::${A}:role/xacct-demo-caller-exec`;
    expect(await allowed("iam:PassRole", role, { "iam:PassedToService": "lambda.amazonaws.com" })).toBe(true);
    expect(await allowed("iam:PassRole", role, { "iam:PassedToService": "ec2.amazonaws.com" })).toBe(false);
  });

  it("creates the function in the configured VPC and subnets only", async () => {
    const fn = `arn:aws:lambda:eu-west-1:${A}:function:xacct-demo-caller`;
    const vpc = {
      "lambda:VpcIds": ["vpc-0a1a1a1a1a1a1a1a1"],
      "lambda:SubnetIds": ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"],
    };
    expect(await allowed("lambda:CreateFunction", fn, vpc)).toBe(true);
    expect(
      await allowed("lambda:CreateFunction", fn, { ...vpc, "lambda:SubnetIds": ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0fffffffffffffff0"] }),
    ).toBe(false);
    expect(await allowed("lambda:CreateFunction", fn)).toBe(false);
  });

  it("updates the function's configuration without a VPC change, and refuses moving it to another subnet", async () => {
    const fn = `arn:aws:lambda:eu-west-1:${A}:function:xacct-demo-caller`;
    expect(await allowed("lambda:UpdateFunctionConfiguration", fn)).toBe(true);
    expect(await allowed("lambda:UpdateFunctionConfiguration", fn, { "lambda:SubnetIds": ["subnet-0fffffffffffffff0"] })).toBe(false);
  });

  it("lets Lambda grant itself a key that has no alias yet, and uses the code key through S3 only", async () => {
    const freshKey = `arn:aws:kms:eu-west-1:${A}:key/5b7c0e1a-2f3d-4a5b-8c6d-7e8f9a0b1c2d`;
    expect(await allowed("kms:CreateGrant", freshKey, { "kms:ViaService": "lambda.eu-west-1.amazonaws.com" })).toBe(true);
    expect(await allowed("kms:Encrypt", freshKey, { "kms:ViaService": "lambda.eu-west-1.amazonaws.com" })).toBe(true);
    expect(await allowed("kms:GenerateDataKey", freshKey, { "kms:ViaService": "s3.eu-west-1.amazonaws.com" })).toBe(true);
    expect(await allowed("kms:Decrypt", freshKey)).toBe(false);
    expect(await allowed("kms:CreateGrant", freshKey, { "kms:ViaService": "ec2.eu-west-1.amazonaws.com" })).toBe(false);
  });

  it("writes its own state and lock, reads the callee's state, and writes no other state", async () => {
    expect(await allowed("s3:PutObject", `${STATE}/caller.tfstate`)).toBe(true);
    expect(await allowed("s3:DeleteObject", `${STATE}/caller.tfstate.tflock`)).toBe(true);
    expect(await allowed("s3:GetObject", `${STATE}/callee.tfstate`)).toBe(true);
    expect(await allowed("s3:PutObject", `${STATE}/callee.tfstate`)).toBe(false);
    expect(await allowed("s3:DeleteObject", `${STATE}/caller.tfstate`)).toBe(false);
  });
});

describe("the README's deploy-time rule table", () => {
  it("has one row for every rule the deploy-time check applies, and none for a rule it does not", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Deploy time"), readme.indexOf("### Live mode"));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    const ids = [...new Set(Object.values(RULES).map((rule) => rule.id))];
    expect([...rows].sort()).toEqual([...ids].sort());
  });
});
