/**
 * The authorizer (core/iam/authorize.ts) on hand-written policies, without the runtime: same- and
 * cross-account rules, explicit deny, conditions on the context keys it sets, and AWS's wording.
 */
import { accessDeniedMessage, adminUser, Authorizer, roleSession, type PolicyDocument, type Principal } from "../../../core";

const A = "111111111111";
const B = "222222222222";
const TARGET = `arn:aws:iam::${B}:role/invoker`;
const CALLER_ROLE = `arn:aws:iam::${A}:role/caller`;

type Statement = Record<string, unknown>;
const doc = (...Statement: Statement[]): PolicyDocument & { Statement: Statement[] } => ({ Version: "2012-10-17", Statement });
const allowAssume = doc({ Sid: "AssumeInvoker", Effect: "Allow", Action: "sts:AssumeRole", Resource: TARGET });
const trustA = (condition?: Record<string, Record<string, string>>) =>
  doc({
    Sid: "TrustCaller",
    Effect: "Allow",
    Principal: { AWS: `arn:aws:iam::${A}:root` },
    Action: "sts:AssumeRole",
    ...(condition ? { Condition: condition } : {}),
  });

function callerSession(identity: PolicyDocument = allowAssume, account = A): Principal {
  return roleSession({
    partition: "aws",
    roleArn: `arn:aws:iam::${account}:role/caller`,
    roleId: "AROAEXAMPLEEXAMPLE01",
    sessionName: "fn",
    identityPolicies: [{ name: "caller-policy", document: identity }],
    chained: false,
  });
}

const assume = (principal: Principal, trust: PolicyDocument | undefined, authorizer = new Authorizer()) =>
  authorizer.authorize({
    principal,
    action: "sts:AssumeRole",
    resourceArn: TARGET,
    resourceAccountId: B,
    region: "eu-west-1",
    ...(trust ? { resourcePolicy: trust, resourcePolicyName: "trust policy of role/invoker" } : {}),
  });

describe("Authorizer across accounts: both sides must allow", () => {
  it.each<[string, PolicyDocument, PolicyDocument | undefined, { allowed: boolean; reason: string; by: string[] }]>([
    [
      "identity and trust allow",
      allowAssume,
      trustA(),
      { allowed: true, reason: "", by: ["caller-policy: AssumeInvoker", "trust policy of role/invoker: TrustCaller"] },
    ],
    [
      "the identity policy does not allow",
      doc({ Sid: "Other", Effect: "Allow", Action: "s3:GetObject", Resource: "*" }),
      trustA(),
      {
        allowed: false,
        reason: "because no identity-based policy allows the sts:AssumeRole action",
        by: ["identity-based policy (no Allow matched)"],
      },
    ],
    [
      "the trust names another account",
      allowAssume,
      doc({ Sid: "TrustOther", Effect: "Allow", Principal: { AWS: "arn:aws:iam::999999999999:root" }, Action: "sts:AssumeRole" }),
      {
        allowed: false,
        reason: "because no resource-based policy allows the sts:AssumeRole action",
        by: ["trust policy of role/invoker (no Allow matched)"],
      },
    ],
    [
      "there is no resource policy at all",
      allowAssume,
      undefined,
      {
        allowed: false,
        reason: "because no resource-based policy allows the sts:AssumeRole action",
        by: ["resource-based policy: no resource-based policy exists, and a request from another account needs one to allow it"],
      },
    ],
    [
      "the trust denies explicitly",
      allowAssume,
      doc(trustA().Statement[0], { Sid: "NoCaller", Effect: "Deny", Principal: "*", Action: "sts:AssumeRole" }),
      {
        allowed: false,
        reason: "with an explicit deny in a resource-based policy",
        by: ["trust policy of role/invoker: NoCaller (explicit Deny)"],
      },
    ],
    [
      "the identity denies explicitly",
      doc(allowAssume.Statement[0], { Sid: "NeverAssume", Effect: "Deny", Action: "sts:AssumeRole", Resource: "*" }),
      trustA(),
      { allowed: false, reason: "with an explicit deny in an identity-based policy", by: ["caller-policy: NeverAssume (explicit Deny)"] },
    ],
  ])("%s", async (_what, identity, trust, expected) => {
    const decision = await assume(callerSession(identity), trust);
    expect(decision.allowed).toBe(expected.allowed);
    expect(decision.reason).toBe(expected.reason);
    expect(expected.allowed ? decision.allowedBy : decision.deniedBy).toEqual(expected.by);
  });
});

