/**
 * The mechanical migration from CDK for Terraform (cdktf 0.21) to CDK Terrain (cdktn 0.24), one
 * implementation for `make test-cdktn` (on a copy in build/cdktn) and `make migrate-cdktn` (on the
 * working copy). Pure text rewrites, idempotent: migrating a migrated project changes nothing.
 *
 * What changes:
 *  - module specifiers in code (import/export from, import(), require(), require.resolve(), jest.mock()):
 *    cdktf -> cdktn, cdktf-cli -> cdktn-cli, @cdktf/provider-aws[/lib/...] -> @cdktn/provider-aws[/lib/...]
 *    (the deep paths are the same in @cdktn/provider-aws 25: lib/<resource>/index.js; checked after install
 *    by unresolvedDeepImports);
 *  - any other mention of the package @cdktf/provider-aws (eslint's no-restricted-imports, comments);
 *  - CLI invocations: `npx cdktf ...` and `cdktf <subcommand>` -> cdktn (package.json scripts, the
 *    Makefile, hints in error messages and the tests that assert them);
 *  - the AWS provider version a test asserts (a quoted version on a line naming required_providers): the
 *    version each binding pins changes with the bindings (AWS_PROVIDER), so the assertion follows it;
 *  - package.json: the three packages renamed and pinned, constructs pinned, engines.node >= 22.19.
 * What does not: cdktf.json (cdktn-cli 0.24 still reads cdktf.json, passes CDKTF_CONTEXT_JSON and
 * CDKTF_OUTDIR, and writes cdktf.out), the stacks' own values (the ManagedBy = "cdktf" tag, the
 * "cdktf-..." session names: changing them would change deployed resources), documentation.
 */
import * as fs from "fs";
import * as path from "path";
import { compareVersions, REQUIRED_NODE } from "./node-version";

/** The versions the migration pins; toolchain/cdktn/package-lock.json resolves exactly these. */
export const CDKTN_VERSIONS = {
  cdktn: "0.24.0",
  "cdktn-cli": "0.24.0",
  // The newest release for cdktn ^0.24.0 (23.x and 24.x are for cdktn 0.22 and 0.23); AWS provider 6.66.0.
  "@cdktn/provider-aws": "25.7.0",
  // What cdktn 0.24.0 is built and tested with (its devDependency) and what cdktn-cli 0.24.0 pins,
  // inside the peer range of cdktn and @cdktn/provider-aws (>=10.6.0 <10.8.0): one copy in node_modules.
  constructs: "10.6.0",
} as const;

/**
 * The AWS provider version each binding generates for and pins in terraform.required_providers
 * (its package.json: "cdktf".provider.version; "cdktn".provider.version). make test-cdktn checks
 * both against the installed packages.
 */
export const AWS_PROVIDER = { cdktf: "6.25.0", cdktn: "6.66.0" } as const;

export interface RewriteOptions {
  /** The provider version the project's current binding pins (default AWS_PROVIDER.cdktf). */
  readonly awsProviderFrom?: string;
}

/** cdktf package -> cdktn package. */
export const PACKAGE_RENAMES: Readonly<Record<string, keyof typeof CDKTN_VERSIONS>> = {
  cdktf: "cdktn",
  "cdktf-cli": "cdktn-cli",
  "@cdktf/provider-aws": "@cdktn/provider-aws",
};

/** Files that moved: the CLI's entry point (cdktf-cli: bin cdktf -> bundle/bin/cdktf; cdktn-cli: bin cdktn -> bin/cdktn). */
const SUBPATH_RENAMES: Readonly<Record<string, string>> = {
  "cdktf-cli/bundle/bin/cdktf": "/bin/cdktn",
  "cdktf-cli/bundle/bin/cdktf.js": "/bundle/bin/cdktn.js",
};

export const ENGINES_NODE = `>=${REQUIRED_NODE.replace(/\.0$/, "")}`;

const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const;

/** Files the source rewrite reads, by name ending. */
const CODE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs"];
const OTHER_FILES = new Set(["Makefile"]);
const SHELL_EXTENSIONS = [".sh"];
/**
 * Never walked (and never copied into test-cdktn's build folder): installed, generated, state, or the migration's
 * own files (whose fixtures name cdktf on purpose).
 */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  "node_modules",
  ".git",
  "build",
  "cdktf.out",
  ".gen",
  ".venv",
  "coverage",
  "terraform-state",
  ".terraform",
  ".local-aws",
  "toolchain",
]);
export const SKIPPED_PATHS: ReadonlySet<string> = new Set(["scripts/cdktn", "__tests__/cdktn"]);

