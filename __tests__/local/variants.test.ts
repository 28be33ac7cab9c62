/**
 * The runtime enforces what the policies say, not a fixed answer: variants of the synthesized
 * stacks change the outcome exactly as they would in AWS. Also: the stack's timeout, and bad input.
 */
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { AssumeRoleCommand } from "@aws-sdk/client-sts";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { bootLocalRuntime } from "../../local/start";
import {
  boot,
  callerAnswer,
  editPolicy,
  errorOf,
  invokeCaller,
  output,
  payloadOf,
  QUOTE,
  roleNamed,
  stacksVariant,
  stsAs,
  withRuntime,
  type TfJson,
} from "./support";
import { onlyResource } from "../support/terraform-json";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("a variant with the trust condition removed", () => {
  it("lets account A's administrator assume the invoker role and reach the callee", async () => {
    const dir = stacksVariant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => {
        delete doc.Statement[0].Condition;
      }),
    );
    const runtime = await boot(dir);
    try {
      const invokerRoleArn = output(runtime, "callee", "invoker_role_arn");
      const assumed = await stsAs(runtime, "caller-admin").send(
        new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "admin-a" }),
      );
      expect(assumed.AssumedRoleUser?.Arn).toBe("arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-invoker/admin-a");
      const c = assumed.Credentials!;
      const asInvoker = new LambdaClient({
        region: runtime.region,
        endpoint: runtime.endpoint,
        credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
        maxAttempts: 1,
      });
      const res = await asInvoker.send(
        new InvokeCommand({ FunctionName: output(runtime, "callee", "callee_alias_arn"), Payload: Buffer.from(JSON.stringify(QUOTE)) }),
      );
      expect((payloadOf(res) as Json).ok).toBe(true);
      // The outsider is still refused: the trust names account A's root only.
      const outsider = await errorOf(
        stsAs(runtime, "outsider").send(new AssumeRoleCommand({ RoleArn: invokerRoleArn, RoleSessionName: "outsider" })),
      );
      expect(outsider.name).toBe("AccessDenied");
    } finally {
      await runtime.stop();
    }
  });
});

describe("a variant without the caller's sts:AssumeRole permission", () => {
  it("makes the caller answer ASSUME_ROLE_DENIED: the identity side is enforced too", async () => {
    const dir = stacksVariant(({ caller }) => {
      const policies = caller.resource.aws_iam_role_policy as Record<string, TfJson>;
      for (const [key, p] of Object.entries(policies)) if (p.name === "assume-callee-invoker-role-only") delete policies[key];
    });
    const answer = await withRuntime(dir, {}, (runtime) => callerAnswer(runtime));
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
  });
});

describe("the stack's timeout", () => {
  it("kills a callee that runs too long, and the caller answers CALLEE_TIMEOUT", async () => {
    const dir = stacksVariant(({ callee }) => {
      onlyResource(callee, "aws_lambda_function").timeout = 2;
    });
    const runtime = await boot(dir);
    try {
      const answer = payloadOf(await invokeCaller(runtime, { payload: { operation: "sleep", milliseconds: 6000 } })) as Json;
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe("CALLEE_TIMEOUT");
      expect(answer.error.calleeErrorMessage).toMatch(/Task timed out after 2\.00 seconds/);
      // The killed environment is replaced: the next call works.
      const next = payloadOf(await invokeCaller(runtime, { payload: QUOTE })) as Json;
      expect(next.ok).toBe(true);
    } finally {
      await runtime.stop();
    }
  });
});

describe("bad input gets a clear message and leaves nothing running", () => {
  it("a port already in use", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(bootLocalRuntime({ skipSynth: true, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("a missing bundle names the file and the fix", async () => {
    const dir = stacksVariant(() => undefined);
    const zip = onlyResource(
      JSON.parse(fs.readFileSync(path.join(dir, "stacks", "callee", "cdk.tf.json"), "utf8")),
      "aws_s3_object",
    ).source;
    fs.rmSync(path.join(dir, "stacks", "callee", zip));
    await expect(bootLocalRuntime({ outDir: dir, skipSynth: true })).rejects.toThrow(/function\.zip.*(synth)/s);
  });

  it("a function environment that sets a key Lambda reserves is refused at start, naming the key", async () => {
    const dir = stacksVariant(({ callee }) => {
      onlyResource(callee, "aws_lambda_function").environment.variables.AWS_REGION = "us-east-1";
    });
    await expect(bootLocalRuntime({ outDir: dir, skipSynth: true })).rejects.toThrow(/reserved key\(s\) AWS_REGION/);
  });

  it("an execution role that Lambda may not assume is refused at start, as Lambda refuses the function", async () => {
    const dir = stacksVariant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-exec"), "assume_role_policy", (doc) => {
        doc.Statement[0].Condition.StringEquals["aws:SourceAccount"] = "111111111111";
      }),
    );
    await expect(bootLocalRuntime({ outDir: dir, skipSynth: true })).rejects.toThrow(/cannot be assumed by Lambda/);
  });
});

describe("fault hooks (off unless a test or benchmark sets them)", () => {
  it("an STS fault reaches the caller as its documented error, not an exception", async () => {
    const stsHooks = {
      fault: (action: string) => (action === "AssumeRole" ? { code: "AccessDenied", status: 403, message: "injected" } : undefined),
    };
    const answer = await withRuntime(undefined, { stsHooks }, (runtime) => callerAnswer(runtime));
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe("ASSUME_ROLE_DENIED");
  });

  it("a Lambda throttle on the callee becomes THROTTLED after the caller's bounded retries", async () => {
    const calls: string[] = [];
    const runtime = await boot(undefined, {
      lambdaHooks: {
        fault: (arn) => {
          calls.push(arn);
          return arn.endsWith(":function:xacct-demo-callee")
            ? {
                code: "TooManyRequestsException",
                status: 429,
                message: "Rate Exceeded.",
                reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
              }
            : undefined;
        },
      },
    });
    try {
      const answer = payloadOf(await invokeCaller(runtime, { payload: QUOTE })) as Json;
      expect(answer.ok).toBe(false);
      expect(answer.error.code).toBe("THROTTLED");
      // INVOKE_MAX_ATTEMPTS defaults to 3: the caller tried exactly three times.
      expect(calls.filter((arn) => arn.endsWith(":function:xacct-demo-callee"))).toHaveLength(3);
    } finally {
      await runtime.stop();
    }
  });
});
