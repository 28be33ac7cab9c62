/**
 * Caller configuration, read from the environment ONCE per container (see index.ts).
 *
 * | Variable                   | Required | Meaning                                                        |
 * |----------------------------|----------|----------------------------------------------------------------|
 * | `CALLEE_FUNCTION_ARN`      | yes      | The callee's alias ARN in account B (…:function:<name>:live)     |
 * | `INVOKER_ROLE_ARN`         | yes      | IAM role in account B that the caller assumes to invoke the callee |
 * | `INVOKER_EXTERNAL_ID`      | no       | sts:ExternalId required by the role's trust policy             |
 * | `INVOKE_MAX_ATTEMPTS`      | no       | SDK attempts per invocation (1..10, default 3)                 |
 * | `CALLEE_IDEMPOTENT`        | no       | `true`/`false` (default false): may an Invoke whose outcome is unknown be sent again? |
 * | `STS_THROTTLE_COOLDOWN_MS` | no       | 0..60000, default 1000: after STS throttles AssumeRole, fail fast for this long plus up to as much jitter (0: off) |
 * | `AWS_REGION`               | yes      | set by Lambda; region of the caller and of its STS endpoint    |
 * | `AWS_LAMBDA_FUNCTION_NAME` | no       | set by Lambda; becomes the STS RoleSessionName (for CloudTrail) |
 *
 * Empty strings count as "not set", because infrastructure code often renders
 * optional values as "".
 */

export interface CallerConfig {
  readonly calleeFunctionArn: string;
  readonly calleeRegion: string;
  readonly calleeAccountId: string;
  readonly invokerRoleArn: string;
  /** Secret-ish: never log it. Use {@link describeCallerConfig} for logs. */
  readonly externalId?: string;
  readonly maxAttempts: number;
  /**
   * The callee tolerates running the same request twice (it deduplicates by idempotencyKey, or its
   * operations have no side effects). Only then is an Invoke whose outcome is unknown sent again.
   */
  readonly calleeIdempotent: boolean;
  /** Base of the fail-fast window after STS throttled AssumeRole; the window is base + [0, base) jitter. 0 turns it off. */
  readonly stsThrottleCooldownMs: number;
  /** The caller's own region; the STS client talks to this regional endpoint. */
  readonly region: string;
  readonly roleSessionName: string;
}

/** Thrown by {@link parseCallerConfig}; `problems` has one entry per bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid caller configuration (${problems.length} problem(s)):\n - ${problems.join("\n - ")}`);
    this.problems = problems;
  }
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_MAX_ATTEMPTS = 10;
export const DEFAULT_ROLE_SESSION_NAME = "cross-account-caller";
export const DEFAULT_STS_THROTTLE_COOLDOWN_MS = 1000;
export const MAX_STS_THROTTLE_COOLDOWN_MS = 60_000;

const PARTITION = "aws(?:-[a-z]+)*";
const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d{1,2}";
// Unqualified name, or name:version / name:alias / name:$LATEST.
const FUNCTION_ARN = new RegExp(
  `^arn:(${PARTITION}):lambda:(${REGION}):(\\d{12}):function:([A-Za-z0-9_-]{1,64})(?::(\\$LATEST|[A-Za-z0-9_-]{1,128}))?$`,
);
// IAM allows paths (role/path/to/name); role names are 1..64 chars of [\w+=,.@-].
const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::(\\d{12}):role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);
const REGION_ONLY = new RegExp(`^${REGION}$`);
// STS limits for ExternalId.
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

export interface ParsedFunctionArn {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly functionName: string;
  readonly qualifier?: string;
}

/** Returns undefined for anything that is not a Lambda function ARN. */
export function parseFunctionArn(arn: string): ParsedFunctionArn | undefined {
  const m = FUNCTION_ARN.exec(arn);
  if (!m) return undefined;
  return { partition: m[1], region: m[2], accountId: m[3], functionName: m[4], ...(m[5] ? { qualifier: m[5] } : {}) };
}

/** Returns undefined for anything that is not an IAM role ARN. */
export function parseRoleArn(arn: string): { partition: string; accountId: string } | undefined {
  const m = ROLE_ARN.exec(arn);
  return m ? { partition: m[1], accountId: m[2] } : undefined;
}

/**
 * STS accepts 2..64 chars of [\w+=,.@-]. The session name shows up in account B's
 * CloudTrail, so keep it recognisable rather than random.
 */
export function toRoleSessionName(functionName: string | undefined): string {
  const cleaned = (functionName ?? "").replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return cleaned.length >= 2 ? cleaned : DEFAULT_ROLE_SESSION_NAME;
}

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

