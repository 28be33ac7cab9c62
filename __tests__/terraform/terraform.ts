/**
 * Runs the real terraform CLI for the tests in this folder: offline (CHECKPOINT_DISABLE, an empty
 * CLI configuration), non-interactive, in directories the caller owns and removes.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface TerraformRun {
  readonly args: readonly string[];
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr with every run of whitespace made one space (terraform wraps its messages at 78 columns). */
  readonly flat: string;
}

/** Environment variables that would change what terraform does here; the tests set their own. */
const INHERITED_TF_VARIABLES =
  /^TF_(CLI_ARGS.*|WORKSPACE|DATA_DIR|LOG.*|PLUGIN_CACHE.*|INPUT|VAR_.*|REATTACH_PROVIDERS|IN_AUTOMATION|CLI_CONFIG_FILE)$/;

export function terraformEnv(cliConfigFile: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!INHERITED_TF_VARIABLES.test(key)) env[key] = value;
  return { ...env, CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: cliConfigFile, TF_IN_AUTOMATION: "1", ...extra };
}

export const flatten = (text: string): string => text.replace(/\s+/g, " ").trim();

export function terraform(cwd: string, cliConfigFile: string, args: readonly string[]): TerraformRun {
  const result = spawnSync("terraform", args, { cwd, env: terraformEnv(cliConfigFile), encoding: "utf8", timeout: 120_000 });
  if (result.error) throw new Error(`terraform ${args.join(" ")} could not run in ${cwd}: ${result.error.message}`);
  return { args, status: result.status, stdout: result.stdout, stderr: result.stderr, flat: flatten(`${result.stdout}\n${result.stderr}`) };
}

/** The installed terraform's version; a clear failure (never a skip) when there is none or it is too old. */
export function requireTerraform(minimum: [number, number]): string {
  const result = spawnSync("terraform", ["version", "-json"], { env: terraformEnv("/dev/null"), encoding: "utf8", timeout: 60_000 });
  if (result.error) {
    throw new Error(
      `These tests run the real terraform CLI, and it could not be started (${result.error.message}): ` +
        `install Terraform >= ${minimum.join(".")} and put it on PATH (PATH=${process.env.PATH}).`,
    );
  }
  const version = String(JSON.parse(result.stdout).terraform_version ?? "");
  const [major, minor] = version.split(".").map(Number);
  if (!(major > minimum[0] || (major === minimum[0] && minor >= minimum[1]))) {
    throw new Error(`These tests need Terraform >= ${minimum.join(".")} (terraform_data, preconditions); terraform on PATH is ${version}.`);
  }
  return version;
}

/** Terraform's type name for an output value in state format version 4. */
function typeOf(key: string, value: unknown): string {
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return "number";
  throw new Error(`output ${key}: the tests only write string, bool and number outputs, not ${JSON.stringify(value)}`);
}

/** A state file in Terraform's format version 4 holding only root-module outputs, as a stack that was applied and then read. */
export function writeState(file: string, terraformVersion: string, outputs: Record<string, unknown>): void {
  const state = {
    version: 4,
    terraform_version: terraformVersion,
    serial: 1,
    lineage: crypto.randomUUID(),
    outputs: Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value, type: typeOf(key, value) }])),
    resources: [],
    check_results: null,
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(state, null, 2));
}
