/**
 * `npm run verify -- --format json | head -1`: a reader that goes away early ends the proof's output
 * quietly (no EPIPE, no stack trace), with the exit code the proof gives.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { PROJECT_ROOT } from "../../local/start";
import { EXIT } from "../../verify/cli";
import { editPolicy, OUT_DIR, roleNamed, stacksVariant } from "../local/support";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the real command line with stdout a pipe whose read side this process destroys at once, so
 * the report's first write meets a closed pipe. (Destroying it after the first chunk arrives does
 * not reproduce the crash reliably: jest may have drained the whole report by then.)
 */
function verifyWithClosedStdout(args: string[], command: "node" | "npm" = "node"): Promise<Run> {
  const [file, argv] =
    command === "npm"
      ? ["npm", ["run", "--silent", "verify", "--", ...args]]
      : [process.execPath, ["--import", "tsx", "verify/cli.ts", ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file as string, argv as string[], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.stdout.destroy();
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** `node --import tsx verify/cli.ts ARGS | head -c 1` (or `npm run -s verify -- ARGS | head -c 1`) in bash: the verify's exit code and stderr. */
function verifyIntoHead(args: string[], command: "node" | "npm" = "node"): Promise<{ code: number | null; stderr: string }> {
  const verify = command === "npm" ? 'npm run -s verify -- "$@"' : '"$VERIFY_NODE" --import tsx verify/cli.ts "$@"';
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `${verify} | head -c 1 >/dev/null; exit "\${PIPESTATUS[0]}"`, "verify-into-head", ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CHECKPOINT_DISABLE: "1", VERIFY_NODE: process.execPath },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const variants: string[] = [];
afterAll(() => {
  for (const dir of variants) fs.rmSync(dir, { recursive: true, force: true });
});

describe("a closed stdout", () => {
  it.each([
    ["text", []],
    ["json", ["--format", "json"]],
    ["mermaid", ["--format", "mermaid"]],
  ] as const)("%s, closed before anything is written: no EPIPE, no stack trace, exit 0 as the proof holds", async (_name, format) => {
    const run = await verifyWithClosedStdout(["--dir", OUT_DIR, ...format]);
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr).toBe("");
    expect(run.signal).toBeNull();
    expect(run.code).toBe(EXIT.proven);
  });

  it.each(["node", "npm"] as const)("%s: `verify --format json | head -c 1` exits 0 with nothing on stderr", async (command) => {
    const run = await verifyIntoHead(["--dir", OUT_DIR, "--format", "json"], command);
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.proven);
  });

  it("npm run -s verify, closed before anything is written", async () => {
    const run = await verifyWithClosedStdout(["--dir", OUT_DIR, "--format", "json"], "npm");
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(EXIT.proven);
  });

  it("keeps the proof's exit code when it fails (1), rather than 0 or a crash's", async () => {
    const dir = stacksVariant(({ callee }) =>
      editPolicy(roleNamed(callee, "-callee-invoker"), "assume_role_policy", (doc) => {
        doc.Statement.push({ Effect: "Allow", Principal: { AWS: "arn:aws:iam::444455556666:root" }, Action: "sts:AssumeRole" });
      }),
    );
    variants.push(dir);
    const run = await verifyWithClosedStdout(["--dir", dir, "--format", "json"]);
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(EXIT.violation);
  });
});
