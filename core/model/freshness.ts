/**
 * Keeps the synthesized stacks the model reads in step with the sources: they are
 * re-synthesized when missing, older than any input of `main.ts`, or built from another configuration.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigValidationError } from "../../config/config";
import { CONFIG_RECORD_FILE, loadConfig } from "../../config/load";
import { stackNamesIn } from "./stack-files";
import { ModelError } from "./types";

/** The stacks the model needs: the callee and at least one caller ("caller", or "caller-<name>" with several callers). */
export const REQUIRED_STACKS = ["callee", "caller"] as const;

/** The synthesized files the model reads: the callee's and every caller stack's; the missing one first when there is none. */
function modelStackFiles(outDir: string): { files: string[]; missing?: string } {
  const callee = stackFile(outDir, "callee");
  let names: string[];
  try {
    names = stackNamesIn(outDir);
  } catch {
    names = []; // an unreadable manifest: synthesize again
  }
  const callers = names.filter((name) => name === "caller" || name.startsWith("caller-")).map((name) => stackFile(outDir, name));
  if (!fs.existsSync(callee)) return { files: [], missing: callee };
  if (callers.length === 0) return { files: [], missing: stackFile(outDir, "caller") };
  return { files: [callee, ...callers] };
}

/** Folders whose .ts files feed the synthesized stacks (lambda-src: through the bundled zips). */
const SOURCE_DIRS = ["config", "constructs", "stacks", "lambda-src"];
const SOURCE_FILES = ["main.ts", "cdktf.json", "package-lock.json", "cross-account.config.json"];

export interface FreshnessOptions {
  readonly projectRoot: string;
  /** The cdktf output directory; default `<projectRoot>/cdktf.out`. */
  readonly outDir?: string;
  /** Files the output depends on; default synthInputs(projectRoot). */
  readonly inputs?: readonly string[];
  /** Extra environment for the synthesis (e.g. XACCT_* configuration), on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface EnsureSynthesizedOptions extends FreshnessOptions {
  readonly log?: (msg: string) => void;
}

function tsFilesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : tsFilesUnder(full);
    return entry.isFile() && entry.name.endsWith(".ts") ? [full] : [];
  });
}

/** Every existing input of the synthesis: the entry point, its configuration and lock file, and the sources it compiles. */
export function synthInputs(projectRoot: string): string[] {
  const files = SOURCE_FILES.map((f) => path.join(projectRoot, f)).filter((f) => fs.existsSync(f));
  return [...files, ...SOURCE_DIRS.flatMap((d) => tsFilesUnder(path.join(projectRoot, d)))];
}

const outDirOf = (opts: FreshnessOptions): string => path.resolve(opts.projectRoot, opts.outDir ?? "cdktf.out");
const stackFile = (outDir: string, stack: string): string => path.join(outDir, "stacks", stack, "cdk.tf.json");

/** Why the output must be re-synthesized, or undefined when it is up to date. */
export function findStaleness(opts: FreshnessOptions): string | undefined {
  const outDir = outDirOf(opts);
  const shown = (file: string) => {
    const relative = path.relative(opts.projectRoot, file);
    return relative && !relative.startsWith("..") ? relative : file;
  };
  const { files: outputs, missing } = modelStackFiles(outDir);
  if (missing) return `${shown(missing)} is missing`;
  const oldest = outputs.map((f) => ({ file: f, mtime: fs.statSync(f).mtimeMs })).reduce((a, b) => (b.mtime < a.mtime ? b : a));
  const inputs = (opts.inputs ?? synthInputs(opts.projectRoot)).filter((f) => fs.existsSync(f));
  const newest = inputs
    .map((f) => ({ file: f, mtime: fs.statSync(f).mtimeMs }))
    .reduce<{ file: string; mtime: number } | undefined>((a, b) => (a && a.mtime >= b.mtime ? a : b), undefined);
  if (newest && newest.mtime > oldest.mtime) return `${shown(oldest.file)} is older than ${shown(newest.file)}`;
  return configurationChange(opts, outDir, shown);
}

/** XACCT_* variables and the file XACCT_CONFIG_FILE names are inputs too, though no file time shows them. */
function configurationChange(opts: FreshnessOptions, outDir: string, shown: (file: string) => string): string | undefined {
  const recordFile = path.join(outDir, CONFIG_RECORD_FILE);
  if (!fs.existsSync(recordFile)) return `${shown(recordFile)} is missing, so the configuration the stacks were built from is unknown`;
  let current: Record<string, unknown>;
  try {
    current = { ...loadConfig({ env: { ...process.env, ...opts.env }, cwd: opts.projectRoot }) };
  } catch (err) {
    // Synthesis will report the problem in full.
    if (err instanceof ConfigValidationError) return "the current configuration is invalid";
    throw err;
  }
  let recorded: Record<string, unknown>;
  try {
    recorded = JSON.parse(fs.readFileSync(recordFile, "utf8"));
  } catch {
    return `${shown(recordFile)} is not valid JSON`;
  }
  const changed = [...new Set([...Object.keys(current), ...Object.keys(recorded)])].filter(
    (k) => JSON.stringify(current[k]) !== JSON.stringify(recorded[k]),
  );
  return changed.length > 0 ? `the configuration changed since the last synthesis (${changed.sort().join(", ")})` : undefined;
}

function runSynth(projectRoot: string, outDir: string, env: Readonly<Record<string, string>>): Promise<void> {
  return new Promise((resolve, reject) => {
    // CDKTF_OUTDIR is where cdktf's App writes when no outdir is passed to it (node_modules/cdktf/lib/app.js).
    const child = spawn("npx", ["tsx", "main.ts"], {
      cwd: projectRoot,
      env: { ...process.env, ...env, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (err) => reject(new ModelError(`cannot run 'npx tsx main.ts' in ${projectRoot}: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const output = stderr.trim() || stdout.trim() || "(no output)";
      reject(new ModelError(`synthesis failed ('npx tsx main.ts' ${signal ? `killed by ${signal}` : `exited with ${code}`}):\n${output}`));
    });
  });
}

/** Synthesizes into outDir when findStaleness says so; a failed synthesis is a ModelError carrying its stderr. */
export async function ensureSynthesized(opts: EnsureSynthesizedOptions): Promise<{ synthesized: boolean; reason?: string }> {
  const reason = findStaleness(opts);
  if (reason === undefined) return { synthesized: false };
  const outDir = outDirOf(opts);
  opts.log?.(`synthesizing into ${outDir}: ${reason}`);
  // cdktf creates only the last level of its output directory.
  fs.mkdirSync(outDir, { recursive: true });
  await runSynth(opts.projectRoot, outDir, opts.env ?? {});
  const { missing } = modelStackFiles(outDir);
  if (missing)
    throw new ModelError(
      `synthesis succeeded but wrote no ${missing}: does main.ts still build the callee stack and a caller stack ('caller' or 'caller-<name>')?`,
    );
  return { synthesized: true, reason };
}
