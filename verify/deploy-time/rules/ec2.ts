/** What a VPC function's destroy needs: Lambda deletes its network interfaces after the function, with its role. */
import {
  PLACEHOLDER,
  decide,
  describe,
  functionAt,
  local,
  roleOf,
  sessionOf,
  type DeployRuleDefinition,
  type RuleContext,
  type RuleOutcome,
} from "../rule-context";

const DEPENDENCY_VIOLATION =
  "DependencyViolation: resource sg-… has a dependent object (after the provider waited up to 45 minutes, or its delete timeout if longer, for Lambda's network interfaces)";

/**
 * Lambda deletes a VPC function's interfaces after the function, with the execution role's permissions ("up to 20
 * minutes"); until then the provider's security-group delete waits, then fails with DependencyViolation. The group
 * must therefore be destroyed while the role's interface permissions still exist.
 */
export const networkInterfacePermissionsOutliveGroup: DeployRuleDefinition = {
  id: "network-interface-permissions-outlive-security-group",
  phase: "destroy",
  call: "ec2:DeleteSecurityGroup (after lambda:DeleteFunction)",
  title: "the permissions Lambda needs to delete its network interfaces are destroyed after the function's security group",
  source: "https://docs.aws.amazon.com/lambda/latest/dg/foundation-networking.html (deleting ENIs); hashicorp/terraform-provider-aws#10329",
  appliesTo: "aws_lambda_function",
  async judge(ctx, functionAddress) {
    if (ctx.argument(functionAddress, "vpc_config") === undefined) return undefined;
    const fn = functionAt(ctx, functionAddress);
    const role = roleOf(ctx, fn);
    const fix = (group: string) =>
      `make ${group} depend on the policy that grants ec2:DeleteNetworkInterface (depends_on), so that destroy removes the group first`;
    const outcomes: RuleOutcome[] = [];
    for (const group of ctx.referencedBy(functionAddress, "vpc_config").filter((a) => a.startsWith("aws_security_group."))) {
      const outliving = ctx.existingAt(group);
      const roleAddress = local(ctx, role.source);
      if (roleAddress !== undefined && !outliving.has(roleAddress)) {
        outcomes.push({
          address: group,
          ok: false,
          detail: `role/${role.name} may be destroyed before ${group}`,
          answer: DEPENDENCY_VIOLATION,
          fix: fix(group),
        });
        continue;
      }
      const decision = await decide(ctx, {
        principal: sessionOf(ctx, role, outliving),
        action: "ec2:DeleteNetworkInterface",
        resourceArn: `arn:${ctx.model.partition}:ec2:${fn.region}:${fn.accountId}:network-interface/${PLACEHOLDER.eni}`,
        resourceAccountId: fn.accountId,
        region: fn.region,
      });
      outcomes.push(
        decision.allowed
          ? {
              address: group,
              ok: true,
              detail: `while ${group} is destroyed, role/${role.name} still may delete Lambda's interfaces: ${describe(decision)}`,
            }
          : {
              address: group,
              ok: false,
              detail: `while ${group} is destroyed, role/${role.name} has only the policies ${group} depends on: ec2:DeleteNetworkInterface ${describe(decision)}`,
              answer: DEPENDENCY_VIOLATION,
              fix: fix(group),
            },
      );
    }
    return outcomes;
  },
};

/**
 * An interface endpoint with private DNS takes the service's regional name for the whole VPC: a second one for the same
 * service in that VPC (another stack's, or another caller's in the same VPC) fails at CreateVpcEndpoint.
 */
export const privateDnsEndpointUniquePerVpc: DeployRuleDefinition = {
  id: "private-dns-endpoint-unique-per-vpc",
  phase: "create",
  call: "ec2:CreateVpcEndpoint (PrivateDnsEnabled)",
  title: "a VPC has at most one interface endpoint with private DNS per service",
  source:
    "https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html (private DNS: one endpoint per service and VPC)",
  appliesTo: "aws_vpc_endpoint",
  async judge(ctx, address) {
    const here = ctx.model.vpcEndpoints.find((e) => e.source.stack === ctx.stack.name && e.source.address === address);
    if (!here || here.type !== "Interface" || !here.privateDns) return undefined;
    const others = ctx.model.vpcEndpoints.filter(
      (e) => e !== here && e.type === "Interface" && e.privateDns && e.vpcId === here.vpcId && e.serviceName === here.serviceName,
    );
    if (others.length === 0) return { ok: true, detail: `the only ${here.serviceName} endpoint with private DNS in ${here.vpcId}` };
    return {
      ok: false,
      detail: `${here.serviceName} also has a private-DNS endpoint in ${here.vpcId}: ${others.map((e) => `stack '${e.source.stack}' ${e.source.address}`).join(", ")}`,
      answer: `InvalidParameter: private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${here.serviceName.split(".").slice(-1)[0]}.${here.region}.amazonaws.com in the VPC ${here.vpcId}`,
      fix: `create the endpoints once per VPC: give the other stacks in ${here.vpcId} vpcEndpoints 'existing' with this stack's endpoint security group`,
    };
  },
};

