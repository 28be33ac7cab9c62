/**
 * What Terraform would know about a resource after apply, computed from its configuration:
 * AWS's documented ARN formats and the AWS provider's `id` conventions. Only the attributes
 * listed here are known; the resolver reports every other one instead of guessing.
 */
import * as crypto from "crypto";

export { accountRootArn } from "../arn";

/** Where a resource lives, from its provider block. */
export interface ProviderTarget {
  readonly alias?: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
}

/** The partition a region belongs to: the same rule the stacks use when they build ARNs. */
export { partitionOf } from "../arn";

function dnsSuffix(partition: string): string {
  return partition === "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com";
}

export const iamArn = (t: ProviderTarget, kind: "role" | "policy", path: string, name: string): string =>
  `arn:${t.partition}:iam::${t.accountId}:${kind}${path}${name}`;
export const lambdaArn = (t: ProviderTarget, name: string): string =>
  `arn:${t.partition}:lambda:${t.region}:${t.accountId}:function:${name}`;
const regional = (t: ProviderTarget, service: string, resource: string): string =>
  `arn:${t.partition}:${service}:${t.region}:${t.accountId}:${resource}`;

/*
 * Identifiers AWS assigns at creation (KMS key ids, security-group ids, role unique ids)
 * cannot be known before deploy. The model derives stand-ins in AWS's shapes from a
 * SHA-256 of `<stack>/<address>`, so they are stable across loads and distinct per resource,
 * but they are NOT the ids a deployment would get.
 */
function digest(stack: string, address: string): Buffer {
  return crypto.createHash("sha256").update(`${stack}/${address}`).digest();
}

/** UUID-shaped, like `1234abcd-12ab-34cd-56ef-1234567890ab`. */
export function standInKmsKeyId(stack: string, address: string): string {
  const hex = digest(stack, address).toString("hex");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join("-");
}

/** `sg-` + 17 hex characters. */
export function standInSecurityGroupId(stack: string, address: string): string {
  return "sg-" + digest(stack, address).toString("hex").slice(0, 17);
}

/** `pl-` + 17 hex characters: a gateway endpoint's prefix list. */
export function standInPrefixListId(stack: string, address: string): string {
  return "pl-" + digest(stack, `${address}/prefix-list`).toString("hex").slice(0, 17);
}

