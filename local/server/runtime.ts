/**
 * The local two-account runtime: one HTTP endpoint on 127.0.0.1 that speaks STS and Lambda's
 * wire protocols, verifies every SigV4 signature, authorizes with the stacks' own policies, and
 * runs the deployed bundles.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { DEFAULT_ACCOUNT_CONCURRENCY, FunctionPool, MINIMUM_UNRESERVED_CONCURRENCY, UnreservedConcurrency } from "../exec/function-pool";
import type { IssuedCredentials, Principal } from "../../core/iam/principals";
import type { AccountsModel, FunctionModel } from "../../core/model/types";
import { errorResponseIn } from "../services/error-wire";
import { iamErrorResponse, isServedIamAction, parseIamRequest } from "../services/iam/wire";
import { isServedKmsOperation, kmsErrorResponse, kmsTargetOperation, parseKmsRequest } from "../services/kms/wire";
import { matchFunctionRead } from "../services/lambda/read-wire";
import { lambdaErrorResponse } from "../services/lambda/errors";
import { parseInvokeRequest } from "../services/lambda/wire";
import { headerValue } from "../wire/headers";
import { newRequestId, RESET_CONNECTION, writeWire, type WireResponse } from "../wire/response";
import { matchGetBucketPolicy, s3ErrorResponse } from "../services/s3/wire";
import {
  claimedSigningService,
  errorCodeFor,
  globalSigningRegion,
  SIGNING_SERVICES,
  verifySigV4,
  type SigningService,
} from "../wire/sigv4";
import { parseStsRequest, stsErrorResponse } from "../services/sts/wire";
import { LocalAccounts } from "./accounts";
import { AuditLog } from "./audit";
import { IamService } from "../services/iam/service";
import { KmsService } from "../services/kms/service";
import { LambdaReadService } from "../services/lambda/read-service";
import { faultHooks, type FaultPlan } from "./faults";
import { LambdaService, type LambdaHooks } from "../services/lambda/service";
import { S3Service } from "../services/s3/service";
import { StsService, type StsHooks } from "../services/sts/service";
import type { DestinationRecord, UndeliveredRecord } from "../services/lambda/async-invoker";
import { UserFacingError } from "../../config/user-facing-error";

/** Lambda's synchronous payload limit; anything larger is refused before it is read. */
const MAX_BODY_BYTES = 6 * 1024 * 1024 + 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;
const LAMBDA_PATH = /^\/2015-03-31\/functions(?:\/|\?|$)/;
const SERVED_OPERATIONS =
  "STS AssumeRole and GetCallerIdentity; IAM GetRole, ListRolePolicies, GetRolePolicy, ListAttachedRolePolicies, GetPolicy and GetPolicyVersion; " +
  "Lambda Invoke, GetPolicy and GetFunctionConfiguration; KMS DescribeKey and GetKeyPolicy; S3 GetBucketPolicy";

/** A verified request, handed to the routes of the service its scope names. */
interface RoutedCall {
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
  readonly principal: Principal;
  readonly region: string;
  readonly requestId: string;
}

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
  /** Fault injection (off by default; see faults.ts). Builds the hooks, so not together with stsHooks/lambdaHooks. */
  readonly faults?: FaultPlan;
  /**
   * Each account's concurrent-executions quota in the region (AWS's default: 1000; a new account
   * may have 10). Its functions without reserved concurrency share what their reservations leave.
   * Default DEFAULT_ACCOUNT_CONCURRENCY.
   */
  readonly accountConcurrency?: number;
}

