/**
 * The project's configuration: one typed object, validated once, before any
 * construct is created. Every problem is reported together, each naming the
 * field, the value given and what is expected.
 */
import { parseArn } from "../core/arn";
import { callerListProblems, type CallerConfig } from "./callers";
import { networkProblems, type VpcEndpointsMode } from "./network";
import { UserFacingError } from "./user-facing-error";

export type Architecture = "arm64" | "x86_64";

export interface CrossAccountConfig {
  /** Short lowercase prefix for every resource name, e.g. "xacct". */
  readonly namePrefix: string;
  /** Environment name, part of every resource name, e.g. "demo", "prod". */
  readonly environment: string;
  /** Region both stacks deploy into. */
  readonly region: string;

  /** Account A: where the caller function runs. */
  readonly callerAccountId: string;
  /** Role the caller stack's provider assumes in account A (or use callerProfile). */
  readonly callerDeployRoleArn?: string;
  /** Named AWS profile for account A (or use callerDeployRoleArn). */
  readonly callerProfile?: string;
  readonly callerVpcId: string;
  readonly callerSubnetIds: readonly string[];

  /** Account B: where the callee function runs. */
  readonly calleeAccountId: string;
  readonly calleeDeployRoleArn?: string;
  readonly calleeProfile?: string;
  readonly calleeVpcId: string;
  readonly calleeSubnetIds: readonly string[];

  /** S3 bucket holding both stacks' Terraform state (created by the bootstrap stack). */
  readonly stateBucket: string;
  readonly stateRegion: string;
  /** Key prefix inside the state bucket; the stacks use <prefix>/callee.tfstate and <prefix>/caller.tfstate. */
  readonly stateKeyPrefix: string;
  /** KMS key ARN the state objects are encrypted with (the bootstrap stack's output state_kms_key_arn). */
  readonly stateKmsKeyArn?: string;

  /** When set, the invoker role's trust requires this sts:ExternalId. */
  readonly externalId?: string;
  /** When set, the invoker role's trust requires aws:PrincipalOrgID to equal it. */
  readonly organizationId?: string;

  readonly logRetentionDays: number;
  /**
   * Reserved concurrency of the caller function; unset by default, so it shares the account's pool.
   * New accounts have a concurrency quota of 10 and Lambda keeps at least 100 unreserved (all of a smaller quota), so any value fails there.
   */
  readonly callerReservedConcurrency?: number;
  /** Reserved concurrency of the callee: set it to guarantee (and cap) the callee's capacity. Unset by default. */
  readonly calleeReservedConcurrency?: number;
  readonly callerMemoryMb: number;
  readonly callerTimeoutSeconds: number;
  readonly calleeMemoryMb: number;
  readonly calleeTimeoutSeconds: number;
  readonly architecture: Architecture;
  /** With vpcEndpoints 'none': where the functions' security groups allow outbound HTTPS (over a NAT gateway). */
  readonly egressCidrBlocks: readonly string[];
  /** How the callers reach STS and Lambda: 'create' interface endpoints (default), use 'existing' ones, or 'none' (NAT). */
  readonly callerVpcEndpoints: VpcEndpointsMode;
  /** With 'existing': the endpoints' security groups, the callers' only egress destinations. */
  readonly callerEndpointSecurityGroupIds?: readonly string[];
  /** With 'existing': prefix lists to allow egress to. */
  readonly callerEndpointPrefixListIds?: readonly string[];
  /** The callee calls no AWS API today: 'create' creates no endpoint and leaves it no egress at all. */
  readonly calleeVpcEndpoints: VpcEndpointsMode;
  readonly calleeEndpointSecurityGroupIds?: readonly string[];
  readonly calleeEndpointPrefixListIds?: readonly string[];
  /**
   * Make the callee idempotent: Powertools Idempotency records each idempotency key's answer in a DynamoDB table in
   * account B (encrypted with the callee's key, TTL and point-in-time recovery on), so a retried or redelivered
   * request runs the business logic once. Default false: no table, and the callee runs every request it receives.
   */
  readonly calleeIdempotency?: boolean;
  /** How long an idempotency record (and so the stored answer) is kept, in seconds. Default 3600 (Powertools' default). */
  readonly calleeIdempotencyExpirySeconds?: number;
  /**
   * With calleeIdempotency and calleeVpcEndpoints 'create': the route tables of the callee's subnets, which the
   * DynamoDB gateway endpoint is added to (a gateway endpoint is reached through route tables, not subnets).
   */
  readonly calleeRouteTableIds?: readonly string[];
  /**
   * Synthesize only the bootstrap stack (the state bucket and key), for the first deploy of a real
   * configuration, before stateKmsKeyArn is known. Default false.
   */
  readonly bootstrapOnly?: boolean;
  /**
   * The callers of the callee, 1 to 50, each in its own stack with its own invoker role in account B.
   * Unset: one caller made of the caller* fields (the shorthand). callerAccountId (and callerProfile or
   * callerDeployRoleArn) still names the account of the state bucket, where the bootstrap stack deploys.
   */
  readonly callers?: readonly CallerConfig[];
}

