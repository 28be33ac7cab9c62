/**
 * The local two-account runtime: one HTTP endpoint on 127.0.0.1 that speaks STS and Lambda's
 * wire protocols, verifies every SigV4 signature, authorizes with the stacks' own policies, and
 * runs the deployed bundles.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { FunctionPool } from "../exec/function-pool";
import type { IssuedCredentials, Principal } from "../iam/principals";
import type { AccountsModel, FunctionModel } from "../model/types";
import { parseInvokeRequest, lambdaErrorResponse, type WireResponse } from "../protocol/lambda-wire";
import { errorCodeFor, verifySigV4 } from "../protocol/sigv4";
import { parseStsRequest, stsErrorResponse } from "../protocol/sts-wire";
import { LocalAccounts } from "./accounts";
import { AuditLog } from "./audit";
import { LambdaService, newRequestId, type LambdaHooks } from "./lambda-service";
import { StsService, type StsHooks } from "./sts-service";
import type { DestinationRecord, UndeliveredRecord } from "./async-invoker";

/** Lambda's synchronous payload limit; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 6 * 1024 * 1024 + 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;

export interface LocalRuntimeOptions {
  readonly model: AccountsModel;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Where zips are extracted and the child bootstrap is built. */
  readonly cacheDir: string;
  readonly organizationId?: string;
  /** Every function log line as it is written. */
  readonly onFunctionLog?: (functionName: string, line: string) => void;
  /** Base delay between retries of a failed Event invocation (AWS: about a minute). Default 200 ms. */
  readonly asyncRetryDelayMs?: number;
  readonly stsHooks?: StsHooks;
  readonly lambdaHooks?: LambdaHooks;
}

export interface NamedCredentials extends IssuedCredentials {
  readonly profile: string;
  readonly principalArn: string;
  readonly accountId: string;
}

