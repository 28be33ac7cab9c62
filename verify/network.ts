/**
 * The network layer of the proof: which principals send their requests from a VPC, the interface and gateway endpoints
 * those requests pass (whose policies AWS evaluates besides the identity and resource policies), and the
 * egress to CIDR blocks the functions' security groups still allow, read from the synthesized stacks.
 */
import {
  blockList,
  child,
  ModelError,
  readStacks,
  Resolver,
  resourcesOf,
  singleBlock,
  type JsonObject,
  type SourceRef,
  type StackDoc,
  type VpcEndpointPassage,
} from "../core";
import { VerifyInputError, type AccessModel, type CidrEgress, type EndpointAccess } from "./access-model";
import type { AnalysisPrincipal } from "./principals";

/** Where a principal's requests come from: a VPC, and the endpoints there whose policies they pass. */
export interface PrincipalNetwork {
  readonly vpcId: string;
  /** The endpoints a request from this VPC passes, by service ("sts", "lambda"). */
  readonly endpoints: readonly EndpointAccess[];
}

/** How the proof names an endpoint: "vpce-306b2a1d7b102686c (sts)". */
export function endpointName(endpoint: Pick<EndpointAccess, "id" | "service">): string {
  return `${endpoint.id} (${endpoint.service})`;
}

/** The name of an endpoint's policy in a decision: "VPC endpoint policy of vpce-306b2a1d7b102686c (sts)". */
export function endpointPolicyName(endpoint: Pick<EndpointAccess, "id" | "service">): string {
  return `VPC endpoint policy of ${endpointName(endpoint)}`;
}

/**
 * Whether requests from the VPC to the service go through the endpoint without asking for it: an interface endpoint
 * with private DNS answers for the service's own name (the SDK's default); a gateway endpoint is in the route tables
 * it is given (with none, no subnet routes to it). Which subnets use those tables is not modelled: a gateway endpoint
 * with route tables counts for the whole VPC.
 */
function takesDefaultTraffic(endpoint: EndpointAccess): boolean {
  if (endpoint.type.toLowerCase() === "gateway") return endpoint.routeTableIds === undefined || endpoint.routeTableIds.length > 0;
  return endpoint.privateDns;
}

/**
 * The VPC a role's sessions send their requests from: the one its function runs in, or for an invoker role the one
 * its caller's function runs in (the caller obtains the session there and uses it there). Everyone else
 * (administrators, the outsider, anyone named in a policy, anonymous) calls from outside the stacks' VPCs.
 */
export function vpcOfRole(model: AccessModel, roleArn: string | undefined): string | undefined {
  if (roleArn === undefined) return undefined;
  const own = model.functions.find((f) => f.roleArn === roleArn && f.vpcId !== undefined);
  if (own) return own.vpcId;
  const path = model.intended.find((p) => p.invokerRoleArn === roleArn);
  return path ? model.functions.find((f) => f.arn === path.callerFunctionArn)?.vpcId : undefined;
}

/** The order a request travels: STS first (the assume), then Lambda (the invoke), then the callee's DynamoDB, then any other service. */
const serviceRank = (service: string) => ["sts", "lambda", "dynamodb"].indexOf(service.toLowerCase()) + 1 || 4;

/** Sorts endpoints by VPC, then in the order a request travels (STS, Lambda, the rest by name). */
export const inTravelOrder = (a: Pick<EndpointAccess, "vpcId" | "service" | "id">, b: Pick<EndpointAccess, "vpcId" | "service" | "id">) =>
  a.vpcId.localeCompare(b.vpcId) ||
  serviceRank(a.service) - serviceRank(b.service) ||
  a.service.localeCompare(b.service) ||
  a.id.localeCompare(b.id);

/** The network a principal calls from; undefined when its requests pass no endpoint of the stacks. */
export function networkOf(model: AccessModel, principal: AnalysisPrincipal): PrincipalNetwork | undefined {
  if (principal.kind !== "role") return undefined;
  const vpcId = vpcOfRole(model, principal.roleArn);
  if (vpcId === undefined) return undefined;
  const endpoints = model.vpcEndpoints
    .filter((e) => e.vpcId === vpcId && e.region === model.region && takesDefaultTraffic(e))
    .sort(inTravelOrder);
  return endpoints.length > 0 ? { vpcId, endpoints } : undefined;
}

