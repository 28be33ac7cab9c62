import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { AccountScope } from "./account-context";
import { PolicyStatement, renderPolicy } from "./iam-policy";

/** One interface endpoint: the AWS service it reaches and the only requests it lets through. */
export interface InterfaceEndpointSpec {
  /** The service's endpoint name, e.g. "sts" or "lambda" (com.amazonaws.<region>.<name>). @default none: required */
  readonly service: string;
  /** The endpoint policy's statements: least privilege, never AWS's default full access. @default none: required */
  readonly policyStatements: readonly PolicyStatement[];
}

/** Interface endpoints in a function's VPC; the account, region and provider come from the enclosing stack. */
export interface InterfaceEndpointsProps {
  /** A short name for the endpoints' security group and descriptions, e.g. the function's name. @default none: required */
  readonly name: string;
  /** The VPC the endpoints go in: DNS support and DNS hostnames must be on for private DNS. @default none: required */
  readonly vpcId: string;
  /** One subnet per availability zone (CreateVpcEndpoint refuses two in one zone). @default none: required */
  readonly subnetIds: readonly string[];
  /** The security groups of the functions that use the endpoints: admitted on TCP 443, and given egress to the endpoints only. @default none: required */
  readonly clientSecurityGroupIds: readonly string[];
  /** The endpoints to create. @default none: required */
  readonly endpoints: readonly InterfaceEndpointSpec[];
}

/**
 * Interface VPC endpoints with private DNS, so the SDK's regional endpoints (sts.<region>.amazonaws.com,
 * lambda.<region>.amazonaws.com) resolve to them inside the VPC, each with a least-privilege endpoint policy;
 * their own security group admits TCP 443 from the client functions only, and the functions' groups get
 * egress to that group and nowhere else.
 */
export class InterfaceEndpoints extends Construct {
  readonly securityGroup: SecurityGroup;
  /** By service name. */
  readonly endpoints: ReadonlyMap<string, VpcEndpoint>;

  constructor(scope: Construct, id: string, props: InterfaceEndpointsProps) {
    super(scope, id);
    const { provider, region } = AccountScope.of(this);

    // No inline rules: the rules below are separate resources, which inline rules would overwrite (aws_security_group docs).
    this.securityGroup = new SecurityGroup(this, "sg", {
      provider,
      name: `${props.name}-endpoints`,
      description: `${props.name}: VPC endpoints; TCP 443 from the function only`,
      vpcId: props.vpcId,
      revokeRulesOnDelete: true,
    });

    props.clientSecurityGroupIds.forEach((client, i) => {
      new VpcSecurityGroupIngressRule(this, `from-client-${i}`, {
        provider,
        securityGroupId: this.securityGroup.id,
        description: "HTTPS from the function",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: client,
      });
      new VpcSecurityGroupEgressRule(this, `to-endpoints-${i}`, {
        provider,
        securityGroupId: client,
        description: "HTTPS to the VPC endpoints only",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: this.securityGroup.id,
      });
    });

    this.endpoints = new Map(
      props.endpoints.map((spec) => [
        spec.service,
        new VpcEndpoint(this, spec.service, {
          provider,
          vpcId: props.vpcId,
          serviceName: `com.amazonaws.${region}.${spec.service}`,
          vpcEndpointType: "Interface",
          // Private DNS makes the regional endpoint name resolve here; it needs the VPC's enableDnsSupport and enableDnsHostnames.
          privateDnsEnabled: true,
          subnetIds: [...props.subnetIds],
          securityGroupIds: [this.securityGroup.id],
          policy: renderPolicy(...spec.policyStatements),
          tags: { Name: `${props.name}-${spec.service}` },
        }),
      ]),
    );
  }
}
