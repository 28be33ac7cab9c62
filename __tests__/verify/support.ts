/** Shared by the access-proof tests: the proof run in process, the real command line as a user runs it, and variants of any stacks. */
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../local/start";
import { runVerify } from "../../verify/cli";
import type { TfJson } from "../local/support";

export async function verifyInProcess(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await runVerify(
    args,
    (text) => (out += `${text}\n`),
    () => undefined,
  );
  return { code, out };
}

/** `node --import tsx verify/cli.ts …`, or `npm run --silent verify -- …`. */
export function verifyCli(args: string[], command: "node" | "npm" = "node"): Promise<{ code: number; stdout: string; stderr: string }> {
  const [file, argv] =
    command === "npm"
      ? ["npm", ["run", "--silent", "verify", "--", ...args]]
      : [process.execPath, ["--import", "tsx", "verify/cli.ts", ...args]];
  return new Promise((resolve) => {
    execFile(
      file as string,
      argv as string[],
      { cwd: PROJECT_ROOT, env: { ...process.env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** A copy of a cdktf output directory with `mutate` applied to its stacks' JSON, keyed by stack name (every stack of the directory). */
export function variantOf(baseDir: string, mutate: (stacks: Record<string, TfJson>) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-variant-"));
  fs.cpSync(baseDir, dir, { recursive: true });
  const file = (stack: string) => path.join(dir, "stacks", stack, "cdk.tf.json");
  const names = fs.readdirSync(path.join(dir, "stacks")).filter((name) => fs.existsSync(file(name)));
  const stacks = Object.fromEntries(names.map((name) => [name, JSON.parse(fs.readFileSync(file(name), "utf8")) as TfJson]));
  mutate(stacks);
  for (const [name, json] of Object.entries(stacks)) fs.writeFileSync(file(name), JSON.stringify(json, null, 2));
  return dir;
}

/**
 * The stacks synthesized into a new temporary directory (the caller removes it) with these XACCT_* variables and the
 * defaults otherwise (this process's own XACCT_* variables are left out), as `npx cdktf synth --output` would.
 */
export function synthesizeWith(variables: Record<string, string>): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-synth-"));
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("XACCT_")));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "main.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...env, ...variables, CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(outDir);
      fs.rmSync(outDir, { recursive: true, force: true });
      reject(new Error(`synthesis with ${JSON.stringify(variables)} failed (exit ${code}):\n${output}`));
    });
  });
}
