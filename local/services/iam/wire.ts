/**
 * IAM wire format (awsQuery, version 2010-05-08): form-encoded requests in, XML out, shaped as
 * IAM shapes them so the SDK's and the CLI's own parsers read them unchanged. Policy documents
 * travel URL-encoded, as IAM returns them.
 */
import type { PolicyDocument } from "../../../core/model/types";
import { isoSeconds, queryActionResponse, queryErrorResponse, readQueryForm } from "../../wire/aws-query";
import type { WireError, WireResponse } from "../../wire/response";
import { fail, ok, type Result } from "../../wire/result";
import { checkString, validationMessage, type StringRule } from "../../wire/validation";
import { el, xmlEscape } from "../../wire/xml";

export const IAM_VERSION = "2010-05-08";
export const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";
/** The read operations the local runtime serves. */
export const IAM_ACTIONS = [
  "GetRole",
  "ListRolePolicies",
  "GetRolePolicy",
  "ListAttachedRolePolicies",
  "GetPolicy",
  "GetPolicyVersion",
] as const;
export type IamAction = (typeof IAM_ACTIONS)[number];

export type IamErrorSpec = WireError;

export interface IamRequest {
  action: string;
  /** Every form field except Action and Version. */
  params: Record<string, string>;
}

const sender = (code: string, message: string, status = 400): IamErrorSpec => ({ code, message, status });

/** Reads an awsQuery request: a form body (POST), or the query string of a GET. */
export function parseIamRequest(form: string, contentType: string | undefined): Result<IamRequest, IamErrorSpec> {
  const read = readQueryForm(form, contentType);
  if (!read.ok) return read;
  const { action, version, params } = read.value;
  if (version !== undefined && version !== IAM_VERSION) {
    return fail(sender("InvalidAction", `Could not find operation ${action} for version ${version}`));
  }
  return ok({ action, params });
}

export function isServedIamAction(action: string): action is IamAction {
  return (IAM_ACTIONS as readonly string[]).includes(action);
}

// Constraints from the IAM API model (2010-05-08); regexes are the model's patterns, anchored.
const ROLE_NAME: StringRule = { min: 1, max: 64, pattern: "[\\w+=,.@-]+", regex: /^[\w+=,.@-]+$/ };
const POLICY_NAME: StringRule = { min: 1, max: 128, pattern: "[\\w+=,.@-]+", regex: /^[\w+=,.@-]+$/ };
const POLICY_ARN: StringRule = { min: 20, max: 2048, pattern: "[\\s\\S]*", regex: /^[\s\S]*$/ };
const VERSION_ID: StringRule = { min: 0, pattern: "v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", regex: /^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$/ };
const MARKER: StringRule = { min: 1, max: 320, pattern: "[\\u0020-\\u00FF]+", regex: /^[\u0020-\u00FF]+$/ };
const PATH_PREFIX: StringRule = { min: 1, max: 512, pattern: "((/[A-Za-z0-9\\.,\\+@=_-]+)*)/", regex: /^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/ };
const MAX_ITEMS = { min: 1, max: 1000 };

/** Each action's parameters, by form name, with the member name AWS's messages use and its rule. */
const PARAMETERS: Record<IamAction, ReadonlyArray<{ name: string; member: string; rule: StringRule; required: boolean }>> = {
  GetRole: [{ name: "RoleName", member: "roleName", rule: ROLE_NAME, required: true }],
  ListRolePolicies: [
    { name: "RoleName", member: "roleName", rule: ROLE_NAME, required: true },
    { name: "Marker", member: "marker", rule: MARKER, required: false },
  ],
  GetRolePolicy: [
    { name: "RoleName", member: "roleName", rule: ROLE_NAME, required: true },
    { name: "PolicyName", member: "policyName", rule: POLICY_NAME, required: true },
  ],
  ListAttachedRolePolicies: [
    { name: "RoleName", member: "roleName", rule: ROLE_NAME, required: true },
    { name: "PathPrefix", member: "pathPrefix", rule: PATH_PREFIX, required: false },
    { name: "Marker", member: "marker", rule: MARKER, required: false },
  ],
  GetPolicy: [{ name: "PolicyArn", member: "policyArn", rule: POLICY_ARN, required: true }],
  GetPolicyVersion: [
    { name: "PolicyArn", member: "policyArn", rule: POLICY_ARN, required: true },
    { name: "VersionId", member: "versionId", rule: VERSION_ID, required: true },
  ],
};
const PAGINATED: ReadonlySet<IamAction> = new Set(["ListRolePolicies", "ListAttachedRolePolicies"]);

