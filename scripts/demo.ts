/**
 * `make demo`: the whole chain on the local runtime (the caller's invoker role invokes the callee's
 * alias; sent from the caller's VPC, its AssumeRole and its Invoke pass that VPC's endpoint policies),
 * then three refusals; with several callers (XACCT_CONFIG_FILE=examples/three-callers.json), every
 * caller's chain, and each caller's function role refused another caller's invoker role.
 * Exits 0 only when every expected outcome happened.
 */
import { accountOf, parseArn } from "../core";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { FunctionModel } from "../core/model/types";
import type { AuditEvent } from "../local/server/audit";
import { interfaceEndpointFor } from "../local/server/network";
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

/** One caller stack of the synthesized stacks: its function, its profiles, and the invoker role and callee ARN it uses. */
interface Caller {
  readonly stack: string;
  readonly fn: FunctionModel;
  readonly adminProfile: string;
  readonly functionProfile: string;
  /** Its own invoker role in the callee's account (the function's INVOKER_ROLE_ARN). */
  readonly invokerRoleArn: string;
  /** What it invokes (its CALLEE_FUNCTION_ARN): the callee's alias. */
  readonly calleeArn: string;
}

/** The caller stacks: `caller` with one caller, `caller-<name>` with several, in the order the stacks list them. */
function callersOf(runtime: LocalRuntime): Caller[] {
  return [...runtime.model.functions.values()]
    .filter((fn) => fn.source.stack === "caller" || fn.source.stack.startsWith("caller-"))
    .map((fn) => {
      const invokerRoleArn = fn.environment.INVOKER_ROLE_ARN;
      const calleeArn = fn.environment.CALLEE_FUNCTION_ARN;
      if (invokerRoleArn === undefined || calleeArn === undefined)
        throw new Error(`the ${fn.source.stack} stack's function sets no INVOKER_ROLE_ARN or CALLEE_FUNCTION_ARN`);
      const stack = fn.source.stack;
      return { stack, fn, adminProfile: `${stack}-admin`, functionProfile: `${stack}-function`, invokerRoleArn, calleeArn };
    });
}

function printStep(runtime: LocalRuntime, n: number, e: AuditEvent): void {
  console.log(`  ${n}. ${short(e.principal)} (${e.principalAccount})`);
  console.log(`       ${e.action} -> ${short(e.resource)} (${e.resourceAccount ?? account(e.resource)})`);
  const alias = e.action === "lambda:InvokeFunction" && e.resource !== undefined ? aliasOf(runtime, e.resource) : undefined;
  if (alias) console.log(`       at alias ${alias.name}, which runs version ${alias.version}`);
  // The endpoint's statements get a line of their own: the identity and resource policies' stay on "allowed by".
  const endpoint = e.vpcEndpoint;
  const ofEndpoint = (d: string) => endpoint !== undefined && d.startsWith(`${endpoint.policyName}: `);
  console.log(`       allowed by ${e.decidedBy.filter((d) => !ofEndpoint(d)).join(" + ")}`);
  if (endpoint !== undefined) {
    const statements = e.decidedBy.filter(ofEndpoint).map((d) => d.slice(endpoint.policyName.length + 2));
    console.log(`       through ${endpoint.id} (${endpoint.service}), its policy: ${statements.join(" + ")}`);
  }
}

