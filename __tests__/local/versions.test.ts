/**
 * Lambda versions and aliases on the local runtime, with the real SDK v3 clients: qualifiers in the
 * name or the Qualifier parameter, authorization on the ARN as called (since 2022 a qualified ARN is
 * checked against that qualified ARN), X-Amz-Executed-Version, Lambda's errors for an unknown or a
 * contradictory qualifier, a pool per version, an alias moved while an invocation runs, and the
 * event-invoke config of the qualifier invoked.
 */
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  type InvokeCommandOutput,
} from "@aws-sdk/client-lambda";
import type { LocalRuntime } from "../../local/server/runtime";
import { formatDecision } from "../../local/server/audit";
import { boot, endpointOf, errorOf, invokeCaller, lambdaAs, output, payloadOf, QUOTE, stacksVariant, stsAs, withRuntime } from "./support";
import { onlyResource } from "../support/terraform-json";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const CALLEE_ARN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";
const LIVE_ARN = `${CALLEE_ARN}:live`;
const INVOKER_SESSION = "arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-invoker/probe";
const FAILURE_QUEUE = "arn:aws:sqs:eu-west-1:222222222222:xacct-demo-callee-async-failures";

/** A session of the invoker role, as the caller's function assumes it. */
async function invokerClient(runtime: LocalRuntime): Promise<LambdaClient> {
  const assumed = await stsAs(runtime, "caller-function").send(
    new AssumeRoleCommand({ RoleArn: output(runtime, "callee", "invoker_role_arn"), RoleSessionName: "probe" }),
  );
  const c = assumed.Credentials!;
  return new LambdaClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    maxAttempts: 1,
  });
}

const invoke = (client: LambdaClient, FunctionName: string, event: unknown = QUOTE, Qualifier?: string) =>
  client.send(new InvokeCommand({ FunctionName, Payload: Buffer.from(JSON.stringify(event)), ...(Qualifier ? { Qualifier } : {}) }));

const sleep = (milliseconds: number) => ({ operation: "sleep", milliseconds });

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The callee's log lines of Powertools (JSON), parsed. */
function calleeLogLines(runtime: LocalRuntime & { logs: string[] }): Json[] {
  const prefix = "[xacct-demo-callee] {";
  return runtime.logs.filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(prefix.length - 1)));
}