/** One account's concurrency: its quota, what its functions reserve, and the unreserved rest shared by the others. */
export interface AccountConcurrencyStats {
  readonly accountConcurrency: number;
  readonly reserved: number;
  readonly unreserved: number;
  /** Invocations of unreserved functions in flight now. */
  readonly unreservedInUse: number;
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
  /** Event invocations ever queued, succeeded and failed, and destination records ever delivered (by ARN) or not: for counting a long run. */
  asyncStats(): { queued: number; succeeded: number; failed: number; delivered: Record<string, number>; undelivered: number };
  /** Requests served, by action ("sts:AssumeRole", "lambda:InvokeFunction", ...), including refused ones. */
  requestCounts(): Record<string, number>;
  poolStats(): Record<string, ReturnType<FunctionPool["stats"]>>;
  /** By account id, every account that has a function. */
  concurrencyStats(): Record<string, AccountConcurrencyStats>;
  /** Resolves when every Event invocation has finished or reached its destination. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

export class LocalRuntimeError extends UserFacingError {
  readonly code = "LOCAL_RUNTIME_REFUSED";

  constructor(message: string) {
    super(message);
  }
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { model } = options;
  const host = options.host ?? "127.0.0.1";
  const region = singleRegion(model);
  const unreserved = unreservedConcurrency(model, options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY);
  const accounts = new LocalAccounts(model, options.organizationId !== undefined ? { organizationId: options.organizationId } : {});
  await checkExecutionRoles(accounts);
  const audit = new AuditLog();
  const counts: Record<string, number> = {};
  const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);

  const { stsHooks, lambdaHooks } = hooksOf(options);
  const pools = new Map<string, FunctionPool>();
  // The model does not know when the stacks were applied: the runtime's start stands in for every creation date.
  const deployedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const sts = new StsService(accounts, audit, stsHooks);
  const iam = new IamService(accounts, audit, deployedAt);
  const lambda = new LambdaService(accounts, pools, audit, { asyncRetryDelayMs: options.asyncRetryDelayMs ?? 200 }, lambdaHooks);
  const lambdaReads = new LambdaReadService(accounts, audit, deployedAt);
  const kms = new KmsService(accounts, audit, deployedAt);
  const s3 = new S3Service(accounts, audit);

  const server = createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      // A bug here must not leave the client hanging.
      if (!res.headersSent)
        writeWire(
          res,
          lambdaErrorResponse(
            { code: "ServiceException", status: 500, message: `local runtime error: ${(err as Error).message}` },
            newRequestId(),
          ),
        );
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const rawUrl = req.url ?? "/";
    const method = req.method ?? "GET";
    const shapedFor = serviceByShape(rawUrl, req.headers);

    const body = await readBody(req);
    if (body === "too-large") {
      return writeWire(
        res,
        lambdaErrorResponse(
          {
            code: "RequestEntityTooLargeException",
            status: 413,
            message: "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
          },
          requestId,
        ),
      );
    }
    if (method === "GET" && rawUrl === "/_local/health") {
      return writeWire(res, {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ok: true, endpoint: runtime.endpoint }),
      });
    }
    const verified = await verifySigV4({ method, rawUrl, headers: req.headers, body }, (keyId) => accounts.credentials.lookup(keyId));
    if (!verified.ok) {
      count(`refused:${verified.reason}`);
      // Nothing is verified yet: the scope the client claims (else the request's shape) picks the protocol of the answer.
      const service = claimedSigningService({ rawUrl, headers: req.headers }) ?? shapedFor ?? "sts";
      return writeWire(res, errorResponseIn(service, errorCodeFor(service, verified.reason, verified.message), requestId));
    }
    // One endpoint serves every service, so the signed scope names the one the client meant. Where the
    // request's shape names one too (Lambda's paths, KMS's target), they must agree, as AWS's endpoints check.
    const service =
      isSigningService(verified.service) && (shapedFor === undefined || shapedFor === verified.service) ? verified.service : undefined;
    if (service === undefined) {
      const answerIn = shapedFor ?? "sts";
      return writeWire(
        res,
        errorResponseIn(
          answerIn,
          errorCodeFor(answerIn, "SignatureDoesNotMatch", `Credential should be scoped to correct service: '${answerIn}'. `),
          requestId,
        ),
      );
    }
    // IAM is global: it is signed for the partition's signing region; the others for this endpoint's region.
    const expectedRegion = service === "iam" ? globalSigningRegion(model.partition) : region;
    if (verified.region !== expectedRegion) return writeWire(res, wrongRegion(service, verified.region, expectedRegion, requestId));
    const principal: Principal | undefined = accounts.credentials.lookup(verified.accessKeyId)?.principal;
    if (!principal) return writeWire(res, errorResponseIn(service, errorCodeFor(service, "UnknownAccessKey"), requestId));

    const call = { method, rawUrl, headers: req.headers, body, principal, region: verified.region, requestId };
    const served = await routes[service](call);
    if (served === RESET_CONNECTION) {
      // An injected fault: no answer at all, a TCP RST, as when a network path drops the connection.
      req.socket.resetAndDestroy();
      return;
    }
    if (served) return writeWire(res, served);
    count("unknown-operation");
    return writeWire(res, unknownOperation(service, method, rawUrl, requestId));
  }

  /** Each service's operations; undefined when the request is none of them. */
  const routes: Record<SigningService, (call: RoutedCall) => Promise<WireResponse | typeof RESET_CONNECTION | undefined>> = {
    sts: async (call) => {
      if ((call.method !== "POST" && call.method !== "GET") || call.rawUrl.split("?")[0] !== "/") return undefined;
      // awsQuery also arrives as a GET with the parameters in the query string (e.g. presigned GetCallerIdentity).
      const parsed =
        call.method === "GET"
          ? parseStsRequest(Buffer.from(call.rawUrl.split("?")[1] ?? ""), {})
          : parseStsRequest(call.body, call.headers);
      if (!parsed.ok) return stsErrorResponse({ ...parsed.error, type: "Sender" }, call.requestId);
      count(`sts:${parsed.value.action}`);
      return sts.handle({
        caller: call.principal,
        region: call.region,
        action: parsed.value.action,
        params: parsed.value.params,
        requestId: call.requestId,
      });
    },
    iam: async (call) => {
      if ((call.method !== "POST" && call.method !== "GET") || call.rawUrl.split("?")[0] !== "/") return undefined;
      const parsed =
        call.method === "GET"
          ? parseIamRequest(call.rawUrl.split("?")[1] ?? "", undefined)
          : parseIamRequest(call.body.toString("utf8"), headerValue(call.headers, "content-type"));
      if (!parsed.ok) return iamErrorResponse(parsed.error, call.requestId);
      count(isServedIamAction(parsed.value.action) ? `iam:${parsed.value.action}` : "unknown-operation");
      return iam.handle({
        caller: call.principal,
        region: call.region,
        action: parsed.value.action,
        params: parsed.value.params,
        requestId: call.requestId,
      });
    },
    lambda: async (call) => {
      if (call.method === "POST" && INVOKE_PATH.test(call.rawUrl)) {
        count("lambda:InvokeFunction");
        const parsed = parseInvokeRequest({ method: call.method, rawUrl: call.rawUrl, headers: call.headers, body: call.body });
        if (!parsed.ok) return lambdaErrorResponse(parsed.error, call.requestId);
        return lambda.handle({ caller: call.principal, region: call.region, invoke: parsed.value, requestId: call.requestId });
      }
      const read = matchFunctionRead(call.method, call.rawUrl);
      if (!read) return undefined;
      count(`lambda:${read.operation}`);
      return lambdaReads.handle({ caller: call.principal, region: call.region, read, requestId: call.requestId });
    },
    kms: async (call) => {
      if (call.method !== "POST" || call.rawUrl.split("?")[0] !== "/") return undefined;
      const parsed = parseKmsRequest(headerValue(call.headers, "x-amz-target"), call.body);
      if (!parsed.ok) return kmsErrorResponse(parsed.error, call.requestId);
      count(isServedKmsOperation(parsed.value.operation) ? `kms:${parsed.value.operation}` : "unknown-operation");
      return kms.handle({
        caller: call.principal,
        region: call.region,
        operation: parsed.value.operation,
        input: parsed.value.input,
        requestId: call.requestId,
      });
    },
    s3: async (call) => {
      const request = matchGetBucketPolicy(call.method, call.rawUrl);
      if (!request) return undefined;
      count("s3:GetBucketPolicy");
      return s3.getBucketPolicy({ caller: call.principal, region: call.region, bucket: request.bucket, requestId: call.requestId });
    },
  };

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
          unreservedConcurrency: unreserved.get(fn.accountId)!,
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
      profileCredentials.set(`${profileNameFor(fn)}-function`, {
        profile: `${profileNameFor(fn)}-function`,
        ...credentials,
        principalArn: principal.arn,
        accountId: fn.accountId,
      });
    }
  };
  for (const fn of model.functions.values()) {
    const admin = accounts.admins.get(fn.accountId);
    if (admin)
      profileCredentials.set(`${profileNameFor(fn)}-admin`, {
        profile: `${profileNameFor(fn)}-admin`,
        ...admin.credentials,
        principalArn: admin.principal.arn,
        accountId: fn.accountId,
      });
  }
  issueFunctionSessions();
  profileCredentials.set("outsider", {
    profile: "outsider",
    ...accounts.outsider.credentials,
    principalArn: accounts.outsider.principal.arn,
    accountId: accounts.outsider.principal.accountId,
  });

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
    asyncStats: () => ({ ...lambda.async.counts, delivered: Object.fromEntries(lambda.async.delivered) }),
    requestCounts: () => ({ ...counts }),
    poolStats: () => Object.fromEntries([...pools].map(([arn, pool]) => [arn, pool.stats()])),
    concurrencyStats: () =>
      Object.fromEntries(
        [...unreserved].map(([accountId, shared]) => [
          accountId,
          {
            accountConcurrency: options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY,
            reserved: reservedIn(model, accountId),
            unreserved: shared.limit,
            unreservedInUse: shared.inUse,
          },
        ]),
      ),
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

