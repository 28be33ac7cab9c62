/**
 * Lambda's PublishVersion, GetAlias and UpdateAlias (restJson), routed as the SDK and the CLI send them
 * (API_PublishVersion: POST /2015-03-31/functions/FunctionName/versions; API_GetAlias and API_UpdateAlias:
 * GET and PUT /2015-03-31/functions/FunctionName/aliases/Name), checked as the API model constrains them.
 */
import { ok, type Result } from "../../wire/result";
import { checkString, constraint } from "../../wire/validation";
import { refusal, validationRefusal, type LambdaErrorSpec } from "./errors";
import { jsonResponse } from "./read-wire";
import type { AliasState } from "./versions";
import type { WireResponse } from "../../wire/response";

export type VersionOperation = "PublishVersion" | "GetAlias" | "UpdateAlias";

export interface VersionRequest {
  readonly operation: VersionOperation;
  /** Decoded from the path, as the caller wrote it. */
  readonly functionName: string;
  /** GetAlias and UpdateAlias: the alias's name. */
  readonly alias?: string;
  /** PublishVersion: the version's description; UpdateAlias: the alias's. */
  readonly description?: string;
  /** UpdateAlias: the version the alias is to point at (unchanged when absent). */
  readonly functionVersion?: string;
  /** Only if the alias's (UpdateAlias) or $LATEST's (PublishVersion) RevisionId is this one. */
  readonly revisionId?: string;
  /** PublishVersion: only if $LATEST's code has this SHA-256 (base64). */
  readonly codeSha256?: string;
}

const VERSIONS_ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/versions$/;
const ALIAS_ROUTE = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/;

// The Lambda API model's constraints (API_UpdateAlias, API_AliasConfiguration).
const ALIAS_NAME = { min: 1, max: 128, pattern: "(?!^[0-9]+$)([a-zA-Z0-9-_]+)", regex: /^(?!^[0-9]+$)([a-zA-Z0-9_-]+)$/ };
const FUNCTION_VERSION = { min: 1, max: 1024, pattern: "(\\$LATEST|[0-9]+)", regex: /^(\$LATEST|[0-9]+)$/ };
const DESCRIPTION = { min: 0, max: 256, pattern: "(?s).*", regex: /^[\s\S]*$/ };

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The operation a request names, or undefined when it is none of these (the route answers it as unknown). */
export function matchVersionOperation(method: string, rawUrl: string, body: Buffer): Result<VersionRequest, LambdaErrorSpec> | undefined {
  const q = rawUrl.indexOf("?");
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const verb = method.toUpperCase();
  const versions = VERSIONS_ROUTE.exec(path);
  const alias = ALIAS_ROUTE.exec(path);
  if (versions && verb === "POST") return parseBody(body, { operation: "PublishVersion", functionName: decoded(versions[1]) });
  if (alias && verb === "GET") return checked({ operation: "GetAlias", functionName: decoded(alias[1]), alias: decoded(alias[2]) });
  if (alias && verb === "PUT")
    return parseBody(body, { operation: "UpdateAlias", functionName: decoded(alias[1]), alias: decoded(alias[2]) });
  return undefined;
}

function parseBody(body: Buffer, request: VersionRequest): Result<VersionRequest, LambdaErrorSpec> {
  let json: unknown = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch (err) {
      return refusal("InvalidRequestContentException", 400, `Could not parse request body into json: ${(err as Error).message}`);
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return refusal("InvalidRequestContentException", 400, "Could not parse request body into json: expected an object");
  const fields = json as Record<string, unknown>;
  const text = (key: string): string | undefined => (typeof fields[key] === "string" ? (fields[key] as string) : undefined);
  const routing = fields.RoutingConfig as { AdditionalVersionWeights?: Record<string, unknown> } | undefined;
  if (request.operation === "UpdateAlias" && routing && Object.keys(routing.AdditionalVersionWeights ?? {}).length > 0) {
    // The runtime's own wording: weighted aliases are not modelled, and a weight is never silently ignored.
    return refusal(
      "InvalidParameterValueException",
      400,
      "The local runtime does not model weighted aliases: RoutingConfig.AdditionalVersionWeights is refused",
    );
  }
  const description = text("Description");
  const functionVersion = request.operation === "UpdateAlias" ? text("FunctionVersion") : undefined;
  const revisionId = text("RevisionId");
  const codeSha256 = request.operation === "PublishVersion" ? text("CodeSha256") : undefined;
  return checked({
    ...request,
    ...(description !== undefined ? { description } : {}),
    ...(functionVersion !== undefined ? { functionVersion } : {}),
    ...(revisionId !== undefined ? { revisionId } : {}),
    ...(codeSha256 !== undefined ? { codeSha256 } : {}),
  });
}

function checked(request: VersionRequest): Result<VersionRequest, LambdaErrorSpec> {
  const problems: string[] = [];
  if (request.alias !== undefined) checkString(request.alias, "name", ALIAS_NAME, problems);
  if (request.functionVersion !== undefined) checkString(request.functionVersion, "functionVersion", FUNCTION_VERSION, problems);
  if (request.description !== undefined && request.description.length > DESCRIPTION.max)
    problems.push(constraint(request.description, "description", `have length less than or equal to ${DESCRIPTION.max}`));
  return problems.length > 0 ? validationRefusal(problems) : ok(request);
}

/** AliasConfiguration, as GetAlias and UpdateAlias answer it. */
export function aliasResponse(alias: AliasState, revisionId: string, requestId: string): WireResponse {
  return jsonResponse(
    {
      AliasArn: alias.arn,
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description ?? "",
      RevisionId: revisionId,
    },
    requestId,
  );
}
