/**
 * Where a request is sent from. Credentials issued to a function's execution environments (and its
 * `<stack>-function` profile, which stands for them) are used from the function's VPC, and so are the
 * sessions obtained with them (the caller uses its invoker session where it runs); the administrators' and
 * the outsider's are used from outside any VPC. A request from a VPC that has an interface endpoint with
 * private DNS for the service (in the runtime's region) reaches it through that endpoint, as the SDK's
 * default name resolves to the endpoint there; a request to S3 or DynamoDB from a VPC with a gateway
 * endpoint for it passes that one. AWS then sets aws:SourceVpce and aws:SourceVpc and evaluates the
 * endpoint's policy. Without one, the request leaves the VPC another way (a NAT gateway, or an endpoint
 * the stacks do not define) and is authorized as one from outside.
 */
import type { EvaluationResult, VpcEndpointPassage } from "../../core/iam/authorize";
import type { AccountsModel, VpcEndpointModel } from "../../core/model/types";
import type { AuditedEndpoint } from "./audit";

/** A request sent from a VPC, and the endpoint of that VPC (interface or gateway) it passes to reach its service, if any. */
export interface RequestNetwork {
  readonly vpcId: string;
  readonly endpoint?: VpcEndpointModel;
}

/** How decisions and the audit log name an endpoint: "vpce-306b2a1d7b102686c (sts)". */
export const endpointName = (endpoint: Pick<VpcEndpointModel, "id" | "service">): string => `${endpoint.id} (${endpoint.service})`;

/** The name of its policy in a decision: "VPC endpoint policy of vpce-306b2a1d7b102686c (sts)", as the access proof names it. */
export const endpointPolicyName = (endpoint: Pick<VpcEndpointModel, "id" | "service">): string =>
  `VPC endpoint policy of ${endpointName(endpoint)}`;

/** The only services with gateway endpoints (AWS PrivateLink guide, "Gateway endpoints"). */
const GATEWAY_SERVICES: ReadonlySet<string> = new Set(["s3", "dynamodb"]);

const sameService = (e: VpcEndpointModel, service: string) => e.service.toLowerCase() === service.toLowerCase();

/**
 * The interface endpoint that answers for `service` (its signing name: sts, lambda, iam, kms, s3) in `vpcId`:
 * one with private DNS in `region`. An interface endpoint without private DNS is reached only by its own DNS name.
 */
export function interfaceEndpointFor(
  model: Pick<AccountsModel, "vpcEndpoints">,
  vpcId: string,
  service: string,
  region: string,
): VpcEndpointModel | undefined {
  return model.vpcEndpoints.find(
    (e) => e.vpcId === vpcId && e.region === region && e.type.toLowerCase() === "interface" && e.privateDns && sameService(e, service),
  );
}

/**
 * The gateway endpoint of `vpcId` for `service` (s3 or dynamodb) in `region`. A gateway endpoint is reached through
 * the route tables it is associated with; the runtime does not model route tables, so it takes the function's
 * subnets to use the endpoint's (as the stacks associate them), whatever `routeTableIds` lists.
 */
export function gatewayEndpointFor(
  model: Pick<AccountsModel, "vpcEndpoints">,
  vpcId: string,
  service: string,
  region: string,
): VpcEndpointModel | undefined {
  if (!GATEWAY_SERVICES.has(service.toLowerCase())) return undefined;
  return model.vpcEndpoints.find(
    (e) => e.vpcId === vpcId && e.region === region && e.type.toLowerCase() === "gateway" && sameService(e, service),
  );
}

/** The network a request to `service` comes from, for credentials used from `vpcId` (undefined: from outside any VPC). */
export function requestNetwork(
  model: Pick<AccountsModel, "vpcEndpoints">,
  vpcId: string | undefined,
  service: string,
  region: string,
): RequestNetwork | undefined {
  if (vpcId === undefined) return undefined;
  // With a gateway endpoint in the VPC, AWS lets an S3 or DynamoDB interface endpoint have private DNS only for
  // inbound resolver endpoints, so the VPC's own traffic takes the gateway (AWS PrivateLink guide, "Private DNS" for S3/DynamoDB).
  const endpoint = gatewayEndpointFor(model, vpcId, service, region) ?? interfaceEndpointFor(model, vpcId, service, region);
  return endpoint !== undefined ? { vpcId, endpoint } : { vpcId };
}

/** The endpoint a request passes, as the authorizer takes it (`vpcEndpoint` of an AuthorizationRequest); nothing from outside. */
export function endpointPassage(network: RequestNetwork | undefined): { vpcEndpoint: VpcEndpointPassage } | Record<string, never> {
  const endpoint = network?.endpoint;
  if (endpoint === undefined) return {};
  return { vpcEndpoint: { id: endpoint.id, vpcId: endpoint.vpcId, policy: endpoint.policy, policyName: endpointPolicyName(endpoint) } };
}

/** What the audit log records of the endpoint a request passed, and how its policy judged it; nothing from outside. */
export function auditedEndpoint(
  network: RequestNetwork | undefined,
  result?: EvaluationResult,
): { vpcEndpoint: AuditedEndpoint } | Record<string, never> {
  const endpoint = network?.endpoint;
  if (endpoint === undefined) return {};
  return {
    vpcEndpoint: {
      id: endpoint.id,
      service: endpoint.service,
      vpcId: endpoint.vpcId,
      policyName: endpointPolicyName(endpoint),
      ...(result !== undefined ? { result } : {}),
    },
  };
}

/** Whether AWS's reason for a refusal names the VPC endpoint's policy (its implicit or explicit deny). */
export const refusedByEndpoint = (reason: string): boolean => / in a VPC endpoint policy$|no VPC endpoint policy allows /.test(reason);
