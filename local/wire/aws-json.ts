/**
 * The awsJson protocols (1.0: DynamoDB; 1.1: KMS): POST / with `X-Amz-Target: <prefix><Operation>` and a JSON object
 * as the body. What the services that speak them share: the target's operation and the body's parse.
 */
import type { WireError } from "./response";
import { fail, ok, type Result } from "./result";
import type { SignatureErrorTable } from "./signature-errors";
import { MSG_EXPIRED_TOKEN, MSG_INVALID_TOKEN, MSG_SIGNATURE_MISMATCH } from "./sigv4";

/** An awsJson request, parsed: the operation its target names (served or not) and its body. */
export interface AwsJsonRequest {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** The operation a target names under `prefix` ("TrentService.", "DynamoDB_20120810."), or undefined when it names none. */
export function targetOperation(prefix: string, target: string | undefined): string | undefined {
  return target?.startsWith(prefix) ? target.slice(prefix.length) : undefined;
}

/** The target's operation and the JSON object of the body (an empty body is `{}`), or the error AWS answers. */
export function parseAwsJsonRequest(prefix: string, target: string | undefined, body: Buffer): Result<AwsJsonRequest, WireError> {
  const operation = targetOperation(prefix, target);
  // Not confirmed against AWS: the message (the code is what awsJson services answer).
  if (operation === undefined || operation === "")
    return fail({ code: "UnknownOperationException", status: 400, message: `Unknown target '${target ?? ""}'` });
  let input: unknown = {};
  const text = body.toString("utf8").trim();
  if (text !== "") {
    try {
      input = JSON.parse(text);
    } catch (e) {
      // Not confirmed against AWS: the wording of a body that is not JSON.
      return fail({ code: "SerializationException", status: 400, message: `The request body is not JSON: ${(e as Error).message}` });
    }
  }
  if (typeof input !== "object" || input === null || Array.isArray(input))
    return fail({ code: "SerializationException", status: 400, message: "Start of structure or map found where not expected." });
  return ok({ operation, input: input as Record<string, unknown> });
}

/**
 * How awsJson services name signature failures: as exceptions, answered with 400. The services differ in the
 * wording of a missing signature only.
 */
export function awsJsonSignatureErrors(missingAuthenticationMessage: string): SignatureErrorTable {
  return {
    MissingAuthentication: { code: "MissingAuthenticationTokenException", status: 400, message: missingAuthenticationMessage },
    IncompleteSignature: {
      code: "IncompleteSignatureException",
      status: 400,
      message: "The request signature does not conform to AWS standards.",
    },
    UnknownAccessKey: { code: "UnrecognizedClientException", status: 400, message: MSG_INVALID_TOKEN },
    InvalidSessionToken: { code: "UnrecognizedClientException", status: 400, message: MSG_INVALID_TOKEN },
    ExpiredToken: { code: "ExpiredTokenException", status: 400, message: MSG_EXPIRED_TOKEN },
    RequestExpired: { code: "InvalidSignatureException", status: 400, message: "Signature expired" },
    SignatureDoesNotMatch: { code: "InvalidSignatureException", status: 400, message: MSG_SIGNATURE_MISMATCH },
  };
}