export interface IamParams {
  roleName?: string;
  policyName?: string;
  policyArn?: string;
  versionId?: string;
  pathPrefix?: string;
  marker?: string;
  maxItems?: number;
}

/**
 * Validates an action's parameters against the IAM model and returns them typed, or the
 * ValidationError AWS would send ("N validation error(s) detected: …", clauses joined by "; ").
 */
export function validateIamParams(action: IamAction, params: Record<string, string>): Result<IamParams, IamErrorSpec> {
  const problems: string[] = [];
  const value: Record<string, string | number> = {};
  for (const p of PARAMETERS[action]) {
    const given = params[p.name];
    if (given === undefined) {
      if (p.required) problems.push(`Value null at '${p.member}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    checkString(given, p.member, p.rule, problems);
    value[p.member] = given;
  }
  if (PAGINATED.has(action) && params.MaxItems !== undefined) {
    const text = params.MaxItems;
    const prefix = `Value '${text}' at 'maxItems' failed to satisfy constraint: Member must`;
    // Not confirmed against AWS: the wording for a MaxItems that is not an integer.
    if (!/^-?\d+$/.test(text)) problems.push(`${prefix} be an integer`);
    else if (Number(text) < MAX_ITEMS.min) problems.push(`${prefix} have value greater than or equal to ${MAX_ITEMS.min}`);
    else if (Number(text) > MAX_ITEMS.max) problems.push(`${prefix} have value less than or equal to ${MAX_ITEMS.max}`);
    else value.maxItems = Number(text);
  }
  if (problems.length > 0) return fail(sender("ValidationError", validationMessage(problems)));
  return ok(value as IamParams);
}

/** IAM's list default page size. */
const DEFAULT_MAX_ITEMS = 100;

/**
 * One page of a list, as IAM pages: at most MaxItems entries, and an opaque Marker to resume
 * from when more remain. The marker here is the position of the next entry.
 */
export function pageOf<T>(items: readonly T[], params: IamParams): Result<{ items: T[]; marker?: string }, IamErrorSpec> {
  let start = 0;
  if (params.marker !== undefined) {
    const decoded = Buffer.from(params.marker, "base64").toString("utf8");
    const m = /^next:(\d+)$/.exec(decoded);
    // Not confirmed against AWS: the code and wording for a marker IAM did not issue.
    if (!m) return fail(sender("ValidationError", "Invalid Marker."));
    start = Number(m[1]);
  }
  const end = start + (params.maxItems ?? DEFAULT_MAX_ITEMS);
  const page = items.slice(start, end);
  return ok(end < items.length ? { items: page, marker: Buffer.from(`next:${end}`).toString("base64") } : { items: page });
}

/** IAM returns policy documents URL-encoded (RFC 3986), which every SDK leaves to the caller to decode. */
export function encodePolicyDocument(document: PolicyDocument): string {
  return encodeURIComponent(JSON.stringify(document));
}

const actionResponse = (action: IamAction, result: string, requestId: string): WireResponse =>
  queryActionResponse(IAM_NAMESPACE, action, result, requestId);

/** awsQuery lists: each entry a <member>. */
const members = (name: string, entries: readonly string[]): string =>
  entries.length === 0
    ? `    <${name}/>\n`
    : `    <${name}>\n${entries.map((e) => `      <member>${e}</member>\n`).join("")}    </${name}>\n`;

const truncation = (marker: string | undefined): string =>
  marker === undefined ? `    ${el("IsTruncated", false)}\n` : `    ${el("IsTruncated", true)}\n    ${el("Marker", marker)}\n`;

export interface IamRoleView {
  readonly path: string;
  readonly name: string;
  readonly roleId: string;
  readonly arn: string;
  readonly createDate: Date;
  readonly trustPolicy: PolicyDocument;
  readonly maxSessionDurationSeconds: number;
}

export function getRoleResponse(role: IamRoleView, requestId: string): WireResponse {
  return actionResponse(
    "GetRole",
    `    <Role>\n` +
      `      ${el("Path", role.path)}\n` +
      `      ${el("AssumeRolePolicyDocument", encodePolicyDocument(role.trustPolicy))}\n` +
      `      ${el("MaxSessionDuration", role.maxSessionDurationSeconds)}\n` +
      `      ${el("RoleId", role.roleId)}\n` +
      `      ${el("RoleName", role.name)}\n` +
      `      ${el("Arn", role.arn)}\n` +
      `      ${el("CreateDate", isoSeconds(role.createDate))}\n` +
      `    </Role>\n`,
    requestId,
  );
}

export function listRolePoliciesResponse(names: readonly string[], marker: string | undefined, requestId: string): WireResponse {
  return actionResponse(
    "ListRolePolicies",
    members(
      "PolicyNames",
      names.map((n) => xmlEscape(n)),
    ) + truncation(marker),
    requestId,
  );
}

export function getRolePolicyResponse(
  policy: { roleName: string; policyName: string; document: PolicyDocument },
  requestId: string,
): WireResponse {
  return actionResponse(
    "GetRolePolicy",
    `    ${el("RoleName", policy.roleName)}\n    ${el("PolicyName", policy.policyName)}\n    ${el("PolicyDocument", encodePolicyDocument(policy.document))}\n`,
    requestId,
  );
}

export function listAttachedRolePoliciesResponse(
  attached: ReadonlyArray<{ name: string; arn: string }>,
  marker: string | undefined,
  requestId: string,
): WireResponse {
  return actionResponse(
    "ListAttachedRolePolicies",
    members(
      "AttachedPolicies",
      attached.map((p) => `${el("PolicyName", p.name)}${el("PolicyArn", p.arn)}`),
    ) + truncation(marker),
    requestId,
  );
}

export interface IamManagedPolicyView {
  readonly name: string;
  readonly policyId: string;
  readonly arn: string;
  readonly path: string;
  /** Entities (here: roles of the stacks) the policy is attached to. */
  readonly attachmentCount: number;
  readonly createDate: Date;
  readonly document: PolicyDocument;
}

/** The only version a policy has here: the stacks define each policy once. */
export const DEFAULT_POLICY_VERSION = "v1";

export function getPolicyResponse(policy: IamManagedPolicyView, requestId: string): WireResponse {
  return actionResponse(
    "GetPolicy",
    `    <Policy>\n` +
      `      ${el("PolicyName", policy.name)}\n` +
      `      ${el("DefaultVersionId", DEFAULT_POLICY_VERSION)}\n` +
      `      ${el("PolicyId", policy.policyId)}\n` +
      `      ${el("Path", policy.path)}\n` +
      `      ${el("Arn", policy.arn)}\n` +
      `      ${el("AttachmentCount", policy.attachmentCount)}\n` +
      `      ${el("PermissionsBoundaryUsageCount", 0)}\n` +
      `      ${el("IsAttachable", true)}\n` +
      `      ${el("CreateDate", isoSeconds(policy.createDate))}\n` +
      `      ${el("UpdateDate", isoSeconds(policy.createDate))}\n` +
      `    </Policy>\n`,
    requestId,
  );
}

export function getPolicyVersionResponse(policy: IamManagedPolicyView, requestId: string): WireResponse {
  return actionResponse(
    "GetPolicyVersion",
    `    <PolicyVersion>\n` +
      `      ${el("Document", encodePolicyDocument(policy.document))}\n` +
      `      ${el("IsDefaultVersion", true)}\n` +
      `      ${el("VersionId", DEFAULT_POLICY_VERSION)}\n` +
      `      ${el("CreateDate", isoSeconds(policy.createDate))}\n` +
      `    </PolicyVersion>\n`,
    requestId,
  );
}

export function iamErrorResponse(error: IamErrorSpec, requestId: string): WireResponse {
  return queryErrorResponse(IAM_NAMESPACE, { ...error, type: error.status >= 500 ? "Receiver" : "Sender" }, requestId);
}

/**
 * How IAM names a resource in AccessDenied messages: "role <name>", "policy <arn>".
 * Not confirmed against AWS: the policy wording, and whether a role's path is shown.
 */
export function iamResourceLabel(arn: string): string {
  const role = /^arn:[^:]+:iam::[^:]*:role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (role) return `role ${role[1]}`;
  return `policy ${arn}`;
}

/** A managed policy ARN's name and path: arn:<p>:iam::<account>:policy/<path...>/<name>. */
export function splitPolicyArn(arn: string): { accountId: string; path: string; name: string } | undefined {
  const m = /^arn:[^:]+:iam::([^:]*):policy(\/(?:.*\/)?)([^/]+)$/.exec(arn);
  return m ? { accountId: m[1], path: m[2], name: m[3] } : undefined;
}
