/**
 * DynamoDB through the runtime's front door: the real SDK v3 client signs, the runtime verifies, resolves the table,
 * authorizes with the model's policies and only then forwards the request to a real moto server, whose answer the
 * client reads. The model is the synthesized default stacks plus, by hand, the callee's idempotency table and a
 * policy on the callee's execution role for it (the stacks do not have them yet).
 */
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { loadAccountsModel } from "../../../core/model/load-model";
import type { AccountsModel, PolicyDocument, RoleModel, TableModel, VpcEndpointModel } from "../../../core/model/types";
import { startDynamoDbBackend } from "../../../local/services/dynamodb/backend";
import { sendToMoto, startMoto } from "../../../local/services/dynamodb/moto-process";
import { LocalRuntimeError, startLocalRuntime, type LocalRuntime, type NamedCredentials } from "../../../local/server/runtime";
import { PROJECT_ROOT } from "../../../local/start";
import { credentialsOf, errorOf, OUT_DIR } from "../support";

const CALLEE_ACCOUNT = "222222222222";
const CALLER_ACCOUNT = "111111111111";
const TABLE_NAME = "xacct-demo-callee-idempotency";
const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:${CALLEE_ACCOUNT}:table/${TABLE_NAME}`;
const CACHE_DIR = path.join(PROJECT_ROOT, "build", "local-runtime");
const CALLEE_FN = `arn:aws:lambda:eu-west-1:${CALLEE_ACCOUNT}:function:xacct-demo-callee`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TABLE: TableModel = {
  name: TABLE_NAME,
  arn: TABLE_ARN,
  accountId: CALLEE_ACCOUNT,
  region: "eu-west-1",
  hashKey: { name: "id", type: "S" },
  ttlAttribute: "expiration",
  pointInTimeRecovery: false,
  source: { stack: "callee", address: "aws_dynamodb_table.idempotency" },
};

/** What Powertools' DynamoDBPersistenceLayer needs, on this table only. */
const IDEMPOTENCY_POLICY: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "IdempotencyTableOnly",
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      Resource: TABLE_ARN,
    },
  ],
};

/** The synthesized default stacks, with the table and the callee role's policy for it added; `more` edits further. */
function idempotentModel(more: (model: { tables: Map<string, TableModel>; vpcEndpoints: VpcEndpointModel[] }) => void = () => undefined) {
  const base = loadAccountsModel(OUT_DIR);
  const calleeFn = base.functions.get(CALLEE_FN);
  if (!calleeFn) throw new Error(`no ${CALLEE_FN} in the synthesized stacks`);
  const role = base.roles.get(calleeFn.roleArn) as RoleModel;
  const roles = new Map(base.roles);
  roles.set(role.arn, {
    ...role,
    policies: [
      ...role.policies,
      { name: "idempotency-table", document: IDEMPOTENCY_POLICY, source: { stack: "callee", address: "aws_iam_role_policy.idempotency" } },
    ],
  });
  const parts = { tables: new Map([[TABLE_ARN, TABLE]]), vpcEndpoints: [...base.vpcEndpoints] };
  more(parts);
  return { model: { ...base, roles, ...parts } as AccountsModel };
}

const start = (model: AccountsModel) => startLocalRuntime({ model, cacheDir: CACHE_DIR });

function dynamoAs(runtime: LocalRuntime, profile: string, overrides: Partial<NamedCredentials> = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

/** The moto-server.py children of this process that are still running (Linux's /proc). */
function motoChildren(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return ppid === process.pid && fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("moto-server.py");
      } catch {
        return false;
      }
    })
    .map(Number);
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const connects = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** A request as the SDK signed it, sent unchanged. */
function rawPost(
  endpoint: string,
  request: { method: string; path: string; headers: Record<string, string>; body?: unknown },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${request.path}`, { method: request.method, headers: request.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(request.body as string | undefined);
  });
}

const key = (id: string) => ({ id: { S: id } });

