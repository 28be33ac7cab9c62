/**
 * Lambda: restJson under /2015-03-31/functions, signed for the endpoint's region. Invoke runs the
 * deployed zip (RequestResponse, Event through the async invoker, DryRun) of the version its qualifier
 * names; GetPolicy and GetFunctionConfiguration are answered from the model; PublishVersion, GetAlias
 * and UpdateAlias act on the runtime's versions and aliases.
 */
import { signatureErrorCodes } from "../../wire/signature-errors";
import { defineService, networkOf, type Route, type ServiceContext } from "../definition";
import { LAMBDA_SIGNATURE_ERRORS, lambdaErrorResponse } from "./errors";
import { LambdaReadService } from "./read-service";
import { matchFunctionRead } from "./read-wire";
import { LambdaService } from "./service";
import { LambdaVersionService } from "./version-service";
import { matchVersionOperation } from "./version-wire";
import { parseInvokeRequest } from "./wire";

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations(?:\?.*)?$/;
/** Every Lambda path names Lambda, signed for it or not. */
const LAMBDA_PATH = /^\/2015-03-31\/functions(?:\/|\?|$)/;

function start(context: ServiceContext): Route {
  const { accounts, audit } = context;
  const invoker = new LambdaService(accounts, context.functions, audit, context.asyncInvocations, context.hooks.lambda);
  const reads = new LambdaReadService(accounts, context.functions, audit, context.deployedAt);
  const versions = new LambdaVersionService(accounts, context.functions, audit, reads);
  return async (call) => {
    if (call.method === "POST" && INVOKE_PATH.test(call.rawUrl)) {
      context.count("lambda:InvokeFunction");
      const parsed = parseInvokeRequest({ method: call.method, rawUrl: call.rawUrl, headers: call.headers, body: call.body });
      if (!parsed.ok) return lambdaErrorResponse(parsed.error, call.requestId);
      return invoker.handle({
        caller: call.principal,
        region: call.region,
        invoke: parsed.value,
        requestId: call.requestId,
        ...networkOf(call),
      });
    }
    const versionOperation = matchVersionOperation(call.method, call.rawUrl, call.body);
    if (versionOperation) {
      if (!versionOperation.ok) return lambdaErrorResponse(versionOperation.error, call.requestId);
      context.count(`lambda:${versionOperation.value.operation}`);
      return versions.handle({
        caller: call.principal,
        region: call.region,
        request: versionOperation.value,
        requestId: call.requestId,
        ...networkOf(call),
      });
    }
    const read = matchFunctionRead(call.method, call.rawUrl);
    if (!read) return undefined;
    context.count(`lambda:${read.operation}`);
    return reads.handle({ caller: call.principal, region: call.region, read, requestId: call.requestId, ...networkOf(call) });
  };
}

export const lambda = defineService({
  signingName: "lambda",
  title: "Lambda",
  operations: ["Invoke", "GetPolicy", "GetFunctionConfiguration", "PublishVersion", "GetAlias", "UpdateAlias"],
  claims: (request) => LAMBDA_PATH.test(request.rawUrl),
  errorCodeFor: signatureErrorCodes(LAMBDA_SIGNATURE_ERRORS),
  errorResponse: lambdaErrorResponse,
  unknownOperation: (message, requestId) => lambdaErrorResponse({ code: "UnknownOperationException", status: 404, message }, requestId),
  start,
});
