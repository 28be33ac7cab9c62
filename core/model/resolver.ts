/**
 * Resolves the Terraform expressions in synthesized stacks to the values a plan would
 * show: resource attributes (attributes.ts), remote-state outputs of other stacks, and
 * literals. Whatever it cannot know it reports as a ModelError naming the stack, the
 * address, the attribute path and the expression.
 */
import { isDeepStrictEqual } from "util";
import { ATTRIBUTES, ProviderTarget, ResourceView, partitionOf } from "./attributes";
import { JsonObject, StackDoc, blockList, isObject, resourceBody, singleBlock } from "./stack-files";
import { Expr, UnsupportedSyntax, parseTemplate } from "./template";
import { ModelError, PolicyDocument } from "./types";

/** The place a value comes from: `stack 'caller', aws_lambda_function.f.environment.variables.X`. */
export interface Where {
  readonly stack: string;
  readonly address: string;
  /** Attribute path inside the block, e.g. `environment.variables.X`; empty for the block itself. */
  readonly path: string;
}

export function describeWhere(where: Where): string {
  return `stack '${where.stack}', ${where.address}${where.path ? "." + where.path : ""}`;
}

export const child = (where: Where, key: string | number): Where => ({
  ...where,
  path: typeof key === "number" ? `${where.path}[${key}]` : where.path ? `${where.path}.${key}` : key,
});

function fail(where: Where, expression: string, reason: string): never {
  throw new ModelError(`${describeWhere(where)}: cannot resolve ${expression}: ${reason}`);
}

/** Terraform's `==`: no conversion between types, structural for collections. */
function terraformEquals(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(a, b);
}

/** References the model never evaluates: they depend on inputs or on the module structure, not on the stacks. */
const NOT_MODELLED_ROOTS: Record<string, string> = {
  var: "input variables",
  local: "local values",
  module: "module outputs",
  count: "count.index",
  each: "for_each values",
  path: "path values",
  terraform: "terraform.workspace",
  self: "self references",
};

const NO_VALUE = Symbol("no value");

export class Resolver {
  private readonly memo = new Map<string, unknown>();
  /** Keys being resolved right now, to report reference cycles instead of recursing forever. */
  private readonly active = new Set<string>();
  private readonly targets = new Map<string, ProviderTarget>();

  constructor(readonly stacks: ReadonlyMap<string, StackDoc>) {}

  stack(name: string): StackDoc {
    const stack = this.stacks.get(name);
    if (!stack) throw new ModelError(`no stack '${name}' (stacks: ${[...this.stacks.keys()].join(", ")})`);
    return stack;
  }

