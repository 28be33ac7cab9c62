/**
 * Compares two synthesized output directories (cdktf's and cdktn's) stack by stack, resource by
 * resource and argument by argument, and everything outside resources (terraform blocks, providers,
 * outputs, data, metadata, the manifest, the recorded configuration). Asset paths that differ only
 * by folder are compared by the SHA-256 of the files they name.
 *
 * Every difference must be listed, with its reason, in the allowed-differences file, or it fails.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The value of a field one side does not have. */
export const ABSENT = "<absent>";
/** A whole resource (or stack, or file) that the other side does not have. */
export const PRESENT = "<present>";

export type Category = "resource arguments" | "resources added or removed" | "outside resources" | "assets";

export interface Difference {
  /** `<stack>:<json path>` for a stack's JSON, `<file>:<json path>` for another file, `<stack>:assets` for assets. */
  readonly path: string;
  readonly category: Category;
  readonly cdktf: unknown;
  readonly cdktn: unknown;
}

export interface AllowedDifference {
  /** As Difference.path; `*` matches any run of characters other than `.` (e.g. `*:["//"].metadata.version`). */
  readonly path: string;
  readonly cdktf: unknown;
  readonly cdktn: unknown;
  readonly reason: string;
}

export interface Comparison {
  readonly differences: Difference[];
  /** Paths whose values differ as text but name files with the same content. */
  readonly equalByContent: string[];
  readonly stacks: string[];
  readonly resources: number;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);

/** One path segment: a plain key as is, anything else as ["..."]; array indices as [i]. */
function segment(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  return /^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

export function joinPath(prefix: string, keys: readonly (string | number)[]): string {
  const rest = keys.map(segment).join("");
  return `${prefix}:${rest.startsWith(".") ? rest.slice(1) : rest}`;
}

function sha256(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** The file a relative path string names under a stack's folder, when it is one (asset sources). */
function fileUnder(dir: string, value: string): string | undefined {
  if (value.length === 0 || value.length > 1024 || path.isAbsolute(value) || value.includes("${")) return undefined;
  const file = path.resolve(dir, value);
  if (!file.startsWith(path.resolve(dir) + path.sep)) return undefined;
  try {
    return fs.statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

interface DiffContext {
  readonly prefix: string;
  readonly dirs?: { readonly cdktf: string; readonly cdktn: string };
  readonly category: (keys: readonly (string | number)[]) => Category;
  readonly out: Difference[];
  readonly equalByContent: string[];
}

/** Leaf-by-leaf differences between two JSON values; a missing key or index is ABSENT. */
function diffValues(a: Json, b: Json, keys: (string | number)[], ctx: DiffContext): void {
  if (isObject(a) && isObject(b)) {
    const all = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of all) diffValues(k in a ? a[k] : ABSENT, k in b ? b[k] : ABSENT, [...keys, k], ctx);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++)
      diffValues(i < a.length ? a[i] : ABSENT, i < b.length ? b[i] : ABSENT, [...keys, i], ctx);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  const where = joinPath(ctx.prefix, keys);
  if (typeof a === "string" && typeof b === "string" && ctx.dirs) {
    const fa = fileUnder(ctx.dirs.cdktf, a);
    const fb = fileUnder(ctx.dirs.cdktn, b);
    if (fa && fb && sha256(fa) === sha256(fb)) {
      ctx.equalByContent.push(`${where} (${a} and ${b}: sha256 ${sha256(fa)})`);
      return;
    }
  }
  ctx.out.push({ path: where, category: ctx.category(keys), cdktf: a, cdktn: b });
}

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

/** Stack name -> cdk.tf.json path relative to the output dir, from manifest.json (else stacks/<name>/cdk.tf.json). */
function stackFiles(root: string): Map<string, string> {
  const manifest = path.join(root, "manifest.json");
  const out = new Map<string, string>();
  if (fs.existsSync(manifest)) {
    const stacks = (readJson(manifest) as { stacks?: Record<string, { synthesizedStackPath?: string }> }).stacks ?? {};
    for (const [name, s] of Object.entries(stacks)) out.set(name, s.synthesizedStackPath ?? `stacks/${name}/cdk.tf.json`);
    return out;
  }
  const dir = path.join(root, "stacks");
  if (fs.existsSync(dir))
    for (const name of fs.readdirSync(dir))
      if (fs.existsSync(path.join(dir, name, "cdk.tf.json"))) out.set(name, `stacks/${name}/cdk.tf.json`);
  return out;
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(full) : e.isFile() ? [full] : [];
  });
}

/** Asset contents of a stack folder (every file but its cdk.tf.json), as sha256 -> relative paths. */
function assetContents(stackDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of filesUnder(stackDir)) {
    const rel = path.relative(stackDir, file);
    if (rel === "cdk.tf.json") continue;
    const hash = sha256(file);
    out.set(hash, [...(out.get(hash) ?? []), rel.split(path.sep).join("/")]);
  }
  return out;
}

