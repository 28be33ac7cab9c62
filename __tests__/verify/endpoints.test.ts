/**
 * The network layer of the access proof: the callers' VPC endpoint policies take part in every STS and Lambda request
 * sent from the VPC, a cell they decide says so, and the endpoint findings (full access, off the path, CIDR egress
 * around the endpoints) catch what weakens them. On the unmodified stacks, one caller and three, none fires.
 */
import * as fs from "fs";
import { analyzeAccess, type AccessAnalysis, type Cell } from "../../verify/analyze";
import { EXIT } from "../../verify/cli";
import { findPolicyProblems, type Finding } from "../../verify/findings";
import { accessModelFromStacks } from "../../verify/from-stacks";
import { synthesizeExample } from "../../verify/readme-blocks";
import { synthesizeWith, variantOf, verifyInProcess } from "./support";
import { editPolicy, OUT_DIR, stacksVariant, type TfJson } from "../local/support";
import { CONFIG_RECORD_FILE } from "../../config/load";
import * as path from "path";

const CALLER_ROLE = "arn:aws:iam::111111111111:role/xacct-demo-caller-exec";
const INVOKER_ROLE = "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker";
const CALLEE_FN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";
const CALLEE_ALIAS = `${CALLEE_FN}:live`;
const CALLER_VPC = "vpc-0a1a1a1a1a1a1a1a1";
const OTHER_ROLE = "arn:aws:iam::111111111111:role/ops";

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});
function variant(mutate: Parameters<typeof stacksVariant>[0]): string {
  const dir = stacksVariant(mutate);
  scratch.push(dir);
  return dir;
}

async function prove(dir: string): Promise<{ analysis: AccessAnalysis; findings: Finding[] }> {
  const model = accessModelFromStacks(dir);
  return { analysis: await analyzeAccess(model), findings: findPolicyProblems(model) };
}

function cell(analysis: AccessAnalysis, principalId: string, capabilityId: string): Cell {
  const found = analysis.cells.find((c) => c.principalId === principalId && c.capabilityId === capabilityId);
  if (!found) throw new Error(`no cell ${principalId} x ${capabilityId}`);
  return found;
}

const codes = (findings: readonly Finding[]) => findings.map((f) => `${f.code} @ ${f.where.replace(/ \(stack .*?\)/, "")}`).sort();

/** The caller stack's endpoint for a service ("sts", "lambda"). */
function endpointOf(stack: TfJson, service: string): TfJson {
  const found = Object.values(stack.resource.aws_vpc_endpoint as Record<string, TfJson>).filter((e) =>
    String(e.service_name).endsWith(`.${service}`),
  );
  if (found.length !== 1) throw new Error(`expected one ${service} endpoint, found ${found.length}`);
  return found[0];
}

const editEndpoint = (service: string, edit: (doc: TfJson) => void) => (stacks: { caller: TfJson }) =>
  editPolicy(endpointOf(stacks.caller, service), "policy", edit);

/** The endpoints' ids and how the proof names their policies, from the unmodified stacks. */
let STS: string;
let LAMBDA: string;
beforeAll(() => {
  const model = accessModelFromStacks(OUT_DIR);
  STS = model.vpcEndpoints.find((e) => e.service === "sts")?.id as string;
  LAMBDA = model.vpcEndpoints.find((e) => e.service === "lambda")?.id as string;
});

