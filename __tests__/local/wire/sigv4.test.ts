/**
 * SigV4 verification against what real clients sign: the AWS SDK v3 and the stock AWS CLI (v1),
 * talking to a recording server (support.ts); and the codes each service answers a failure with.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { SignatureV4 } from "@smithy/signature-v4";
import { lambda } from "../../../local/services/lambda";
import { lambdaErrorResponse } from "../../../local/services/lambda/errors";
import { invokeSuccessResponse, LOG_TAIL_BYTES, parseInvokeRequest } from "../../../local/services/lambda/wire";
import { sts } from "../../../local/services/sts";
import { assumeRoleResponse, parseStsRequest, stsErrorResponse, validateAssumeRoleParams } from "../../../local/services/sts/wire";
import type { WireResponse } from "../../../local/wire/response";
import { verifySigV4, type IncomingSignedRequest, type SigV4Result } from "../../../local/wire/sigv4";
import {
  closeServers,
  failure,
  FUNCTION_ARN,
  KEYS,
  lookup,
  LONG_TERM,
  ok,
  REGION,
  REQUEST_ID,
  startServer,
  TEMPORARY,
  TestSha256,
  withHeaders,
  withLambda,
  withSts,
  type Captured,
  type Credentials,
} from "./support";

afterEach(closeServers);

describe("verifySigV4 accepts what the SDK signs", () => {
  it("AssumeRole: signature verifies, and the SDK reads the XML answer into Credentials", async () => {
    const expiration = new Date("2030-01-02T03:04:05Z");
    const server = await startServer(() =>
      assumeRoleResponse(
        {
          credentials: { accessKeyId: "ASIANEWEXAMPLE", secretAccessKey: "new/secret+key", sessionToken: "tok<&>en", expiration },
          assumedRoleId: "AROAEXAMPLE:sess",
          arn: "arn:aws:sts::222222222222:assumed-role/callee-role/sess",
          packedPolicySize: 6,
          sourceIdentity: "alice@example.com",
        },
        REQUEST_ID,
      ),
    );
    const out = await withSts(server, LONG_TERM, (c) =>
      c.send(
        new AssumeRoleCommand({
          RoleArn: "arn:aws:iam::222222222222:role/callee-role",
          RoleSessionName: "sess",
          ExternalId: "ext-1",
          SourceIdentity: "alice@example.com",
          DurationSeconds: 900,
          Tags: [{ Key: "team", Value: "a b" }],
        }),
      ),
    );
    expect(out.Credentials).toEqual({
      AccessKeyId: "ASIANEWEXAMPLE",
      SecretAccessKey: "new/secret+key",
      SessionToken: "tok<&>en",
      Expiration: expiration,
    });
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(out.AssumedRoleUser).toEqual({
      AssumedRoleId: "AROAEXAMPLE:sess",
      Arn: "arn:aws:sts::222222222222:assumed-role/callee-role/sess",
    });
    expect(out.PackedPolicySize).toBe(6);
    expect(out.SourceIdentity).toBe("alice@example.com");
    expect(out.$metadata.requestId).toBe(REQUEST_ID);

    const [req] = server.captured;
    await expect(verifySigV4(req, lookup)).resolves.toEqual({
      ok: true,
      value: { accessKeyId: LONG_TERM.accessKeyId, region: REGION, service: "sts", signingDate: expect.any(Date) },
    });
    const parsed = parseStsRequest(req.body, req.headers);
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.value.action).toBe("AssumeRole");
    expect(parsed.value.version).toBe("2011-06-15");
    expect(validateAssumeRoleParams(parsed.value.params)).toEqual({
      ok: true,
      value: {
        roleArn: "arn:aws:iam::222222222222:role/callee-role",
        roleSessionName: "sess",
        durationSeconds: 900,
        externalId: "ext-1",
        sourceIdentity: "alice@example.com",
        tags: [{ key: "team", value: "a b" }],
      },
    });
  });

  it("GetCallerIdentity signed with a temporary key and its session token", async () => {
    const server = await startServer(ok);
    const out = await withSts(server, TEMPORARY, (c) => c.send(new GetCallerIdentityCommand({})));
    expect(out).toMatchObject({ Arn: "arn:aws:iam::111111111111:user/alice", UserId: "AIDAEXAMPLE", Account: "111111111111" });
    const [req] = server.captured;
    expect(req.headers["x-amz-security-token"]).toBe(TEMPORARY.sessionToken);
    const result = await verifySigV4(req, lookup);
    expect(result).toMatchObject({ ok: true, value: { accessKeyId: TEMPORARY.accessKeyId, service: "sts", region: REGION } });
  });

  it("Invoke of a function ARN (colons percent-encoded in the path) with a Qualifier and a session token", async () => {
    const log = `START\n${"x".repeat(5000)}\nEND tail-marker`;
    const server = await startServer((req) => {
      const parsed = parseInvokeRequest(req);
      if (!parsed.ok) return lambdaErrorResponse(parsed.error, REQUEST_ID);
      return invokeSuccessResponse(
        {
          statusCode: 200,
          payload: Buffer.from('{"errorMessage":"boom"}'),
          functionError: "Unhandled",
          logTail: log,
          executedVersion: "7",
        },
        REQUEST_ID,
      );
    });
    const out = await withLambda(server, TEMPORARY, (c) =>
      c.send(
        new InvokeCommand({
          FunctionName: FUNCTION_ARN,
          Qualifier: "live",
          Payload: Buffer.from('{"n":1}'),
          LogType: "Tail",
          ClientContext: "e30=",
        }),
      ),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe("Unhandled");
    expect(out.ExecutedVersion).toBe("7");
    expect(Buffer.from(out.Payload ?? []).toString()).toBe('{"errorMessage":"boom"}');
    // Lambda sends the last 4 KB of the log, base64; the SDK passes it through undecoded.
    const tail = Buffer.from(out.LogResult ?? "", "base64");
    expect(tail.length).toBe(LOG_TAIL_BYTES);
    expect(tail.toString()).toBe(Buffer.from(log).subarray(-LOG_TAIL_BYTES).toString());

    const [req] = server.captured;
    expect(req.rawUrl).toBe(
      "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A222222222222%3Afunction%3Acallee/invocations?Qualifier=live",
    );
    await expect(verifySigV4(req, lookup)).resolves.toMatchObject({
      ok: true,
      value: { accessKeyId: TEMPORARY.accessKeyId, service: "lambda", region: REGION },
    });
    const parsed = parseInvokeRequest(req);
    expect(parsed).toEqual({
      ok: true,
      value: {
        functionName: FUNCTION_ARN,
        qualifier: "live",
        invocationType: "RequestResponse",
        logType: "Tail",
        clientContext: "e30=",
        payload: Buffer.from('{"n":1}'),
      },
    });
  });

  it("Event and DryRun answers come back as 202 and 204", async () => {
    const server = await startServer((req) => {
      const parsed = parseInvokeRequest(req);
      if (!parsed.ok) return lambdaErrorResponse(parsed.error, REQUEST_ID);
      return invokeSuccessResponse({ statusCode: parsed.value.invocationType === "Event" ? 202 : 204 }, REQUEST_ID);
    });
    const [event, dryRun] = await withLambda(server, LONG_TERM, async (c) => [
      await c.send(new InvokeCommand({ FunctionName: "callee", InvocationType: "Event" })),
      await c.send(new InvokeCommand({ FunctionName: "callee", InvocationType: "DryRun" })),
    ]);
    expect(event.StatusCode).toBe(202);
    expect(dryRun.StatusCode).toBe(204);
    for (const req of server.captured) await expect(verifySigV4(req, lookup)).resolves.toMatchObject({ ok: true });
    // No payload: Lambda hands the handler an empty object.
    const parsed = parseInvokeRequest(server.captured[0]);
    expect(parsed.ok && parsed.value.payload.toString()).toBe("{}");
  });
});

describe("verifySigV4 refuses", () => {
  async function capturedInvoke(credentials: Credentials = TEMPORARY): Promise<Captured> {
    const server = await startServer(() => invokeSuccessResponse({ statusCode: 200, payload: Buffer.from("null") }, REQUEST_ID));
    await withLambda(server, credentials, (c) =>
      c.send(new InvokeCommand({ FunctionName: FUNCTION_ARN, Qualifier: "live", LogType: "Tail", Payload: Buffer.from('{"amount":10}') })),
    );
    return server.captured[0];
  }

  it("a tampered body", async () => {
    const req = await capturedInvoke();
    const tampered = { ...req, body: Buffer.from('{"amount":99}') };
    expect(failure(await verifySigV4(tampered, lookup)).reason).toBe("SignatureDoesNotMatch");
    // Without the client's x-amz-content-sha256 to give it away, the signature itself catches it.
    const noHashHeader = withHeaders(tampered, { "x-amz-content-sha256": undefined });
    expect(failure(await verifySigV4(noHashHeader, lookup))).toEqual({
      reason: "SignatureDoesNotMatch",
      message: expect.stringContaining("The request signature we calculated"),
    });
  });

  it("a body declared UNSIGNED-PAYLOAD (STS and Lambda always sign the body)", async () => {
    const signer = new SignatureV4({ service: "lambda", region: REGION, credentials: LONG_TERM, sha256: TestSha256 });
    const sign = async (extra: Record<string, string>): Promise<IncomingSignedRequest> => {
      const body = Buffer.from('{"n":1}');
      const signed = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: "127.0.0.1",
        path: "/2015-03-31/functions/callee/invocations",
        query: {},
        headers: { host: "127.0.0.1:4566", "content-type": "application/json", ...extra },
        body,
      });
      return { method: "POST", rawUrl: "/2015-03-31/functions/callee/invocations", headers: signed.headers, body };
    };
    await expect(verifySigV4(await sign({}), lookup)).resolves.toMatchObject({ ok: true, value: { service: "lambda" } });
    expect(failure(await verifySigV4(await sign({ "x-amz-content-sha256": "UNSIGNED-PAYLOAD" }), lookup)).reason).toBe(
      "SignatureDoesNotMatch",
    );
  });

  it("a tampered signed header, query or path, but not an added unsigned header", async () => {
    const req = await capturedInvoke();
    expect(String(req.headers.authorization)).toContain(";x-amz-log-type;");
    expect(failure(await verifySigV4(withHeaders(req, { "x-amz-log-type": "None" }), lookup)).reason).toBe("SignatureDoesNotMatch");
    expect(failure(await verifySigV4(withHeaders(req, { "content-type": "application/json" }), lookup)).reason).toBe(
      "SignatureDoesNotMatch",
    );
    expect(failure(await verifySigV4({ ...req, rawUrl: req.rawUrl.replace("Qualifier=live", "Qualifier=prod") }, lookup)).reason).toBe(
      "SignatureDoesNotMatch",
    );
    expect(failure(await verifySigV4({ ...req, rawUrl: req.rawUrl.replace("callee", "other") }, lookup)).reason).toBe(
      "SignatureDoesNotMatch",
    );
    // SigV4 covers only the headers listed in SignedHeaders; anything else may be added in transit.
    await expect(verifySigV4(withHeaders(req, { "x-forwarded-for": "10.0.0.1" }), lookup)).resolves.toMatchObject({ ok: true });
  });

  it("a signature made with another secret", async () => {
    const req = await capturedInvoke(LONG_TERM);
    const result = await verifySigV4(req, () => ({ secretAccessKey: "not-the-secret" }));
    expect(failure(result)).toEqual({
      reason: "SignatureDoesNotMatch",
      message:
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    });
  });

  it("an unknown access key", async () => {
    const req = await capturedInvoke(LONG_TERM);
    expect(failure(await verifySigV4(req, () => undefined))).toEqual({
      reason: "UnknownAccessKey",
      message: "The security token included in the request is invalid.",
    });
  });

  it("a temporary key without its token, or with another token; a long-term key with a token", async () => {
    const req = await capturedInvoke(TEMPORARY);
    expect(failure(await verifySigV4(withHeaders(req, { "x-amz-security-token": undefined }), lookup)).reason).toBe("InvalidSessionToken");
    expect(failure(await verifySigV4(withHeaders(req, { "x-amz-security-token": "someone-elses-token" }), lookup)).reason).toBe(
      "InvalidSessionToken",
    );
    const longTermWithToken = await capturedInvoke({ ...LONG_TERM, sessionToken: "made-up" });
    expect(failure(await verifySigV4(longTermWithToken, lookup)).reason).toBe("InvalidSessionToken");
  });

  it("an expired temporary key", async () => {
    const req = await capturedInvoke(TEMPORARY);
    const expired = { ...KEYS[TEMPORARY.accessKeyId], expiration: new Date(Date.now() - 1000) };
    expect(failure(await verifySigV4(req, () => expired))).toEqual({
      reason: "ExpiredToken",
      message: "The security token included in the request is expired",
    });
  });

  it("a request signed more than 5 minutes in the past or the future (the SDK's signer with a skewed clock)", async () => {
    const server = await startServer(ok);
    const sign = (offsetMs: number) =>
      withSts(server, LONG_TERM, (c) => c.send(new GetCallerIdentityCommand({})), { systemClockOffset: offsetMs });
    await sign(-10 * 60 * 1000);
    await sign(10 * 60 * 1000);
    await sign(-4 * 60 * 1000);
    const [past, future, slightlyPast] = server.captured;
    const now = new Date();

    const pastResult = failure(await verifySigV4(past, lookup, now));
    expect(pastResult.reason).toBe("RequestExpired");
    expect(pastResult.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
    const futureResult = failure(await verifySigV4(future, lookup, now));
    expect(futureResult.reason).toBe("RequestExpired");
    expect(futureResult.message).toMatch(/^Signature not yet current: .* \+ 5 min\.\)$/);
    await expect(verifySigV4(slightlyPast, lookup, now)).resolves.toMatchObject({ ok: true });

    // The signatures themselves are sound: at their own time they verify.
    const signedAt = (r: Captured) => {
      const d = String(r.headers["x-amz-date"]);
      return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
    };
    await expect(verifySigV4(past, lookup, signedAt(past))).resolves.toMatchObject({ ok: true });
    await expect(verifySigV4(future, lookup, signedAt(future))).resolves.toMatchObject({ ok: true });
  });

  it("requests with no, or a malformed, Authorization", async () => {
    const req = await capturedInvoke(LONG_TERM);
    expect(failure(await verifySigV4(withHeaders(req, { authorization: undefined }), lookup))).toEqual({
      reason: "MissingAuthentication",
      message: "Request is missing Authentication Token",
    });
    const bare = failure(await verifySigV4(withHeaders(req, { authorization: "Bearer abc" }), lookup));
    expect(bare.reason).toBe("IncompleteSignature");
    expect(bare.message).toBe(
      "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Bearer abc",
    );
    const auth = String(req.headers.authorization);
    const noEquals = failure(await verifySigV4(withHeaders(req, { authorization: auth.replace("Credential=", "Credential ") }), lookup));
    expect(noEquals.reason).toBe("IncompleteSignature");
    expect(noEquals.message).toContain("not a valid key=value pair (missing equal-sign) in Authorization header");
    const noDate = failure(await verifySigV4(withHeaders(req, { "x-amz-date": undefined }), lookup));
    expect(noDate).toEqual({
      reason: "IncompleteSignature",
      message: expect.stringContaining("requires existence of either a 'X-Amz-Date' or a 'Date' header"),
    });
    const noHost = failure(await verifySigV4(withHeaders(req, { authorization: auth.replace(";host;", ";") }), lookup));
    expect(noHost).toEqual({
      reason: "IncompleteSignature",
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
    const sigv4a = failure(
      await verifySigV4(withHeaders(req, { authorization: auth.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256") }), lookup),
    );
    expect(sigv4a.reason).toBe("IncompleteSignature");
  });
});

describe("verifySigV4 with presigned (query-string) signatures", () => {
  async function presigned(signingDate: Date, expiresIn: number) {
    const signer = new SignatureV4({ service: "sts", region: REGION, credentials: TEMPORARY, sha256: TestSha256 });
    const signed = await signer.presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 4566,
        path: "/",
        query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
        headers: { host: "127.0.0.1:4566" },
      },
      { signingDate, expiresIn },
    );
    const query = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join("&");
    return { method: "GET", rawUrl: `/?${query}`, headers: { host: "127.0.0.1:4566" }, body: Buffer.alloc(0) };
  }

  it("accepts a fresh presigned URL and refuses an expired or altered one", async () => {
    const now = new Date();
    await expect(verifySigV4(await presigned(now, 900), lookup, now)).resolves.toMatchObject({
      ok: true,
      value: { service: "sts", accessKeyId: TEMPORARY.accessKeyId },
    });
    const old = await presigned(new Date(now.getTime() - 20 * 60 * 1000), 900);
    expect(failure(await verifySigV4(old, lookup, now)).reason).toBe("RequestExpired");
    const fresh = await presigned(now, 900);
    const altered = { ...fresh, rawUrl: fresh.rawUrl.replace("GetCallerIdentity", "AssumeRole") };
    expect(failure(await verifySigV4(altered, lookup, now)).reason).toBe("SignatureDoesNotMatch");
  });
});

describe("errorCodeFor", () => {
  it("gives AWS's codes, statuses and messages per service", () => {
    expect(sts.errorCodeFor("MissingAuthentication")).toEqual({
      code: "MissingAuthenticationToken",
      status: 403,
      message: "Request is missing Authentication Token",
    });
    expect(sts.errorCodeFor("UnknownAccessKey")).toEqual({
      code: "InvalidClientTokenId",
      status: 403,
      message: "The security token included in the request is invalid.",
    });
    expect(sts.errorCodeFor("InvalidSessionToken").code).toBe("InvalidClientTokenId");
    expect(sts.errorCodeFor("ExpiredToken")).toEqual({
      code: "ExpiredToken",
      status: 403,
      message: "The security token included in the request is expired",
    });
    expect(sts.errorCodeFor("SignatureDoesNotMatch").code).toBe("SignatureDoesNotMatch");
    expect(sts.errorCodeFor("IncompleteSignature").code).toBe("IncompleteSignature");
    expect(lambda.errorCodeFor("MissingAuthentication")).toEqual({
      code: "MissingAuthenticationTokenException",
      status: 403,
      message: "Missing Authentication Token",
    });
    expect(lambda.errorCodeFor("IncompleteSignature").code).toBe("IncompleteSignatureException");
    expect(lambda.errorCodeFor("UnknownAccessKey")).toEqual({
      code: "UnrecognizedClientException",
      status: 403,
      message: "The security token included in the request is invalid.",
    });
    expect(lambda.errorCodeFor("ExpiredToken").code).toBe("ExpiredTokenException");
    expect(lambda.errorCodeFor("SignatureDoesNotMatch")).toEqual({
      ...sts.errorCodeFor("SignatureDoesNotMatch"),
      code: "InvalidSignatureException",
    });
    // Clock skew is a signature failure on both, worded with the request's dates.
    expect(sts.errorCodeFor("RequestExpired", "Signature expired: A is now earlier than B (C - 5 min.)")).toEqual({
      code: "SignatureDoesNotMatch",
      status: 403,
      message: "Signature expired: A is now earlier than B (C - 5 min.)",
    });
    expect(lambda.errorCodeFor("RequestExpired").code).toBe("InvalidSignatureException");
    expect(lambda.errorCodeFor("UnknownAccessKey", "ignored").message).toBe("The security token included in the request is invalid.");
  });
});

describe("the stock AWS CLI (v1) against verifySigV4", () => {
  interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
  }

  /** Runs `aws` asynchronously (a synchronous exec would block the server in this process). */
  function aws(args: string[], credentials: Credentials = LONG_TERM): Promise<CliRun> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
    Object.assign(env, {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      ...(credentials.sessionToken !== undefined && { AWS_SESSION_TOKEN: credentials.sessionToken }),
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_MAX_ATTEMPTS: "1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_PAGER: "",
    });
    return new Promise((resolve, reject) => {
      execFile("aws", args, { env, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new Error("The AWS CLI ('aws') is not on PATH. These tests need aws-cli v1 (1.45.x), e.g. `pip install awscli`."));
          return;
        }
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Verifies each request before answering: a bad signature gets AWS's error, not an answer. */
  async function verifyingServer(service: "sts" | "lambda", answer: (req: Captured) => WireResponse) {
    const results: SigV4Result[] = [];
    const server = await startServer(async (req) => {
      const result = await verifySigV4(req, lookup);
      results.push(result);
      if (result.ok) return answer(req);
      const { code, status, message } = { sts, lambda }[service].errorCodeFor(result.error.reason, result.error.message);
      return service === "sts"
        ? stsErrorResponse({ code, status, message, type: "Sender" }, REQUEST_ID)
        : lambdaErrorResponse({ code, status, message }, REQUEST_ID);
    });
    return { server, results };
  }

  it("sts get-caller-identity: sent as an awsQuery form, verified, and the CLI prints our answer", async () => {
    const { server, results } = await verifyingServer("sts", ok);
    const run = await aws(["sts", "get-caller-identity", "--endpoint-url", server.endpoint, "--region", REGION, "--output", "json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ UserId: "AIDAEXAMPLE", Account: "111111111111", Arn: "arn:aws:iam::111111111111:user/alice" });
    expect(results).toEqual([
      { ok: true, value: expect.objectContaining({ service: "sts", region: REGION, accessKeyId: LONG_TERM.accessKeyId }) },
    ]);
    const [req] = server.captured;
    expect(req.headers["content-type"]).toBe("application/x-www-form-urlencoded; charset=utf-8");
    expect(parseStsRequest(req.body, req.headers)).toMatchObject({
      ok: true,
      value: { action: "GetCallerIdentity", version: "2011-06-15" },
    });
  });

  it("sts get-caller-identity with a wrong secret: the CLI reports SignatureDoesNotMatch", async () => {
    const { server, results } = await verifyingServer("sts", ok);
    const run = await aws(["sts", "get-caller-identity", "--endpoint-url", server.endpoint, "--region", REGION], {
      ...LONG_TERM,
      secretAccessKey: "wrong",
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match",
    );
    expect(results.map((r) => !r.ok && r.error.reason)).toEqual(["SignatureDoesNotMatch"]);
  });

  it("lambda invoke of a function ARN with a session token: the path encoding verifies and --payload arrives raw", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "protocol-cli-"));
    try {
      const parsedRequests: unknown[] = [];
      const { server, results } = await verifyingServer("lambda", (req) => {
        const parsed = parseInvokeRequest(req);
        parsedRequests.push(parsed);
        if (!parsed.ok) return lambdaErrorResponse(parsed.error, REQUEST_ID);
        return invokeSuccessResponse(
          { statusCode: 200, payload: Buffer.from('{"echo":true}'), executedVersion: "$LATEST", logTail: "hello log" },
          REQUEST_ID,
        );
      });
      const out = path.join(dir, "out.json");
      const run = await aws(
        [
          "lambda",
          "invoke",
          "--function-name",
          FUNCTION_ARN,
          "--qualifier",
          "$LATEST",
          "--log-type",
          "Tail",
          "--payload",
          '{"a":1}',
          "--endpoint-url",
          server.endpoint,
          "--region",
          REGION,
          out,
        ],
        TEMPORARY,
      );
      expect(run.stderr).toBe("");
      expect(JSON.parse(run.stdout)).toEqual({
        StatusCode: 200,
        ExecutedVersion: "$LATEST",
        LogResult: Buffer.from("hello log").toString("base64"),
      });
      expect(await readFile(out, "utf8")).toBe('{"echo":true}');
      expect(results).toEqual([{ ok: true, value: expect.objectContaining({ service: "lambda", accessKeyId: TEMPORARY.accessKeyId }) }]);
      const [req] = server.captured;
      // Same path encoding as the SDK; $ in the query is percent-encoded; no content-type, and only host;x-amz-date(+token) signed.
      expect(req.rawUrl).toBe(
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A222222222222%3Afunction%3Acallee/invocations?Qualifier=%24LATEST",
      );
      expect(req.headers["content-type"]).toBeUndefined();
      expect(String(req.headers.authorization)).toContain("SignedHeaders=host;x-amz-date;x-amz-log-type;x-amz-security-token,");
      // CLI v1 sends --payload as given (no base64 decoding, unlike CLI v2's default).
      expect(parsedRequests).toEqual([
        {
          ok: true,
          value: {
            functionName: FUNCTION_ARN,
            qualifier: "$LATEST",
            invocationType: "RequestResponse",
            logType: "Tail",
            payload: Buffer.from('{"a":1}'),
          },
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
