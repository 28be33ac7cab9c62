/**
 * The README's deployer policy is a document IAM would store, and it does what the README says:
 * checked with the same simulator the access proof uses.
 */
import * as fs from "fs";
import * as path from "path";
import { Authorizer } from "../local/iam/authorize";
import type { UserPrincipal } from "../local/iam/principals";
import type { PolicyDocument } from "../local/model/types";
import { policyProblems } from "../verify/validate-policies";

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

async function allowed(action: string, resourceArn: string, context: Record<string, string | string[]> = {}): Promise<boolean> {
  const decision = await new Authorizer().authorize({ principal: deployer(), action, resourceArn, resourceAccountId: A, region: "eu-west-1", context });
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
    const vpc = { "lambda:VpcIds": ["vpc-0a1a1a1a1a1a1a1a1"], "lambda:SubnetIds": ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"] };
    expect(await allowed("lambda:CreateFunction", fn, vpc)).toBe(true);
    expect(await allowed("lambda:CreateFunction", fn, { ...vpc, "lambda:SubnetIds": ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0fffffffffffffff0"] })).toBe(false);
    expect(await allowed("lambda:CreateFunction", fn)).toBe(false);
  });

  it("writes its own state and lock, reads the callee's state, and writes no other state", async () => {
    expect(await allowed("s3:PutObject", `${STATE}/caller.tfstate`)).toBe(true);
    expect(await allowed("s3:DeleteObject", `${STATE}/caller.tfstate.tflock`)).toBe(true);
    expect(await allowed("s3:GetObject", `${STATE}/callee.tfstate`)).toBe(true);
    expect(await allowed("s3:PutObject", `${STATE}/callee.tfstate`)).toBe(false);
    expect(await allowed("s3:DeleteObject", `${STATE}/caller.tfstate`)).toBe(false);
  });
});