describe("Authorizer conditions see the keys AWS sets", () => {
  it.each<[string, Record<string, Record<string, string>>, boolean]>([
    ["aws:PrincipalArn equals the caller role", { ArnEquals: { "aws:PrincipalArn": CALLER_ROLE } }, true],
    ["aws:PrincipalArn names another role", { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/other` } }, false],
    ["aws:PrincipalAccount", { StringEquals: { "aws:PrincipalAccount": A } }, true],
    ["aws:PrincipalType", { StringEquals: { "aws:PrincipalType": "AssumedRole" } }, true],
    ["aws:SecureTransport", { Bool: { "aws:SecureTransport": "true" } }, true],
    ["aws:PrincipalOrgID without an organisation", { StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } }, false],
  ])("%s", async (_what, condition, allowed) => {
    expect((await assume(callerSession(), trustA(condition))).allowed).toBe(allowed);
  });

  it("aws:PrincipalOrgID is set only for accounts in the organisation", async () => {
    const trust = trustA({ StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } });
    const inOrg = new Authorizer({ organizationId: "o-abcdefghij", accounts: new Set([A, B]) });
    const outOfOrg = new Authorizer({ organizationId: "o-abcdefghij", accounts: new Set([B]) });
    expect((await assume(callerSession(), trust, inOrg)).allowed).toBe(true);
    expect((await assume(callerSession(), trust, outOfOrg)).allowed).toBe(false);
  });

  it("a request's own context keys (sts:ExternalId) are evaluated", async () => {
    const trust = trustA({ StringEquals: { "sts:ExternalId": "ext-1" } });
    const run = (externalId?: string) =>
      new Authorizer().authorize({
        principal: callerSession(),
        action: "sts:AssumeRole",
        resourceArn: TARGET,
        resourceAccountId: B,
        region: "eu-west-1",
        resourcePolicy: trust,
        ...(externalId ? { context: { "sts:ExternalId": externalId } } : {}),
      });
    expect((await run("ext-1")).allowed).toBe(true);
    expect((await run("ext-2")).allowed).toBe(false);
    expect((await run()).allowed).toBe(false);
  });

  it("a service principal carries aws:SourceAccount and aws:SourceArn", async () => {
    const trust = doc({
      Sid: "Lambda",
      Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": A } },
    });
    const lambdaFor = (sourceAccount: string) =>
      new Authorizer().authorize({
        principal: {
          kind: "service",
          service: "lambda.amazonaws.com",
          sourceAccount,
          sourceArn: `arn:aws:lambda:eu-west-1:${sourceAccount}:function:f`,
        },
        action: "sts:AssumeRole",
        resourceArn: CALLER_ROLE,
        resourceAccountId: A,
        region: "eu-west-1",
        resourcePolicy: trust,
      });
    expect((await lambdaFor(A)).allowed).toBe(true);
    expect((await lambdaFor(B)).allowed).toBe(false);
  });
});

describe("Authorizer through a VPC endpoint: its policy is a third layer", () => {
  const VPCE = "vpce-0123456789abcdef0";
  const VPC = "vpc-0a1a1a1a1a1a1a1a1";
  const endpointPolicy = (statement: Statement) => doc({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole", ...statement });
  const throughEndpoint = (policy: PolicyDocument, context?: Record<string, string>) =>
    new Authorizer().authorize({
      principal: callerSession(),
      action: "sts:AssumeRole",
      resourceArn: TARGET,
      resourceAccountId: B,
      region: "eu-west-1",
      resourcePolicy: trustA(),
      resourcePolicyName: "trust policy of role/invoker",
      vpcEndpoint: { id: VPCE, vpcId: VPC, policy, policyName: "VPC endpoint policy of vpce-1 (sts)" },
      ...(context ? { context } : {}),
    });

  it.each<[string, PolicyDocument, { allowed: boolean; reason: string; by: string[]; endpoint: string }]>([
    [
      "the endpoint policy admits the caller's role on the invoker role",
      endpointPolicy({ Sid: "CallerOnly", Resource: TARGET, Condition: { ArnEquals: { "aws:PrincipalArn": CALLER_ROLE } } }),
      {
        allowed: true,
        reason: "",
        by: [
          "caller-policy: AssumeInvoker",
          "trust policy of role/invoker: TrustCaller",
          "VPC endpoint policy of vpce-1 (sts): CallerOnly",
        ],
        endpoint: "Allowed",
      },
    ],
    [
      "the endpoint policy names another role",
      endpointPolicy({ Sid: "Other", Resource: TARGET, Condition: { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${A}:role/other` } } }),
      {
        allowed: false,
        reason: "because no VPC endpoint policy allows the sts:AssumeRole action",
        by: ["VPC endpoint policy of vpce-1 (sts) (no Allow matched)"],
        endpoint: "ImplicitlyDenied",
      },
    ],
    [
      "the endpoint policy denies explicitly",
      doc(
        { Sid: "All", Effect: "Allow", Principal: "*", Action: "*", Resource: "*" },
        { Sid: "NoInvoker", Effect: "Deny", Principal: "*", Action: "sts:AssumeRole", Resource: TARGET },
      ),
      {
        allowed: false,
        reason: "with an explicit deny in a VPC endpoint policy",
        by: ["VPC endpoint policy of vpce-1 (sts): NoInvoker (explicit Deny)"],
        endpoint: "ExplicitlyDenied",
      },
    ],
  ])("%s", async (_what, policy, expected) => {
    const decision = await throughEndpoint(policy);
    expect(decision.allowed).toBe(expected.allowed);
    expect(decision.reason).toBe(expected.reason);
    expect(decision.vpcEndpointResult).toBe(expected.endpoint);
    expect(expected.allowed ? decision.allowedBy : decision.deniedBy).toEqual(expected.by);
  });

  it.each<[string, Record<string, Record<string, string>>, boolean]>([
    ["aws:SourceVpce is the endpoint's id", { StringEquals: { "aws:SourceVpce": VPCE } }, true],
    ["aws:SourceVpce is another endpoint's", { StringEquals: { "aws:SourceVpce": "vpce-0fffffffffffffff0" } }, false],
    ["aws:SourceVpc is the endpoint's VPC", { StringEquals: { "aws:SourceVpc": VPC } }, true],
    ["aws:SourceIp is not set through an endpoint", { IpAddress: { "aws:SourceIp": "127.0.0.1/32" } }, false],
  ])("the trust sees the keys AWS sets through an endpoint: %s", async (_what, condition, allowed) => {
    const decision = await new Authorizer().authorize({
      principal: callerSession(),
      action: "sts:AssumeRole",
      resourceArn: TARGET,
      resourceAccountId: B,
      region: "eu-west-1",
      resourcePolicy: trustA(condition),
      vpcEndpoint: { id: VPCE, vpcId: VPC, policy: endpointPolicy({ Resource: "*" }) },
    });
    expect(decision.allowed).toBe(allowed);
  });

  it("without an endpoint there is no endpoint layer, no aws:SourceVpce, and aws:SourceIp is set", async () => {
    const plain = await assume(callerSession(), trustA({ StringEquals: { "aws:SourceVpce": VPCE } }));
    expect(plain).toMatchObject({ allowed: false });
    expect(plain.vpcEndpointResult).toBeUndefined();
    expect((await assume(callerSession(), trustA({ IpAddress: { "aws:SourceIp": "127.0.0.1/32" } }))).allowed).toBe(true);
  });
});

describe("Authorizer within one account", () => {
  it("an administrator's identity policy alone is enough when no resource policy denies", async () => {
    const decision = await new Authorizer().authorize({
      principal: adminUser("aws", B),
      action: "sts:AssumeRole",
      resourceArn: TARGET,
      resourceAccountId: B,
      region: "eu-west-1",
      resourcePolicy: doc({ Sid: "TrustSelf", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${B}:root` }, Action: "sts:AssumeRole" }),
    });
    expect(decision).toMatchObject({ allowed: true, result: "Allowed" });
  });
});

describe("accessDeniedMessage", () => {
  it.each<[string | undefined, string]>([
    [undefined, `User: ${CALLER_ROLE} is not authorized to perform: sts:AssumeRole on resource: ${TARGET}`],
    [
      "because no resource-based policy allows the sts:AssumeRole action",
      `User: ${CALLER_ROLE} is not authorized to perform: sts:AssumeRole on resource: ${TARGET} because no resource-based policy allows the sts:AssumeRole action`,
    ],
  ])("with reason %j", (reason, expected) => {
    expect(accessDeniedMessage(CALLER_ROLE, "sts:AssumeRole", TARGET, reason)).toBe(expected);
  });
});