const stackCategory = (keys: readonly (string | number)[]): Category => {
  // resource.<type>.<name>.<argument...>; a resource's "//" holds cdktf's metadata, not arguments.
  if (keys[0] === "resource" && keys.length >= 4 && keys[3] !== "//") return "resource arguments";
  return "outside resources";
};

function compareStack(name: string, fileA: string, fileB: string, ctx: Omit<DiffContext, "prefix" | "category" | "dirs">): number {
  const a = readJson(fileA) as Record<string, Json>;
  const b = readJson(fileB) as Record<string, Json>;
  const dirs = { cdktf: path.dirname(fileA), cdktn: path.dirname(fileB) };
  const sub: DiffContext = { ...ctx, prefix: name, dirs, category: stackCategory };
  const resA = (isObject(a.resource) ? a.resource : {}) as Record<string, Record<string, Json>>;
  const resB = (isObject(b.resource) ? b.resource : {}) as Record<string, Record<string, Json>>;
  let resources = 0;
  for (const type of [...new Set([...Object.keys(resA), ...Object.keys(resB)])].sort()) {
    const byIdA = resA[type] ?? {};
    const byIdB = resB[type] ?? {};
    for (const id of [...new Set([...Object.keys(byIdA), ...Object.keys(byIdB)])].sort()) {
      resources++;
      if (!(id in byIdA) || !(id in byIdB)) {
        ctx.out.push({
          path: joinPath(name, ["resource", type, id]),
          category: "resources added or removed",
          cdktf: id in byIdA ? PRESENT : ABSENT,
          cdktn: id in byIdB ? PRESENT : ABSENT,
        });
        continue;
      }
      diffValues(byIdA[id], byIdB[id], ["resource", type, id], sub);
    }
  }
  const { resource: _a, ...restA } = a;
  const { resource: _b, ...restB } = b;
  diffValues(restA, restB, [], sub);

  // Asset files by content: a folder name may differ, the bytes may not.
  const contentsA = assetContents(dirs.cdktf);
  const contentsB = assetContents(dirs.cdktn);
  for (const hash of [...new Set([...contentsA.keys(), ...contentsB.keys()])].sort()) {
    if (contentsA.has(hash) && contentsB.has(hash)) continue;
    ctx.out.push({
      path: `${name}:assets`,
      category: "assets",
      cdktf: contentsA.has(hash) ? `${contentsA.get(hash)!.join(", ")} (sha256 ${hash})` : ABSENT,
      cdktn: contentsB.has(hash) ? `${contentsB.get(hash)!.join(", ")} (sha256 ${hash})` : ABSENT,
    });
  }
  return resources;
}

/** Compares the cdktf output directory with the cdktn one. */
export function compareOutputs(cdktfDir: string, cdktnDir: string): Comparison {
  const out: Difference[] = [];
  const equalByContent: string[] = [];
  const ctx = { out, equalByContent };
  const stacksA = stackFiles(cdktfDir);
  const stacksB = stackFiles(cdktnDir);
  const names = [...new Set([...stacksA.keys(), ...stacksB.keys()])].sort();
  let resources = 0;
  for (const name of names) {
    const fa = stacksA.get(name);
    const fb = stacksB.get(name);
    if (!fa || !fb || !fs.existsSync(path.join(cdktfDir, fa)) || !fs.existsSync(path.join(cdktnDir, fb))) {
      const has = (root: string, f?: string) => (f && fs.existsSync(path.join(root, f)) ? PRESENT : ABSENT);
      out.push({ path: `${name}:`, category: "resources added or removed", cdktf: has(cdktfDir, fa), cdktn: has(cdktnDir, fb) });
      continue;
    }
    resources += compareStack(name, path.join(cdktfDir, fa), path.join(cdktnDir, fb), ctx);
  }
  // The other files at the top of the output (manifest.json, the recorded configuration).
  const topFiles = (root: string) =>
    fs.existsSync(root) ? fs.readdirSync(root).filter((f) => fs.statSync(path.join(root, f)).isFile()) : [];
  for (const file of [...new Set([...topFiles(cdktfDir), ...topFiles(cdktnDir)])].sort()) {
    const fa = path.join(cdktfDir, file);
    const fb = path.join(cdktnDir, file);
    if (!fs.existsSync(fa) || !fs.existsSync(fb)) {
      out.push({
        path: `${file}:`,
        category: "outside resources",
        cdktf: fs.existsSync(fa) ? PRESENT : ABSENT,
        cdktn: fs.existsSync(fb) ? PRESENT : ABSENT,
      });
      continue;
    }
    let a: Json;
    let b: Json;
    try {
      a = readJson(fa);
      b = readJson(fb);
    } catch {
      if (sha256(fa) !== sha256(fb))
        out.push({ path: `${file}:`, category: "outside resources", cdktf: `sha256 ${sha256(fa)}`, cdktn: `sha256 ${sha256(fb)}` });
      continue;
    }
    diffValues(a, b, [], { ...ctx, prefix: file, category: () => "outside resources" });
  }
  return { differences: out, equalByContent, stacks: names, resources };
}

