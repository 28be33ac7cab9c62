/** STS's wire format (awsQuery) as the AWS SDK v3 reads it, and its request parsing and validation. */
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { sts } from "../../../local/services/sts";
import { parseStsRequest, stsErrorResponse, validateAssumeRoleParams } from "../../../local/services/sts/wire";
import { verifySigV4 } from "../../../local/wire/sigv4";
import { closeServers, LONG_TERM, ok, REQUEST_ID, startServer, thrown, withSts } from "../wire/support";

afterEach(closeServers);

describe("STS wire", () => {
  it("the SDK reads stsErrorResponse as an error named by its Code, with message, status and request id", async () => {
    const message =
      "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/<x&y>";
    const server = await startServer(() => stsErrorResponse({ code: "AccessDenied", message, status: 403, type: "Sender" }, REQUEST_ID));
    const e = await thrown(() =>
      withSts(server, LONG_TERM, (c) =>
        c.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::222222222222:role/r", RoleSessionName: "s1" })),
      ),
    );
    expect(e.name).toBe("AccessDenied");
    expect(e.message).toBe(message);
    expect(e.$metadata?.httpStatusCode).toBe(403);
    expect(e.$metadata?.requestId).toBe(REQUEST_ID);
    expect(e.$fault).toBe("client");
  });

  it("a verification failure rendered through errorCodeFor reaches the SDK as that code", async () => {
    const server = await startServer(async (req) => {
      const result = await verifySigV4(req, () => ({ secretAccessKey: "wrong" }));
      if (result.ok) return ok();
      const { code, status, message } = sts.errorCodeFor(result.error.reason, result.error.message);
      return stsErrorResponse({ code, status, message, type: "Sender" }, REQUEST_ID);
    });
    const e = await thrown(() => withSts(server, LONG_TERM, (c) => c.send(new GetCallerIdentityCommand({}))));
    expect(e.name).toBe("SignatureDoesNotMatch");
    expect(e.$metadata?.httpStatusCode).toBe(403);
  });

  it("parseStsRequest refuses non-form bodies and unknown actions or versions", () => {
    const form = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
    expect(parseStsRequest(Buffer.from("{}"), { "content-type": "application/json" })).toMatchObject({
      ok: false,
      error: { code: "MissingAction", status: 400 },
    });
    expect(parseStsRequest(Buffer.from("Version=2011-06-15"), form)).toMatchObject({ ok: false, error: { code: "MissingAction" } });
    expect(parseStsRequest(Buffer.from("Action=GetSessionToken&Version=2011-06-15"), form)).toEqual({
      ok: false,
      error: {
        code: "InvalidAction",
        status: 400,
        type: "Sender",
        message: "Could not find operation GetSessionToken for version 2011-06-15",
      },
    });
    expect(parseStsRequest(Buffer.from("Action=AssumeRole&Version=2010-05-08"), form)).toMatchObject({
      ok: false,
      error: { code: "InvalidAction", message: "Could not find operation AssumeRole for version 2010-05-08" },
    });
    expect(parseStsRequest(Buffer.from("Action=GetCallerIdentity&Version=2011-06-15&X=a+b%2B"), form)).toEqual({
      ok: true,
      value: { action: "GetCallerIdentity", version: "2011-06-15", params: { X: "a b+" } },
    });
  });

  it("validateAssumeRoleParams words its refusals as AWS does", () => {
    const base = { RoleArn: "arn:aws:iam::222222222222:role/callee-role", RoleSessionName: "ok-name" };
    expect(validateAssumeRoleParams({ ...base, RoleSessionName: "x y" })).toEqual({
      ok: false,
      error: {
        code: "ValidationError",
        status: 400,
        type: "Sender",
        message:
          "1 validation error detected: Value 'x y' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
      },
    });
    const several = validateAssumeRoleParams({ RoleSessionName: "a", DurationSeconds: "60", ExternalId: "bad id!" });
    expect(several.ok).toBe(false);
    expect(!several.ok && several.error.message).toBe(
      "4 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
        "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900; " +
        "Value 'bad id!' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*",
    );
  });

  it("validateAssumeRoleParams checks the role ARN's length and the duration's ceiling", () => {
    const r = validateAssumeRoleParams({ RoleArn: "arn:aws:iam::1:r", RoleSessionName: "ab", DurationSeconds: "43201" });
    expect(!r.ok && r.error.message).toBe(
      "2 validation errors detected: Value 'arn:aws:iam::1:r' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
        "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    );
  });
});