describe("on the stacks as synthesized (alias live -> version 1)", () => {
  let runtime: LocalRuntime & { logs: string[] };
  let asInvoker: LambdaClient;

  beforeAll(async () => {
    runtime = await boot();
    asInvoker = await invokerClient(runtime);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it("the invoker role invokes the alias: version 1 runs, X-Amz-Executed-Version says so, and the decision names the alias", async () => {
    const before = runtime.audit.lastSeq;
    const res = await invoke(asInvoker, LIVE_ARN);
    expect(res.StatusCode).toBe(200);
    expect(res.ExecutedVersion).toBe("1");
    const answer = payloadOf(res) as Json;
    expect(answer.ok).toBe(true);
    expect(answer.servedBy.functionArn).toBe(LIVE_ARN);
    const decided = runtime.audit.since(before).filter((e) => e.action === "lambda:InvokeFunction");
    // Obtained by the caller's function role, the session calls from the caller's VPC: through its Lambda endpoint.
    const endpoint = endpointOf(runtime.model, "xacct-demo-caller", "lambda").id;
    expect(decided.map(formatDecision)).toEqual([`ALLOW lambda:InvokeFunction ${INVOKER_SESSION} -> ${LIVE_ARN} via ${endpoint} (lambda)`]);
    // The same alias by the Qualifier parameter, and by name:alias.
    expect((await invoke(asInvoker, CALLEE_ARN, QUOTE, "live")).ExecutedVersion).toBe("1");
    expect((await invoke(asInvoker, "xacct-demo-callee:live")).ExecutedVersion).toBe("1");
  });

  it.each([
    ["unqualified", CALLEE_ARN, undefined, CALLEE_ARN],
    ["at $LATEST", `${CALLEE_ARN}:$LATEST`, undefined, `${CALLEE_ARN}:$LATEST`],
    ["at version 1 (where the alias points)", `${CALLEE_ARN}:1`, undefined, `${CALLEE_ARN}:1`],
    ["at version 1 by the Qualifier parameter", CALLEE_ARN, "1", `${CALLEE_ARN}:1`],
    ["at $LATEST by name:qualifier", "xacct-demo-callee:$LATEST", undefined, `${CALLEE_ARN}:$LATEST`],
  ])("the invoker role is refused %s, with AWS's message naming the ARN it asked for", async (_what, name, qualifier, asked) => {
    const before = runtime.audit.lastSeq;
    const err = await errorOf(invoke(asInvoker, name, QUOTE, qualifier));
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: ${INVOKER_SESSION} is not authorized to perform: lambda:InvokeFunction on resource: ${asked} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
    const denied = runtime.audit.since(before).filter((e) => e.action === "lambda:InvokeFunction");
    expect(denied).toMatchObject([{ outcome: "denied", resource: asked, errorCode: "AccessDeniedException" }]);
    expect(formatDecision(denied[0])).toMatch(
      new RegExp(`^DENY lambda:InvokeFunction ${INVOKER_SESSION} -> ${asked.replace("$", "\\$")} \\(`),
    );
  });

  it("an unknown qualifier is ResourceNotFoundException with Lambda's message, by name or by the Qualifier parameter", async () => {
    const admin = lambdaAs(runtime, "callee-admin");
    for (const [name, qualifier, asked] of [
      [`${CALLEE_ARN}:nope`, undefined, `${CALLEE_ARN}:nope`],
      ["xacct-demo-callee", "7", `${CALLEE_ARN}:7`],
      ["222222222222:function:xacct-demo-callee:2", undefined, `${CALLEE_ARN}:2`],
    ] as const) {
      const err = await errorOf(invoke(admin, name, QUOTE, qualifier));
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }).toEqual({
        name: "ResourceNotFoundException",
        status: 404,
        message: `Function not found: ${asked}`,
      });
    }
    // The caller publishes no version: only $LATEST exists.
    const none = await errorOf(invoke(lambdaAs(runtime, "caller-admin"), "xacct-demo-caller:1"));
    expect(none.message).toBe("Function not found: arn:aws:lambda:eu-west-1:111111111111:function:xacct-demo-caller:1");
    expect((await invoke(lambdaAs(runtime, "caller-admin"), "xacct-demo-caller:$LATEST", { payload: QUOTE })).ExecutedVersion).toBe(
      "$LATEST",
    );
  });

  it("a qualifier in the name and a different Qualifier parameter: InvalidParameterValueException, Lambda's wording", async () => {
    const err = await errorOf(invoke(lambdaAs(runtime, "callee-admin"), "xacct-demo-callee:live", QUOTE, "1"));
    expect({ name: err.name, status: err.$metadata?.httpStatusCode, message: err.message }).toEqual({
      name: "InvalidParameterValueException",
      status: 400,
      message: "The derived qualifier from the function name does not match the specified qualifier.",
    });
    // The same one twice is fine.
    expect((await invoke(lambdaAs(runtime, "callee-admin"), "xacct-demo-callee:live", QUOTE, "live")).ExecutedVersion).toBe("1");
  });

  it("$LATEST and version 1 run in environments of their own, each naming its version", async () => {
    const admin = lambdaAs(runtime, "callee-admin");
    const before = runtime.poolStats();
    const latest = await invoke(admin, "xacct-demo-callee");
    const named = await invoke(admin, "xacct-demo-callee:$LATEST");
    const one = await invoke(admin, "xacct-demo-callee:1");
    expect([latest.ExecutedVersion, named.ExecutedVersion, one.ExecutedVersion]).toEqual(["$LATEST", "$LATEST", "1"]);
    // context.invokedFunctionArn is the ARN as invoked.
    expect([latest, named, one].map((r) => (payloadOf(r) as Json).servedBy.functionArn)).toEqual([
      CALLEE_ARN,
      `${CALLEE_ARN}:$LATEST`,
      `${CALLEE_ARN}:1`,
    ]);
    const after = runtime.poolStats();
    expect(after[CALLEE_ARN].invocations - (before[CALLEE_ARN]?.invocations ?? 0)).toBe(2);
    expect(after[`${CALLEE_ARN}:1`].invocations - before[`${CALLEE_ARN}:1`].invocations).toBe(1);
    expect(after[CALLEE_ARN].environments).toBeGreaterThanOrEqual(1);
    expect(after[`${CALLEE_ARN}:1`].environments).toBeGreaterThanOrEqual(1);
    expect(runtime.logs).toContainEqual(expect.stringMatching(/^\[xacct-demo-callee\] START RequestId: [0-9a-f-]{36} Version: 1$/));
    expect(runtime.logs).toContainEqual(expect.stringMatching(/^\[xacct-demo-callee\] START RequestId: [0-9a-f-]{36} Version: \$LATEST$/));
  });

  it("GetFunctionConfiguration with a qualifier reports the version it names", async () => {
    const admin = lambdaAs(runtime, "callee-admin");
    const config = (FunctionName: string, Qualifier?: string) =>
      admin.send(new GetFunctionConfigurationCommand({ FunctionName, ...(Qualifier ? { Qualifier } : {}) }));
    expect((await config("xacct-demo-callee")).Version).toBe("$LATEST");
    expect(await config("xacct-demo-callee", "live")).toMatchObject({ Version: "1", FunctionArn: LIVE_ARN });
    expect(await config(`${CALLEE_ARN}:1`)).toMatchObject({ Version: "1", FunctionArn: `${CALLEE_ARN}:1` });
    const missing = await errorOf(config("xacct-demo-callee", "3"));
    expect({ name: missing.name, message: missing.message }).toEqual({
      name: "ResourceNotFoundException",
      message: `Function not found: ${CALLEE_ARN}:3`,
    });
  });

  it("an Event invoke of the alias uses its event-invoke config: 2 retries, then the on-failure queue", async () => {
    const before = runtime.destinations(FAILURE_QUEUE).length;
    const res = await lambdaAs(runtime, "callee-admin").send(
      new InvokeCommand({ FunctionName: LIVE_ARN, InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ operation: "fail" })) }),
    );
    expect(res.StatusCode).toBe(202);
    await runtime.whenIdle();
    const records = runtime.destinations(FAILURE_QUEUE).slice(before);
    expect(records).toHaveLength(1);
    expect(records[0].requestContext).toMatchObject({ functionArn: LIVE_ARN, condition: "RetriesExhausted", approximateInvokeCount: 3 });
    expect(records[0].responseContext).toMatchObject({ executedVersion: "1", functionError: "Unhandled" });
  });

  it("an unqualified Event invoke has no config of its own: Lambda's defaults (2 retries, no destination)", async () => {
    const delivered = runtime.asyncStats().delivered[FAILURE_QUEUE] ?? 0;
    const undelivered = runtime.undelivered().length;
    await lambdaAs(runtime, "callee-admin").send(
      new InvokeCommand({ FunctionName: CALLEE_ARN, InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ operation: "fail" })) }),
    );
    await runtime.whenIdle();
    expect(runtime.asyncStats().delivered[FAILURE_QUEUE] ?? 0).toBe(delivered);
    const missed = runtime.undelivered().slice(undelivered);
    expect(missed).toHaveLength(1);
    expect(missed[0].destination).toBeUndefined();
    expect(missed[0].reason).toContain("no event-invoke config applies: Lambda's defaults");
    expect(missed[0].record.requestContext).toMatchObject({ functionArn: `${CALLEE_ARN}:$LATEST`, approximateInvokeCount: 3 });
    expect(missed[0].record.responseContext.executedVersion).toBe("$LATEST");
  });
});

