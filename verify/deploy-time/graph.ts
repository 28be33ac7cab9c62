/**
 * The order Terraform creates and destroys a stack's resources, from the synthesized JSON alone:
 * an edge for every reference (`${aws_iam_role.r.arn}`, `data.terraform_remote_state.s.outputs.x`)
 * and every `depends_on` entry. Terraform creates a resource only after everything it depends on,
 * and destroys it before them (https://developer.hashicorp.com/terraform/internals/graph);
 * resources with no path between them may run in either order, or at once.
 */
import { isObject, JsonObject, StackDoc, templateExpressions } from "../../core";
import { UserFacingError } from "../../config/user-facing-error";

export interface DependencyGraph {
  readonly stack: string;
  /** Every resource and data source address (`aws_x.name`, `data.aws_y.name`), in the file's order. */
  readonly addresses: readonly string[];
  /** Direct dependencies of each address. */
  readonly dependsOn: ReadonlyMap<string, ReadonlySet<string>>;
  /** One order Terraform may create the resources in (dependencies first; ties by address). */
  readonly createOrder: readonly string[];
}

const REFERENCE = /(?:^|[^A-Za-z0-9_.-])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)/g;

/** Every address a block (or any JSON value in it) mentions in an expression or in depends_on. */
export function referencesIn(body: unknown, known: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const scan = (value: unknown, inExpression: boolean): void => {
    if (typeof value === "string") {
      const texts = inExpression ? [value] : templateExpressions(value);
      for (const text of texts) for (const m of text.matchAll(REFERENCE)) if (known.has(m[1])) found.add(m[1]);
    } else if (Array.isArray(value)) {
      value.forEach((item) => scan(item, inExpression));
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) scan(item, inExpression || key === "depends_on");
    }
  };
  scan(body, false);
  return found;
}

export class DependencyCycleError extends UserFacingError {
  readonly code = "DEPENDENCY_CYCLE";

  constructor(stack: string, addresses: readonly string[]) {
    super(`stack '${stack}': the resources ${addresses.join(", ")} depend on each other, so Terraform cannot order them (Error: Cycle)`);
  }
}

export function dependencyGraph(stack: StackDoc): DependencyGraph {
  const bodies = new Map<string, JsonObject>();
  for (const [section, prefix] of [
    ["resource", ""],
    ["data", "data."],
  ] as const) {
    const byType = isObject(stack.json[section]) ? stack.json[section] : {};
    for (const [type, byName] of Object.entries(byType)) {
      for (const [name, body] of Object.entries(isObject(byName) ? byName : {}))
        if (isObject(body)) bodies.set(`${prefix}${type}.${name}`, body);
    }
  }
  const known = new Set(bodies.keys());
  const dependsOn = new Map<string, Set<string>>();
  for (const [address, body] of bodies) {
    const refs = referencesIn(body, known);
    refs.delete(address);
    dependsOn.set(address, refs);
  }
  return { stack: stack.name, addresses: [...bodies.keys()], dependsOn, createOrder: topologicalOrder(stack.name, dependsOn) };
}

function topologicalOrder(stack: string, dependsOn: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const remaining = new Map([...dependsOn].map(([address, deps]) => [address, new Set(deps)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining]
      .filter(([, deps]) => deps.size === 0)
      .map(([address]) => address)
      .sort();
    if (ready.length === 0) throw new DependencyCycleError(stack, onCycles(remaining));
    for (const address of ready) {
      order.push(address);
      remaining.delete(address);
    }
    for (const deps of remaining.values()) for (const address of ready) deps.delete(address);
  }
  return order;
}

/** Of the resources left unordered, those on a cycle (each reaches itself), not those that merely wait for one. */
function onCycles(remaining: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const reaches = (from: string, target: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(remaining.get(from) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (next === target) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(remaining.get(next) ?? []));
    }
    return false;
  };
  return [...remaining.keys()].filter((address) => reaches(address, address)).sort();
}

/** Everything `address` depends on, directly or not: what Terraform has created before it, and destroys after it. */
export function ancestorsOf(graph: DependencyGraph, address: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.dependsOn.get(address) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.dependsOn.get(next) ?? []));
  }
  return seen;
}

/** The order Terraform may destroy the resources in: the reverse of creation. */
export function destroyOrder(graph: DependencyGraph): string[] {
  return [...graph.createOrder].reverse();
}