/**
 * Values that let `make demo` and `make test` run with no AWS at all. The
 * account, VPC and subnet ids are placeholders: a real deployment must set its own.
 */
export const DEMO_DEFAULTS: CrossAccountConfig = {
  namePrefix: "xacct",
  environment: "demo",
  region: "eu-west-1",
  callerAccountId: "111111111111",
  callerVpcId: "vpc-0a1a1a1a1a1a1a1a1",
  callerSubnetIds: ["subnet-0a1a1a1a1a1a1a1a1", "subnet-0a2a2a2a2a2a2a2a2"],
  calleeAccountId: "222222222222",
  calleeVpcId: "vpc-0b1b1b1b1b1b1b1b1",
  calleeSubnetIds: ["subnet-0b1b1b1b1b1b1b1b1", "subnet-0b2b2b2b2b2b2b2b2"],
  stateBucket: "xacct-demo-tfstate-111111111111",
  stateRegion: "eu-west-1",
  stateKeyPrefix: "cross-account-lambda",
  logRetentionDays: 365,
  callerMemoryMb: 256,
  callerTimeoutSeconds: 30,
  calleeMemoryMb: 256,
  calleeTimeoutSeconds: 10,
  architecture: "arm64",
  egressCidrBlocks: ["0.0.0.0/0"],
  callerVpcEndpoints: "create",
  calleeVpcEndpoints: "create",
};

/** Every valid CloudWatch Logs retention, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const CONFIG_KEYS = Object.keys({
  ...DEMO_DEFAULTS,
  callerDeployRoleArn: 1,
  callerProfile: 1,
  calleeDeployRoleArn: 1,
  calleeProfile: 1,
  stateKmsKeyArn: 1,
  callerReservedConcurrency: 1,
  calleeReservedConcurrency: 1,
  bootstrapOnly: 1,
  callerEndpointSecurityGroupIds: 1,
  callerEndpointPrefixListIds: 1,
  calleeEndpointSecurityGroupIds: 1,
  calleeEndpointPrefixListIds: 1,
  callers: 1,
  calleeIdempotency: 1,
  calleeIdempotencyExpirySeconds: 1,
  calleeRouteTableIds: 1,
  externalId: 1,
  organizationId: 1,
}) as (keyof CrossAccountConfig)[];

const LIST_KEYS = new Set<string>([
  "callerSubnetIds",
  "calleeSubnetIds",
  "egressCidrBlocks",
  "callerEndpointSecurityGroupIds",
  "callerEndpointPrefixListIds",
  "calleeEndpointSecurityGroupIds",
  "calleeEndpointPrefixListIds",
  "calleeRouteTableIds",
]);
const NUMBER_KEYS = new Set<string>([
  "logRetentionDays",
  "callerReservedConcurrency",
  "calleeReservedConcurrency",
  "callerMemoryMb",
  "callerTimeoutSeconds",
  "calleeMemoryMb",
  "calleeTimeoutSeconds",
  "calleeIdempotencyExpirySeconds",
]);

const BOOLEAN_KEYS = new Set<string>(["bootstrapOnly", "calleeIdempotency"]);
/** Given as JSON text in an environment variable (XACCT_CALLERS='[{"name": ...}]'). */
const JSON_KEYS = new Set<string>(["callers"]);

export function isJsonKey(key: string): boolean {
  return JSON_KEYS.has(key);
}

export function isBooleanKey(key: string): boolean {
  return BOOLEAN_KEYS.has(key);
}
export function isListKey(key: string): boolean {
  return LIST_KEYS.has(key);
}
export function isNumberKey(key: string): boolean {
  return NUMBER_KEYS.has(key);
}