describe("publishing a version and moving the alias", () => {
  it("through live: version 1, then 2 once the alias moves (an invocation in flight finishes on 1), then 1 again on rollback", async () => {
    await withRuntime(undefined, {}, async (runtime) => {
      const admin = lambdaAs(runtime, "callee-admin");
      const asInvoker = await invokerClient(runtime);
      const base = runtime.model.functions.get(CALLEE_ARN)!.environment;
      expect(runtime.versions(CALLEE_ARN)).toEqual({ versions: ["1"], aliases: { live: "1" } });

      // Version 2: the callee as configured, with another service name (its log lines show it).
      const v2 = runtime.publishVersion(CALLEE_ARN, { environment: { ...base, POWERTOOLS_SERVICE_NAME: "xacct-demo-callee-v2" } });
      expect(v2).toBe("2");
      // Nothing changed since version 2: Lambda publishes no new version.
      expect(runtime.publishVersion(CALLEE_ARN)).toBe("2");
      expect(runtime.versions(CALLEE_ARN)).toEqual({ versions: ["1", "2"], aliases: { live: "1" } });
      // Each version keeps its own configuration.
      const env = async (q: string) =>
        (await admin.send(new GetFunctionConfigurationCommand({ FunctionName: "xacct-demo-callee", Qualifier: q }))).Environment?.Variables;
      expect((await env("1"))?.POWERTOOLS_SERVICE_NAME).toBe("xacct-demo-callee");
      expect((await env("2"))?.POWERTOOLS_SERVICE_NAME).toBe("xacct-demo-callee-v2");
      expect((await env("$LATEST"))?.POWERTOOLS_SERVICE_NAME).toBe("xacct-demo-callee-v2");

      // Through live, still version 1; a long one stays in flight there.
      expect((await invoke(asInvoker, LIVE_ARN)).ExecutedVersion).toBe("1");
      let inFlightDone = false;
      const inFlight = invoke(asInvoker, LIVE_ARN, sleep(1500)).finally(() => (inFlightDone = true));
      await until("the long invocation runs in version 1", () => runtime.poolStats()[`${CALLEE_ARN}:1`].busy === 1);

      runtime.updateAlias(CALLEE_ARN, "live", "2");
      expect(runtime.versions(CALLEE_ARN).aliases).toEqual({ live: "2" });
      const moved = await invoke(asInvoker, LIVE_ARN, { ...QUOTE, correlationId: "after-move" });
      expect(moved.ExecutedVersion).toBe("2");
      expect(inFlightDone).toBe(false);
      const finished: InvokeCommandOutput = await inFlight;
      expect(finished.ExecutedVersion).toBe("1");
      expect((payloadOf(finished) as Json).result).toEqual({ sleptMs: 1500 });
      expect(calleeLogLines(runtime).find((l) => l.correlationId === "after-move")?.service).toBe("xacct-demo-callee-v2");

      // The caller's chain follows the alias: it reaches version 2 without any change on its side.
      const runsOf2 = runtime.poolStats()[`${CALLEE_ARN}:2`].invocations;
      expect((payloadOf(await invokeCaller(runtime, { payload: QUOTE })) as Json).ok).toBe(true);
      expect(runtime.poolStats()[`${CALLEE_ARN}:2`].invocations).toBe(runsOf2 + 1);

      // Rollback.
      runtime.updateAlias(CALLEE_ARN, "live", "1");
      const back = await invoke(asInvoker, LIVE_ARN, { ...QUOTE, correlationId: "after-rollback" });
      expect(back.ExecutedVersion).toBe("1");
      expect(calleeLogLines(runtime).find((l) => l.correlationId === "after-rollback")?.service).toBe("xacct-demo-callee");
      // Version 2 can still be invoked by those allowed its ARN; the invoker role is not.
      expect((await invoke(admin, `${CALLEE_ARN}:2`)).ExecutedVersion).toBe("2");
      expect((await errorOf(invoke(asInvoker, `${CALLEE_ARN}:2`))).name).toBe("AccessDeniedException");

      // An alias to a version that does not exist, or an alias that does not exist, is refused.
      expect(() => runtime.updateAlias(CALLEE_ARN, "live", "9")).toThrow(`Function not found: ${CALLEE_ARN}:9`);
      expect(() => runtime.updateAlias(CALLEE_ARN, "beta", "1")).toThrow(`Alias not found: ${CALLEE_ARN}:beta`);
      expect(runtime.versions(CALLEE_ARN).aliases).toEqual({ live: "1" });
    });
  });

  it("an Event invocation through the alias moved meanwhile: its retries run where the alias points then", async () => {
    await withRuntime(undefined, { asyncRetryDelayMs: 400 }, async (runtime) => {
      const v2 = runtime.publishVersion(CALLEE_ARN, { description: "version 2" });
      const admin = lambdaAs(runtime, "callee-admin");
      await admin.send(
        new InvokeCommand({ FunctionName: LIVE_ARN, InvocationType: "Event", Payload: Buffer.from(JSON.stringify({ operation: "fail" })) }),
      );
      await until("the first attempt ran in version 1", () => runtime.poolStats()[`${CALLEE_ARN}:1`].invocations === 1);
      runtime.updateAlias(CALLEE_ARN, "live", v2);
      await runtime.whenIdle();
      expect(runtime.poolStats()[`${CALLEE_ARN}:1`].invocations).toBe(1);
      expect(runtime.poolStats()[`${CALLEE_ARN}:2`].invocations).toBe(2);
      const [record] = runtime.destinations(FAILURE_QUEUE);
      expect(record.requestContext).toMatchObject({ functionArn: LIVE_ARN, approximateInvokeCount: 3 });
      expect(record.responseContext.executedVersion).toBe("2");
    });
  });
});