describe("the unmodified stacks: the endpoints allow the intended path and decide nothing", () => {
  it("the intended path is allowed with both endpoint policies in the decision, and no endpoint finding", async () => {
    const { analysis, findings } = await prove(OUT_DIR);
    expect(findings).toEqual([]);
    const assume = cell(analysis, "role/xacct-demo-caller-exec", `assume:${INVOKER_ROLE}`);
    const invoke = cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`);
    expect([assume.verdict, invoke.verdict]).toEqual(["as-intended", "as-intended"]);
    expect(assume.decidedBy).toContain(`VPC endpoint policy of ${STS} (sts): CallerRoleAssumesItsInvokerRoleOnly`);
    expect(invoke.decidedBy).toContain(`VPC endpoint policy of ${LAMBDA} (lambda): InvokerRoleInvokesCalleeAliasOnly`);
    expect(analysis.cells.some((c) => c.decidedByEndpoint)).toBe(false);
    const run = await verifyInProcess(["--dir", OUT_DIR]);
    expect(run.code).toBe(EXIT.proven);
    expect(run.out).toContain(
      `VPC endpoints (a request from the VPC passes the policy of its service's endpoint; every other principal calls from outside):\n  ${CALLER_VPC}: ${STS} (sts), ${LAMBDA} (lambda); used by roles xacct-demo-caller-exec, xacct-demo-callee-invoker\n`,
    );
    expect(run.out).not.toContain("*: a VPC endpoint policy decided it");
  });

  it("three callers (examples/three-callers.json): each caller's path passes its own VPC's endpoints, allowed, no finding", async () => {
    const dir = await synthesizeExample();
    scratch.push(dir);
    const { analysis, findings } = await prove(dir);
    expect(findings).toEqual([]);
    for (const [name, vpc] of [
      ["orders", "vpc-0a1a1a1a1a1a1a1a1"],
      ["billing", "vpc-0a3a3a3a3a3a3a3a3"],
      ["reports", "vpc-0c1c1c1c1c1c1c1c1"],
    ]) {
      const invoke = cell(analysis, `role/xacct-demo-${name}-exec`, `invoke:${CALLEE_ALIAS}`);
      expect(invoke.verdict).toBe("as-intended");
      expect(invoke.endpoints.map((e) => [e.service, e.vpcId])).toEqual([
        ["sts", vpc],
        ["lambda", vpc],
      ]);
      expect(analysis.networks.find((n) => n.principalId === `role/xacct-demo-invoker-${name}`)?.network.vpcId).toBe(vpc);
    }
    expect(analysis.cells.some((c) => c.decidedByEndpoint)).toBe(false);
  });
});

