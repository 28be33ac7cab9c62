/**
 * The layout's two rules: no module imports itself through others (type-only imports count, as
 * they couple the files all the same), and verify/ sees the IAM and model core through
 * core/index.ts only, never the local runtime (enforced by eslint.config.mjs).
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { execFileSync } from "child_process";
import { PROJECT_ROOT } from "../../core";

const SKIPPED = new Set(["node_modules", "build", "cdktf.out", "toolchain", ".venv", ".gen", "coverage", ".git"]);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIPPED.has(entry.name) || entry.name.startsWith(".") ? [] : sourceFiles(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** Each file's relative imports, resolved to files: "./x" is x.ts or x/index.ts. */
function importGraph(files: readonly string[], read: (file: string) => string): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(read(file), true, true);
    const targets = importedFiles
      .map((ref) => ref.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => path.resolve(path.dirname(file), spec))
      .map((base) => [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => known.has(candidate)))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("import cycles", () => {
  it("the detector finds a cycle through a type-only import, and none in a chain", () => {
    const files: Record<string, string> = {
      "/p/a.ts": 'import { b } from "./b";',
      "/p/b.ts": 'import type { C } from "./c/index";',
      "/p/c/index.ts": 'import type { A } from "../a";',
      "/p/d.ts": 'import { a } from "./a";',
    };
    expect(cycles(importGraph(Object.keys(files), (f) => files[f]))).toEqual([["/p/a.ts", "/p/b.ts", "/p/c/index.ts"]]);
    const chain: Record<string, string> = {
      "/q/a.ts": 'import "./b";',
      "/q/b.ts": 'export * from "./c";',
      "/q/c.ts": "export const c = 1;",
    };
    expect(cycles(importGraph(Object.keys(chain), (f) => chain[f]))).toEqual([]);
  });

  it("the project's modules import each other without a cycle", () => {
    const files = sourceFiles(PROJECT_ROOT);
    expect(files.length).toBeGreaterThan(100);
    const found = cycles(importGraph(files, (f) => fs.readFileSync(f, "utf8"))).map((c) => c.map((f) => path.relative(PROJECT_ROOT, f)));
    expect(found).toEqual([]);
  });
});

/** eslint exits 1 when it finds a problem; its JSON report is on stdout either way. */
function parseRestrictions(json: string): string[] {
  const [report] = JSON.parse(json) as { messages: { ruleId: string | null; line: number; message: string }[] }[];
  return report.messages.filter((m) => m.ruleId === "no-restricted-imports").map((m) => `${m.line}: ${m.message.split(". ")[0]}`);
}

describe("verify/ uses the core's entry point only", () => {
  const probe = [
    'import { Authorizer } from "../core/iam/authorize";',
    'import { bootLocalRuntime } from "../local/start";',
    'import { loadAccountsModel } from "../core";',
    "export const used = [Authorizer, bootLocalRuntime, loadAccountsModel];",
    "",
  ].join("\n");
  /** The real eslint, with the project's config, on the probe as if it were `file`. */
  const restrictions = async (file: string): Promise<string[]> => {
    let out: string;
    try {
      out = execFileSync(
        process.execPath,
        [path.join(PROJECT_ROOT, "node_modules", "eslint", "bin", "eslint.js"), "--format", "json", "--stdin", "--stdin-filename", file],
        { cwd: PROJECT_ROOT, input: probe, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] },
      );
    } catch (err) {
      const failed = err as { status?: number; stdout?: string };
      if (failed.status !== 1 || !failed.stdout) throw err;
      out = failed.stdout;
    }
    return parseRestrictions(out);
  };

  it("refuses a deep core import and any local/ import in verify/, and allows core/index", async () => {
    expect(await restrictions("verify/probe.ts")).toEqual([
      "1: '../core/iam/authorize' import is restricted from being used by a pattern",
      "2: '../local/start' import is restricted from being used by a pattern",
    ]);
    expect(await restrictions("verify/deploy-time/probe.ts")).toHaveLength(2);
  });

  it("leaves the local runtime's own imports alone", async () => {
    expect(await restrictions("local/probe.ts")).toEqual([]);
  });
});