/** The endpoint a request for this action passes from this network, as the authorizer takes it. */
export function passageFor(
  network: PrincipalNetwork | undefined,
  action: string,
): (VpcEndpointPassage & { endpoint: EndpointAccess }) | undefined {
  const service = action.split(":")[0].toLowerCase();
  const endpoint = network?.endpoints.find((e) => e.service.toLowerCase() === service);
  if (!endpoint) return undefined;
  return { id: endpoint.id, vpcId: endpoint.vpcId, policy: endpoint.policy, policyName: endpointPolicyName(endpoint), endpoint };
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null;

function cidrsIn(resolver: Resolver, where: { stack: string; address: string; path: string }, raw: unknown): string[] {
  if (!isSet(raw)) return [];
  const value = resolver.value(where, raw);
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string" && v !== "");
}

function trafficOf(protocol: unknown, from: unknown, to: unknown): string {
  const p = String(protocol ?? "").toLowerCase();
  if (p === "-1" || p === "all") return "all traffic";
  const ports = from === to ? `${from}` : `${from}-${to}`;
  return isSet(from) ? `${p} ${ports}` : p;
}

/**
 * Every egress to CIDR blocks (IPv4 or IPv6) from a function's security groups: inline `egress` blocks of the group,
 * aws_vpc_security_group_egress_rule (cidr_ipv4, cidr_ipv6) and aws_security_group_rule of type egress.
 */
export function cidrEgressOf(dir: string, functionArns: ReadonlySet<string>): CidrEgress[] {
  try {
    return readCidrEgress(new Resolver(readStacks(dir)), functionArns);
  } catch (err) {
    if (err instanceof ModelError) throw new VerifyInputError(`cannot read the security groups in ${dir}: ${err.message}`);
    throw err;
  }
}

function readCidrEgress(resolver: Resolver, functionArns: ReadonlySet<string>): CidrEgress[] {
  const stacks: StackDoc[] = [...resolver.stacks.values()];
  /** Security group id → its resource. */
  const groups = new Map<string, { source: SourceRef; body: JsonObject }>();
  for (const stack of stacks)
    for (const [name, body] of resourcesOf(stack, "aws_security_group"))
      groups.set(String(resolver.attribute(stack.name, "aws_security_group", name, "id")), {
        source: { stack: stack.name, address: `aws_security_group.${name}` },
        body,
      });
  /** Security group id → the functions in it. */
  const members = new Map<string, string[]>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_lambda_function")) {
      const address = `aws_lambda_function.${name}`;
      const arn = String(resolver.attribute(stack.name, "aws_lambda_function", name, "arn"));
      if (!functionArns.has(arn)) continue;
      const config = singleBlock(body.vpc_config, () => `stack '${stack.name}' ${address}.vpc_config`);
      if (!config || !isSet(config.security_group_ids)) continue;
      const ids = resolver.value({ stack: stack.name, address, path: "vpc_config.security_group_ids" }, config.security_group_ids);
      for (const id of Array.isArray(ids) ? ids.map(String) : []) members.set(id, [...(members.get(id) ?? []), arn]);
    }
  }
  const out: CidrEgress[] = [];
  const add = (groupId: string, rule: SourceRef, cidrBlocks: string[], traffic: string) => {
    const group = groups.get(groupId);
    if (!group || cidrBlocks.length === 0) return;
    for (const functionArn of members.get(groupId) ?? []) out.push({ functionArn, securityGroup: group.source, rule, cidrBlocks, traffic });
  };
  for (const [groupId, group] of groups) {
    blockList(group.body.egress).forEach((rule, i) => {
      const where = { stack: group.source.stack, address: group.source.address, path: `egress[${i}]` };
      const cidrs = [
        ...cidrsIn(resolver, child(where, "cidr_blocks"), rule.cidr_blocks),
        ...cidrsIn(resolver, child(where, "ipv6_cidr_blocks"), rule.ipv6_cidr_blocks),
      ];
      add(groupId, group.source, cidrs, trafficOf(rule.protocol, rule.from_port, rule.to_port));
    });
  }
  for (const stack of stacks) {
    for (const [type, cidrKeys] of [
      ["aws_vpc_security_group_egress_rule", ["cidr_ipv4", "cidr_ipv6"]],
      ["aws_security_group_rule", ["cidr_blocks", "ipv6_cidr_blocks"]],
    ] as const) {
      for (const [name, body] of resourcesOf(stack, type)) {
        const address = `${type}.${name}`;
        if (type === "aws_security_group_rule" && String(body.type) !== "egress") continue;
        const where = { stack: stack.name, address, path: "" };
        if (!isSet(body.security_group_id)) continue;
        const groupId = resolver.string(child(where, "security_group_id"), body.security_group_id);
        const cidrs = cidrKeys.flatMap((key) => cidrsIn(resolver, child(where, key), body[key]));
        const protocol = type === "aws_vpc_security_group_egress_rule" ? body.ip_protocol : body.protocol;
        add(groupId, { stack: stack.name, address }, cidrs, trafficOf(protocol, body.from_port, body.to_port));
      }
    }
  }
  return out;
}
