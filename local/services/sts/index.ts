/** STS: awsQuery at the endpoint's root, signed for the endpoint's region. */
import { QUERY_SIGNATURE_ERRORS } from "../../wire/aws-query";
import type { WireError, WireResponse } from "../../wire/response";
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { StsService } from "./service";
import { parseStsRequest, stsErrorResponse, STS_ACTIONS } from "./wire";

/** An error as STS words it: a Sender's fault, or the Receiver's from 500 on. */
function stsError(error: WireError, requestId: string): WireResponse {
  return stsErrorResponse({ ...error, type: error.status >= 500 ? "Receiver" : "Sender" }, requestId);
}

function start(context: ServiceContext): Route {
  const sts = new StsService(context.accounts, context.audit, context.hooks.sts);
  return async (call) => {
    if ((call.method !== "POST" && call.method !== "GET") || call.rawUrl.split("?")[0] !== "/") return undefined;
    // awsQuery also arrives as a GET with the parameters in the query string (e.g. presigned GetCallerIdentity).
    const parsed =
      call.method === "GET" ? parseStsRequest(Buffer.from(call.rawUrl.split("?")[1] ?? ""), {}) : parseStsRequest(call.body, call.headers);
    if (!parsed.ok) return stsErrorResponse({ ...parsed.error, type: "Sender" }, call.requestId);
    context.count(`sts:${parsed.value.action}`);
    return sts.handle({
      caller: call.principal,
      region: call.region,
      action: parsed.value.action,
      params: parsed.value.params,
      requestId: call.requestId,
      ...networkOf(call),
    });
  };
}

export const sts = defineService({
  signingName: "sts",
  title: "STS",
  operations: STS_ACTIONS,
  errorCodeFor: signatureErrorCodes(QUERY_SIGNATURE_ERRORS),
  errorResponse: stsError,
  unknownOperation: (message, requestId) => stsError({ code: "InvalidAction", status: 400, message }, requestId),
  start,
});
