import type { NetworkChoice } from "../config/network";
import type { FunctionEgress } from "../constructs/vpc-function";

/**
 * The security-group egress a function gets for its side's network choice. `callsAws`: whether the function
 * calls an AWS API itself (the caller: STS and Lambda; the callee today: none).
 */
export function functionEgress(network: NetworkChoice, egressCidrBlocks: readonly string[], callsAws: boolean): FunctionEgress {
  switch (network.mode) {
    case "none":
      return { kind: "cidr", cidrBlocks: egressCidrBlocks };
    case "existing":
      return { kind: "endpoints", securityGroupIds: network.endpointSecurityGroupIds, prefixListIds: network.endpointPrefixListIds };
    case "create":
      // The endpoints' own rule gives a caller its only egress; a function that calls nothing gets none at all.
      return callsAws ? { kind: "added-later" } : { kind: "none" };
  }
}