describe("PublishVersion, GetAlias and UpdateAlias on the wire, with the SDK", () => {
  it("publish version 2, move live to it and back, each authorized and answered in Lambda's shapes", async () => {
    await withRuntime(undefined, {}, async (runtime) => {
      const admin = lambdaAs(runtime, "callee-admin");
      const alias = await admin.send(new GetAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live" }));
      expect(alias).toMatchObject({
        AliasArn: LIVE_ARN,
        Name: "live",
        FunctionVersion: "1",
        Description: "What callers invoke: the released version of xacct-demo-callee",
      });
      expect(alias.RevisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

      // "Lambda doesn't publish a version if the function's configuration and code haven't changed since the last version".
      const unchanged = await admin.send(new PublishVersionCommand({ FunctionName: CALLEE_ARN, Description: "no new release" }));
      expect(unchanged.$metadata.httpStatusCode).toBe(201);
      expect(unchanged).toMatchObject({ FunctionArn: `${CALLEE_ARN}:1`, Version: "1" });
      // $LATEST changed (as UpdateFunctionConfiguration would change it) and published: version 2.
      const base = runtime.model.functions.get(CALLEE_ARN)!.environment;
      expect(runtime.publishVersion(CALLEE_ARN, { environment: { ...base, RELEASE: "2" } })).toBe("2");
      const again = await admin.send(new PublishVersionCommand({ FunctionName: "xacct-demo-callee" }));
      expect(again).toMatchObject({ FunctionArn: `${CALLEE_ARN}:2`, Version: "2" });
      expect(again.Environment?.Variables?.RELEASE).toBe("2");
      const wrongSha = await errorOf(admin.send(new PublishVersionCommand({ FunctionName: "xacct-demo-callee", CodeSha256: "AAAA" })));
      expect(wrongSha.name).toBe("InvalidParameterValueException");

      const moved = await admin.send(new UpdateAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live", FunctionVersion: "2" }));
      expect(moved).toMatchObject({ AliasArn: LIVE_ARN, FunctionVersion: "2" });
      expect(moved.RevisionId).not.toBe(alias.RevisionId);
      expect((await invoke(await invokerClient(runtime), LIVE_ARN)).ExecutedVersion).toBe("2");
      // A RevisionId that is no longer the alias's: PreconditionFailedException, nothing changes.
      const stale = await errorOf(
        admin.send(
          new UpdateAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live", FunctionVersion: "1", RevisionId: alias.RevisionId }),
        ),
      );
      expect({ name: stale.name, status: stale.$metadata?.httpStatusCode }).toEqual({ name: "PreconditionFailedException", status: 412 });
      expect(runtime.versions(CALLEE_ARN).aliases).toEqual({ live: "2" });
      // Rollback with the current RevisionId.
      await admin.send(
        new UpdateAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live", FunctionVersion: "1", RevisionId: moved.RevisionId }),
      );
      expect((await invoke(admin, LIVE_ARN)).ExecutedVersion).toBe("1");

      // Lambda's errors: a version or alias that does not exist, a version that is not a number, weights.
      const noVersion = await errorOf(
        admin.send(new UpdateAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live", FunctionVersion: "7" })),
      );
      expect({ name: noVersion.name, message: noVersion.message }).toEqual({
        name: "ResourceNotFoundException",
        message: `Function not found: ${CALLEE_ARN}:7`,
      });
      const noAlias = await errorOf(admin.send(new GetAliasCommand({ FunctionName: "xacct-demo-callee", Name: "beta" })));
      expect({ name: noAlias.name, message: noAlias.message }).toEqual({
        name: "ResourceNotFoundException",
        message: `Alias not found: ${CALLEE_ARN}:beta`,
      });
      const badVersion = await errorOf(
        admin.send(new UpdateAliasCommand({ FunctionName: "xacct-demo-callee", Name: "live", FunctionVersion: "latest" })),
      );
      expect(badVersion.name).toBe("ValidationException");
      expect(badVersion.message).toContain("Value 'latest' at 'functionVersion' failed to satisfy constraint");
      const weighted = await errorOf(
        admin.send(
          new UpdateAliasCommand({
            FunctionName: "xacct-demo-callee",
            Name: "live",
            RoutingConfig: { AdditionalVersionWeights: { "2": 0.1 } },
          }),
        ),
      );
      expect(weighted.name).toBe("InvalidParameterValueException");
      expect(weighted.message).toContain("does not model weighted aliases");

      // Only who may: the invoker role and the other account's administrator are refused.
      const invokerErr = await errorOf(
        (await invokerClient(runtime)).send(new UpdateAliasCommand({ FunctionName: CALLEE_ARN, Name: "live", FunctionVersion: "2" })),
      );
      expect(invokerErr.name).toBe("AccessDeniedException");
      expect(invokerErr.message).toBe(
        `User: ${INVOKER_SESSION} is not authorized to perform: lambda:UpdateAlias on resource: ${CALLEE_ARN} because no identity-based policy allows the lambda:UpdateAlias action`,
      );
      const otherAccount = await errorOf(lambdaAs(runtime, "caller-admin").send(new PublishVersionCommand({ FunctionName: CALLEE_ARN })));
      expect(otherAccount.name).toBe("AccessDeniedException");
      expect(runtime.versions(CALLEE_ARN)).toEqual({ versions: ["1", "2"], aliases: { live: "1" } });
      expect(runtime.requestCounts()).toMatchObject({ "lambda:PublishVersion": 4, "lambda:GetAlias": 2 });
    });
  });
});

describe("a resource-based policy on the alias (aws_lambda_permission with qualifier live)", () => {
  it("lets account A's administrator invoke the alias and nothing else; GetPolicy by qualifier shows that statement alone", async () => {
    const dir = stacksVariant(({ callee }) => {
      callee.resource.aws_lambda_permission = {
        live: {
          provider: "aws.callee",
          function_name: "xacct-demo-callee",
          qualifier: "live",
          statement_id: "CallerAccountInvokesLive",
          action: "lambda:InvokeFunction",
          principal: "111111111111",
        },
      };
    });
    await withRuntime(dir, {}, async (runtime) => {
      const adminA = lambdaAs(runtime, "caller-admin");
      expect((await invoke(adminA, LIVE_ARN)).ExecutedVersion).toBe("1");
      for (const asked of [CALLEE_ARN, `${CALLEE_ARN}:1`, `${CALLEE_ARN}:$LATEST`]) {
        const err = await errorOf(invoke(adminA, asked));
        expect({ name: err.name, message: err.message }).toEqual({
          name: "AccessDeniedException",
          message: `User: arn:aws:iam::111111111111:user/administrator is not authorized to perform: lambda:InvokeFunction on resource: ${asked} because no resource-based policy allows the lambda:InvokeFunction action`,
        });
      }
      const admin = lambdaAs(runtime, "callee-admin");
      const policy = await admin.send(new GetPolicyCommand({ FunctionName: "xacct-demo-callee", Qualifier: "live" }));
      expect(JSON.parse(policy.Policy ?? "").Statement).toEqual([
        expect.objectContaining({
          Sid: "CallerAccountInvokesLive",
          Resource: LIVE_ARN,
          Principal: { AWS: "arn:aws:iam::111111111111:root" },
        }),
      ]);
      // The unqualified function has no statement of its own.
      const unqualified = await errorOf(admin.send(new GetPolicyCommand({ FunctionName: "xacct-demo-callee" })));
      expect({ name: unqualified.name, message: unqualified.message }).toEqual({
        name: "ResourceNotFoundException",
        message: "The resource you requested does not exist.",
      });
    });
  });
});

describe("reserved concurrency belongs to the function, not to a version", () => {
  it("with 1 reserved, version 1 running through live leaves none for $LATEST", async () => {
    const dir = stacksVariant(({ callee }) => {
      onlyResource(callee, "aws_lambda_function").reserved_concurrent_executions = 1;
    });
    await withRuntime(dir, {}, async (runtime) => {
      const admin = lambdaAs(runtime, "callee-admin");
      const running = invoke(admin, LIVE_ARN, sleep(1500));
      await until("version 1 runs", () => runtime.poolStats()[`${CALLEE_ARN}:1`].busy === 1);
      const throttled = (await errorOf(invoke(admin, CALLEE_ARN, sleep(0)))) as Error & { Reason?: string };
      expect({ name: throttled.name, reason: throttled.Reason }).toEqual({
        name: "TooManyRequestsException",
        reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      });
      expect((await running).ExecutedVersion).toBe("1");
      expect((await invoke(admin, CALLEE_ARN, sleep(0))).ExecutedVersion).toBe("$LATEST");
    });
  });
});