  /** Resolves every string template inside a JSON value (nested objects and lists too). */
  value(where: Where, raw: unknown): unknown {
    if (typeof raw === "string") return this.template(where, raw, false);
    if (Array.isArray(raw)) return raw.map((item, i) => this.value(child(where, i), item));
    if (isObject(raw)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(raw)) {
        const resolvedKey = this.template(child(where, key), key, false);
        if (typeof resolvedKey !== "string") fail(child(where, key), key, "an object key must resolve to a string");
        out[resolvedKey] = this.value(child(where, key), item);
      }
      return out;
    }
    return raw;
  }

  string(where: Where, raw: unknown): string {
    const value = this.value(where, raw);
    if (typeof value !== "string") throw new ModelError(`${describeWhere(where)}: expected a string, found ${JSON.stringify(value)}`);
    return value;
  }

  /** A number argument, which may also be written as a numeric string. */
  number(where: Where, raw: unknown): number {
    const value = this.value(where, raw);
    if (typeof value === "number") return value;
    if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    throw new ModelError(`${describeWhere(where)}: expected a number, found ${JSON.stringify(value)}`);
  }

  /**
   * An IAM policy given as JSON text with interpolations: each interpolated value is
   * escaped for a JSON string before the text is parsed, as Terraform would render it.
   */
  policy(where: Where, raw: unknown): PolicyDocument {
    if (typeof raw !== "string")
      throw new ModelError(`${describeWhere(where)}: expected a policy document as JSON text, found ${JSON.stringify(raw)}`);
    const text = this.template(where, raw, true);
    if (typeof text !== "string")
      throw new ModelError(`${describeWhere(where)}: the policy resolves to ${JSON.stringify(text)}, not JSON text`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ModelError(
        `${describeWhere(where)}: not a valid JSON policy document after resolution (${(err as Error).message}): ${text}`,
      );
    }
    return asPolicyDocument(where, parsed);
  }

  /** Evaluates one `${...}` or a whole template; `jsonEscape` escapes interpolated strings for JSON string context. */
  private template(where: Where, text: string, jsonEscape: boolean): unknown {
    let parts;
    try {
      parts = parseTemplate(text);
    } catch (err) {
      if (err instanceof UnsupportedSyntax) fail(where, err.expression, err.reason);
      throw err;
    }
    const only = parts[0];
    if (parts.length === 1 && only.kind === "interpolation") return this.evaluate(where, only.expr, only.source);
    return parts
      .map((part) => {
        if (part.kind === "text") return part.text;
        const value = this.evaluate(where, part.expr, part.source);
        if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
          fail(where, part.source, `resolves to ${JSON.stringify(value)}, which cannot be interpolated into a string`);
        }
        const text = String(value);
        return jsonEscape ? JSON.stringify(text).slice(1, -1) : text;
      })
      .join("");
  }

  evaluate(where: Where, expr: Expr, source: string): unknown {
    switch (expr.kind) {
      case "literal":
        return expr.value;
      case "compare": {
        const equal = terraformEquals(this.evaluate(where, expr.left, source), this.evaluate(where, expr.right, source));
        return expr.op === "==" ? equal : !equal;
      }
      case "traversal":
        return this.reference(where, expr.parts, source);
    }
  }

  private reference(where: Where, parts: readonly string[], source: string): unknown {
    const [root] = parts;
    if (root === "data") {
      if (parts[1] === "terraform_remote_state" && parts.length >= 3) return this.remoteState(where, parts[2], parts.slice(3), source);
      return fail(
        where,
        source,
        `data source ${parts.slice(0, 3).join(".")} is not modelled (only data.terraform_remote_state.<name>.outputs.<key> is)`,
      );
    }
    if (root in NOT_MODELLED_ROOTS) return fail(where, source, `${NOT_MODELLED_ROOTS[root]} are not modelled`);
    if (parts.length < 3)
      return fail(where, source, "a reference to a whole resource (or an unknown name) is not modelled; reference one attribute");
    const [type, name, attribute] = parts;
    if (parts.length > 3) return fail(where, source, `the nested attribute path ${parts.slice(2).join(".")} is not modelled`);
    const body = resourceBody(this.stack(where.stack), type, name);
    if (!body) return fail(where, source, `stack '${where.stack}' has no resource ${type}.${name}`);
    const table = ATTRIBUTES[type];
    if (!table) return fail(where, source, `resource type ${type} is not modelled (modelled: ${Object.keys(ATTRIBUTES).join(", ")})`);
    if (!table[attribute])
      return fail(where, source, `attribute '${attribute}' of ${type} is not modelled (modelled: ${Object.keys(table).join(", ")})`);
    return this.reached(where, source, () => this.attribute(where.stack, type, name, attribute));
  }

  /** Runs a nested resolution; its errors say where they happened, this adds how they were reached. */
  private reached<T>(where: Where, source: string, run: () => T): T {
    try {
      return run();
    } catch (err) {
      if (err instanceof ModelError) throw new ModelError(`${err.message}\n  reached from ${describeWhere(where)}: ${source}`);
      throw err;
    }
  }

  private memoized<T>(key: string, describe: string, compute: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    if (this.active.has(key)) throw new ModelError(`reference cycle through ${describe}`);
    this.active.add(key);
    try {
      const value = compute();
      this.memo.set(key, value);
      return value;
    } finally {
      this.active.delete(key);
    }
  }

  /** `<type>.<name>.<attribute>` of a resource in a stack, as Terraform would know it after apply. */
  attribute(stackName: string, type: string, name: string, attribute: string): unknown {
    const address = `${type}.${name}`;
    const where: Where = { stack: stackName, address, path: attribute };
    const body = resourceBody(this.stack(stackName), type, name);
    if (!body) throw new ModelError(`${describeWhere(where)}: stack '${stackName}' has no resource ${address}`);
    const compute = ATTRIBUTES[type]?.[attribute];
    if (!compute) throw new ModelError(`${describeWhere(where)}: attribute '${attribute}' of ${type} is not modelled`);
    return this.memoized(`${stackName}|${address}.${attribute}`, describeWhere(where), () =>
      compute(this.view(stackName, type, name, body)),
    );
  }

  private view(stack: string, type: string, name: string, body: JsonObject): ResourceView {
    const address = `${type}.${name}`;
    const has = (argument: string) => body[argument] !== undefined && body[argument] !== null;
    const failAt = (argument: string, reason: string): never => {
      throw new ModelError(`${describeWhere({ stack, address, path: argument })}: ${reason}`);
    };
    return {
      stack,
      type,
      address,
      target: () => this.target(stack, address, body),
      has,
      string: (argument) =>
        has(argument) ? this.string({ stack, address, path: argument }, body[argument]) : failAt(argument, "is not set"),
      bool: (argument, fallback) => {
        if (!has(argument)) return fallback;
        const value = this.value({ stack, address, path: argument }, body[argument]);
        if (value === true || value === "true") return true;
        if (value === false || value === "false") return false;
        return failAt(argument, `expected true or false, found ${JSON.stringify(value)}`);
      },
      fail: failAt,
    };
  }

  /** The account, region and partition of a resource, from the provider it names. */
  target(stackName: string, address: string, body: JsonObject): ProviderTarget {
    const ref = body.provider;
    if (ref !== undefined && (typeof ref !== "string" || !/^aws(\.[A-Za-z0-9_-]+)?$/.test(ref))) {
      throw new ModelError(
        `${describeWhere({ stack: stackName, address, path: "provider" })}: provider ${JSON.stringify(ref)} is not an AWS provider`,
      );
    }
    const alias = typeof ref === "string" && ref.includes(".") ? ref.slice(4) : undefined;
    return this.provider(stackName, alias);
  }

  /** A provider "aws" block of a stack (by alias; undefined = the default provider). */
  provider(stackName: string, alias: string | undefined): ProviderTarget {
    const key = `${stackName}|${alias ?? ""}`;
    const known = this.targets.get(key);
    if (known) return known;
    const name = alias ? `aws.${alias}` : "aws";
    const providers = isObject(this.stack(stackName).json.provider) ? (this.stack(stackName).json.provider as JsonObject) : {};
    const entry = blockList(providers.aws).find((p) => (typeof p.alias === "string" ? p.alias : undefined) === alias);
    if (!entry)
      throw new ModelError(
        `stack '${stackName}': provider ${name} is not configured (provider.aws has no entry with ${alias ? `alias '${alias}'` : "no alias"})`,
      );
    const region = entry.region;
    if (typeof region !== "string" || region.includes("${") || region === "") {
      throw new ModelError(`stack '${stackName}', provider ${name}: the model needs a literal 'region', found ${JSON.stringify(region)}`);
    }
    const ids = entry.allowed_account_ids;
    if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== "string" || !/^\d{12}$/.test(ids[0])) {
      throw new ModelError(
        `stack '${stackName}', provider ${name}: the model needs allowed_account_ids with exactly one 12-digit account id to know which account ` +
          `the stack's resources live in (and Terraform then refuses credentials for any other account); found ${JSON.stringify(ids)}`,
      );
    }
    const target: ProviderTarget = { alias, region, accountId: ids[0], partition: partitionOf(region) };
    this.targets.set(key, target);
    return target;
  }

  /** `data.terraform_remote_state.<name>.outputs[.<key>[...]]`: the output of the stack whose S3 backend the data source reads. */
  private remoteState(where: Where, name: string, rest: readonly string[], source: string): unknown {
    const address = `data.terraform_remote_state.${name}`;
    const stack = this.stack(where.stack);
    const all = isObject(stack.json.data) && isObject(stack.json.data.terraform_remote_state) ? stack.json.data.terraform_remote_state : {};
    const data = all[name];
    if (!isObject(data)) return fail(where, source, `stack '${where.stack}' has no data source ${address}`);
    if (data.backend !== "s3")
      return fail(where, source, `${address} uses backend ${JSON.stringify(data.backend)}; the model follows S3 backends only`);
    if (rest[0] !== "outputs") return fail(where, source, `only ${address}.outputs is modelled`);
    const dataWhere: Where = { stack: where.stack, address, path: "config" };
    const config = singleBlock(data.config, () => describeWhere(dataWhere)) ?? {};
    const bucket = this.string(child(dataWhere, "bucket"), config.bucket);
    const key = this.string(child(dataWhere, "key"), config.key);
    const matches = [...this.stacks.values()].filter((s) => {
      const backend = s3Backend(s);
      return backend?.bucket === bucket && backend.key === key;
    });
    if (matches.length === 0) {
      const known = [...this.stacks.values()].map((s) => {
        const b = s3Backend(s);
        return b ? `${s.name} (s3://${b.bucket}/${b.key})` : `${s.name} (no S3 backend)`;
      });
      return fail(
        where,
        source,
        `${address} reads state s3://${bucket}/${key}, but no stack has an S3 backend with that bucket and key (stacks: ${known.join(", ")})`,
      );
    }
    if (matches.length > 1)
      return fail(
        where,
        source,
        `${address} reads s3://${bucket}/${key}, which several stacks use as backend: ${matches.map((s) => s.name).join(", ")}`,
      );
    const target = matches[0].name;
    const defaultsAt: Where = { stack: where.stack, address, path: "defaults" };
    if (rest.length === 1) {
      const defaults = data.defaults === undefined || data.defaults === null ? {} : this.value(defaultsAt, data.defaults);
      if (!isObject(defaults)) return fail(where, source, `${address}.defaults is not an object`);
      return { ...defaults, ...this.reached(where, source, () => this.outputs(target)) };
    }
    let value = this.reached(where, source, () => this.outputOrDefault(target, rest[1], data.defaults, defaultsAt));
    for (const [i, key] of rest.slice(2).entries()) {
      if (!isObject(value) || !(key in value))
        return fail(where, source, `the output value has no attribute ${rest.slice(1, i + 3).join(".")}`);
      value = value[key];
    }
    return value;
  }

  /**
   * Terraform falls back to the data source's `defaults` for an output the state does not have
   * (https://developer.hashicorp.com/terraform/language/state/remote-state-data).
   */
  private outputOrDefault(stackName: string, key: string, defaults: unknown, defaultsAt: Where): unknown {
    const value = this.output(stackName, key, NO_VALUE);
    if (value !== NO_VALUE) return value;
    if (isObject(defaults) && key in defaults) {
      const fallback = this.value(child(defaultsAt, key), defaults[key]);
      this.noted?.add(
        `stack '${stackName}' has no output '${key}', so ${defaultsAt.address} reads its default ${JSON.stringify(fallback)} (as Terraform does)`,
      );
      return fallback;
    }
    return this.output(stackName, key);
  }

  /** Set while withDefaultsNoted runs: what was read from remote-state `defaults`. */
  private noted: Set<string> | undefined;

  /** Runs `run` and also returns which values it read from remote-state `defaults`, to say why a check failed. */
  withDefaultsNoted<T>(run: () => T): { value: T; defaultsUsed: string[] } {
    const outer = this.noted;
    const mine = new Set<string>();
    this.noted = mine;
    try {
      return { value: run(), defaultsUsed: [...mine] };
    } finally {
      this.noted = outer;
      for (const note of mine) outer?.add(note);
    }
  }

  /** The resolved `output.<key>.value` of a stack. */
  output(stackName: string, key: string, missing?: typeof NO_VALUE): unknown {
    const outputs = this.stack(stackName).json.output;
    const body = isObject(outputs) ? outputs[key] : undefined;
    if (!isObject(body)) {
      if (missing) return missing;
      const names = isObject(outputs) ? Object.keys(outputs).join(", ") : "none";
      throw new ModelError(`stack '${stackName}' has no output '${key}' (its outputs: ${names})`);
    }
    const where: Where = { stack: stackName, address: `output.${key}`, path: "value" };
    return this.memoized(`${stackName}|output.${key}`, describeWhere(where), () => this.value(where, body.value));
  }

  /** All resolved outputs of a stack. */
  outputs(stackName: string): Record<string, unknown> {
    const outputs = this.stack(stackName).json.output;
    return Object.fromEntries(Object.keys(isObject(outputs) ? outputs : {}).map((key) => [key, this.output(stackName, key)]));
  }
}

