import { Construct } from "constructs";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { AccountScope } from "./account-context";
import { PolicyStatement, renderPolicy } from "./iam-policy";

export interface GatewayEndpointProps {
  /** The service's endpoint name: "dynamodb" or "s3" (com.amazonaws.<region>.<name>). @default none: required */
  readonly service: "dynamodb" | "s3";
  /** A short name for the endpoint's tag and the rule's description, e.g. the function's name. @default none: required */
  readonly name: string;
  /** The VPC the endpoint goes in. @default none: required */
  readonly vpcId: string;
  /** The route tables of the client functions' subnets: the endpoint adds its prefix list's route to each. @default none: required */
  readonly routeTableIds: readonly string[];
  /** The security groups of the functions that use the endpoint: given egress TCP 443 to its prefix list only. @default none: required */
  readonly clientSecurityGroupIds: readonly string[];
  /** The endpoint policy's statements: least privilege, never AWS's default full access. @default none: required */
  readonly policyStatements: readonly PolicyStatement[];
}

/**
 * A gateway VPC endpoint: requests to the service from subnets whose route tables it is in reach it without a NAT
 * gateway, pass its least-privilege policy, and carry aws:SourceVpce. Gateway endpoints cost nothing (PrivateLink
 * pricing). The client functions' security groups get egress to the service's prefix list and nowhere else.
 */
export class GatewayEndpoint extends Construct {
  readonly endpoint: VpcEndpoint;

  constructor(scope: Construct, id: string, props: GatewayEndpointProps) {
    super(scope, id);
    const { provider, region } = AccountScope.of(this);
    // A gateway endpoint takes route tables; subnets, security groups and private DNS are for interface endpoints
    // (CreateVpcEndpoint refuses them for a Gateway endpoint: EC2 API reference, CreateVpcEndpoint).
    this.endpoint = new VpcEndpoint(this, "endpoint", {
      provider,
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${region}.${props.service}`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...props.routeTableIds],
      policy: renderPolicy(...props.policyStatements),
      tags: { Name: `${props.name}-${props.service}` },
    });
    props.clientSecurityGroupIds.forEach((client, i) => {
      new VpcSecurityGroupEgressRule(this, `to-prefix-list-${i}`, {
        provider,
        securityGroupId: client,
        description: `HTTPS to ${props.service} through its gateway endpoint only`,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        prefixListId: this.endpoint.prefixListId,
      });
    });
  }
}