/** The hooks given, or the ones a fault plan builds; never both, so a test cannot half-override a plan. */
function hooksOf(options: LocalRuntimeOptions): { stsHooks?: StsHooks; lambdaHooks?: LambdaHooks } {
  if (options.faults === undefined || options.faults.length === 0) {
    return {
      ...(options.stsHooks ? { stsHooks: options.stsHooks } : {}),
      ...(options.lambdaHooks ? { lambdaHooks: options.lambdaHooks } : {}),
    };
  }
  if (options.stsHooks || options.lambdaHooks)
    throw new LocalRuntimeError("give either faults or stsHooks/lambdaHooks, not both: a fault plan builds the hooks");
  try {
    return faultHooks(options.faults, options.model);
  } catch (err) {
    throw new LocalRuntimeError((err as Error).message);
  }
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
  return {
    AWS_LAMBDA_LOG_FORMAT: "JSON",
    ...(fn.applicationLogLevel !== undefined ? { AWS_LAMBDA_LOG_LEVEL: fn.applicationLogLevel } : {}),
  };
}

/** What the functions of one account reserve in all. */
function reservedIn(model: AccountsModel, accountId: string): number {
  return [...model.functions.values()].filter((f) => f.accountId === accountId).reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
}

/**
 * Each account's unreserved concurrency (the quota minus its functions' reservations), shared by
 * its functions without a reservation. The runtime serves one region, so per account is per
 * account and region, as AWS's quota is. Refuses, as Lambda does, reservations that leave less
 * than the minimum unreserved.
 */
