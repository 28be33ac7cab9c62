/**
 * The registry of emulated services: each declares a distinct signing name and the operations it
 * serves, and answers in its own protocol, on the wire and through the runtime with the real SDK clients.
 */
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListUsersCommand, IAMClient } from "@aws-sdk/client-iam";
import { KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { GetFunctionCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import { DEFAULT_SERVICE, SERVED_OPERATIONS, SERVICES, serviceClaiming, serviceNamed } from "../../../local/services/registry";
import type { LocalRuntime } from "../../../local/server/runtime";
import { boot, credentialsOf, errorOf } from "../support";

const NAMES = SERVICES.map((s) => s.signingName);

describe("the registry", () => {
  it("lists STS, IAM, Lambda, KMS, S3 and DynamoDB, each under a distinct signing name it is found by", () => {
    expect(NAMES).toEqual(["sts", "iam", "lambda", "kms", "s3", "dynamodb"]);
    expect(new Set(NAMES).size).toBe(SERVICES.length);
    expect(new Set(SERVICES.map((s) => s.title)).size).toBe(SERVICES.length);
    for (const service of SERVICES) expect(serviceNamed(service.signingName)).toBe(service);
    expect(serviceNamed("ec2")).toBeUndefined();
    expect(serviceNamed(undefined)).toBeUndefined();
    expect(DEFAULT_SERVICE.signingName).toBe("sts");
  });

  it("each service declares the operations it serves; the unknown-operation message lists them all", () => {
    for (const service of SERVICES) expect(service.operations.length).toBeGreaterThan(0);
    expect(SERVED_OPERATIONS).toBe(
      "STS AssumeRole and GetCallerIdentity; IAM GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy and GetPolicyVersion; " +
        "Lambda Invoke, GetPolicy, GetFunctionConfiguration, PublishVersion, GetAlias and UpdateAlias; KMS DescribeKey and GetKeyPolicy; S3 GetBucketPolicy; " +
        "DynamoDB GetItem, PutItem, UpdateItem, DeleteItem, Query and DescribeTable",
    );
  });

  it("IAM alone is global, S3 alone signs the declared payload hash and the path as sent", () => {
    expect(SERVICES.filter((s) => s.global).map((s) => s.signingName)).toEqual(["iam"]);
    expect(SERVICES.filter((s) => s.signing.signsDeclaredPayloadHash || !s.signing.uriEscapePath).map((s) => s.signingName)).toEqual([
      "s3",
    ]);
  });

  it("a request's shape names Lambda (its paths), KMS (a TrentService target) or DynamoDB (a DynamoDB_20120810 target), and nothing else", () => {
    const shape = (rawUrl: string, headers: Record<string, string> = {}) =>
      serviceClaiming({ method: "POST", rawUrl, headers })?.signingName;
    expect(shape("/2015-03-31/functions/callee/invocations")).toBe("lambda");
    expect(shape("/2015-03-31/functions?Marker=x")).toBe("lambda");
    expect(shape("/", { "x-amz-target": "TrentService.DescribeKey" })).toBe("kms");
    expect(shape("/", { "x-amz-target": "DynamoDB_20120810.GetItem" })).toBe("dynamodb");
    // Another API's target (DynamoDB Streams) is not DynamoDB's.
    expect(shape("/", { "x-amz-target": "DynamoDBStreams_20120810.GetRecords" })).toBeUndefined();
    expect(shape("/", { "content-type": "application/x-www-form-urlencoded" })).toBeUndefined();
    expect(shape("/bucket?policy")).toBeUndefined();
  });
});

describe.each([
  // service, its code for an unknown access key and the status, its unknown operation's code, status, and where the code travels
  ["sts", "InvalidClientTokenId", 403, "InvalidAction", 400, "<Code>InvalidAction</Code>"],
  ["iam", "InvalidClientTokenId", 403, "InvalidAction", 400, "<Code>InvalidAction</Code>"],
  ["lambda", "UnrecognizedClientException", 403, "UnknownOperationException", 404, undefined],
  ["kms", "UnrecognizedClientException", 400, "UnknownOperationException", 400, '"__type":"UnknownOperationException"'],
  ["s3", "InvalidAccessKeyId", 403, "NotImplemented", 501, "<Code>NotImplemented</Code>"],
  [
    "dynamodb",
    "UnrecognizedClientException",
    400,
    "UnknownOperationException",
    400,
    '"__type":"com.amazon.coral.service#UnknownOperationException"',
  ],
] as const)("%s answers in its own protocol", (name, unknownKey, unknownKeyStatus, unknownOperation, unknownOperationStatus, inBody) => {
  const service = serviceNamed(name)!;

  it(`an unknown access key is ${unknownKey} (${unknownKeyStatus})`, () => {
    expect(service.errorCodeFor("UnknownAccessKey")).toMatchObject({ code: unknownKey, status: unknownKeyStatus });
  });

  it(`an operation it does not model is ${unknownOperation} (${unknownOperationStatus})`, () => {
    const wire = service.unknownOperation("not modelled", "req-1");
    expect(wire.status).toBe(unknownOperationStatus);
    if (inBody === undefined) expect(wire.headers["x-amzn-ErrorType"]).toBe(unknownOperation);
    else expect(String(wire.body)).toContain(inBody);
    expect(String(wire.body)).toContain("not modelled");
  });
});

describe("unknown operations through the runtime, with each service's SDK client", () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await boot();
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  const config = (region = runtime.region) => ({
    region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf(runtime.credentials("caller-admin")),
    maxAttempts: 1,
  });

  it.each([
    ["sts", () => new STSClient(config()).send(new GetSessionTokenCommand({})), "InvalidAction", 400],
    ["iam", () => new IAMClient(config("us-east-1")).send(new ListUsersCommand({})), "InvalidAction", 400],
    [
      "lambda",
      () => new LambdaClient(config()).send(new GetFunctionCommand({ FunctionName: "xacct-demo-caller" })),
      "UnknownOperationException",
      404,
    ],
    ["kms", () => new KMSClient(config()).send(new ListKeysCommand({})), "UnknownOperationException", 400],
    [
      "s3",
      () => new S3Client({ ...config(), forcePathStyle: true }).send(new GetObjectCommand({ Bucket: "any-bucket", Key: "k" })),
      "NotImplemented",
      501,
    ],
    ["dynamodb", () => new DynamoDBClient(config()).send(new ListTablesCommand({})), "UnknownOperationException", 400],
  ] as const)("%s: the SDK reads the refusal as %s", async (_name, send, code, status) => {
    const err = await errorOf(send());
    expect(err.name).toBe(code);
    expect(err.$metadata?.httpStatusCode).toBe(status);
  });
});
