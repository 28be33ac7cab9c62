/**
 * KMS wire format (awsJson1.1): POST / with `X-Amz-Target: TrentService.<Operation>` and a JSON
 * body; answers are JSON, errors `{"__type": "<code>", "message": "..."}` with HTTP 400.
 */
import type { WireError, WireResponse } from "../../wire/response";
import { awsJsonSignatureErrors, parseAwsJsonRequest, targetOperation } from "../../wire/aws-json";
import type { Result } from "../../wire/result";
import type { SignatureErrorTable } from "../../wire/signature-errors";
import { constraint, validationMessage } from "../../wire/validation";

const TARGET_PREFIX = "TrentService.";
export const KMS_OPERATIONS = ["DescribeKey", "GetKeyPolicy"] as const;
export type KmsOperation = (typeof KMS_OPERATIONS)[number];
const CONTENT_TYPE = "application/x-amz-json-1.1";

export type KmsErrorSpec = WireError;

export interface KmsRequest {
  /** The operation the target names, served or not. */
  operation: string;
  input: Record<string, unknown>;
}

/** The operation a request's X-Amz-Target names for KMS, or undefined when it names none. */
export function kmsTargetOperation(target: string | undefined): string | undefined {
  return targetOperation(TARGET_PREFIX, target);
}

export function isServedKmsOperation(operation: string): operation is KmsOperation {
  return (KMS_OPERATIONS as readonly string[]).includes(operation);
}

export function parseKmsRequest(target: string | undefined, body: Buffer): Result<KmsRequest, KmsErrorSpec> {
  return parseAwsJsonRequest(TARGET_PREFIX, target, body);
}

/**
 * A string member of the input, checked as the KMS model constrains it; problems are worded as
 * AWS words them. A member of the wrong JSON type is a SerializationException, as in AWS.
 */
export function stringMember(
  input: Record<string, unknown>,
  name: string,
  at: string,
  rule: { required: boolean; min: number; max: number; pattern?: { text: string; regex: RegExp } },
  problems: string[],
): string | undefined | KmsErrorSpec {
  const value = input[name];
  if (value === undefined || value === null) {
    if (rule.required) problems.push(`Value null at '${at}' failed to satisfy constraint: Member must not be null`);
    return undefined;
  }
  if (typeof value !== "string")
    return { code: "SerializationException", status: 400, message: `STRING_VALUE can not be converted to ${typeof value}` };
  if (value.length < rule.min) problems.push(constraint(value, at, `have length greater than or equal to ${rule.min}`));
  if (value.length > rule.max) problems.push(constraint(value, at, `have length less than or equal to ${rule.max}`));
  if (rule.pattern && !rule.pattern.regex.test(value))
    problems.push(constraint(value, at, `satisfy regular expression pattern: ${rule.pattern.text}`));
  return value;
}

export function validationError(problems: readonly string[]): KmsErrorSpec {
  return { code: "ValidationException", status: 400, message: validationMessage(problems) };
}

function jsonResponse(status: number, body: unknown, requestId: string): WireResponse {
  return { status, headers: { "Content-Type": CONTENT_TYPE, "x-amzn-RequestId": requestId }, body: JSON.stringify(body) };
}

/**
 * KMS's front end (awsJson) names signature failures as exceptions and, as awsJson services do,
 * answers them with 400. Not confirmed against AWS for KMS: the statuses.
 */
export const KMS_SIGNATURE_ERRORS: SignatureErrorTable = awsJsonSignatureErrors("Missing Authentication Token");

export function kmsErrorResponse(error: KmsErrorSpec, requestId: string): WireResponse {
  return jsonResponse(error.status, { __type: error.code, message: error.message }, requestId);
}

export interface KeyMetadataView {
  readonly keyId: string;
  readonly arn: string;
  readonly accountId: string;
  readonly description?: string;
  readonly creationDate: Date;
}

/** DescribeKey: a customer-managed symmetric key, enabled, with key material from KMS. */
export function describeKeyResponse(key: KeyMetadataView, requestId: string): WireResponse {
  return jsonResponse(
    200,
    {
      KeyMetadata: {
        AWSAccountId: key.accountId,
        KeyId: key.keyId,
        Arn: key.arn,
        // awsJson timestamps are epoch seconds.
        CreationDate: key.creationDate.getTime() / 1000,
        Enabled: true,
        // KMS answers an empty Description when none was set.
        Description: key.description ?? "",
        KeyUsage: "ENCRYPT_DECRYPT",
        KeyState: "Enabled",
        Origin: "AWS_KMS",
        KeyManager: "CUSTOMER",
        CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
        KeySpec: "SYMMETRIC_DEFAULT",
        EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
        MultiRegion: false,
      },
    },
    requestId,
  );
}

export function getKeyPolicyResponse(policy: string, policyName: string, requestId: string): WireResponse {
  return jsonResponse(200, { Policy: policy, PolicyName: policyName }, requestId);
}
