/**
 * The deploy-time check: walks every stack's resources in the order Terraform would create them,
 * then in the order it would destroy them, and applies the rules of each resource type (rules/, by service).
 * No AWS, no Terraform: the synthesized JSON, the model and the IAM simulator.
 */
import * as path from "path";
import { Authorizer, child, isObject, JsonObject, loadAccountsModel, ModelError, readStacks, Resolver, StackDoc } from "../../core";
import { VerifyInputError } from "../access-model";
import { DependencyCycleError, ancestorsOf, dependencyGraph, destroyOrder, referencesIn, type DependencyGraph } from "./graph";
import type { DeployCheck, DeployRule, DeployRuleDefinition, RuleContext } from "./rule-context";
import { RULES, ruleDescriptions } from "./rules";

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

/** The rules of one part of the walk, by the resource type they are applied to. */
function rulesByType(phase: "create" | "destroy"): ReadonlyMap<string, DeployRuleDefinition[]> {
  const out = new Map<string, DeployRuleDefinition[]>();
  // Run-time consequences ride along with creation: they are judged on what the apply leaves behind.
  for (const rule of Object.values(RULES).filter((r) => (phase === "create" ? r.phase !== "destroy" : r.phase === "destroy"))) {
    out.set(rule.appliesTo, [...(out.get(rule.appliesTo) ?? []), rule]);
  }
  return out;
}

async function apply(rules: ReadonlyMap<string, DeployRuleDefinition[]>, ctx: RuleContext, address: string): Promise<DeployCheck[]> {
  const checks: DeployCheck[] = [];
  for (const rule of rules.get(address.split(".")[0]) ?? []) {
    const outcome = await rule.judge(ctx, address);
    if (outcome === undefined) continue;
    for (const { address: judged, ...rest } of Array.isArray(outcome) ? outcome : [outcome])
      checks.push({ rule: rule.id, stack: ctx.stack.name, address: judged ?? address, ...rest });
  }
  return checks;
}

function contextFor(
  stack: StackDoc,
  graph: DependencyGraph,
  resolver: Resolver,
  rest: Pick<RuleContext, "model" | "authorizer" | "deployOrder">,
): RuleContext {
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
  const onCreate = rulesByType("create");
  const onDestroy = rulesByType("destroy");
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
    const ctx = contextFor(stack, graph, resolver, { model, authorizer, deployOrder: stackNames });
    stacks.push({ stack: name, createOrder: graph.createOrder, destroyOrder: destroyOrder(graph) });
    for (const address of graph.createOrder) created.push(...(await apply(onCreate, ctx, address)));
    for (const address of destroyOrder(graph)) destroyed.push(...(await apply(onDestroy, ctx, address)));
  }
  return { rules: ruleDescriptions(), stacks, checks: [...created, ...destroyed] };
}
