/**
 * The one HTTP endpoint every emulated service shares: each request is read, its SigV4 signature
 * verified, the service its credential scope names found in the registry, and handed to that
 * service's route; anything refused on the way is answered in the protocol of the service the
 * request names.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "http";
import type { Principal } from "../../core/iam/principals";
import type { Route, RoutedCall, ServiceDefinition } from "../services/definition";
import { lambda } from "../services/lambda";
import { DEFAULT_SERVICE, serviceClaiming, serviceNamed, signingRulesFor, unknownOperation } from "../services/registry";
import { newRequestId, RESET_CONNECTION, writeWire, type WireResponse } from "../wire/response";
import { fail, ok, type Result } from "../wire/result";
import { claimedSigningName, globalSigningRegion, verifySigV4, type IncomingSignedRequest, type KnownKey } from "../wire/sigv4";
import { readBody } from "./http";
import type { RequestNetwork } from "./network";

export interface EndpointOptions {
  readonly partition: string;
  /** The region the endpoint serves (a global service is signed for the partition's instead). */
  readonly region: string;
  /** The secret (and token) of an access key, and whose it is. */
  readonly lookupKey: (accessKeyId: string) => (KnownKey & { readonly principal: Principal }) | undefined;
  /** Where a principal's request to a service (by signing name) is sent from: its VPC and the endpoint it passes there. */
  readonly networkOf: (principal: Principal, signingName: string) => RequestNetwork | undefined;
  /** Each served service's route. */
  readonly routes: ReadonlyMap<ServiceDefinition, Route>;
  readonly count: (key: string) => void;
  /** The endpoint's URL, which the health check reports; known once it listens. */
  readonly url: () => string;
}

/** The server; it listens once the caller says where. */
export function createEndpoint(options: EndpointOptions): Server {
  return createServer((req, res) => {
    void serveRequest(req, res, options).catch((err: unknown) => {
      // A bug here must not leave the client hanging.
      if (!res.headersSent)
        writeWire(
          res,
          lambda.errorResponse(
            { code: "ServiceException", status: 500, message: `local runtime error: ${(err as Error).message}` },
            newRequestId(),
          ),
        );
      else res.destroy();
    });
  });
}

async function serveRequest(req: IncomingMessage, res: ServerResponse, options: EndpointOptions): Promise<void> {
  const requestId = newRequestId();
  const rawUrl = req.url ?? "/";
  const method = req.method ?? "GET";
  const body = await readBody(req);
  if (body === "too-large") {
    // Before any service is known: answered as Lambda, whose payload limit it is.
    const message = "Request must be smaller than 6291456 bytes for the InvokeFunction operation";
    return writeWire(res, lambda.errorResponse({ code: "RequestEntityTooLargeException", status: 413, message }, requestId));
  }
  if (method === "GET" && rawUrl === "/_local/health") {
    return writeWire(res, {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ok: true, endpoint: options.url() }),
    });
  }
  const answer = await answerSigned({ method, rawUrl, headers: req.headers, body }, requestId, options);
  if (answer === RESET_CONNECTION) {
    // An injected fault: no answer at all, a TCP RST, as when a network path drops the connection.
    req.socket.resetAndDestroy();
    return;
  }
  writeWire(res, answer);
}

/** A signed request's answer: from the service it is admitted to, or the refusal. */
async function answerSigned(
  request: IncomingSignedRequest,
  requestId: string,
  options: EndpointOptions,
): Promise<WireResponse | typeof RESET_CONNECTION> {
  const admitted = await admit(request, requestId, options);
  if (!admitted.ok) return admitted.error;
  const { service, call } = admitted.value;
  const route = options.routes.get(service);
  const served = route && (await route(call));
  if (served) return served;
  options.count("unknown-operation");
  return unknownOperation(service, call.method, call.rawUrl, requestId);
}

/**
 * Verifies the signature, finds the service the scope names and the caller it belongs to; or the
 * refusal, in the protocol of the service the request names.
 */
async function admit(
  request: IncomingSignedRequest,
  requestId: string,
  options: EndpointOptions,
): Promise<Result<{ service: ServiceDefinition; call: RoutedCall }, WireResponse>> {
  const shapedFor = serviceClaiming(request);
  const verified = await verifySigV4(request, options.lookupKey, new Date(), { signingRules: signingRulesFor });
  if (!verified.ok) {
    const { reason, message } = verified.error;
    options.count(`refused:${reason}`);
    // Nothing is verified yet: the scope the client claims (else the request's shape) picks the protocol of the answer.
    const service = serviceNamed(claimedSigningName(request)) ?? shapedFor ?? DEFAULT_SERVICE;
    return fail(service.errorResponse(service.errorCodeFor(reason, message), requestId));
  }
  const scope = verified.value;
  // One endpoint serves every service, so the signed scope names the one the client meant. Where the
  // request's shape names one too (Lambda's paths, KMS's target), they must agree, as AWS's endpoints check.
  const named = serviceNamed(scope.service);
  const service = named !== undefined && (shapedFor === undefined || shapedFor === named) ? named : undefined;
  if (service === undefined) {
    const answerIn = shapedFor ?? DEFAULT_SERVICE;
    const mismatch = `Credential should be scoped to correct service: '${answerIn.signingName}'. `;
    return fail(answerIn.errorResponse(answerIn.errorCodeFor("SignatureDoesNotMatch", mismatch), requestId));
  }
  const expectedRegion = service.global ? globalSigningRegion(options.partition) : options.region;
  if (scope.region !== expectedRegion) return fail(service.wrongRegion(scope.region, expectedRegion, requestId));
  const principal = options.lookupKey(scope.accessKeyId)?.principal;
  if (!principal) return fail(service.errorResponse(service.errorCodeFor("UnknownAccessKey"), requestId));
  const network = options.networkOf(principal, service.signingName);
  return ok({ service, call: { ...request, principal, region: scope.region, requestId, ...(network !== undefined ? { network } : {}) } });
}
