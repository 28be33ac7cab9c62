/** IAM: awsQuery at the endpoint's root, global (signed for the partition's signing region), each account seeing only its own. */
import { QUERY_SIGNATURE_ERRORS } from "../../wire/aws-query";
import { headerValue } from "../../wire/headers";
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { IamService } from "./service";
import { iamErrorResponse, isServedIamAction, parseIamRequest, IAM_ACTIONS } from "./wire";

/** IAM's front end answers signature failures as STS's does. */
const errorCodeFor = signatureErrorCodes(QUERY_SIGNATURE_ERRORS);

function start(context: ServiceContext): Route {
  const iam = new IamService(context.accounts, context.audit, context.deployedAt);
  return async (call) => {
    if ((call.method !== "POST" && call.method !== "GET") || call.rawUrl.split("?")[0] !== "/") return undefined;
    const parsed =
      call.method === "GET"
        ? parseIamRequest(call.rawUrl.split("?")[1] ?? "", undefined)
        : parseIamRequest(call.body.toString("utf8"), headerValue(call.headers, "content-type"));
    if (!parsed.ok) return iamErrorResponse(parsed.error, call.requestId);
    context.count(isServedIamAction(parsed.value.action) ? `iam:${parsed.value.action}` : "unknown-operation");
    return iam.handle({
      caller: call.principal,
      region: call.region,
      action: parsed.value.action,
      params: parsed.value.params,
      requestId: call.requestId,
      ...networkOf(call),
    });
  };
}

export const iam = defineService({
  signingName: "iam",
  title: "IAM",
  operations: IAM_ACTIONS,
  global: true,
  errorCodeFor,
  errorResponse: iamErrorResponse,
  unknownOperation: (message, requestId) => iamErrorResponse({ code: "InvalidAction", status: 400, message }, requestId),
  // Not confirmed against AWS for IAM: the second sentence is the runtime's own.
  wrongRegion: (scoped, expected, requestId) =>
    iamErrorResponse(
      errorCodeFor(
        "SignatureDoesNotMatch",
        `Credential should be scoped to a valid region, not '${scoped}'. IAM is signed for the partition's global region '${expected}'.`,
      ),
      requestId,
    ),
  start,
});
