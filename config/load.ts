import * as fs from "fs";
import * as path from "path";
import {
  CONFIG_KEYS,
  ConfigValidationError,
  CrossAccountConfig,
  DEMO_DEFAULTS,
  isBooleanKey,
  isJsonKey,
  isListKey,
  isNumberKey,
  validateConfig,
} from "./config";

/** Environment variables that override single fields: XACCT_CALLER_ACCOUNT_ID, XACCT_CALLEE_SUBNET_IDS, ... */
export const ENV_PREFIX = "XACCT_";
/** Points at a JSON config file; defaults to ./cross-account.config.json when that file exists. */
export const CONFIG_FILE_ENV = "XACCT_CONFIG_FILE";
export const DEFAULT_CONFIG_FILE = "cross-account.config.json";
/** Written into the output directory at synthesis: the resolved configuration the stacks were built from. */
export const CONFIG_RECORD_FILE = "cross-account.config.resolved.json";
/** cdktf.json "context" key holding a configuration object. */
export const CONTEXT_KEY = "crossAccount";

export function envVarName(key: string): string {
  return ENV_PREFIX + key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigValidationError([
      `config file '${file}' cannot be read (${(err as Error).message}): check ${CONFIG_FILE_ENV} or create the file`,
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigValidationError([`config file '${file}' is not valid JSON (${(err as Error).message})`]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigValidationError([
      `config file '${file}' must hold a JSON object of fields, got ${Array.isArray(parsed) ? "a list" : typeof parsed}`,
    ]);
  }
  return parsed as Record<string, unknown>;
}

function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const raw = env[envVarName(key)];
    if (raw === undefined) continue;
    const value = raw.trim();
    if (value === "") {
      out[key] = undefined; // an empty variable clears an optional field
    } else if (isJsonKey(key)) {
      try {
        out[key] = JSON.parse(value);
      } catch (err) {
        throw new ConfigValidationError([
          `${envVarName(key)} must be JSON text, like '[{"name": "orders", ...}]' (${(err as Error).message})`,
        ]);
      }
    } else if (isListKey(key)) {
      out[key] = value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    } else if (isBooleanKey(key)) {
      out[key] = value === "true" ? true : value === "false" ? false : value;
    } else if (isNumberKey(key)) {
      out[key] = /^-?\d+$/.test(value) ? Number(value) : value;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/**
 * The context object as cdktf passes it (CDKTF_CONTEXT_JSON, set by the cdktf
 * CLI from cdktf.json), or cdktf.json itself when the app runs without the CLI.
 * Read without constructing an App, which would create the output folder.
 */
export function cdktfContext(env: NodeJS.ProcessEnv, cwd: string): unknown {
  const fromCli = env.CDKTF_CONTEXT_JSON;
  if (fromCli) {
    try {
      return (JSON.parse(fromCli) as Record<string, unknown>)[CONTEXT_KEY];
    } catch {
      throw new ConfigValidationError([`CDKTF_CONTEXT_JSON is not valid JSON: check the "context" object in cdktf.json`]);
    }
  }
  const file = path.join(cwd, "cdktf.json");
  if (!fs.existsSync(file)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { context?: Record<string, unknown> }).context?.[CONTEXT_KEY];
  } catch (err) {
    throw new ConfigValidationError([`${file} is not valid JSON (${(err as Error).message})`]);
  }
}

export interface LoadConfigOptions {
  /** The object under cdktf.json's context.crossAccount; read from cdktf.json when omitted. */
  readonly context?: unknown;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Merges, later winning: demo defaults, cdktf.json context, the config file,
 * XACCT_* environment variables. Then validates the result once.
 */
export function loadConfig(options: LoadConfigOptions = {}): CrossAccountConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sources = ["built-in demo defaults"];
  let merged: Record<string, unknown> = { ...DEMO_DEFAULTS };

  const context = "context" in options ? options.context : cdktfContext(env, cwd);
  if (context !== undefined && context !== null) {
    if (typeof context !== "object" || Array.isArray(context)) {
      throw new ConfigValidationError([`cdktf.json context.${CONTEXT_KEY} must be an object of fields, got ${JSON.stringify(context)}`]);
    }
    merged = { ...merged, ...(context as Record<string, unknown>) };
    sources.push(`cdktf.json context.${CONTEXT_KEY}`);
  }

  const explicitFile = env[CONFIG_FILE_ENV];
  const file = explicitFile ? path.resolve(cwd, explicitFile) : path.join(cwd, DEFAULT_CONFIG_FILE);
  if (explicitFile || fs.existsSync(file)) {
    merged = { ...merged, ...readConfigFile(file) };
    sources.push(file);
  }

  const overrides = fromEnvironment(env);
  if (Object.keys(overrides).length > 0) {
    merged = { ...merged, ...overrides };
    sources.push(`environment (${Object.keys(overrides).map(envVarName).join(", ")})`);
  }
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return validateConfig(merged, sources);
}
