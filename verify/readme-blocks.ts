/**
 * The README shows the access matrix, the diagram and the deploy-time checks of the current stacks, and the proof of
 * a committed example configuration with several callers, between marker comments; `make readme-proof` rewrites them
 * and a test fails when they are stale.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG_FILE_ENV, ENV_PREFIX } from "../config/load";
import { PROJECT_ROOT } from "../core";
import { VerifyInputError } from "./access-model";
import type { AccessAnalysis } from "./analyze";
import type { DeployTimeResult } from "./deploy-time/check";
import { deployTimeTable } from "./deploy-time/report";
import { endpointsText, intendedPathText, matrixText, mermaidReport } from "./report";

/** The blocks made from the current stacks (cdktf.out). */
export const README_BLOCKS = ["access-matrix", "access-diagram", "deploy-time-checks"] as const;
/** The block made from EXAMPLE_CONFIG: its intended paths, matrix and diagram. */
export const EXAMPLE_BLOCK = "three-callers-proof";
/** The committed configuration with several callers (two in one account, one in another) the example block shows. */
export const EXAMPLE_CONFIG = "examples/three-callers.json";
export type ReadmeBlock = (typeof README_BLOCKS)[number] | typeof EXAMPLE_BLOCK;

export function renderBlocks(analysis: AccessAnalysis, deployTime: DeployTimeResult): Record<(typeof README_BLOCKS)[number], string> {
  return {
    "access-matrix": "```text\n" + withEndpoints(analysis, matrixText(analysis)) + "\n```",
    "access-diagram": "```mermaid\n" + mermaidReport(analysis) + "\n```",
    "deploy-time-checks": deployTimeTable(deployTime),
  };
}

/** The endpoints the principals' requests pass (when there are any), then the text: as `npm run verify` prints them. */
function withEndpoints(analysis: AccessAnalysis, text: string): string {
  const endpoints = endpointsText(analysis);
  return endpoints ? `${endpoints}\n\n${text}` : text;
}

/** The example's proof: the paths, the endpoints and the matrix as `npm run verify` prints them, then the diagram. */
export function renderExampleBlock(analysis: AccessAnalysis): string {
  const endpoints = endpointsText(analysis);
  return (
    "```text\n" +
    intendedPathText(analysis) +
    (endpoints ? `\n${endpoints}` : "") +
    "\n\n" +
    matrixText(analysis) +
    "\n```\n\n```mermaid\n" +
    mermaidReport(analysis) +
    "\n```"
  );
}

/**
 * Synthesizes EXAMPLE_CONFIG into a new temporary directory and returns it (the caller removes it). Only the file and
 * the defaults count: XACCT_* variables of this process are left out, so the README does not depend on the shell.
 */
export function synthesizeExample(projectRoot: string = PROJECT_ROOT): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-three-callers-"));
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith(ENV_PREFIX)));
  return new Promise((resolve, reject) => {
    // CDKTF_OUTDIR is where cdktf's App writes when no outdir is passed to it (as core's synthesis does).
    const child = spawn(process.execPath, ["--import", "tsx", "main.ts"], {
      cwd: projectRoot,
      env: { ...env, [CONFIG_FILE_ENV]: path.join(projectRoot, EXAMPLE_CONFIG), CHECKPOINT_DISABLE: "1", CDKTF_OUTDIR: outDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (err) => reject(new VerifyInputError(`cannot synthesize ${EXAMPLE_CONFIG}: ${err.message}`)));
    child.on("close", (code) => {
      if (code === 0) return resolve(outDir);
      fs.rmSync(outDir, { recursive: true, force: true });
      reject(new VerifyInputError(`synthesizing ${EXAMPLE_CONFIG} failed (exit ${code}):\n${output.trim() || "(no output)"}`));
    });
  });
}

const markers = (name: ReadmeBlock) => ({ start: `<!-- ${name}:start (make readme-proof writes this) -->`, end: `<!-- ${name}:end -->` });

export function readBlock(readme: string, name: ReadmeBlock): string | undefined {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1 || to < from) return undefined;
  return readme.slice(from + start.length, to).trim();
}

export function writeBlock(readme: string, name: ReadmeBlock, content: string): string {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1 || to < from)
    throw new Error(`README.md has no '${start}' ... '${end}' markers; add them where the ${name} belongs`);
  return `${readme.slice(0, from + start.length)}\n${content}\n${readme.slice(to)}`;
}
