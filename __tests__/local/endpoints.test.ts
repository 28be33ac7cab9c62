/**
 * A function's calls arrive through its VPC's interface endpoints: the caller's function role, and the invoker
 * session it obtains there, reach STS and Lambda through the caller's VPC endpoints, whose policies the simulator
 * evaluates besides the identity and resource policies (aws:SourceVpce and aws:SourceVpc set); an endpoint that
 * refuses is answered with AWS's message for that case. The administrators and the outsider call from outside.
 */
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { loadAccountsModel } from "../../core/model/load-model";
import type { VpcEndpointModel } from "../../core/model/types";
import { formatDecision, type AuditEvent } from "../../local/server/audit";
import { gatewayEndpointFor, interfaceEndpointFor, requestNetwork } from "../../local/server/network";
import type { LocalRuntime } from "../../local/server/runtime";
import {
  callerAnswer,
  editPolicy,
  endpointOf,
  errorOf,
  lambdaAs,
  OUT_DIR,
  payloadOf,
  QUOTE,
  roleNamed,
  stacksSynthesizedWith,
  stacksVariant,
  stsAs,
  withRuntime,
  type TfJson,
} from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const CALLER_VPC = "vpc-0a1a1a1a1a1a1a1a1";
const CALLER_SESSION = "arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller";
const INVOKER_ROLE = "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker";
const INVOKER_SESSION = "arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-invoker/xacct-demo-caller";
const CALLER_FN = "arn:aws:lambda:eu-west-1:111111111111:function:xacct-demo-caller";
const CALLEE_LIVE = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee:live";
const OTHER_ROLE = "arn:aws:iam::111111111111:role/ops";

/** The caller stack's aws_vpc_endpoint for a service. */
function endpointResource(caller: TfJson, service: string): TfJson {
  const found = (Object.values(caller.resource.aws_vpc_endpoint ?? {}) as TfJson[]).find((e) =>
    String(e.service_name).endsWith(`.${service}`),
  );
  if (!found) throw new Error(`the caller stack has no ${service} endpoint`);
  return found;
}

const endpoints = (runtime: LocalRuntime) => ({
  sts: endpointOf(runtime.model, "xacct-demo-caller", "sts"),
  lambda: endpointOf(runtime.model, "xacct-demo-caller", "lambda"),
});

/** The caller's chain once (as account A's administrator starts it), and the decisions it took. */
async function chain(runtime: LocalRuntime): Promise<{ answer: Json; events: AuditEvent[] }> {
  const before = runtime.audit.lastSeq;
  const answer = await callerAnswer(runtime);
  return { answer, events: runtime.audit.since(before) };
}

const invokeAlias = (client: LambdaClient) =>
  client.send(new InvokeCommand({ FunctionName: CALLEE_LIVE, Payload: Buffer.from(JSON.stringify(QUOTE)) }));

