/**
 * The access proof of the idempotent callee (examples/idempotent-callee.json): its DynamoDB table is a resource of the
 * proof (read and write rows), the callee's role is the only principal but account B's administrators that may read or
 * write it, the callee VPC's DynamoDB gateway endpoint is a layer for the callee's requests, and the table findings
 * catch weakened copies. The default stacks have no table, and their proof says nothing about one.
 */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_FILE_ENV } from "../../config/load";
import { PROJECT_ROOT } from "../../local/start";
import { analyzeAccess, type AccessAnalysis, type Cell } from "../../verify/analyze";
import { EXIT } from "../../verify/cli";
import { findPolicyProblems, type Finding } from "../../verify/findings";
import { accessModelFromStacks } from "../../verify/from-stacks";
import { synthesizeWith, variantOf, verifyInProcess } from "./support";
import { editPolicy, OUT_DIR, type TfJson } from "../local/support";
import { onlyResource, resourcesOf } from "../support/terraform-json";

const TABLE = "arn:aws:dynamodb:eu-west-1:222222222222:table/xacct-demo-callee-idempotency";
const READ = `read-table:${TABLE}`;
const WRITE = `write-table:${TABLE}`;
const CALLEE_ROLE = "role/xacct-demo-callee-exec";
const CALLEE_ROLE_ARN = "arn:aws:iam::222222222222:role/xacct-demo-callee-exec";
const CALLEE_ADMINS = "admin/222222222222";

