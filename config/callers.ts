/**
 * The callers of the one callee: the `callers` list, or the single-caller fields (callerAccountId,
 * callerVpcId, ...) as its one-entry shorthand. Each caller gets its own stack, function, execution
 * role, code bucket and state key in its account, and its own invoker role in the callee's account.
 */
import { partitionOf } from "../core/arn";
import { networkChoice, networkProblems, type NetworkChoice, type VpcEndpointsMode } from "./network";

/** What resolving the callers reads of the whole configuration (CrossAccountConfig has all of it). */
export interface CallersContext {
  readonly namePrefix: string;
  readonly environment: string;
  readonly region: string;
  readonly stateKeyPrefix: string;
  readonly calleeAccountId: string;
  readonly callerAccountId: string;
  readonly callerVpcId: string;
  readonly callerSubnetIds: readonly string[];
  readonly callerProfile?: string;
  readonly callerDeployRoleArn?: string;
  readonly callerMemoryMb: number;
  readonly callerTimeoutSeconds: number;
  readonly callerReservedConcurrency?: number;
  readonly externalId?: string;
  readonly callerVpcEndpoints: VpcEndpointsMode;
  readonly callerEndpointSecurityGroupIds?: readonly string[];
  readonly callerEndpointPrefixListIds?: readonly string[];
  readonly callers?: readonly CallerConfig[];
}

/** One consumer of the callee, as written in the `callers` list. */
export interface CallerConfig {
  /** Lowercase letters, digits and hyphens; part of the caller's stack, function, role and bucket names. */
  readonly name: string;
  /** The account the caller function runs in. */
  readonly accountId: string;
  /** The VPC the caller function runs in. */
  readonly vpcId: string;
  /** The subnets of that VPC the function's network interfaces go in. */
  readonly subnetIds: readonly string[];
  /** Named AWS profile the caller stack deploys with (or deployRoleArn; neither = default credentials). */
  readonly profile?: string;
  /** Role in accountId the caller stack's provider assumes (or profile). */
  readonly deployRoleArn?: string;
  /** sts:ExternalId this caller's invoker role requires. Default: the top-level externalId. */
  readonly externalId?: string;
  /** Default: callerMemoryMb. */
  readonly memoryMb?: number;
  /** Default: callerTimeoutSeconds; must exceed calleeTimeoutSeconds. */
  readonly timeoutSeconds?: number;
  /** Default: none (the account's unreserved pool). */
  readonly reservedConcurrency?: number;
  /** Default: callerVpcEndpoints. Two callers in one VPC cannot both 'create' (one private-DNS endpoint per service and VPC). */
  readonly vpcEndpoints?: VpcEndpointsMode;
  /** With 'existing'. Default: callerEndpointSecurityGroupIds. */
  readonly endpointSecurityGroupIds?: readonly string[];
  /** With 'existing'. Default: callerEndpointPrefixListIds. */
  readonly endpointPrefixListIds?: readonly string[];
}

export const CALLER_KEYS: readonly (keyof CallerConfig)[] = [
  "name",
  "accountId",
  "vpcId",
  "subnetIds",
  "profile",
  "deployRoleArn",
  "externalId",
  "memoryMb",
  "timeoutSeconds",
  "reservedConcurrency",
  "vpcEndpoints",
  "endpointSecurityGroupIds",
  "endpointPrefixListIds",
];

/** This project's cap; with one invoker role per caller no trust policy grows. Callers outside the state bucket's account are limited by its bucket policy's 20 KB (checked at synthesis). */
export const MAX_CALLERS = 50;

/** Everything a caller's stack and its invoker role are made of, with every default applied and every name derived. */
export interface ResolvedCaller {
  readonly name: string;
  /** The cdktf stack: "caller" when there is one caller, else "caller-<name>". */
  readonly stackName: string;
  readonly accountId: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly profile?: string;
  readonly deployRoleArn?: string;
  readonly externalId?: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  /** How its function reaches STS and Lambda. */
  readonly network: NetworkChoice;
  readonly functionName: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly codeBucket: string;
  readonly stateKey: string;
  /** The caller's own role in the callee's account. */
  readonly invokerRoleName: string;
  readonly invokerRoleArn: string;
  /** Construct id of its invoker role in the callee stack. */
  readonly invokerConstructId: string;
  /** The callee stack's outputs this caller reads (keyed by caller name; the shorthand keeps the historic keys). */
  readonly outputs: { readonly invokerRoleArn: string; readonly externalIdRequired: string };
}

