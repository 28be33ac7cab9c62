/**
 * make migrate-cdktn: migrates this working copy from CDK for Terraform to CDK Terrain, with the same
 * migration make test-cdktn proves on a copy (scripts/cdktn/migrate.ts). make then runs make test.
 *
 *   node --import tsx scripts/cdktn/migrate-cdktn.ts [--dir DIR]     (DIR: default the current directory)
 *
 * Before changing anything it refuses: in CI (it rewrites the repository it runs in), outside a git
 * working copy, on uncommitted changes (git status --porcelain: the migration must be one diff you can
 * review and undo), and on a Node.js older than 22.19. Then: package.json, the sources, the Makefile;
 * package-lock.json copied from toolchain/cdktn when the migrated package.json is the one it was
 * generated for (else npm install regenerates it from the registry); npm ci; the deep imports checked.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  applyMigration,
  changedLineCount,
  installedCdktfProviderVersion,
  planMigration,
  unresolvedDeepImports,
  usesCdktf,
} from "./migrate";
import { requireNode } from "./node-version";
import { firstDifference, TOOLCHAIN_LOCK, TOOLCHAIN_PACKAGE } from "./paths";

const NAME = "make migrate-cdktn";

function refuse(sentence: string, details: readonly string[] = []): never {
  console.error(`${NAME}: ${sentence}`);
  for (const d of details) console.error(`  ${d}`);
  process.exit(1);
}

function parseDir(argv: readonly string[]): string {
  if (argv.length === 0) return process.cwd();
  if (argv.length === 2 && argv[0] === "--dir") return path.resolve(argv[1]);
  console.error("usage: node --import tsx scripts/cdktn/migrate-cdktn.ts [--dir DIR]");
  process.exit(2);
}

function git(dir: string, args: readonly string[]) {
  return spawnSync("git", ["-C", dir, ...args], { encoding: "utf8" });
}

const dir = parseDir(process.argv.slice(2));

// 1. Never in CI: it rewrites the checkout it runs in.
const ci = process.env.CI;
if (ci !== undefined && ci !== "" && ci !== "false" && ci !== "0") {
  refuse(
    `refusing to run in CI (CI=${ci}): it rewrites the working copy it runs in, so run it on your own clone, review the diff and commit it.`,
  );
}

// 2. A clean git working copy, so the migration is exactly one reviewable, revertible diff.
if (!fs.existsSync(path.join(dir, "package.json"))) refuse(`${dir} has no package.json: run it in the project's folder.`);
const inside = git(dir, ["rev-parse", "--is-inside-work-tree"]);
if (inside.status !== 0 || inside.stdout.trim() !== "true") {
  refuse(
    `${dir} is not a git working copy: the migration rewrites files in place, so run it in a git clone, where git diff shows and git checkout undoes it.`,
  );
}
const status = git(dir, ["status", "--porcelain=v1", "--untracked-files=all", "--", "."]);
if (status.status !== 0) refuse(`git status failed in ${dir}: ${status.stderr.trim()}`);
const dirty = status.stdout.split("\n").filter((l) => l.trim() !== "");
if (dirty.length > 0) {
  refuse(
    `refusing to migrate: the working tree has ${dirty.length} uncommitted change(s) (git status --porcelain, below); commit or stash them first (git stash -u includes untracked files), so the migration is one diff you can review and undo, then run it again.`,
    dirty,
  );
}

// 3. cdktn-cli 0.24 needs Node.js 22.19.
requireNode(NAME);

// 4. The migration.
const pkgFile = path.join(dir, "package.json");
const plan = planMigration(dir, { awsProviderFrom: installedCdktfProviderVersion(dir) });
if (plan.unmapped.length > 0) {
  refuse(
    "the migration has no mapping for these cdktf imports, so nothing was changed; migrate them by hand first, or extend scripts/cdktn/migrate.ts:",
    plan.unmapped,
  );
}
if (plan.changes.length === 0 && !usesCdktf(JSON.parse(fs.readFileSync(pkgFile, "utf8")))) {
  console.log(`${NAME}: ${dir} already uses CDK Terrain; nothing to migrate.`);
  process.exit(0);
}
applyMigration(dir, plan);
console.log(`${NAME}: migrated ${plan.changes.length} file(s):`);
for (const c of plan.changes) console.log(`  ${c.file} (${changedLineCount(c)} line(s))`);

const undo = "git checkout -- . undoes the migration";
function failAfterChanges(sentence: string): never {
  refuse(`${sentence}; ${undo}.`);
}

// 5. The lock file: the committed toolchain lock when it was generated for this very package.json.
const migrated = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
const toolchain =
  fs.existsSync(TOOLCHAIN_PACKAGE) && fs.existsSync(TOOLCHAIN_LOCK) ? JSON.parse(fs.readFileSync(TOOLCHAIN_PACKAGE, "utf8")) : undefined;
const npmEnv = { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" };
if (toolchain !== undefined && firstDifference(toolchain, migrated) === undefined) {
  fs.copyFileSync(TOOLCHAIN_LOCK, path.join(dir, "package-lock.json"));
  console.log(
    `${NAME}: package-lock.json copied from toolchain/cdktn (the lock make test-cdktn installs); npm ci checks every package's integrity`,
  );
  const npm = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit", env: npmEnv });
  if (npm.status !== 0) failAfterChanges(`npm ci failed (exit ${npm.status})`);
} else {
  const why =
    toolchain === undefined
      ? "toolchain/cdktn has no lock"
      : `your package.json differs from the one toolchain/cdktn was generated for (${firstDifference(toolchain, migrated)?.path})`;
  console.log(
    `${NAME}: ${why}: regenerating package-lock.json with npm install from the registry (packages the migration does not touch keep their locked versions)`,
  );
  const npm = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, stdio: "inherit", env: npmEnv });
  if (npm.status !== 0) failAfterChanges(`npm install failed (exit ${npm.status})`);
}

// 6. Every deep import must exist in the installed @cdktn/provider-aws.
const unresolved = unresolvedDeepImports(dir);
if (unresolved.length > 0) failAfterChanges(`these imports do not exist in the installed @cdktn/provider-aws: ${unresolved.join(", ")}`);

console.log(
  `${NAME}: done; cdktf.json, your state and cdktf.out stay where they are (cdktn-cli reads cdktf.json and writes cdktf.out). make test runs next; then review git diff and commit (${undo}).`,
);
