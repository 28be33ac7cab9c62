/**
 * Builds the model of the accounts from a cdktf output directory, and nothing else:
 * no AWS, no Terraform. Every value is resolved (see resolver.ts); whatever cannot be
 * known before deploy is a ModelError rather than a guess.
 */
import * as path from "path";
import { partitionOf } from "./attributes";
import { buildFunctions } from "./functions";
import { checkPreconditions } from "./preconditions";
import { Resolver } from "./resolver";
import { buildRoles } from "./roles";
import { buildBuckets, buildKeys } from "./storage";
import { buildTables } from "./tables";
import { buildVpcEndpoints } from "./network";
import { StackDoc, blockList, isObject, readStacks } from "./stack-files";
import { AccountModel, AccountsModel, ModelError } from "./types";

export interface LoadModelOptions {
  /**
   * Model only these stacks (default: every stack in the directory). The others are still
   * read, so remote-state references into them resolve.
   */
  readonly stacks?: readonly string[];
}

function selectStacks(all: ReadonlyMap<string, StackDoc>, names: readonly string[] | undefined): StackDoc[] {
  if (names === undefined) return [...all.values()];
  return names.map((name) => {
    const stack = all.get(name);
    if (!stack) throw new ModelError(`no stack '${name}' in the cdktf output (stacks: ${[...all.keys()].join(", ")})`);
    return stack;
  });
}

/** Accounts (and regions) the stacks' AWS providers target; each provider must name exactly one account. */
function accountsOf(resolver: Resolver, stacks: readonly StackDoc[]): AccountModel[] {
  const byKey = new Map<string, { accountId: string; region: string; stacks: Set<string> }>();
  for (const stack of stacks) {
    const providers = isObject(stack.json.provider) ? blockList(stack.json.provider.aws) : [];
    for (const entry of providers) {
      const target = resolver.provider(stack.name, typeof entry.alias === "string" ? entry.alias : undefined);
      const key = `${target.accountId}|${target.region}`;
      const account = byKey.get(key) ?? { accountId: target.accountId, region: target.region, stacks: new Set<string>() };
      account.stacks.add(stack.name);
      byKey.set(key, account);
    }
  }
  return [...byKey.values()]
    .map((a) => ({ accountId: a.accountId, region: a.region, stacks: [...a.stacks].sort() }))
    .sort((a, b) => `${a.accountId}|${a.region}`.localeCompare(`${b.accountId}|${b.region}`));
}

function partitionOfAll(accounts: readonly AccountModel[]): string {
  const partitions = [...new Set(accounts.map((a) => partitionOf(a.region)))];
  if (partitions.length > 1) throw new ModelError(`the stacks span several partitions (${partitions.join(", ")}); the model covers one`);
  return partitions[0] ?? "aws";
}

/** Reads every stack of a cdktf output directory (`<dir>/stacks/<name>/cdk.tf.json`) into the model. */
export function loadAccountsModel(dir: string, options: LoadModelOptions = {}): AccountsModel {
  const root = path.resolve(dir);
  const resolver = new Resolver(readStacks(root));
  const stacks = selectStacks(resolver.stacks, options.stacks);
  // A failing precondition stops `terraform plan` before anything else matters.
  checkPreconditions(resolver, stacks);
  const accounts = accountsOf(resolver, stacks);
  const roles = buildRoles(resolver, stacks);
  const keys = buildKeys(resolver, stacks);
  return {
    dir: root,
    partition: partitionOfAll(accounts),
    accounts,
    roles,
    functions: buildFunctions(resolver, stacks, roles),
    buckets: buildBuckets(resolver, stacks, keys),
    keys,
    tables: buildTables(resolver, stacks, keys),
    vpcEndpoints: buildVpcEndpoints(resolver, stacks),
    outputs: new Map(stacks.map((s) => [s.name, resolver.outputs(s.name)])),
  };
}