/** The callers of a configuration, shorthand or list. */
export function resolveCallers(config: CallersContext): ResolvedCaller[] {
  const base = `${config.namePrefix}-${config.environment}`;
  const partition = partitionOf(config.region);
  const role = (accountId: string, name: string) => `arn:${partition}:iam::${accountId}:role/${name}`;
  if (config.callers === undefined) {
    // The shorthand: today's names, stack, state key and outputs, so existing deployments do not move.
    const roleName = `${base}-caller-exec`;
    const invokerRoleName = `${base}-callee-invoker`;
    return [
      {
        name: "caller",
        stackName: "caller",
        accountId: config.callerAccountId,
        vpcId: config.callerVpcId,
        subnetIds: config.callerSubnetIds,
        ...(config.callerProfile !== undefined ? { profile: config.callerProfile } : {}),
        ...(config.callerDeployRoleArn !== undefined ? { deployRoleArn: config.callerDeployRoleArn } : {}),
        ...(config.externalId !== undefined ? { externalId: config.externalId } : {}),
        memoryMb: config.callerMemoryMb,
        timeoutSeconds: config.callerTimeoutSeconds,
        ...(config.callerReservedConcurrency !== undefined ? { reservedConcurrency: config.callerReservedConcurrency } : {}),
        network: networkChoice(config.callerVpcEndpoints, config.callerEndpointSecurityGroupIds, config.callerEndpointPrefixListIds),
        functionName: `${base}-caller`,
        roleName,
        roleArn: role(config.callerAccountId, roleName),
        codeBucket: `${base}-code-${config.callerAccountId}-${config.region}`,
        stateKey: `${config.stateKeyPrefix}/caller.tfstate`,
        invokerRoleName,
        invokerRoleArn: role(config.calleeAccountId, invokerRoleName),
        invokerConstructId: "invoker",
        outputs: { invokerRoleArn: "invoker_role_arn", externalIdRequired: "external_id_required" },
      },
    ];
  }
  const single = config.callers.length === 1;
  return config.callers.map((c) => {
    const names = callerNames(config, c.name, c.accountId);
    // "" and null count as not given, as validation treats them.
    const externalId = given(c.externalId) ?? given(config.externalId);
    const reserved = c.reservedConcurrency;
    return {
      name: c.name,
      stackName: single ? "caller" : `caller-${c.name}`,
      accountId: c.accountId,
      vpcId: c.vpcId,
      subnetIds: c.subnetIds,
      ...(c.profile !== undefined ? { profile: c.profile } : {}),
      ...(c.deployRoleArn !== undefined ? { deployRoleArn: c.deployRoleArn } : {}),
      ...(externalId !== undefined ? { externalId } : {}),
      memoryMb: c.memoryMb ?? config.callerMemoryMb,
      timeoutSeconds: c.timeoutSeconds ?? config.callerTimeoutSeconds,
      ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
      network: ownNetwork(config, c),
      ...names,
      roleArn: role(c.accountId, names.roleName),
      invokerRoleArn: role(config.calleeAccountId, names.invokerRoleName),
      // The state key follows the name, not the stack, so going from one caller to several moves no state.
      stateKey: `${config.stateKeyPrefix}/caller-${c.name}.tfstate`,
      invokerConstructId: `invoker-${c.name}`,
      outputs: { invokerRoleArn: `invoker_role_arn_${c.name}`, externalIdRequired: `external_id_required_${c.name}` },
    };
  });
}

/** A listed caller's network: its own fields when it sets vpcEndpoints, else the callers' shared ones. */
function ownNetwork(config: CallersContext, c: CallerConfig): NetworkChoice {
  if (c.vpcEndpoints !== undefined) return networkChoice(c.vpcEndpoints, c.endpointSecurityGroupIds, c.endpointPrefixListIds);
  return networkChoice(config.callerVpcEndpoints, config.callerEndpointSecurityGroupIds, config.callerEndpointPrefixListIds);
}

