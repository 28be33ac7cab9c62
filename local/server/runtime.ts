/**
 * The local two-account runtime: one HTTP endpoint on 127.0.0.1 that speaks the wire protocols of
 * the services in the registry (STS, IAM, Lambda, KMS, S3, DynamoDB), verifies every SigV4 signature,
 * authorizes with the stacks' own policies, and runs the deployed bundles. DynamoDB's tables live in a
 * moto server behind it, started only when the stacks have a table.
 */
import type { Server } from "http";
import { DEFAULT_ACCOUNT_CONCURRENCY, type FunctionPool, type UnreservedConcurrency } from "../exec/function-pool";
import { FunctionVersions, type VersionChanges } from "../services/lambda/versions";
import type { AccountsModel } from "../../core/model/types";
import type { Principal } from "../../core/iam/principals";
import type { Route, ServiceContext, ServiceDefinition, ServiceHooks } from "../services/definition";
import { startDynamoDbBackend } from "../services/dynamodb/backend";
import type { MotoServer } from "../services/dynamodb/moto-process";
import { AsyncInvoker, type DestinationRecord, type UndeliveredRecord } from "../services/lambda/async-invoker";
import type { LambdaHooks } from "../services/lambda/service";
import { SERVICES } from "../services/registry";
import type { StsHooks } from "../services/sts/service";
import { LocalAccounts } from "./accounts";
import { AuditLog } from "./audit";
import { concurrencyStats, unreservedConcurrency, type AccountConcurrencyStats } from "./concurrency";
import { createEndpoint } from "./endpoint";
import { faultHooks, type FaultPlan } from "./faults";
import { listen } from "./http";
import { NamedProfiles, type NamedCredentials } from "./named-profiles";
import { requestNetwork } from "./network";
import { checkExecutionRoles, startFunctionVersions } from "./pools";
import { LocalRuntimeError } from "./runtime-error";
import type { Result } from "../wire/result";

export { LocalRuntimeError };
export type { AccountConcurrencyStats, NamedCredentials, VersionChanges };

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

export interface LocalRuntime {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly model: AccountsModel;
  readonly accounts: LocalAccounts;
  readonly audit: AuditLog;
  /** The moto server DynamoDB's requests are forwarded to once authorized; undefined when the model has no table. */
  readonly dynamodbBackend?: { readonly url: string; readonly token: string; readonly port: number; readonly pid: number };
  /** `<stack>-admin` and `<stack>-function` for each stack with a function (caller-admin, callee-function, ...), and outsider. */
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
  /** Each version's execution environments: by function ARN for $LATEST, by version ARN (`<arn>:1`) for a published version. */
  poolStats(): Record<string, ReturnType<FunctionPool["stats"]>>;
  /**
   * Publishes a version of a function, as UpdateFunctionConfiguration with `changes` and then PublishVersion would:
   * $LATEST takes the changes, and the new version keeps that code and configuration with environments of its own.
   * Returns its number (the last one's when nothing changed since it, as Lambda does).
   */
  publishVersion(functionArn: string, changes?: VersionChanges): string;
  /** Points an alias at a published version (or $LATEST): new invocations through it run there, those in flight finish where they are. */
  updateAlias(functionArn: string, alias: string, version: string): void;
  /** A function's published versions, and where each alias points now. */
  versions(functionArn: string): { versions: string[]; aliases: Record<string, string> };
  /** By account id, every account that has a function. */
  concurrencyStats(): Record<string, AccountConcurrencyStats>;
  /** Resolves when every Event invocation has finished or reached its destination. */
  whenIdle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the runtime: the accounts and their checks, moto when there is a table, the services of the registry, the endpoint
 * they share, the functions' execution environments (which need the endpoint's URL), the profiles.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const { model } = options;
  const region = singleRegion(model);
  const accountConcurrency = options.accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY;
  const unreserved = unreservedConcurrency(model, accountConcurrency);
  const accounts = new LocalAccounts(model, options.organizationId !== undefined ? { organizationId: options.organizationId } : {});
  await checkExecutionRoles(accounts);
  const hooks = hooksOf(options);
  // Python only when there is a table to serve: the default stacks have none.
  const moto = model.tables.size > 0 ? await startDynamoDbBackend(model.tables.values()) : undefined;
  try {
    return await serve(options, { region, accountConcurrency, unreserved, accounts, hooks, moto });
  } catch (err) {
    // No process may outlive a failed start.
    await moto?.stop();
    throw err;
  }
}

