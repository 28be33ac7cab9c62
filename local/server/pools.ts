/**
 * The functions' execution environments: Lambda checks at creation that it may assume each
 * function's role, and gives each environment credentials of that role; each version has its own.
 */
import * as path from "path";
import { FunctionPool, ReservedConcurrency, type UnreservedConcurrency } from "../exec/function-pool";
import type { FunctionModel } from "../../core/model/types";
import type { FunctionVersions } from "../services/lambda/versions";
import type { LocalAccounts } from "./accounts";
import { LocalRuntimeError } from "./runtime-error";

export interface PoolOptions {
  /** Where the functions' SDK clients send their requests: the endpoint. */
  readonly endpointUrl: string;
  readonly cacheDir: string;
  readonly unreserved: ReadonlyMap<string, UnreservedConcurrency>;
  readonly onFunctionLog?: (functionName: string, line: string) => void;
}

/** Lambda refuses to create a function whose role it cannot assume; so does the runtime, at start. */
export async function checkExecutionRoles(accounts: LocalAccounts): Promise<void> {
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

/**
 * The versions of every function, each version with a pool of its own (by function ARN for $LATEST, by
 * version ARN for a published one); each environment gets a session of the function's execution role, used from its VPC.
 */
export function startFunctionVersions(versions: FunctionVersions, accounts: LocalAccounts, options: PoolOptions): void {
  const reservations = new Map<string, ReservedConcurrency>();
  versions.start(accounts.model.functions.values(), (fn, version, config) => {
    const role = accounts.role(config.roleArn);
    if (!role) throw new LocalRuntimeError(`function ${fn.name}: execution role ${config.roleArn} is not in the stacks`);
    // Reserved concurrency is the function's, whatever version runs: its versions share one reservation.
    let reservation = reservations.get(fn.arn);
    if (reservation === undefined && fn.reservedConcurrency !== undefined) {
      reservation = new ReservedConcurrency(fn.name, fn.reservedConcurrency);
      reservations.set(fn.arn, reservation);
    }
    return new FunctionPool(poolSpec(config, version), {
      endpointUrl: options.endpointUrl,
      cacheDir: options.cacheDir,
      credentialsFor: async () => {
        // Used where the function runs: its requests are sent from its VPC (network.ts).
        const { credentials } = accounts.startSession(role, fn.name, role.maxSessionDurationSeconds, false, { vpcId: config.vpcId });
        return credentials;
      },
      unreservedConcurrency: options.unreserved.get(fn.accountId)!,
      ...(reservation ? { reservedConcurrency: reservation } : {}),
      ...(options.onFunctionLog ? { onLog: options.onFunctionLog } : {}),
    });
  });
}

function poolSpec(fn: FunctionModel, version: string) {
  return {
    name: fn.name,
    arn: fn.arn,
    version,
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
