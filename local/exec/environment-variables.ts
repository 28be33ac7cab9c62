/**
 * The process environment of an execution environment: built from scratch (a
 * Lambda function sees none of the host's variables), the way Lambda's Node.js
 * runtime sets it.
 */
import * as crypto from "crypto";
import * as path from "path";

/**
 * Keys Lambda reserves: CreateFunction/UpdateFunctionConfiguration reject them
 * ("... contains reserved keys that are currently not supported for modification").
 * TZ, LANG, PATH, NODE_PATH and LD_LIBRARY_PATH are set by Lambda too but are not reserved.
 */
export const RESERVED_ENVIRONMENT_KEYS: readonly string[] = [
  "_HANDLER",
  "_X_AMZN_TRACE_ID",
  "AWS_DEFAULT_REGION",
  "AWS_REGION",
  "AWS_EXECUTION_ENV",
  "AWS_LAMBDA_FUNCTION_NAME",
  "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
  "AWS_LAMBDA_FUNCTION_VERSION",
  "AWS_LAMBDA_INITIALIZATION_TYPE",
  "AWS_LAMBDA_LOG_GROUP_NAME",
  "AWS_LAMBDA_LOG_STREAM_NAME",
  "AWS_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_LAMBDA_RUNTIME_API",
  "LAMBDA_TASK_ROOT",
  "LAMBDA_RUNTIME_DIR",
];

/**
 * Not reserved on Lambda, but the local sandbox depends on them (isolation from the
 * host's ~/.aws, the local endpoint): ours win over the function's configuration.
 */
export const SANDBOX_ENVIRONMENT_KEYS: readonly string[] = ["HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"];

export function reservedKeysIn(variables: Record<string, string>): string[] {
  return Object.keys(variables).filter((key) => RESERVED_ENVIRONMENT_KEYS.includes(key));
}

/** Lambda's log stream name: YYYY/MM/DD/[<version>]<32 hex> ([$LATEST] or [1]), dated when the environment starts. */
export function newLogStreamName(now: Date = new Date(), version = "$LATEST"): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, "/");
  return `${date}/[${version}]${crypto.randomBytes(16).toString("hex")}`;
}

/** An X-Ray trace header as Lambda sets it for an untraced request. */
export function newTraceId(now: Date = new Date()): string {
  const epochHex = Math.floor(now.getTime() / 1000)
    .toString(16)
    .padStart(8, "0");
  return `Root=1-${epochHex}-${crypto.randomBytes(12).toString("hex")};Parent=${crypto.randomBytes(8).toString("hex")};Sampled=0`;
}

export interface EnvironmentInputs {
  functionName: string;
  /** "$LATEST" or a published version's number. */
  functionVersion: string;
  region: string;
  runtime: string;
  memorySizeMb: number;
  handler: string;
  logGroupName: string;
  logStreamName: string;
  userVariables: Record<string, string>;
  taskRoot: string;
  runtimeDir: string;
  homeDir: string;
  nodeBinary: string;
  endpointUrl: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export function buildEnvironment(inputs: EnvironmentInputs): Record<string, string> {
  // Defaults the function may override, as on Lambda.
  const unreserved: Record<string, string> = {
    PATH: [path.dirname(inputs.nodeBinary), "/usr/local/bin", "/usr/bin", "/bin"].join(":"),
    LANG: "en_US.UTF-8",
    TZ: ":UTC",
    // Mirrors /var/runtime/node_modules:/var/runtime:/var/task; <runtimeDir>/node_modules does not exist,
    // so unlike Lambda no AWS SDK is provided: the bundles carry their own.
    NODE_PATH: [path.join(inputs.runtimeDir, "node_modules"), inputs.taskRoot].join(":"),
  };
  const reserved: Record<string, string> = {
    _HANDLER: inputs.handler,
    AWS_REGION: inputs.region,
    AWS_DEFAULT_REGION: inputs.region,
    AWS_EXECUTION_ENV: `AWS_Lambda_${inputs.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: inputs.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(inputs.memorySizeMb),
    AWS_LAMBDA_FUNCTION_VERSION: inputs.functionVersion,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: inputs.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: inputs.logStreamName,
    AWS_ACCESS_KEY_ID: inputs.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: inputs.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: inputs.credentials.sessionToken,
    LAMBDA_TASK_ROOT: inputs.taskRoot,
    LAMBDA_RUNTIME_DIR: inputs.runtimeDir,
  };
  const sandbox: Record<string, string> = {
    HOME: inputs.homeDir,
    // Files that do not exist: the SDK must take the execution role from the variables above.
    AWS_CONFIG_FILE: path.join(inputs.homeDir, ".aws", "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(inputs.homeDir, ".aws", "credentials"),
    AWS_ENDPOINT_URL: inputs.endpointUrl,
  };
  return { ...unreserved, ...inputs.userVariables, ...sandbox, ...reserved };
}
