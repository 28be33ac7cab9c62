/**
 * The local runtime's model of the two accounts, built only from the synthesized stacks
 * (cdktf.out/stacks/<stack>/cdk.tf.json). Every value here is resolved: no `${...}` remains.
 */
import { UserFacingError } from "../../config/user-facing-error";

/** An IAM policy document as AWS stores it (parsed JSON). */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Id?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

export interface NamedPolicy {
  /** Inline policy name, or the managed policy's ARN for attached customer-managed policies. */
  readonly name: string;
  readonly document: PolicyDocument;
  /** Terraform address that defined it, e.g. `aws_iam_role_policy.caller_execution-policy_49C279B0` in stack `caller`. */
  readonly source: SourceRef;
}

export interface SourceRef {
  readonly stack: string;
  /** `<type>.<name>`, e.g. `aws_iam_role.invoker_role_95275810`. */
  readonly address: string;
}

export interface RoleModel {
  readonly arn: string;
  readonly name: string;
  readonly path: string;
  readonly accountId: string;
  /** Stand-in for the unique id AWS assigns at creation (AROA + 17 chars), derived deterministically from the role's stack and address. */
  readonly roleId: string;
  readonly maxSessionDurationSeconds: number;
  readonly trustPolicy: PolicyDocument;
  /** Inline policies (`inline_policy` blocks and `aws_iam_role_policy`) and attached customer-managed policies. */
  readonly policies: readonly NamedPolicy[];
  readonly source: SourceRef;
}

export interface AliasModel {
  readonly name: string;
  /** The qualified ARN: the function ARN and ":<name>". */
  readonly arn: string;
  readonly functionVersion: string;
  /** The alias's description, when the stack sets one. */
  readonly description?: string;
  readonly source: SourceRef;
}

export interface FunctionModel {
  readonly name: string;
  /** Unqualified ARN: arn:<partition>:lambda:<region>:<account>:function:<name>. */
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  readonly handler: string;
  readonly runtime: string;
  /** Instruction set architectures: ["x86_64"] (Lambda's default) or ["arm64"]. */
  readonly architectures: readonly string[];
  readonly description?: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** undefined when the stack sets no reserved concurrency. */
  readonly reservedConcurrency?: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly roleArn: string;
  /** The customer-managed key that encrypts the environment (kms_key_arn); undefined means Lambda's AWS-managed key. */
  readonly kmsKeyArn?: string;
  readonly logGroupName: string;
  /** The VPC the function runs in (from its security groups); undefined when it has no vpc_config. */
  readonly vpcId?: string;
  /** logging_config: "Text" (Lambda's default) or "JSON", and the application log level for JSON. */
  readonly logFormat: string;
  readonly applicationLogLevel?: string;
  /** Absolute path of the zip the TerraformAsset points at (cdktf.out/stacks/<stack>/<source>). */
  readonly zipPath: string;
  /** SHA-256 hex of the zip as recorded by the stack (aws_s3_object.source_hash); undefined if the stack records none. */
  readonly zipSha256?: string;
  /** The function's resource-based policy, as Lambda would store it from each aws_lambda_permission; undefined when there is none. */
  readonly resourcePolicy?: PolicyDocument;
  /**
   * Published versions, each with the code and configuration it was published with: with `publish`, the
   * first apply publishes "1" from the function as configured. Empty when the function does not publish.
   */
  readonly versions: readonly string[];
  /** Aliases by name (aws_lambda_alias), each pointing at a version or $LATEST. */
  readonly aliases: ReadonlyMap<string, AliasModel>;
  readonly asyncConfig?: {
    /** The qualifier the config belongs to (an alias or version); undefined for the unqualified function ($LATEST). */
    readonly qualifier?: string;
    readonly maximumRetryAttempts: number;
    readonly maximumEventAgeSeconds: number;
    /** ARN of the on-failure destination (SQS queue, SNS topic, Lambda function or EventBridge bus). */
    readonly onFailureDestination?: string;
    readonly onSuccessDestination?: string;
  };
  readonly source: SourceRef;
}