describe("which endpoint a request passes", () => {
  const endpoint = (over: Partial<VpcEndpointModel>): VpcEndpointModel => ({
    id: "vpce-0000000000000000a",
    accountId: "111111111111",
    region: "eu-west-1",
    vpcId: CALLER_VPC,
    serviceName: "com.amazonaws.eu-west-1.lambda",
    service: "lambda",
    type: "Interface",
    privateDns: true,
    policy: { Version: "2012-10-17", Statement: [] },
    defaultPolicy: false,
    subnetIds: [],
    routeTableIds: [],
    source: { stack: "caller", address: "aws_vpc_endpoint.x" },
    ...over,
  });

  it("an interface endpoint with private DNS for the service in the VPC and region; nothing else", () => {
    const right = endpoint({});
    const model = {
      vpcEndpoints: [
        endpoint({ id: "vpce-other-vpc", vpcId: "vpc-0b0b0b0b0b0b0b0b0" }),
        endpoint({ id: "vpce-other-region", region: "us-east-1" }),
        endpoint({ id: "vpce-no-private-dns", privateDns: false }),
        endpoint({ id: "vpce-gateway", type: "Gateway" }),
        endpoint({ id: "vpce-sts", service: "sts", serviceName: "com.amazonaws.eu-west-1.sts" }),
        right,
      ],
    };
    expect(interfaceEndpointFor(model, CALLER_VPC, "lambda", "eu-west-1")).toBe(right);
    expect(interfaceEndpointFor(model, CALLER_VPC, "kms", "eu-west-1")).toBeUndefined();
    expect(requestNetwork(model, CALLER_VPC, "lambda", "eu-west-1")).toEqual({ vpcId: CALLER_VPC, endpoint: right });
    // From a VPC without an endpoint for the service: sent from the VPC, through none (NAT, or one the stacks do not define).
    expect(requestNetwork(model, CALLER_VPC, "kms", "eu-west-1")).toEqual({ vpcId: CALLER_VPC });
    // From outside any VPC: no network at all.
    expect(requestNetwork(model, undefined, "lambda", "eu-west-1")).toBeUndefined();
    // A gateway endpoint is no way to Lambda, whatever its service says.
    expect(gatewayEndpointFor(model, CALLER_VPC, "lambda", "eu-west-1")).toBeUndefined();
  });

  it("a gateway endpoint for DynamoDB or S3 in the VPC and region, which it prefers to an interface endpoint", () => {
    const dynamodb = (over: Partial<VpcEndpointModel>) =>
      endpoint({ service: "dynamodb", serviceName: "com.amazonaws.eu-west-1.dynamodb", type: "Gateway", privateDns: false, ...over });
    const gateway = dynamodb({ id: "vpce-dynamodb-gateway", routeTableIds: ["rtb-0a1a1a1a1a1a1a1a1"] });
    const s3Gateway = endpoint({ id: "vpce-s3-gateway", service: "s3", serviceName: "com.amazonaws.eu-west-1.s3", type: "Gateway" });
    const s3Interface = endpoint({ id: "vpce-s3-interface", service: "s3", serviceName: "com.amazonaws.eu-west-1.s3" });
    const model = {
      vpcEndpoints: [
        dynamodb({ id: "vpce-dynamodb-other-vpc", vpcId: "vpc-0b0b0b0b0b0b0b0b0" }),
        dynamodb({ id: "vpce-dynamodb-other-region", region: "us-east-1" }),
        // An interface endpoint for DynamoDB: with a gateway in the VPC, AWS gives it private DNS for inbound resolvers only.
        dynamodb({ id: "vpce-dynamodb-interface", type: "Interface", privateDns: true }),
        s3Interface,
        gateway,
        s3Gateway,
      ],
    };
    expect(gatewayEndpointFor(model, CALLER_VPC, "dynamodb", "eu-west-1")).toBe(gateway);
    expect(requestNetwork(model, CALLER_VPC, "dynamodb", "eu-west-1")).toEqual({ vpcId: CALLER_VPC, endpoint: gateway });
    expect(requestNetwork(model, CALLER_VPC, "s3", "eu-west-1")).toEqual({ vpcId: CALLER_VPC, endpoint: s3Gateway });
    expect(requestNetwork(model, "vpc-0b0b0b0b0b0b0b0b0", "dynamodb", "eu-west-1")?.endpoint?.id).toBe("vpce-dynamodb-other-vpc");
    // Without the gateway, the interface endpoint with private DNS answers.
    expect(requestNetwork({ vpcEndpoints: [s3Interface] }, CALLER_VPC, "s3", "eu-west-1")).toEqual({
      vpcId: CALLER_VPC,
      endpoint: s3Interface,
    });
    // Route tables are not modelled: a gateway endpoint is passed whatever route tables it lists.
    expect(requestNetwork({ vpcEndpoints: [dynamodb({ routeTableIds: [] })] }, CALLER_VPC, "dynamodb", "eu-west-1")?.endpoint?.type).toBe(
      "Gateway",
    );
    expect(requestNetwork(model, undefined, "dynamodb", "eu-west-1")).toBeUndefined();
  });
});