/** The names a listed caller's resources get; validation checks each against AWS's length limit. */
export function callerNames(
  config: Pick<CallersContext, "namePrefix" | "environment" | "region">,
  name: string,
  accountId: string,
): { functionName: string; roleName: string; invokerRoleName: string; codeBucket: string } {
  const base = `${config.namePrefix}-${config.environment}`;
  return {
    functionName: `${base}-${name}`,
    roleName: `${base}-${name}-exec`,
    invokerRoleName: `${base}-invoker-${name}`,
    codeBucket: `${base}-${name}-code-${accountId}-${config.region}`,
  };
}

/** AWS's limits on the derived names: function and role names 64 characters, bucket names 63. */
export const NAME_LIMITS = { functionName: 64, roleName: 64, invokerRoleName: 64, codeBucket: 63 } as const;

/** The checks validateConfig shares with the caller list: the same patterns and wording as the top-level fields. */
export interface CallerChecks {
  readonly accountId: RegExp;
  readonly vpcId: RegExp;
  readonly subnetId: RegExp;
  readonly roleArn: RegExp;
  readonly profile: RegExp;
  readonly externalId: RegExp;
  readonly show: (value: unknown) => string;
  /** The closest known names of an unknown field among `known`. */
  readonly closest: (key: string, known: readonly string[]) => string[];
}

const CALLER_NAME = /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/;

/**
 * Every problem of a `callers` list, each naming the entry (callers[2] 'orders') and the fix. `top` holds the
 * already-validated top-level values the names derive from (undefined when they are themselves invalid).
 */
