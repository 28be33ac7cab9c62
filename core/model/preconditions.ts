/**
 * Preconditions are checked by `terraform plan`; a failing one stops the plan, so it
 * stops the model too, with the same error_message.
 */
import { Resolver, Where, child, describeWhere } from "./resolver";
import { JsonObject, StackDoc, allResourcesOf, blockList, isObject, singleBlock } from "./stack-files";
import { Expr, UnsupportedSyntax, parseTemplate } from "./template";
import { ModelError } from "./types";

const SUPPORTED_SHAPE = '${<reference> == "<literal>"} (or != , or a true/false/number literal)';

/** The comparison of a condition, if it has the one shape the model evaluates. */
function simpleComparison(where: Where, condition: unknown): { expr: Expr; source: string } {
  const unsupported = (shown: string): never => {
    throw new ModelError(
      `${describeWhere(where)}: the precondition ${shown} has a shape the model does not evaluate; supported: ${SUPPORTED_SHAPE}`,
    );
  };
  if (typeof condition !== "string") return unsupported(JSON.stringify(condition));
  let parts;
  try {
    parts = parseTemplate(condition);
  } catch (err) {
    if (err instanceof UnsupportedSyntax) return unsupported(`${condition} (${err.reason})`);
    throw err;
  }
  const only = parts[0];
  if (parts.length !== 1 || only.kind !== "interpolation" || only.expr.kind !== "compare") return unsupported(condition);
  const kinds = [only.expr.left.kind, only.expr.right.kind].sort().join(",");
  if (kinds !== "literal,traversal") return unsupported(condition);
  return { expr: only.expr, source: only.source };
}

/**
 * Throws when the condition is false. The message ends with the error_message as Terraform renders it
 * (interpolations resolved); when an output the condition reads came from the remote state's `defaults`,
 * a further line says which.
 */
function checkOne(resolver: Resolver, where: Where, block: JsonObject): void {
  const conditionAt = child(where, "condition");
  const { expr, source } = simpleComparison(conditionAt, block.condition);
  const { value: holds, defaultsUsed } = resolver.withDefaultsNoted(() => resolver.evaluate(conditionAt, expr, source));
  if (holds === true) return;
  const raw = block.error_message;
  let message: string;
  try {
    message = resolver.string(child(where, "error_message"), raw);
  } catch {
    message = typeof raw === "string" ? raw : JSON.stringify(raw);
  }
  const why = defaultsUsed.map((note) => `\n  (${note})`).join("");
  throw new ModelError(
    `${describeWhere(conditionAt)}: precondition ${source} is false (terraform plan would stop here too): ${message}${why}`,
  );
}

/** Every precondition of the stacks' resources, data sources and outputs. */
export function checkPreconditions(resolver: Resolver, stacks: readonly StackDoc[]): void {
  for (const stack of stacks) {
    const blocks: { address: string; path: string; list: unknown }[] = [];
    for (const { type, name, body } of allResourcesOf(stack)) {
      const lifecycle = singleBlock(body.lifecycle, () => `stack '${stack.name}', ${type}.${name}.lifecycle`);
      blocks.push({ address: `${type}.${name}`, path: "lifecycle.precondition", list: lifecycle?.precondition });
    }
    const data = isObject(stack.json.data) ? stack.json.data : {};
    for (const [type, byName] of Object.entries(data)) {
      for (const [name, body] of Object.entries(isObject(byName) ? byName : {})) {
        const lifecycle = isObject(body)
          ? singleBlock(body.lifecycle, () => `stack '${stack.name}', data.${type}.${name}.lifecycle`)
          : undefined;
        blocks.push({ address: `data.${type}.${name}`, path: "lifecycle.precondition", list: lifecycle?.precondition });
      }
    }
    const outputs = isObject(stack.json.output) ? stack.json.output : {};
    for (const [key, body] of Object.entries(outputs)) {
      blocks.push({ address: `output.${key}`, path: "precondition", list: isObject(body) ? body.precondition : undefined });
    }
    for (const { address, path, list } of blocks) {
      blockList(list).forEach((block, i) => checkOne(resolver, { stack: stack.name, address, path: `${path}[${i}]` }, block));
    }
  }
}