/** A security-group rule may reference a group of its own VPC only (or a peered VPC's, which these stacks do not use). */
export const securityGroupRuleSameVpc: DeployRuleDefinition = {
  id: "security-group-rule-same-vpc",
  phase: "create",
  call: "ec2:AuthorizeSecurityGroupEgress (referenced group)",
  title: "a rule's referenced security group is in the VPC of the group it is added to",
  source:
    "https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html (security group referencing: same VPC or a peered VPC)",
  appliesTo: "aws_vpc_security_group_egress_rule",
  async judge(ctx, address) {
    return judgeGroupReference(ctx, address);
  },
};

/** The same check for ingress rules (one rule object per resource type the walk applies it to). */
export const securityGroupIngressRuleSameVpc: DeployRuleDefinition = {
  ...securityGroupRuleSameVpc,
  call: "ec2:AuthorizeSecurityGroupIngress (referenced group)",
  appliesTo: "aws_vpc_security_group_ingress_rule",
};

function judgeGroupReference(ctx: RuleContext, address: string): RuleOutcome | undefined {
  const [group] = ctx.referencedBy(address, "security_group_id").filter((a) => a.startsWith("aws_security_group."));
  const [referenced] = ctx.referencedBy(address, "referenced_security_group_id").filter((a) => a.startsWith("aws_security_group."));
  if (group === undefined || referenced === undefined) return undefined;
  const vpcOf = (sg: string) => ctx.argument(sg, "vpc_id");
  if (vpcOf(group) === vpcOf(referenced)) return { ok: true, detail: `${group} and ${referenced} are both in ${String(vpcOf(group))}` };
  return {
    ok: false,
    detail: `${group} is in ${String(vpcOf(group))} but the rule references ${referenced} in ${String(vpcOf(referenced))}`,
    answer: "InvalidGroup.NotFound: You have specified two resources that belong to different networks.",
    fix: "reference a security group of the same VPC (or peer the VPCs)",
  };
}

const gatewayAt = (ctx: RuleContext, address: string) => {
  const endpoint = ctx.model.vpcEndpoints.find((e) => e.source.stack === ctx.stack.name && e.source.address === address);
  return endpoint && endpoint.type.toLowerCase() === "gateway" ? endpoint : undefined;
};

/**
 * A gateway endpoint is a target in route tables: CreateVpcEndpoint takes RouteTableIds for it and refuses SubnetIds,
 * SecurityGroupIds and PrivateDnsEnabled, which are for interface endpoints
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html; https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html).
 */
export const gatewayEndpointArguments: DeployRuleDefinition = {
  id: "gateway-endpoint-arguments",
  phase: "create",
  call: "ec2:CreateVpcEndpoint (VpcEndpointType Gateway)",
  title: "a gateway endpoint has route tables, and no subnets, security groups or private DNS",
  source:
    "https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVpcEndpoint.html (RouteTableIds: gateway endpoints; SubnetIds, SecurityGroupIds, PrivateDnsEnabled: interface endpoints)",
  appliesTo: "aws_vpc_endpoint",
  async judge(ctx, address) {
    const endpoint = gatewayAt(ctx, address);
    if (!endpoint) return undefined;
    const listed = (name: string) => {
      const value = ctx.argument(address, name);
      return Array.isArray(value) ? value.length : 0;
    };
    const interfaceOnly = [
      ...(listed("subnet_ids") > 0 ? ["subnet_ids"] : []),
      ...(listed("security_group_ids") > 0 ? ["security_group_ids"] : []),
      ...(ctx.argument(address, "private_dns_enabled") === true ? ["private_dns_enabled"] : []),
    ];
    if (interfaceOnly.length > 0)
      return {
        ok: false,
        detail: `the gateway endpoint for ${endpoint.serviceName} sets ${interfaceOnly.join(", ")}, which only interface endpoints take`,
        answer: `InvalidParameter: ${interfaceOnly.join(", ")} cannot be specified for a VPC endpoint of type Gateway`,
        fix: `remove ${interfaceOnly.join(", ")}; a gateway endpoint is reached through route_table_ids`,
      };
    if (listed("route_table_ids") === 0)
      return {
        ok: false,
        detail: `the gateway endpoint for ${endpoint.serviceName} has no route_table_ids: no subnet routes to it`,
        answer: `no error at CreateVpcEndpoint, but no route table sends ${endpoint.service} traffic to the endpoint: requests leave the VPC another way, or not at all`,
        fix: "set route_table_ids to the route tables of the function's subnets (calleeRouteTableIds)",
      };
    return { ok: true, detail: `gateway endpoint for ${endpoint.serviceName} in the route tables ${endpoint.routeTableIds.join(", ")}` };
  },
};