export interface BucketModel {
  readonly name: string;
  /** arn:<partition>:s3:::<name>. */
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  /** The aws_s3_bucket_policy document; undefined when the stacks set none. */
  readonly policy?: PolicyDocument;
  /** The key of the bucket's default SSE-KMS encryption, when set. */
  readonly kmsKeyArn?: string;
  readonly source: SourceRef;
}

export interface KeyModel {
  /** arn:<partition>:kms:<region>:<account>:key/<key id>. */
  readonly arn: string;
  readonly keyId: string;
  readonly accountId: string;
  readonly region: string;
  /** Alias names pointing at the key, each `alias/...`. */
  readonly aliases: readonly string[];
  readonly description?: string;
  /** The key policy; KMS's default (the account root may do kms:*) when the stack sets none. */
  readonly policy: PolicyDocument;
  readonly source: SourceRef;
}

/** An aws_vpc_endpoint: the requests from its VPC to its service pass its policy. */
export interface VpcEndpointModel {
  /** A stand-in `vpce-` id, stable per resource (AWS assigns the real one). */
  readonly id: string;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  /** e.g. com.amazonaws.eu-west-1.sts */
  readonly serviceName: string;
  /** The service's short name: "sts", "lambda". */
  readonly service: string;
  /** "Interface" or "Gateway". */
  readonly type: string;
  readonly privateDns: boolean;
  /** The endpoint policy; AWS's full-access default when the stack sets none (defaultPolicy). */
  readonly policy: PolicyDocument;
  readonly defaultPolicy: boolean;
  readonly subnetIds: readonly string[];
  /** A gateway endpoint's route tables (the subnets whose tables these are reach the service through it); empty for an interface endpoint. */
  readonly routeTableIds: readonly string[];
  readonly source: SourceRef;
}

/** An aws_dynamodb_table: the callee's idempotency records, when the callee is idempotent. */
export interface TableModel {
  readonly name: string;
  /** arn:<partition>:dynamodb:<region>:<account>:table/<name>. */
  readonly arn: string;
  readonly accountId: string;
  readonly region: string;
  /** The partition key's attribute name and type ("S", "N" or "B"). */
  readonly hashKey: { readonly name: string; readonly type: string };
  /** The attribute DynamoDB's TTL deletes expired items by; undefined when TTL is off. */
  readonly ttlAttribute?: string;
  /** The customer-managed key of server_side_encryption; undefined means a key DynamoDB owns or manages. */
  readonly kmsKeyArn?: string;
  readonly pointInTimeRecovery: boolean;
  readonly source: SourceRef;
}

export interface AccountModel {
  readonly accountId: string;
  readonly region: string;
  /** Stacks whose provider(s) target this account. */
  readonly stacks: readonly string[];
}

export interface AccountsModel {
  /** The directory the model was read from (absolute). */
  readonly dir: string;
  readonly partition: string;
  readonly accounts: readonly AccountModel[];
  /** Keyed by role ARN. */
  readonly roles: ReadonlyMap<string, RoleModel>;
  /** Keyed by unqualified function ARN. */
  readonly functions: ReadonlyMap<string, FunctionModel>;
  /** Keyed by bucket name. */
  readonly buckets: ReadonlyMap<string, BucketModel>;
  /** Keyed by key ARN. */
  readonly keys: ReadonlyMap<string, KeyModel>;
  /** Keyed by table ARN. */
  readonly tables: ReadonlyMap<string, TableModel>;
  /** Every VPC endpoint the stacks create. */
  readonly vpcEndpoints: readonly VpcEndpointModel[];
  /** Resolved outputs per stack: outputs.get("callee")?.invoker_role_arn. */
  readonly outputs: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

/** Raised for anything the model cannot read or resolve; the message names the stack, address and expression. */
export class ModelError extends UserFacingError {
  readonly code = "STACKS_UNREADABLE";

  constructor(message: string) {
    super(message);
  }
}
