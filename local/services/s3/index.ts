/** S3: path-style REST with its own XML errors, signed as S3 signs (the declared payload hash, the path as sent). */
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { S3Service } from "./service";
import { matchGetBucketPolicy, S3_REQUEST_SPECIFIC, S3_SIGNATURE_ERRORS, s3ErrorResponse } from "./wire";

function start(context: ServiceContext): Route {
  const s3 = new S3Service(context.accounts, context.audit);
  return async (call) => {
    const request = matchGetBucketPolicy(call.method, call.rawUrl);
    if (!request) return undefined;
    context.count("s3:GetBucketPolicy");
    return s3.getBucketPolicy({
      caller: call.principal,
      region: call.region,
      bucket: request.bucket,
      requestId: call.requestId,
      ...networkOf(call),
    });
  };
}

export const s3 = defineService({
  signingName: "s3",
  title: "S3",
  operations: ["GetBucketPolicy"],
  signing: { signsDeclaredPayloadHash: true, uriEscapePath: false },
  errorCodeFor: signatureErrorCodes(S3_SIGNATURE_ERRORS, S3_REQUEST_SPECIFIC),
  errorResponse: s3ErrorResponse,
  unknownOperation: (message, requestId) => s3ErrorResponse({ code: "NotImplemented", status: 501, message }, requestId),
  wrongRegion: (scoped, expected, requestId) =>
    s3ErrorResponse(
      {
        code: "AuthorizationHeaderMalformed",
        status: 400,
        message: `The authorization header is malformed; the region '${scoped}' is wrong; expecting '${expected}'`,
        fields: { Region: expected },
      },
      requestId,
    ),
  start,
});