describe("on the stacks as synthesized", () => {
  it("the chain passes both endpoint policies: the caller's AssumeRole through the STS endpoint, the invoker session's Invoke through Lambda's", async () => {
    await withRuntime(undefined, {}, async (runtime) => {
      const { sts, lambda } = endpoints(runtime);
      expect([sts.vpcId, lambda.vpcId]).toEqual([CALLER_VPC, CALLER_VPC]);
      const { answer, events } = await chain(runtime);
      expect(answer.ok).toBe(true);

      // Account A's administrator starts the chain from outside: no endpoint.
      const start = events.find((e) => e.action === "lambda:InvokeFunction" && e.resource === CALLER_FN);
      expect(start).toMatchObject({ outcome: "allowed" });
      expect(start?.vpcEndpoint).toBeUndefined();
      expect(formatDecision(start!)).not.toContain(" via ");

      const assume = events.find((e) => e.action === "sts:AssumeRole");
      expect(assume).toMatchObject({
        outcome: "allowed",
        principal: CALLER_SESSION,
        resource: INVOKER_ROLE,
        vpcEndpoint: { id: sts.id, service: "sts", vpcId: CALLER_VPC, result: "Allowed" },
      });
      expect(assume?.decidedBy).toContain(`VPC endpoint policy of ${sts.id} (sts): CallerRoleAssumesItsInvokerRoleOnly`);
      expect(formatDecision(assume!)).toBe(`ALLOW sts:AssumeRole ${CALLER_SESSION} -> ${INVOKER_ROLE} via ${sts.id} (sts)`);

      // The session obtained in the VPC is used there.
      const invoke = events.find((e) => e.action === "lambda:InvokeFunction" && e.resource === CALLEE_LIVE);
      expect(invoke).toMatchObject({
        outcome: "allowed",
        principal: INVOKER_SESSION,
        vpcEndpoint: { id: lambda.id, service: "lambda", vpcId: CALLER_VPC, result: "Allowed" },
      });
      expect(invoke?.decidedBy).toContain(`VPC endpoint policy of ${lambda.id} (lambda): InvokerRoleInvokesCalleeAliasOnly`);
      expect(formatDecision(invoke!)).toBe(`ALLOW lambda:InvokeFunction ${INVOKER_SESSION} -> ${CALLEE_LIVE} via ${lambda.id} (lambda)`);
    });
  });

  it("the caller-function profile stands for the function's credentials: its AssumeRole passes the STS endpoint too", async () => {
    await withRuntime(undefined, {}, async (runtime) => {
      const before = runtime.audit.lastSeq;
      await stsAs(runtime, "caller-function").send(new AssumeRoleCommand({ RoleArn: INVOKER_ROLE, RoleSessionName: "probe" }));
      const [assume] = runtime.audit.since(before).filter((e) => e.action === "sts:AssumeRole");
      expect(assume.vpcEndpoint).toMatchObject({ id: endpoints(runtime).sts.id, result: "Allowed" });
    });
  });
});

describe("the context keys AWS sets for a request through an endpoint", () => {
  /** The invoker role's trust also requires these keys (aws:SourceVpc, aws:SourceVpce) of the request. */
  const trustRequiring = (keys: Record<string, string>) =>
    stacksVariant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => {
        doc.Statement[0].Condition.StringEquals = keys;
      }),
    );

  it("a trust policy requiring the caller's VPC and its STS endpoint admits the caller's chain", async () => {
    // The endpoint's id is the model's stand-in, the same on every load.
    const sts = endpointOf(loadAccountsModel(OUT_DIR), "xacct-demo-caller", "sts");
    const dir = trustRequiring({ "aws:SourceVpc": CALLER_VPC, "aws:SourceVpce": sts.id });
    const answer = await withRuntime(dir, {}, (runtime) => callerAnswer(runtime));
    expect(answer.ok).toBe(true);
  });

  it("one requiring another VPC refuses it (the trust policy's refusal, as before: ASSUME_ROLE_DENIED)", async () => {
    const dir = trustRequiring({ "aws:SourceVpc": "vpc-0b0b0b0b0b0b0b0b0" });
    const answer = await withRuntime(dir, {}, (runtime) => callerAnswer(runtime));
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
    expect(answer.error.message).toContain(
      `User: ${CALLER_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${INVOKER_ROLE}`,
    );
    expect(answer.error.message).not.toContain("VPC endpoint");
  });
});

