/**
 * Regenerates toolchain/cdktn/{package.json,package-lock.json} from the registry: the migration of the
 * project's package.json, resolved starting from the project's own package-lock.json, so every package
 * the migration does not touch keeps the exact version (and integrity) the project pins.
 *
 *   node --import tsx scripts/cdktn/update-lock.ts
 *
 * Run it when `make test-cdktn` says the toolchain no longer matches package.json; review the diff of
 * toolchain/cdktn and commit it. Only this command needs the network; make test-cdktn installs with npm ci.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CDKTN_VERSIONS, migratePackageJsonText } from "./migrate";
import { requireNode } from "./node-version";
import { PROJECT_ROOT, TOOLCHAIN_DIR, TOOLCHAIN_LOCK, TOOLCHAIN_PACKAGE } from "./paths";

requireNode("scripts/cdktn/update-lock.ts");

const work = path.join(PROJECT_ROOT, "build", "cdktn-lock");
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const pkg = migratePackageJsonText(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
fs.writeFileSync(path.join(work, "package.json"), pkg);
fs.copyFileSync(path.join(PROJECT_ROOT, "package-lock.json"), path.join(work, "package-lock.json"));

const npm = spawnSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"], {
  cwd: work,
  stdio: "inherit",
});
if (npm.status !== 0) {
  console.error(
    `update-lock: npm install --package-lock-only failed in ${path.relative(PROJECT_ROOT, work)} (exit ${npm.status}); toolchain/cdktn is unchanged.`,
  );
  process.exit(1);
}

const lock = JSON.parse(fs.readFileSync(path.join(work, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; integrity?: string }>;
};
const problems: string[] = [];
for (const [name, version] of Object.entries(CDKTN_VERSIONS)) {
  const entry = lock.packages[`node_modules/${name}`];
  if (entry?.version !== version) problems.push(`${name} resolved to ${entry?.version ?? "nothing"}, not ${version}`);
  else if (!entry.integrity) problems.push(`${name} has no integrity in the lock`);
}
const leftovers = Object.keys(lock.packages).filter((k) => /node_modules\/(cdktf|cdktf-cli|@cdktf\/provider-aws)$/.test(k));
if (leftovers.length > 0) problems.push(`cdktf packages are still locked: ${leftovers.join(", ")}`);
if (problems.length > 0) {
  console.error(`update-lock: the generated lock is not what the migration pins (${problems.join("; ")}); toolchain/cdktn is unchanged.`);
  process.exit(1);
}

fs.mkdirSync(TOOLCHAIN_DIR, { recursive: true });
fs.writeFileSync(TOOLCHAIN_PACKAGE, pkg);
fs.copyFileSync(path.join(work, "package-lock.json"), TOOLCHAIN_LOCK);
console.log(
  `update-lock: wrote ${path.relative(PROJECT_ROOT, TOOLCHAIN_PACKAGE)} and ${path.relative(PROJECT_ROOT, TOOLCHAIN_LOCK)} (${Object.entries(
    CDKTN_VERSIONS,
  )
    .map(([n, v]) => `${n} ${v}`)
    .join(", ")}); review and commit them.`,
);
