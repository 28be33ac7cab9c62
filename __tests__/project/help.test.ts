/** The `help` file and the Makefile name the same targets, and `make help` lists them aligned. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const makefileTargets = fs
  .readFileSync(path.join(ROOT, "Makefile"), "utf8")
  .split("\n")
  .map((line) => /^([a-z][a-z-]*):.*## /.exec(line)?.[1])
  .filter((t): t is string => t !== undefined)
  .sort();
const help = fs.readFileSync(path.join(ROOT, "help"), "utf8");
const helpTargets = [...new Set([...help.matchAll(/\bmake ([a-z][a-z-]*)\b/g)].map((m) => m[1]))].filter((t) => t !== "installs").sort();

it("the help file names every documented Makefile target, and only those", () => {
  expect(makefileTargets.length).toBeGreaterThan(10);
  expect(helpTargets).toEqual(makefileTargets);
});

it("make help lists every target once, with its description in one aligned column", () => {
  const result = spawnSync("make", ["--no-print-directory", "help"], { cwd: ROOT, encoding: "utf8" });
  expect(result.status).toBe(0);
  const lines = result.stdout.trimEnd().split("\n");
  expect(lines.map((l) => /^ {2}make (\S+)/.exec(l)?.[1]).sort()).toEqual(makefileTargets);
  const columns = new Set(lines.map((l) => l.search(/(?<=^ {2}make \S+ +)\S/)));
  expect([...columns]).toHaveLength(1);
});

describe("the Makefile's environment for terraform", () => {
  const probe = (env: NodeJS.ProcessEnv) =>
    spawnSync("make", ["--no-print-directory", "-s", "-f", "-", "probe"], {
      cwd: ROOT,
      env,
      input: 'include Makefile\nprobe:\n\t@echo "$$TF_CLI_CONFIG_FILE $$CHECKPOINT_DISABLE"\n',
      encoding: "utf8",
    }).stdout.trim();

  it("replaces a CLI configuration the environment names but that does not exist (terraform would warn on every run)", () => {
    expect(probe({ ...process.env, TF_CLI_CONFIG_FILE: "/nonexistent/.terraformrc" })).toBe("/dev/null 1");
    expect(probe({ ...process.env, TF_CLI_CONFIG_FILE: "" })).toBe("/dev/null 1");
  });

  it("keeps one that exists", () => {
    expect(probe({ ...process.env, TF_CLI_CONFIG_FILE: path.join(ROOT, "Makefile") })).toBe(`${path.join(ROOT, "Makefile")} 1`);
  });
});
