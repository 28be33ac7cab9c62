/**
 * Runs the caller once in a plain Node process, against a local `endpoint`, and prints its result
 * (a `{"harnessResult": ...}` line) among its JSON log lines. Not a test file: caller-retry.test.ts
 * spawns it for the real-socket tests.
 *
 * Why a separate process: in jest's sandbox, node:http's errors come from another realm, are not
 * `instanceof Error`, and the SDK's retry middleware replaces them with a generic wrapper that drops
 * their `code`. The Lambda runtime has one realm, like this process.
 */
import { AssumeRoleCommand, STSClient } from "@aws-sdk/nested-clients/sts";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { mockClient } from "aws-sdk-client-mock";
import { parseCallerConfig } from "../../lambda-src/caller/config";
import { createCallerHandler } from "../../lambda-src/caller/handler";
import { fakeContext, validEnv } from "./helpers";

export interface RunCallerInput {
  readonly endpoint: string;
  readonly env?: Record<string, string>;
  readonly event?: unknown;
  /** Gives the client a NodeHttpHandler with this requestTimeout (throwOnRequestTimeout). */
  readonly requestTimeoutMs?: number;
}

async function main(input: RunCallerInput): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: "ASIAX", SecretAccessKey: "s", SessionToken: "t", Expiration: new Date(Date.now() + 3600_000) },
  });
  const requestHandler =
    input.requestTimeoutMs !== undefined
      ? new NodeHttpHandler({ requestTimeout: input.requestTimeoutMs, throwOnRequestTimeout: true })
      : undefined;
  const handler = createCallerHandler(parseCallerConfig(validEnv(input.env)), {
    lambdaClientConfig: { endpoint: input.endpoint, ...(requestHandler ? { requestHandler } : {}) },
  });
  const result = await handler(input.event ?? {}, fakeContext());
  process.stdout.write(`${JSON.stringify({ harnessResult: result })}\n`);
  requestHandler?.destroy();
}

// helpers.ts is safe to import outside jest: only captureLogs, not called here, touches `jest`.
void main(JSON.parse(process.argv[2] ?? "{}") as RunCallerInput).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
