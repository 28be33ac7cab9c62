/** Shared by the access-proof tests: the proof run in process, and the real command line as a user runs it. */
import { execFile } from "child_process";
import { PROJECT_ROOT } from "../../local/start";
import { runVerify } from "../../verify/cli";

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
