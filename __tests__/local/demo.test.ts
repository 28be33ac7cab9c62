/** `make demo` is the README's first command: its checks must pass on the stacks, and fail when they should. */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { PROJECT_ROOT } from "../../local/start";
import { loadAccountsModel } from "../../core/model/load-model";
import {
  editPolicy,
  endpointOf,
  OUT_DIR,
  roleNamed,
  stacksSynthesizedWith,
  stacksVariant,
  threeCallerStacks,
  type TfJson,
} from "./support";

const run = promisify(execFile);

async function demo(args: string[] = []): Promise<{ code: number; out: string }> {
  const env = { ...process.env, CHECKPOINT_DISABLE: "1" };
  return run(process.execPath, ["--import", "tsx", "scripts/demo.ts", ...args], { cwd: PROJECT_ROOT, env }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  );
}

it("on the synthesized stacks: the chain, three refusals with AWS's messages, exit 0", async () => {
  const { code, out } = await demo();
  expect(out).toContain("[ok  ] chain completed");
  expect(out.match(/\[ok {2}\] /g)).toHaveLength(4);
  // The chain's invoke is at the callee's alias, and says which version that runs.
  expect(out).toContain(
    "lambda:InvokeFunction -> function:xacct-demo-callee:live (222222222222)\n       at alias live, which runs version 1\n",
  );
  // Steps 2 and 3 from the caller's VPC: each names the endpoint it passed and the statement of its policy that let it.
  const model = loadAccountsModel(OUT_DIR);
  const [sts, lambda] = ["sts", "lambda"].map((service) => endpointOf(model, "xacct-demo-caller", service).id);
  expect(out).toContain(
    "trust policy of role/xacct-demo-callee-invoker: CallerFunctionRoleOnly\n" +
      `       through ${sts} (sts), its policy: CallerRoleAssumesItsInvokerRoleOnly\n`,
  );
  expect(out).toContain(
    "allowed by xacct-demo-callee-invoker/invoke-callee-only: InvokeCalleeFunctionOnly\n" +
      `       through ${lambda} (lambda), its policy: InvokerRoleInvokesCalleeAliasOnly\n`,
  );
  expect(out.match(/ {7}through vpce-/g)).toHaveLength(2);
  expect(out).not.toContain("FAIL");
  // The functions run on Node 22, so the SDK has no Node-version warning to give (nothing silences it).
  expect(out).toMatch(/INIT_START Runtime Version: nodejs22\.x \(local node v22\./);
  expect(out).not.toMatch(/NodeVersionSupportWarning|upgrade to node >=22/i);
  expect(out).toContain("AccessDenied: User: arn:aws:iam::333333333333:user/administrator is not authorized to perform: sts:AssumeRole");
  expect(out).toContain(
    "AccessDeniedException: User: arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller is not authorized",
  );
  expect(code).toBe(0);
});

it("on the idempotent callee's stacks: the chain, then the same event answered from the table, the operation run once", async () => {
  const dir = await stacksSynthesizedWith({ XACCT_CONFIG_FILE: path.join(PROJECT_ROOT, "examples", "idempotent-callee.json") });
  const { code, out } = await demo(["--dir", dir]);
  expect(out).toContain("[ok  ] chain completed");
  expect(out).toContain("Never twice (calleeIdempotency): the same event again, with its idempotency key demo-order-42");
  expect(out).toContain('answer: {"key":"demo-order-42","replayed":true}');
  expect(out).toContain("[ok  ] answered from the table; the operation ran 1 time(s) (DynamoDB: PutItem 2, UpdateItem 1)");
  expect(out).not.toContain("FAIL");
  expect(code).toBe(0);
}, 120_000);

it("on the default stacks there is no idempotency step", async () => {
  const { out } = await demo();
  expect(out).not.toContain("Never twice");
  expect(out).not.toContain("dynamodb:");
});

it("on stacks whose trust lets account A's administrator in, it reports that refusal missing and exits 1", async () => {
  const dir = stacksVariant(({ callee }) => {
    const role = roleNamed(callee, "-callee-invoker");
    const doc = JSON.parse(role.assume_role_policy);
    delete doc.Statement[0].Condition;
    role.assume_role_policy = JSON.stringify(doc);
  });
  const { code, out } = await demo(["--dir", dir]);
  expect(out).toContain("[FAIL] account A's administrator (not the caller's role) assumes the invoker role");
  expect(out).toContain("make demo FAILED");
  expect(code).toBe(1);
});

it("on stacks whose Lambda endpoint policy names another role, the chain fails there and it exits 1", async () => {
  const dir = stacksVariant(({ caller }) => {
    const endpoint = (Object.values(caller.resource.aws_vpc_endpoint) as TfJson[]).find((e) => String(e.service_name).endsWith(".lambda"))!;
    editPolicy(endpoint, "policy", (doc) => {
      doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = "arn:aws:iam::111111111111:role/ops";
    });
  });
  const { code, out } = await demo(["--dir", dir]);
  expect(out).toContain("[FAIL] chain FAILED");
  expect(out).toContain("INVOKE_DENIED");
  expect(out).toContain("because no VPC endpoint policy allows the lambda:InvokeFunction action");
  expect(out).toContain("make demo FAILED");
  expect(code).toBe(1);
});

it("with three callers (examples/three-callers.json): every caller's chain, each refused the others' invoker roles, exit 0", async () => {
  const dir = await threeCallerStacks();
  const { code, out } = await demo(["--dir", dir]);
  const model = loadAccountsModel(dir);
  for (const name of ["orders", "billing", "reports"]) {
    // Each caller's chain passes the endpoints of its own VPC.
    for (const [service, sid] of [
      ["sts", "CallerRoleAssumesItsInvokerRoleOnly"],
      ["lambda", "InvokerRoleInvokesCalleeAliasOnly"],
    ])
      expect(out).toContain(`through ${endpointOf(model, `xacct-demo-${name}`, service).id} (${service}), its policy: ${sid}\n`);
    expect(out).toContain(`[ok  ] chain of caller-${name} completed`);
    expect(out).toContain(`sts:AssumeRole -> role/xacct-demo-invoker-${name} (222222222222)`);
    expect(out).toContain(`3. assumed-role/xacct-demo-invoker-${name}/xacct-demo-${name} (222222222222)`);
  }
  expect(
    out.match(/lambda:InvokeFunction -> function:xacct-demo-callee:live \(222222222222\)\n {7}at alias live, which runs version 1\n/g),
  ).toHaveLength(3);
  // The isolation refusal, with AWS's AccessDenied message: orders' function role at billing's invoker role.
  expect(out).toContain("[ok  ] caller-orders's function role assumes caller-billing's invoker role");
  expect(out).toContain(
    "AccessDenied: User: arn:aws:sts::111111111111:assumed-role/xacct-demo-orders-exec/xacct-demo-orders is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/xacct-demo-invoker-billing",
  );
  expect(out).toContain(
    "AccessDenied: User: arn:aws:sts::444444444444:assumed-role/xacct-demo-reports-exec/xacct-demo-reports is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/xacct-demo-invoker-orders",
  );
  // 3 chains, the 3 refusals of one caller, and 3 × 2 isolation refusals.
  expect(out.match(/\[ok {2}\] /g)).toHaveLength(12);
  expect(out).not.toContain("FAIL");
  expect(out).toContain("make demo: every expected outcome happened");
  expect(code).toBe(0);
});

it("with three callers where billing's function role may assume orders' invoker role too, it reports that refusal missing and exits 1", async () => {
  const dir = await threeCallerStacks();
  const edit = (stack: string, change: (json: TfJson) => void) => {
    const file = path.join(dir, "stacks", stack, "cdk.tf.json");
    const json = JSON.parse(fs.readFileSync(file, "utf8"));
    change(json);
    fs.writeFileSync(file, JSON.stringify(json, null, 2));
  };
  const ordersInvoker = "arn:aws:iam::222222222222:role/xacct-demo-invoker-orders";
  // Both sides must allow a cross-account AssumeRole: the orders invoker role's trust and billing's identity policy.
  edit("callee", (callee) =>
    editPolicy(roleNamed(callee, "-invoker-orders"), "assume_role_policy", (trust) => {
      trust.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = [
        "arn:aws:iam::111111111111:role/xacct-demo-orders-exec",
        "arn:aws:iam::111111111111:role/xacct-demo-billing-exec",
      ];
    }),
  );
  edit("caller-billing", (billing) => {
    const policy = Object.values(billing.resource.aws_iam_role_policy as Record<string, TfJson>).find(
      (p) => p.name === "assume-callee-invoker-role-only",
    )!;
    editPolicy(policy, "policy", (doc) => {
      doc.Statement[0].Resource = [doc.Statement[0].Resource, ordersInvoker];
    });
  });
  // From billing's VPC, its STS endpoint's policy (its own invoker role only) still refuses it, with AWS's message for that.
  const refusedByEndpoint = await demo(["--dir", dir]);
  expect(refusedByEndpoint.out).toContain("[ok  ] caller-billing's function role assumes caller-orders's invoker role");
  expect(refusedByEndpoint.out).toContain(
    `AccessDenied: User: arn:aws:sts::111111111111:assumed-role/xacct-demo-billing-exec/xacct-demo-billing is not authorized to perform: sts:AssumeRole on resource: ${ordersInvoker} because no VPC endpoint policy allows the sts:AssumeRole action`,
  );
  expect(refusedByEndpoint.code).toBe(0);
  // With that endpoint open to orders' invoker role too, nothing refuses it.
  edit("caller-billing", (billing) => {
    const endpoint = (Object.values(billing.resource.aws_vpc_endpoint) as TfJson[]).find((e) => String(e.service_name).endsWith(".sts"))!;
    editPolicy(endpoint, "policy", (doc) => {
      doc.Statement[0].Resource = [doc.Statement[0].Resource, ordersInvoker];
    });
  });
  const { code, out } = await demo(["--dir", dir]);
  expect(out).toContain("[FAIL] caller-billing's function role assumes caller-orders's invoker role");
  expect(out).toContain("[ok  ] caller-reports's function role assumes caller-orders's invoker role");
  expect(out).toContain("make demo FAILED");
  expect(code).toBe(1);
});
