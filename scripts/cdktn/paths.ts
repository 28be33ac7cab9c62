/** Where the CDK Terrain toolchain lives in this project. */
import * as fs from "fs";
import * as path from "path";
import { migratePackageJson } from "./migrate";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const TOOLCHAIN_DIR = path.join(PROJECT_ROOT, "toolchain", "cdktn");
export const TOOLCHAIN_PACKAGE = path.join(TOOLCHAIN_DIR, "package.json");
export const TOOLCHAIN_LOCK = path.join(TOOLCHAIN_DIR, "package-lock.json");
export const ALLOWED_DIFFERENCES = path.join(TOOLCHAIN_DIR, "allowed-differences.json");
export const UPDATE_LOCK_COMMAND = "node --import tsx scripts/cdktn/update-lock.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The first path where two JSON values differ (with both values), or undefined when they are equal. */
export function firstDifference(a: unknown, b: unknown, where = ""): { path: string; a: unknown; b: unknown } | undefined {
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const d = firstDifference(a[k], b[k], where ? `${where}.${k}` : k);
      if (d) return d;
    }
    return undefined;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  return { path: where || "(root)", a, b };
}

/**
 * Why toolchain/cdktn/package.json is not the migration of the project's package.json (a dependency
 * was changed since the lock was generated), or undefined when it is.
 */
export function toolchainMismatch(projectPackageJson: string): string | undefined {
  if (!fs.existsSync(TOOLCHAIN_PACKAGE) || !fs.existsSync(TOOLCHAIN_LOCK))
    return `${path.relative(PROJECT_ROOT, TOOLCHAIN_DIR)} has no package.json and package-lock.json`;
  const expected = migratePackageJson(JSON.parse(fs.readFileSync(projectPackageJson, "utf8")));
  const committed = JSON.parse(fs.readFileSync(TOOLCHAIN_PACKAGE, "utf8"));
  const d = firstDifference(expected, committed);
  if (d === undefined) return undefined;
  const shown = (v: unknown) => (v === undefined ? "nothing" : JSON.stringify(v));
  return `toolchain/cdktn/package.json is not the migration of package.json (at ${d.path} the migration gives ${shown(d.a)}, toolchain/cdktn has ${shown(d.b)})`;
}
