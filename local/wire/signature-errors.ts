/**
 * How a service answers a signature that failed verification: each service names the failures in
 * its own codes (see its folder), with AWS's fixed message, or the request's own wording where AWS
 * has one.
 */
import type { WireError } from "./response";
import type { SigV4FailureReason } from "./sigv4";

export type SignatureErrorTable = Readonly<Record<SigV4FailureReason, WireError>>;

/** AWS's code, HTTP status and message for a verification failure; `detail` is the failure's own message. */
export type SignatureErrorCodes = (reason: SigV4FailureReason, detail?: string) => WireError;

/** Reasons whose AWS message depends on the request: for these `detail` is used. */
const REQUEST_SPECIFIC: ReadonlySet<SigV4FailureReason> = new Set(["IncompleteSignature", "RequestExpired", "SignatureDoesNotMatch"]);

/**
 * A service's answers to verification failures, from its table. Pass the reasons whose wording
 * the service keeps fixed by leaving them out of `requestSpecific` (S3 keeps its own for a
 * mismatch and for clock skew).
 */
export function signatureErrorCodes(
  table: SignatureErrorTable,
  requestSpecific: ReadonlySet<SigV4FailureReason> = REQUEST_SPECIFIC,
): SignatureErrorCodes {
  return (reason, detail) => {
    const entry = table[reason];
    return { ...entry, message: detail !== undefined && requestSpecific.has(reason) ? detail : entry.message };
  };
}