// Positions where a string is a module specifier.
const SPECIFIER_CONTEXT = String.raw`(\bfrom\s*|\bimport\s*\(?\s*|\brequire(?:\.resolve)?\s*\(\s*|\bjest\.(?:mock|doMock|unmock|requireActual|requireMock)\s*\(\s*)`;
const SPECIFIER = new RegExp(`${SPECIFIER_CONTEXT}(["'\`])(cdktf-cli|cdktf|@cdktf/provider-aws)((?:/[^"'\`\\s]*)?)\\2`, "g");
/** Any remaining cdktf module specifier after the rewrite: one the migration has no mapping for. */
const UNMAPPED = new RegExp(`${SPECIFIER_CONTEXT}(["'\`])((?:cdktf(?:-[a-z-]+)?|@cdktf/[a-z0-9-]+)(?:/[^"'\`\\s]*)?)\\2`, "g");
const PROVIDER_MENTION = /@cdktf\/provider-aws(?![\w-])/g;
// Subcommands that read as commands only ("cdktf output directory" is prose and stays).
const CLI_SUBCOMMANDS = "synth|deploy|destroy|diff|get|watch|convert";
const NPX_CLI = /\bnpx(\s+)cdktf(?![\w.-])/g;
const CLI_COMMAND = new RegExp(`(^|[^\\w.@/-])cdktf(\\s+)(${CLI_SUBCOMMANDS})\\b`, "gm");

function rewriteProviderVersion(text: string, from: string): string {
  if (from === AWS_PROVIDER.cdktn) return text;
  const quoted = new RegExp(`(["'\`])${from.replace(/\./g, "\\.")}\\1`, "g");
  return text
    .split("\n")
    .map((line) => (line.includes("required_providers") ? line.replace(quoted, `$1${AWS_PROVIDER.cdktn}$1`) : line))
    .join("\n");
}

/** The rewritten text of one source, Makefile or shell script; the same text when nothing applies. */
export function rewriteSource(text: string, options: RewriteOptions = {}): string {
  const rewritten = text
    .replace(
      SPECIFIER,
      (_m, context: string, quote: string, name: string, subpath: string) =>
        `${context}${quote}${PACKAGE_RENAMES[name]}${SUBPATH_RENAMES[`${name}${subpath}`] ?? subpath}${quote}`,
    )
    .replace(PROVIDER_MENTION, "@cdktn/provider-aws")
    .replace(NPX_CLI, "npx$1cdktn")
    .replace(CLI_COMMAND, "$1cdktn$2$3");
  return rewriteProviderVersion(rewritten, options.awsProviderFrom ?? AWS_PROVIDER.cdktf);
}

/** cdktf module specifiers the rewrite has no mapping for (e.g. another @cdktf/provider-*). */
export function unmappedSpecifiers(text: string): string[] {
  return [...text.matchAll(UNMAPPED)].map((m) => m[3]);
}

/** The CLI rewrite alone, for package.json scripts. */
export function rewriteCommand(command: string): string {
  return command.replace(NPX_CLI, "npx$1cdktn").replace(CLI_COMMAND, "$1cdktn$2$3");
}

/** True when an engines.node range admits nothing older than REQUIRED_NODE (its lower bound is at least that). */
export function enginesAtLeastRequired(range: string | undefined): boolean {
  if (!range) return false;
  const m = /(?:>=|\^|~)\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(range);
  if (!m || /\|\|/.test(range)) return false;
  return compareVersions(`${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`, REQUIRED_NODE) >= 0;
}

type Json = Record<string, unknown>;

function renameKeys(deps: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, version] of Object.entries(deps)) {
    const renamed = PACKAGE_RENAMES[name];
    if (renamed) out[renamed] = CDKTN_VERSIONS[renamed];
    else if (name in CDKTN_VERSIONS) out[name] = CDKTN_VERSIONS[name as keyof typeof CDKTN_VERSIONS];
    else out[name] = version;
  }
  return out;
}

/** The migrated package.json object (a new object; keys keep their order). */
export function migratePackageJson(pkg: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(pkg)) {
    if ((DEPENDENCY_FIELDS as readonly string[]).includes(key) && value && typeof value === "object") {
      out[key] = renameKeys(value as Record<string, string>);
    } else if (key === "scripts" && value && typeof value === "object") {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, string>).map(([k, v]) => [k, typeof v === "string" ? rewriteCommand(v) : v]),
      );
    } else if (key === "engines" && value && typeof value === "object") {
      const engines = value as Record<string, string>;
      out[key] = { ...engines, node: enginesAtLeastRequired(engines.node) ? engines.node : ENGINES_NODE };
    } else {
      out[key] = value;
    }
  }
  if (!("engines" in out)) out.engines = { node: ENGINES_NODE };
  return out;
}