export interface LocalRuntime {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly model: AccountsModel;
  readonly accounts: LocalAccounts;
  readonly audit: AuditLog;
  /** caller-admin, callee-admin, caller-function, callee-function, outsider. */
  profiles(): NamedCredentials[];
  /** Issues new function-role sessions (the admins' and outsider's keys do not expire) and returns all profiles. */
  renewSessions(): NamedCredentials[];
  credentials(profile: string): NamedCredentials;
  destinations(arn: string): readonly DestinationRecord[];
  undelivered(): readonly UndeliveredRecord[];
  /** Requests served, by action ("sts:AssumeRole", "lambda:InvokeFunction", ...), including refused ones. */
  requestCounts(): Record<string, number>;
  poolStats(): Record<string, ReturnType<FunctionPool["stats"]>>;
  /** Resolves when every Event invocation has finished or reached its destination. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

export class LocalRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalRuntimeError";
  }
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { model } = options;
  const host = options.host ?? "127.0.0.1";
  const region = singleRegion(model);
  const accounts = new LocalAccounts(model, options.organizationId !== undefined ? { organizationId: options.organizationId } : {});
  await checkExecutionRoles(accounts);
  const audit = new AuditLog();
  const counts: Record<string, number> = {};
  const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);

  const pools = new Map<string, FunctionPool>();
  const sts = new StsService(accounts, audit, options.stsHooks);
  const lambda = new LambdaService(accounts, pools, audit, { asyncRetryDelayMs: options.asyncRetryDelayMs ?? 200 }, options.lambdaHooks);

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      // A bug here must not leave the client hanging.
      if (!res.headersSent) writeWire(res, lambdaErrorResponse({ code: "ServiceException", status: 500, message: `local runtime error: ${(err as Error).message}` }, newRequestId()));
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const rawUrl = req.url ?? "/";
    const isLambda = INVOKE_PATH.test(rawUrl);
    const errorAs = (service: "sts" | "lambda", e: { code: string; status: number; message: string }) =>
      service === "lambda" ? lambdaErrorResponse(e, requestId) : stsErrorResponse({ ...e, type: "Sender" }, requestId);

    const body = await readBody(req);
    if (body === "too-large") {
      return writeWire(res, lambdaErrorResponse({ code: "RequestEntityTooLargeException", status: 413, message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation" }, requestId));
    }
    if (req.method === "GET" && rawUrl === "/_local/health") {
      return writeWire(res, { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ ok: true, endpoint: runtime.endpoint }) });
    }
    const verified = await verifySigV4({ method: req.method ?? "GET", rawUrl, headers: req.headers, body }, (keyId) => accounts.credentials.lookup(keyId));
    if (!verified.ok) {
      count(`refused:${verified.reason}`);
      const service = isLambda ? "lambda" : "sts";
      return writeWire(res, errorAs(service, errorCodeFor(service, verified.reason, verified.message)));
    }
    // The credential scope must name this endpoint's region and the service the path belongs to, as AWS checks.
    const routeService = isLambda ? "lambda" : "sts";
    if (verified.region !== region) {
      return writeWire(res, errorAs(routeService, errorCodeFor(routeService, "SignatureDoesNotMatch", `Credential should be scoped to a valid region, not '${verified.region}'. This endpoint serves '${region}'.`)));
    }
    if (verified.service !== routeService) {
      return writeWire(res, errorAs(routeService, errorCodeFor(routeService, "SignatureDoesNotMatch", `Credential should be scoped to correct service: '${routeService}'. `)));
    }
    const principal: Principal | undefined = accounts.credentials.lookup(verified.accessKeyId)?.principal;
    if (!principal) return writeWire(res, errorAs(isLambda ? "lambda" : "sts", errorCodeFor(isLambda ? "lambda" : "sts", "UnknownAccessKey")));

    if (verified.service === "lambda" && isLambda && req.method === "POST") {
      count("lambda:InvokeFunction");
      const parsed = parseInvokeRequest({ method: req.method, rawUrl, headers: req.headers, body });
      if (!parsed.ok) return writeWire(res, lambdaErrorResponse(parsed.error, requestId));
      return writeWire(res, await lambda.handle({ caller: principal, region: verified.region, invoke: parsed.value, requestId }));
    }
    if (verified.service === "sts" && (req.method === "POST" || req.method === "GET") && rawUrl.split("?")[0] === "/") {
      // awsQuery also arrives as a GET with the parameters in the query string (e.g. presigned GetCallerIdentity).
      const parsed = req.method === "GET" ? parseStsRequest(Buffer.from(rawUrl.split("?")[1] ?? ""), {}) : parseStsRequest(body, req.headers);
      if (!parsed.ok) return writeWire(res, stsErrorResponse({ ...parsed.error, type: "Sender" }, requestId));
      count(`sts:${parsed.value.action}`);
      return writeWire(res, await sts.handle({ caller: principal, region: verified.region, action: parsed.value.action, params: parsed.value.params, requestId }));
    }
    count("unknown-operation");
    const message = `The local runtime models only STS AssumeRole and GetCallerIdentity and Lambda Invoke; ${req.method} ${rawUrl.split("?")[0]} signed for '${verified.service}' is not one of them.`;
    return writeWire(res, isLambda || verified.service === "lambda" ? lambdaErrorResponse({ code: "UnknownOperationException", status: 404, message }, requestId) : stsErrorResponse({ code: "InvalidAction", status: 400, message, type: "Sender" }, requestId));
  }

  const port = await listen(server, host, options.port ?? 0);
  const endpoint = `http://${host}:${port}`;

  // Lambda gives each execution environment credentials of the function's execution role.
  try {
    for (const fn of model.functions.values()) {
      const role = accounts.role(fn.roleArn);
      if (!role) throw new LocalRuntimeError(`function ${fn.name}: execution role ${fn.roleArn} is not in the stacks`);
      pools.set(
        fn.arn,
        new FunctionPool(poolSpec(fn), {
          endpointUrl: endpoint,
          cacheDir: options.cacheDir,
          credentialsFor: async () => {
            const { credentials } = accounts.startSession(role, fn.name, role.maxSessionDurationSeconds, false);
            return credentials;
          },
          ...(options.onFunctionLog ? { onLog: options.onFunctionLog } : {}),
        }),
      );
    }
  } catch (err) {
    // Nothing may stay listening after a failed start.
    server.close();
    throw err instanceof LocalRuntimeError ? err : new LocalRuntimeError((err as Error).message);
  }

  const profileCredentials = new Map<string, NamedCredentials>();
  const profileNameFor = (fn: FunctionModel) => fn.source.stack;
  // Function profiles are role sessions: they expire like Lambda's, and renewSessions() replaces them.
  const issueFunctionSessions = () => {
    for (const fn of model.functions.values()) {
      const role = accounts.role(fn.roleArn);
      if (!role) continue;
      const { principal, credentials } = accounts.startSession(role, fn.name, role.maxSessionDurationSeconds, false);
      profileCredentials.set(`${profileNameFor(fn)}-function`, { profile: `${profileNameFor(fn)}-function`, ...credentials, principalArn: principal.arn, accountId: fn.accountId });
    }
  };
  for (const fn of model.functions.values()) {
    const admin = accounts.admins.get(fn.accountId);
    if (admin) profileCredentials.set(`${profileNameFor(fn)}-admin`, { profile: `${profileNameFor(fn)}-admin`, ...admin.credentials, principalArn: admin.principal.arn, accountId: fn.accountId });
  }
  issueFunctionSessions();
  profileCredentials.set("outsider", { profile: "outsider", ...accounts.outsider.credentials, principalArn: accounts.outsider.principal.arn, accountId: accounts.outsider.principal.accountId });

  let stopped: Promise<void> | undefined;
  const runtime: LocalRuntime = {
    endpoint,
    port,
    region,
    model,
    accounts,
    audit,
    profiles: () => [...profileCredentials.values()],
    renewSessions: () => {
      issueFunctionSessions();
      return [...profileCredentials.values()];
    },
    credentials: (profile) => {
      const c = profileCredentials.get(profile);
      if (!c) throw new LocalRuntimeError(`no local profile '${profile}': the profiles are ${[...profileCredentials.keys()].join(", ")}`);
      return c;
    },
    destinations: (arn) => lambda.async.destinations.get(arn) ?? [],
    undelivered: () => lambda.async.undelivered,
    requestCounts: () => ({ ...counts }),
    poolStats: () => Object.fromEntries([...pools].map(([arn, pool]) => [arn, pool.stats()])),
    whenIdle: () => lambda.async.whenIdle(),
    stop: () =>
      (stopped ??= (async () => {
        lambda.async.close();
        server.closeAllConnections();
        await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ...[...pools.values()].map((p) => p.close())]);
      })()),
  };
  return runtime;
}

function poolSpec(fn: FunctionModel) {
  return {
    name: fn.name,
    arn: fn.arn,
    region: fn.region,
    accountId: fn.accountId,
    handler: fn.handler,
    runtime: fn.runtime,
    timeoutSeconds: fn.timeoutSeconds,
    memorySizeMb: fn.memorySizeMb,
    ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: fn.reservedConcurrency } : {}),
    environment: { ...fn.environment, ...loggingVariables(fn) },
    logGroupName: fn.logGroupName,
    zipPath: path.resolve(fn.zipPath),
    ...(fn.zipSha256 !== undefined ? { zipSha256: fn.zipSha256 } : {}),
  };
}

/** Lambda tells the runtime about JSON logging through these variables (Powertools reads the level). */
function loggingVariables(fn: FunctionModel): Record<string, string> {
  if (fn.logFormat.toUpperCase() !== "JSON") return {};
  return { AWS_LAMBDA_LOG_FORMAT: "JSON", ...(fn.applicationLogLevel !== undefined ? { AWS_LAMBDA_LOG_LEVEL: fn.applicationLogLevel } : {}) };
}

/** One endpoint serves one region, as a regional AWS endpoint does. */
function singleRegion(model: AccountsModel): string {
  const regions = new Set([...model.functions.values()].map((f) => f.region));
  if (regions.size !== 1) {
    throw new LocalRuntimeError(`the local runtime serves one region, but the functions are in ${regions.size === 0 ? "none" : [...regions].join(", ")}`);
  }
  return [...regions][0];
}

/** Lambda refuses to create a function whose role it cannot assume; so does the runtime, at start. */
async function checkExecutionRoles(accounts: LocalAccounts): Promise<void> {
  for (const fn of accounts.model.functions.values()) {
    const role = accounts.role(fn.roleArn);
    if (!role) throw new LocalRuntimeError(`function ${fn.name}: execution role ${fn.roleArn} is not in the stacks`);
    const decision = await accounts.authorizer.authorize({
      principal: { kind: "service", service: "lambda.amazonaws.com", sourceAccount: fn.accountId, sourceArn: fn.arn },
      action: "sts:AssumeRole",
      resourceArn: role.arn,
      resourceAccountId: role.accountId,
      region: fn.region,
      resourcePolicy: role.trustPolicy,
    });
    if (!decision.allowed) {
      throw new LocalRuntimeError(`function ${fn.name}: the role defined for the function cannot be assumed by Lambda (${role.arn}: ${decision.deniedBy.join("; ")}); fix the role's trust policy`);
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      if (err.code === "EADDRINUSE") reject(new LocalRuntimeError(`port ${port} on ${host} is already in use: stop the process using it, or choose another port (--port 0 picks a free one)`));
      else if (err.code === "EACCES") reject(new LocalRuntimeError(`port ${port} on ${host} needs privileges this user lacks: choose a port above 1023`));
      else reject(new LocalRuntimeError(`cannot listen on ${host}:${port}: ${err.message}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      resolve("too-large");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function writeWire(res: ServerResponse, response: WireResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}