/** `vpce-` + 17 hex characters. */
export function standInVpcEndpointId(stack: string, address: string): string {
  return "vpce-" + digest(stack, address).toString("hex").slice(0, 17);
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** `AROA` + 17 upper-case base32 characters, the shape of a role's unique id. */
export function standInRoleId(stack: string, address: string): string {
  return "AROA" + base32(digest(stack, address)).slice(0, 17);
}

/** A resource as the attribute table sees it: its arguments resolved on demand. */
export interface ResourceView {
  readonly stack: string;
  readonly type: string;
  /** `<type>.<name>` */
  readonly address: string;
  target(): ProviderTarget;
  has(argument: string): boolean;
  /** The argument resolved to a string; a ModelError when it is absent or not a string. */
  string(argument: string): string;
  /** A boolean argument (also written "true"/"false"); `fallback` when it is absent. */
  bool(argument: string, fallback: boolean): boolean;
  /** A ModelError about this resource's `argument`. */
  fail(argument: string, reason: string): never;
}

/**
 * The configured name of a resource whose name AWS or Terraform would otherwise generate:
 * with `name_prefix` (or no name at all) the final name exists only after apply.
 */
function knownName(r: ResourceView, argument = "name"): string {
  if (r.has(`${argument}_prefix`)) {
    r.fail(
      `${argument}_prefix`,
      `the ${argument} is generated from ${argument}_prefix at apply time, so the model cannot know it; set '${argument}' instead`,
    );
  }
  if (!r.has(argument))
    r.fail(argument, `no '${argument}' is set, so Terraform would generate one at apply time and the model cannot know it`);
  return r.string(argument);
}

function iamPath(r: ResourceView): string {
  return r.has("path") ? r.string("path") : "/";
}

type AttributeFn = (r: ResourceView) => unknown;

/** The version the first apply leaves: "1" when the function publishes, else "$LATEST". */
function publishedVersion(r: ResourceView): string {
  return r.bool("publish", false) ? "1" : "$LATEST";
}

/** An alias's function_name may be a name or an ARN; the name is the part after "function:". */
function functionNameIn(r: ResourceView): string {
  const raw = r.string("function_name");
  const m = /:function:([^:]+)(?::[^:]+)?$/.exec(raw);
  return m ? m[1] : raw;
}

/** Known attributes per resource type. */
export const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, AttributeFn>>>> = {
  aws_iam_role: {
    arn: (r) => iamArn(r.target(), "role", iamPath(r), knownName(r)),
    id: (r) => knownName(r),
    name: (r) => knownName(r),
    unique_id: (r) => standInRoleId(r.stack, r.address),
  },
  aws_iam_policy: {
    arn: (r) => iamArn(r.target(), "policy", iamPath(r), knownName(r)),
    // The AWS provider uses the policy's ARN as its id.
    id: (r) => iamArn(r.target(), "policy", iamPath(r), knownName(r)),
    name: (r) => knownName(r),
  },
  aws_lambda_function: {
    arn: (r) => lambdaArn(r.target(), r.string("function_name")),
    function_name: (r) => r.string("function_name"),
    // With publish, the first apply publishes version 1 and qualified_arn names it; without, both are $LATEST.
    version: (r) => publishedVersion(r),
    qualified_arn: (r) => `${lambdaArn(r.target(), r.string("function_name"))}:${publishedVersion(r)}`,
    invoke_arn: (r) =>
      `arn:${r.target().partition}:apigateway:${r.target().region}:lambda:path/2015-03-31/functions/${lambdaArn(r.target(), r.string("function_name"))}/invocations`,
  },
  aws_lambda_alias: {
    // The alias ARN is the function ARN qualified by the alias name; the provider uses it as the id too.
    arn: (r) => `${lambdaArn(r.target(), functionNameIn(r))}:${r.string("name")}`,
    id: (r) => `${lambdaArn(r.target(), functionNameIn(r))}:${r.string("name")}`,
    name: (r) => r.string("name"),
    function_version: (r) => r.string("function_version"),
    invoke_arn: (r) =>
      `arn:${r.target().partition}:apigateway:${r.target().region}:lambda:path/2015-03-31/functions/${lambdaArn(r.target(), functionNameIn(r))}:${r.string("name")}/invocations`,
  },
  aws_s3_bucket: {
    id: (r) => knownName(r, "bucket"),
    bucket: (r) => knownName(r, "bucket"),
    arn: (r) => `arn:${r.target().partition}:s3:::${knownName(r, "bucket")}`,
  },
  aws_s3_object: {
    key: (r) => r.string("key"),
    bucket: (r) => r.string("bucket"),
    // The AWS provider documents the object's id as its key.
    id: (r) => r.string("key"),
  },
  aws_sqs_queue: {
    arn: (r) => regional(r.target(), "sqs", knownName(r)),
    id: (r) => `https://sqs.${r.target().region}.${dnsSuffix(r.target().partition)}/${r.target().accountId}/${knownName(r)}`,
    url: (r) => `https://sqs.${r.target().region}.${dnsSuffix(r.target().partition)}/${r.target().accountId}/${knownName(r)}`,
    name: (r) => knownName(r),
  },
  aws_sns_topic: {
    arn: (r) => regional(r.target(), "sns", knownName(r)),
    // The AWS provider uses the topic's ARN as its id.
    id: (r) => regional(r.target(), "sns", knownName(r)),
    name: (r) => knownName(r),
  },
  aws_cloudwatch_log_group: {
    name: (r) => knownName(r),
    id: (r) => knownName(r),
    // Without the `:*` suffix the API adds: the AWS provider strips it from `arn`.
    arn: (r) => regional(r.target(), "logs", `log-group:${knownName(r)}`),
  },
  aws_kms_key: {
    arn: (r) => regional(r.target(), "kms", `key/${standInKmsKeyId(r.stack, r.address)}`),
    key_id: (r) => standInKmsKeyId(r.stack, r.address),
    id: (r) => standInKmsKeyId(r.stack, r.address),
  },
  aws_kms_alias: {
    name: (r) => knownName(r),
    id: (r) => knownName(r),
    // An alias ARN is `...:alias/<name>` and the name already starts with `alias/`.
    arn: (r) => regional(r.target(), "kms", knownName(r)),
  },
  aws_security_group: {
    id: (r) => standInSecurityGroupId(r.stack, r.address),
    arn: (r) => regional(r.target(), "ec2", `security-group/${standInSecurityGroupId(r.stack, r.address)}`),
  },
  aws_vpc_endpoint: {
    id: (r) => standInVpcEndpointId(r.stack, r.address),
    arn: (r) => regional(r.target(), "ec2", `vpc-endpoint/${standInVpcEndpointId(r.stack, r.address)}`),
    // Exported for gateway endpoints only (aws_vpc_endpoint docs): the prefix list a security group's egress names.
    prefix_list_id: (r) =>
      r.has("vpc_endpoint_type") && r.string("vpc_endpoint_type") !== "Gateway"
        ? r.fail("prefix_list_id", "only a Gateway endpoint has a prefix list; this one is an Interface endpoint")
        : standInPrefixListId(r.stack, r.address),
  },
  aws_dynamodb_table: {
    name: (r) => r.string("name"),
    // The AWS provider uses the table's name as its id.
    id: (r) => r.string("name"),
    arn: (r) => regional(r.target(), "dynamodb", `table/${r.string("name")}`),
  },
};