describe("DynamoDB through the runtime, forwarded to moto", () => {
  let runtime: LocalRuntime;
  let moto: { url: string; token: string; port: number; pid: number };
  beforeAll(async () => {
    runtime = await start(idempotentModel().model);
    moto = runtime.dynamodbBackend!;
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  /** The item as moto holds it, read as the callee's function. */
  const stored = async (id: string) =>
    (await dynamoAs(runtime, "callee-function").send(new GetItemCommand({ TableName: TABLE_NAME, Key: key(id) }))).Item;

  it("starts moto with the model's table created in its account, on demand, with its hash key and TTL", async () => {
    expect(moto.port).toBeGreaterThan(0);
    expect(isRunning(moto.pid)).toBe(true);
    const described = await dynamoAs(runtime, "callee-admin").send(new DescribeTableCommand({ TableName: TABLE_NAME }));
    expect(described.Table).toMatchObject({
      TableName: TABLE_NAME,
      TableArn: TABLE_ARN,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingModeSummary: { BillingMode: "PAY_PER_REQUEST" },
    });
    const ttl = await sendToMoto(moto, {
      target: "DynamoDB_20120810.DescribeTimeToLive",
      contentType: "application/x-amz-json-1.0",
      body: JSON.stringify({ TableName: TABLE_NAME }),
      accountId: CALLEE_ACCOUNT,
      region: "eu-west-1",
    });
    expect(JSON.parse(ttl.body.toString("utf8"))).toEqual({
      TimeToLiveDescription: { TimeToLiveStatus: "ENABLED", AttributeName: "expiration" },
    });
    // Only in account B: moto keeps accounts apart, and account A has no table.
    const inA = await sendToMoto(moto, {
      target: "DynamoDB_20120810.ListTables",
      contentType: "application/x-amz-json-1.0",
      body: "{}",
      accountId: CALLER_ACCOUNT,
      region: "eu-west-1",
    });
    expect(JSON.parse(inA.body.toString("utf8")).TableNames).toEqual([]);
  });

  it("applies a conditional write of one item atomically, as DynamoDB does: of 20 PutItems of a new key at once, exactly one succeeds", async () => {
    const client = dynamoAs(runtime, "callee-function");
    for (let round = 0; round < 10; round++) {
      const id = `race-${round}`;
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          client
            .send(
              new PutItemCommand({
                TableName: TABLE_NAME,
                Item: { id: { S: id }, writer: { N: String(n) } },
                ConditionExpression: "attribute_not_exists(id)",
              }),
            )
            .then(
              () => "written",
              (err: Error) => err.name,
            ),
        ),
      );
      expect(outcomes.filter((o) => o === "written")).toHaveLength(1);
      expect(outcomes.filter((o) => o === "ConditionalCheckFailedException")).toHaveLength(19);
    }
  });

  it("moto answers only the runtime: a request without its token (or with another) is refused, and writes nothing", async () => {
    const put = { TableName: TABLE_NAME, Item: { id: { S: "bypass" } } };
    const request = { target: "DynamoDB_20120810.PutItem", contentType: "application/x-amz-json-1.0", body: JSON.stringify(put) };
    for (const token of ["", "0".repeat(48)]) {
      const answer = await sendToMoto({ url: moto.url, token }, { ...request, accountId: CALLEE_ACCOUNT, region: "eu-west-1" });
      expect(answer.status).toBe(403);
      expect(answer.body.toString("utf8")).toContain("not sent by the local runtime");
    }
    expect(await stored("bypass")).toBeUndefined();
    expect(moto.token).toMatch(/^[0-9a-f]{48}$/);
  });

  it("the callee's function puts, gets, updates and deletes its record, as Powertools' persistence layer does", async () => {
    const client = dynamoAs(runtime, "callee-function");
    const before = runtime.requestCounts();
    const seq = runtime.audit.lastSeq;
    const expiration = { N: String(Math.floor(Date.now() / 1000) + 3600) };
    // Powertools' first write: only when no record is there yet.
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: TABLE_NAME,
          Item: { ...key("order-42"), status: { S: "INPROGRESS" }, expiration },
          ConditionExpression: "attribute_not_exists(id)",
        }),
      );
    await put();
    // moto evaluates the condition: the second write of the same key fails there, answered as DynamoDB answers it.
    const again = await errorOf(put());
    expect(again.name).toBe("ConditionalCheckFailedException");
    expect(again.$metadata?.httpStatusCode).toBe(400);

    expect(await stored("order-42")).toEqual({ ...key("order-42"), status: { S: "INPROGRESS" }, expiration });
    const updated = await client.send(
      new UpdateItemCommand({
        TableName: TABLE_NAME,
        Key: key("order-42"),
        UpdateExpression: "SET #s = :done, #d = :data",
        ExpressionAttributeNames: { "#s": "status", "#d": "data" },
        ExpressionAttributeValues: { ":done": { S: "COMPLETED" }, ":data": { S: '{"ok":true}' } },
        ReturnValues: "ALL_NEW",
      }),
    );
    expect(updated.Attributes?.status).toEqual({ S: "COMPLETED" });
    expect(updated.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await stored("order-42"))?.data).toEqual({ S: '{"ok":true}' });
    await client.send(new DeleteItemCommand({ TableName: TABLE_NAME, Key: key("order-42") }));
    expect(await stored("order-42")).toBeUndefined();

    const counts = runtime.requestCounts();
    expect((counts["dynamodb:PutItem"] ?? 0) - (before["dynamodb:PutItem"] ?? 0)).toBe(2);
    expect((counts["dynamodb:UpdateItem"] ?? 0) - (before["dynamodb:UpdateItem"] ?? 0)).toBe(1);
    expect((counts["dynamodb:DeleteItem"] ?? 0) - (before["dynamodb:DeleteItem"] ?? 0)).toBe(1);
    const put1 = runtime.audit.since(seq).find((e) => e.action === "dynamodb:PutItem");
    expect(put1).toMatchObject({
      service: "dynamodb",
      outcome: "allowed",
      principal: `arn:aws:sts::${CALLEE_ACCOUNT}:assumed-role/xacct-demo-callee-exec/xacct-demo-callee`,
      resource: TABLE_ARN,
      resourceAccount: CALLEE_ACCOUNT,
    });
    expect(put1?.decidedBy.join(" ")).toContain("idempotency-table: IdempotencyTableOnly");
    // The callee's VPC has no endpoint for DynamoDB: the request leaves it another way.
    expect(put1?.vpcEndpoint).toBeUndefined();
  });

  it("the callee's function reaches its table by ARN too, but has no other operation on it", async () => {
    const client = dynamoAs(runtime, "callee-function");
    await client.send(new PutItemCommand({ TableName: TABLE_ARN, Item: { ...key("by-arn"), status: { S: "COMPLETED" } } }));
    expect(await stored("by-arn")).toEqual({ ...key("by-arn"), status: { S: "COMPLETED" } });
    const query = await errorOf(
      client.send(
        new QueryCommand({
          TableName: TABLE_NAME,
          KeyConditionExpression: "id = :id",
          ExpressionAttributeValues: { ":id": { S: "by-arn" } },
        }),
      ),
    );
    expect(query.name).toBe("AccessDeniedException");
    expect(query.message).toContain(`is not authorized to perform: dynamodb:Query on resource: ${TABLE_ARN}`);
  });

  it.each([
    ["caller-function", `arn:aws:sts::${CALLER_ACCOUNT}:assumed-role/xacct-demo-caller-exec/xacct-demo-caller`],
    ["outsider", "arn:aws:iam::333333333333:user/administrator"],
  ])("%s is refused with AccessDeniedException naming the action and the table, and moto never sees the write", async (profile, arn) => {
    const seq = runtime.audit.lastSeq;
    const id = `refused-${profile}`;
    const err = await errorOf(
      dynamoAs(runtime, profile).send(new PutItemCommand({ TableName: TABLE_ARN, Item: { ...key(id), status: { S: "INPROGRESS" } } })),
    );
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toMatch(
      new RegExp(
        `^User: ${arn.replace(/[/.]/g, "\\$&")} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE_ARN.replace(/[/.]/g, "\\$&")} because `,
      ),
    );
    expect(await stored(id)).toBeUndefined();
    expect(runtime.audit.since(seq).find((e) => e.action === "dynamodb:PutItem")).toMatchObject({
      service: "dynamodb",
      outcome: "denied",
      errorCode: "AccessDeniedException",
      principal: arn,
      resource: TABLE_ARN,
    });
  });

  it("the refusal is DynamoDB's JSON error, with its namespace and the runtime's request id", async () => {
    // The SDK signs the request; it is sent as it is, to read the answer's bytes.
    let signed: { method: string; path: string; headers: Record<string, string>; body?: unknown } | undefined;
    const capture = new DynamoDBClient({
      region: runtime.region,
      endpoint: runtime.endpoint,
      credentials: credentialsOf(runtime.credentials("outsider")),
      maxAttempts: 1,
      requestHandler: {
        handle: async (request: NonNullable<typeof signed>) => {
          signed = request;
          throw new Error("captured");
        },
      } as Json,
    });
    await errorOf(capture.send(new GetItemCommand({ TableName: TABLE_ARN, Key: key("x") })));
    const res = await rawPost(runtime.endpoint, signed!);
    expect(res.status).toBe(400);
    expect(res.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers["content-type"]).toBe("application/x-amz-json-1.0");
    const answer = JSON.parse(res.body) as Json;
    expect(answer.__type).toBe("com.amazonaws.dynamodb.v20120810#AccessDeniedException");
    expect(answer.message).toContain(
      `dynamodb:GetItem on resource: ${TABLE_ARN} because no resource-based policy allows the dynamodb:GetItem action`,
    );
  });

  it("a name is a table of the signer's account; an ARN names the table's own account", async () => {
    const admin = dynamoAs(runtime, "caller-admin");
    // Account A's administrator may do anything in A, where the name names a table that does not exist.
    const byName = await errorOf(admin.send(new GetItemCommand({ TableName: TABLE_NAME, Key: key("x") })));
    expect(byName.name).toBe("ResourceNotFoundException");
    expect(byName.message).toBe("Requested resource not found");
    // The ARN names account B's table: cross-account, and no resource policy lets A in.
    const byArn = await errorOf(admin.send(new GetItemCommand({ TableName: TABLE_ARN, Key: key("x") })));
    expect(byArn.name).toBe("AccessDeniedException");
    expect(byArn.message).toContain(`dynamodb:GetItem on resource: ${TABLE_ARN} because no resource-based policy allows`);
    // Account B's administrator reaches the same table by its name.
    const described = await dynamoAs(runtime, "callee-admin").send(new DescribeTableCommand({ TableName: TABLE_NAME }));
    expect(described.Table?.TableArn).toBe(TABLE_ARN);
  });

  it("a table the model does not have is ResourceNotFoundException for whoever may reach it, AccessDenied for the others", async () => {
    const missing = await errorOf(
      dynamoAs(runtime, "callee-admin").send(new GetItemCommand({ TableName: "no-such-table", Key: key("x") })),
    );
    expect(missing.name).toBe("ResourceNotFoundException");
    expect(missing.message).toBe("Requested resource not found");
    // AWS authorizes the ARN before it looks the table up.
    const denied = await errorOf(
      dynamoAs(runtime, "callee-function").send(new GetItemCommand({ TableName: "no-such-table", Key: key("x") })),
    );
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toContain(`on resource: arn:aws:dynamodb:eu-west-1:${CALLEE_ACCOUNT}:table/no-such-table`);
  });

  it("an operation the runtime does not serve is UnknownOperationException, and never reaches moto", async () => {
    const admin = dynamoAs(runtime, "callee-admin");
    const before = runtime.requestCounts()["unknown-operation"] ?? 0;
    const list = await errorOf(admin.send(new ListTablesCommand({})));
    expect(list.name).toBe("UnknownOperationException");
    expect(list.$metadata?.httpStatusCode).toBe(400);
    expect(list.message).toContain("DynamoDB GetItem, PutItem, UpdateItem, DeleteItem, Query and DescribeTable");
    const create = await errorOf(
      admin.send(
        new CreateTableCommand({
          TableName: "made-by-hand",
          AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      ),
    );
    expect(create.name).toBe("UnknownOperationException");
    expect(runtime.requestCounts()["unknown-operation"]).toBe(before + 2);
    const inB = await sendToMoto(moto, {
      target: "DynamoDB_20120810.ListTables",
      contentType: "application/x-amz-json-1.0",
      body: "{}",
      accountId: CALLEE_ACCOUNT,
      region: "eu-west-1",
    });
    expect(JSON.parse(inB.body.toString("utf8")).TableNames).toEqual([TABLE_NAME]);
  });

  it("a bad signature is refused before anything is forwarded", async () => {
    const before = runtime.requestCounts();
    const err = await errorOf(
      dynamoAs(runtime, "callee-function", { secretAccessKey: "not-the-secret" }).send(
        new PutItemCommand({ TableName: TABLE_NAME, Item: { ...key("forged"), status: { S: "INPROGRESS" } } }),
      ),
    );
    expect(err.name).toBe("InvalidSignatureException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const after = runtime.requestCounts();
    expect(after["refused:SignatureDoesNotMatch"]).toBe((before["refused:SignatureDoesNotMatch"] ?? 0) + 1);
    expect(after["dynamodb:PutItem"] ?? 0).toBe(before["dynamodb:PutItem"] ?? 0);
    expect(await stored("forged")).toBeUndefined();
  });
});

describe("a gateway endpoint for DynamoDB in the callee's VPC", () => {
  it("is passed: aws:SourceVpce is set and its policy is evaluated as a third layer", async () => {
    const { model } = idempotentModel();
    const calleeVpc = model.functions.get(CALLEE_FN)!.vpcId as string;
    const gateway: VpcEndpointModel = {
      id: "vpce-0d0d0d0d0d0d0d0d0",
      accountId: CALLEE_ACCOUNT,
      region: "eu-west-1",
      vpcId: calleeVpc,
      serviceName: "com.amazonaws.eu-west-1.dynamodb",
      service: "dynamodb",
      type: "Gateway",
      privateDns: false,
      // Reads only, and only from this endpoint's VPC.
      policy: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadsOnly",
            Effect: "Allow",
            Principal: "*",
            Action: "dynamodb:GetItem",
            Resource: TABLE_ARN,
            Condition: { StringEquals: { "aws:SourceVpce": "vpce-0d0d0d0d0d0d0d0d0" } },
          },
        ],
      },
      defaultPolicy: false,
      subnetIds: [],
      routeTableIds: ["rtb-0b1b1b1b1b1b1b1b1"],
      source: { stack: "callee", address: "aws_vpc_endpoint.dynamodb" },
    };
    const endpointId = gateway.id;
    const runtime = await start({ ...model, vpcEndpoints: [...model.vpcEndpoints, gateway] });
    try {
      const client = dynamoAs(runtime, "callee-function");
      const seq = runtime.audit.lastSeq;
      expect((await client.send(new GetItemCommand({ TableName: TABLE_NAME, Key: key("none") }))).Item).toBeUndefined();
      const read = runtime.audit.since(seq).find((e) => e.action === "dynamodb:GetItem");
      expect(read?.vpcEndpoint).toMatchObject({ id: endpointId, service: "dynamodb", vpcId: calleeVpc, result: "Allowed" });
      expect(read?.decidedBy).toContain(`VPC endpoint policy of ${endpointId} (dynamodb): ReadsOnly`);

      // The role allows PutItem; the endpoint's policy does not.
      const err = await errorOf(client.send(new PutItemCommand({ TableName: TABLE_NAME, Item: key("blocked") })));
      expect(err.name).toBe("AccessDeniedException");
      expect(err.message).toContain(
        `dynamodb:PutItem on resource: ${TABLE_ARN} because no VPC endpoint policy allows the dynamodb:PutItem action`,
      );
      // The administrator calls from outside any VPC: no endpoint, no third layer.
      await dynamoAs(runtime, "callee-admin").send(new PutItemCommand({ TableName: TABLE_NAME, Item: key("from-outside") }));
      const outside = runtime.audit.since(seq).filter((e) => e.action === "dynamodb:PutItem" && e.outcome === "allowed");
      expect(outside).toHaveLength(1);
      expect(outside[0].vpcEndpoint).toBeUndefined();
    } finally {
      await runtime.stop();
    }
  });
});