export class ConfigValidationError extends UserFacingError {
  readonly code = "CONFIG_INVALID";

  constructor(
    readonly problems: readonly string[],
    readonly sources: readonly string[] = [],
  ) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was synthesized):\n` +
        problems.map((p) => `  - ${p}`).join("\n") +
        (sources.length ? `\nConfiguration read from: ${sources.join(", ")}` : ""),
    );
  }
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/;
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const ROUTE_TABLE_ID = /^rtb-([0-9a-f]{8}|[0-9a-f]{17})$/;
// Powertools' expiresAfterSeconds; DynamoDB's TTL deletes expired items within a few days, Powertools ignores them at once.
// At least the callee's maximum event age (its event-invoke config keeps an Event up to an hour): an Event retried or
// redelivered within it must still find its record, and so must a run still going (the callee's timeout is at most 900 s).
export const MIN_IDEMPOTENCY_EXPIRY_SECONDS = 3600;
const MAX_IDEMPOTENCY_EXPIRY_SECONDS = 30 * 24 * 3600;
// Partitions: aws, aws-cn, aws-us-gov, aws-iso-b, ... The role name (after the last '/') is 1..64 characters.
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/(?=[\w+=,.@/-]{1,512}$)(?:[\w+=,.@/-]*\/)?[\w+=,.@-]{1,64}$/;
const KMS_KEY_ARN =
  /^arn:aws(?:-[a-z]+)*:kms:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}:\d{12}:key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME_PART = /^[a-z][a-z0-9-]*[a-z0-9]$/;
const PROFILE = /^[\w.+@-]{1,128}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const KEY_PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/;
const CIDR_V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function show(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (value === undefined) return "nothing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // BigInt, cycles; String() itself throws on objects without a usable toString.
    try {
      return String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
}

function isCidrV4(value: string): boolean {
  const m = CIDR_V4.exec(value);
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), or Infinity once it
 * is certainly above `limit` (the lengths alone differ by more).
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return Infinity;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known fields an unknown one most likely misspells (case-insensitive): those at the smallest
 * distance, if it is close, at most one edit per four characters of the longer name (at least one,
 * at most three). Empty when none is close.
 */
export function closestConfigKeys(key: string, keys: readonly string[] = CONFIG_KEYS): string[] {
  const lower = key.toLowerCase();
  let best: string[] = [];
  let bestDistance = Infinity;
  for (const known of keys) {
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(key.length, known.length) / 4)));
    const distance = editDistance(lower, known.toLowerCase(), limit);
    if (distance > limit || distance > bestDistance) continue;
    if (distance < bestDistance) best = [];
    bestDistance = distance;
    best.push(known);
  }
  return best;
}

function unknownFieldProblem(key: string): string {
  const closest = closestConfigKeys(key);
  return closest.length > 0
    ? `unknown field '${key}': did you mean ${closest.join(" or ")}? (remove it or fix its spelling)`
    : `unknown field '${key}': no known field is close to it (remove it; the fields are in the Configuration table of README.md)`;
}

/** The idempotent callee's fields: the switch, the record expiry, and the route tables its gateway endpoint needs. */
function idempotencyProblems(
  input: Record<string, unknown>,
  list: (key: string, pattern: RegExp, expected: string) => string[] | undefined,
): string[] {
  const problems: string[] = [];
  const on = input.calleeIdempotency;
  if (on !== undefined && on !== null && typeof on !== "boolean") problems.push(`calleeIdempotency must be true or false, got ${show(on)}`);
  // "" and null are "not given", as for the other optional fields.
  const given = (v: unknown) => v !== undefined && v !== null && v !== "";
  const expiry = input.calleeIdempotencyExpirySeconds;
  if (given(expiry)) {
    if (on !== true)
      problems.push("calleeIdempotencyExpirySeconds applies only when calleeIdempotency is true: remove it, or set calleeIdempotency");
    else if (
      typeof expiry !== "number" ||
      !Number.isInteger(expiry) ||
      expiry < MIN_IDEMPOTENCY_EXPIRY_SECONDS ||
      expiry > MAX_IDEMPOTENCY_EXPIRY_SECONDS
    )
      problems.push(
        `calleeIdempotencyExpirySeconds must be a whole number of seconds from ${MIN_IDEMPOTENCY_EXPIRY_SECONDS} (the callee's maximum event age: a redelivered Event must still find its record) to ${MAX_IDEMPOTENCY_EXPIRY_SECONDS} (30 days), got ${show(expiry)}`,
      );
  }
  const routeTablesGiven = given(input.calleeRouteTableIds);
  const creates = (input.calleeVpcEndpoints ?? "create") === "create";
  if (on === true && creates && !routeTablesGiven) {
    problems.push(
      "calleeRouteTableIds is required when calleeIdempotency is true and calleeVpcEndpoints is 'create': give the route tables of the callee's subnets, " +
        "which the DynamoDB gateway endpoint is added to (aws ec2 describe-route-tables --filters Name=association.subnet-id,Values=<subnet>); " +
        "or set calleeVpcEndpoints to 'existing' (with your DynamoDB gateway endpoint's prefix list in calleeEndpointPrefixListIds) or 'none'",
    );
  } else if (routeTablesGiven && !(on === true && creates)) {
    problems.push(
      "calleeRouteTableIds applies only when calleeIdempotency is true and calleeVpcEndpoints is 'create' (the DynamoDB gateway endpoint's route tables): remove it",
    );
  } else if (routeTablesGiven) {
    list("calleeRouteTableIds", ROUTE_TABLE_ID, "route table ids like 'rtb-0123456789abcdef0'");
  }
  // DynamoDB is reached through a gateway endpoint, whose traffic a security group can only allow by its prefix list.
  const prefixLists = input.calleeEndpointPrefixListIds;
  if (on === true && input.calleeVpcEndpoints === "existing" && !(Array.isArray(prefixLists) && prefixLists.length > 0)) {
    problems.push(
      "calleeEndpointPrefixListIds must name your DynamoDB gateway endpoint's prefix list when calleeIdempotency is true and calleeVpcEndpoints is 'existing' " +
        "(aws ec2 describe-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.<region>.dynamodb): without it the callee has no way to its table",
    );
  }
  return problems;
}

