/**
 * Everything on disk an execution environment needs: the function's code,
 * extracted once per content hash, and the compiled bootstrap.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { buildSync } from "esbuild";
import { unzipSync } from "fflate";

export const BOOTSTRAP_FILE = "bootstrap.cjs";

function randomSuffix(): string {
  return `${process.pid}.${crypto.randomBytes(6).toString("hex")}`;
}

/** Function names are [A-Za-z0-9_-]; anything else must not become a path segment as is. */
function safeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^\.+/, "_") || "_";
}

/**
 * Verifies the zip (when the stack recorded a hash) and extracts it to
 * <cacheDir>/<name>/<sha256>/, returning that directory (the task root).
 *
 * Extraction goes to a temporary sibling and is renamed into place, so a pool in
 * another process never sees a half-written tree; if another pool won the race,
 * its identical tree is used.
 */
export function prepareFunctionCode(functionName: string, zipPath: string, expectedSha256: string | undefined, cacheDir: string): string {
  let zip: Buffer;
  try {
    zip = fs.readFileSync(zipPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new Error(
        `Function ${functionName}: deployment package ${zipPath} does not exist. Run \`make synth\` to bundle the functions and synthesize the stacks.`,
      );
    }
    throw new Error(`Function ${functionName}: cannot read deployment package ${zipPath}: ${(error as Error).message}`);
  }
  const sha256 = crypto.createHash("sha256").update(zip).digest("hex");
  if (expectedSha256 !== undefined && expectedSha256.toLowerCase() !== sha256) {
    throw new Error(
      `Function ${functionName}: deployment package ${zipPath} is stale: its SHA-256 is ${sha256} but the synthesized stack expects ${expectedSha256}. Run \`make synth\` to rebuild the bundle and the stacks together.`,
    );
  }

  const functionDir = path.join(cacheDir, safeSegment(functionName));
  const taskRoot = path.join(functionDir, sha256);
  if (fs.existsSync(taskRoot)) return taskRoot;

  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(zip.buffer, zip.byteOffset, zip.byteLength));
  } catch (error) {
    throw new Error(
      `Function ${functionName}: deployment package ${zipPath} is not a valid zip (${(error as Error).message}). Run \`make synth\` to rebuild it.`,
    );
  }

  fs.mkdirSync(functionDir, { recursive: true });
  const staging = path.join(functionDir, `.${sha256}.${randomSuffix()}.tmp`);
  fs.mkdirSync(staging);
  try {
    for (const [name, data] of Object.entries(entries)) {
      const target = path.resolve(staging, name);
      // Zip-slip guard: an entry may never land outside the task root.
      const relative = path.relative(staging, target);
      if (path.isAbsolute(name) || relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
        throw new Error(
          `Function ${functionName}: deployment package ${zipPath} has an unsafe entry '${name}'. Run \`make synth\` to rebuild it.`,
        );
      }
      if (relative === "") continue; // a "./" entry
      if (name.endsWith("/")) {
        fs.mkdirSync(target, { recursive: true });
        continue;
      }
      fs.mkdirSync(path.dirname(target), { recursive: true });
      // Read-only like /var/task; directories stay writable so the cache can be deleted.
      fs.writeFileSync(target, data, { mode: 0o444 });
    }
    try {
      fs.renameSync(staging, taskRoot);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another pool renamed its identical tree first.
      if ((code === "ENOTEMPTY" || code === "EEXIST") && fs.existsSync(taskRoot)) {
        fs.rmSync(staging, { recursive: true, force: true });
        return taskRoot;
      }
      throw error;
    }
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  return taskRoot;
}

const compiledBootstraps = new Map<string, string>();

/**
 * Compiles bootstrap.ts to <cacheDir>/bootstrap.cjs, once per process and cache
 * directory (recompiled each run, so an edited bootstrap is never stale).
 */
export function ensureBootstrap(cacheDir: string): string {
  const known = compiledBootstraps.get(cacheDir);
  if (known !== undefined) return known;
  const source = path.join(__dirname, "bootstrap.ts");
  if (!fs.existsSync(source)) {
    throw new Error(
      `Cannot start the local Lambda runtime: ${source} is missing (FunctionPool must run from the TypeScript sources, e.g. with tsx or ts-jest).`,
    );
  }
  let code: Uint8Array;
  try {
    const result = buildSync({
      entryPoints: [source],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
    });
    code = result.outputFiles[0].contents;
  } catch (error) {
    const errors = (error as { errors?: { text: string }[] }).errors ?? [];
    throw new Error(`Cannot compile ${source}: ${errors.map((e) => e.text).join("; ") || (error as Error).message}`);
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const target = path.join(cacheDir, BOOTSTRAP_FILE);
  // Write then rename: a pool in another process may be forking the previous copy right now.
  const staging = `${target}.${randomSuffix()}.tmp`;
  fs.writeFileSync(staging, code);
  fs.renameSync(staging, target);
  compiledBootstraps.set(cacheDir, target);
  return target;
}