export function s3Backend(stack: StackDoc): { bucket: string; key: string } | undefined {
  const terraform = isObject(stack.json.terraform) ? stack.json.terraform : {};
  const backend = isObject(terraform.backend) ? terraform.backend.s3 : undefined;
  if (!isObject(backend) || typeof backend.bucket !== "string" || typeof backend.key !== "string") return undefined;
  return { bucket: backend.bucket, key: backend.key };
}

/** Checks the shape AWS requires of a policy document: a Statement (object or list) of statements with an Effect. */
export function asPolicyDocument(where: Where, parsed: unknown): PolicyDocument {
  const bad = (reason: string): never => {
    throw new ModelError(`${describeWhere(where)}: not a valid policy document (${reason}): ${JSON.stringify(parsed)}`);
  };
  if (!isObject(parsed)) return bad("not a JSON object");
  const statements = parsed.Statement;
  const list = Array.isArray(statements) ? statements : [statements];
  if (statements === undefined || list.length === 0) bad("no Statement");
  for (const s of list) {
    if (!isObject(s)) bad("a statement is not an object");
    else if (s.Effect !== "Allow" && s.Effect !== "Deny") bad(`Effect must be Allow or Deny, found ${JSON.stringify(s.Effect)}`);
  }
  if (parsed.Version !== undefined && typeof parsed.Version !== "string") bad("Version is not a string");
  return parsed as unknown as PolicyDocument;
}
