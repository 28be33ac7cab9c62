/** An error in the protocol of the service it is for, whichever of the served services that is. */
import { iamErrorResponse } from "./iam/wire";
import { kmsErrorResponse } from "./kms/wire";
import type { WireResponse } from "../wire/response";
import { lambdaErrorResponse } from "./lambda/errors";
import { s3ErrorResponse } from "./s3/wire";
import type { SigningService } from "../wire/sigv4";
import { stsErrorResponse } from "./sts/wire";

export function errorResponseIn(
  service: SigningService,
  error: { code: string; status: number; message: string },
  requestId: string,
): WireResponse {
  switch (service) {
    case "sts":
      return stsErrorResponse({ ...error, type: error.status >= 500 ? "Receiver" : "Sender" }, requestId);
    case "iam":
      return iamErrorResponse(error, requestId);
    case "lambda":
      return lambdaErrorResponse(error, requestId);
    case "kms":
      return kmsErrorResponse(error, requestId);
    case "s3":
      return s3ErrorResponse(error, requestId);
  }
}
