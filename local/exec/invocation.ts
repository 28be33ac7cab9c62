/** What the pool and its execution environments exchange: a function's spec, its credentials, one invocation and its outcome. */

export interface FunctionSpec {
  name: string;
  /** The unqualified function ARN. */
  arn: string;
  /**
   * The version these environments run: "$LATEST" (the default) or a published version's number. Lambda
   * names it in AWS_LAMBDA_FUNCTION_VERSION, the log stream ([1]...) and each START line.
   */
  version?: string;
  region: string;
  accountId: string;
  /** "index.handler": file (may include a subdirectory) and export. */
  handler: string;
  /** e.g. "nodejs22.x"; informational, the machine's node runs the code. */
  runtime: string;
  timeoutSeconds: number;
  memorySizeMb: number;
  /**
   * Max concurrent environments; 0 => every invoke is throttled. undefined => the account's
   * unreserved concurrency (PoolOptions.unreservedConcurrency) and DEFAULT_CONCURRENCY_CAP.
   */
  reservedConcurrency?: number;
  /**
   * The stack's variables. Lambda's reserved keys are rejected; HOME, AWS_CONFIG_FILE,
   * AWS_SHARED_CREDENTIALS_FILE and AWS_ENDPOINT_URL are overridden by the sandbox.
   * AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL (Lambda derives them from the logging
   * config) select JSON console lines and their level filter.
   */
  environment: Record<string, string>;
  logGroupName: string;
  /** Absolute. */
  zipPath: string;
  /** Hex; verified when given. */
  zipSha256?: string;
}

export interface EnvironmentCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface InvokeRequest {
  requestId: string;
  /** JSON text; empty means {} as with Lambda's Invoke without a payload. */
  payload: Buffer;
  /** base64 JSON, as Lambda receives it. */
  clientContext?: string;
  tailLogs: boolean;
  /**
   * The ARN the caller invoked, as the handler's context.invokedFunctionArn reports it: qualified when the
   * caller named an alias or version (Lambda: "Indicates if the invoker specified a version number or alias").
   * Default: the spec's unqualified ARN.
   */
  invokedFunctionArn?: string;
}

export interface InvokeOutcome {
  kind: "success" | "function-error";
  /** JSON text: the handler's result (undefined => "null"), or Lambda's error document. */
  payload: Buffer;
  functionError?: "Unhandled";
  /** This invocation's log text (START..REPORT) when tailLogs, untruncated: the caller trims to 4 KB. */
  logTail?: string;
  durationMs: number;
  initDurationMs?: number;
  coldStart: boolean;
}
