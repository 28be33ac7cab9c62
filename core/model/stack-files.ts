/**
 * Reading a cdktf output directory: which stacks it holds and their Terraform JSON.
 * Nothing here interprets expressions; see resolver.ts for that.
 */
import * as fs from "fs";
import * as path from "path";
import { ModelError } from "./types";

export type JsonObject = Record<string, unknown>;

export interface StackDoc {
  readonly name: string;
  /** Terraform's working directory for the stack: relative paths (asset sources, filename) start here. */
  readonly dir: string;
  readonly file: string;
  readonly json: JsonObject;
}

export const SYNTH_HINT = "run `make synth` (or `npx cdktf synth`) first";

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A nested block as cdktf renders it: an object, or a list of at most one object
 * (`default_tags: [{...}]`). Absent, `null` and `[]` are all "not set".
 */
export function singleBlock(value: unknown, describe: () => string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length === 1 && isObject(value[0])) return value[0];
    throw new ModelError(`${describe()}: expected one block, found ${value.length}`);
  }
  if (isObject(value)) return value;
  throw new ModelError(`${describe()}: expected a block (object), found ${JSON.stringify(value)}`);
}

/** Repeated blocks (`inline_policy`, `precondition`): an object counts as a list of one. */
export function blockList(value: unknown): JsonObject[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter(isObject);
}

/** `resource.<type>` of a stack as [name, body] pairs, in file order. */
export function resourcesOf(stack: StackDoc, type: string): [string, JsonObject][] {
  const byType = isObject(stack.json.resource) ? stack.json.resource[type] : undefined;
  if (!isObject(byType)) return [];
  return Object.entries(byType).filter((entry): entry is [string, JsonObject] => isObject(entry[1]));
}

export function resourceBody(stack: StackDoc, type: string, name: string): JsonObject | undefined {
  return resourcesOf(stack, type).find(([n]) => n === name)?.[1];
}

/** Every resource of a stack, for scans such as preconditions. */
export function allResourcesOf(stack: StackDoc): { type: string; name: string; body: JsonObject }[] {
  const resource = isObject(stack.json.resource) ? stack.json.resource : {};
  return Object.keys(resource).flatMap((type) => resourcesOf(stack, type).map(([name, body]) => ({ type, name, body })));
}

function readJson(file: string, what: string): JsonObject {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ModelError(`${what} ${file} cannot be read (${(err as Error).message}): ${SYNTH_HINT}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${what} ${file} is not valid JSON (${(err as Error).message}): ${SYNTH_HINT}`);
  }
  if (!isObject(parsed)) throw new ModelError(`${what} ${file} does not hold a JSON object`);
  return parsed;
}

interface StackLocation {
  readonly name: string;
  readonly file: string;
  readonly dir: string;
}

/**
 * The stacks a cdktf output directory holds, by name: manifest.json's (what the last synth wrote; a stack
 * folder it no longer lists is left over from an earlier configuration), else the stacks/ folders.
 */
export function stackNamesIn(root: string): string[] {
  return locateStacks(root)
    .filter((s) => fs.existsSync(s.file))
    .map((s) => s.name)
    .sort();
}

/** Stack locations from manifest.json (what cdktf wrote), else from the stacks/ folder. */
function locateStacks(root: string): StackLocation[] {
  const manifestFile = path.join(root, "manifest.json");
  if (fs.existsSync(manifestFile)) {
    const stacks = readJson(manifestFile, "cdktf manifest").stacks;
    if (!isObject(stacks)) throw new ModelError(`cdktf manifest ${manifestFile} has no "stacks" object: ${SYNTH_HINT}`);
    return Object.entries(stacks).map(([name, entry]) => {
      const e = isObject(entry) ? entry : {};
      const file = typeof e.synthesizedStackPath === "string" ? e.synthesizedStackPath : path.join("stacks", name, "cdk.tf.json");
      const dir = typeof e.workingDirectory === "string" ? e.workingDirectory : path.dirname(file);
      return { name, file: path.join(root, file), dir: path.join(root, dir) };
    });
  }
  const stacksDir = path.join(root, "stacks");
  if (!fs.existsSync(stacksDir)) return [];
  return fs
    .readdirSync(stacksDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(stacksDir, d.name, "cdk.tf.json")))
    .map((d) => ({ name: d.name, file: path.join(stacksDir, d.name, "cdk.tf.json"), dir: path.join(stacksDir, d.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every stack of a cdktf output directory, keyed by name. */
export function readStacks(root: string): ReadonlyMap<string, StackDoc> {
  const locations = locateStacks(root);
  if (locations.length === 0)
    throw new ModelError(`no synthesized stacks in ${root} (no manifest.json, no stacks/<name>/cdk.tf.json): ${SYNTH_HINT}`);
  const out = new Map<string, StackDoc>();
  for (const loc of locations) {
    if (!fs.existsSync(loc.file))
      throw new ModelError(
        `stack '${loc.name}' is listed in ${path.join(root, "manifest.json")} but ${loc.file} is missing: ${SYNTH_HINT}`,
      );
    out.set(loc.name, { ...loc, json: readJson(loc.file, `stack '${loc.name}'`) });
  }
  return out;
}
