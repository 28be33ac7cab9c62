/** Lambda's wire format (restJson) as the AWS SDK v3 reads it: errors, Invoke requests, and the FunctionName forms. */
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { lambda } from "../../../local/services/lambda";
import { lambdaErrorResponse } from "../../../local/services/lambda/errors";
import { parseFunctionIdentifier } from "../../../local/services/lambda/function-name";
import { parseInvokeRequest } from "../../../local/services/lambda/wire";
import { closeServers, FUNCTION_ARN, LONG_TERM, REGION, REQUEST_ID, startServer, thrown, withLambda } from "../wire/support";

afterEach(closeServers);

describe("Lambda wire", () => {
  async function invokeError(spec: Parameters<typeof lambdaErrorResponse>[0]) {
    const server = await startServer(() => lambdaErrorResponse(spec, REQUEST_ID));
    return thrown(() => withLambda(server, LONG_TERM, (c) => c.send(new InvokeCommand({ FunctionName: FUNCTION_ARN }))));
  }

  it("the SDK maps lambdaErrorResponse to an exception named by x-amzn-ErrorType, with its status", async () => {
    const denied = await invokeError({
      code: "AccessDeniedException",
      status: 403,
      message:
        "User: arn:aws:sts::111111111111:assumed-role/caller/s is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:eu-west-1:222222222222:function:callee",
    });
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toMatch(/^User: .* is not authorized to perform: lambda:InvokeFunction/);
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    expect(denied.$metadata?.requestId).toBe(REQUEST_ID);

    const throttled = await invokeError({
      code: "TooManyRequestsException",
      status: 429,
      message: "Rate Exceeded.",
      extraFields: { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" },
      retryAfterSeconds: 2,
    });
    expect(throttled.name).toBe("TooManyRequestsException");
    expect(throttled.message).toBe("Rate Exceeded.");
    expect(throttled.Reason).toBe("ReservedFunctionConcurrentInvocationLimitExceeded");
    expect(throttled.retryAfterSeconds).toBe("2");
    expect(throttled.Type).toBe("User");
    expect(throttled.$metadata?.httpStatusCode).toBe(429);

    const missing = await invokeError({ code: "ResourceNotFoundException", status: 404, message: `Function not found: ${FUNCTION_ARN}` });
    expect([missing.name, missing.message, missing.$metadata?.httpStatusCode]).toEqual([
      "ResourceNotFoundException",
      `Function not found: ${FUNCTION_ARN}`,
      404,
    ]);

    const badSignature = await invokeError(lambda.errorCodeFor("SignatureDoesNotMatch"));
    expect([badSignature.name, badSignature.$metadata?.httpStatusCode]).toEqual(["InvalidSignatureException", 403]);

    const tooLarge = await invokeError({
      code: "RequestEntityTooLargeException",
      status: 413,
      message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    });
    expect([tooLarge.name, tooLarge.$metadata?.httpStatusCode]).toEqual(["RequestEntityTooLargeException", 413]);

    const failed = await invokeError({ code: "ServiceException", status: 500, message: "internal" });
    expect([failed.name, failed.$fault, failed.$metadata?.httpStatusCode]).toEqual(["ServiceException", "server", 500]);
  });

  it("lambdaErrorResponse uses Lambda's body shapes", () => {
    const body = (spec: Parameters<typeof lambdaErrorResponse>[0]) =>
      JSON.parse(String(lambdaErrorResponse(spec, REQUEST_ID).body)) as unknown;
    expect(body({ code: "InvalidParameterValueException", status: 400, message: "m" })).toEqual({ Type: "User", message: "m" });
    expect(body({ code: "ResourceNotFoundException", status: 404, message: "m" })).toEqual({ Type: "User", Message: "m" });
    expect(body({ code: "AccessDeniedException", status: 403, message: "m" })).toEqual({ Message: "m" });
    expect(body({ code: "UnrecognizedClientException", status: 403, message: "m" })).toEqual({ message: "m" });
    expect(
      body({
        code: "TooManyRequestsException",
        status: 429,
        message: "Rate Exceeded.",
        extraFields: { Reason: "CallerRateLimitExceeded" },
      }),
    ).toEqual({
      Type: "User",
      message: "Rate Exceeded.",
      Reason: "CallerRateLimitExceeded",
    });
    const wire = lambdaErrorResponse({ code: "TooManyRequestsException", status: 429, message: "x", retryAfterSeconds: 3 }, REQUEST_ID);
    expect(wire.headers).toEqual({
      "Content-Type": "application/json",
      "x-amzn-ErrorType": "TooManyRequestsException",
      "x-amzn-RequestId": REQUEST_ID,
      "Retry-After": "3",
    });
  });

  describe("parseInvokeRequest", () => {
    const post = (rawUrl: string, body = "", headers: Record<string, string> = {}) =>
      parseInvokeRequest({ method: "POST", rawUrl, headers, body: Buffer.from(body) });
    const url = "/2015-03-31/functions/callee/invocations";

    it("answers an unknown route as UnknownOperationException (404)", () => {
      expect(post("/2015-03-31/functions/callee")).toMatchObject({ ok: false, error: { code: "UnknownOperationException", status: 404 } });
      expect(parseInvokeRequest({ method: "GET", rawUrl: url, headers: {}, body: Buffer.alloc(0) })).toMatchObject({
        ok: false,
        error: { code: "UnknownOperationException" },
      });
    });

    it("validates headers and the qualifier, collecting every violation", () => {
      expect(post(url, "{}", { "x-amz-invocation-type": "Sync" })).toEqual({
        ok: false,
        error: {
          code: "ValidationException",
          status: 400,
          message:
            "1 validation error detected: Value 'Sync' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        },
      });
      const two = post(`${url}?Qualifier=a.b`, "{}", { "x-amz-log-type": "All" });
      expect(!two.ok && two.error.message).toMatch(
        /^2 validation errors detected: Value 'a\.b' at 'qualifier' .*; Value 'All' at 'logType' .* \[Tail, None\]$/,
      );
      expect(post("/2015-03-31/functions/my%20function/invocations")).toMatchObject({ ok: false, error: { code: "ValidationException" } });
    });

    it("refuses payloads that are not JSON, and reads an empty one as {}", () => {
      expect(post(url, "not json")).toMatchObject({
        ok: false,
        error: {
          code: "InvalidRequestContentException",
          status: 400,
          message: expect.stringMatching(/^Could not parse request body into json: Could not parse payload into json: /),
        },
      });
      expect(parseInvokeRequest({ method: "POST", rawUrl: url, headers: {}, body: Buffer.from([0x22, 0xc3, 0x28, 0x22]) })).toMatchObject({
        ok: false,
        error: { code: "InvalidRequestContentException" },
      });
      expect(post(url, '"a string is an event too"')).toMatchObject({ ok: true });
      const empty = post(url);
      expect(empty.ok && empty.value.payload.toString()).toBe("{}");
    });

    it("enforces 6 MB for synchronous and 1 MB for Event invocations", () => {
      const json = (bytes: number) => `"${"a".repeat(bytes - 2)}"`;
      expect(post(url, json(6 * 1024 * 1024 + 1))).toEqual({
        ok: false,
        error: {
          code: "RequestEntityTooLargeException",
          status: 413,
          message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        },
      });
      expect(post(url, json(6 * 1024 * 1024))).toMatchObject({ ok: true });
      expect(post(url, json(1024 * 1024 + 1), { "x-amz-invocation-type": "Event" })).toEqual({
        ok: false,
        error: {
          code: "RequestEntityTooLargeException",
          status: 413,
          message: "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
        },
      });
      expect(post(url, json(1024 * 1024), { "x-amz-invocation-type": "Event" })).toMatchObject({ ok: true });
    });
  });

  describe("parseFunctionIdentifier", () => {
    const parse = (name: string, qualifier?: string) => parseFunctionIdentifier(name, "111111111111", REGION, qualifier);
    const arn = (account: string, name: string) => `arn:aws:lambda:${REGION}:${account}:function:${name}`;

    it("reads every form Lambda accepts", () => {
      expect(parse("callee")).toEqual({
        ok: true,
        value: { partition: "aws", accountId: "111111111111", region: REGION, name: "callee", arn: arn("111111111111", "callee") },
      });
      expect(parse("callee:live")).toMatchObject({
        ok: true,
        value: { name: "callee", qualifier: "live", arn: arn("111111111111", "callee") },
      });
      expect(parse("222222222222:function:callee")).toMatchObject({
        ok: true,
        value: { accountId: "222222222222", name: "callee", arn: arn("222222222222", "callee") },
      });
      expect(parse("222222222222:function:callee:$LATEST")).toMatchObject({
        ok: true,
        value: { accountId: "222222222222", qualifier: "$LATEST" },
      });
      expect(parse(`${FUNCTION_ARN}:7`)).toMatchObject({
        ok: true,
        value: { accountId: "222222222222", name: "callee", qualifier: "7", arn: FUNCTION_ARN },
      });
      expect(parse(FUNCTION_ARN, "live")).toMatchObject({ ok: true, value: { qualifier: "live", arn: FUNCTION_ARN } });
    });

    it("refuses malformed names, conflicting qualifiers and other regions as Lambda does", () => {
      expect(parse("bad name")).toMatchObject({
        ok: false,
        error: {
          code: "ValidationException",
          status: 400,
          message: expect.stringMatching(
            /^1 validation error detected: Value 'bad name' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
          ),
        },
      });
      expect(parse("arn:aws:lambda:callee")).toMatchObject({ ok: false, error: { code: "InvalidParameterValueException" } });
      expect(parse("x".repeat(65))).toMatchObject({
        ok: false,
        error: { code: "ValidationException", message: expect.stringContaining("length less than or equal to 64") },
      });
      expect(parse(`${FUNCTION_ARN}:live`, "prod")).toEqual({
        ok: false,
        error: {
          code: "InvalidParameterValueException",
          status: 400,
          message: "The derived qualifier from the function name does not match the specified qualifier.",
        },
      });
      expect(parse("arn:aws:lambda:us-east-1:222222222222:function:callee")).toEqual({
        ok: false,
        error: {
          code: "ResourceNotFoundException",
          status: 404,
          message: "Functions from 'us-east-1' are not reachable in this region ('eu-west-1')",
        },
      });
    });
  });
});
