/**
 * STS wire format (awsQuery): form-encoded requests in, XML out, shaped as AWS shapes them so the
 * SDK's and the CLI's own parsers read them unchanged.
 */

export const STS_VERSION = "2011-06-15";
export const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
/** The operations the local runtime serves; anything else is answered as AWS answers an unknown one. */
export const STS_ACTIONS: readonly string[] = ["AssumeRole", "GetCallerIdentity"];

export interface StsErrorSpec {
  code: string;
  message: string;
  status: number;
  type: "Sender" | "Receiver";
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface StsRequest {
  action: string;
  version?: string;
  /** Every form field except Action and Version, still flattened (`Tags.member.1.Key`, ...). */
  params: Record<string, string>;
}
export type StsParseResult = { ok: true; value: StsRequest } | { ok: false; error: StsErrorSpec };

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

const sender = (code: string, message: string, status = 400): StsErrorSpec => ({ code, message, status, type: "Sender" });

/**
 * Reads an awsQuery request body. Both the SDK ("application/x-www-form-urlencoded") and the CLI
 * ("…; charset=utf-8") send a form; anything else cannot carry an Action.
 */
export function parseStsRequest(body: Buffer, headers: Record<string, string | string[] | undefined>): StsParseResult {
  const contentType = headerValue(headers, "content-type");
  const mediaType = contentType?.split(";")[0].trim().toLowerCase();
  if (mediaType !== undefined && mediaType !== "application/x-www-form-urlencoded") {
    // Not confirmed against AWS: what STS answers a body that is not form-encoded.
    return {
      ok: false,
      error: sender("MissingAction", `Missing Action: the body must be application/x-www-form-urlencoded, not '${contentType}'.`),
    };
  }
  const params: Record<string, string> = {};
  // URLSearchParams implements form decoding, where '+' is a space.
  for (const [key, value] of new URLSearchParams(body.toString("utf8"))) params[key] = value;
  const { Action: action, Version: version, ...rest } = params;
  if (!action) return { ok: false, error: sender("MissingAction", "Missing Action") };
  if ((version !== undefined && version !== STS_VERSION) || !STS_ACTIONS.includes(action)) {
    return { ok: false, error: sender("InvalidAction", `Could not find operation ${action} for version ${version ?? STS_VERSION}`) };
  }
  return { ok: true, value: { action, ...(version !== undefined && { version }), params: rest } };
}

/** XML text/attribute escaping; also drops characters XML 1.0 cannot carry at all. */
export function xmlEscape(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex -- removing the control characters XML 1.0 forbids is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
      .replace(/\r/g, "&#xD;")
  );
}

/** AWS writes awsQuery timestamps (STS, IAM) as ISO-8601 without milliseconds. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export const el = (name: string, value: string | number | boolean): string => `<${name}>${xmlEscape(String(value))}</${name}>`;

export function xmlResponse(status: number, body: string, requestId: string): WireResponse {
  return { status, headers: { "Content-Type": "text/xml", "x-amzn-RequestId": requestId }, body };
}

/** An awsQuery answer: <ActionResponse><ActionResult>…</ActionResult><ResponseMetadata/>, in the service's namespace. */
export function queryActionResponse(namespace: string, action: string, result: string, requestId: string): WireResponse {
  return xmlResponse(
    200,
    `<${action}Response xmlns="${namespace}">\n` +
      `  <${action}Result>\n${result}  </${action}Result>\n` +
      `  <ResponseMetadata>\n    ${el("RequestId", requestId)}\n  </ResponseMetadata>\n` +
      `</${action}Response>\n`,
    requestId,
  );
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
  return xmlResponse(
    error.status,
    `<ErrorResponse xmlns="${STS_NAMESPACE}">\n` +
      `  <Error>\n    ${el("Type", error.type)}\n    ${el("Code", error.code)}\n    ${el("Message", error.message)}\n  </Error>\n` +
      `  ${el("RequestId", requestId)}\n` +
      `</ErrorResponse>\n`,
    requestId,
  );
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

export type AssumeRoleValidation = { ok: true; value: AssumeRoleParams } | { ok: false; error: StsErrorSpec };

export interface StringRule {
  min: number;
  max?: number;
  /** Shown to the caller exactly as the STS model writes it. */
  pattern: string;
  regex: RegExp;
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

/** One "Value … at '…' failed to satisfy constraint: …" clause per broken constraint, as AWS words them. */
export function checkString(value: string, at: string, rule: StringRule, problems: string[]): void {
  const prefix = `Value '${value}' at '${at}' failed to satisfy constraint: Member must`;
  if (value.length < rule.min) problems.push(`${prefix} have length greater than or equal to ${rule.min}`);
  if (rule.max !== undefined && value.length > rule.max) problems.push(`${prefix} have length less than or equal to ${rule.max}`);
  if (!rule.regex.test(value)) problems.push(`${prefix} satisfy regular expression pattern: ${rule.pattern}`);
}

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
export function validateAssumeRoleParams(params: Record<string, string>): AssumeRoleValidation {
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

  if (problems.length > 0) {
    const count = problems.length === 1 ? "1 validation error detected" : `${problems.length} validation errors detected`;
    return { ok: false, error: sender("ValidationError", `${count}: ${problems.join("; ")}`) };
  }
  return {
    ok: true,
    value: {
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
    },
  };
}
