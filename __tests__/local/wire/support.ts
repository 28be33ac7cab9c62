/**
 * Shared by the wire and service tests: requests come from the AWS SDK v3 (and the AWS CLI v1)
 * talking to a throwaway node:http server on 127.0.0.1, which records what arrived and answers
 * with the builders under test.
 */
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LambdaClient, type LambdaClientConfig } from "@aws-sdk/client-lambda";
import { STSClient, type STSClientConfig } from "@aws-sdk/client-sts";
import { getCallerIdentityResponse } from "../../../local/services/sts/wire";
import type { WireResponse } from "../../../local/wire/response";
import type { IncomingSignedRequest, KnownKey, SigV4Result } from "../../../local/wire/sigv4";

export const REGION = "eu-west-1";
export const LONG_TERM = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
export const TEMPORARY = {
  accessKeyId: "ASIAIOSFODNN7EXAMPLE",
  secretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
  sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE/token+with=odd/chars",
};
export const FUNCTION_ARN = "arn:aws:lambda:eu-west-1:222222222222:function:callee";
export const REQUEST_ID = "c6104cbe-af31-11e0-8154-cbc7ccf896c7";

export const KEYS: Record<string, KnownKey> = {
  [LONG_TERM.accessKeyId]: { secretAccessKey: LONG_TERM.secretAccessKey },
  [TEMPORARY.accessKeyId]: { secretAccessKey: TEMPORARY.secretAccessKey, sessionToken: TEMPORARY.sessionToken },
};
export const lookup = (id: string): KnownKey | undefined => KEYS[id];

export interface Captured extends IncomingSignedRequest {
  headers: IncomingHttpHeaders;
}

export interface TestServer {
  endpoint: string;
  port: number;
  captured: Captured[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

/** A server that records every request verbatim and answers with `respond`. */
export async function startServer(respond: (req: Captured) => WireResponse | Promise<WireResponse>): Promise<TestServer> {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const request: Captured = { method: req.method ?? "", rawUrl: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      captured.push(request);
      Promise.resolve(respond(request))
        .then((wire) => {
          res.writeHead(wire.status, wire.headers);
          res.end(wire.body);
        })
        .catch((e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const handle: TestServer = {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(handle);
  return handle;
}

/** Closes every server a test started: each test file calls it after each test. */
export async function closeServers(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

export type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

function clientConfig(server: TestServer, credentials: Credentials) {
  return { region: REGION, endpoint: server.endpoint, credentials, maxAttempts: 1 };
}

export async function withSts<T>(
  server: TestServer,
  credentials: Credentials,
  run: (c: STSClient) => Promise<T>,
  extra: Partial<STSClientConfig> = {},
): Promise<T> {
  const client = new STSClient({ ...clientConfig(server, credentials), ...extra });
  try {
    return await run(client);
  } finally {
    client.destroy();
  }
}

export async function withLambda<T>(
  server: TestServer,
  credentials: Credentials,
  run: (c: LambdaClient) => Promise<T>,
  extra: Partial<LambdaClientConfig> = {},
): Promise<T> {
  const client = new LambdaClient({ ...clientConfig(server, credentials), ...extra });
  try {
    return await run(client);
  } finally {
    client.destroy();
  }
}

/** Runs the request and returns what it threw (the test fails if it did not throw). */
export async function thrown(
  run: () => Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number; requestId?: string } } & Record<string, unknown>> {
  try {
    await run();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error("expected the call to fail");
}

export const ok = (): WireResponse =>
  getCallerIdentityResponse({ arn: "arn:aws:iam::111111111111:user/alice", userId: "AIDAEXAMPLE", account: "111111111111" }, REQUEST_ID);

export function failure(result: SigV4Result): { reason: string; message: string } {
  if (result.ok) throw new Error(`expected a verification failure, got ok for ${result.value.accessKeyId}`);
  return { reason: result.error.reason, message: result.error.message };
}

/** A copy of a captured request with some headers changed (undefined removes one). */
export function withHeaders(req: Captured, changes: Record<string, string | undefined>): Captured {
  const headers: IncomingHttpHeaders = { ...req.headers };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return { ...req, headers };
}

/** The SDK's own signer needs a SHA-256; node:crypto provides it (plain, or HMAC when keyed). */
export class TestSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly key?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.key === undefined) return createHash("sha256");
    const key =
      typeof this.key === "string"
        ? this.key
        : ArrayBuffer.isView(this.key)
          ? Buffer.from(this.key.buffer, this.key.byteOffset, this.key.byteLength)
          : Buffer.from(this.key);
    return createHmac("sha256", key);
  }
}