/** The alias a qualified function ARN names, and the version it points at now. */
function aliasOf(runtime: LocalRuntime, arn: string): { name: string; version: string } | undefined {
  const at = arn.lastIndexOf(":");
  const unqualified = arn.slice(0, at);
  if (!runtime.model.functions.has(unqualified)) return undefined;
  const name = arn.slice(at + 1);
  const version = runtime.versions(unqualified).aliases[name];
  return version !== undefined ? { name, version } : undefined;
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

/** One caller's chain, started as Lambda would be: its account's administrator invokes its function. */
async function runChain(runtime: LocalRuntime, caller: Caller, label: string): Promise<void> {
  const calleeAccount = account(caller.calleeArn);
  console.log(`The chain${label}: invoke ${caller.fn.name} with a sample event`);
  console.log(`  event: ${JSON.stringify(SAMPLE_EVENT)}`);
  const before = runtime.audit.lastSeq;
  const lambda = new LambdaClient(clientConfig(runtime, runtime.credentials(caller.adminProfile)));
  const res = await lambda.send(
    new InvokeCommand({ FunctionName: caller.fn.name, Payload: Buffer.from(JSON.stringify(SAMPLE_EVENT)), LogType: "Tail" }),
  );
  const answer = JSON.parse(Buffer.from(res.Payload ?? new Uint8Array()).toString("utf8") || "null");
  const steps = runtime.audit
    .since(before)
    .filter((e) => e.outcome === "allowed" && (e.action === "sts:AssumeRole" || e.action === "lambda:InvokeFunction"));
  steps.forEach((e, i) => printStep(runtime, i + 1, e));
  const assumed = steps.find((e) => e.action === "sts:AssumeRole");
  const calleeCall = steps.find((e) => e.action === "lambda:InvokeFunction" && e.resource === caller.calleeArn);
  const invokerSession = `:assumed-role/${caller.invokerRoleArn.split("/").pop()}/`;
  // From the caller's VPC, each call passes that VPC's endpoint for its service, when it has one.
  const endpointFor = (service: string) =>
    caller.fn.vpcId !== undefined ? interfaceEndpointFor(runtime.model, caller.fn.vpcId, service, runtime.region)?.id : undefined;
  const through = (e: AuditEvent | undefined, service: string) => e?.vpcEndpoint?.id === endpointFor(service);
  const chainOk =
    expect(res.FunctionError === undefined, `${caller.stack}: the caller raised ${res.FunctionError}`) &&
    expect(answer?.ok === true, `${caller.stack}: the caller answered ${JSON.stringify(answer)}`) &&
    expect(
      assumed?.resource === caller.invokerRoleArn && assumed.principalAccount === caller.fn.accountId,
      `${caller.stack}: the caller's role did not assume its invoker role ${caller.invokerRoleArn}`,
    ) &&
    expect(
      calleeCall !== undefined && calleeCall.principalAccount === calleeAccount && calleeCall.principal.includes(invokerSession),
      `${caller.stack}: its invoker session did not invoke the callee at ${caller.calleeArn}`,
    ) &&
    expect(
      through(assumed, "sts") && through(calleeCall, "lambda"),
      `${caller.stack}: the AssumeRole and the Invoke did not pass the endpoints of its VPC (${endpointFor("sts")}, ${endpointFor("lambda")})`,
    ) &&
    expect(answer?.response?.servedBy?.accountId === calleeAccount, `${caller.stack}: the answer was not served by the callee's account`);
  console.log(`  ${steps.length + 1}. ${short(caller.calleeArn)} answered through the caller:`);
  console.log(`       ${JSON.stringify(answer)}`);
  console.log(`  [${tick(chainOk)}] chain${label} ${chainOk ? "completed" : "FAILED"}\n`);
}

/**
 * With an idempotent callee (its stacks have a table): the first caller's chain again with the same event, so the same
 * idempotency key (the correlation id). The callee answers from its table, and its log shows the operation ran once.
 */
async function runReplay(runtime: LocalRuntime, caller: Caller, logs: readonly string[]): Promise<void> {
  const key = SAMPLE_EVENT.correlationId;
  console.log(`Never twice (calleeIdempotency): the same event again, with its idempotency key ${key}`);
  const lambda = new LambdaClient(clientConfig(runtime, runtime.credentials(caller.adminProfile)));
  const invoke = async () =>
    JSON.parse(
      Buffer.from(
        (await lambda.send(new InvokeCommand({ FunctionName: caller.fn.name, Payload: Buffer.from(JSON.stringify(SAMPLE_EVENT)) })))
          .Payload ?? new Uint8Array(),
      ).toString("utf8") || "null",
    );
  const answer = await invoke();
  // One "operation started" line per run of the callee's business logic (a stored answer writes none).
  const runs = logs.filter((l) => l.includes('"message":"operation started"') && l.includes(`"idempotencyKey":"${key}"`)).length;
  const counts = runtime.requestCounts();
  const ok =
    expect(answer?.response?.idempotency?.replayed === true, `the replay was not answered from the table: ${JSON.stringify(answer)}`) &&
    expect(runs === 1, `the operation ran ${runs} time(s) for ${key}, once expected`);
  console.log(
    `  answer: ${JSON.stringify(answer?.response?.idempotency)}, result ${JSON.stringify(answer?.response?.result?.totalCents)} cents`,
  );
  console.log(
    `  [${tick(ok)}] answered from the table; the operation ran ${runs} time(s) (DynamoDB: PutItem ${counts["dynamodb:PutItem"] ?? 0}, UpdateItem ${counts["dynamodb:UpdateItem"] ?? 0})\n`,
  );
}

interface Refusal {
  readonly title: string;
  readonly code: string;
  readonly run: () => Promise<unknown>;
}

function assumeAs(runtime: LocalRuntime, profile: string, roleArn: string, sessionName: string): () => Promise<unknown> {
  return () =>
    new STSClient(clientConfig(runtime, runtime.credentials(profile))).send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }),
    );
}

