/**
 * Lambda's read operations on a function (restJson): GetPolicy and GetFunctionConfiguration, routed
 * as the SDK and the CLI send them and answered in the shapes Lambda answers with.
 */
import { createHash } from "crypto";
import type { PolicyDocument } from "../../../core/model/types";
import type { WireResponse } from "../../wire/response";
import { queryValue } from "./wire";

export type FunctionReadOperation = "GetPolicy" | "GetFunctionConfiguration";

export interface FunctionReadRequest {
  operation: FunctionReadOperation;
  /** Decoded from the path: a name, name:qualifier, partial ARN or full ARN, as the caller wrote it. */
  functionName: string;
  /** The Qualifier query parameter, when present. */
  qualifier?: string;
}

const READ_ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/(policy|configuration)$/;
const OPERATION_OF: Record<string, FunctionReadOperation> = { policy: "GetPolicy", configuration: "GetFunctionConfiguration" };

/** The read operation a GET names, or undefined when the request is not one. */
export function matchFunctionRead(method: string, rawUrl: string): FunctionReadRequest | undefined {
  const q = rawUrl.indexOf("?");
  const route = READ_ROUTE.exec(q === -1 ? rawUrl : rawUrl.slice(0, q));
  if (!route || method.toUpperCase() !== "GET") return undefined;
  let functionName: string;
  try {
    functionName = decodeURIComponent(route[1]);
  } catch {
    // Left encoded: the FunctionName constraint check then refuses it, as Lambda does.
    functionName = route[1];
  }
  const qualifier = q === -1 ? undefined : queryValue(rawUrl.slice(q + 1), "Qualifier");
  return { operation: OPERATION_OF[route[2]], functionName, ...(qualifier !== undefined && { qualifier }) };
}

export function jsonResponse(body: unknown, requestId: string, status = 200): WireResponse {
  return { status, headers: { "Content-Type": "application/json", "x-amzn-RequestId": requestId }, body: JSON.stringify(body) };
}

/** A RevisionId that stays the same while what it revises does: a UUID-shaped digest of it. */
export function revisionIdOf(...parts: readonly string[]): string {
  const hex = createHash("sha256").update(parts.join("\n")).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** GetPolicy: the resource-based policy as a JSON string, as Lambda stores it. */
export function functionPolicyResponse(policy: PolicyDocument, revisionId: string, requestId: string): WireResponse {
  return jsonResponse({ Policy: JSON.stringify(policy), RevisionId: revisionId }, requestId);
}

export interface FunctionConfigurationView {
  readonly functionName: string;
  readonly functionArn: string;
  /** "$LATEST" or a published version's number. */
  readonly version: string;
  readonly runtime: string;
  readonly role: string;
  readonly handler: string;
  readonly architectures: readonly string[];
  readonly description?: string;
  /** The customer-managed key of the environment; Lambda omits KMSKeyArn for its AWS-managed key. */
  readonly kmsKeyArn?: string;
  readonly codeSize: number;
  /** Base64 of the deployment package's SHA-256. */
  readonly codeSha256: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  readonly lastModified: Date;
  readonly environment: Readonly<Record<string, string>>;
  readonly revisionId: string;
  readonly logFormat: string;
  readonly applicationLogLevel?: string;
  readonly logGroup: string;
}

/** Lambda writes LastModified as 2024-01-01T00:00:00.000+0000. */
function lambdaTimestamp(date: Date): string {
  return date.toISOString().replace(/Z$/, "+0000");
}

/**
 * GetFunctionConfiguration of a version ($LATEST or a published one). Only what the model knows is sent: TracingConfig,
 * VpcConfig, EphemeralStorage and SystemLogLevel are left out.
 */
export function functionConfigurationResponse(config: FunctionConfigurationView, requestId: string, status = 200): WireResponse {
  return jsonResponse(
    {
      FunctionName: config.functionName,
      FunctionArn: config.functionArn,
      Runtime: config.runtime,
      Role: config.role,
      Handler: config.handler,
      CodeSize: config.codeSize,
      Description: config.description ?? "",
      Timeout: config.timeoutSeconds,
      MemorySize: config.memorySizeMb,
      LastModified: lambdaTimestamp(config.lastModified),
      CodeSha256: config.codeSha256,
      Version: config.version,
      // Lambda leaves Environment out when the function has no variables.
      ...(Object.keys(config.environment).length > 0 ? { Environment: { Variables: config.environment } } : {}),
      ...(config.kmsKeyArn !== undefined ? { KMSKeyArn: config.kmsKeyArn } : {}),
      RevisionId: config.revisionId,
      Architectures: config.architectures,
      State: "Active",
      LastUpdateStatus: "Successful",
      PackageType: "Zip",
      LoggingConfig: {
        LogFormat: config.logFormat,
        ...(config.applicationLogLevel !== undefined ? { ApplicationLogLevel: config.applicationLogLevel } : {}),
        LogGroup: config.logGroup,
      },
    },
    requestId,
    status,
  );
}