function unreservedConcurrency(model: AccountsModel, accountConcurrency: number): Map<string, UnreservedConcurrency> {
  if (!(Number.isSafeInteger(accountConcurrency) && accountConcurrency > 0)) {
    throw new LocalRuntimeError(
      `accountConcurrency must be a positive integer (AWS's default quota is ${DEFAULT_ACCOUNT_CONCURRENCY}), got ${accountConcurrency}`,
    );
  }
  const byAccount = new Map<string, FunctionModel[]>();
  for (const fn of model.functions.values()) {
    const reserved = fn.reservedConcurrency;
    if (reserved !== undefined && !(Number.isSafeInteger(reserved) && reserved >= 0)) {
      throw new LocalRuntimeError(`Function ${fn.name}: reservedConcurrency must be a non-negative integer, got ${reserved}`);
    }
    byAccount.set(fn.accountId, [...(byAccount.get(fn.accountId) ?? []), fn]);
  }
  const shared = new Map<string, UnreservedConcurrency>();
  for (const [accountId, functions] of byAccount) {
    const total = reservedIn(model, accountId);
    // AWS Lambda API reference, PutFunctionConcurrency (InvalidParameterValueException), and https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: 100 stay unreserved (all of a quota below 100).
    const minimum = Math.min(MINIMUM_UNRESERVED_CONCURRENCY, accountConcurrency);
    let left = accountConcurrency;
    for (const fn of functions) {
      if (!fn.reservedConcurrency) continue;
      left -= fn.reservedConcurrency;
      if (left >= minimum) continue;
      const reservations = functions
        .filter((f) => f.reservedConcurrency)
        .map((f) => `${f.name} ${f.reservedConcurrency}`)
        .join(", ");
      throw new LocalRuntimeError(
        `function ${fn.name} in account ${accountId}: Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimum}]. ` +
          `With an account concurrency of ${accountConcurrency}, the reservations in account ${accountId} (${reservations}; ${total} in all) ${total > accountConcurrency ? `exceed it by ${total - accountConcurrency}` : `leave ${accountConcurrency - total} unreserved`}. ` +
          `Lower the function's reserved concurrency (reserved_concurrent_executions), or pass a larger --account-concurrency (accountConcurrency) of at least ${total + MINIMUM_UNRESERVED_CONCURRENCY}.`,
      );
    }
    shared.set(accountId, new UnreservedConcurrency(accountId, accountConcurrency - total));
  }
  return shared;
}

