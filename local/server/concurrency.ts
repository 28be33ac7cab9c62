/**
 * Concurrency as Lambda counts it, per account (and region: the runtime serves one): the quota,
 * what the functions reserve of it, and the unreserved rest their other functions share.
 */
import { DEFAULT_ACCOUNT_CONCURRENCY, MINIMUM_UNRESERVED_CONCURRENCY, UnreservedConcurrency } from "../exec/function-pool";
import type { AccountsModel, FunctionModel } from "../../core/model/types";
import { LocalRuntimeError } from "./runtime-error";

/** One account's concurrency: its quota, what its functions reserve, and the unreserved rest shared by the others. */
export interface AccountConcurrencyStats {
  readonly accountConcurrency: number;
  readonly reserved: number;
  readonly unreserved: number;
  /** Invocations of unreserved functions in flight now. */
  readonly unreservedInUse: number;
}

/** What the functions of one account reserve in all. */
export function reservedIn(model: AccountsModel, accountId: string): number {
  return [...model.functions.values()].filter((f) => f.accountId === accountId).reduce((sum, f) => sum + (f.reservedConcurrency ?? 0), 0);
}

/**
 * Each account's unreserved concurrency (the quota minus its functions' reservations), shared by
 * its functions without a reservation. The runtime serves one region, so per account is per
 * account and region, as AWS's quota is. Refuses, as Lambda does, reservations that leave less
 * than the minimum unreserved.
 */
export function unreservedConcurrency(model: AccountsModel, accountConcurrency: number): Map<string, UnreservedConcurrency> {
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

/** By account id, how much of each account's quota is reserved, shared and in use now. */
export function concurrencyStats(
  model: AccountsModel,
  unreserved: ReadonlyMap<string, UnreservedConcurrency>,
  accountConcurrency: number,
): Record<string, AccountConcurrencyStats> {
  return Object.fromEntries(
    [...unreserved].map(([accountId, shared]) => [
      accountId,
      { accountConcurrency, reserved: reservedIn(model, accountId), unreserved: shared.limit, unreservedInUse: shared.inUse },
    ]),
  );
}