/**
 * Validates a raw object (from defaults, cdktf.json context, a file and the
 * environment) and returns it typed. Never throws anything but
 * ConfigValidationError, whatever the input.
 */
export function validateConfig(raw: unknown, sources: readonly string[] = []): CrossAccountConfig {
  const problems: string[] = [];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigValidationError([`configuration must be an object, got ${show(raw)}`], sources);
  }
  const input = raw as Record<string, unknown>;

  for (const key of Object.keys(input)) {
    if (!(CONFIG_KEYS as string[]).includes(key)) {
      problems.push(unknownFieldProblem(key));
    }
  }

  const str = (key: string, pattern: RegExp, expected: string, optional = false): string | undefined => {
    const value = input[key];
    if (value === undefined || value === null || value === "") {
      if (!optional) problems.push(`${key} is required: expected ${expected}`);
      return undefined;
    }
    if (typeof value !== "string" || !pattern.test(value)) {
      problems.push(`${key} must be ${expected}, got ${show(value)}`);
      return undefined;
    }
    return value;
  };
  const int = (key: string, min: number, max: number, expected?: string, optional = false): number | undefined => {
    const value = input[key];
    if (optional && (value === undefined || value === null)) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} must be ${expected ?? `a whole number from ${min} to ${max}`}, got ${show(value)}`);
      return undefined;
    }
    return value;
  };
  const list = (key: string, pattern: RegExp | ((s: string) => boolean), expected: string): string[] | undefined => {
    const value = input[key];
    const test = typeof pattern === "function" ? pattern : (s: string) => pattern.test(s);
    if (!Array.isArray(value) || value.length === 0) {
      problems.push(`${key} must be a non-empty list of ${expected}, got ${show(value)}`);
      return undefined;
    }
    // Array.from: filter() skips the holes of a sparse array, which are missing entries too.
    const bad = Array.from(value as unknown[]).filter((v) => typeof v !== "string" || !test(v));
    if (bad.length > 0) {
      problems.push(`${key} must contain only ${expected}, got ${bad.map(show).join(", ")}`);
      return undefined;
    }
    if (new Set(value).size !== value.length) {
      problems.push(`${key} must not repeat an entry, got ${show(value)}`);
      return undefined;
    }
    return value as string[];
  };

  const namePrefix = str("namePrefix", NAME_PART, "2 to 12 lowercase letters, digits or hyphens, starting with a letter");
  if (namePrefix && namePrefix.length > 12)
    problems.push(`namePrefix must be at most 12 characters, got '${namePrefix}' (${namePrefix.length})`);
  const environment = str("environment", NAME_PART, "2 to 10 lowercase letters, digits or hyphens, starting with a letter");
  if (environment && environment.length > 10)
    problems.push(`environment must be at most 10 characters, got '${environment}' (${environment.length})`);
  const region = str("region", REGION, "an AWS region name such as 'eu-west-1'");

  const sides = ["caller", "callee"] as const;
  const accounts: Partial<Record<(typeof sides)[number], string>> = {};
  for (const side of sides) {
    const accountId = str(`${side}AccountId`, ACCOUNT_ID, "12 digits");
    accounts[side] = accountId;
    const roleArn = str(`${side}DeployRoleArn`, ROLE_ARN, "an IAM role ARN like 'arn:aws:iam::123456789012:role/deploy'", true);
    str(`${side}Profile`, PROFILE, "an AWS CLI profile name", true);
    if (input[`${side}DeployRoleArn`] && input[`${side}Profile`]) {
      problems.push(
        `${side}DeployRoleArn and ${side}Profile are both set: give one way for the ${side} stack to reach its account, not two`,
      );
    }
    const roleAccount = roleArn ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
    if (roleAccount && accountId && roleAccount !== accountId) {
      problems.push(`${side}DeployRoleArn must be a role in ${side}AccountId ${accountId}, got a role in account ${roleAccount}`);
    }
    str(`${side}VpcId`, VPC_ID, "a VPC id like 'vpc-0123456789abcdef0'");
    list(`${side}SubnetIds`, SUBNET_ID, "subnet ids like 'subnet-0123456789abcdef0'");
    int(`${side}ReservedConcurrency`, 1, 10000, undefined, true);
    int(`${side}MemoryMb`, 128, 10240);
    int(`${side}TimeoutSeconds`, 1, 900);
  }
  if (accounts.caller && accounts.callee && accounts.caller === accounts.callee) {
    problems.push(
      `callerAccountId and calleeAccountId must differ (this project is for cross-account calls), both are '${accounts.caller}'`,
    );
  }
  const callerTimeout = input.callerTimeoutSeconds;
  const calleeTimeout = input.calleeTimeoutSeconds;
  const inRange = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 900;
  if (inRange(callerTimeout) && inRange(calleeTimeout) && callerTimeout <= calleeTimeout) {
    problems.push(
      `callerTimeoutSeconds (${callerTimeout}) must be greater than calleeTimeoutSeconds (${calleeTimeout}): ` +
        "the caller waits for the callee and needs time left to report a callee timeout",
    );
  }

  const stateBucket = str("stateBucket", BUCKET, "an S3 bucket name: 3 to 63 lowercase letters, digits, dots or hyphens");
  if (stateBucket && (stateBucket.includes("..") || /^\d+\.\d+\.\d+\.\d+$/.test(stateBucket))) {
    problems.push(`stateBucket must be a valid S3 bucket name (no '..', not an IP address), got '${stateBucket}'`);
  }
  str("stateRegion", REGION, "an AWS region name such as 'eu-west-1'");
  str("stateKeyPrefix", KEY_PREFIX, "a key prefix without leading or trailing '/', such as 'cross-account-lambda'");
  const stateKmsKeyArn = str("stateKmsKeyArn", KMS_KEY_ARN, "a KMS key ARN like 'arn:aws:kms:eu-west-1:111111111111:key/<uuid>'", true);
  const bootstrapOnly = input.bootstrapOnly;
  if (bootstrapOnly !== undefined && typeof bootstrapOnly !== "boolean") {
    problems.push(`bootstrapOnly must be true or false, got ${show(bootstrapOnly)}`);
  }
  const isDemo = accounts.caller === DEMO_DEFAULTS.callerAccountId && accounts.callee === DEMO_DEFAULTS.calleeAccountId;
  // "" and null count as not given (str() above does the same), so they cannot slip past as "set".
  const stateKeyGiven = !(input.stateKmsKeyArn === undefined || input.stateKmsKeyArn === null || input.stateKmsKeyArn === "");
  if (!isDemo && bootstrapOnly !== true && !stateKeyGiven && accounts.caller && accounts.callee) {
    // With encrypt = true and no kms_key_id the S3 backend asks for AES256, which overrides the bucket's SSE-KMS
    // default (https://developer.hashicorp.com/terraform/language/backend/s3, "encrypt", "kms_key_id").
    problems.push(
      "stateKmsKeyArn is required when the accounts are not the built-in demo's: without it the S3 backend writes state with SSE-S3 (AES256), not the state bucket's KMS key. " +
        "Take it from the bootstrap stack's output state_kms_key_arn (terraform -chdir=cdktf.out/stacks/bootstrap output -raw state_kms_key_arn); " +
        "to deploy the bootstrap stack first, set bootstrapOnly (XACCT_BOOTSTRAP_ONLY=true npx cdktf deploy bootstrap)",
    );
  }
  const stateRegion = typeof input.stateRegion === "string" ? input.stateRegion : undefined;
  const key = stateKmsKeyArn ? parseArn(stateKmsKeyArn) : undefined;
  if (key && accounts.caller && key.account !== accounts.caller) {
    problems.push(
      `stateKmsKeyArn must be a key in callerAccountId ${accounts.caller}, where the bootstrap stack creates it, got a key in account ${key.account}`,
    );
  }
  if (key && stateRegion && key.region !== stateRegion) {
    problems.push(`stateKmsKeyArn must be a key in stateRegion ${stateRegion}, where the state bucket is, got a key in ${key.region}`);
  }
  str("externalId", EXTERNAL_ID, "2 to 1224 characters of letters, digits and +=,.@:/-_", true);
  str("organizationId", ORG_ID, "an AWS Organizations id like 'o-a1b2c3d4e5'", true);

  const retention = input.logRetentionDays;
  if (typeof retention !== "number" || !(LOG_RETENTION_DAYS as readonly number[]).includes(retention)) {
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${show(retention)}`);
  }
  if (input.architecture !== "arm64" && input.architecture !== "x86_64") {
    problems.push(`architecture must be 'arm64' or 'x86_64', got ${show(input.architecture)}`);
  }
  list("egressCidrBlocks", isCidrV4, "IPv4 CIDR blocks like '10.0.0.0/16'");
  for (const side of sides) {
    problems.push(
      ...networkProblems(
        {
          mode: input[`${side}VpcEndpoints`],
          securityGroupIds: input[`${side}EndpointSecurityGroupIds`],
          prefixListIds: input[`${side}EndpointPrefixListIds`],
        },
        { mode: `${side}VpcEndpoints`, securityGroupIds: `${side}EndpointSecurityGroupIds`, prefixListIds: `${side}EndpointPrefixListIds` },
        show,
      ),
    );
  }

  problems.push(...idempotencyProblems(input, list));

  if (input.callers !== undefined) {
    const calleeTimeout = input.calleeTimeoutSeconds;
    problems.push(
      ...callerListProblems(
        input.callers,
        {
          ...(namePrefix && namePrefix.length <= 12 ? { namePrefix } : {}),
          ...(environment && environment.length <= 10 ? { environment } : {}),
          ...(region ? { region } : {}),
          ...(accounts.callee ? { calleeAccountId: accounts.callee } : {}),
          ...(inRange(calleeTimeout) ? { calleeTimeoutSeconds: calleeTimeout } : {}),
          ...(typeof input.callerVpcEndpoints === "string" && ["create", "existing", "none"].includes(input.callerVpcEndpoints)
            ? { callerVpcEndpoints: input.callerVpcEndpoints as VpcEndpointsMode }
            : {}),
        },
        {
          accountId: ACCOUNT_ID,
          vpcId: VPC_ID,
          subnetId: SUBNET_ID,
          roleArn: ROLE_ARN,
          profile: PROFILE,
          externalId: EXTERNAL_ID,
          show,
          closest: closestConfigKeys,
        },
      ),
    );
  }

  // Derived names must fit AWS's limits (S3 buckets: 63, roles and functions: 64).
  if (namePrefix && environment && region && namePrefix.length <= 12 && environment.length <= 10) {
    const longest = `${namePrefix}-${environment}-code-123456789012-${region}`;
    if (longest.length > 63) {
      problems.push(
        `namePrefix, environment and region together are too long for the code bucket name '${longest}' (${longest.length} > 63 characters): shorten namePrefix or environment`,
      );
    }
  }

  if (problems.length > 0) throw new ConfigValidationError(problems, sources);
  // "" and null are "not given" for the optional fields (validation treated them so): they must not reach a policy.
  const present = Object.entries(input).filter(([, value]) => value !== null && value !== "");
  return Object.freeze(Object.fromEntries(present)) as unknown as CrossAccountConfig;
}
