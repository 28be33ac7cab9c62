/** `make demo` is the README's first command: its checks must pass on the stacks, and fail when they should. */
import { execFile } from "child_process";
import { promisify } from "util";
import { PROJECT_ROOT } from "../../local/start";
import { roleNamed, stacksVariant } from "./support";

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
