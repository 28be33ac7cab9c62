import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AccountScope } from "./account-context";
import { accountRootArn } from "../core/arn";
import { ConditionBlock, renderPolicy } from "./iam-policy";

/** The invoker role; the account and provider come from the enclosing stack. */
export interface CrossAccountInvokerRoleProps {
  /** The role's name. @default none: required */
  readonly roleName: string;
  /** Account A, the only account trusted. @default none: required */
  readonly trustedAccountId: string;
  /** The one principal in account A allowed in: the caller function's execution role. @default none: required */
  readonly trustedPrincipalArn: string;
  /** The function the role may invoke, and nothing else. @default none: required */
  readonly targetFunctionArn: string;
  /** When set, the trust requires this sts:ExternalId. @default none: no external id */
  readonly externalId?: string;
  /** When set, the trust requires aws:PrincipalOrgID to equal it. @default none: no organisation condition */
  readonly organizationId?: string;
}

/**
 * The only door into account B: a role that account A's caller role, and no
 * other principal, may assume, and whose only permission is to invoke one
 * function.
 *
 * The trust names account A's root with an aws:PrincipalArn condition rather
 * than the role ARN as principal: IAM would pin a role principal to the role's
 * unique id (breaking when the caller role is re-created) and refuses a role
 * principal that does not exist yet (breaking a callee-first deployment).
 */
export class CrossAccountInvokerRole extends Construct {
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: CrossAccountInvokerRoleProps) {
    super(scope, id);
    const { provider, partition } = AccountScope.of(this);
    const condition: ConditionBlock = { ArnEquals: { "aws:PrincipalArn": props.trustedPrincipalArn } };
    const stringEquals: Record<string, string> = {};
    if (props.externalId !== undefined) stringEquals["sts:ExternalId"] = props.externalId;
    if (props.organizationId !== undefined) stringEquals["aws:PrincipalOrgID"] = props.organizationId;
    if (Object.keys(stringEquals).length > 0) condition.StringEquals = stringEquals;

    this.role = new IamRole(this, "role", {
      provider,
      name: props.roleName,
      description: `Assumed by ${props.trustedPrincipalArn} to invoke ${props.targetFunctionArn}`,
      maxSessionDuration: 3600,
      assumeRolePolicy: renderPolicy({
        Sid: "CallerFunctionRoleOnly",
        Effect: "Allow",
        Principal: { AWS: accountRootArn(partition, props.trustedAccountId) },
        Action: "sts:AssumeRole",
        Condition: condition,
      }),
    });

    new IamRolePolicy(this, "invoke-policy", {
      provider,
      name: "invoke-callee-only",
      role: this.role.id,
      policy: renderPolicy({
        Sid: "InvokeCalleeFunctionOnly",
        Effect: "Allow",
        Action: "lambda:InvokeFunction",
        Resource: props.targetFunctionArn,
      }),
    });
  }
}