/** package.json text -> migrated text (2-space JSON and a final newline, as npm writes it). */
export function migratePackageJsonText(text: string): string {
  const migrated = migratePackageJson(JSON.parse(text) as Json);
  const rendered = JSON.stringify(migrated, null, 2) + "\n";
  // Unchanged content keeps its exact bytes (idempotence, even for a file npm did not write).
  return JSON.stringify(JSON.parse(text)) === JSON.stringify(migrated) ? text : rendered;
}

/** True when package.json still depends on a cdktf package. */
export function usesCdktf(pkg: Json): boolean {
  return DEPENDENCY_FIELDS.some((f) => Object.keys((pkg[f] as Json | undefined) ?? {}).some((name) => name in PACKAGE_RENAMES));
}

function isMigratedFile(rel: string): boolean {
  const base = path.basename(rel);
  return OTHER_FILES.has(base) || [...CODE_EXTENSIONS, ...SHELL_EXTENSIONS].some((ext) => base.endsWith(ext)) || rel.startsWith(".ci/");
}

/** The project's files the source rewrite applies to, relative to root, sorted. */
export function migratableFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !SKIPPED_PATHS.has(child)) walk(child);
      } else if (entry.isFile() && isMigratedFile(child)) {
        out.push(child);
      }
    }
  };
  walk("");
  return out.sort();
}

export interface FileChange {
  readonly file: string;
  readonly before: string;
  readonly after: string;
}

export interface MigrationPlan {
  /** Files whose text changes (package.json included). */
  readonly changes: FileChange[];
  /** cdktf module specifiers with no mapping, as "file: specifier": the migration cannot be complete. */
  readonly unmapped: string[];
}

/** The AWS provider version the installed @cdktf/provider-aws of root pins, if it is installed. */
export function installedCdktfProviderVersion(root: string): string | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "node_modules", "@cdktf", "provider-aws", "package.json"), "utf8"));
    return typeof pkg.cdktf?.provider?.version === "string" ? pkg.cdktf.provider.version : undefined;
  } catch {
    return undefined;
  }
}

/** What migrating root would change, without writing anything. */
export function planMigration(root: string, options: RewriteOptions = {}): MigrationPlan {
  const changes: FileChange[] = [];
  const unmapped: string[] = [];
  const pkgFile = path.join(root, "package.json");
  if (fs.existsSync(pkgFile)) {
    const before = fs.readFileSync(pkgFile, "utf8");
    const after = migratePackageJsonText(before);
    if (after !== before) changes.push({ file: "package.json", before, after });
  }
  for (const file of migratableFiles(root)) {
    const before = fs.readFileSync(path.join(root, file), "utf8");
    const after = rewriteSource(before, options);
    if (after !== before) changes.push({ file, before, after });
    for (const spec of unmappedSpecifiers(after)) unmapped.push(`${file}: ${spec}`);
  }
  return { changes, unmapped };
}

/** Writes a plan's changes (file modes are kept: a shell script stays executable). */
export function applyMigration(root: string, plan: MigrationPlan): void {
  for (const change of plan.changes) fs.writeFileSync(path.join(root, change.file), change.after);
}

/** How many lines of a change differ, for the printed summary. */
export function changedLineCount(change: FileChange): number {
  const a = change.before.split("\n");
  const b = change.after.split("\n");
  let n = Math.abs(a.length - b.length);
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}

/**
 * The cdktn module specifiers in the migrated files that do not resolve in root's node_modules: the
 * deep paths of @cdktn/provider-aws must be lib/<name>/index.js, as in @cdktf/provider-aws.
 */
export function unresolvedDeepImports(root: string): string[] {
  const missing = new Set<string>();
  const specifier = new RegExp(`${SPECIFIER_CONTEXT}(["'\`])((?:cdktn|cdktn-cli|@cdktn/provider-aws)(?:/[^"'\`\\s]*)?)\\2`, "g");
  for (const file of migratableFiles(root)) {
    for (const m of fs.readFileSync(path.join(root, file), "utf8").matchAll(specifier)) {
      // A CLI package has no main module: its package.json is what must exist.
      const target = m[3] === "cdktn-cli" ? "cdktn-cli/package.json" : m[3];
      try {
        require.resolve(target, { paths: [root] });
      } catch {
        missing.add(`${file}: ${m[3]}`);
      }
    }
  }
  return [...missing].sort();
}
