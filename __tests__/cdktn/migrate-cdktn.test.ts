/**
 * make migrate-cdktn refuses, before changing anything, where it must: a working tree with
 * uncommitted changes (named), a folder outside git, CI. Temporary git repositories; no network.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = path.join(PROJECT_ROOT, "scripts", "cdktn", "migrate-cdktn.ts");
const PACKAGE_JSON =
  JSON.stringify(
    {
      name: "copy",
      dependencies: { cdktf: "0.21.0", "@cdktf/provider-aws": "21.22.1", constructs: "10.4.2" },
      devDependencies: { "cdktf-cli": "0.21.0" },
    },
    null,
    2,
  ) + "\n";
const MAIN_TS = `import { App } from "cdktf";\nnew App().synth();\n`;

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync(
    "git",
    ["-c", "user.email=test@example.com", "-c", "user.name=test", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", ...args],
    { cwd, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A committed copy of a small cdktf project. */
function repo(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-migrate-repo-"));
  git(dir, "init", "-q");
  fs.writeFileSync(path.join(dir, "package.json"), PACKAGE_JSON);
  fs.writeFileSync(path.join(dir, "main.ts"), MAIN_TS);
  git(dir, "add", "package.json", "main.ts");
  git(dir, "commit", "-q", "-m", "a cdktf project");
  return dir;
}

function migrate(dir: string, env: Record<string, string> = {}) {
  const { CI: _ci, ...rest } = process.env;
  return spawnSync(process.execPath, ["--import", "tsx", SCRIPT, "--dir", dir], {
    cwd: PROJECT_ROOT,
    env: { ...rest, ...env },
    encoding: "utf8",
    timeout: 60000,
  });
}

function unchanged(dir: string): void {
  expect(fs.readFileSync(path.join(dir, "package.json"), "utf8")).toBe(PACKAGE_JSON);
  expect(fs.existsSync(path.join(dir, "package-lock.json"))).toBe(false);
}

describe("make migrate-cdktn refuses before changing anything", () => {
  it("on a working tree with uncommitted changes, naming each one, with the fix", () => {
    const dir = repo();
    fs.writeFileSync(path.join(dir, "main.ts"), MAIN_TS + "// edited\n");
    fs.writeFileSync(path.join(dir, "notes.txt"), "untracked\n");
    const r = migrate(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(
      "make migrate-cdktn: refusing to migrate: the working tree has 2 uncommitted change(s) (git status --porcelain, below); commit or stash them first (git stash -u includes untracked files), so the migration is one diff you can review and undo, then run it again.",
    );
    expect(lines.slice(1)).toEqual(["   M main.ts", "  ?? notes.txt"]);
    unchanged(dir);
    expect(fs.readFileSync(path.join(dir, "main.ts"), "utf8")).toBe(MAIN_TS + "// edited\n");
  });

  it("on a staged change too", () => {
    const dir = repo();
    fs.writeFileSync(path.join(dir, "package.json"), PACKAGE_JSON.replace("copy", "copy2"));
    git(dir, "add", "package.json");
    const r = migrate(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("\n  M  package.json\n");
    expect(fs.readFileSync(path.join(dir, "package.json"), "utf8")).toBe(PACKAGE_JSON.replace("copy", "copy2"));
  });

  it("outside a git working copy", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-migrate-nogit-"));
    fs.writeFileSync(path.join(dir, "package.json"), PACKAGE_JSON);
    const r = migrate(dir, { GIT_CEILING_DIRECTORIES: path.dirname(dir) });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `make migrate-cdktn: ${dir} is not a git working copy: the migration rewrites files in place, so run it in a git clone, where git diff shows and git checkout undoes it.\n`,
    );
    unchanged(dir);
  });

  it("in CI, even on a clean working copy", () => {
    const dir = repo();
    const r = migrate(dir, { CI: "true" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^make migrate-cdktn: refusing to run in CI \(CI=true\): it rewrites the working copy it runs in/);
    unchanged(dir);
    expect(git(dir, "status", "--porcelain")).toBe("");
  });
});
