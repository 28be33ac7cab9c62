/** KMS: awsJson1.1 (POST / with X-Amz-Target: TrentService.<Operation>), signed for the endpoint's region, decided by the key policy. */
import { headerValue } from "../../wire/headers";
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { KmsService } from "./service";
import { isServedKmsOperation, KMS_OPERATIONS, KMS_SIGNATURE_ERRORS, kmsErrorResponse, kmsTargetOperation, parseKmsRequest } from "./wire";

function start(context: ServiceContext): Route {
  const kms = new KmsService(context.accounts, context.audit, context.deployedAt);
  return async (call) => {
    if (call.method !== "POST" || call.rawUrl.split("?")[0] !== "/") return undefined;
    const parsed = parseKmsRequest(headerValue(call.headers, "x-amz-target"), call.body);
    if (!parsed.ok) return kmsErrorResponse(parsed.error, call.requestId);
    context.count(isServedKmsOperation(parsed.value.operation) ? `kms:${parsed.value.operation}` : "unknown-operation");
    return kms.handle({
      caller: call.principal,
      region: call.region,
      operation: parsed.value.operation,
      input: parsed.value.input,
      requestId: call.requestId,
      ...networkOf(call),
    });
  };
}

export const kms = defineService({
  signingName: "kms",
  title: "KMS",
  operations: KMS_OPERATIONS,
  // A TrentService target names KMS, signed for it or not.
  claims: (request) => kmsTargetOperation(headerValue(request.headers, "x-amz-target")) !== undefined,
  errorCodeFor: signatureErrorCodes(KMS_SIGNATURE_ERRORS),
  errorResponse: kmsErrorResponse,
  unknownOperation: (message, requestId) => kmsErrorResponse({ code: "UnknownOperationException", status: 400, message }, requestId),
  start,
});
