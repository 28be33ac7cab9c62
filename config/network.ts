/**
 * How a function reaches the AWS APIs it calls: through interface VPC endpoints the stack creates
 * (the default), through endpoints that already exist in the VPC, or over a NAT gateway (none).
 */

export const VPC_ENDPOINT_MODES = ["create", "existing", "none"] as const;
export type VpcEndpointsMode = (typeof VPC_ENDPOINT_MODES)[number];

/** One side's (or one caller's) choice, with every default applied. */
export interface NetworkChoice {
  readonly mode: VpcEndpointsMode;
  /** With "existing": the security groups of the endpoints, the only egress destinations. */
  readonly endpointSecurityGroupIds: readonly string[];
  /** With "existing": managed prefix lists to allow egress to instead of (or besides) security groups. */
  readonly endpointPrefixListIds: readonly string[];
}

const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;
const PREFIX_LIST_ID = /^pl-([0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * Every problem of one network choice, each naming `where` (e.g. "callerVpcEndpoints" or "callers[1] 'billing':
 * vpcEndpoints") and the fix. `keys` are the names of the three fields as the user wrote them.
 */
export function networkProblems(
  raw: { mode: unknown; securityGroupIds: unknown; prefixListIds: unknown },
  keys: { mode: string; securityGroupIds: string; prefixListIds: string },
  show: (value: unknown) => string,
): string[] {
  const problems: string[] = [];
  const mode = raw.mode;
  if (!(VPC_ENDPOINT_MODES as readonly unknown[]).includes(mode)) {
    problems.push(
      `${keys.mode} must be 'create' (interface endpoints for STS and Lambda in the VPC), 'existing' (endpoints that already exist: give their security groups or a prefix list) or 'none' (egress to egressCidrBlocks, for a VPC with a NAT gateway), got ${show(mode)}`,
    );
    return problems;
  }
  const list = (value: unknown, key: string, pattern: RegExp, expected: string): string[] | undefined => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || !pattern.test(v)) || new Set(value).size !== value.length) {
      problems.push(`${key} must be a list of distinct ${expected}, got ${show(value)}`);
      return undefined;
    }
    return value as string[];
  };
  const groups = list(raw.securityGroupIds, keys.securityGroupIds, SECURITY_GROUP_ID, "security group ids like 'sg-0123456789abcdef0'");
  const prefixes = list(raw.prefixListIds, keys.prefixListIds, PREFIX_LIST_ID, "prefix list ids like 'pl-0123456789abcdef0'");
  if (groups === undefined || prefixes === undefined) return problems;
  const given = groups.length + prefixes.length;
  if (mode === "existing" && given === 0) {
    problems.push(
      `${keys.mode} is 'existing', but neither ${keys.securityGroupIds} nor ${keys.prefixListIds} is set: give the security group of your STS and Lambda endpoints (or a prefix list), the only place the function may send HTTPS to`,
    );
  }
  if (mode !== "existing" && given > 0) {
    problems.push(
      `${keys.securityGroupIds} and ${keys.prefixListIds} apply only when ${keys.mode} is 'existing' (it is '${mode}'): remove them`,
    );
  }
  return problems;
}

/** The choice of a validated configuration's fields (absent lists are empty). */
export function networkChoice(mode: VpcEndpointsMode, groups?: readonly string[], prefixes?: readonly string[]): NetworkChoice {
  return { mode, endpointSecurityGroupIds: groups ?? [], endpointPrefixListIds: prefixes ?? [] };
}
