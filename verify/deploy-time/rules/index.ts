/**
 * Every deploy-time rule, one per documented AWS validation, grouped by the service that checks it (as
 * iam-simulate groups its authorizers). check.ts applies each to the resources of its type as the walk reaches them.
 */
import type { DeployRule, DeployRuleDefinition } from "../rule-context";
import { tableDeletionProtectionOff, tableKeyAccepted, tableKeyGrantableByDeployer, tableKeySchemaDefined } from "./dynamodb";
import {
  gatewayEndpointArguments,
  gatewayEndpointPolicyPrincipalAny,
  networkInterfacePermissionsOutliveGroup,
  prefixListEgressOwnGateway,
  privateDnsEndpointUniquePerVpc,
  securityGroupIngressRuleSameVpc,
  securityGroupRuleSameVpc,
} from "./ec2";
import { bucketPolicyPrincipalsExist, keyPrincipalsExist, trustPrincipalsExist } from "./iam";
import { keyPolicyLockoutSafety } from "./kms";
import {
  asyncDestinationKeyUsable,
  asyncDestinationPermissions,
  deployerPassesRoleAndReadsCode,
  environmentKeyUsable,
  executionRoleNetworkInterfaces,
  lambdaAssumesExecutionRole,
} from "./lambda";
import { logGroupKeyAllowsLogs } from "./logs";
import { bucketPolicyNotPublic, codeUploadAccepted } from "./s3";

export type { DeployCheck, DeployRule, DeployRuleDefinition, Phase, RuleContext, RuleOutcome } from "../rule-context";

export const RULES = {
  lambdaAssumesRole: lambdaAssumesExecutionRole,
  networkInterfaces: executionRoleNetworkInterfaces,
  environmentKey: environmentKeyUsable,
  deployerReadsCode: deployerPassesRoleAndReadsCode,
  asyncDestination: asyncDestinationPermissions,
  asyncDestinationKey: asyncDestinationKeyUsable,
  logGroupKey: logGroupKeyAllowsLogs,
  codeUpload: codeUploadAccepted,
  bucketPolicyNotPublic,
  keyPolicyLockout: keyPolicyLockoutSafety,
  trustPrincipalsExist,
  keyPrincipalsExist,
  bucketPolicyPrincipalsExist,
  networkInterfacesOutliveGroup: networkInterfacePermissionsOutliveGroup,
  privateDnsEndpoint: privateDnsEndpointUniquePerVpc,
  securityGroupEgressRuleSameVpc: securityGroupRuleSameVpc,
  securityGroupIngressRuleSameVpc,
  tableKey: tableKeyAccepted,
  tableKeyGrant: tableKeyGrantableByDeployer,
  tableKeySchema: tableKeySchemaDefined,
  tableDeletionProtection: tableDeletionProtectionOff,
  gatewayEndpointArguments,
  gatewayEndpointPrincipal: gatewayEndpointPolicyPrincipalAny,
  prefixListEgress: prefixListEgressOwnGateway,
} as const satisfies Record<string, DeployRuleDefinition>;

/** The rules as the reports list them: one entry per id (the principals rule applies to three resource types). */
export function ruleDescriptions(): DeployRule[] {
  const seen = new Map<string, { -readonly [K in keyof DeployRule]: DeployRule[K] }>();
  for (const { id, phase, call, title, source } of Object.values(RULES)) {
    const entry = seen.get(id);
    if (entry) entry.call = `${entry.call}, ${call}`;
    else seen.set(id, { id, phase, call, title, source });
  }
  return [...seen.values()];
}
