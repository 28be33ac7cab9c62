/**
 * DynamoDB: awsJson1.0 (POST / with X-Amz-Target: DynamoDB_20120810.<Operation>), signed for the endpoint's region,
 * authorized here and then served by moto (see service.ts), which the runtime starts when the stacks have a table.
 */
import { headerValue } from "../../wire/headers";
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { DynamoDbService } from "./service";
import {
  DYNAMODB_OPERATIONS,
  DYNAMODB_SIGNATURE_ERRORS,
  dynamoDbErrorResponse,
  dynamoDbTargetOperation,
  isServedDynamoDbOperation,
  parseDynamoDbRequest,
} from "./wire";

function start(context: ServiceContext): Route {
  const dynamodb = new DynamoDbService(context.accounts, context.audit, () => context.dynamodb);
  return async (call) => {
    if (call.method !== "POST" || call.rawUrl.split("?")[0] !== "/") return undefined;
    const parsed = parseDynamoDbRequest(headerValue(call.headers, "x-amz-target"), call.body);
    if (!parsed.ok) return dynamoDbErrorResponse(parsed.error, call.requestId);
    const { operation, target, input } = parsed.value;
    // Not served: the endpoint answers as the service answers an unknown operation, and counts it.
    if (!isServedDynamoDbOperation(operation)) return undefined;
    context.count(`dynamodb:${operation}`);
    const contentType = headerValue(call.headers, "content-type");
    return dynamodb.handle({
      caller: call.principal,
      region: call.region,
      operation,
      target,
      input,
      body: call.body,
      ...(contentType !== undefined ? { contentType } : {}),
      requestId: call.requestId,
      ...networkOf(call),
    });
  };
}

export const dynamodb = defineService({
  signingName: "dynamodb",
  title: "DynamoDB",
  operations: DYNAMODB_OPERATIONS,
  // A DynamoDB_20120810 target names DynamoDB, signed for it or not.
  claims: (request) => dynamoDbTargetOperation(headerValue(request.headers, "x-amz-target")) !== undefined,
  errorCodeFor: signatureErrorCodes(DYNAMODB_SIGNATURE_ERRORS),
  errorResponse: dynamoDbErrorResponse,
  unknownOperation: (message, requestId) => dynamoDbErrorResponse({ code: "UnknownOperationException", status: 400, message }, requestId),
  start,
});