describe("an endpoint policy that refuses the intended path: DENY!*, decided by the endpoint", () => {
  const cases: [string, Parameters<typeof stacksVariant>[0], string, string, RegExp][] = [
    [
      "the Lambda endpoint names another role instead of the invoker role",
      editEndpoint("lambda", (doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = "arn:aws:iam::222222222222:role/other")),
      "lambda",
      `invoke:${CALLEE_ALIAS}`,
      /^the intended path is refused by the VPC endpoint policy of vpce-\w+ \(lambda\) in vpc-0a1a1a1a1a1a1a1a1 because no VPC endpoint policy allows the lambda:InvokeFunction action; the identity and resource policies allow it$/,
    ],
    [
      "the Lambda endpoint denies the invoker role explicitly",
      editEndpoint("lambda", (doc) =>
        doc.Statement.push({ Sid: "NoInvoker", Effect: "Deny", Principal: "*", Action: "lambda:*", Resource: "*" }),
      ),
      "lambda",
      `invoke:${CALLEE_ALIAS}`,
      /refused by the VPC endpoint policy of vpce-\w+ \(lambda\) in vpc-\w+ with an explicit deny in a VPC endpoint policy;/,
    ],
    [
      "the STS endpoint names another role instead of the caller's: the assume is refused, and the invoke on the way",
      editEndpoint("sts", (doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = OTHER_ROLE)),
      "sts",
      `assume:${INVOKER_ROLE}`,
      /^the intended path is refused by the VPC endpoint policy of vpce-\w+ \(sts\) in vpc-\w+ because no VPC endpoint policy allows the sts:AssumeRole action/,
    ],
  ];

  it.each(cases)("%s", async (_what, mutate, service, capabilityId, explanation) => {
    const dir = variant(mutate);
    const { analysis } = await prove(dir);
    const broken = cell(analysis, "role/xacct-demo-caller-exec", capabilityId);
    expect(broken).toMatchObject({
      allowed: false,
      verdict: "path-broken",
      decidedByEndpoint: { endpoint: { service, vpcId: CALLER_VPC }, withoutEndpoints: "as-intended" },
    });
    expect(broken.explanation).toMatch(explanation);
    expect(broken.decidedBy.some((d) => d.startsWith(`VPC endpoint policy of vpce-`) && d.includes(`(${service})`))).toBe(true);
    // The invoke through the invoker role is refused with it, by this endpoint, and the proof fails on the path.
    const invoke = cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`);
    expect(invoke).toMatchObject({ verdict: "path-broken", decidedByEndpoint: { endpoint: { service } } });
    if (service === "sts") expect(invoke.explanation).toContain("on the way, at sts:AssumeRole on role xacct-demo-callee-invoker,");
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/^ {2}invoke function xacct-demo-callee:live +DENY!\* /m);
    expect(run.out).toContain("*: a VPC endpoint policy decided it, refusing what the identity and resource policies alone allow.");
    expect(run.out).toMatch(new RegExp(`^ {2}DENY!\\* invoke function xacct-demo-callee:live: the intended path is refused`, "m"));
    const json = JSON.parse((await verifyInProcess(["--dir", dir, "--format", "json"])).out);
    const jsonCell = json.cells.find((c: Cell) => c.principalId === "role/xacct-demo-caller-exec" && c.capabilityId === capabilityId);
    expect(jsonCell.decidedByEndpoint).toEqual({
      endpoint: { id: service === "sts" ? STS : LAMBDA, service, vpcId: CALLER_VPC },
      withoutEndpoints: "as-intended",
    });
    const mermaid = (await verifyInProcess(["--dir", dir, "--format", "mermaid"])).out;
    expect(mermaid).toMatch(/ -\. "(sts:AssumeRole|lambda:InvokeFunction) refused by the VPC endpoint policy" \.-> /);
  });
});

describe("endpoint findings on weakened endpoint policies", () => {
  const LAMBDA_STATEMENT = "VPC endpoint policy of {lambda} (lambda) in vpc-0a1a1a1a1a1a1a1a1: InvokerRoleInvokesCalleeAliasOnly";
  const STS_STATEMENT = "VPC endpoint policy of {sts} (sts) in vpc-0a1a1a1a1a1a1a1a1: CallerRoleAssumesItsInvokerRoleOnly";
  const cases: [string, Parameters<typeof stacksVariant>[0], string[], RegExp][] = [
    [
      "an endpoint with its policy removed: AWS's full-access default",
      ({ caller }) => delete endpointOf(caller, "lambda").policy,
      ["endpoint-policy-full-access @ VPC endpoint {lambda} (lambda) in vpc-0a1a1a1a1a1a1a1a1"],
      /^has no policy, so AWS attaches its default full-access policy: every principal that reaches the endpoint may call every lambda action on every resource/,
    ],
    [
      'a policy as wide as the default: Action, Resource and Principal "*" with no condition',
      ({ caller }) =>
        (endpointOf(caller, "sts").policy = JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: "Everything", Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
        })),
      ["endpoint-policy-full-access @ VPC endpoint policy of {sts} (sts) in vpc-0a1a1a1a1a1a1a1a1: Everything"],
      /^allows Action "\*" \(every sts action\), Resource "\*" \(every resource\), Principal "\*" with no condition on who/,
    ],
    [
      'Principal "*" with only a Resource: anyone may assume the invoker role through it',
      editEndpoint("sts", (doc) => delete doc.Statement[0].Condition),
      [`endpoint-policy-full-access @ ${STS_STATEMENT}`],
      /^allows Principal "\*" with no condition on who/,
    ],
    [
      'Principal "*" narrowed only by a negated condition: everyone but one role',
      editEndpoint("sts", (doc) => (doc.Statement[0].Condition = { ArnNotEquals: { "aws:PrincipalArn": OTHER_ROLE } })),
      [`endpoint-policy-full-access @ ${STS_STATEMENT}`],
      /^allows Principal "\*" with no condition on who/,
    ],
    [
      "aws:PrincipalArn listing a second role",
      editEndpoint("sts", (doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [CALLER_ROLE, OTHER_ROLE])),
      [`endpoint-policy-off-path @ ${STS_STATEMENT}`],
      /^admits arn:aws:iam::111111111111:role\/ops, which is not on the intended path through vpce-\w+ \(sts\): only xacct-demo-caller-exec calls sts from vpc-0a1a1a1a1a1a1a1a1$/,
    ],
    [
      "aws:PrincipalArn as a wildcard over the account's roles",
      editEndpoint("lambda", (doc) => {
        doc.Statement[0].Condition = { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::222222222222:role/*" } };
      }),
      [`endpoint-policy-off-path @ ${LAMBDA_STATEMENT}`],
      /^admits arn:aws:iam::222222222222:role\/\*, which is not on the intended path/,
    ],
    [
      "a wildcard resource: every version and alias of the callee",
      editEndpoint("lambda", (doc) => (doc.Statement[0].Resource = `${CALLEE_FN}:*`)),
      [`endpoint-policy-off-path @ ${LAMBDA_STATEMENT}`],
      /^allows the resource arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee:\* \(a wildcard\), beyond the intended path: only xacct-demo-callee:live is reached through/,
    ],
    [
      "the unqualified callee besides the alias",
      editEndpoint("lambda", (doc) => (doc.Statement[0].Resource = [CALLEE_ALIAS, CALLEE_FN])),
      [`endpoint-policy-off-path @ ${LAMBDA_STATEMENT}`],
      /^allows the resource arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee, beyond the intended path/,
    ],
    [
      "an action the path does not use",
      editEndpoint("lambda", (doc) => (doc.Statement[0].Action = ["lambda:InvokeFunction", "lambda:GetFunction"])),
      [`endpoint-policy-off-path @ ${LAMBDA_STATEMENT}`],
      /^allows lambda:GetFunction, which the intended path does not use \(lambda:InvokeFunction\)$/,
    ],
    [
      "only the organisation narrows who: every principal of it",
      editEndpoint("sts", (doc) => (doc.Statement[0].Condition = { StringEquals: { "aws:PrincipalOrgID": "o-abcdef1234" } })),
      [`endpoint-policy-off-path @ ${STS_STATEMENT}`],
      /^admits every principal that matches aws:principalorgid, not only xacct-demo-caller-exec: add an aws:PrincipalArn condition$/,
    ],
  ];

  it.each(cases)("%s", async (_what, mutate, expected, problem) => {
    const dir = variant(mutate);
    const { analysis, findings } = await prove(dir);
    const ids = (text: string) => text.replace("{sts}", STS).replace("{lambda}", LAMBDA);
    expect(codes(findings)).toEqual(expected.map(ids));
    expect(findings[0].problem).toMatch(problem);
    // The fix names the policy that admits the intended path alone.
    expect(findings[0].fix).toMatch(/^set the endpoint's policy to allow only the intended path through it: \{"Version":"2012-10-17"/);
    expect(findings[0].fix).toContain(`"aws:PrincipalArn":"${findings[0].where.includes("(sts)") ? CALLER_ROLE : INVOKER_ROLE}"`);
    // Wider endpoints open nothing the other policies refuse: the intended path still works, and the proof fails on the finding.
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`).verdict).toBe("as-intended");
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toContain(`[${expected[0].split(" @ ")[0]}]`);
  });

  it("with three callers, another caller's invoker role in orders' Lambda endpoint is off that VPC's path", async () => {
    const base = await synthesizeExample();
    scratch.push(base);
    const dir = variantOf(base, (stacks) =>
      editPolicy(endpointOf(stacks["caller-orders"], "lambda"), "policy", (doc) => {
        doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [
          "arn:aws:iam::222222222222:role/xacct-demo-invoker-orders",
          "arn:aws:iam::222222222222:role/xacct-demo-invoker-billing",
        ];
      }),
    );
    scratch.push(dir);
    const { findings } = await prove(dir);
    expect(findings.map((f) => f.code)).toEqual(["endpoint-policy-off-path"]);
    expect(findings[0].where).toMatch(/^VPC endpoint policy of vpce-\w+ \(lambda\) in vpc-0a1a1a1a1a1a1a1a1 \(stack 'caller-orders' /);
    expect(findings[0].problem).toBe(
      `admits arn:aws:iam::222222222222:role/xacct-demo-invoker-billing, the invoker role of caller billing (whose path runs from another VPC), which is not on the intended path through ${findings[0].problem.match(/vpce-\w+/)?.[0]} (lambda): only xacct-demo-invoker-orders calls lambda from vpc-0a1a1a1a1a1a1a1a1`,
    );
  });

  it("an organisation configured and required by the endpoint policies too: no finding, the path still allowed", async () => {
    const org = { StringEquals: { "aws:PrincipalOrgID": "o-abcdef1234" } };
    const dir = variant((stacks) => {
      for (const service of ["sts", "lambda"]) editEndpoint(service, (doc) => Object.assign(doc.Statement[0].Condition, org))(stacks);
      // The trust requires it too, as the stacks synthesized with organizationId do.
      const trust = Object.values(stacks.callee.resource.aws_iam_role as Record<string, TfJson>).find((r) =>
        String(r.name).endsWith("-callee-invoker"),
      ) as TfJson;
      editPolicy(trust, "assume_role_policy", (doc) => Object.assign(doc.Statement[0].Condition, org));
    });
    const record = path.join(dir, CONFIG_RECORD_FILE);
    fs.writeFileSync(record, JSON.stringify({ ...JSON.parse(fs.readFileSync(record, "utf8")), organizationId: "o-abcdef1234" }));
    const { analysis, findings } = await prove(dir);
    expect(findings).toEqual([]);
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`).verdict).toBe("as-intended");
  });

  it("an interface endpoint without private DNS takes no default traffic: its policy is no layer", async () => {
    const dir = variant(({ caller }) => (endpointOf(caller, "sts").private_dns_enabled = false));
    const { analysis } = await prove(dir);
    expect(analysis.networks[0].network.endpoints.map((e) => e.service)).toEqual(["lambda"]);
    expect(cell(analysis, "role/xacct-demo-caller-exec", `assume:${INVOKER_ROLE}`).endpoints).toEqual([]);
  });
});

describe("cidr-egress-with-endpoints: a function's group that still sends to a CIDR beside the endpoints", () => {
  const functionGroup = "${aws_security_group.caller_sg_221964A1.id}";
  const cases: [string, Parameters<typeof stacksVariant>[0], string | undefined, RegExp | undefined][] = [
    [
      "an aws_vpc_security_group_egress_rule to 0.0.0.0/0",
      ({ caller }) =>
        (caller.resource.aws_vpc_security_group_egress_rule.anywhere = {
          security_group_id: functionGroup,
          cidr_ipv4: "0.0.0.0/0",
          ip_protocol: "-1",
        }),
      "security group of function xacct-demo-caller: aws_vpc_security_group_egress_rule.anywhere",
      /^allows all traffic to 0\.0\.0\.0\/0, although the stacks create the endpoints vpce-\w+ \(sts\), vpce-\w+ \(lambda\) in vpc-0a1a1a1a1a1a1a1a1: the function can send requests around them/,
    ],
    [
      "an IPv6 rule on HTTPS",
      ({ caller }) =>
        (caller.resource.aws_vpc_security_group_egress_rule.v6 = {
          security_group_id: functionGroup,
          cidr_ipv6: "::/0",
          ip_protocol: "tcp",
          from_port: 443,
          to_port: 443,
        }),
      "security group of function xacct-demo-caller: aws_vpc_security_group_egress_rule.v6",
      /^allows tcp 443 to ::\/0, although/,
    ],
    [
      "inline egress on the function's group, as vpcEndpoints 'none' has it",
      ({ caller }) =>
        (Object.values(caller.resource.aws_security_group as Record<string, TfJson>)[0].egress = [
          { cidr_blocks: ["10.0.0.0/8"], protocol: "tcp", from_port: 443, to_port: 443 },
        ]),
      "security group of function xacct-demo-caller: inline egress",
      /^allows tcp 443 to 10\.0\.0\.0\/8, although/,
    ],
    [
      "an aws_security_group_rule of type egress",
      ({ caller }) =>
        (caller.resource.aws_security_group_rule = {
          legacy: {
            type: "egress",
            security_group_id: functionGroup,
            cidr_blocks: ["0.0.0.0/0"],
            protocol: "tcp",
            from_port: 443,
            to_port: 443,
          },
        }),
      "security group of function xacct-demo-caller: aws_security_group_rule.legacy",
      /^allows tcp 443 to 0\.0\.0\.0\/0, although/,
    ],
    [
      "a CIDR rule on the endpoints' own group (not the function's): no finding",
      ({ caller }) =>
        (caller.resource.aws_vpc_security_group_egress_rule.endpoints = {
          security_group_id: "${aws_security_group.endpoints_sg_06C06DFF.id}",
          cidr_ipv4: "0.0.0.0/0",
          ip_protocol: "-1",
        }),
      undefined,
      undefined,
    ],
    [
      "a CIDR rule on the callee's group, whose VPC has no endpoint: no finding",
      ({ callee }) =>
        (callee.resource.aws_vpc_security_group_egress_rule = {
          anywhere: { security_group_id: "${aws_security_group.callee_sg_1FC64E04.id}", cidr_ipv4: "0.0.0.0/0", ip_protocol: "-1" },
        }),
      undefined,
      undefined,
    ],
  ];

  it.each(cases)("%s", async (_what, mutate, where, problem) => {
    const { findings } = await prove(variant(mutate));
    if (where === undefined) return expect(findings).toEqual([]);
    expect(findings.map((f) => [f.code, f.where.replace(/ \(stack .*?\)/, "")])).toEqual([["cidr-egress-with-endpoints", where]]);
    expect(findings[0].problem).toMatch(problem as RegExp);
    expect(findings[0].fix).toMatch(
      /^remove the rule.*: with vpcEndpoints 'create' the function's only egress is TCP 443 to the endpoints' security group$/,
    );
  });
});

describe("vpcEndpoints 'none': no endpoint layer, no endpoint finding", () => {
  it("the caller's egress to egressCidrBlocks is no finding, no request passes an endpoint, and the proof passes", async () => {
    const dir = await synthesizeWith({ XACCT_CALLER_VPC_ENDPOINTS: "none" });
    scratch.push(dir);
    const { analysis, findings } = await prove(dir);
    expect(analysis.model.vpcEndpoints).toEqual([]);
    // The egress is there (to the NAT gateway), but with no endpoint in the VPC there is nothing to go around.
    expect(analysis.model.cidrEgress.map((e) => e.cidrBlocks)).toEqual([["0.0.0.0/0"]]);
    expect(findings).toEqual([]);
    expect(analysis.networks).toEqual([]);
    expect(analysis.cells.filter((c) => c.endpoints.length > 0 || c.decidedByEndpoint)).toEqual([]);
    expect(cell(analysis, "role/xacct-demo-caller-exec", `invoke:${CALLEE_ALIAS}`)).toMatchObject({
      verdict: "as-intended",
      decidedBy: ["invoke-callee-only: InvokeCalleeFunctionOnly"],
    });
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.proven);
    expect(run.out).not.toContain("VPC endpoints");
  });
});