export function callerListProblems(
  raw: unknown,
  top: {
    readonly namePrefix?: string;
    readonly environment?: string;
    readonly region?: string;
    readonly calleeAccountId?: string;
    readonly calleeTimeoutSeconds?: number;
    /** The callers' shared callerVpcEndpoints, when valid. */
    readonly callerVpcEndpoints?: VpcEndpointsMode;
  },
  checks: CallerChecks,
): string[] {
  const problems: string[] = [];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_CALLERS) {
    const got = Array.isArray(raw) ? `${raw.length} entries` : checks.show(raw);
    return [`callers must be a list of 1 to ${MAX_CALLERS} callers (one stack and one invoker role each), got ${got}`];
  }
  const seen = new Map<string, number>();
  const creatorsByVpc = new Map<string, string[]>();
  Array.from(raw as unknown[]).forEach((entry, i) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      problems.push(
        `callers[${i}] must be an object like {"name": "orders", "accountId": "...", "vpcId": "...", "subnetIds": [...]}, got ${checks.show(entry)}`,
      );
      return;
    }
    const c = entry as Record<string, unknown>;
    const label = typeof c.name === "string" ? `callers[${i}] '${c.name}'` : `callers[${i}]`;
    for (const key of Object.keys(c)) {
      if ((CALLER_KEYS as readonly string[]).includes(key)) continue;
      const closest = checks.closest(key, CALLER_KEYS);
      problems.push(
        closest.length > 0
          ? `${label}: unknown field '${key}': did you mean ${closest.join(" or ")}?`
          : `${label}: unknown field '${key}' (a caller has ${CALLER_KEYS.join(", ")})`,
      );
    }
    const str = (key: string, pattern: RegExp, expected: string, optional = false): string | undefined => {
      const value = c[key];
      if (value === undefined || value === null || value === "") {
        if (!optional) problems.push(`${label}: ${key} is required: expected ${expected}`);
        return undefined;
      }
      if (typeof value !== "string" || !pattern.test(value)) {
        problems.push(`${label}: ${key} must be ${expected}, got ${checks.show(value)}`);
        return undefined;
      }
      return value;
    };
    const int = (key: string, min: number, max: number): number | undefined => {
      const value = c[key];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push(`${label}: ${key} must be a whole number from ${min} to ${max}, got ${checks.show(value)}`);
        return undefined;
      }
      return value;
    };

    const name = str("name", CALLER_NAME, "lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen");
    if (name !== undefined) {
      if (seen.has(name))
        problems.push(`${label}: name '${name}' is already used by callers[${seen.get(name)}]: give each caller its own name`);
      else seen.set(name, i);
    }
    const accountId = str("accountId", checks.accountId, "12 digits");
    if (accountId !== undefined && top.calleeAccountId !== undefined && accountId === top.calleeAccountId) {
      problems.push(`${label}: accountId ${accountId} is the callee's account (calleeAccountId): a caller must run in another account`);
    }
    str("vpcId", checks.vpcId, "a VPC id like 'vpc-0123456789abcdef0'");
    const subnets = c.subnetIds;
    if (
      !Array.isArray(subnets) ||
      subnets.length === 0 ||
      Array.from(subnets as unknown[]).some((s) => typeof s !== "string" || !checks.subnetId.test(s)) ||
      new Set(subnets).size !== subnets.length
    ) {
      problems.push(
        `${label}: subnetIds must be a non-empty list of distinct subnet ids like 'subnet-0123456789abcdef0', got ${checks.show(subnets)}`,
      );
    }
    const roleArn = str("deployRoleArn", checks.roleArn, "an IAM role ARN like 'arn:aws:iam::123456789012:role/deploy'", true);
    str("profile", checks.profile, "an AWS CLI profile name", true);
    if (c.deployRoleArn && c.profile) {
      problems.push(`${label}: deployRoleArn and profile are both set: give one way for its stack to reach its account, not two`);
    }
    const roleAccount = roleArn ? checks.roleArn.exec(roleArn)?.[1] : undefined;
    if (roleAccount && accountId && roleAccount !== accountId) {
      problems.push(`${label}: deployRoleArn must be a role in its accountId ${accountId}, got a role in account ${roleAccount}`);
    }
    str("externalId", checks.externalId, "2 to 1224 characters of letters, digits and +=,.@:/-_", true);
    int("memoryMb", 128, 10240);
    const timeout = int("timeoutSeconds", 1, 900);
    if (timeout !== undefined && top.calleeTimeoutSeconds !== undefined && timeout <= top.calleeTimeoutSeconds) {
      problems.push(
        `${label}: timeoutSeconds (${timeout}) must be greater than calleeTimeoutSeconds (${top.calleeTimeoutSeconds}): the caller needs time left to report a callee timeout`,
      );
    }
    int("reservedConcurrency", 1, 10000);
    const ownNetworkGiven =
      c.vpcEndpoints !== undefined || c.endpointSecurityGroupIds !== undefined || c.endpointPrefixListIds !== undefined;
    if (ownNetworkGiven) {
      problems.push(
        ...networkProblems(
          {
            mode: c.vpcEndpoints ?? top.callerVpcEndpoints,
            securityGroupIds: c.endpointSecurityGroupIds,
            prefixListIds: c.endpointPrefixListIds,
          },
          {
            mode: `${label}: vpcEndpoints`,
            securityGroupIds: `${label}: endpointSecurityGroupIds`,
            prefixListIds: `${label}: endpointPrefixListIds`,
          },
          checks.show,
        ),
      );
    }
    const mode = c.vpcEndpoints ?? top.callerVpcEndpoints;
    if (mode === "create" && typeof c.vpcId === "string" && typeof c.accountId === "string") {
      const key = `${c.accountId}/${c.vpcId}`;
      creatorsByVpc.set(key, [...(creatorsByVpc.get(key) ?? []), typeof c.name === "string" ? c.name : `callers[${i}]`]);
    }

    if (name !== undefined && accountId !== undefined && top.namePrefix && top.environment && top.region) {
      const derived = callerNames({ namePrefix: top.namePrefix, environment: top.environment, region: top.region }, name, accountId);
      for (const [kind, limit] of Object.entries(NAME_LIMITS) as [keyof typeof NAME_LIMITS, number][]) {
        const value = derived[kind];
        if (value.length > limit) {
          problems.push(
            `${label}: name '${name}' is too long: its ${kind} would be '${value}' (${value.length} > ${limit} characters); shorten the name by ${value.length - limit} or more`,
          );
        }
      }
    }
  });
  for (const [key, creators] of creatorsByVpc) {
    if (creators.length < 2) continue;
    // Private DNS names an interface endpoint's service once per VPC (AWS PrivateLink guide, "Private DNS"): a second endpoint with it fails.
    problems.push(
      `callers ${creators.join(", ")} share VPC ${key.split("/")[1]} in account ${key.split("/")[0]} and would each create STS and Lambda endpoints with private DNS, which a VPC allows once per service: ` +
        `let the first create them and give the others "vpcEndpoints": "existing" with "endpointSecurityGroupIds": [its endpoint security group, the output endpoint_security_group_id of its stack] (or put them in different VPCs)`,
    );
  }
  return problems;
}

/** An optional string as given: "" and null are "not given" (validation reads them the same way). */
function given(value: string | null | undefined): string | undefined {
  return value === undefined || value === null || value === "" ? undefined : value;
}