/** One endpoint serves one region, as a regional AWS endpoint does. */
function singleRegion(model: AccountsModel): string {
  const regions = new Set([...model.functions.values()].map((f) => f.region));
  if (regions.size !== 1) {
    throw new LocalRuntimeError(
      `the local runtime serves one region, but the functions are in ${regions.size === 0 ? "none" : [...regions].join(", ")}`,
    );
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
      throw new LocalRuntimeError(
        `function ${fn.name}: the role defined for the function cannot be assumed by Lambda (${role.arn}: ${decision.deniedBy.join("; ")}); fix the role's trust policy`,
      );
    }
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      if (err.code === "EADDRINUSE")
        reject(
          new LocalRuntimeError(
            `port ${port} on ${host} is already in use: stop the process using it, or choose another port (--port 0 picks a free one)`,
          ),
        );
      else if (err.code === "EACCES")
        reject(new LocalRuntimeError(`port ${port} on ${host} needs privileges this user lacks: choose a port above 1023`));
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

function isSigningService(service: string): service is SigningService {
  return (SIGNING_SERVICES as readonly string[]).includes(service);
}

/** The service a request's shape alone names (path or target header), where it names one. */
function serviceByShape(rawUrl: string, headers: IncomingMessage["headers"]): SigningService | undefined {
  if (LAMBDA_PATH.test(rawUrl)) return "lambda";
  if (kmsTargetOperation(headerValue(headers, "x-amz-target")) !== undefined) return "kms";
  return undefined;
}

/** AWS's answer to a credential scope for another region than the service signs for. */
function wrongRegion(service: SigningService, scoped: string, expected: string, requestId: string): WireResponse {
  if (service === "s3") {
    return s3ErrorResponse(
      {
        code: "AuthorizationHeaderMalformed",
        status: 400,
        message: `The authorization header is malformed; the region '${scoped}' is wrong; expecting '${expected}'`,
        fields: { Region: expected },
      },
      requestId,
    );
  }
  // Not confirmed against AWS for IAM: the second sentence is the runtime's own.
  const message =
    service === "iam"
      ? `Credential should be scoped to a valid region, not '${scoped}'. IAM is signed for the partition's global region '${expected}'.`
      : `Credential should be scoped to a valid region, not '${scoped}'. This endpoint serves '${expected}'.`;
  return errorResponseIn(service, errorCodeFor(service, "SignatureDoesNotMatch", message), requestId);
}

/** An operation the runtime does not model, answered as each service answers an unknown one. */
function unknownOperation(service: SigningService, method: string, rawUrl: string, requestId: string): WireResponse {
  const message = `The local runtime models only ${SERVED_OPERATIONS}; ${method} ${rawUrl.split("?")[0]} signed for '${service}' is not one of them.`;
  switch (service) {
    case "lambda":
      return lambdaErrorResponse({ code: "UnknownOperationException", status: 404, message }, requestId);
    case "kms":
      return kmsErrorResponse({ code: "UnknownOperationException", status: 400, message }, requestId);
    case "s3":
      return s3ErrorResponse({ code: "NotImplemented", status: 501, message }, requestId);
    default:
      return errorResponseIn(service, { code: "InvalidAction", status: 400, message }, requestId);
  }
}
