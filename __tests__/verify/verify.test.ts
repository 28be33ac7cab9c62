/**
 * The access proof on the current stacks and on weakened variants of them: each weakness is
 * caught with the right finding and the right matrix cells, and the unmodified stacks pass.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_RECORD_FILE } from "../../config/load";
import { PROJECT_ROOT } from "../../local/start";
import { analyzeAccess, type AccessAnalysis } from "../../verify/analyze";
import { EXIT } from "../../verify/cli";
import { findPolicyProblems, type Finding } from "../../verify/findings";
import { checkDeployTime } from "../../verify/deploy-time/check";
import { variantOf, verifyCli, verifyInProcess } from "./support";
import { accessModelFromStacks, deployOrderOf } from "../../verify/from-stacks";
import { EXAMPLE_BLOCK, README_BLOCKS, readBlock, renderBlocks, renderExampleBlock, synthesizeExample } from "../../verify/readme-blocks";
import { editPolicy, OUT_DIR, roleNamed, stacksVariant, type TfJson } from "../local/support";

const CALLER_ROLE = "arn:aws:iam::111111111111:role/xacct-demo-caller-exec";
const INVOKER_ROLE = "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker";
const CALLEE_FN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";
/** What the caller invokes, and all its invoker role may: the alias live (Lambda authorizes a qualified ARN against itself). */
const CALLEE_ALIAS = `${CALLEE_FN}:live`;
const CALLER_FN = "arn:aws:lambda:eu-west-1:111111111111:function:xacct-demo-caller";
/** The caller's VPC, where the stacks create its STS and Lambda endpoints. */
const CALLER_VPC = "vpc-0a1a1a1a1a1a1a1a1";
const THIRD_ACCOUNT_ROOT = "arn:aws:iam::444455556666:root";

const variants: string[] = [];
function variant(mutate: Parameters<typeof stacksVariant>[0]): string {
  const dir = stacksVariant(mutate);
  variants.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of variants) fs.rmSync(dir, { recursive: true, force: true });
});

async function prove(dir: string): Promise<{ analysis: AccessAnalysis; findings: Finding[] }> {
  const model = accessModelFromStacks(dir);
  return { analysis: await analyzeAccess(model), findings: findPolicyProblems(model) };
}

/** Every allowed cell as "principal -> capability [verdict]" (via chains shown), for exact comparison. */
function allowedCells(analysis: AccessAnalysis): string[] {
  return analysis.cells
    .filter((c) => c.allowed)
    .map(
      (c) =>
        `${c.principalId} -> ${c.capabilityId}${c.via.length > 0 ? ` via ${c.via.map((h) => h.roleArn).join(",")}` : ""} [${c.verdict}]`,
    )
    .sort();
}

function cell(analysis: AccessAnalysis, principalId: string, capabilityId: string) {
  const found = analysis.cells.find((c) => c.principalId === principalId && c.capabilityId === capabilityId);
  if (!found) throw new Error(`no cell ${principalId} x ${capabilityId}`);
  return found;
}

/**
 * Access beyond the intended path that only a VPC endpoint policy refuses (DENY*): the identity and resource policies
 * allow it from outside the VPC. As "principal -> capability [the endpoint's service]", sorted.
 */
function endpointOnlyCells(analysis: AccessAnalysis): string[] {
  return analysis.cells
    .filter((c) => c.decidedByEndpoint?.withoutEndpoints === "beyond-intended")
    .map(
      (c) =>
        `${c.principalId} -> ${c.capabilityId}${c.via.length > 0 ? ` via ${c.via.map((h) => h.roleArn).join(",")}` : ""} [${c.decidedByEndpoint?.endpoint.service}]`,
    )
    .sort();
}

/** The id of the endpoint for a service in a VPC (the only one of the stacks when no VPC is given). */
function endpointId(analysis: AccessAnalysis, service: string, vpcId?: string): string {
  const found = analysis.model.vpcEndpoints.filter((e) => e.service === service && (vpcId === undefined || e.vpcId === vpcId));
  if (found.length !== 1) throw new Error(`expected one ${service} endpoint${vpcId ? ` in ${vpcId}` : ""}, found ${found.length}`);
  return found[0].id;
}

const codes = (findings: readonly Finding[]) => findings.map((f) => `${f.code} @ ${f.where.replace(/ \(.*?\):/, ":")}`).sort();

