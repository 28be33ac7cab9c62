/**
 * The optional narrowing conditions, synthesized for real (externalId and organizationId set),
 * enforced by the runtime: the chain still works, and each condition refuses what it should.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { ensureSynthesized } from "../../core/model/freshness";
import { PROJECT_ROOT } from "../../local/start";
import { boot, callerAnswer, errorOf, output, stsAs, withRuntime } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const EXTERNAL_ID = "xacct-e2e-external-id";
const ORGANIZATION_ID = "o-e2etest0001";
let outDir: string;

beforeAll(async () => {
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-conditions-"));
  await ensureSynthesized({
    projectRoot: PROJECT_ROOT,
    outDir,
    env: { XACCT_EXTERNAL_ID: EXTERNAL_ID, XACCT_ORGANIZATION_ID: ORGANIZATION_ID },
  });
});

it("the synthesized trust requires both the external id and the organisation", () => {
  const callee = JSON.parse(fs.readFileSync(path.join(outDir, "stacks", "callee", "cdk.tf.json"), "utf8"));
  const trust = (Object.values(callee.resource.aws_iam_role) as Json[]).find((r) => r.name.endsWith("-callee-invoker")).assume_role_policy;
  expect(JSON.parse(trust).Statement[0].Condition.StringEquals).toEqual({
    "sts:ExternalId": EXTERNAL_ID,
    "aws:PrincipalOrgID": ORGANIZATION_ID,
  });
});

it("the chain works: the caller sends the external id, and both accounts are in the organisation", async () => {
  await withRuntime(outDir, {}, async (runtime) => {
    expect(runtime.accounts.organization.organizationId).toBe(ORGANIZATION_ID);
    expect((await callerAnswer(runtime)).ok).toBe(true);
  });
});

it("the caller's own role is refused without the external id, or with a wrong one", async () => {
  const runtime = await boot(outDir);
  try {
    const roleArn = output(runtime, "callee", "invoker_role_arn");
    const sts = stsAs(runtime, "caller-function");
    expect((await errorOf(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "no-external-id" })))).name).toBe(
      "AccessDenied",
    );
    expect(
      (await errorOf(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "wrong-id", ExternalId: "guessed-id" })))).name,
    ).toBe("AccessDenied");
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "right-id", ExternalId: EXTERNAL_ID }));
    expect(ok.AssumedRoleUser?.Arn).toBe("arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-invoker/right-id");
  } finally {
    await runtime.stop();
  }
});

it("when account A is in another organisation, the caller answers ASSUME_ROLE_DENIED", async () => {
  const answer = await withRuntime(outDir, { organizationId: "o-someoneelse1" }, (runtime) => callerAnswer(runtime));
  expect(answer.ok).toBe(false);
  expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
});
