/**
 * ARNs, split and built in one place: `arn:<partition>:<service>:<region>:<account>:<resource>`
 * (IAM User Guide, reference-arns). The resource part may itself contain ':' (Lambda's
 * `function:<name>[:<qualifier>]`) or '/' (IAM's `role/<path>/<name>`).
 */

/** The five fixed fields of an ARN and its resource part. */
export interface Arn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  /** Everything after the account, e.g. "function:callee" or "role/xacct-demo-invoker". */
  readonly resource: string;
}

/** The parts of an ARN; undefined when the string is not one. */
export function parseArn(arn: string): Arn | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  const [, partition, service, region, account] = parts as [string, string, string, string, string];
  return { partition, service, region, account, resource: parts.slice(5).join(":") };
}

/** The account an ARN names; "" when it names none (S3 buckets, `*`, not an ARN). */
export const accountOf = (arn: string): string => parseArn(arn)?.account ?? "";

/** The service an ARN names ("lambda", "sqs"); "" when it is not an ARN. */
export const serviceOf = (arn: string): string => parseArn(arn)?.service ?? "";

/** The region an ARN names; "" for global services and non-ARNs. */
export const regionOf = (arn: string): string => parseArn(arn)?.region ?? "";

/** The partition a region belongs to: the same rule the stacks use when they build ARNs. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The AWS account's root principal: "this account's IAM decides". */
export const accountRootArn = (partition: string, accountId: string): string => `arn:${partition}:iam::${accountId}:root`;

/** The last path segment of an IAM ARN's resource: a role's or policy's name without its path. */
export const iamNameOf = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);

/** Splits `arn:<p>:lambda:<region>:<account>:function:<name>[:<qualifier>]`; undefined when it is not a function ARN. */
export function splitFunctionArn(arn: string): { unqualified: string; name: string; qualifier?: string } | undefined {
  const parts = arn.split(":");
  if (parts.length < 7 || parts.length > 8 || parts[0] !== "arn" || parts[2] !== "lambda" || parts[5] !== "function") return undefined;
  return { unqualified: parts.slice(0, 7).join(":"), name: parts[6] as string, ...(parts[7] !== undefined ? { qualifier: parts[7] } : {}) };
}

/** A function ARN's name; the input itself when it is not a function ARN. */
export const functionNameOf = (arn: string): string => splitFunctionArn(arn)?.name ?? arn;