/**
 * A gateway endpoint policy grants principals only through conditions: with Principal other than "*" it grants the
 * account's root user only (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html, principals for gateway endpoints).
 */
export const gatewayEndpointPolicyPrincipalAny: DeployRuleDefinition = {
  id: "gateway-endpoint-policy-principal-any",
  phase: "run",
  call: "ec2:CreateVpcEndpoint (PolicyDocument, Gateway)",
  title: 'a gateway endpoint policy names its principals with aws:PrincipalArn under Principal "*", never in Principal',
  source: "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html (principals for gateway endpoints)",
  appliesTo: "aws_vpc_endpoint",
  async judge(ctx, address) {
    const endpoint = gatewayAt(ctx, address);
    if (!endpoint) return undefined;
    const statements = Array.isArray(endpoint.policy.Statement) ? endpoint.policy.Statement : [endpoint.policy.Statement];
    const named = statements
      .map((s, i) => ({ label: typeof s.Sid === "string" && s.Sid !== "" ? s.Sid : `statement #${i + 1}`, principal: s.Principal }))
      .filter(({ principal }) => {
        if (principal === "*") return false;
        const aws = (principal as { AWS?: unknown } | undefined)?.AWS;
        return !(aws === "*" || (Array.isArray(aws) && aws.length === 1 && aws[0] === "*"));
      });
    if (named.length === 0)
      return { ok: true, detail: `every statement of the policy of the ${endpoint.service} gateway endpoint has Principal "*"` };
    return {
      ok: false,
      detail: `the policy of the ${endpoint.service} gateway endpoint names ${named.map((n) => `${JSON.stringify(n.principal)} (${n.label})`).join(", ")} as Principal`,
      answer:
        "no error at CreateVpcEndpoint, but a gateway endpoint grants a named principal as the account's root user only: the roles' requests through it are refused",
      fix: 'write "Principal": "*" and name the role in "Condition": {"ArnEquals": {"aws:PrincipalArn": "<role ARN>"}}',
    };
  },
};

/**
 * Egress to a gateway endpoint's prefix list reaches the service through that endpoint only from the VPC whose route
 * tables hold it; an interface endpoint has no prefix list (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html, security).
 */
export const prefixListEgressOwnGateway: DeployRuleDefinition = {
  id: "prefix-list-egress-own-gateway",
  phase: "create",
  call: "ec2:AuthorizeSecurityGroupEgress (PrefixListId)",
  title: "an egress rule to the stacks' prefix list references a gateway endpoint in the security group's own VPC",
  source:
    "https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html (security: outbound rules to the service's prefix list; routing: the VPC's route tables)",
  appliesTo: "aws_vpc_security_group_egress_rule",
  async judge(ctx, address) {
    const [endpointAddress] = ctx.referencedBy(address, "prefix_list_id").filter((a) => a.startsWith("aws_vpc_endpoint."));
    if (endpointAddress === undefined) return undefined;
    const endpoint = ctx.model.vpcEndpoints.find((e) => e.source.stack === ctx.stack.name && e.source.address === endpointAddress);
    const [group] = ctx.referencedBy(address, "security_group_id").filter((a) => a.startsWith("aws_security_group."));
    if (!endpoint || group === undefined) return undefined;
    if (endpoint.type.toLowerCase() !== "gateway")
      return {
        ok: false,
        detail: `${endpointAddress} is an ${endpoint.type} endpoint: it has no prefix list, so prefix_list_id is empty`,
        answer: "InvalidParameterValue: the rule has no destination (an interface endpoint's prefix_list_id is empty)",
        fix: `reference the security group of the interface endpoint (referenced_security_group_id), or a gateway endpoint's prefix_list_id`,
      };
    const vpc = ctx.argument(group, "vpc_id");
    if (vpc === endpoint.vpcId)
      return { ok: true, detail: `${group} and the ${endpoint.service} gateway endpoint are both in ${endpoint.vpcId}` };
    return {
      ok: false,
      detail: `${group} is in ${String(vpc)} but the rule's prefix list is of the ${endpoint.service} gateway endpoint in ${endpoint.vpcId}`,
      answer: `no error at AuthorizeSecurityGroupEgress (the prefix list is the service's, per Region), but ${String(vpc)} has no route to ${endpointAddress}: the traffic goes around it and its policy, or nowhere`,
      fix: `create the ${endpoint.service} gateway endpoint in ${String(vpc)} (the security group's VPC) and reference its prefix_list_id`,
    };
  },
};