/** The services, the endpoint and the functions' environments, once the accounts are checked and moto (if any) runs. */
async function serve(
  options: LocalRuntimeOptions,
  started: {
    region: string;
    accountConcurrency: number;
    unreserved: ReadonlyMap<string, UnreservedConcurrency>;
    accounts: LocalAccounts;
    hooks: ServiceHooks;
    moto: MotoServer | undefined;
  },
): Promise<LocalRuntime> {
  const { model } = options;
  const { region, accountConcurrency, unreserved, accounts, moto } = started;
  const host = options.host ?? "127.0.0.1";
  const audit = new AuditLog();
  const counts: Record<string, number> = {};
  const count = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  const functions = new FunctionVersions();
  const asyncInvocations = new AsyncInvoker(accounts, functions, audit, { retryDelayMs: options.asyncRetryDelayMs ?? 200 });
  const routes = startServices({
    accounts,
    audit,
    // The model does not know when the stacks were applied: the runtime's start stands in for every creation date.
    deployedAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    functions,
    asyncInvocations,
    hooks: started.hooks,
    count,
    ...(moto !== undefined ? { dynamodb: { url: moto.url, token: moto.token } } : {}),
  });

  let endpoint = "";
  const lookupKey = (keyId: string) => accounts.credentials.lookup(keyId);
  const networkOf = (principal: Principal, signingName: string) => requestNetwork(model, accounts.vpcOf(principal), signingName, region);
  const server = createEndpoint({ partition: model.partition, region, lookupKey, networkOf, routes, count, url: () => endpoint });
  const port = await listen(server, host, options.port ?? 0);
  endpoint = `http://${host}:${port}`;
  try {
    startFunctionVersions(functions, accounts, {
      endpointUrl: endpoint,
      cacheDir: options.cacheDir,
      unreserved,
      onFunctionLog: options.onFunctionLog,
    });
  } catch (err) {
    // Nothing may stay listening after a failed start.
    server.close();
    throw err instanceof LocalRuntimeError ? err : new LocalRuntimeError((err as Error).message);
  }
  const parts = {
    endpoint,
    port,
    region,
    model,
    accounts,
    audit,
    counts,
    functions,
    unreserved,
    accountConcurrency,
    asyncInvocations,
    server,
    moto,
  };
  return runtimeOf({ ...parts, profiles: new NamedProfiles(accounts) });
}

/** What a started runtime is made of. */
interface RuntimeParts {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly model: AccountsModel;
  readonly accounts: LocalAccounts;
  readonly audit: AuditLog;
  readonly profiles: NamedProfiles;
  readonly counts: Readonly<Record<string, number>>;
  readonly functions: FunctionVersions;
  readonly unreserved: ReadonlyMap<string, UnreservedConcurrency>;
  readonly accountConcurrency: number;
  readonly asyncInvocations: AsyncInvoker;
  readonly server: Server;
  readonly moto: MotoServer | undefined;
}

/** The runtime's interface over its parts; stopping it closes the endpoint, the async queue, every function process and moto. */
function runtimeOf(parts: RuntimeParts): LocalRuntime {
  const { profiles, asyncInvocations, functions, server, moto } = parts;
  const succeeded = <T>(result: Result<T, { message: string }>): T => {
    if (!result.ok) throw new LocalRuntimeError(result.error.message);
    return result.value;
  };
  let stopped: Promise<void> | undefined;
  return {
    endpoint: parts.endpoint,
    port: parts.port,
    region: parts.region,
    model: parts.model,
    accounts: parts.accounts,
    audit: parts.audit,
    ...(moto !== undefined ? { dynamodbBackend: { url: moto.url, token: moto.token, port: moto.port, pid: moto.pid } } : {}),
    profiles: () => profiles.all(),
    renewSessions: () => {
      profiles.renewSessions();
      return profiles.all();
    },
    credentials: (profile) => profiles.get(profile),
    destinations: (arn) => asyncInvocations.destinations.get(arn) ?? [],
    undelivered: () => asyncInvocations.undelivered,
    asyncStats: () => ({ ...asyncInvocations.counts, delivered: Object.fromEntries(asyncInvocations.delivered) }),
    requestCounts: () => ({ ...parts.counts }),
    poolStats: () => Object.fromEntries(functions.all().map((v) => [v.key, v.pool.stats()])),
    publishVersion: (functionArn, changes) => succeeded(functions.publishVersion(functionArn, changes)).version,
    updateAlias: (functionArn, alias, version) => void succeeded(functions.updateAlias(functionArn, alias, version)),
    versions: (functionArn) => ({
      versions: functions.versions(functionArn),
      aliases: Object.fromEntries(functions.aliases(functionArn)),
    }),
    concurrencyStats: () => concurrencyStats(parts.model, parts.unreserved, parts.accountConcurrency),
    whenIdle: () => asyncInvocations.whenIdle(),
    stop: () =>
      (stopped ??= (async () => {
        asyncInvocations.close();
        server.closeAllConnections();
        await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), functions.close()]);
        // After the endpoint: no request is still being forwarded to it.
        await moto?.stop();
      })()),
  };
}

/** Each service of the registry, started for this runtime. */
function startServices(context: ServiceContext): Map<ServiceDefinition, Route> {
  return new Map(SERVICES.map((service) => [service, service.start(context)]));
}

/** The hooks given, or the ones a fault plan builds; never both, so a test cannot half-override a plan. */
function hooksOf(options: LocalRuntimeOptions): ServiceHooks {
  if (options.faults === undefined || options.faults.length === 0) {
    return {
      ...(options.stsHooks ? { sts: options.stsHooks } : {}),
      ...(options.lambdaHooks ? { lambda: options.lambdaHooks } : {}),
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