/**
 * The refusals, each with AWS's own error: the outsider and account A's administrator assume the
 * invoker role, the caller's own role invokes the callee without it; with several callers, each
 * caller's function role assumes every other caller's invoker role.
 */
function refusalsOf(runtime: LocalRuntime, callers: readonly Caller[], calleeArn: string): Refusal[] {
  const first = callers[0];
  const several = callers.length > 1;
  const who = (c: Caller) => (several ? ` ${c.stack}` : "");
  const refusals: Refusal[] = [
    {
      title: `outsider (${runtime.credentials("outsider").accountId}) assumes the invoker role${several ? ` of ${first.stack}` : ""}`,
      code: "AccessDenied",
      run: assumeAs(runtime, "outsider", first.invokerRoleArn, "outsider"),
    },
    {
      title: several
        ? `account ${first.fn.accountId}'s administrator (not the caller's role) assumes the invoker role of ${first.stack}`
        : `account A's administrator (not the caller's role) assumes the invoker role`,
      code: "AccessDenied",
      run: assumeAs(runtime, first.adminProfile, first.invokerRoleArn, "admin-a"),
    },
    {
      title: `the caller${who(first)}'s own role invokes the callee directly, without the invoker role`,
      code: "AccessDeniedException",
      run: () =>
        new LambdaClient(clientConfig(runtime, runtime.credentials(first.functionProfile))).send(
          new InvokeCommand({ FunctionName: calleeArn, Payload: Buffer.from("{}") }),
        ),
    },
  ];
  // Each caller reaches the callee only through its own invoker role: every other one refuses its function role.
  for (const caller of several ? callers : []) {
    for (const other of callers.filter((c) => c !== caller)) {
      refusals.push({
        title: `${caller.stack}'s function role assumes ${other.stack}'s invoker role`,
        code: "AccessDenied",
        run: assumeAs(runtime, caller.functionProfile, other.invokerRoleArn, "isolation"),
      });
    }
  }
  return refusals;
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
    const callers = callersOf(runtime);
    if (callers.length === 0) throw new Error("the stacks have no caller stack (caller or caller-<name>)");
    const calleeArn = output(runtime, "callee", "callee_function_arn");
    const calleeAccount = account(calleeArn);
    const outsider = runtime.credentials("outsider").accountId;
    console.log(`endpoint ${runtime.endpoint}, region ${runtime.region}`);
    if (callers.length === 1) {
      console.log(`account A ${callers[0].fn.accountId} (caller), account B ${calleeAccount} (callee), outsider ${outsider}\n`);
    } else {
      const list = callers.map((c) => `${c.stack} in ${c.fn.accountId}`).join(", ");
      console.log(`callee in account ${calleeAccount}; ${callers.length} callers: ${list}; outsider ${outsider}\n`);
    }

    // 1. Each caller's chain.
    for (const caller of callers) await runChain(runtime, caller, callers.length > 1 ? ` of ${caller.stack}` : "");

    // With an idempotent callee, the first chain once more: answered from the table.
    if (runtime.model.tables.size > 0) await runReplay(runtime, callers[0], logs);

    // 2. The refusals, each with AWS's own error.
    console.log("Refusals (AWS's error codes and messages):");
    for (const r of refusalsOf(runtime, callers, calleeArn)) {
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
