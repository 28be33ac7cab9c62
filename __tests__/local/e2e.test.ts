/**
 * End to end on the local runtime, with the real SDK v3 clients: the deployed bundles run,
 * every request is SigV4-verified, and every decision comes from the synthesized policies.
 */
import { GetCallerIdentityCommand, AssumeRoleCommand } from "@aws-sdk/client-sts";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { LocalRuntime } from "../../local/server/runtime";
import { boot, errorOf, invokeCaller, lambdaAs, output, payloadOf, QUOTE, stsAs } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let runtime: LocalRuntime & { logs: string[] };
let calleeArn: string;
/** The callee's alias `live`: the one ARN the invoker role may invoke, and the one the caller invokes. */
let calleeAliasArn: string;
let invokerRoleArn: string;

beforeAll(async () => {
  runtime = await boot();
  calleeArn = output(runtime, "callee", "callee_function_arn");
  calleeAliasArn = output(runtime, "callee", "callee_alias_arn");
  invokerRoleArn = output(runtime, "callee", "invoker_role_arn");
});
afterAll(async () => {
  await runtime?.stop();
});

describe("the chain", () => {
  it("the caller in account A assumes the invoker role in account B, invokes the callee and returns its answer", async () => {
    const before = runtime.audit.lastSeq;
    const version1Runs = runtime.poolStats()[`${calleeArn}:1`].invocations;
    const res = await invokeCaller(runtime, { correlationId: "e2e-chain", payload: QUOTE });
    const answer = payloadOf(res) as Json;
    expect(res.StatusCode).toBe(200);
    expect(res.FunctionError).toBeUndefined();
    expect(res.ExecutedVersion).toBe("$LATEST");
    expect(answer.ok).toBe(true);
    expect(answer.correlationId).toBe("e2e-chain");
    expect(answer.response.ok).toBe(true);
    expect(answer.response.result.totalCents).toBe(3998);
    expect(answer.response.servedBy.accountId).toBe("222222222222");
    // The callee's context.invokedFunctionArn is the ARN the caller invoked: the alias, which runs version 1.
    expect(answer.response.servedBy.functionArn).toBe(calleeAliasArn);
    expect(runtime.poolStats()[`${calleeArn}:1`].invocations).toBe(version1Runs + 1);
    expect(runtime.logs).toContainEqual(expect.stringMatching(/^\[xacct-demo-callee\] START RequestId: [0-9a-f-]{36} Version: 1$/));

    const events = runtime.audit.since(before);
    const assume = events.find((e) => e.action === "sts:AssumeRole");
    expect(assume).toMatchObject({
      outcome: "allowed",
      principalAccount: "111111111111",
      resource: invokerRoleArn,
      resourceAccount: "222222222222",
    });
    expect(assume?.principal).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
    expect(assume?.decidedBy.join(" ")).toContain("CallerFunctionRoleOnly");
    const invoke = events.find((e) => e.action === "lambda:InvokeFunction" && e.resource === calleeAliasArn);
    expect(invoke).toMatchObject({ outcome: "allowed", principalAccount: "222222222222" });
    expect(invoke?.principal).toMatch(/^arn:aws:sts::222222222222:assumed-role\/xacct-demo-callee-invoker\//);
    expect(invoke?.decidedBy.join(" ")).toContain("InvokeCalleeFunctionOnly");
  });

  it("each function runs as its execution role, with Lambda's environment and logs kept under its name", async () => {
    const who = await stsAs(runtime, "caller-function").send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
    expect(who.Account).toBe("111111111111");
    expect(runtime.logs.some((l) => l.startsWith("[xacct-demo-caller] "))).toBe(true);
    expect(runtime.logs.some((l) => l.startsWith("[xacct-demo-callee] "))).toBe(true);
  });

  it("LogType Tail returns the invocation's log, framed as Lambda frames it", async () => {
    const res = await lambdaAs(runtime, "caller-admin").send(
      new InvokeCommand({ FunctionName: "xacct-demo-caller", LogType: "Tail", Payload: Buffer.from(JSON.stringify({ payload: QUOTE })) }),
    );
    const tail = Buffer.from(res.LogResult ?? "", "base64").toString("utf8");
    expect(tail).toMatch(/END RequestId: [0-9a-f-]{36}/);
    expect(tail).toMatch(/REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms/);
    expect(Buffer.byteLength(res.LogResult ?? "", "base64")).toBeLessThanOrEqual(4096);
  });

  it("reuses warm environments: a second call is not a cold start and makes no second AssumeRole", async () => {
    await invokeCaller(runtime, { payload: QUOTE });
    const assumesBefore = runtime.requestCounts()["sts:AssumeRole"] ?? 0;
    const stats = runtime.poolStats()[output(runtime, "caller", "caller_function_arn")];
    const res = await invokeCaller(runtime, { payload: QUOTE });
    expect((payloadOf(res) as Json).ok).toBe(true);
    expect(runtime.requestCounts()["sts:AssumeRole"] ?? 0).toBe(assumesBefore);
    expect(runtime.poolStats()[output(runtime, "caller", "caller_function_arn")].coldStarts).toBe(stats.coldStarts);
  });
});

describe("refusals, with AWS's error codes and messages", () => {
  it("the outsider account cannot assume the invoker role", async () => {
    const err = await errorOf(
      stsAs(runtime, "outsider").send(new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "outsider" })),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:iam::333333333333:user/administrator is not authorized to perform: sts:AssumeRole on resource: ${invokerRoleArn}`,
    );
  });

  it("account A's administrator, not being the caller's role, cannot assume it either", async () => {
    const err = await errorOf(
      stsAs(runtime, "caller-admin").send(new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "admin" })),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain("User: arn:aws:iam::111111111111:user/administrator is not authorized to perform: sts:AssumeRole");
  });

  it("the caller's own role cannot invoke the callee directly", async () => {
    const err = await errorOf(
      lambdaAs(runtime, "caller-function").send(new InvokeCommand({ FunctionName: calleeArn, Payload: Buffer.from("{}") })),
    );
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(
      `User: arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller is not authorized to perform: lambda:InvokeFunction on resource: ${calleeArn} because no identity-based policy allows the lambda:InvokeFunction action`,
    );
  });

  it("the invoker role may invoke only the callee: account B's other function is out of reach, and a bare name resolves in the caller's account", async () => {
    const invoker = await stsAs(runtime, "caller-function").send(
      new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "probe" }),
    );
    const c = invoker.Credentials!;
    const asInvoker = new LambdaClient({
      region: runtime.region,
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      maxAttempts: 1,
    });
    const ok = await asInvoker.send(new InvokeCommand({ FunctionName: calleeAliasArn, InvocationType: "DryRun" }));
    expect(ok.StatusCode).toBe(204);
    // The invoker session lives in account B, so there a bare name means account B's callee.
    const byName = await asInvoker.send(new InvokeCommand({ FunctionName: "xacct-demo-callee:live", InvocationType: "DryRun" }));
    expect(byName.StatusCode).toBe(204);
    const byQualifier = await asInvoker.send(
      new InvokeCommand({ FunctionName: "xacct-demo-callee", Qualifier: "live", InvocationType: "DryRun" }),
    );
    expect(byQualifier.StatusCode).toBe(204);
    const other = await errorOf(
      asInvoker.send(
        new InvokeCommand({ FunctionName: "arn:aws:lambda:eu-west-1:222222222222:function:something-else", Payload: Buffer.from("{}") }),
      ),
    );
    expect(other.name).toBe("AccessDeniedException");
    const missing = await errorOf(
      lambdaAs(runtime, "callee-admin").send(new InvokeCommand({ FunctionName: "no-such-function", Payload: Buffer.from("{}") })),
    );
    expect(missing.name).toBe("ResourceNotFoundException");
    expect(missing.message).toBe("Function not found: arn:aws:lambda:eu-west-1:222222222222:function:no-such-function");
  });
});

describe("errors come back through the caller as its documented envelope", () => {
  it("the callee's validation error is passed through inside an ok response", async () => {
    const answer = payloadOf(await invokeCaller(runtime, { payload: { operation: "quote", items: [] } })) as Json;
    expect(answer.ok).toBe(true);
    expect(answer.response.ok).toBe(false);
    expect(answer.response.error.code).toBe("VALIDATION_FAILED");
    expect(answer.response.error.issues.map((i: Json) => i.path)).toContain("items");
  });

  it("an error the callee throws becomes CALLEE_ERROR with its errorType", async () => {
    const answer = payloadOf(await invokeCaller(runtime, { correlationId: "boom", payload: { operation: "fail" } })) as Json;
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe("CALLEE_ERROR");
    expect(answer.error.calleeErrorType).toBe("DemoFailure");
    expect(answer.correlationId).toBe("boom");
  });

  it("an event the caller cannot parse becomes BAD_REQUEST naming the field", async () => {
    const answer = payloadOf(await invokeCaller(runtime, { invocationType: "Sometimes", payload: QUOTE })) as Json;
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe("BAD_REQUEST");
    expect(JSON.stringify(answer.error.issues)).toContain("invocationType");
  });

  it("a payload that is not JSON is refused by Lambda itself", async () => {
    const err = await errorOf(
      lambdaAs(runtime, "caller-admin").send(new InvokeCommand({ FunctionName: "xacct-demo-caller", Payload: Buffer.from("{not json") })),
    );
    expect(err.name).toBe("InvalidRequestContentException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
  });
});

describe("Event invocations", () => {
  it("are accepted with 202 and run in the background", async () => {
    const before = runtime.audit.lastSeq;
    const res = await invokeCaller(runtime, { correlationId: "async-ok", payload: QUOTE }, "Event");
    expect(res.StatusCode).toBe(202);
    await runtime.whenIdle();
    const calleeCalls = runtime.audit
      .since(before)
      .filter((e) => e.action === "lambda:InvokeFunction" && e.resource === calleeAliasArn && e.outcome === "allowed");
    expect(calleeCalls).toHaveLength(1);
  });

  it("a failing one at the alias is retried as the alias's event-invoke config says, then lands in its on-failure destination", async () => {
    const queueArn = "arn:aws:sqs:eu-west-1:222222222222:xacct-demo-callee-async-failures";
    const before = runtime.destinations(queueArn).length;
    // The caller invokes the callee asynchronously; the callee throws on every attempt.
    const answer = payloadOf(
      await invokeCaller(runtime, { correlationId: "async-fail", invocationType: "Event", payload: { operation: "fail" } }),
    ) as Json;
    expect(answer).toMatchObject({ ok: true, statusCode: 202, response: null });
    await runtime.whenIdle();
    const records = runtime.destinations(queueArn).slice(before);
    expect(records).toHaveLength(1);
    expect(records[0].requestContext).toMatchObject({
      condition: "RetriesExhausted",
      approximateInvokeCount: 3,
      functionArn: calleeAliasArn,
    });
    expect(records[0].responseContext.executedVersion).toBe("1");
    expect(records[0].requestPayload).toMatchObject({ operation: "fail", correlationId: "async-fail" });
    expect(records[0].responseContext.functionError).toBe("Unhandled");
    expect((records[0].responsePayload as Json).errorType).toBe("DemoFailure");
  });
});

describe("every request's signature is verified", () => {
  it("a tampered request body is refused", async () => {
    const client = lambdaAs(runtime, "caller-admin");
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: unknown; headers: Record<string, string> };
        request.body = Buffer.from(JSON.stringify({ payload: { operation: "fail" } }));
        request.headers["content-length"] = String((request.body as Buffer).length);
        return next(args);
      },
      { step: "finalizeRequest", priority: "low", name: "tamperAfterSigning" },
    );
    const err = await errorOf(
      client.send(new InvokeCommand({ FunctionName: "xacct-demo-caller", Payload: Buffer.from(JSON.stringify({ payload: QUOTE })) })),
    );
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.$metadata?.httpStatusCode).toBe(403);
  });

  it("a wrong secret gives SignatureDoesNotMatch", async () => {
    const err = await errorOf(stsAs(runtime, "caller-admin", { secretAccessKey: "not-the-secret" }).send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe("SignatureDoesNotMatch");
  });

  it("an unknown access key is refused by both services", async () => {
    const sts = await errorOf(
      stsAs(runtime, "caller-admin", { accessKeyId: "AKIAUNKNOWNKEY000000" }).send(new GetCallerIdentityCommand({})),
    );
    expect(sts.name).toBe("InvalidClientTokenId");
    const lambda = await errorOf(
      lambdaAs(runtime, "caller-admin", { accessKeyId: "AKIAUNKNOWNKEY000000" }).send(
        new InvokeCommand({ FunctionName: "xacct-demo-caller" }),
      ),
    );
    expect(lambda.name).toBe("UnrecognizedClientException");
  });

  it("a session key without its token is refused", async () => {
    const err = await errorOf(stsAs(runtime, "caller-function", { sessionToken: "" }).send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe("InvalidClientTokenId");
  });
});

describe("malformed requests get AWS's errors, not a hang", () => {
  it("an unsigned request is refused with MissingAuthenticationToken", async () => {
    const lambda = await fetch(`${runtime.endpoint}/2015-03-31/functions/xacct-demo-caller/invocations`, { method: "POST", body: "{}" });
    expect(lambda.status).toBe(403);
    expect(lambda.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    const sts = await fetch(`${runtime.endpoint}/`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "Action=GetCallerIdentity&Version=2011-06-15",
    });
    expect(sts.status).toBe(403);
    expect(await sts.text()).toContain("<Code>MissingAuthenticationToken</Code>");
  });

  it("an Authorization header that is not SigV4 is refused as an incomplete signature", async () => {
    const res = await fetch(`${runtime.endpoint}/2015-03-31/functions/xacct-demo-caller/invocations`, {
      method: "POST",
      headers: { authorization: "Bearer abc" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toBe("IncompleteSignatureException");
  });

  it("an STS action the runtime does not model is named in the error", async () => {
    const { GetSessionTokenCommand } = await import("@aws-sdk/client-sts");
    const err = await errorOf(stsAs(runtime, "caller-admin").send(new GetSessionTokenCommand({})));
    expect(err.name).toBe("InvalidAction");
    expect(err.message).toContain("GetSessionToken");
  });
});

describe("session rules", () => {
  it("a role session assuming another role (role chaining) is capped at one hour", async () => {
    const err = await errorOf(
      stsAs(runtime, "caller-function").send(
        new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "long", DurationSeconds: 7200 }),
      ),
    );
    expect(err.name).toBe("ValidationError");
    expect(err.message).toBe("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.");
  });

  it("the session's credentials expire when STS said they would", async () => {
    const res = await stsAs(runtime, "caller-function").send(
      new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "short", DurationSeconds: 900 }),
    );
    const expiresIn = (res.Credentials!.Expiration!.getTime() - Date.now()) / 1000;
    expect(expiresIn).toBeGreaterThan(800);
    expect(expiresIn).toBeLessThanOrEqual(900);
  });
});

describe("function profiles", () => {
  it("renewSessions issues new function-role keys that work, and keeps the administrators' keys", async () => {
    const before = runtime.credentials("caller-function");
    const adminBefore = runtime.credentials("caller-admin");
    const renewed = runtime.renewSessions();
    const after = renewed.find((p) => p.profile === "caller-function")!;
    expect(after.accessKeyId).not.toBe(before.accessKeyId);
    expect(after.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(runtime.credentials("caller-admin").accessKeyId).toBe(adminBefore.accessKeyId);
    const who = await stsAs(runtime, "caller-function").send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
  });
});

describe("AssumeRole options need their own permissions, as in AWS", () => {
  it("session tags need sts:TagSession, which the invoker role's trust does not grant", async () => {
    const err = await errorOf(
      stsAs(runtime, "caller-function").send(
        new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "tagged", Tags: [{ Key: "team", Value: "payments" }] }),
      ),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain("is not authorized to perform: sts:TagSession on resource");
  });

  it("a source identity needs sts:SetSourceIdentity", async () => {
    const err = await errorOf(
      stsAs(runtime, "caller-function").send(
        new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "sourced", SourceIdentity: "alice" }),
      ),
    );
    expect(err.name).toBe("AccessDenied");
    expect(err.message).toContain("sts:SetSourceIdentity");
  });

  it("MFA parameters are refused as not modelled, never silently ignored", async () => {
    const err = await errorOf(
      stsAs(runtime, "caller-function").send(
        new AssumeRoleCommand({
          RoleArn: invokerRoleArn,
          RoleSessionName: "mfa",
          SerialNumber: "arn:aws:iam::111111111111:mfa/alice",
          TokenCode: "123456",
        }),
      ),
    );
    expect(err.name).toBe("ValidationError");
    expect(err.message).toContain("does not model MFA");
  });
});

describe("the credential scope must match the endpoint", () => {
  it("a signature scoped to another region is refused", async () => {
    const c = runtime.credentials("caller-admin");
    const sts = new (await import("@aws-sdk/client-sts")).STSClient({
      region: "us-east-1",
      endpoint: runtime.endpoint,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
      maxAttempts: 1,
    });
    const err = await errorOf(sts.send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe("SignatureDoesNotMatch");
    expect(err.message).toContain("Credential should be scoped to a valid region, not 'us-east-1'");
  });

  it("a presigned GET GetCallerIdentity (as EKS authenticators use) is served", async () => {
    const { SignatureV4 } = await import("@smithy/signature-v4");
    const { NodeSha256 } = await import("../../local/wire/sigv4");
    const c = runtime.credentials("callee-admin");
    const url = new URL(runtime.endpoint);
    const signer = new SignatureV4({
      service: "sts",
      region: runtime.region,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
      sha256: NodeSha256,
    });
    const presigned = await signer.presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
        headers: { host: url.host },
      },
      { expiresIn: 60 },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
    const res = await fetch(`${runtime.endpoint}/?${query}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<Arn>arn:aws:iam::222222222222:user/administrator</Arn>");
  });
});
