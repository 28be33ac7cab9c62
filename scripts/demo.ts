/**
 * `make demo`: the whole chain on the local two-account runtime, then three refusals.
 * Exits 0 only when every expected outcome happened.
 */
import { accountOf, parseArn } from "../core";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AuditEvent } from "../local/server/audit";
import type { LocalRuntime, NamedCredentials } from "../local/server/runtime";
import { bootLocalRuntime, isUserFacingError } from "../local/start";

const SAMPLE_EVENT = {
  correlationId: "demo-order-42",
  payload: {
    operation: "quote",
    currency: "EUR",
    items: [
      { sku: "ABC-123", quantity: 2, unitPriceCents: 1999 },
      { sku: "XYZ-9", quantity: 1, unitPriceCents: 500 },
    ],
  },
};

// Since this process started: module loading, runtime start, the chain and the refusals.
const elapsed = () => `${process.uptime().toFixed(1)} s`;
const failures: string[] = [];
const expect = (ok: boolean, what: string) => {
  if (!ok) failures.push(what);
  return ok;
};
const tick = (ok: boolean) => (ok ? "ok  " : "FAIL");

function clientConfig(runtime: LocalRuntime, c: NamedCredentials) {
  return {
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    },
    maxAttempts: 1,
  };
}

function output(runtime: LocalRuntime, stack: string, key: string): string {
  const value = runtime.model.outputs.get(stack)?.[key];
  if (typeof value !== "string") throw new Error(`stack ${stack} has no string output ${key}`);
  return value;
}

const account = (arn: string | undefined) => (arn ? accountOf(arn) : "");
const short = (arn: string | undefined) => (arn ? (parseArn(arn)?.resource ?? arn) : "?");

function printStep(n: number, e: AuditEvent): void {
  console.log(`  ${n}. ${short(e.principal)} (${e.principalAccount})`);
  console.log(`       ${e.action} -> ${short(e.resource)} (${e.resourceAccount ?? account(e.resource)})`);
  console.log(`       allowed by ${e.decidedBy.join(" + ")}`);
}

/** `--dir DIR` runs the demo on other synthesized stacks as they are (no synthesis): the tests use it on variants. */
function outDirArgument(argv: string[]): string | undefined {
  const at = argv.indexOf("--dir");
  if (at === -1) return undefined;
  const dir = argv[at + 1];
  if (dir === undefined || dir.startsWith("--")) {
    console.error("usage: scripts/demo.ts [--dir DIR]   (DIR: synthesized stacks, default cdktf.out)");
    process.exit(2);
  }
  return dir;
}

