/**
 * What an emulated service declares, in its own folder, so the endpoint can serve it without
 * knowing it: the name its requests are signed with, how its requests are recognised, parsed and
 * handled, and how it answers errors. The registry (registry.ts) lists them.
 */
import type { Principal } from "../../core/iam/principals";
import type { LocalAccounts } from "../server/accounts";
import type { AuditLog } from "../server/audit";
import type { RequestNetwork } from "../server/network";
import type { RequestHeaders } from "../wire/headers";
import type { RESET_CONNECTION, WireError, WireResponse } from "../wire/response";
import type { SignatureErrorCodes } from "../wire/signature-errors";
import { STANDARD_SIGNING, type SigningRules } from "../wire/sigv4";
import type { AsyncInvoker } from "./lambda/async-invoker";
import type { LambdaHooks } from "./lambda/service";
import type { FunctionVersions } from "./lambda/versions";
import type { StsHooks } from "./sts/service";
import type { MotoAddress } from "./dynamodb/moto-process";

/** A request as it arrived, before anything is verified. */
export interface RequestShape {
  readonly method: string;
  /** Path and query exactly as received, still percent-encoded. */
  readonly rawUrl: string;
  readonly headers: RequestHeaders;
}

/** A verified request, handed to the routes of the service its scope names. */
export interface RoutedCall extends RequestShape {
  readonly body: Buffer;
  readonly principal: Principal;
  /** The credential scope's region. */
  readonly region: string;
  readonly requestId: string;
  /**
   * The VPC it is sent from and the endpoint of that VPC it passes to reach this service, for credentials used in a
   * VPC (a function's, and sessions obtained with them); undefined from outside any VPC. Every route that authorizes
   * passes the endpoint to the authorizer and names it in the audit log.
   */
  readonly network?: RequestNetwork;
}

/** The call's network, to spread into what a service's handler takes (nothing from outside any VPC). */
export function networkOf(call: RoutedCall): { network: RequestNetwork } | Record<string, never> {
  return call.network !== undefined ? { network: call.network } : {};
}

/** A service's answer: a response, a reset connection (an injected fault), or undefined for an operation it does not serve. */
export type Routed = WireResponse | typeof RESET_CONNECTION | undefined;

export type Route = (call: RoutedCall) => Promise<Routed>;

/** Fault injection (off unless given; see server/faults.ts), for the services it applies to. */
export interface ServiceHooks {
  readonly sts?: StsHooks;
  readonly lambda?: LambdaHooks;
}

/** What one runtime gives every service it starts. */
export interface ServiceContext {
  readonly accounts: LocalAccounts;
  readonly audit: AuditLog;
  /** Stands in for every creation date: the model does not know when the stacks were applied. */
  readonly deployedAt: Date;
  /** Each function's versions and aliases, each version with its own execution environments. */
  readonly functions: FunctionVersions;
  /** Event invocations, run in the background. */
  readonly asyncInvocations: AsyncInvoker;
  readonly hooks: ServiceHooks;
  /** Counts a request under a key ("sts:AssumeRole", "unknown-operation"): the runtime's requestCounts(). */
  readonly count: (key: string) => void;
  /** The moto server DynamoDB forwards to; undefined when the model has no table (the runtime starts none). */
  readonly dynamodb?: MotoAddress;
}

export interface ServiceDefinition {
  /** As SigV4 credential scopes name the service ("sts", "lambda"): the registry's key. */
  readonly signingName: string;
  /** As the unknown-operation message names it ("STS", "Lambda"). */
  readonly title: string;
  /** The operations the runtime serves, as the unknown-operation message lists them. */
  readonly operations: readonly string[];
  /** Signed for the partition's one global signing region (IAM) rather than the endpoint's region. */
  readonly global: boolean;
  /** How its requests are signed, where that departs from standard SigV4 (S3). */
  readonly signing: SigningRules;
  /** Whether the request's shape alone names this service (Lambda's paths, KMS's X-Amz-Target). */
  claims(request: RequestShape): boolean;
  /** AWS's code, status and message for a failed signature, in this service's words. */
  readonly errorCodeFor: SignatureErrorCodes;
  /** An error in this service's protocol. */
  errorResponse(error: WireError, requestId: string): WireResponse;
  /** A request for an operation the runtime does not model, answered as this service answers an unknown one. */
  unknownOperation(message: string, requestId: string): WireResponse;
  /** A credential scope for another region than the one this service is signed for here. */
  wrongRegion(scoped: string, expected: string, requestId: string): WireResponse;
  /** The service's route for one runtime: matches, parses, counts and handles a verified call. */
  start(context: ServiceContext): Route;
}

export type ServiceSpec = Omit<ServiceDefinition, "global" | "signing" | "claims" | "wrongRegion"> &
  Partial<Pick<ServiceDefinition, "global" | "signing" | "claims" | "wrongRegion">>;

/**
 * A definition with the defaults most services share: regional, standard signing, no request
 * shape of its own, and a wrong region answered as a signature mismatch that names the endpoint's.
 */
export function defineService(spec: ServiceSpec): ServiceDefinition {
  return {
    global: false,
    signing: STANDARD_SIGNING,
    claims: () => false,
    wrongRegion: (scoped, expected, requestId) =>
      spec.errorResponse(
        spec.errorCodeFor(
          "SignatureDoesNotMatch",
          `Credential should be scoped to a valid region, not '${scoped}'. This endpoint serves '${expected}'.`,
        ),
        requestId,
      ),
    ...spec,
  };
}