describe("a Lambda endpoint policy that names another role instead of the invoker role", () => {
  const dir = () =>
    stacksVariant(({ caller }) =>
      editPolicy(endpointResource(caller, "lambda"), "policy", (doc) => {
        doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = OTHER_ROLE;
      }),
    );

  it("refuses the caller's invoke: INVOKE_DENIED with AWS's 'no VPC endpoint policy allows' message; the admins are not subject to it", async () => {
    await withRuntime(dir(), {}, async (runtime) => {
      const { sts, lambda } = endpoints(runtime);
      const { answer, events } = await chain(runtime);
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe("INVOKE_DENIED");
      expect(answer.error.message).toContain(
        `User: ${INVOKER_SESSION} is not authorized to perform: lambda:InvokeFunction on resource: ${CALLEE_LIVE} because no VPC endpoint policy allows the lambda:InvokeFunction action`,
      );
      // The AssumeRole before it still passed the STS endpoint.
      expect(events.find((e) => e.action === "sts:AssumeRole")).toMatchObject({ outcome: "allowed", vpcEndpoint: { id: sts.id } });
      const denied = events.filter((e) => e.action === "lambda:InvokeFunction" && e.resource === CALLEE_LIVE);
      expect(denied.length).toBeGreaterThan(0);
      for (const e of denied) {
        expect(e).toMatchObject({
          outcome: "denied",
          errorCode: "AccessDeniedException",
          decidedBy: [`VPC endpoint policy of ${lambda.id} (lambda) (no Allow matched)`],
          vpcEndpoint: { id: lambda.id, service: "lambda", vpcId: CALLER_VPC, result: "ImplicitlyDenied" },
        });
        expect(formatDecision(e)).toBe(
          `DENY lambda:InvokeFunction ${INVOKER_SESSION} -> ${CALLEE_LIVE} (VPC endpoint policy of ${lambda.id} (lambda) (no Allow matched)) via ${lambda.id} (lambda)`,
        );
      }

      // The callee's administrator calls from outside the VPC: the alias answers, no endpoint in the decision.
      const before = runtime.audit.lastSeq;
      const res = await invokeAlias(lambdaAs(runtime, "callee-admin"));
      expect((payloadOf(res) as Json).ok).toBe(true);
      const admin = runtime.audit.since(before).find((e) => e.action === "lambda:InvokeFunction");
      expect(admin).toMatchObject({ outcome: "allowed", principal: "arn:aws:iam::222222222222:user/administrator" });
      expect(admin?.vpcEndpoint).toBeUndefined();
    });
  });

  it("a session obtained from outside the VPC is used from outside: with the trust open to account A's administrator, it invokes the alias", async () => {
    const variant = stacksVariant(({ caller, callee }) => {
      editPolicy(endpointResource(caller, "lambda"), "policy", (doc) => {
        doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = OTHER_ROLE;
      });
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => {
        delete doc.Statement[0].Condition;
      });
    });
    await withRuntime(variant, {}, async (runtime) => {
      const assumed = await stsAs(runtime, "caller-admin").send(
        new AssumeRoleCommand({ RoleArn: INVOKER_ROLE, RoleSessionName: "admin-a" }),
      );
      const c = assumed.Credentials!;
      const asInvoker = new LambdaClient({
        region: runtime.region,
        endpoint: runtime.endpoint,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
        maxAttempts: 1,
      });
      const before = runtime.audit.lastSeq;
      expect((payloadOf(await invokeAlias(asInvoker)) as Json).ok).toBe(true);
      expect(runtime.audit.since(before).find((e) => e.action === "lambda:InvokeFunction")?.vpcEndpoint).toBeUndefined();
      // The same role's session obtained by the caller's function, in its VPC, is refused by the endpoint.
      const { answer } = await chain(runtime);
      expect(answer.error.code).toBe("INVOKE_DENIED");
      expect(answer.error.message).toContain("because no VPC endpoint policy allows the lambda:InvokeFunction action");
    });
  });
});

describe("a Lambda endpoint policy that denies the invoker role explicitly", () => {
  it("refuses the caller's invoke with AWS's 'explicit deny in a VPC endpoint policy' message, naming the statement", async () => {
    const dir = stacksVariant(({ caller }) =>
      editPolicy(endpointResource(caller, "lambda"), "policy", (doc) => {
        doc.Statement.push({
          Sid: "NoInvokerRole",
          Effect: "Deny",
          Principal: "*",
          Action: "lambda:InvokeFunction",
          Resource: "*",
          Condition: { ArnEquals: { "aws:PrincipalArn": INVOKER_ROLE } },
        });
      }),
    );
    await withRuntime(dir, {}, async (runtime) => {
      const { lambda } = endpoints(runtime);
      const { answer, events } = await chain(runtime);
      expect(answer.error.code).toBe("INVOKE_DENIED");
      expect(answer.error.message).toContain(
        `User: ${INVOKER_SESSION} is not authorized to perform: lambda:InvokeFunction on resource: ${CALLEE_LIVE} with an explicit deny in a VPC endpoint policy`,
      );
      const denied = events.find((e) => e.action === "lambda:InvokeFunction" && e.resource === CALLEE_LIVE);
      expect(denied).toMatchObject({ outcome: "denied", vpcEndpoint: { id: lambda.id, result: "ExplicitlyDenied" } });
      expect(denied?.decidedBy).toEqual([`VPC endpoint policy of ${lambda.id} (lambda): NoInvokerRole (explicit Deny)`]);
    });
  });
});

