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
