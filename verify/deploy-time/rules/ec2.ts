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
