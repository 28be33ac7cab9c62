/**
 * Lambda functions of the stacks: configuration with Lambda's defaults, the code zip the
 * stack uploads (checked against its recorded hash), the resource-based policy from
 * aws_lambda_permission and the asynchronous invocation config.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ProviderTarget, lambdaArn } from "./attributes";
import { splitFunctionArn } from "../arn";
import { functionVpc, securityGroupVpcs } from "./network";
import { lambdaPrincipal, permissionStatement } from "./lambda-permission";
import { Resolver, Where, child, describeWhere } from "./resolver";
import { JsonObject, SYNTH_HINT, StackDoc, isObject, resourcesOf, singleBlock } from "./stack-files";
import { AliasModel, FunctionModel, ModelError, RoleModel, SourceRef } from "./types";

/** Lambda's defaults for arguments a stack leaves out. */
export const LAMBDA_DEFAULTS = { timeoutSeconds: 3, memorySizeMb: 128, maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 } as const;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type FunctionDraft = Mutable<FunctionModel> & { statements: Record<string, unknown>[]; target: ProviderTarget };

const whereOf = (source: SourceRef, p = ""): Where => ({ ...source, path: p });
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

function sha256Hex(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

function architecturesOf(resolver: Resolver, where: Where, raw: unknown): string[] {
  const value = resolver.value(where, raw);
  if (!Array.isArray(value) || value.length !== 1 || (value[0] !== "x86_64" && value[0] !== "arm64")) {
    throw new ModelError(`${describeWhere(where)}: expected ["x86_64"] or ["arm64"], found ${JSON.stringify(value)}`);
  }
  return value as string[];
}

/** Optional argument → resolved string. */
function optionalString(resolver: Resolver, where: Where, raw: unknown): string | undefined {
  return isSet(raw) ? resolver.string(where, raw) : undefined;
}

function requiredString(resolver: Resolver, where: Where, raw: unknown): string {
  if (!isSet(raw)) throw new ModelError(`${describeWhere(where)}: is required but not set`);
  return resolver.string(where, raw);
}

/** The zip a function runs and the SHA-256 the stack records for it. */
function codeOf(resolver: Resolver, stack: StackDoc, where: Where, body: JsonObject): { zipPath: string; zipSha256?: string } {
  if (isSet(body.filename)) {
    const zipPath = path.resolve(stack.dir, resolver.string(child(where, "filename"), body.filename));
    const hash = optionalString(resolver, child(where, "source_code_hash"), body.source_code_hash);
    if (hash === undefined) return { zipPath };
    // source_code_hash is base64(SHA-256) of the zip.
    const bytes = Buffer.from(hash, "base64");
    if (bytes.length !== 32)
      throw new ModelError(`${describeWhere(child(where, "source_code_hash"))}: expected base64 of a SHA-256, found ${hash}`);
    return { zipPath, zipSha256: bytes.toString("hex") };
  }
  if (!isSet(body.s3_bucket) || !isSet(body.s3_key)) {
    throw new ModelError(
      `${describeWhere(where)}: the model needs the function's code as a zip: set filename, or s3_bucket and s3_key of an aws_s3_object the stacks upload (container images are not modelled)`,
    );
  }
  const bucket = resolver.string(child(where, "s3_bucket"), body.s3_bucket);
  const key = resolver.string(child(where, "s3_key"), body.s3_key);
  const uploads = [...resolver.stacks.values()].flatMap((s) =>
    resourcesOf(s, "aws_s3_object")
      .filter(
        ([name]) =>
          resolver.attribute(s.name, "aws_s3_object", name, "key") === key &&
          resolver.attribute(s.name, "aws_s3_object", name, "bucket") === bucket,
      )
      .map(([name, objectBody]) => ({ stack: s, source: { stack: s.name, address: `aws_s3_object.${name}` }, body: objectBody })),
  );
  if (uploads.length !== 1) {
    const found = uploads.map((u) => `stack '${u.source.stack}' ${u.source.address}`).join(", ");
    throw new ModelError(
      `${describeWhere(child(where, "s3_key"))}: the code is s3://${bucket}/${key}, which ${uploads.length === 0 ? "no aws_s3_object in the stacks uploads" : `several aws_s3_object upload (${found})`}`,
    );
  }
  const upload = uploads[0];
  if (!isSet(upload.body.source))
    throw new ModelError(
      `${describeWhere(whereOf(upload.source, "source"))}: the object has no source file, so the model has no zip for the function`,
    );
  const zipPath = path.resolve(upload.stack.dir, resolver.string(whereOf(upload.source, "source"), upload.body.source));
  const hash = optionalString(resolver, whereOf(upload.source, "source_hash"), upload.body.source_hash);
  if (hash !== undefined && !/^[0-9a-f]{64}$/i.test(hash)) {
    throw new ModelError(
      `${describeWhere(whereOf(upload.source, "source_hash"))}: the model expects the zip's SHA-256 as 64 hex characters, found ${hash}`,
    );
  }
  return { zipPath, zipSha256: hash?.toLowerCase() };
}

function verifyZip(where: Where, zipPath: string, expected: string | undefined): void {
  if (!fs.existsSync(zipPath)) throw new ModelError(`${describeWhere(where)}: the function's zip ${zipPath} does not exist: ${SYNTH_HINT}`);
  if (expected === undefined) return;
  const actual = sha256Hex(zipPath);
  if (actual !== expected) {
    throw new ModelError(
      `${describeWhere(where)}: stale bundle: ${zipPath} has SHA-256 ${actual} but the stack records ${expected}; re-synthesize (make synth / npx cdktf synth)`,
    );
  }
}

function environmentOf(resolver: Resolver, where: Where, body: JsonObject): Record<string, string> {
  const environment = singleBlock(body.environment, () => describeWhere(child(where, "environment")));
  if (!environment || !isSet(environment.variables)) return {};
  const at = child(child(where, "environment"), "variables");
  const variables = resolver.value(at, environment.variables);
  if (!isObject(variables)) throw new ModelError(`${describeWhere(at)}: expected a map of strings, found ${JSON.stringify(variables)}`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    // map(string) in Terraform: numbers and booleans become their string form.
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")
      throw new ModelError(`${describeWhere(child(at, name))}: expected a string, found ${JSON.stringify(value)}`);
    out[name] = String(value);
  }
  return out;
}

function functionOf(
  resolver: Resolver,
  stack: StackDoc,
  name: string,
  body: JsonObject,
  roles: ReadonlyMap<string, RoleModel>,
  groupVpcs: ReadonlyMap<string, string>,
): FunctionDraft {
  const source: SourceRef = { stack: stack.name, address: `aws_lambda_function.${name}` };
  const where = whereOf(source);
  const at = (p: string) => child(where, p);
  if (isSet(body.package_type) && body.package_type !== "Zip")
    throw new ModelError(
      `${describeWhere(at("package_type"))}: only Zip functions are modelled, found ${JSON.stringify(body.package_type)}`,
    );
  const target = resolver.target(stack.name, source.address, body);
  const functionName = requiredString(resolver, at("function_name"), body.function_name);
  const roleArn = requiredString(resolver, at("role"), body.role);
  if (!roles.has(roleArn)) {
    throw new ModelError(
      `${describeWhere(at("role"))}: the function's role ${roleArn} is not defined by the stacks (roles: ${[...roles.keys()].join(", ") || "none"})`,
    );
  }
  const reserved = isSet(body.reserved_concurrent_executions)
    ? resolver.number(at("reserved_concurrent_executions"), body.reserved_concurrent_executions)
    : -1;
  const logging = singleBlock(body.logging_config, () => describeWhere(at("logging_config")));
  const code = codeOf(resolver, stack, where, body);
  verifyZip(where, code.zipPath, code.zipSha256);
  return {
    name: functionName,
    arn: lambdaArn(target, functionName),
    accountId: target.accountId,
    region: target.region,
    handler: requiredString(resolver, at("handler"), body.handler),
    runtime: requiredString(resolver, at("runtime"), body.runtime),
    architectures: isSet(body.architectures) ? architecturesOf(resolver, at("architectures"), body.architectures) : ["x86_64"],
    description: optionalString(resolver, at("description"), body.description),
    timeoutSeconds: isSet(body.timeout) ? resolver.number(at("timeout"), body.timeout) : LAMBDA_DEFAULTS.timeoutSeconds,
    memorySizeMb: isSet(body.memory_size) ? resolver.number(at("memory_size"), body.memory_size) : LAMBDA_DEFAULTS.memorySizeMb,
    // -1 is the provider's "no reservation".
    reservedConcurrency: reserved === -1 ? undefined : reserved,
    environment: environmentOf(resolver, where, body),
    roleArn,
    kmsKeyArn: optionalString(resolver, at("kms_key_arn"), body.kms_key_arn),
    logGroupName: optionalString(resolver, child(at("logging_config"), "log_group"), logging?.log_group) ?? `/aws/lambda/${functionName}`,
    logFormat: optionalString(resolver, child(at("logging_config"), "log_format"), logging?.log_format) ?? "Text",
    applicationLogLevel: optionalString(resolver, child(at("logging_config"), "application_log_level"), logging?.application_log_level),
    zipPath: code.zipPath,
    zipSha256: code.zipSha256,
    ...withVpc(functionVpc(resolver, at("vpc_config"), body.vpc_config, groupVpcs)),
    versions: publishes(resolver, at("publish"), body.publish) ? ["1"] : [],
    aliases: new Map(),
    source,
    statements: [],
    target,
  };
}

/** The function a `function_name` argument (name, partial or full ARN, possibly qualified) designates. */
function functionNamed(
  functions: ReadonlyMap<string, FunctionDraft>,
  where: Where,
  ref: string,
  target: ProviderTarget,
): { fn: FunctionDraft; qualifier?: string } {
  const full = /^\d{12}:function:/.test(ref) ? `arn:${target.partition}:lambda:${target.region}:${ref}` : ref;
  const split = full.startsWith("arn:") ? splitFunctionArn(full) : { unqualified: lambdaArn(target, ref), qualifier: undefined };
  const fn = split ? functions.get(split.unqualified) : undefined;
  if (!split || !fn) {
    throw new ModelError(
      `${describeWhere(where)}: ${ref} is not a function the stacks define (functions: ${[...functions.keys()].join(", ") || "none"})`,
    );
  }
  return { fn, qualifier: split.qualifier };
}

/** A resource that names a function (function_name): where it is, and the function and qualifier it names. */
function namingFunction(
  resolver: Resolver,
  functions: ReadonlyMap<string, FunctionDraft>,
  stack: StackDoc,
  type: string,
  name: string,
  body: JsonObject,
): { source: SourceRef; at: (p: string) => Where; fn: FunctionDraft; arnQualifier?: string } {
  const source: SourceRef = { stack: stack.name, address: `${type}.${name}` };
  const at = (p: string) => whereOf(source, p);
  const target = resolver.target(stack.name, source.address, body);
  const { fn, qualifier } = functionNamed(
    functions,
    at("function_name"),
    requiredString(resolver, at("function_name"), body.function_name),
    target,
  );
  return { source, at, fn, ...(qualifier !== undefined ? { arnQualifier: qualifier } : {}) };
}

function addPermission(
  resolver: Resolver,
  functions: ReadonlyMap<string, FunctionDraft>,
  stack: StackDoc,
  name: string,
  body: JsonObject,
): void {
  const { at, fn, arnQualifier } = namingFunction(resolver, functions, stack, "aws_lambda_permission", name, body);
  if (!isSet(body.statement_id)) {
    throw new ModelError(
      `${describeWhere(at("statement_id"))}: not set, so Terraform would generate the statement id at apply time and the model cannot know it; set statement_id`,
    );
  }
  const statementId = resolver.string(at("statement_id"), body.statement_id);
  const principalText = requiredString(resolver, at("principal"), body.principal);
  const principal = lambdaPrincipal(principalText, fn.target.partition);
  if (!principal)
    throw new ModelError(`${describeWhere(at("principal"))}: ${principalText} is neither *, an account id, an ARN nor a service principal`);
  const qualifier = optionalString(resolver, at("qualifier"), body.qualifier) ?? arnQualifier;
  if (fn.statements.some((s) => s.Sid === statementId)) {
    throw new ModelError(
      `${describeWhere(at("statement_id"))}: function ${fn.arn} already has a statement '${statementId}' (Lambda would refuse the second one)`,
    );
  }
  fn.statements.push(
    permissionStatement(
      {
        statementId,
        action: requiredString(resolver, at("action"), body.action),
        principal: principalText,
        functionArn: fn.arn,
        partition: fn.target.partition,
        qualifier,
        sourceArn: optionalString(resolver, at("source_arn"), body.source_arn),
        sourceAccount: optionalString(resolver, at("source_account"), body.source_account),
        principalOrgId: optionalString(resolver, at("principal_org_id"), body.principal_org_id),
        eventSourceToken: optionalString(resolver, at("event_source_token"), body.event_source_token),
        functionUrlAuthType: optionalString(resolver, at("function_url_auth_type"), body.function_url_auth_type),
      },
      principal,
    ),
  );
}

function destinationOf(
  resolver: Resolver,
  where: Where,
  config: JsonObject | undefined,
  kind: "on_failure" | "on_success",
): string | undefined {
  const block = config ? singleBlock(config[kind], () => describeWhere(child(where, kind))) : undefined;
  return block ? requiredString(resolver, child(child(where, kind), "destination"), block.destination) : undefined;
}

function addAsyncConfig(
  resolver: Resolver,
  functions: ReadonlyMap<string, FunctionDraft>,
  stack: StackDoc,
  name: string,
  body: JsonObject,
): void {
  const { at, fn, arnQualifier } = namingFunction(resolver, functions, stack, "aws_lambda_function_event_invoke_config", name, body);
  const given = optionalString(resolver, at("qualifier"), body.qualifier) ?? arnQualifier;
  const qualifier = given === "$LATEST" ? undefined : given;
  if (qualifier !== undefined && !fn.aliases.has(qualifier) && !fn.versions.includes(qualifier)) {
    throw new ModelError(
      `${describeWhere(at("qualifier"))}: function ${fn.arn} has no alias or version '${qualifier}' (aliases: ${[...fn.aliases.keys()].join(", ") || "none"}; versions: ${fn.versions.join(", ") || "none"})`,
    );
  }
  if (fn.asyncConfig) throw new ModelError(`${describeWhere(at("function_name"))}: function ${fn.arn} has a second event invoke config`);
  const destinations = singleBlock(body.destination_config, () => describeWhere(at("destination_config")));
  fn.asyncConfig = {
    ...(qualifier !== undefined ? { qualifier } : {}),
    maximumRetryAttempts: isSet(body.maximum_retry_attempts)
      ? resolver.number(at("maximum_retry_attempts"), body.maximum_retry_attempts)
      : LAMBDA_DEFAULTS.maximumRetryAttempts,
    maximumEventAgeSeconds: isSet(body.maximum_event_age_in_seconds)
      ? resolver.number(at("maximum_event_age_in_seconds"), body.maximum_event_age_in_seconds)
      : LAMBDA_DEFAULTS.maximumEventAgeSeconds,
    onFailureDestination: destinationOf(resolver, at("destination_config"), destinations, "on_failure"),
    onSuccessDestination: destinationOf(resolver, at("destination_config"), destinations, "on_success"),
  };
}

const withVpc = (vpcId: string | undefined): { vpcId?: string } => (vpcId !== undefined ? { vpcId } : {});

/** `publish`: a boolean, or its string form. */
function publishes(resolver: Resolver, where: Where, raw: unknown): boolean {
  if (!isSet(raw)) return false;
  const value = resolver.value(where, raw);
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ModelError(`${describeWhere(where)}: expected true or false, found ${JSON.stringify(value)}`);
}

/** An alias names a published version of its function (or $LATEST); Lambda refuses one for a version that does not exist. */
function addAlias(
  resolver: Resolver,
  functions: ReadonlyMap<string, FunctionDraft>,
  stack: StackDoc,
  name: string,
  body: JsonObject,
): void {
  const { source, at, fn } = namingFunction(resolver, functions, stack, "aws_lambda_alias", name, body);
  const aliasName = requiredString(resolver, at("name"), body.name);
  const functionVersion = requiredString(resolver, at("function_version"), body.function_version);
  if (functionVersion !== "$LATEST" && !fn.versions.includes(functionVersion)) {
    throw new ModelError(
      `${describeWhere(at("function_version"))}: function ${fn.arn} has no version ${functionVersion} (published: ${fn.versions.join(", ") || "none; set publish = true"})`,
    );
  }
  if (fn.aliases.has(aliasName))
    throw new ModelError(`${describeWhere(at("name"))}: function ${fn.arn} already has an alias '${aliasName}'`);
  const description = optionalString(resolver, at("description"), body.description);
  (fn.aliases as Map<string, AliasModel>).set(aliasName, {
    name: aliasName,
    arn: `${fn.arn}:${aliasName}`,
    functionVersion,
    ...(description !== undefined ? { description } : {}),
    source,
  });
}

function finish(draft: FunctionDraft): FunctionModel {
  const { statements, target: _target, ...model } = draft;
  // All statements in one document, qualified ones included (their Resource names the qualifier).
  return statements.length > 0 ? { ...model, resourcePolicy: { Version: "2012-10-17", Id: "default", Statement: statements } } : model;
}

/** Every function of the given stacks, keyed by unqualified ARN. */
export function buildFunctions(
  resolver: Resolver,
  stacks: readonly StackDoc[],
  roles: ReadonlyMap<string, RoleModel>,
): Map<string, FunctionModel> {
  const drafts = new Map<string, FunctionDraft>();
  const groupVpcs = securityGroupVpcs(resolver, stacks);
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_lambda_function")) {
      const draft = functionOf(resolver, stack, name, body, roles, groupVpcs);
      const existing = drafts.get(draft.arn);
      if (existing)
        throw new ModelError(
          `function ${draft.arn} is defined twice: stack '${existing.source.stack}' ${existing.source.address} and stack '${stack.name}' ${draft.source.address}`,
        );
      drafts.set(draft.arn, draft);
    }
  }
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_lambda_alias")) addAlias(resolver, drafts, stack, name, body);
  }
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_lambda_permission")) addPermission(resolver, drafts, stack, name, body);
    for (const [name, body] of resourcesOf(stack, "aws_lambda_function_event_invoke_config"))
      addAsyncConfig(resolver, drafts, stack, name, body);
  }
  return new Map([...drafts].map(([arn, draft]) => [arn, finish(draft)]));
}
