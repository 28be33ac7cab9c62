/**
 * The services the local runtime emulates, one definition each (in its own folder). The endpoint
 * loops over this list: adding a service is adding its folder and its line here.
 */
import type { WireResponse } from "../wire/response";
import type { SigningRules } from "../wire/sigv4";
import type { RequestShape, ServiceDefinition } from "./definition";
import { dynamodb } from "./dynamodb";
import { iam } from "./iam";
import { kms } from "./kms";
import { lambda } from "./lambda";
import { s3 } from "./s3";
import { sts } from "./sts";

/** In the order the unknown-operation message lists them, and the order request shapes are tried in. */
export const SERVICES: readonly ServiceDefinition[] = [sts, iam, lambda, kms, s3, dynamodb];

/** Answers what names no service (no readable scope, no shape of its own): awsQuery, as STS at the endpoint's root. */
export const DEFAULT_SERVICE: ServiceDefinition = sts;

const BY_SIGNING_NAME = new Map(SERVICES.map((service) => [service.signingName, service]));

/** The service a credential scope names, when the runtime serves it. */
export function serviceNamed(signingName: string | undefined): ServiceDefinition | undefined {
  return signingName === undefined ? undefined : BY_SIGNING_NAME.get(signingName);
}

/** The service a request's shape alone names (path or target header), where one does. */
export function serviceClaiming(request: RequestShape): ServiceDefinition | undefined {
  return SERVICES.find((service) => service.claims(request));
}

/** How the service a scope names signs its requests (undefined for a service not served: standard SigV4). */
export function signingRulesFor(signingName: string): SigningRules | undefined {
  return serviceNamed(signingName)?.signing;
}

/** "a", "a and b", "a, b and c". */
function spoken(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** Every operation served, by service: "STS AssumeRole and GetCallerIdentity; IAM GetRole, …". */
export const SERVED_OPERATIONS = SERVICES.map((service) => `${service.title} ${spoken(service.operations)}`).join("; ");

/** An operation the runtime does not model, answered as the service it is signed for answers an unknown one. */
export function unknownOperation(service: ServiceDefinition, method: string, rawUrl: string, requestId: string): WireResponse {
  const message = `The local runtime models only ${SERVED_OPERATIONS}; ${method} ${rawUrl.split("?")[0]} signed for '${service.signingName}' is not one of them.`;
  return service.unknownOperation(message, requestId);
}