const scratch: string[] = [];
let base: string;
beforeAll(async () => {
  base = await synthesizeWith({ [CONFIG_FILE_ENV]: path.join(PROJECT_ROOT, "examples/idempotent-callee.json") });
  scratch.push(base);
}, 120_000);
afterAll(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

function variant(mutate: (stacks: Record<string, TfJson>) => void): string {
  const dir = variantOf(base, mutate);
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

/** `principal verdict` of every ALLOW cell of a capability. */
const allowedOn = (analysis: AccessAnalysis, capabilityId: string) =>
  analysis.cells.filter((c) => c.capabilityId === capabilityId && c.allowed).map((c) => `${c.principalId} ${c.verdict}`);

const codes = (findings: readonly Finding[]) => findings.map((f) => f.code).sort();

const rolePolicy = (stack: TfJson, name: string): TfJson => {
  const found = Object.values(resourcesOf(stack, "aws_iam_role_policy")).filter((p) => p.name === name);
  if (found.length !== 1) throw new Error(`expected one role policy ${name}, found ${found.length}`);
  return found[0];
};
const grant = (action: string) => (doc: TfJson) =>
  doc.Statement.push({ Sid: "ReadsTheTable", Effect: "Allow", Action: action, Resource: TABLE });

describe("the unmodified idempotent synth", () => {
  let analysis: AccessAnalysis;
  let findings: Finding[];
  beforeAll(async () => {
    ({ analysis, findings } = await prove(base));
  });

  it("asks every principal to read and write the table (GetItem, Query, Scan, BatchGetItem; PutItem, UpdateItem, DeleteItem, BatchWriteItem)", () => {
    const capabilities = analysis.capabilities.filter((c) => c.resourceArn === TABLE);
    expect(capabilities.map((c) => [c.id, c.label, c.requests.map((r) => r.action)])).toEqual([
      [READ, "read table xacct-demo-callee-idempotency", ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"]],
      [
        WRITE,
        "write table xacct-demo-callee-idempotency",
        ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"],
      ],
    ]);
    for (const id of [READ, WRITE]) expect(analysis.cells.filter((c) => c.capabilityId === id)).toHaveLength(analysis.principals.length);
    expect(analysis.principals.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        "role/xacct-demo-caller-exec",
        "role/xacct-demo-callee-invoker",
        CALLEE_ROLE,
        "admin/111111111111",
        CALLEE_ADMINS,
        "anonymous",
      ]),
    );
  });

  it("only the callee's role (as intended) and account B's administrators may read and write it; no finding", () => {
    for (const id of [READ, WRITE]) expect(allowedOn(analysis, id)).toEqual([`${CALLEE_ROLE} as-intended`, `${CALLEE_ADMINS} permitted`]);
    expect(cell(analysis, "role/xacct-demo-caller-exec", READ).decidedBy).toEqual(["identity-based policy (no Allow matched)"]);
    // An unrelated account's administrators: DynamoDB needs a resource policy of the table across accounts, and it has none.
    expect(cell(analysis, "outsider/333333333333", READ).decidedBy).toEqual([
      "resource policy of table xacct-demo-callee-idempotency: no resource-based policy exists, and a request from another account needs one to allow it",
    ]);
    expect(cell(analysis, "anonymous", WRITE).decidedBy).toEqual(["dynamodb accepts only signed requests"]);
    expect(findings).toEqual([]);
  });

  it("the callee's requests pass the DynamoDB gateway endpoint of its VPC, whose policy allows them", () => {
    const endpoint = accessModelFromStacks(base).vpcEndpoints.find((e) => e.service === "dynamodb");
    expect(endpoint?.type).toBe("Gateway");
    const read = cell(analysis, CALLEE_ROLE, READ);
    expect(read.action).toBe("dynamodb:GetItem");
    expect(read.endpoints).toEqual([{ id: endpoint?.id, service: "dynamodb", vpcId: "vpc-0b1b1b1b1b1b1b1b1" }]);
    expect(read.decidedBy).toEqual([
      "idempotency-table: IdempotencyRecordsInOwnTableOnly",
      `VPC endpoint policy of ${endpoint?.id} (dynamodb): CalleeRoleUsesItsIdempotencyTableOnly`,
    ]);
    // Administrators call from outside the VPC: no endpoint.
    expect(cell(analysis, CALLEE_ADMINS, READ).endpoints).toEqual([]);
  });

  it("text, JSON and Mermaid show the table; the proof passes (exit 0)", async () => {
    const text = await verifyInProcess(["--dir", base]);
    expect(text.code).toBe(EXIT.proven);
    expect(text.out).toMatch(/^ {2}read table xacct-demo-callee-idempotency +DENY +DENY +ALLOW +DENY +ALLOW +DENY +DENY$/m);
    expect(text.out).toMatch(/^ {2}write table xacct-demo-callee-idempotency +DENY +DENY +ALLOW +DENY +ALLOW +DENY +DENY$/m);
    expect(text.out).toMatch(/^ {2}vpc-0b1b1b1b1b1b1b1b1: vpce-\w+ \(dynamodb\); used by role xacct-demo-callee-exec$/m);
    expect(text.out).toMatch(/^PASS: .*; only the callee's role reads and writes its table xacct-demo-callee-idempotency; /m);

    const json = JSON.parse((await verifyInProcess(["--dir", base, "--format", "json"])).out);
    expect(json.passed).toBe(true);
    expect(json.tables).toEqual([
      expect.objectContaining({
        arn: TABLE,
        hashKey: { name: "id", type: "S" },
        ttlAttribute: "expiration",
        pointInTimeRecovery: true,
        kmsKeyArn: expect.stringMatching(/^arn:aws:kms:eu-west-1:222222222222:key\//),
        readBy: [CALLEE_ROLE, CALLEE_ADMINS],
        writtenBy: [CALLEE_ROLE, CALLEE_ADMINS],
      }),
    ]);
    expect(json.capabilities.filter((c: { kind: string }) => c.kind.endsWith("-table")).map((c: { id: string }) => c.id)).toEqual([
      READ,
      WRITE,
    ]);

    const mermaid = (await verifyInProcess(["--dir", base, "--format", "mermaid"])).out;
    expect(mermaid).toContain(`    table_222222222222_xacct_demo_callee_idempotency[("table xacct-demo-callee-idempotency")]\n`);
    expect(mermaid).toContain(
      `  role_222222222222_xacct_demo_callee_exec -- "dynamodb:GetItem, dynamodb:PutItem" --> table_222222222222_xacct_demo_callee_idempotency\n`,
    );
    expect(mermaid).not.toMatch(/role_111111111111_xacct_demo_caller_exec -[-.] .* table_/);
  });
});

describe("access to the table beyond the callee's role", () => {
  it("a caller's role granted dynamodb:GetItem on the table: table-access-beyond-callee fails the proof, though DynamoDB refuses it today (no resource policy)", async () => {
    const dir = variant((s) => editPolicy(rolePolicy(s.caller, "execution"), "policy", grant("dynamodb:GetItem")));
    const { analysis, findings } = await prove(dir);
    expect(cell(analysis, "role/xacct-demo-caller-exec", READ)).toMatchObject({ allowed: false, verdict: "refused" });
    expect(findings.map((f) => [f.code, f.where.replace(/ \(stack .*?\)/, "")])).toEqual([
      ["table-access-beyond-callee", "policy execution of role/xacct-demo-caller-exec: ReadsTheTable"],
    ]);
    expect(findings[0].problem).toMatch(
      /^grants dynamodb:GetItem on table xacct-demo-callee-idempotency to role\/xacct-demo-caller-exec: only xacct-demo-callee-exec may read and write .*no resource-based policy/,
    );
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toContain("[table-access-beyond-callee] policy execution of role/xacct-demo-caller-exec");
    expect(run.out).toMatch(/^FAIL: 1 finding\.$/m);
  });

  it("the invoker role granted dynamodb:* on the table (same account): ALLOW! on both rows, and the finding", async () => {
    const dir = variant((s) => editPolicy(rolePolicy(s.callee, "invoke-callee-only"), "policy", grant("dynamodb:*")));
    const { analysis, findings } = await prove(dir);
    for (const id of [READ, WRITE]) {
      const c = cell(analysis, "role/xacct-demo-callee-invoker", id);
      expect(c).toMatchObject({ allowed: true, verdict: "beyond-intended" });
      expect(c.explanation).toMatch(/table xacct-demo-callee-idempotency: only xacct-demo-callee-exec may read and write it$/);
    }
    // The caller's role reaches the table through its invoker role too.
    expect(cell(analysis, "role/xacct-demo-caller-exec", WRITE)).toMatchObject({ allowed: true, verdict: "beyond-intended" });
    expect(codes(findings)).toEqual(["action-wildcard", "table-access-beyond-callee"]);
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/^ {2}read table xacct-demo-callee-idempotency +ALLOW! +ALLOW! +ALLOW +DENY +ALLOW +DENY +DENY$/m);
  });
});

describe("the DynamoDB gateway endpoint as a layer", () => {
  const endpointPolicy = (s: Record<string, TfJson>, edit: (doc: TfJson) => void) =>
    editPolicy(onlyResource(s.callee, "aws_vpc_endpoint"), "policy", edit);

  it('its policy widened to everything (Action and Resource "*"): endpoint-policy-full-access', async () => {
    const dir = variant((s) =>
      endpointPolicy(s, (doc) => {
        doc.Statement[0].Action = "*";
        doc.Statement[0].Resource = "*";
      }),
    );
    const { findings } = await prove(dir);
    expect(codes(findings)).toEqual(["endpoint-policy-full-access"]);
    expect(findings[0].where).toMatch(
      /^VPC endpoint policy of vpce-\w+ \(dynamodb\) in vpc-0b1b1b1b1b1b1b1b1 .*: CalleeRoleUsesItsIdempotencyTableOnly$/,
    );
    expect(findings[0].problem).toContain('Action "*" (every dynamodb action), Resource "*" (every resource)');
    expect(findings[0].fix).toContain(`"aws:PrincipalArn":"${CALLEE_ROLE_ARN}"`);
    expect((await verifyInProcess(["--dir", dir])).code).toBe(EXIT.violation);
  });

  it("no policy at all (AWS's default full access): endpoint-policy-full-access, as for the interface endpoints", async () => {
    const dir = variant((s) => delete onlyResource(s.callee, "aws_vpc_endpoint").policy);
    const { findings } = await prove(dir);
    expect(codes(findings)).toEqual(["endpoint-policy-full-access"]);
    expect(findings[0].problem).toMatch(/^has no policy, so AWS attaches its default full-access policy: .* every dynamodb action/);
  });

  it("a policy for another role: the callee's own requests are refused by the endpoint (DENY!*), and the role it admits is off the path", async () => {
    const other = "arn:aws:iam::222222222222:role/ops";
    const dir = variant((s) => endpointPolicy(s, (doc) => (doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = other)));
    const { analysis, findings } = await prove(dir);
    for (const id of [READ, WRITE]) {
      const c = cell(analysis, CALLEE_ROLE, id);
      expect(c).toMatchObject({ allowed: false, verdict: "path-broken" });
      expect(c.decidedByEndpoint).toEqual({ endpoint: expect.objectContaining({ service: "dynamodb" }), withoutEndpoints: "as-intended" });
      expect(c.explanation).toMatch(
        /^the intended path is refused by the VPC endpoint policy of vpce-\w+ \(dynamodb\) in vpc-0b1b1b1b1b1b1b1b1 because no VPC endpoint policy allows/,
      );
    }
    expect(findings.map((f) => f.code)).toEqual(["endpoint-policy-off-path"]);
    expect(findings[0].problem).toBe(
      `admits ${other}, which is not on the intended path through ${findings[0].where.match(/vpce-\w+ \(dynamodb\)/)?.[0]}: only xacct-demo-callee-exec calls dynamodb from vpc-0b1b1b1b1b1b1b1b1`,
    );
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/^ {2}read table xacct-demo-callee-idempotency +DENY +DENY +DENY!\* +DENY +ALLOW +DENY +DENY$/m);
  });

  it("a policy allowing Scan too: off the callee's path (it uses GetItem, PutItem, UpdateItem, DeleteItem)", async () => {
    const dir = variant((s) => endpointPolicy(s, (doc) => doc.Statement[0].Action.push("dynamodb:Scan")));
    const { findings } = await prove(dir);
    expect(findings.map((f) => [f.code, f.problem])).toEqual([
      [
        "endpoint-policy-off-path",
        "allows dynamodb:Scan, which the intended path does not use (dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:DeleteItem)",
      ],
    ]);
  });

  it("without route tables the gateway takes no traffic: the callee calls DynamoDB from outside, through no endpoint", async () => {
    const dir = variant((s) => delete onlyResource(s.callee, "aws_vpc_endpoint").route_table_ids);
    const { analysis } = await prove(dir);
    expect(cell(analysis, CALLEE_ROLE, READ)).toMatchObject({ allowed: true, endpoints: [] });
    expect(analysis.networks.map((n) => n.principalId)).not.toContain(CALLEE_ROLE);
  });
});

describe("the table's own settings", () => {
  const table = (s: Record<string, TfJson>) => onlyResource(s.callee, "aws_dynamodb_table");

  it("no customer-managed key, no point-in-time recovery, no TTL: one finding each, and the proof fails", async () => {
    const dir = variant((s) => {
      delete table(s).server_side_encryption;
      table(s).point_in_time_recovery = { enabled: false };
      delete table(s).ttl;
    });
    const { findings } = await prove(dir);
    expect(findings.map((f) => [f.code, f.where.replace(/ \(stack .*?\)/, "")])).toEqual([
      ["table-key-not-customer-managed", "table xacct-demo-callee-idempotency"],
      ["table-without-point-in-time-recovery", "table xacct-demo-callee-idempotency"],
      ["table-without-ttl", "table xacct-demo-callee-idempotency"],
    ]);
    expect(findings[0].problem).toMatch(/^is encrypted with a key DynamoDB owns/);
    const run = await verifyInProcess(["--dir", dir]);
    expect(run.code).toBe(EXIT.violation);
    expect(run.out).toMatch(/^FAIL: 3 findings\.$/m);
  });

  it("the AWS-managed key alias/aws/dynamodb is no customer-managed key either", async () => {
    const dir = variant((s) => (table(s).server_side_encryption.kms_key_arn = "arn:aws:kms:eu-west-1:222222222222:alias/aws/dynamodb"));
    const { findings } = await prove(dir);
    expect(codes(findings)).toEqual(["table-key-not-customer-managed"]);
    expect(findings[0].problem).toMatch(/^is encrypted with the AWS-managed key arn:aws:kms:eu-west-1:222222222222:alias\/aws\/dynamodb/);
  });
});

describe("the default stacks have no table", () => {
  it("no table rows, no table in JSON or Mermaid, no DynamoDB endpoint", async () => {
    const { analysis } = await prove(OUT_DIR);
    expect(analysis.capabilities.filter((c) => c.kind === "read-table" || c.kind === "write-table")).toEqual([]);
    expect(analysis.cells.filter((c) => c.capabilityId.includes(":dynamodb:"))).toEqual([]);
    expect(analysis.model.tables).toEqual([]);
    expect(analysis.networks.map((n) => n.principalId)).not.toContain(CALLEE_ROLE);
    const json = JSON.parse((await verifyInProcess(["--dir", OUT_DIR, "--format", "json"])).out);
    expect(json).not.toHaveProperty("tables");
    expect((await verifyInProcess(["--dir", OUT_DIR, "--format", "mermaid"])).out).not.toContain("table_");
    expect((await verifyInProcess(["--dir", OUT_DIR])).out).not.toMatch(/table xacct|only the callee's role reads and writes/);
  });
});
