/**
 * STS wire format (awsQuery): form-encoded requests in, XML out, shaped as AWS shapes them so the
 * SDK's and the CLI's own parsers read them unchanged.
 */
import { headerValue, type RequestHeaders } from "../../wire/headers";
import { isoSeconds, queryActionResponse, queryErrorResponse, readQueryForm, type QueryForm } from "../../wire/aws-query";
import type { WireError, WireResponse } from "../../wire/response";
import { fail, ok, type Result } from "../../wire/result";
import { checkString, validationMessage, type StringRule } from "../../wire/validation";
import { el } from "../../wire/xml";

export const STS_VERSION = "2011-06-15";
export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
/** The operations the local runtime serves; anything else is answered as AWS answers an unknown one. */
export const STS_ACTIONS: readonly string[] = ["AssumeRole", "GetCallerIdentity"];

export interface StsErrorSpec extends WireError {
  type: "Sender" | "Receiver";
}

export type StsRequest = QueryForm;

const sender = (code: string, message: string, status = 400): StsErrorSpec => ({ code, message, status, type: "Sender" });

/** Reads an awsQuery request body: a form, whose Action must be one STS serves here, at STS's version. */
export function parseStsRequest(body: Buffer, headers: RequestHeaders): Result<StsRequest, StsErrorSpec> {
  const form = readQueryForm(body.toString("utf8"), headerValue(headers, "content-type"));
  if (!form.ok) return fail({ ...form.error, type: "Sender" });
  const { action, version } = form.value;
  if ((version !== undefined && version !== STS_VERSION) || !STS_ACTIONS.includes(action)) {
    return fail(sender("InvalidAction", `Could not find operation ${action} for version ${version ?? STS_VERSION}`));
  }
  return form;
}

const actionResponse = (action: string, result: string, requestId: string): WireResponse =>
  queryActionResponse(STS_NAMESPACE, action, result, requestId);

export interface AssumeRoleOutput {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
  assumedRoleId: string;
  arn: string;
  packedPolicySize?: number;
  sourceIdentity?: string;
}

export function assumeRoleResponse(output: AssumeRoleOutput, requestId: string): WireResponse {
  const c = output.credentials;
  const lines = [
    output.sourceIdentity !== undefined ? `    ${el("SourceIdentity", output.sourceIdentity)}\n` : "",
    `    <AssumedRoleUser>\n      ${el("AssumedRoleId", output.assumedRoleId)}\n      ${el("Arn", output.arn)}\n    </AssumedRoleUser>\n`,
    `    <Credentials>\n` +
      `      ${el("AccessKeyId", c.accessKeyId)}\n` +
      `      ${el("SecretAccessKey", c.secretAccessKey)}\n` +
      `      ${el("SessionToken", c.sessionToken)}\n` +
      `      ${el("Expiration", isoSeconds(c.expiration))}\n` +
      `    </Credentials>\n`,
    output.packedPolicySize !== undefined ? `    ${el("PackedPolicySize", String(output.packedPolicySize))}\n` : "",
  ];
  return actionResponse("AssumeRole", lines.join(""), requestId);
}

export function getCallerIdentityResponse(identity: { arn: string; userId: string; account: string }, requestId: string): WireResponse {
  return actionResponse(
    "GetCallerIdentity",
    `    ${el("Arn", identity.arn)}\n    ${el("UserId", identity.userId)}\n    ${el("Account", identity.account)}\n`,
    requestId,
  );
}

export function stsErrorResponse(error: StsErrorSpec, requestId: string): WireResponse {
  return queryErrorResponse(STS_NAMESPACE, error, requestId);
}

export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  externalId?: string;
  policy?: string;
  sourceIdentity?: string;
  tags?: Array<{ key: string; value: string }>;
  transitiveTagKeys?: string[];
  policyArns?: string[];
}

