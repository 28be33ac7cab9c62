/**
 * The local two-account runtime: one HTTP endpoint on 127.0.0.1 that speaks STS and Lambda's
 * wire protocols, verifies every SigV4 signature, authorizes with the stacks' own policies, and
 * runs the deployed bundles.
 */
import * as path from "path";
import { DEFAULT_ACCOUNT_CONCURRENCY, FunctionPool, MINIMUM_UNRESERVED_CONCURRENCY, UnreservedConcurrency } from "../exec/function-pool";
import type { IssuedCredentials } from "../../core/iam/principals";
import type { AccountsModel, FunctionModel } from "../../core/model/types";
import type { Route, ServiceContext, ServiceDefinition, ServiceHooks } from "../services/definition";
import { AsyncInvoker, type DestinationRecord, type UndeliveredRecord } from "../services/lambda/async-invoker";
import type { LambdaHooks } from "../services/lambda/service";
import { SERVICES } from "../services/registry";
import type { StsHooks } from "../services/sts/service";
import { LocalAccounts } from "./accounts";
import { AuditLog } from "./audit";
import { createEndpoint } from "./endpoint";
import { faultHooks, type FaultPlan } from "./faults";
import { listen } from "./http";
import { LocalRuntimeError } from "./runtime-error";

export { LocalRuntimeError };

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

  const pools = new Map<string, FunctionPool>();
  const asyncInvocations = new AsyncInvoker(accounts, pools, audit, { retryDelayMs: options.asyncRetryDelayMs ?? 200 });
  const routes = startServices({
    accounts,
    audit,
    // The model does not know when the stacks were applied: the runtime's start stands in for every creation date.
    deployedAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    pools,
    asyncInvocations,
    hooks: hooksOf(options),
    count,
  });
  let endpoint = "";
  const server = createEndpoint({
    partition: model.partition,
    region,
    lookupKey: (keyId) => accounts.credentials.lookup(keyId),
    routes,
    count,
    url: () => endpoint,
  });

  const port = await listen(server, host, options.port ?? 0);
  endpoint = `http://${host}:${port}`;

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
    destinations: (arn) => asyncInvocations.destinations.get(arn) ?? [],
    undelivered: () => asyncInvocations.undelivered,
    asyncStats: () => ({ ...asyncInvocations.counts, delivered: Object.fromEntries(asyncInvocations.delivered) }),
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
    whenIdle: () => asyncInvocations.whenIdle(),
    stop: () =>
      (stopped ??= (async () => {
        asyncInvocations.close();
        server.closeAllConnections();
        await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ...[...pools.values()].map((p) => p.close())]);
      })()),
  };
  return runtime;
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
