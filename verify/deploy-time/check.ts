/**
 * The deploy-time check: walks every stack's resources in the order Terraform would create them,
 * then in the order it would destroy them, and applies the rule for each resource type (rules.ts).
 * No AWS, no Terraform: the synthesized JSON, the model and the IAM simulator.
 */
import * as path from "path";
import { Authorizer } from "../../local/iam/authorize";
import { loadAccountsModel } from "../../local/model/load-model";
import { Resolver, child } from "../../local/model/resolver";
import { JsonObject, StackDoc, isObject, readStacks } from "../../local/model/stack-files";
import { ModelError } from "../../local/model/types";
import { VerifyInputError } from "../access-model";
import { DependencyCycleError, ancestorsOf, dependencyGraph, destroyOrder, referencesIn, type DependencyGraph } from "./graph";
import {
  RULES,
  asyncDestinationPermissions,
  codeUploadAccepted,
  deployerPassesRoleAndReadsCode,
  environmentKeyUsable,
  executionRoleNetworkInterfaces,
  lambdaAssumesExecutionRole,
  logGroupKeyAllowsLogs,
  networkInterfacePermissionsOutliveGroup,
  type DeployCheck,
  type DeployRule,
  type RuleContext,
} from "./rules";

export interface StackOrder {
  readonly stack: string;
  readonly createOrder: readonly string[];
  readonly destroyOrder: readonly string[];
}

export interface DeployTimeResult {
  readonly rules: readonly DeployRule[];
  readonly stacks: readonly StackOrder[];
  /** Every rule applied, in the order of the walk: creation first, then destruction. */
  readonly checks: readonly DeployCheck[];
}

export function deployFindings(result: DeployTimeResult): DeployCheck[] {
  return result.checks.filter((c) => !c.ok);
}

type CreateRule = (ctx: RuleContext, address: string) => Promise<Omit<DeployCheck, "stack" | "address" | "rule"> | undefined>;

/** The rules that apply when a resource of each type is created. */
const ON_CREATE: Record<string, readonly [DeployRule, CreateRule][]> = {
  aws_lambda_function: [
    [RULES.lambdaAssumesRole, lambdaAssumesExecutionRole],
    [RULES.networkInterfaces, executionRoleNetworkInterfaces],
    [RULES.environmentKey, environmentKeyUsable],
    [RULES.deployerReadsCode, deployerPassesRoleAndReadsCode],
  ],
  aws_lambda_function_event_invoke_config: [[RULES.asyncDestination, asyncDestinationPermissions]],
  aws_cloudwatch_log_group: [[RULES.logGroupKey, logGroupKeyAllowsLogs]],
  aws_s3_object: [[RULES.codeUpload, codeUploadAccepted]],
};

function contextFor(stack: StackDoc, graph: DependencyGraph, resolver: Resolver, rest: Pick<RuleContext, "model" | "authorizer">): RuleContext {
  const known = new Set(graph.addresses);
  const body = (address: string): JsonObject => {
    const [type, name] = address.split(".");
    const byType = isObject(stack.json.resource) ? stack.json.resource[type] : undefined;
    const found = isObject(byType) ? byType[name] : undefined;
    if (!isObject(found)) throw new ModelError(`stack '${stack.name}' has no resource ${address}`);
    return found;
  };
  const raw = (address: string, argumentPath: string): unknown => {
    let value: unknown = body(address);
    for (const part of argumentPath.split(".")) {
      if (Array.isArray(value)) value = value[0];
      value = isObject(value) ? value[part] : undefined;
    }
    return Array.isArray(value) && value.length === 1 && isObject(value[0]) ? value[0] : value;
  };
  return {
    ...rest,
    resolver,
    stack,
    graph,
    existingAt: (address) => ancestorsOf(graph, address),
    body,
    argument: (address, argumentPath) => {
      const value = raw(address, argumentPath);
      if (value === undefined || value === null) return undefined;
      return resolver.value(child({ stack: stack.name, address, path: "" }, argumentPath), value);
    },
    referencedBy: (address, argumentPath) => [...referencesIn(raw(address, argumentPath), known)].sort(),
  };
}

/** The deploy-time check of a cdktf output directory's application stacks. */
export async function checkDeployTime(dir: string, stackNames: readonly string[]): Promise<DeployTimeResult> {
  const root = path.resolve(dir);
  let resolver: Resolver;
  let model;
  try {
    resolver = new Resolver(readStacks(root));
    model = loadAccountsModel(root, { stacks: [...stackNames] });
  } catch (err) {
    if (err instanceof ModelError) throw new VerifyInputError(`cannot read the stacks in ${dir}: ${err.message}`);
    throw err;
  }
  const authorizer = new Authorizer();
  const stacks: StackOrder[] = [];
  const created: DeployCheck[] = [];
  const destroyed: DeployCheck[] = [];
  for (const name of stackNames) {
    const stack = resolver.stack(name);
    let graph: DependencyGraph;
    try {
      graph = dependencyGraph(stack);
    } catch (err) {
      if (err instanceof DependencyCycleError) throw new VerifyInputError(err.message);
      throw err;
    }
    const ctx = contextFor(stack, graph, resolver, { model, authorizer });
    stacks.push({ stack: name, createOrder: graph.createOrder, destroyOrder: destroyOrder(graph) });
    for (const address of graph.createOrder) {
      for (const [rule, apply] of ON_CREATE[address.split(".")[0]] ?? []) {
        const check = await apply(ctx, address);
        if (check) created.push({ rule: rule.id, stack: name, address, ...check });
      }
    }
    for (const address of destroyOrder(graph)) {
      if (address.startsWith("aws_lambda_function.")) destroyed.push(...(await networkInterfacePermissionsOutliveGroup(ctx, address)));
    }
  }
  return { rules: Object.values(RULES), stacks, checks: [...created, ...destroyed] };
}
