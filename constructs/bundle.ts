import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { buildSync } from "esbuild";
import { zipSync } from "fflate";
import { UserFacingError } from "../config/user-facing-error";

export interface FunctionBundle {
  /** Absolute path of the deployable zip. */
  readonly zipPath: string;
  /** base64(sha256(zip)), the form Lambda's source_code_hash and CodeSha256 use. */
  readonly sha256Base64: string;
  /** hex(sha256(zip)), used for content-addressed S3 keys. */
  readonly sha256Hex: string;
  readonly bytes: number;
}

/** A function's source cannot be bundled; the message says which file and why. */
export class BundleError extends UserFacingError {
  readonly code = "BUNDLE_FAILED";

  constructor(message: string) {
    super(message);
  }
}

/** Lambda's Node.js handler file inside the zip; the handler string is "index.handler". */
export const HANDLER_FILE = "index.js";
export const HANDLER = "index.handler";

// Fixed timestamp and mode for every entry so the same source gives the same
// bytes, hence the same source_code_hash, on every machine.
const ZIP_MTIME = new Date("1980-01-01T00:00:00Z");

/**
 * Bundles lambda-src/<name>/index.ts with esbuild (minified, tree-shaken, the
 * AWS SDK v3 clients included, so the function never depends on the SDK
 * version the runtime happens to ship) into a deterministic zip.
 */
export function bundleFunction(sourceDir: string, outDir: string): FunctionBundle {
  const entry = path.join(sourceDir, "index.ts");
  if (!fs.existsSync(entry)) {
    throw new BundleError(
      `Cannot bundle function: ${entry} does not exist. Each function lives in lambda-src/<name>/index.ts and exports 'handler'.`,
    );
  }
  let result;
  try {
    result = buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      // nodejs22.x runs it, and so does the local runtime. CommonJS: its import measured lower than ESM's on Node 22
      // (make bench, functions.*.esm_init_ms), and mainFields module,main lets esbuild tree-shake the SDK's ES builds.
      target: "node22",
      format: "cjs",
      minify: true,
      treeShaking: true,
      mainFields: ["module", "main"],
      legalComments: "none",
      write: false,
      logLevel: "silent",
      absWorkingDir: path.resolve(sourceDir, "..", ".."),
    });
  } catch (err) {
    const errors = (err as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const detail = errors.map((e) => `  ${e.location ? `${e.location.file}:${e.location.line}: ` : ""}${e.text}`).join("\n");
    throw new BundleError(`Cannot bundle ${entry}:\n${detail || (err as Error).message}`);
  }
  const code = result.outputFiles[0].contents;
  const zip = zipSync({ [HANDLER_FILE]: [code, { mtime: ZIP_MTIME, level: 9 }] }, { mtime: ZIP_MTIME });

  fs.mkdirSync(outDir, { recursive: true });
  const zipPath = path.join(outDir, "function.zip");
  // Write then rename, so parallel synths (jest workers) never read a half-written zip.
  const tmp = `${zipPath}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, zip);
  fs.renameSync(tmp, zipPath);

  const digest = crypto.createHash("sha256").update(zip).digest();
  return {
    zipPath,
    sha256Base64: digest.toString("base64"),
    sha256Hex: digest.toString("hex"),
    bytes: zip.byteLength,
  };
}
