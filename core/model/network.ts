/**
 * The functions' networks: which VPC each function runs in (through its security groups) and the
 * interface endpoints of each VPC, with their policies. The runtime sets the context keys AWS sets for
 * a request through an endpoint and evaluates the endpoint's policy; the proof reports it as a layer.
 */
import { Resolver, Where, describeWhere } from "./resolver";
import { StackDoc, resourcesOf, singleBlock } from "./stack-files";
import { ModelError, PolicyDocument, SourceRef, VpcEndpointModel } from "./types";

const whereOf = (source: SourceRef, p = ""): Where => ({ ...source, path: p });
const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const listOf = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** AWS's default endpoint policy: full access for everyone who reaches the endpoint (PrivateLink guide, "Endpoint policies"). */
export const FULL_ACCESS_ENDPOINT_POLICY: PolicyDocument = {
  Version: "2008-10-17",
  Statement: [{ Effect: "Allow", Principal: "*", Action: "*", Resource: "*" }],
};

/** Security group id (as the model derives it) → the VPC it belongs to. */
export function securityGroupVpcs(resolver: Resolver, stacks: readonly StackDoc[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_security_group")) {
      const id = resolver.attribute(stack.name, "aws_security_group", name, "id");
      const where = whereOf({ stack: stack.name, address: `aws_security_group.${name}` }, "vpc_id");
      if (!isSet(body.vpc_id)) continue;
      out.set(String(id), resolver.string(where, body.vpc_id));
    }
  }
  return out;
}

/** The VPC a function's vpc_config puts it in (its first security group's); undefined outside a VPC. */
export function functionVpc(
  resolver: Resolver,
  where: Where,
  vpcConfig: unknown,
  groupVpcs: ReadonlyMap<string, string>,
): string | undefined {
  const config = singleBlock(vpcConfig, () => describeWhere(where));
  if (!config || !isSet(config.security_group_ids)) return undefined;
  const groups = resolver.value(where, config.security_group_ids);
  if (!Array.isArray(groups) || groups.length === 0) return undefined;
  const vpcs = new Set(groups.map((g) => groupVpcs.get(String(g))));
  if (vpcs.size !== 1 || vpcs.has(undefined))
    throw new ModelError(
      `${describeWhere(where)}: the function's security groups ${JSON.stringify(groups)} are not all groups of one VPC the stacks define`,
    );
  return [...vpcs][0];
}

/** Every aws_vpc_endpoint of the stacks, with its policy (AWS's full-access default when the stack sets none). */
export function buildVpcEndpoints(resolver: Resolver, stacks: readonly StackDoc[]): VpcEndpointModel[] {
  const out: VpcEndpointModel[] = [];
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_vpc_endpoint")) {
      const source: SourceRef = { stack: stack.name, address: `aws_vpc_endpoint.${name}` };
      const at = (p: string) => whereOf(source, p);
      const target = resolver.target(stack.name, source.address, body);
      const serviceName = resolver.string(at("service_name"), body.service_name);
      const service = serviceName.split(".").pop() ?? serviceName;
      const type = isSet(body.vpc_endpoint_type) ? resolver.string(at("vpc_endpoint_type"), body.vpc_endpoint_type) : "Gateway";
      const policy = isSet(body.policy) ? resolver.policy(at("policy"), body.policy) : undefined;
      out.push({
        id: String(resolver.attribute(stack.name, "aws_vpc_endpoint", name, "id")),
        accountId: target.accountId,
        region: target.region,
        vpcId: resolver.string(at("vpc_id"), body.vpc_id),
        serviceName,
        service,
        type,
        privateDns: isSet(body.private_dns_enabled) ? resolver.value(at("private_dns_enabled"), body.private_dns_enabled) === true : false,
        policy: policy ?? FULL_ACCESS_ENDPOINT_POLICY,
        defaultPolicy: policy === undefined,
        subnetIds: listOf(isSet(body.subnet_ids) ? resolver.value(at("subnet_ids"), body.subnet_ids) : []),
        routeTableIds: listOf(isSet(body.route_table_ids) ? resolver.value(at("route_table_ids"), body.route_table_ids) : []),
        source,
      });
    }
  }
  return out;
}