// Long values are cut so a pasted blob cannot flood the init error.
function shown(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

/**
 * Pure: validates the environment and throws a {@link ConfigError} naming EVERY
 * bad variable, so one failed deployment shows all problems at once.
 */
export function parseCallerConfig(env: NodeJS.ProcessEnv): CallerConfig {
  const problems: string[] = [];

  const calleeRaw = present(env.CALLEE_FUNCTION_ARN);
  const callee = calleeRaw ? parseFunctionArn(calleeRaw) : undefined;
  if (!calleeRaw) {
    problems.push(
      "CALLEE_FUNCTION_ARN is required: the callee's alias ARN to invoke, like arn:aws:lambda:<region>:<12-digit account>:function:<name>:live (the callee stack's output callee_alias_arn)",
    );
  } else if (!callee) {
    problems.push(
      `CALLEE_FUNCTION_ARN must be a Lambda function ARN like arn:aws:lambda:<region>:<12-digit account>:function:<name>, got '${shown(calleeRaw)}'`,
    );
  } else if (callee.qualifier === undefined || callee.qualifier === "$LATEST" || /^\d+$/.test(callee.qualifier)) {
    // Since 2022 Lambda authorizes a qualified ARN against that qualified ARN, and the invoker role grants
    // only the alias (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html).
    const given = callee.qualifier === undefined ? "the unqualified ARN" : `the qualifier ':${callee.qualifier}'`;
    problems.push(
      `CALLEE_FUNCTION_ARN must be the callee's alias ARN (…:function:${callee.functionName}:live), got ${given}: ` +
        "the invoker role may invoke only the alias, so Lambda would refuse the call; use the callee stack's output callee_alias_arn",
    );
  }

  const roleRaw = present(env.INVOKER_ROLE_ARN);
  const role = roleRaw ? parseRoleArn(roleRaw) : undefined;
  if (!roleRaw) {
    problems.push(
      "INVOKER_ROLE_ARN is required: the IAM role to assume in the callee's account, like arn:aws:iam::<12-digit account>:role/<name>",
    );
  } else if (!role) {
    problems.push(`INVOKER_ROLE_ARN must be an IAM role ARN like arn:aws:iam::<12-digit account>:role/<name>, got '${shown(roleRaw)}'`);
  } else if (callee && role.accountId !== callee.accountId) {
    problems.push(
      `INVOKER_ROLE_ARN must be in the same account as CALLEE_FUNCTION_ARN (${callee.accountId}), got account ${role.accountId}`,
    );
  } else if (callee && role.partition !== callee.partition) {
    problems.push(`INVOKER_ROLE_ARN must be in the same partition as CALLEE_FUNCTION_ARN (${callee.partition}), got ${role.partition}`);
  }

  const externalId = present(env.INVOKER_EXTERNAL_ID);
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    // The value itself is deliberately not echoed: it is a shared secret.
    problems.push(
      `INVOKER_EXTERNAL_ID must be 2-1224 characters of letters, digits and +=,.@:/-_ (got ${externalId.length} characters; value not shown)`,
    );
  }

  const attemptsRaw = present(env.INVOKE_MAX_ATTEMPTS);
  let maxAttempts = DEFAULT_MAX_ATTEMPTS;
  if (attemptsRaw !== undefined) {
    const n = /^\d{1,3}$/.test(attemptsRaw) ? Number(attemptsRaw) : NaN;
    if (!(n >= 1 && n <= MAX_MAX_ATTEMPTS)) {
      problems.push(
        `INVOKE_MAX_ATTEMPTS must be an integer from 1 to ${MAX_MAX_ATTEMPTS} (default ${DEFAULT_MAX_ATTEMPTS}), got '${shown(attemptsRaw)}'`,
      );
    } else {
      maxAttempts = n;
    }
  }

  const idempotentRaw = present(env.CALLEE_IDEMPOTENT);
  let calleeIdempotent = false;
  if (idempotentRaw !== undefined) {
    if (/^(true|false)$/i.test(idempotentRaw)) {
      calleeIdempotent = idempotentRaw.toLowerCase() === "true";
    } else {
      problems.push(
        `CALLEE_IDEMPOTENT must be 'true' or 'false' (default false: an Invoke whose outcome is unknown is never sent again), got '${shown(idempotentRaw)}'`,
      );
    }
  }

  const cooldownRaw = present(env.STS_THROTTLE_COOLDOWN_MS);
  let stsThrottleCooldownMs = DEFAULT_STS_THROTTLE_COOLDOWN_MS;
  if (cooldownRaw !== undefined) {
    const n = /^\d{1,5}$/.test(cooldownRaw) ? Number(cooldownRaw) : NaN;
    if (!(n >= 0 && n <= MAX_STS_THROTTLE_COOLDOWN_MS)) {
      problems.push(
        `STS_THROTTLE_COOLDOWN_MS must be an integer number of milliseconds from 0 (off) to ${MAX_STS_THROTTLE_COOLDOWN_MS} ` +
          `(default ${DEFAULT_STS_THROTTLE_COOLDOWN_MS}), got '${shown(cooldownRaw)}'`,
      );
    } else {
      stsThrottleCooldownMs = n;
    }
  }

  const region = present(env.AWS_REGION);
  if (!region) {
    problems.push("AWS_REGION is required (Lambda sets it): the region whose STS endpoint issues the credentials, like eu-west-1");
  } else if (!REGION_ONLY.test(region)) {
    problems.push(`AWS_REGION must be a region name like eu-west-1, got '${shown(region)}'`);
  }

  if (problems.length > 0 || !calleeRaw || !callee || !roleRaw || !region) {
    throw new ConfigError(problems);
  }

  return {
    calleeFunctionArn: calleeRaw,
    calleeRegion: callee.region,
    calleeAccountId: callee.accountId,
    invokerRoleArn: roleRaw,
    ...(externalId !== undefined ? { externalId } : {}),
    maxAttempts,
    calleeIdempotent,
    stsThrottleCooldownMs,
    region,
    roleSessionName: toRoleSessionName(env.AWS_LAMBDA_FUNCTION_NAME),
  };
}

/** What is safe to log about the configuration: no external id, only whether one is set. */
export function describeCallerConfig(config: CallerConfig): Record<string, unknown> {
  return {
    calleeFunctionArn: config.calleeFunctionArn,
    invokerRoleArn: config.invokerRoleArn,
    externalIdConfigured: config.externalId !== undefined,
    maxAttempts: config.maxAttempts,
    calleeIdempotent: config.calleeIdempotent,
    stsThrottleCooldownMs: config.stsThrottleCooldownMs,
    region: config.region,
    calleeRegion: config.calleeRegion,
    roleSessionName: config.roleSessionName,
  };
}