// Constraints from the STS API model (2011-06-15); regexes are the model's patterns, anchored.
const ROLE_ARN: StringRule = {
  min: 20,
  max: 2048,
  pattern: "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+",
  // eslint-disable-next-line no-control-regex -- the model's character class admits tab, LF and CR on purpose
  regex: /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u,
};
const SESSION_NAME: StringRule = { min: 2, max: 64, pattern: "[\\w+=,.@-]*", regex: /^[\w+=,.@-]*$/ };
const SOURCE_IDENTITY: StringRule = SESSION_NAME;
const EXTERNAL_ID: StringRule = { min: 2, max: 1224, pattern: "[\\w+=,.@:\\/-]*", regex: /^[\w+=,.@:/-]*$/ };
const POLICY: StringRule = {
  min: 1,
  pattern: "[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
  // eslint-disable-next-line no-control-regex -- as above: a policy document may contain tabs and line breaks
  regex: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/,
};
const POLICY_ARN: StringRule = { min: 20, max: 2048, pattern: ROLE_ARN.pattern, regex: ROLE_ARN.regex };
const TAG_KEY: StringRule = { min: 1, max: 128, pattern: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", regex: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u };
const TAG_VALUE: StringRule = { min: 0, max: 256, pattern: "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", regex: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u };
const MAX_TAGS = 50;
const DURATION = { min: 900, max: 43200 };

/** Indices N present as `<prefix>.member.N…` in the flattened awsQuery params, in numeric order. */
function memberIndices(params: Record<string, string>, prefix: string): number[] {
  const found = new Set<number>();
  const re = new RegExp(`^${prefix}\\.member\\.(\\d+)(\\.|$)`);
  for (const key of Object.keys(params)) {
    const m = re.exec(key);
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Validates AssumeRole's parameters against the STS model and returns them typed, or the
 * ValidationError AWS would send ("N validation error(s) detected: …", clauses joined by "; ").
 * Semantic checks (the role exists, trust policy, MaxSessionDuration) are the caller's.
 */
export function validateAssumeRoleParams(params: Record<string, string>): Result<AssumeRoleParams, StsErrorSpec> {
  const problems: string[] = [];
  const {
    RoleArn: roleArn,
    RoleSessionName: roleSessionName,
    Policy: policy,
    ExternalId: externalId,
    SourceIdentity: sourceIdentity,
  } = params;

  if (roleArn === undefined) problems.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
  else checkString(roleArn, "roleArn", ROLE_ARN, problems);
  if (roleSessionName === undefined) problems.push("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
  else checkString(roleSessionName, "roleSessionName", SESSION_NAME, problems);

  const policyArns = memberIndices(params, "PolicyArns").map((n) => params[`PolicyArns.member.${n}.arn`] ?? "");
  policyArns.forEach((arn, i) => checkString(arn, `policyArns.${i + 1}.member.arn`, POLICY_ARN, problems));

  if (policy !== undefined) checkString(policy, "policy", POLICY, problems);

  let durationSeconds: number | undefined;
  if (params.DurationSeconds !== undefined) {
    const text = params.DurationSeconds;
    const prefix = `Value '${text}' at 'durationSeconds' failed to satisfy constraint: Member must`;
    // Not confirmed against AWS: the wording for a DurationSeconds that is not an integer.
    if (!/^-?\d+$/.test(text)) problems.push(`${prefix} be an integer`);
    else {
      durationSeconds = Number(text);
      if (durationSeconds < DURATION.min) problems.push(`${prefix} have value greater than or equal to ${DURATION.min}`);
      if (durationSeconds > DURATION.max) problems.push(`${prefix} have value less than or equal to ${DURATION.max}`);
    }
  }

  const tagIndices = memberIndices(params, "Tags");
  const tags = tagIndices.map((n) => ({
    key: params[`Tags.member.${n}.Key`] as string | undefined,
    value: params[`Tags.member.${n}.Value`] as string | undefined,
  }));
  if (tags.length > MAX_TAGS) {
    problems.push(
      `Value '[${tags.map((t) => `${t.key}=${t.value}`).join(", ")}]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TAGS}`,
    );
  }
  tags.forEach((tag, i) => {
    const at = `tags.${i + 1}.member`;
    if (tag.key === undefined) problems.push(`Value null at '${at}.key' failed to satisfy constraint: Member must not be null`);
    else checkString(tag.key, `${at}.key`, TAG_KEY, problems);
    if (tag.value === undefined) problems.push(`Value null at '${at}.value' failed to satisfy constraint: Member must not be null`);
    else checkString(tag.value, `${at}.value`, TAG_VALUE, problems);
  });

  const transitiveTagKeys = memberIndices(params, "TransitiveTagKeys").map((n) => params[`TransitiveTagKeys.member.${n}`] ?? "");
  if (transitiveTagKeys.length > MAX_TAGS) {
    problems.push(
      `Value '[${transitiveTagKeys.join(", ")}]' at 'transitiveTagKeys' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TAGS}`,
    );
  }
  transitiveTagKeys.forEach((key, i) => checkString(key, `transitiveTagKeys.${i + 1}.member`, TAG_KEY, problems));

  if (externalId !== undefined) checkString(externalId, "externalId", EXTERNAL_ID, problems);
  if (sourceIdentity !== undefined) checkString(sourceIdentity, "sourceIdentity", SOURCE_IDENTITY, problems);

  if (problems.length > 0) return fail(sender("ValidationError", validationMessage(problems)));
  return ok({
    roleArn: roleArn as string,
    roleSessionName: roleSessionName as string,
    ...(durationSeconds !== undefined && { durationSeconds }),
    ...(externalId !== undefined && { externalId }),
    ...(policy !== undefined && { policy }),
    ...(sourceIdentity !== undefined && { sourceIdentity }),
    // Every tag has a key and a value here, or validation would have failed above.
    ...(tags.length > 0 && { tags: tags.map((t) => ({ key: t.key ?? "", value: t.value ?? "" })) }),
    ...(transitiveTagKeys.length > 0 && { transitiveTagKeys }),
    ...(policyArns.length > 0 && { policyArns }),
  });
}
