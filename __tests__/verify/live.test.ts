/**
 * Live mode against the local runtime: the real IAM, Lambda, KMS, S3 and STS clients read the
 * "deployed" accounts through the AWS read APIs the runtime answers from its model. A runtime
 * booted from a weakened variant stands for a change made by hand in a console.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { writeProfiles } from "../../local/profiles";
import type { LocalRuntime } from "../../local/server/runtime";
import { PROJECT_ROOT } from "../../local/start";
import { EXIT } from "../../verify/cli";
import { editPolicy, OUT_DIR, roleNamed, stacksVariant, withRuntime, type TfJson } from "../local/support";

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true });
});

/** `npm run verify -- --live ...` in its own process, with the runtime's profiles as the AWS config. */
function verifyLive(runtime: LocalRuntime, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-live-profiles-"));
  scratch.push(dir);
  const files = writeProfiles(dir, runtime.profiles(), runtime.endpoint, runtime.region);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CHECKPOINT_DISABLE: "1",
    AWS_CONFIG_FILE: files.configFile,
    AWS_SHARED_CREDENTIALS_FILE: files.credentialsFile,
  };
  delete env.AWS_PROFILE;
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  delete env.AWS_SESSION_TOKEN;
  return new Promise((resolve) => {
    execFile("npm", ["run", "--silent", "verify", "--", "--live", ...args], { cwd: PROJECT_ROOT, env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

const READ_CALLS = ["iam:", "lambda:GetPolicy", "lambda:GetFunctionConfiguration", "kms:", "s3:", "sts:GetCallerIdentity"];
const readCounts = (runtime: LocalRuntime) =>
  Object.fromEntries(Object.entries(runtime.requestCounts()).filter(([k]) => READ_CALLS.some((p) => k.startsWith(p))));

describe("verify --live against the local runtime", () => {
  it("reads the deployed accounts with the admin profiles and proves the same as the stacks, with no drift", async () => {
    await withRuntime(OUT_DIR, {}, async (runtime) => {
      const run = await verifyLive(runtime, ["--caller-profile", "caller-admin", "--callee-profile", "callee-admin", "--dir", OUT_DIR]);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(EXIT.proven);
      expect(run.stdout).toMatch(
        /^Access proof of the deployed accounts 111111111111 \(profile caller-admin\) and 222222222222 \(profile callee-admin\)$/m,
      );
      expect(run.stdout).not.toMatch(/Drift from the stacks/);
      expect(run.stdout).toMatch(/^PASS: /m);
      // Exactly the documented read calls: one identity check per profile, then each role, function, key and bucket once.
      expect(readCounts(runtime)).toEqual({
        "sts:GetCallerIdentity": 2,
        "iam:GetRole": 3,
        "iam:ListRolePolicies": 3,
        // six inline policies: execution and network-interfaces per function role, the caller's assume policy, the invoker's invoke policy
        "iam:GetRolePolicy": 6,
        "iam:ListAttachedRolePolicies": 3,
        "lambda:GetFunctionConfiguration": 2,
        "lambda:GetPolicy": 2,
        "kms:DescribeKey": 4,
        "kms:GetKeyPolicy": 4,
        "s3:GetBucketPolicy": 2,
      });
    });
  });

  it("catches a trust condition removed by hand: drift on the statement, the finding, and account A's administrators beyond the path", async () => {
    const changedByHand = stacksVariant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => delete doc.Statement[0].Condition),
    );
    scratch.push(changedByHand);
    await withRuntime(changedByHand, {}, async (runtime) => {
      const run = await verifyLive(runtime, [
        "--caller-profile",
        "caller-admin",
        "--callee-profile",
        "callee-admin",
        "--dir",
        OUT_DIR,
        "--format",
        "json",
      ]);
      expect(run.code).toBe(EXIT.violation);
      const report = JSON.parse(run.stdout);
      expect(report.drift).toEqual([
        "trust policy of role/xacct-demo-callee-invoker differs from the stacks: CallerFunctionRoleOnly changed",
      ]);
      expect(report.findings.map((f: { code: string; where: string }) => `${f.code} @ ${f.where}`)).toEqual([
        "trust-without-principal-arn @ trust policy of role/xacct-demo-callee-invoker (IAM role xacct-demo-callee-invoker in account 222222222222): CallerFunctionRoleOnly",
      ]);
      const beyond = report.cells
        .filter((c: { verdict: string }) => c.verdict === "beyond-intended")
        .map((c: { principalId: string; capabilityId: string }) => `${c.principalId} -> ${c.capabilityId}`);
      expect(beyond.sort()).toEqual([
        "admin/111111111111 -> assume:arn:aws:iam::222222222222:role/xacct-demo-callee-invoker",
        "admin/111111111111 -> invoke:arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee:live",
      ]);
    });
  });

  it("catches a permission to everyone added by hand to the callee", async () => {
    const changedByHand = stacksVariant(({ callee }) => {
      callee.resource.aws_lambda_permission = {
        anyone: {
          action: "lambda:InvokeFunction",
          function_name: "${aws_lambda_function.callee_function_1CCFEC01.function_name}",
          principal: "*",
          statement_id: "AddedInConsole",
          provider: "aws.callee",
        },
      };
    });
    scratch.push(changedByHand);
    await withRuntime(changedByHand, {}, async (runtime) => {
      const run = await verifyLive(runtime, ["--caller-profile", "caller-admin", "--callee-profile", "callee-admin", "--dir", OUT_DIR]);
      expect(run.code).toBe(EXIT.violation);
      expect(run.stdout).toContain("resource policy of function xacct-demo-callee: exists in the account, not in the stacks");
      expect(run.stdout).toContain(
        "[public-principal] resource policy of function xacct-demo-callee (Lambda function xacct-demo-callee in account 222222222222): AddedInConsole",
      );
    });
  });

  it("fails on drift that opens nothing (a statement removed by hand), unless --ignore-drift", async () => {
    const changedByHand = stacksVariant(({ callee }) => {
      const bucketPolicy = Object.values(callee.resource.aws_s3_bucket_policy as Record<string, TfJson>)[0];
      editPolicy(
        bucketPolicy,
        "policy",
        (doc) => (doc.Statement = doc.Statement.filter((st: TfJson) => st.Sid !== "DenyInsecureTransport")),
      );
    });
    scratch.push(changedByHand);
    await withRuntime(changedByHand, {}, async (runtime) => {
      const args = ["--caller-profile", "caller-admin", "--callee-profile", "callee-admin", "--dir", OUT_DIR];
      const judged = await verifyLive(runtime, args);
      expect(judged.code).toBe(EXIT.violation);
      expect(judged.stdout).toContain(
        "  bucket policy of xacct-demo-code-222222222222-eu-west-1 differs from the stacks: DenyInsecureTransport removed",
      );
      expect(judged.stdout).toMatch(/^FAIL: 1 difference from the stacks \(--ignore-drift to judge access alone\)\.$/m);
      const accessOnly = await verifyLive(runtime, [...args, "--ignore-drift"]);
      expect(accessOnly.code).toBe(EXIT.proven);
      expect(accessOnly.stdout).toContain("DenyInsecureTransport removed");
      expect(accessOnly.stdout).toMatch(/^PASS: /m);
    });
  });

  describe("bad profiles: exit 2, naming the fix", () => {
    it("a profile that does not exist", async () => {
      await withRuntime(OUT_DIR, {}, async (runtime) => {
        const run = await verifyLive(runtime, ["--caller-profile", "nobody", "--callee-profile", "callee-admin", "--dir", OUT_DIR]);
        expect(run.code).toBe(EXIT.badInput);
        expect(run.stderr).toMatch(
          /^verify: profile 'nobody' \(--caller-profile\) is in neither .*config nor .*credentials: create it \(aws configure --profile nobody\) or name an existing one\n$/,
        );
      });
    });

    it("a profile for the wrong account", async () => {
      await withRuntime(OUT_DIR, {}, async (runtime) => {
        const run = await verifyLive(runtime, ["--caller-profile", "callee-admin", "--callee-profile", "callee-admin", "--dir", OUT_DIR]);
        expect(run.code).toBe(EXIT.badInput);
        expect(run.stderr).toBe(
          "verify: profile 'callee-admin' (--caller-profile) signs in as arn:aws:iam::222222222222:user/administrator in account 222222222222, but the caller stack deploys to account 111111111111: pass a profile for account 111111111111\n",
        );
      });
    });

    it("a profile without read permissions (the caller function's own role)", async () => {
      await withRuntime(OUT_DIR, {}, async (runtime) => {
        const run = await verifyLive(runtime, [
          "--caller-profile",
          "caller-function",
          "--callee-profile",
          "callee-admin",
          "--dir",
          OUT_DIR,
        ]);
        expect(run.code).toBe(EXIT.badInput);
        expect(run.stderr).toMatch(
          /^verify: profile 'caller-function' \(arn:aws:sts::111111111111:assumed-role\/xacct-demo-caller-exec\/xacct-demo-caller\) may not call kms:DescribeKey on alias\/xacct-demo-caller in account 111111111111: AWS said AccessDeniedException: .*Give it read access \(the AWS-managed SecurityAudit policy covers every call live mode makes\) or use another --caller-profile\n$/,
        );
      });
    });
  });
});