describe("an STS endpoint policy that omits the caller's role", () => {
  const dir = () =>
    stacksVariant(({ caller }) =>
      editPolicy(endpointResource(caller, "sts"), "policy", (doc) => {
        doc.Statement[0].Condition.ArnEquals["aws:PrincipalArn"] = OTHER_ROLE;
      }),
    );
  const endpointRefusal = `User: ${CALLER_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${INVOKER_ROLE} because no VPC endpoint policy allows the sts:AssumeRole action`;

  it("refuses the caller's AssumeRole: ASSUME_ROLE_DENIED with AWS's message; the outsider's and the admin's refusals stay as they were", async () => {
    await withRuntime(dir(), {}, async (runtime) => {
      const { sts } = endpoints(runtime);
      const { answer, events } = await chain(runtime);
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
      expect(answer.error.message).toContain(endpointRefusal);
      const denied = events.find((e) => e.action === "sts:AssumeRole");
      expect(denied).toMatchObject({
        outcome: "denied",
        errorCode: "AccessDenied",
        message: endpointRefusal,
        decidedBy: [`VPC endpoint policy of ${sts.id} (sts) (no Allow matched)`],
        vpcEndpoint: { id: sts.id, service: "sts", result: "ImplicitlyDenied" },
      });
      expect(formatDecision(denied!)).toMatch(new RegExp(` via ${sts.id} \\(sts\\)$`));
      // The caller-function profile is refused the same way, with the same message.
      const direct = await errorOf(
        stsAs(runtime, "caller-function").send(new AssumeRoleCommand({ RoleArn: INVOKER_ROLE, RoleSessionName: "xacct-demo-caller" })),
      );
      expect(direct.name).toBe("AccessDenied");
      expect(direct.message).toBe(endpointRefusal);

      // From outside the VPC: refused by the trust policy as before, STS's message without a reason, no endpoint.
      for (const [profile, who] of [
        ["outsider", "arn:aws:iam::333333333333:user/administrator"],
        ["caller-admin", "arn:aws:iam::111111111111:user/administrator"],
      ]) {
        const before = runtime.audit.lastSeq;
        const err = await errorOf(stsAs(runtime, profile).send(new AssumeRoleCommand({ RoleArn: INVOKER_ROLE, RoleSessionName: "x1" })));
        expect(err.name).toBe("AccessDenied");
        expect(err.message).toBe(`User: ${who} is not authorized to perform: sts:AssumeRole on resource: ${INVOKER_ROLE}`);
        expect(runtime.audit.since(before)[0].vpcEndpoint).toBeUndefined();
      }
    });
  });
});

describe("endpoint policies that deny everything", () => {
  it("refuse every call from the VPC (explicitly); the administrators' calls from outside still succeed", async () => {
    const denyAll = { Version: "2012-10-17", Statement: [{ Sid: "Nothing", Effect: "Deny", Principal: "*", Action: "*", Resource: "*" }] };
    const dir = stacksVariant(({ caller }) => {
      for (const service of ["sts", "lambda"]) endpointResource(caller, service).policy = JSON.stringify(denyAll);
    });
    await withRuntime(dir, {}, async (runtime) => {
      const { answer } = await chain(runtime);
      expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
      expect(answer.error.message).toContain(
        `User: ${CALLER_SESSION} is not authorized to perform: sts:AssumeRole on resource: ${INVOKER_ROLE} with an explicit deny in a VPC endpoint policy`,
      );
      // Account A's administrator invoked the caller, and the callee's invokes the alias: both from outside.
      expect((payloadOf(await invokeAlias(lambdaAs(runtime, "callee-admin"))) as Json).ok).toBe(true);
      const outsider = await errorOf(
        stsAs(runtime, "outsider").send(new AssumeRoleCommand({ RoleArn: INVOKER_ROLE, RoleSessionName: "outsider" })),
      );
      expect(outsider.message).toBe(
        `User: arn:aws:iam::333333333333:user/administrator is not authorized to perform: sts:AssumeRole on resource: ${INVOKER_ROLE}`,
      );
    });
  });
});

describe("vpcEndpoints 'none' (XACCT_CALLER_VPC_ENDPOINTS=none)", () => {
  it("the stacks have no endpoint, the chain goes out as before, and no decision has an endpoint layer", async () => {
    const dir = await stacksSynthesizedWith({ XACCT_CALLER_VPC_ENDPOINTS: "none" });
    await withRuntime(dir, {}, async (runtime) => {
      expect(runtime.model.vpcEndpoints).toEqual([]);
      // The caller's function still runs in its VPC, which has no endpoint for STS or Lambda.
      expect(runtime.model.functions.get(CALLER_FN)?.vpcId).toBe(CALLER_VPC);
      const { answer, events } = await chain(runtime);
      expect(answer.ok).toBe(true);
      expect(events.filter((e) => e.action === "sts:AssumeRole" || e.action === "lambda:InvokeFunction")).toHaveLength(3);
      expect(events.filter((e) => e.vpcEndpoint !== undefined)).toEqual([]);
      expect(events.filter((e) => e.decidedBy.some((d) => d.includes("VPC endpoint")))).toEqual([]);
      expect(events.map(formatDecision).filter((line) => line.includes(" via "))).toEqual([]);
    });
  });
});