/** `*` matches any run of characters other than `.`; everything else literally. */
function pathPattern(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split("*")
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^.]*")}$`,
  );
}

export function allowedFor(d: Difference, allowed: readonly AllowedDifference[]): AllowedDifference | undefined {
  return allowed.find(
    (a) =>
      pathPattern(a.path).test(d.path) &&
      JSON.stringify(a.cdktf) === JSON.stringify(d.cdktf) &&
      JSON.stringify(a.cdktn) === JSON.stringify(d.cdktn),
  );
}

/** Reads and checks the allowed-differences file: an array of {path, cdktf, cdktn, reason}, each reason said. */
export function readAllowed(file: string): AllowedDifference[] {
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  const problems: string[] = [];
  if (!Array.isArray(data)) throw new Error(`${file} must be a JSON array of {path, cdktf, cdktn, reason}`);
  data.forEach((e: unknown, i) => {
    if (!isObject(e)) {
      problems.push(`entry ${i} is not an object`);
      return;
    }
    const keys = Object.keys(e).sort().join(",");
    if (keys !== "cdktf,cdktn,path,reason") problems.push(`entry ${i} has keys ${keys}, expected exactly path, cdktf, cdktn, reason`);
    if (typeof e.path !== "string" || !e.path) problems.push(`entry ${i}: path must be a non-empty string`);
    if (typeof e.reason !== "string" || e.reason.trim().length < 10)
      problems.push(`entry ${i} (${String(e.path)}): reason must say why (a sentence)`);
  });
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
  return data as AllowedDifference[];
}

export interface Judgement {
  readonly allowed: { difference: Difference; entry: AllowedDifference }[];
  readonly failed: Difference[];
  /** Entries of the file no difference matched (printed, not fatal: a difference that went away is no risk). */
  readonly unused: AllowedDifference[];
}

export function judge(differences: readonly Difference[], allowed: readonly AllowedDifference[]): Judgement {
  const ok: Judgement["allowed"] = [];
  const failed: Difference[] = [];
  const used = new Set<AllowedDifference>();
  for (const d of differences) {
    const entry = allowedFor(d, allowed);
    if (entry) {
      ok.push({ difference: d, entry });
      used.add(entry);
    } else failed.push(d);
  }
  return { allowed: ok, failed, unused: allowed.filter((a) => !used.has(a)) };
}

const show = (v: unknown): string => JSON.stringify(v);

/** The report: every difference by category, with both values and the reason or the failure. */
export function formatReport(c: Comparison, j: Judgement, allowedFile: string): string {
  const lines: string[] = [];
  const categories: Category[] = ["resource arguments", "resources added or removed", "outside resources", "assets"];
  const entries = new Map(j.allowed.map((a) => [a.difference, a.entry]));
  const explained = new Set<AllowedDifference>();
  for (const category of categories) {
    const ds = c.differences.filter((d) => d.category === category);
    lines.push(`${category}: ${ds.length === 0 ? "no difference" : `${ds.length} difference(s)`}`);
    for (const d of ds) {
      const entry = entries.get(d);
      lines.push(`  ${entry === undefined ? "[FAIL]   " : "[allowed]"} ${d.path}`);
      lines.push(`      cdktf: ${show(d.cdktf)}`);
      lines.push(`      cdktn: ${show(d.cdktn)}`);
      if (entry === undefined)
        lines.push(`      not listed in ${allowedFile}: review it, then add {path, cdktf, cdktn, reason} there if it is intended`);
      else if (explained.has(entry)) lines.push(`      reason: as above (${entry.path})`);
      else {
        lines.push(`      reason: ${entry.reason}`);
        explained.add(entry);
      }
    }
  }
  if (c.equalByContent.length > 0) {
    lines.push(`equal by content (paths differ only by folder): ${c.equalByContent.length}`);
    for (const e of c.equalByContent) lines.push(`  ${e}`);
  }
  for (const u of j.unused)
    lines.push(`note: ${allowedFile} allows ${u.path} (${show(u.cdktf)} -> ${show(u.cdktn)}), which no longer differs`);
  return lines.join("\n");
}