describe("the unmodified stacks", () => {
  let analysis: AccessAnalysis;
  let findings: Finding[];
  beforeAll(async () => {
    ({ analysis, findings } = await prove(OUT_DIR));
  });

  it("enumerate every role of both accounts, both accounts' administrators, an outsider and anonymous", () => {
    expect(analysis.principals.map((p) => p.id)).toEqual([
      "role/xacct-demo-caller-exec",
      "role/xacct-demo-callee-invoker",
      "role/xacct-demo-callee-exec",
      "admin/111111111111",
      "admin/222222222222",
      "outsider/333333333333",
      "anonymous",
    ]);
  });

  it("ask about every role, function, code bucket and key", () => {
    const kinds = analysis.capabilities.map((c) => c.kind);
    expect(kinds.filter((k) => k === "assume")).toHaveLength(3);
    // The callee at its alias, unqualified, at $LATEST and at version 1; the caller, which publishes nothing, unqualified.
    expect(analysis.capabilities.filter((c) => c.kind === "invoke").map((c) => c.id)).toEqual([
      `invoke:${CALLEE_ALIAS}`,
      `invoke:${CALLEE_FN}`,
      `invoke:${CALLEE_FN}:$LATEST`,
      `invoke:${CALLEE_FN}:1`,
      `invoke:${CALLER_FN}`,
    ]);
    expect(analysis.capabilities.filter((c) => c.kind === "read" || c.kind === "write").map((c) => c.label)).toEqual([
      "read s3://xacct-demo-code-111111111111-eu-west-1",
      "write s3://xacct-demo-code-111111111111-eu-west-1",
      "read s3://xacct-demo-code-222222222222-eu-west-1",
      "write s3://xacct-demo-code-222222222222-eu-west-1",
    ]);
    expect(kinds.filter((k) => k === "use" || k === "administer")).toHaveLength(8);
  });

  it("open exactly the intended path, plus each account's administrators over their own resources and each function's role over its own key", () => {
    const key = (alias: string) => analysis.capabilities.find((c) => c.label === `use key alias/${alias}`)?.resourceArn;
    // Everything on a resource of their own account, except assuming roles (a trust must name them).
    const ownedBy = (account: string) =>
      analysis.capabilities
        .filter((c) => c.resourceAccountId === account && c.kind !== "assume")
        .map((c) => `admin/${account} -> ${c.id} [permitted]`);
    expect(allowedCells(analysis)).toEqual(
      [
        `role/xacct-demo-caller-exec -> assume:${INVOKER_ROLE} [as-intended]`,
        `role/xacct-demo-caller-exec -> invoke:${CALLEE_ALIAS} via ${INVOKER_ROLE} [as-intended]`,
        `role/xacct-demo-callee-invoker -> invoke:${CALLEE_ALIAS} [as-intended]`,
        `role/xacct-demo-caller-exec -> use:${key("xacct-demo-caller")} [permitted]`,
        `role/xacct-demo-callee-exec -> use:${key("xacct-demo-callee")} [permitted]`,
        ...ownedBy("111111111111"),
        ...ownedBy("222222222222"),
      ].sort(),
    );
  });

  it("name the statements that decided the intended path, the VPC endpoints' among them", () => {
    const sts = endpointId(analysis, "sts");
    const lambda = endpointId(analysis, "lambda");
    expect(cell(analysis, "role/xacct-demo-caller-exec", `assume:${INVOKER_ROLE}`)).toMatchObject({
      decidedBy: [
        "assume-callee-invoker-role-only: AssumeCalleeInvokerRoleOnly",
        "trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
        `VPC endpoint policy of ${sts} (sts): CallerRoleAssumesItsInvokerRoleOnly`,
      ],
      endpoints: [{ id: sts, service: "sts", vpcId: CALLER_VPC }],
    });
    const invoke = cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`);
    expect(invoke).toMatchObject({
      decidedBy: [
        "invoke-callee-only: InvokeCalleeFunctionOnly",
        `VPC endpoint policy of ${lambda} (lambda): InvokerRoleInvokesCalleeAliasOnly`,
      ],
      // The session of the invoker role is obtained and used in the caller's VPC: both endpoints are on the way.
      endpoints: [
        { id: sts, service: "sts", vpcId: CALLER_VPC },
        { id: lambda, service: "lambda", vpcId: CALLER_VPC },
      ],
    });
    expect(invoke.via[0].allowedBy).toContain(`VPC endpoint policy of ${sts} (sts): CallerRoleAssumesItsInvokerRoleOnly`);
    // No endpoint decided any cell: each allows what the identity and resource policies allow on the path, and no more.
    expect(analysis.cells.filter((c) => c.decidedByEndpoint)).toEqual([]);
  });

  it("send the requests of the caller's role and of its invoker role through the caller VPC's endpoints, and no one else's", () => {
    expect(analysis.networks.map((n) => [n.principalId, n.network.vpcId, n.network.endpoints.map((e) => e.service)])).toEqual([
      ["role/xacct-demo-caller-exec", CALLER_VPC, ["sts", "lambda"]],
      ["role/xacct-demo-callee-invoker", CALLER_VPC, ["sts", "lambda"]],
    ]);
    for (const principal of [
      "role/xacct-demo-callee-exec",
      "admin/111111111111",
      "admin/222222222222",
      "outsider/333333333333",
      "anonymous",
    ])
      expect(analysis.cells.filter((c) => c.principalId === principal && c.endpoints.length > 0)).toEqual([]);
    // Keys and buckets have no endpoint in the VPC: those requests pass none.
    expect(cell(analysis, "role/xacct-demo-caller-exec", `read:arn:aws:s3:::xacct-demo-code-111111111111-eu-west-1`).endpoints).toEqual([]);
  });

  it("refuse account A's administrators at the invoker role's trust, and the outsider at the callee for lack of a resource policy", () => {
    expect(cell(analysis, "admin/111111111111", `assume:${INVOKER_ROLE}`)).toMatchObject({
      allowed: false,
      decidedBy: ["trust policy of role/xacct-demo-callee-invoker (no Allow matched)"],
    });
    expect(cell(analysis, "outsider/333333333333", `invoke:${CALLEE_FN}`)).toMatchObject({
      allowed: false,
      decidedBy: [
        "resource policy of function xacct-demo-callee: no resource-based policy exists, and a request from another account needs one to allow it",
      ],
    });
    // A role has no resource-based policy for IAM's own actions: the text says that, not that the role is missing.
    expect(cell(analysis, "outsider/333333333333", `change-role:${INVOKER_ROLE}`)).toMatchObject({
      allowed: false,
      decidedBy: [
        "role/xacct-demo-callee-invoker: no resource-based policy exists, and a request from another account needs one to allow it",
      ],
    });
    expect(cell(analysis, "anonymous", `invoke:${CALLEE_FN}`)).toMatchObject({
      allowed: false,
      decidedBy: ["lambda accepts only signed requests"],
    });
  });

  it("have no findings, and `npm run verify` exits 0 with PASS", async () => {
    expect(findings).toEqual([]);
    const run = await verifyCli(["--dir", OUT_DIR], "npm");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.proven);
    expect(run.stdout).toMatch(/^PASS: exactly one path reaches the callee/m);
  });
});

describe("weakened variants of the stacks", () => {
  it("the invoker role's trust to account A without its condition: account A's administrators reach the callee", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => delete doc.Statement[0].Condition),
    );
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "trust-without-principal-arn @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
    ]);
    expect(findings[0].fix).toContain(`"aws:PrincipalArn": "${CALLER_ROLE}"`);
    expect(cell(analysis, "admin/111111111111", `assume:${INVOKER_ROLE}`).verdict).toBe("beyond-intended");
    expect(cell(analysis, "admin/111111111111", `invoke:${CALLEE_ALIAS}`)).toMatchObject({
      verdict: "beyond-intended",
      via: [{ roleArn: INVOKER_ROLE }],
    });
    expect((await verifyInProcess(["--dir", dir])).code).toBe(EXIT.violation);
  });

  it("the network-interface wildcards AWS forces on an execution role are findings on any other role", async () => {
    const dir = variant(({ callee }) => {
      const policy = Object.values(callee.resource.aws_iam_role_policy as Record<string, TfJson>).find(
        (p) => p.name === "invoke-callee-only",
      ) as TfJson;
      editPolicy(policy, "policy", (doc) => {
        doc.Statement.push({
          Sid: "Interfaces",
          Effect: "Allow",
          Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces"],
          Resource: "*",
        });
        doc.Statement.push({
          Sid: "DeleteInterfaces",
          Effect: "Allow",
          Action: "ec2:DeleteNetworkInterface",
          Resource: "arn:aws:ec2:eu-west-1:222222222222:*",
        });
      });
    });
    const { findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "resource-wildcard @ policy invoke-callee-only of role/xacct-demo-callee-invoker: DeleteInterfaces",
      "resource-wildcard @ policy invoke-callee-only of role/xacct-demo-callee-invoker: Interfaces",
    ]);
  });

  it('the invoker role\'s policy with Resource "*": a resource wildcard finding on its statement', async () => {
    const dir = variant(({ callee }) => {
      const policy = Object.values(callee.resource.aws_iam_role_policy as Record<string, TfJson>).find(
        (p) => p.name === "invoke-callee-only",
      ) as TfJson;
      editPolicy(policy, "policy", (doc) => (doc.Statement[0].Resource = "*"));
    });
    const { analysis, findings } = await prove(dir);
    // "*" also covers the unqualified function, $LATEST and version 1: with the alias, that is a finding of its own.
    expect(codes(findings)).toEqual([
      "invoke-beyond-alias @ policy invoke-callee-only of role/xacct-demo-callee-invoker: InvokeCalleeFunctionOnly",
      "resource-wildcard @ policy invoke-callee-only of role/xacct-demo-callee-invoker: InvokeCalleeFunctionOnly",
    ]);
    // The only function of account B is the callee: "*" opens nothing but the callee's other qualifiers, and from the
    // caller's VPC only the Lambda endpoint's policy refuses them (the proof fails on that too).
    const others = [CALLEE_FN, `${CALLEE_FN}:$LATEST`, `${CALLEE_FN}:1`];
    expect(allowedCells(analysis).filter((c) => c.includes("beyond"))).toEqual([]);
    expect(endpointOnlyCells(analysis)).toEqual(
      [
        ...others.map((arn) => `role/xacct-demo-callee-invoker -> invoke:${arn} [lambda]`),
        ...others.map((arn) => `role/xacct-demo-caller-exec -> invoke:${arn} via ${INVOKER_ROLE} [lambda]`),
      ].sort(),
    );
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/FAIL: 6 accesses beyond the intended path that only a VPC endpoint policy refuses, 2 findings\./);
    expect(run.out).toMatch(/^ {2}invoke function xacct-demo-callee \(unqualified\) +DENY\* +DENY\* +DENY /m);
  });

  it('a lambda permission to Principal "*": every other account can invoke the callee', async () => {
    const dir = variant(({ callee }) => {
      callee.resource.aws_lambda_permission = {
        anyone: {
          action: "lambda:InvokeFunction",
          function_name: "${aws_lambda_function.callee_function_1CCFEC01.function_name}",
          principal: "*",
          statement_id: "AllowAnyone",
          provider: "aws.callee",
        },
      };
    });
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual(["public-principal @ resource policy of function xacct-demo-callee: AllowAnyone"]);
    for (const principal of ["admin/111111111111", "outsider/333333333333", "role/xacct-demo-callee-exec"]) {
      expect(cell(analysis, principal, `invoke:${CALLEE_FN}`)).toMatchObject({
        verdict: "beyond-intended",
        decidedBy: expect.arrayContaining(["resource policy of function xacct-demo-callee: AllowAnyone"]),
      });
    }
    // Across accounts both sides must allow: the caller's role has no lambda:InvokeFunction of its own, so it still goes through the invoker role.
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`)).toMatchObject({
      verdict: "as-intended",
      via: [{ roleArn: INVOKER_ROLE }],
    });
    // Lambda's API accepts only signed requests, so "*" still does not mean anonymous.
    expect(cell(analysis, "anonymous", `invoke:${CALLEE_FN}`).allowed).toBe(false);
  });

  it("the caller's role granted lambda:*: action and resource wildcards, and it can invoke its own function", async () => {
    const dir = variant(({ caller }) => {
      const policy = Object.values(caller.resource.aws_iam_role_policy as Record<string, TfJson>).find(
        (p) => p.name === "execution",
      ) as TfJson;
      editPolicy(policy, "policy", (doc) =>
        doc.Statement.push({ Sid: "EverythingLambda", Effect: "Allow", Action: "lambda:*", Resource: "*" }),
      );
    });
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "action-wildcard @ policy execution of role/xacct-demo-caller-exec: EverythingLambda",
      "resource-wildcard @ policy execution of role/xacct-demo-caller-exec: EverythingLambda",
    ]);
    // From its VPC the Lambda endpoint's policy refuses it; the identity policy alone would let it in.
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLER_FN}`)).toMatchObject({
      verdict: "refused",
      decidedByEndpoint: { endpoint: { service: "lambda" }, withoutEndpoints: "beyond-intended" },
    });
    // Across accounts the callee still needs a resource policy: the only way there stays the invoker role.
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`)).toMatchObject({
      verdict: "as-intended",
      via: [{ roleArn: INVOKER_ROLE }],
    });
  });

  it("a third account added to the invoker role's trust: its administrators reach the callee", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) =>
        doc.Statement.push({ Sid: "PartnerAccount", Effect: "Allow", Principal: { AWS: THIRD_ACCOUNT_ROOT }, Action: "sts:AssumeRole" }),
      ),
    );
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "foreign-account @ trust policy of role/xacct-demo-callee-invoker: PartnerAccount",
      "principal-off-path @ trust policy of role/xacct-demo-callee-invoker: PartnerAccount",
      "trust-without-principal-arn @ trust policy of role/xacct-demo-callee-invoker: PartnerAccount",
    ]);
    const third = `named/${THIRD_ACCOUNT_ROOT}`;
    expect(analysis.principals.map((p) => p.id)).toContain(third);
    expect(cell(analysis, third, `assume:${INVOKER_ROLE}`)).toMatchObject({
      verdict: "beyond-intended",
      decidedBy: expect.arrayContaining(["trust policy of role/xacct-demo-callee-invoker: PartnerAccount"]),
    });
    expect(cell(analysis, third, `invoke:${CALLEE_ALIAS}`)).toMatchObject({ verdict: "beyond-intended", via: [{ roleArn: INVOKER_ROLE }] });
    // The third account's own admin is in the diagram, with its edge in red.
    const mermaid = (await verifyInProcess(["--dir", dir, "--format", "mermaid"])).out;
    expect(mermaid).toContain(`named_arn_aws_iam__444455556666_root -- "sts:AssumeRole" --> role_222222222222_xacct_demo_callee_invoker`);
    expect(mermaid).toMatch(/linkStyle \d+ stroke:#d00/);
  });

  it("the caller's role allowed to invoke the callee itself: a second path, around the invoker role", async () => {
    const dir = variant(({ caller, callee }) => {
      const policy = Object.values(caller.resource.aws_iam_role_policy as Record<string, TfJson>).find(
        (p) => p.name === "assume-callee-invoker-role-only",
      ) as TfJson;
      editPolicy(policy, "policy", (doc) =>
        doc.Statement.push({ Sid: "InvokeCalleeDirectly", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: CALLEE_FN }),
      );
      callee.resource.aws_lambda_permission = {
        caller: {
          action: "lambda:InvokeFunction",
          function_name: "${aws_lambda_function.callee_function_1CCFEC01.function_name}",
          principal: CALLER_ROLE,
          statement_id: "CallerRoleDirectly",
          provider: "aws.callee",
        },
      };
    });
    const { analysis, findings } = await prove(dir);
    // No wildcard, no whole account: the finding is that the callee has a resource policy at all.
    expect(codes(findings)).toEqual(["principal-off-path @ resource policy of function xacct-demo-callee: CallerRoleDirectly"]);
    // From the caller's VPC the Lambda endpoint admits only the invoker role: the second path is refused there alone.
    const lambda = endpointId(analysis, "lambda");
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_FN}`)).toMatchObject({
      verdict: "refused",
      via: [],
      decidedBy: [`VPC endpoint policy of ${lambda} (lambda) (no Allow matched)`],
      decidedByEndpoint: { endpoint: { id: lambda, service: "lambda", vpcId: CALLER_VPC }, withoutEndpoints: "beyond-intended" },
      explanation: `refused only by the VPC endpoint policy of ${lambda} (lambda) in ${CALLER_VPC} because no VPC endpoint policy allows the lambda:InvokeFunction action: from outside the VPC the identity and resource policies allow it, access beyond the intended path (allowed directly, bypassing xacct-demo-callee-invoker: a second path to the callee)`,
    });
    expect((await verifyInProcess(["--dir", dir])).out).toMatch(
      /FAIL: 1 access beyond the intended path that only a VPC endpoint policy refuses, 1 finding\./,
    );
  });

  it("a third account named in the trust but still pinned by the aws:PrincipalArn condition: refused, yet reported", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(
        roleNamed(callee, "-callee-invoker"),
        "assume_role_policy",
        (doc) => (doc.Statement[0].Principal.AWS = ["arn:aws:iam::111111111111:root", THIRD_ACCOUNT_ROOT]),
      ),
    );
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "foreign-account @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
      "principal-off-path @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
    ]);
    expect(cell(analysis, `named/${THIRD_ACCOUNT_ROOT}`, `assume:${INVOKER_ROLE}`).allowed).toBe(false);
  });

  it("the caller's role without its assume policy: the intended path is refused (DENY!)", async () => {
    const dir = variant(({ caller }) => {
      const policies = caller.resource.aws_iam_role_policy as Record<string, TfJson>;
      for (const [key, p] of Object.entries(policies)) if (p.name === "assume-callee-invoker-role-only") delete policies[key];
    });
    const { analysis, findings } = await prove(dir);
    expect(findings).toEqual([]);
    expect(
      analysis.cells
        .filter((c) => c.verdict === "path-broken")
        .map((c) => c.capabilityId)
        .sort(),
    ).toEqual([`assume:${INVOKER_ROLE}`, `invoke:${CALLEE_ALIAS}`]);
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/DENY! +ALLOW/);
  });

  it("an execution role's trust to Lambda without aws:SourceAccount: the confused-deputy finding", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-exec"), "assume_role_policy", (doc) => delete doc.Statement[0].Condition),
    );
    expect(codes((await prove(dir)).findings)).toEqual([
      "service-without-source @ trust policy of role/xacct-demo-callee-exec: LambdaInOwnAccountOnly",
    ]);
  });

  it("an external id and organisation configured but not required by the trust: one finding each", async () => {
    const dir = variant(() => undefined);
    const record = path.join(dir, CONFIG_RECORD_FILE);
    fs.writeFileSync(
      record,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(record, "utf8")), externalId: "partner-7", organizationId: "o-abcdef1234" }),
    );
    const { findings } = await prove(dir);
    expect(codes(findings)).toEqual([
      "external-id-not-required @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
      "organization-not-required @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
    ]);
  });
});

/** Mutations of the synthesized JSON, for the table below. */
const invokerTrust = (edit: (doc: TfJson) => void) => (stacks: { callee: TfJson }) =>
  editPolicy(roleNamed(stacks.callee, "-callee-invoker"), "assume_role_policy", edit);
const addTrustStatement = (statement: TfJson) => invokerTrust((doc) => doc.Statement.push(statement));
const rolePolicy = (stack: TfJson, name: string) =>
  Object.values(stack.resource.aws_iam_role_policy as Record<string, TfJson>).find((p) => p.name === name) as TfJson;
const grant = (side: "callee" | "caller", policyName: string, statement: TfJson) => (stacks: { callee: TfJson; caller: TfJson }) =>
  editPolicy(rolePolicy(stacks[side], policyName), "policy", (doc) => doc.Statement.push({ Sid: "Added", Effect: "Allow", ...statement }));
const permission =
  (side: "callee" | "caller", principal: string, extra: TfJson = {}) =>
  (stacks: { callee: TfJson; caller: TfJson }) => {
    const fn = Object.keys(stacks[side].resource.aws_lambda_function)[0];
    stacks[side].resource.aws_lambda_permission = {
      added: {
        action: "lambda:InvokeFunction",
        function_name: `\${aws_lambda_function.${fn}.function_name}`,
        principal,
        statement_id: "Added",
        provider: `aws.${side}`,
        ...extra,
      },
    };
  };
const OPS_ADMIN_A = "arn:aws:iam::111111111111:role/ops-admin";
const CODE_BUCKET_B = "arn:aws:s3:::xacct-demo-code-222222222222-eu-west-1";

describe("more ways to open a second path, each caught", () => {
  const cases: [string, Parameters<typeof stacksVariant>[0], string[], string[]][] = [
    [
      "a second trust statement for another role of account A",
      addTrustStatement({ Sid: "Ops", Effect: "Allow", Principal: { AWS: OPS_ADMIN_A }, Action: "sts:AssumeRole" }),
      ["principal-off-path @ trust policy of role/xacct-demo-callee-invoker: Ops"],
      [`named/${OPS_ADMIN_A} -> assume:${INVOKER_ROLE}`, `named/${OPS_ADMIN_A} -> invoke:${CALLEE_FN}`],
    ],
    [
      "a user of account B in the invoker role's trust",
      addTrustStatement({
        Sid: "Bob",
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::222222222222:user/bob" },
        Action: "sts:AssumeRole",
      }),
      ["principal-off-path @ trust policy of role/xacct-demo-callee-invoker: Bob"],
      [`named/arn:aws:iam::222222222222:user/bob -> assume:${INVOKER_ROLE}`],
    ],
    [
      "a second role in the trust's aws:PrincipalArn condition",
      invokerTrust((doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [CALLER_ROLE, OPS_ADMIN_A])),
      ["principal-off-path @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly"],
      [`named/${OPS_ADMIN_A} -> assume:${INVOKER_ROLE}`, `named/${OPS_ADMIN_A} -> invoke:${CALLEE_FN}`],
    ],
    [
      "an aws:PrincipalArn narrowed only by ? wildcards",
      invokerTrust(
        (doc) =>
          (doc.Statement[0].Condition = { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/??????????????????????" } }),
      ),
      [
        "principal-off-path @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
        "trust-without-principal-arn @ trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly",
      ],
      [],
    ],
    [
      'Principal "*" pinned to a foreign role by aws:PrincipalArn',
      addTrustStatement({
        Sid: "Partner",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: "sts:AssumeRole",
        Condition: { ArnEquals: { "aws:PrincipalArn": "arn:aws:iam::999988887777:role/partner" } },
      }),
      [
        "foreign-account @ trust policy of role/xacct-demo-callee-invoker: Partner",
        "principal-off-path @ trust policy of role/xacct-demo-callee-invoker: Partner",
      ],
      [
        `named/arn:aws:iam::999988887777:role/partner -> assume:${INVOKER_ROLE}`,
        `named/arn:aws:iam::999988887777:role/partner -> invoke:${CALLEE_FN}`,
      ],
    ],
    [
      "a federated identity provider in the invoker role's trust",
      addTrustStatement({
        Sid: "GitHub",
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com" },
        Action: "sts:AssumeRoleWithWebIdentity",
      }),
      ["federated-principal @ trust policy of role/xacct-demo-callee-invoker: GitHub"],
      [],
    ],
    [
      "a lambda permission on the callee for another role of account A",
      permission("callee", OPS_ADMIN_A),
      ["principal-off-path @ resource policy of function xacct-demo-callee: Added"],
      [`named/${OPS_ADMIN_A} -> invoke:${CALLEE_FN}`],
    ],
    [
      "a lambda permission on the caller for SNS with no source",
      permission("caller", "sns.amazonaws.com"),
      ["service-without-source @ resource policy of function xacct-demo-caller: Added"],
      [],
    ],
    [
      "the callee's key opened to a role of account A",
      ({ callee }) => {
        const key = Object.values(callee.resource.aws_kms_key as Record<string, TfJson>).find((k) =>
          String(k.description).includes("environment"),
        ) as TfJson;
        editPolicy(key, "policy", (doc) =>
          doc.Statement.push({
            Sid: "Ops",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111111111111:role/ops" },
            Action: "kms:*",
            Resource: "*",
          }),
        );
      },
      ["principal-off-path @ key policy of alias/xacct-demo-callee: Ops"],
      ["named/arn:aws:iam::111111111111:role/ops -> administer:", "named/arn:aws:iam::111111111111:role/ops -> use:"],
    ],
    [
      'a bucket policy for Principal "*" pinned to a foreign account by aws:PrincipalAccount',
      ({ callee }) => {
        const policy = Object.values(callee.resource.aws_s3_bucket_policy as Record<string, TfJson>)[0];
        editPolicy(policy, "policy", (doc) =>
          doc.Statement.push({
            Sid: "Partner",
            Effect: "Allow",
            Principal: "*",
            Action: "s3:*",
            Resource: [CODE_BUCKET_B, `${CODE_BUCKET_B}/*`],
            Condition: { StringEquals: { "aws:PrincipalAccount": "999988887777" } },
          }),
        );
      },
      ["foreign-account @ bucket policy of xacct-demo-code-222222222222-eu-west-1: Partner"],
      [
        `named/arn:aws:iam::999988887777:root -> read:${CODE_BUCKET_B}`,
        `named/arn:aws:iam::999988887777:root -> write:${CODE_BUCKET_B}`,
        `named/arn:aws:iam::999988887777:root -> administer-bucket:${CODE_BUCKET_B}`,
      ],
    ],
    [
      "the callee's role allowed to rewrite the invoker role's trust",
      grant("callee", "execution", { Action: "iam:UpdateAssumeRolePolicy", Resource: INVOKER_ROLE }),
      [],
      [`role/xacct-demo-callee-exec -> change-role:${INVOKER_ROLE}`],
    ],
    [
      "the callee's role allowed to replace the callee's code",
      grant("callee", "execution", { Action: "lambda:UpdateFunctionCode", Resource: CALLEE_FN }),
      [],
      [`role/xacct-demo-callee-exec -> change-function:${CALLEE_FN}`],
    ],
    [
      "the invoker role allowed to change the callee's configuration",
      grant("callee", "invoke-callee-only", { Action: "lambda:UpdateFunctionConfiguration", Resource: CALLEE_FN }),
      [],
      [`role/xacct-demo-callee-invoker -> change-function:${CALLEE_FN}`],
    ],
    [
      "the caller's role allowed to pass itself to a new function",
      grant("caller", "execution", { Action: "iam:PassRole", Resource: CALLER_ROLE }),
      [],
      [`role/xacct-demo-caller-exec -> pass-role:${CALLER_ROLE}`],
    ],
    [
      "the callee's role allowed to replace its code bucket's policy",
      grant("callee", "execution", { Action: "s3:PutBucketPolicy", Resource: CODE_BUCKET_B }),
      [],
      [`role/xacct-demo-callee-exec -> administer-bucket:${CODE_BUCKET_B}`],
    ],
  ];

  it.each(cases)("%s", async (_name, mutate, expectedFindings, expectedBeyond) => {
    const { analysis, findings } = await prove(variant(mutate));
    expect(codes(findings)).toEqual(expect.arrayContaining(expectedFindings));
    // Beyond the path, or beyond it from outside the VPC and refused only by an endpoint's policy.
    const beyond = analysis.cells
      .filter((c) => c.verdict === "beyond-intended" || c.decidedByEndpoint?.withoutEndpoints === "beyond-intended")
      .map((c) => `${c.principalId} -> ${c.capabilityId}`);
    for (const expected of expectedBeyond) expect(beyond.some((b) => b.startsWith(expected))).toBe(true);
    expect(findings.length + beyond.length).toBeGreaterThan(0);
  });

  it("the caller's role with lambda:InvokeAsync on the callee and a permission for it: a second path, by the deprecated API", async () => {
    const dir = variant((stacks) => {
      grant("caller", "assume-callee-invoker-role-only", { Action: "lambda:InvokeAsync", Resource: CALLEE_FN })(stacks);
      permission("callee", CALLER_ROLE, { action: "lambda:InvokeAsync" })(stacks);
    });
    const { analysis } = await prove(dir);
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_FN}`)).toMatchObject({
      verdict: "refused",
      via: [],
      action: "lambda:InvokeAsync",
      decidedByEndpoint: { endpoint: { service: "lambda" }, withoutEndpoints: "beyond-intended" },
    });
  });

  it("a user of a third account is modelled as that user, not as its account's administrator", async () => {
    const bob = "arn:aws:iam::444455556666:user/bob";
    const { analysis } = await prove(
      variant(addTrustStatement({ Sid: "Bob", Effect: "Allow", Principal: { AWS: bob }, Action: "sts:AssumeRole" })),
    );
    expect(analysis.principals.find((p) => p.id === `named/${bob}`)?.label).toBe(
      "user bob of account 444455556666, which is neither the caller's nor the callee's, named in a policy",
    );
    expect(cell(analysis, `named/${bob}`, `assume:${INVOKER_ROLE}`).verdict).toBe("beyond-intended");
  });
});

describe("reasonable shapes that are not findings", () => {
  it.each([
    [
      "a log group with everything under it",
      "arn:aws:logs:eu-west-1:222222222222:log-group:/aws/lambda/xacct-demo-callee:*",
      ["logs:CreateLogStream", "logs:PutLogEvents"],
    ],
    ["the callee's alias, named again", CALLEE_ALIAS, ["lambda:InvokeFunction"]],
  ])("%s", async (_name, resource, actions) => {
    const policyName = actions[0].startsWith("logs:") ? "execution" : "invoke-callee-only";
    const { findings } = await prove(variant(grant("callee", policyName, { Action: actions, Resource: resource })));
    expect(findings).toEqual([]);
  });

  it("the versions and aliases of the callee (function:name:*) are no resource wildcard, but on an invoker role a grant beyond the alias", async () => {
    // Before the alias this was a shape that is no finding; "*" after the name now also covers $LATEST and version 1.
    const { findings } = await prove(
      variant(grant("callee", "invoke-callee-only", { Action: "lambda:InvokeFunction", Resource: `${CALLEE_FN}:*` })),
    );
    expect(codes(findings)).toEqual(["invoke-beyond-alias @ policy invoke-callee-only of role/xacct-demo-callee-invoker: Added"]);
    expect(findings[0].problem).toContain(`xacct-demo-callee:$LATEST, version 1 (xacct-demo-callee:1)`);
    expect(findings[0].problem).not.toContain("unqualified");
  });
});

describe("policies AWS would refuse: exit 2, naming the policy and the statement, no stack trace", () => {
  it.each([
    [
      "an action without a service prefix",
      grant("callee", "invoke-callee-only", { Action: "InvokeFunction", Resource: CALLEE_FN }),
      /policy invoke-callee-only of role\/xacct-demo-callee-invoker .*\n\s+Statement\[1\]\.Action: /,
    ],
    [
      "a resource that is not an ARN",
      grant("callee", "invoke-callee-only", { Action: "lambda:InvokeFunction", Resource: "xacct-demo-callee" }),
      /Statement\[1\]\.Resource: "xacct-demo-callee" is neither "\*" nor an ARN/,
    ],
    [
      "a principal given as a bare string",
      addTrustStatement({ Effect: "Allow", Principal: "arn:aws:iam::111111111111:root", Action: "sts:AssumeRole" }),
      /trust policy of role\/xacct-demo-callee-invoker .*\n.*Statement\[1\]\.Principal/,
    ],
    [
      "an unknown condition operator",
      invokerTrust((doc) => (doc.Statement[0].Condition = { ArnEqualz: { "aws:PrincipalArn": CALLER_ROLE } })),
      /Statement\[0\]\.Condition\.ArnEqualz: not a condition operator AWS knows/,
    ],
    [
      "a null principal",
      addTrustStatement({ Effect: "Allow", Principal: { AWS: null }, Action: "sts:AssumeRole" }),
      /Statement\[1\]\.Principal\.AWS/,
    ],
  ])("%s", async (_name, mutate, message) => {
    const run = await verifyCli(["--dir", variant(mutate as Parameters<typeof stacksVariant>[0])]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toMatch(/^verify: (a policy|\d+ policies) AWS would refuse, so nothing was judged; fix the stack/);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe("");
  });
});

describe("stacks synthesized with an external id and an organisation", () => {
  it("require both in the trust, and the caller's role still gets through with them", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => {
        doc.Statement[0].Condition.StringEquals = { "sts:ExternalId": "partner-7", "aws:PrincipalOrgID": "o-abcdef1234" };
      }),
    );
    const record = path.join(dir, CONFIG_RECORD_FILE);
    fs.writeFileSync(
      record,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(record, "utf8")), externalId: "partner-7", organizationId: "o-abcdef1234" }),
    );
    const { analysis, findings } = await prove(dir);
    expect(findings).toEqual([]);
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`).verdict).toBe("as-intended");
    expect(cell(analysis, "outsider/333333333333", `assume:${INVOKER_ROLE}`).allowed).toBe(false);
  });
});

describe("bad input: exit 2 with a message naming the fix", () => {
  it("a missing directory", async () => {
    const run = await verifyCli(["--dir", "/nonexistent/cdktf.out"]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toBe(
      "verify: /nonexistent/cdktf.out does not exist: run `make synth` to create cdktf.out, or pass --dir with a cdktf output directory\n",
    );
    expect(run.stdout).toBe("");
  });

  it("a stack that is not JSON", async () => {
    const dir = variant(() => undefined);
    fs.writeFileSync(path.join(dir, "stacks", "callee", "cdk.tf.json"), "{ not json");
    const run = await verifyCli(["--dir", dir]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toMatch(/^verify: cannot read the stacks in .*: .*callee.*cdk\.tf\.json/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("an unknown option, an unknown format, and profiles without --live", async () => {
    expect(await verifyInProcess(["--format", "yaml"]).catch((e: Error) => e.message)).toBe(
      "--format yaml is not one of text, json, mermaid",
    );
    expect(await verifyInProcess(["--caller-profile", "a"]).catch((e: Error) => e.message)).toBe(
      "--caller-profile, --callee-profile and --ignore-drift are for live mode: add --live",
    );
    const run = await verifyCli(["--colour"]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toMatch(/^verify: Unknown option '--colour'/);
  });

  it("--live without both profiles", async () => {
    const run = await verifyCli(["--live", "--caller-profile", "caller-admin"]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toBe(
      "verify: --live needs both --caller-profile (account A, where the caller runs) and --callee-profile (account B, where the callee runs)\n",
    );
  });
});

describe("--format json", () => {
  it("carries every cell and the verdict", async () => {
    const run = await verifyInProcess(["--dir", OUT_DIR, "--format", "json"]);
    const report = JSON.parse(run.out);
    expect(report.passed).toBe(true);
    expect(report.summary).toEqual({
      beyondIntended: 0,
      intendedPathRefused: 0,
      beyondIntendedRefusedOnlyByEndpoint: 0,
      findings: 0,
      deployTimeFindings: 0,
    });
    expect(report.cells).toHaveLength(report.principals.length * report.capabilities.length);
    // Each cell lists the endpoints its requests passed; the endpoints name who uses them.
    const invoke = report.cells.find(
      (c: { principalId: string; capabilityId: string }) =>
        c.principalId === "role/xacct-demo-caller-exec" && c.capabilityId === `invoke:${CALLEE_ALIAS}`,
    );
    expect(invoke.endpoints.map((e: { service: string }) => e.service)).toEqual(["sts", "lambda"]);
    expect(invoke.decidedByEndpoint).toBeUndefined();
    expect(report.vpcEndpoints).toEqual(
      ["sts", "lambda"].map((service) =>
        expect.objectContaining({
          service,
          vpcId: CALLER_VPC,
          defaultPolicy: false,
          usedBy: ["role/xacct-demo-caller-exec", "role/xacct-demo-callee-invoker"],
        }),
      ),
    );
  });
});

/** examples/three-callers.json, synthesized once for this file as `make readme-proof` does (removed with the variants). */
let threeCallersDir: Promise<string> | undefined;
function threeCallers(): Promise<string> {
  threeCallersDir ??= synthesizeExample().then((dir) => {
    variants.push(dir);
    return dir;
  });
  return threeCallersDir;
}

/** The example's callers, grouped by account as the proof orders them: orders and billing in account A, reports in a third account. */
const CALLERS = [
  { name: "orders", account: "111111111111", vpc: "vpc-0a1a1a1a1a1a1a1a1" },
  { name: "billing", account: "111111111111", vpc: "vpc-0a3a3a3a3a3a3a3a3" },
  { name: "reports", account: "444444444444", vpc: "vpc-0c1c1c1c1c1c1c1c1" },
].map((c) => ({
  ...c,
  stack: `caller-${c.name}`,
  roleId: `role/xacct-demo-${c.name}-exec`,
  role: `arn:aws:iam::${c.account}:role/xacct-demo-${c.name}-exec`,
  invokerId: `role/xacct-demo-invoker-${c.name}`,
  invoker: `arn:aws:iam::222222222222:role/xacct-demo-invoker-${c.name}`,
  fn: `arn:aws:lambda:eu-west-1:${c.account}:function:xacct-demo-${c.name}`,
  vpc: c.vpc,
}));
type Caller = (typeof CALLERS)[number];
const [ORDERS, BILLING, REPORTS] = CALLERS;
/** What no invoker role may invoke: Lambda authorizes each of these on its own, not through the alias. */
const BEYOND_ALIAS = [CALLEE_FN, `${CALLEE_FN}:$LATEST`, `${CALLEE_FN}:1`];

async function threeCallerVariant(mutate: (stacks: Record<string, TfJson>) => void): Promise<string> {
  const dir = variantOf(await threeCallers(), mutate);
  variants.push(dir);
  return dir;
}
/** The callee stack's policy of one invoker role: the single caller's ("invoker_...") or a listed caller's ("invoker-<name>_..."). */
const invokerPolicyOf = (callee: TfJson, caller?: string) =>
  Object.entries(callee.resource.aws_iam_role_policy as Record<string, TfJson>).find(([key]) =>
    key.startsWith(caller === undefined ? "invoker_" : `invoker-${caller}_`),
  )?.[1] as TfJson;
const assumePolicyOf = (stack: TfJson) => rolePolicy(stack, "assume-callee-invoker-role-only");

describe("three callers (examples/three-callers.json)", () => {
  let dir: string;
  let analysis: AccessAnalysis;
  let findings: Finding[];
  beforeAll(async () => {
    dir = await threeCallers();
    ({ analysis, findings } = await prove(dir));
  });

  it("derive one path per caller from its stack, grouped by account: its own role, its own invoker role, the alias", () => {
    expect(analysis.model.intended.map((p) => [p.caller, p.stack, p.callerRoleArn, p.invokerRoleArn, p.targetArn])).toEqual(
      CALLERS.map((c) => [c.name, c.stack, c.role, c.invoker, CALLEE_ALIAS]),
    );
    expect(analysis.model.callerAccountIds).toEqual(["111111111111", "444444444444"]);
    expect(analysis.principals.map((p) => p.id)).toEqual([
      ...CALLERS.map((c) => c.roleId),
      ...CALLERS.map((c) => c.invokerId),
      "role/xacct-demo-callee-exec",
      "admin/111111111111",
      "admin/444444444444",
      "admin/222222222222",
      "outsider/333333333333",
      "anonymous",
    ]);
  });

  it("without the callers' environment, find each caller's own invoker role by the callee's outputs keyed by caller name", async () => {
    const dir = await threeCallerVariant((s) => {
      for (const c of CALLERS) {
        const variables = (Object.values(s[c.stack].resource.aws_lambda_function)[0] as TfJson).environment.variables;
        delete variables.INVOKER_ROLE_ARN;
        delete variables.CALLEE_FUNCTION_ARN;
      }
    });
    const model = accessModelFromStacks(dir);
    expect(model.functions.find((f) => f.arn === ORDERS.fn)?.roleArn).toBe(ORDERS.role);
    expect((model.functions.find((f) => f.arn === ORDERS.fn) as { environment?: Record<string, string> }).environment).not.toHaveProperty(
      "INVOKER_ROLE_ARN",
    );
    expect(model.intended).toEqual(analysis.model.intended);
  });

  it("a caller that invokes neither the callee nor one of its aliases or versions is bad input (exit 2)", async () => {
    const dir = await threeCallerVariant((s) => {
      const fn = Object.values(s[REPORTS.stack].resource.aws_lambda_function)[0] as TfJson;
      fn.environment.variables.CALLEE_FUNCTION_ARN = `${CALLEE_FN}:staging`;
    });
    const run = await verifyCli(["--dir", dir]);
    expect(run.code).toBe(EXIT.badInput);
    expect(run.stderr).toBe(
      `verify: the callee function or alias of caller 'reports' (${CALLEE_FN}:staging, stack 'caller-reports') is not defined by the stacks in ${dir}\n`,
    );
  });

  it("have no findings, and open exactly each caller's own path at the alias, plus what owners and the functions' own keys allow", () => {
    expect(findings).toEqual([]);
    const key = (alias: string) => analysis.capabilities.find((c) => c.label === `use key alias/${alias}`)?.resourceArn;
    const ownedBy = (account: string) =>
      analysis.capabilities
        .filter((c) => c.resourceAccountId === account && c.kind !== "assume")
        .map((c) => `admin/${account} -> ${c.id} [permitted]`);
    expect(allowedCells(analysis)).toEqual(
      [
        ...CALLERS.flatMap((c) => [
          `${c.roleId} -> assume:${c.invoker} [as-intended]`,
          `${c.roleId} -> invoke:${CALLEE_ALIAS} via ${c.invoker} [as-intended]`,
          `${c.invokerId} -> invoke:${CALLEE_ALIAS} [as-intended]`,
          `${c.roleId} -> use:${key(`xacct-demo-${c.name}`)} [permitted]`,
        ]),
        `role/xacct-demo-callee-exec -> use:${key("xacct-demo-callee")} [permitted]`,
        ...ownedBy("111111111111"),
        ...ownedBy("444444444444"),
        ...ownedBy("222222222222"),
      ].sort(),
    );
  });

  const pairs: [string, string, Caller, Caller][] = CALLERS.flatMap((a) =>
    CALLERS.map((b): [string, string, Caller, Caller] => [a.name, b.name, a, b]),
  );
  it.each(pairs)("the role of caller %s assuming the invoker role of caller %s: ALLOW only for its own", (_a, _b, from, to) => {
    const assume = cell(analysis, from.roleId, `assume:${to.invoker}`);
    expect([assume.allowed, assume.verdict]).toEqual(from === to ? [true, "as-intended"] : [false, "refused"]);
    if (from !== to) expect(assume.decidedBy).toContain(`trust policy of role/xacct-demo-invoker-${to.name} (no Allow matched)`);
  });

  const beyondAlias: [string, string, Caller, string][] = CALLERS.flatMap((c) =>
    BEYOND_ALIAS.map((arn): [string, string, Caller, string] => [c.name, arn.slice(arn.indexOf("function:")), c, arn]),
  );
  it.each(beyondAlias)("the invoker role of caller %s, and the caller through it, at %s: DENY", (_name, _at, caller, arn) => {
    const lambda = endpointId(analysis, "lambda", caller.vpc);
    expect(cell(analysis, caller.invokerId, `invoke:${arn}`)).toMatchObject({
      allowed: false,
      verdict: "refused",
      decidedBy: ["identity-based policy (no Allow matched)", `VPC endpoint policy of ${lambda} (lambda) (no Allow matched)`],
      endpoints: [{ id: lambda }],
    });
    expect(cell(analysis, caller.invokerId, `invoke:${arn}`).decidedByEndpoint).toBeUndefined();
    expect(cell(analysis, caller.roleId, `invoke:${arn}`).allowed).toBe(false);
  });

  it("`verify --dir` exits 0 with the paths, the matrix grouped by account and PASS; --format json parses; the diagram groups by account", async () => {
    const run = await verifyCli(["--dir", dir]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.proven);
    expect(run.stdout).toContain(
      "Intended paths, one per caller:\n  orders:  role xacct-demo-orders-exec (111111111111) -> sts:AssumeRole -> role xacct-demo-invoker-orders (222222222222) -> lambda:InvokeFunction -> function xacct-demo-callee:live\n",
    );
    expect(run.stdout).toMatch(/^ {2}roles in account 111111111111 \(callers orders, billing\)\n {4}P1 {3}role xacct-demo-orders-exec/m);
    expect(run.stdout).toMatch(/^account 444444444444 \(caller reports\)\n {2}assume role xacct-demo-reports-exec /m);
    expect(run.stdout).toMatch(
      /^PASS: each of the 3 callers reaches the callee by exactly one path, through its own invoker role and only at xacct-demo-callee:live/m,
    );
    const report = JSON.parse((await verifyInProcess(["--dir", dir, "--format", "json"])).out);
    expect(report.passed).toBe(true);
    expect(report.intended).toHaveLength(3);
    expect(report.cells).toHaveLength(report.principals.length * report.capabilities.length);
    const mermaid = (await verifyInProcess(["--dir", dir, "--format", "mermaid"])).out;
    expect(mermaid).toContain(`  subgraph account_444444444444["account 444444444444 (caller reports)"]`);
    expect(mermaid).toContain(`    subgraph invokers_222222222222["invoker roles, one per caller"]`);
    expect(mermaid).toContain(
      `  role_111111111111_xacct_demo_billing_exec -. "sts:AssumeRole refused" .-> role_222222222222_xacct_demo_invoker_orders`,
    );
    expect(mermaid).toContain(`  outsider_333333333333 -. "sts:AssumeRole refused (every invoker role)" .-> invokers_222222222222`);
    expect(mermaid).not.toMatch(/linkStyle/);
  });
});

describe("an invoker role granted more of the callee than its alias: a finding, and ALLOW! there alone", () => {
  const cases: [string, "one caller" | "three callers", string, string][] = [];
  for (const shape of ["one caller", "three callers"] as const)
    for (const [what, arn] of [
      ["the unqualified function", CALLEE_FN],
      ["$LATEST", `${CALLEE_FN}:$LATEST`],
      ["version 1", `${CALLEE_FN}:1`],
    ])
      cases.push([what, shape, arn, what]);

  it.each(cases)("%s (%s)", async (_what, shape, arn, what) => {
    const added = { Sid: "Added", Effect: "Allow", Action: "lambda:InvokeFunction", Resource: arn };
    const [dir, caller, invoker, invokerName] =
      shape === "one caller"
        ? [
            variant(({ callee }) => editPolicy(invokerPolicyOf(callee), "policy", (doc) => doc.Statement.push(added))),
            "role/xacct-demo-caller-exec",
            INVOKER_ROLE,
            "xacct-demo-callee-invoker",
          ]
        : [
            await threeCallerVariant((s) => editPolicy(invokerPolicyOf(s.callee, "orders"), "policy", (doc) => doc.Statement.push(added))),
            ORDERS.roleId,
            ORDERS.invoker,
            "xacct-demo-invoker-orders",
          ];
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual([`invoke-beyond-alias @ policy invoke-callee-only of role/${invokerName}: Added`]);
    expect(findings[0].problem).toContain(what === "the unqualified function" ? "the unqualified function xacct-demo-callee" : what);
    expect(findings[0].fix).toBe(`grant only the alias ARN: "Resource": "${CALLEE_ALIAS}"`);
    // Lambda authorizes each qualifier on its own: exactly the one granted opens, for the invoker role and through it,
    // and from the caller's VPC only the Lambda endpoint's policy (which names the alias alone) refuses it.
    expect(analysis.cells.filter((c) => c.verdict === "beyond-intended")).toEqual([]);
    expect(endpointOnlyCells(analysis)).toEqual(
      [`${caller} -> invoke:${arn} via ${invoker} [lambda]`, `role/${invokerName} -> invoke:${arn} [lambda]`].sort(),
    );
    expect(cell(analysis, caller, `invoke:${CALLEE_ALIAS}`).verdict).toBe("as-intended");
    expect(cell(analysis, `role/${invokerName}`, `invoke:${arn}`).explanation).toMatch(
      /^refused only by the VPC endpoint policy of vpce-\w+ \(lambda\) in vpc-\w+ because no VPC endpoint policy allows the lambda:InvokeFunction action: from outside the VPC the identity and resource policies allow it, access beyond the intended path \(invokes the callee /,
    );
    expect((await verifyInProcess(["--dir", dir])).code).toBe(EXIT.violation);
  });
});

describe("one caller reaching another's invoker role: findings, and ALLOW! once both sides let it", () => {
  const ordersTrust = (edit: (doc: TfJson) => void) => (s: Record<string, TfJson>) =>
    editPolicy(roleNamed(s.callee, "-invoker-orders"), "assume_role_policy", edit);
  const billingMayAssumeOrders = (s: Record<string, TfJson>) =>
    editPolicy(assumePolicyOf(s[BILLING.stack]), "policy", (doc) => (doc.Statement[0].Resource = [BILLING.invoker, ORDERS.invoker]));
  const TRUST = "trust policy of role/xacct-demo-invoker-orders: CallerFunctionRoleOnly";
  const cases: [string, (s: Record<string, TfJson>) => void, string[], boolean][] = [
    [
      "orders' invoker trusting billing's role too (ArnEquals with two ARNs)",
      ordersTrust((doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [ORDERS.role, BILLING.role])),
      [`trust-names-another-caller @ ${TRUST}`],
      // Across accounts both sides must allow: billing's own policy still names only its own invoker role.
      false,
    ],
    [
      "billing's assume policy widened to orders' invoker role",
      billingMayAssumeOrders,
      ["cross-caller-assume @ policy assume-callee-invoker-role-only of role/xacct-demo-billing-exec: AssumeCalleeInvokerRoleOnly"],
      false,
    ],
    [
      "both: the trust names billing's role and billing's policy names orders' invoker role",
      (s) => {
        ordersTrust((doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [ORDERS.role, BILLING.role]))(s);
        billingMayAssumeOrders(s);
      },
      [
        "cross-caller-assume @ policy assume-callee-invoker-role-only of role/xacct-demo-billing-exec: AssumeCalleeInvokerRoleOnly",
        `trust-names-another-caller @ ${TRUST}`,
      ],
      true,
    ],
    [
      "orders' invoker trusting account A with no aws:PrincipalArn (billing runs there too)",
      ordersTrust((doc) => delete doc.Statement[0].Condition),
      [`trust-names-another-caller @ ${TRUST}`, `trust-without-principal-arn @ ${TRUST}`],
      false,
    ],
    [
      "orders' invoker trusting a wildcard that matches every caller role of account A",
      ordersTrust(
        (doc) => (doc.Statement[0].Condition = { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/xacct-demo-*-exec" } }),
      ),
      [`principal-off-path @ ${TRUST}`, `trust-names-another-caller @ ${TRUST}`, `trust-without-principal-arn @ ${TRUST}`],
      false,
    ],
  ];

  it.each(cases)("%s", async (_name, mutate, expected, opened) => {
    const dir = await threeCallerVariant(mutate);
    const { analysis, findings } = await prove(dir);
    expect(codes(findings)).toEqual(expected);
    const assume = cell(analysis, BILLING.roleId, `assume:${ORDERS.invoker}`);
    // Both sides allow it: from billing's VPC, only its STS endpoint's policy (its own invoker role alone) refuses it.
    expect([assume.allowed, assume.verdict, assume.decidedByEndpoint?.withoutEndpoints]).toEqual(
      opened ? [false, "refused", "beyond-intended"] : [false, "refused", undefined],
    );
    if (opened) {
      const sts = endpointId(analysis, "sts", BILLING.vpc);
      expect(assume.explanation).toBe(
        `refused only by the VPC endpoint policy of ${sts} (sts) in ${BILLING.vpc} because no VPC endpoint policy allows the sts:AssumeRole action: from outside the VPC the identity and resource policies allow it, access beyond the intended path (the role of caller billing assumes xacct-demo-invoker-orders, the invoker role of caller orders: each caller may assume only its own)`,
      );
      // Billing still reaches the callee through its own invoker role: the breach is the assume, shown in red (refused by the endpoint).
      expect(cell(analysis, BILLING.roleId, `invoke:${CALLEE_ALIAS}`)).toMatchObject({
        verdict: "as-intended",
        via: [{ roleArn: BILLING.invoker }],
      });
      const mermaid = (await verifyInProcess(["--dir", dir, "--format", "mermaid"])).out;
      const edges = mermaid.split("\n").filter((l) => / -[-.] /.test(l));
      const breach = edges.findIndex(
        (l) =>
          l ===
          `  role_111111111111_xacct_demo_billing_exec -. "sts:AssumeRole refused by the VPC endpoint policy" .-> role_222222222222_xacct_demo_invoker_orders`,
      );
      expect(breach).toBeGreaterThan(-1);
      expect(mermaid).toContain(`linkStyle ${breach} stroke:#d00`);
    }
    if (expected.some((e) => e.startsWith("trust-names-another-caller"))) {
      const finding = findings.find((f) => f.code === "trust-names-another-caller") as Finding;
      expect(finding.problem).toMatch(/^lets xacct-demo-billing-exec, the role of caller billing, assume xacct-demo-invoker-orders/);
      expect(finding.fix).toContain(`"aws:PrincipalArn": "${ORDERS.role}"`);
    }
    // Reports is in another account: none of these lets it in.
    expect(cell(analysis, REPORTS.roleId, `assume:${ORDERS.invoker}`).allowed).toBe(false);
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
  });

  it("a caller's reaching the callee only through another caller's invoker role is beyond the path too", async () => {
    // Billing's policy names only orders' invoker role, and orders' trust lets billing in: billing's own path is gone.
    const dir = await threeCallerVariant((s) => {
      ordersTrust((doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [ORDERS.role, BILLING.role]))(s);
      editPolicy(assumePolicyOf(s[BILLING.stack]), "policy", (doc) => (doc.Statement[0].Resource = ORDERS.invoker));
    });
    const { analysis } = await prove(dir);
    expect(cell(analysis, BILLING.roleId, `assume:${BILLING.invoker}`).verdict).toBe("path-broken");
    // From billing's VPC its STS endpoint refuses orders' invoker role too: the way around is held back by the endpoint alone.
    const sts = endpointId(analysis, "sts", BILLING.vpc);
    const invoke = cell(analysis, BILLING.roleId, `invoke:${CALLEE_ALIAS}`);
    expect(invoke).toMatchObject({
      allowed: false,
      verdict: "path-broken",
      decidedByEndpoint: { endpoint: { id: sts, service: "sts", vpcId: BILLING.vpc }, withoutEndpoints: "beyond-intended" },
    });
    expect(invoke.explanation).toMatch(
      /^the intended path is refused because no identity-based policy allows the lambda:InvokeFunction action; /,
    );
    expect(invoke.explanation).toContain(
      `another way, which the identity and resource policies allow from outside the VPC, is refused only by the VPC endpoint policy of ${sts} (sts) in ${BILLING.vpc} on the way, at sts:AssumeRole on role xacct-demo-invoker-orders, because no VPC endpoint policy allows the sts:AssumeRole action: access beyond the intended path (the role of caller billing reaches the callee through xacct-demo-invoker-orders, the invoker role of caller orders, not its own)`,
    );
  });
});

describe("the README", () => {
  it("shows the access matrix, diagram and deploy-time checks of the current stacks, and the proof of examples/three-callers.json (run `make readme-proof` when this fails)", async () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const blocks = renderBlocks((await prove(OUT_DIR)).analysis, await checkDeployTime(OUT_DIR, deployOrderOf(OUT_DIR)));
    for (const name of README_BLOCKS) expect(readBlock(readme, name)).toBe(blocks[name]);
    expect(readBlock(readme, EXAMPLE_BLOCK)).toBe(renderExampleBlock((await prove(await threeCallers())).analysis));
  });

  it("would find the three-caller proof stale after a change to the example's stacks", async () => {
    // The reports invoker role granted $LATEST: one more ALLOW! in the matrix.
    const dir = await threeCallerVariant((s) =>
      editPolicy(
        invokerPolicyOf(s.callee, "reports"),
        "policy",
        (doc) => (doc.Statement[0].Resource = [CALLEE_ALIAS, `${CALLEE_FN}:$LATEST`]),
      ),
    );
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const block = readBlock(readme, EXAMPLE_BLOCK);
    expect(block).toContain("Intended paths, one per caller:");
    expect(block).not.toBe(renderExampleBlock((await prove(dir)).analysis));
  });

  it("would be found stale after a change to the stacks", async () => {
    const dir = variant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => delete doc.Statement[0].Condition),
    );
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const blocks = renderBlocks((await prove(dir)).analysis, await checkDeployTime(dir, deployOrderOf(dir)));
    expect(readBlock(readme, "access-matrix")).not.toBe(blocks["access-matrix"]);
    expect(readBlock(readme, "access-diagram")).not.toBe(blocks["access-diagram"]);
  });

  it("would show a deploy-time finding in its table", async () => {
    const dir = variant(({ callee }) => {
      for (const sg of Object.values(callee.resource.aws_security_group as Record<string, TfJson>)) delete sg.depends_on;
    });
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
    const table = renderBlocks((await prove(dir)).analysis, await checkDeployTime(dir, deployOrderOf(dir)))["deploy-time-checks"];
    expect(table).toMatch(
      /\| callee \| `aws_security_group\.callee_sg` \| network-interface-permissions-outlive-security-group \| FAIL \|/,
    );
    expect(readBlock(readme, "deploy-time-checks")).not.toBe(table);
  });
});