describe("moto's lifetime", () => {
  it("stops with the runtime: its process has exited and its port refuses connections", async () => {
    const runtime = await start(idempotentModel().model);
    const { pid, port } = runtime.dynamodbBackend!;
    expect(motoChildren()).toContain(pid);
    expect(await connects(port)).toBe(true);
    await runtime.stop();
    expect(isRunning(pid)).toBe(false);
    expect(motoChildren()).not.toContain(pid);
    expect(await connects(port)).toBe(false);
  });

  it("a moto that died is DynamoDB's InternalServerError (500), and the runtime still stops", async () => {
    const runtime = await start(idempotentModel().model);
    try {
      const { pid } = runtime.dynamodbBackend!;
      process.kill(pid, "SIGKILL");
      while (isRunning(pid) && motoChildren().includes(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
      const err = await errorOf(dynamoAs(runtime, "callee-function").send(new GetItemCommand({ TableName: TABLE_NAME, Key: key("x") })));
      expect(err.name).toBe("InternalServerError");
      expect(err.$metadata?.httpStatusCode).toBe(500);
      expect(err.message).toContain("the local DynamoDB (moto at http://127.0.0.1:");
    } finally {
      await runtime.stop();
    }
  });

  it("a runtime on a model with no table starts no moto, and finds no table", async () => {
    const before = motoChildren();
    const runtime = await start(loadAccountsModel(OUT_DIR));
    try {
      expect(runtime.model.tables.size).toBe(0);
      expect(runtime.dynamodbBackend).toBeUndefined();
      expect(motoChildren()).toEqual(before);
      const err = await errorOf(dynamoAs(runtime, "callee-admin").send(new GetItemCommand({ TableName: TABLE_NAME, Key: key("x") })));
      expect(err.name).toBe("ResourceNotFoundException");
    } finally {
      await runtime.stop();
    }
  });

  it("a start that fails while creating the tables leaves no process behind", async () => {
    const before = motoChildren();
    // Two tables of one name in one account: moto refuses the second CreateTable, as DynamoDB does.
    const twin = { ...TABLE, arn: `${TABLE_ARN}-twin`, source: { stack: "callee", address: "aws_dynamodb_table.twin" } };
    const { model } = idempotentModel(({ tables }) => void tables.set(twin.arn, twin));
    const err = await errorOf(start(model));
    expect(err).toBeInstanceOf(LocalRuntimeError);
    expect(err.message).toContain(`refused CreateTable for table ${TABLE_NAME} of callee (aws_dynamodb_table.twin)`);
    expect(err.message).toContain("ResourceInUseException");
    expect(motoChildren()).toEqual(before);
  });

  it("without the project's .venv, moto is refused with the fix", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-no-venv-"));
    const err = await errorOf(startMoto({ projectRoot: empty }));
    expect(err).toBeInstanceOf(LocalRuntimeError);
    expect(err.message).toContain("make install");
    expect(err.message).toContain(".venv/bin/pip install -r requirements-tools.txt");
  });

  it("the backend alone starts, creates the tables and stops", async () => {
    const backend = await startDynamoDbBackend([TABLE]);
    try {
      const answer = await sendToMoto(backend, {
        target: "DynamoDB_20120810.DescribeTable",
        contentType: "application/x-amz-json-1.0",
        body: JSON.stringify({ TableName: TABLE_NAME }),
        accountId: CALLEE_ACCOUNT,
        region: "eu-west-1",
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString("utf8")).Table.TableArn).toBe(TABLE_ARN);
    } finally {
      await backend.stop();
    }
    await backend.exited;
    expect(isRunning(backend.pid)).toBe(false);
  });
});
