/**
 * DynamoDB wire format (awsJson1.0): POST / with `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON body;
 * answers are JSON, errors `{"__type": "<namespace>#<code>", "message": "..."}` with HTTP 400.
 */
import type { WireError, WireResponse } from "../../wire/response";
import { awsJsonSignatureErrors, parseAwsJsonRequest, targetOperation } from "../../wire/aws-json";
import { fail, ok, type Result } from "../../wire/result";
import type { SignatureErrorTable } from "../../wire/signature-errors";
import { constraint, validationMessage } from "../../wire/validation";

const TARGET_PREFIX = "DynamoDB_20120810.";
/** Those Powertools' DynamoDBPersistenceLayer calls (GetItem, PutItem, UpdateItem, DeleteItem), and Query and DescribeTable. */
export const DYNAMODB_OPERATIONS = ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "DescribeTable"] as const;
export type DynamoDbOperation = (typeof DYNAMODB_OPERATIONS)[number];
export const DYNAMODB_CONTENT_TYPE = "application/x-amz-json-1.0";

export interface DynamoDbRequest {
  /** The operation the target names, served or not. */
  readonly operation: string;
  /** The target as sent: forwarded to moto unchanged. */
  readonly target: string;
  readonly input: Record<string, unknown>;
}

/** The operation a request's X-Amz-Target names for DynamoDB, or undefined when it names none. */
export function dynamoDbTargetOperation(target: string | undefined): string | undefined {
  return targetOperation(TARGET_PREFIX, target);
}

export function isServedDynamoDbOperation(operation: string): operation is DynamoDbOperation {
  return (DYNAMODB_OPERATIONS as readonly string[]).includes(operation);
}

export function parseDynamoDbRequest(target: string | undefined, body: Buffer): Result<DynamoDbRequest, WireError> {
  const parsed = parseAwsJsonRequest(TARGET_PREFIX, target, body);
  return parsed.ok ? ok({ ...parsed.value, target: target as string }) : parsed;
}

/** TableName: a name or a table ARN, 1 to 1024 characters (DynamoDB API reference, GetItem "TableName"). */
export function tableNameOf(input: Record<string, unknown>): Result<string, WireError> {
  const value = input.TableName;
  if (value === undefined || value === null)
    return fail(validationError([`Value null at 'tableName' failed to satisfy constraint: Member must not be null`]));
  if (typeof value !== "string")
    return fail({ code: "SerializationException", status: 400, message: `STRING_VALUE can not be converted to ${typeof value}` });
  if (value.length < 1) return fail(validationError([constraint(value, "tableName", "have length greater than or equal to 1")]));
  if (value.length > 1024) return fail(validationError([constraint(value, "tableName", "have length less than or equal to 1024")]));
  return ok(value);
}

export function validationError(problems: readonly string[]): WireError {
  return { code: "ValidationException", status: 400, message: validationMessage(problems) };
}

/**
 * The namespace DynamoDB's `__type` puts before a code: the service framework's for signature and protocol errors,
 * its validator's for ValidationException, DynamoDB's own for the rest (DynamoDB Developer Guide, "Error handling
 * with DynamoDB": `com.amazon.coral.service#UnrecognizedClientException`, `com.amazonaws.dynamodb.v20120810#...`).
 */
const FRAMEWORK_CODES: ReadonlySet<string> = new Set([
  "UnknownOperationException",
  "SerializationException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "MissingAuthenticationTokenException",
  "IncompleteSignatureException",
  "ExpiredTokenException",
]);

export function errorType(code: string): string {
  if (FRAMEWORK_CODES.has(code)) return `com.amazon.coral.service#${code}`;
  if (code === "ValidationException") return `com.amazon.coral.validate#${code}`;
  return `com.amazonaws.dynamodb.v20120810#${code}`;
}

/** DynamoDB answers signature failures as awsJson services do, with 400 (DynamoDB Developer Guide, "Error handling"). */
export const DYNAMODB_SIGNATURE_ERRORS: SignatureErrorTable = awsJsonSignatureErrors("Request is missing Authentication Token");

export function dynamoDbErrorResponse(error: WireError, requestId: string): WireResponse {
  return {
    status: error.status,
    headers: { "Content-Type": DYNAMODB_CONTENT_TYPE, "x-amzn-RequestId": requestId },
    body: JSON.stringify({ __type: errorType(error.code), message: error.message }),
  };
}