async function main(): Promise<void> {
  console.log("Local two-account runtime: real function bundles, IAM decided from the synthesized policies\n");
  const logs: string[] = [];
  const outDir = outDirArgument(process.argv.slice(2));
  const runtime = await bootLocalRuntime({
    log: (m) => console.log(m),
    onFunctionLog: (fn, line) => logs.push(`[${fn}] ${line}`),
    ...(outDir !== undefined ? { outDir, skipSynth: true } : {}),
  });
  try {
    const callerName = output(runtime, "caller", "caller_function_name");
    const calleeArn = output(runtime, "callee", "callee_function_arn");
    const invokerRoleArn = output(runtime, "callee", "invoker_role_arn");
    const callerAccount = runtime.credentials("caller-admin").accountId;
    const calleeAccount = account(calleeArn);
    console.log(`endpoint ${runtime.endpoint}, region ${runtime.region}`);
    console.log(
      `account A ${callerAccount} (caller), account B ${calleeAccount} (callee), outsider ${runtime.credentials("outsider").accountId}\n`,
    );

    // 1. The chain, started as Lambda would be: an administrator of account A invokes the caller.
    console.log(`The chain: invoke ${callerName} with a sample event`);
    console.log(`  event: ${JSON.stringify(SAMPLE_EVENT)}`);
    const before = runtime.audit.lastSeq;
    const lambdaA = new LambdaClient(clientConfig(runtime, runtime.credentials("caller-admin")));
    const res = await lambdaA.send(
      new InvokeCommand({ FunctionName: callerName, Payload: Buffer.from(JSON.stringify(SAMPLE_EVENT)), LogType: "Tail" }),
    );
    const answer = JSON.parse(Buffer.from(res.Payload ?? new Uint8Array()).toString("utf8") || "null");
    const steps = runtime.audit
      .since(before)
      .filter((e) => e.outcome === "allowed" && (e.action === "sts:AssumeRole" || e.action === "lambda:InvokeFunction"));
    steps.forEach((e, i) => printStep(i + 1, e));
    const assumed = steps.find((e) => e.action === "sts:AssumeRole");
    const calleeCall = steps.find((e) => e.action === "lambda:InvokeFunction" && e.resource === calleeArn);
    const chainOk =
      expect(res.FunctionError === undefined, `the caller raised ${res.FunctionError}`) &&
      expect(answer?.ok === true, `the caller answered ${JSON.stringify(answer)}`) &&
      expect(
        assumed?.resource === invokerRoleArn && assumed.principalAccount === callerAccount,
        "the caller's role did not assume the invoker role",
      ) &&
      expect(calleeCall !== undefined && calleeCall.principalAccount === calleeAccount, "the invoker session did not invoke the callee") &&
      expect(answer?.response?.servedBy?.accountId === calleeAccount, "the answer was not served by account B");
    console.log(`  ${steps.length + 1}. ${short(calleeArn)} answered through the caller:`);
    console.log(`       ${JSON.stringify(answer)}`);
    console.log(`  [${tick(chainOk)}] chain ${chainOk ? "completed" : "FAILED"}\n`);

    // 2. Three refusals, each with AWS's own error.
    console.log("Refusals (AWS's error codes and messages):");
    const refusals: { title: string; run: () => Promise<unknown>; code: string }[] = [
      {
        title: `outsider (${runtime.credentials("outsider").accountId}) assumes the invoker role`,
        code: "AccessDenied",
        run: () =>
          new STSClient(clientConfig(runtime, runtime.credentials("outsider"))).send(
            new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "outsider" }),
          ),
      },
      {
        title: `account A's administrator (not the caller's role) assumes the invoker role`,
        code: "AccessDenied",
        run: () =>
          new STSClient(clientConfig(runtime, runtime.credentials("caller-admin"))).send(
            new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "admin-a" }),
          ),
      },
      {
        title: "the caller's own role invokes the callee directly, without the invoker role",
        code: "AccessDeniedException",
        run: () =>
          new LambdaClient(clientConfig(runtime, runtime.credentials("caller-function"))).send(
            new InvokeCommand({ FunctionName: calleeArn, Payload: Buffer.from("{}") }),
          ),
      },
    ];
    for (const r of refusals) {
      let name = "no error";
      let message = "the call succeeded";
      try {
        await r.run();
      } catch (err) {
        name = (err as Error).name;
        message = (err as Error).message;
      }
      const ok = expect(name === r.code, `${r.title}: expected ${r.code}, got ${name}: ${message}`);
      console.log(`  [${tick(ok)}] ${r.title}`);
      console.log(`         ${name}: ${message}`);
    }

    console.log(`\nFunction logs (each line prefixed with its function):`);
    for (const line of logs.slice(-12)) console.log(`  ${line.length > 220 ? line.slice(0, 217) + "..." : line}`);
    console.log(`\nrequests served: ${JSON.stringify(runtime.requestCounts())}`);
  } finally {
    await runtime.stop();
  }
  if (failures.length > 0) {
    console.error(`\nmake demo FAILED (${elapsed()}):\n  - ${failures.join("\n  - ")}`);
    process.exit(1);
  }
  console.log(`\nmake demo: every expected outcome happened (${elapsed()})`);
}

main().catch((err: unknown) => {
  console.error(isUserFacingError(err) ? `make demo: ${err.message}` : err);
  process.exit(1);
});
