import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup, type SecurityGroupEgress } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { LambdaAlias } from "@cdktf/provider-aws/lib/lambda-alias";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config";
import { AccountScope } from "./account-context";
import { FunctionPackage } from "./function-package";
import { kmsAliasName } from "./kms-alias-name";
import { enableIamStatement, PolicyStatement, renderPolicy } from "./iam-policy";

/** A function, its role, key, logs, network and failure queue; the account and provider come from the enclosing stack. */
export interface VpcFunctionProps {
  /** The function's name, which also names its log group, key alias, security group and queue. @default none: required */
  readonly functionName: string;
  /** The execution role's name: deterministic so other accounts can name it in their policies before it exists. @default none: required */
  readonly roleName: string;
  /** The function's description in the Lambda console. @default none: required */
  readonly description: string;
  /** The zip to run and where it is uploaded. @default none: required */
  readonly code: FunctionPackage;
  /** The VPC of the function's security group. @default none: required */
  readonly vpcId: string;
  /** The subnets Lambda attaches the function's network interfaces to. @default none: required */
  readonly subnetIds: readonly string[];
  /**
   * Where the security group lets the function send HTTPS (TCP 443): CIDR blocks (over a NAT gateway), the
   * security groups or prefix lists of existing VPC endpoints, or nowhere yet (interface endpoints created
   * beside it add their own rule, see InterfaceEndpoints; a function that calls no AWS API keeps none).
   * @default none: required
   */
  readonly egress: FunctionEgress;
  /** Memory in MB (128–10240). @default none: required */
  readonly memoryMb: number;
  /** Timeout in seconds (1–900). @default none: required */
  readonly timeoutSeconds: number;
  /**
   * Concurrency reserved for this function (and taken from the account's pool).
   * @default none: the function shares the account's unreserved concurrency. New accounts have a
   * quota of 10 and Lambda keeps at least 100 unreserved (all of a smaller quota), so any reservation fails there
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
   */
  readonly reservedConcurrency?: number;
  /** The instruction set. @default none: required */
  readonly architecture: "arm64" | "x86_64";
  /** How long CloudWatch Logs keeps the function's logs (a valid retention). @default none: required */
  readonly logRetentionDays: number;
  /** Extra environment variables, encrypted with the function's key. @default none: only POWERTOOLS_SERVICE_NAME */
  readonly environment?: Record<string, string>;
  /**
   * Publish a version on every code or configuration change and point an alias of this name at it,
   * so callers invoke the alias and a release can be rolled back by moving it.
   * @default none: no version is published and no alias exists (callers invoke $LATEST)
   */
  readonly aliasName?: string;
}

/** Where a function's security group lets it send HTTPS. */
export type FunctionEgress =
  | { readonly kind: "cidr"; readonly cidrBlocks: readonly string[] }
  | { readonly kind: "endpoints"; readonly securityGroupIds: readonly string[]; readonly prefixListIds: readonly string[] }
  | { readonly kind: "added-later" }
  | { readonly kind: "none" };

/** Runtime every function of this project uses. */
export const NODE_RUNTIME = "nodejs22.x";

/**
 * A Lambda function attached to a VPC, with everything it needs and nothing
 * more: its own execution role, KMS key (environment, logs, failed events),
 * encrypted log group, egress-only security group, and an encrypted queue
 * that receives asynchronous invocations that failed.
 */
export class VpcFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly key: KmsKey;
  readonly logGroup: CloudwatchLogGroup;
  readonly securityGroup: SecurityGroup;
  readonly failureQueue: SqsQueue;
  /** The alias callers invoke, when aliasName is set; its `arn` is the qualified ARN they are granted. */
  readonly alias?: LambdaAlias;
  /** Known before deploy, unlike `logGroup.arn`: the key policy and the role's policy name it. */
  private readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: VpcFunctionProps) {
    super(scope, id);
    const { provider, partition, region, accountId } = AccountScope.of(this);
    const { functionName } = props;
    const logGroupName = `/aws/lambda/${functionName}`;
    this.logGroupArn = `arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`;

    this.key = new KmsKey(this, "key", {
      provider,
      description: `Encrypts ${functionName}'s environment, logs and failed events`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: renderPolicy(enableIamStatement(partition, accountId), {
        Sid: "AllowCloudWatchLogsForOwnLogGroupOnly",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        // The statement CloudWatch Logs documents, wildcards included: Logs may call any of these variants.
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": this.logGroupArn } },
      }),
    });
    new KmsAlias(this, "alias", { provider, name: kmsAliasName(functionName), targetKeyId: this.key.keyId });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      provider,
      name: logGroupName,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: this.key.arn,
    });

    this.failureQueue = new SqsQueue(this, "async-failures", {
      provider,
      name: `${functionName}-async-failures`,
      kmsMasterKeyId: this.key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: 1209600,
    });

    this.role = new IamRole(this, "role", {
      provider,
      name: props.roleName,
      description: `Execution role of ${functionName}`,
      maxSessionDuration: 3600,
      assumeRolePolicy: renderPolicy({
        Sid: "LambdaInOwnAccountOnly",
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": accountId } },
      }),
    });
    const executionPolicy = new IamRolePolicy(this, "execution-policy", {
      provider,
      name: "execution",
      role: this.role.id,
      policy: renderPolicy(...this.executionStatements()),
    });
    // Lambda deletes its network interfaces after the function is gone, with this role's permissions
    // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html): a policy of their own, which the
    // security group depends on, so that destroy removes the group (and waits for the interfaces) first.
    const networkInterfacePolicy = new IamRolePolicy(this, "network-interface-policy", {
      provider,
      name: "network-interfaces",
      role: this.role.id,
      policy: renderPolicy(...this.networkInterfaceStatements()),
    });

    this.securityGroup = new SecurityGroup(this, "sg", {
      provider,
      name: functionName,
      description: `${functionName}: no inbound traffic; ${egressDescription(props.egress)}`,
      vpcId: props.vpcId,
      // An explicit empty list makes Terraform remove any ingress rule added by hand.
      ingress: [],
      ...inlineEgress(props.egress),
      revokeRulesOnDelete: true,
      // Destroyed before the interface permissions: the provider waits up to 45 minutes for Lambda's interfaces
      // to go (hashicorp/terraform-provider-aws#10329), which needs ec2:DeleteNetworkInterface still granted.
      dependsOn: [networkInterfacePolicy],
    });

    if (props.egress.kind === "endpoints") {
      const targets = [
        ...props.egress.securityGroupIds.map((id) => ({ referencedSecurityGroupId: id })),
        ...props.egress.prefixListIds.map((id) => ({ prefixListId: id })),
      ];
      targets.forEach((target, i) => {
        new VpcSecurityGroupEgressRule(this, `egress-${i}`, {
          provider,
          securityGroupId: this.securityGroup.id,
          description: "HTTPS to the VPC's existing endpoints",
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          ...target,
        });
      });
    }

    this.function = new LambdaFunction(this, "function", {
      provider,
      functionName,
      description: props.description,
      role: this.role.arn,
      runtime: NODE_RUNTIME,
      handler: props.code.handler,
      architectures: [props.architecture],
      memorySize: props.memoryMb,
      timeout: props.timeoutSeconds,
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      s3Bucket: props.code.s3Bucket,
      s3Key: props.code.object.key,
      sourceCodeHash: props.code.bundle.sha256Base64,
      kmsKeyArn: this.key.arn,
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: functionName,
          ...props.environment,
        },
      },
      vpcConfig: { subnetIds: [...props.subnetIds], securityGroupIds: [this.securityGroup.id] },
      tracingConfig: { mode: "Active" },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: this.logGroup.name,
        applicationLogLevel: "INFO",
        systemLogLevel: "WARN",
      },
      // The provider publishes a version when code or configuration changes (hashicorp/terraform-provider-aws#11211, since 2.50).
      ...(props.aliasName !== undefined ? { publish: true } : {}),
      // Lambda checks the network-interface permissions when the function is created.
      dependsOn: [executionPolicy, networkInterfacePolicy, this.logGroup],
    });

    if (props.aliasName !== undefined) {
      // UpdateAlias moves the alias only after the new version is published; calls in flight finish on the version they started on.
      this.alias = new LambdaAlias(this, "alias-live", {
        provider,
        name: props.aliasName,
        description: `What callers invoke: the released version of ${functionName}`,
        functionName: this.function.functionName,
        functionVersion: this.function.version,
      });
    }

    new LambdaFunctionEventInvokeConfig(this, "async-config", {
      provider,
      functionName: this.function.functionName,
      maximumRetryAttempts: 2,
      // No longer than the idempotent callee's shortest record expiry (config MIN_IDEMPOTENCY_EXPIRY_SECONDS): a redelivery finds its record.
      maximumEventAgeInSeconds: 3600,
      // Asynchronous invocation settings are per qualifier: the alias callers invoke needs its own (PutFunctionEventInvokeConfig).
      ...(this.alias ? { qualifier: this.alias.name } : {}),
      destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
    });
  }

  /** Adds a named inline policy to the execution role. */
  addInlinePolicy(id: string, name: string, statements: PolicyStatement[]): IamRolePolicy {
    return new IamRolePolicy(this, id, {
      provider: AccountScope.of(this).provider,
      name,
      role: this.role.id,
      policy: renderPolicy(...statements),
    });
  }

  /**
   * What Lambda needs to attach the function to its subnets, in the resource shape Lambda validates at
   * CreateFunction and at a VPC change, before any real subnet, group or interface id exists
   * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, hashicorp/terraform-provider-aws#20698).
   * Which subnets and groups a function may use is decided on the deployer's side, with the
   * lambda:SubnetIds and lambda:SecurityGroupIds condition keys (README, "Deployer permissions").
   */
  private networkInterfaceStatements(): PolicyStatement[] {
    const { partition, region, accountId } = AccountScope.of(this);
    return [
      {
        // AWS requires "*": Lambda validates CreateNetworkInterface at CreateFunction for interfaces, subnets and groups
        // that do not exist yet (and shared subnets live in another account); the Describe actions take only "*".
        Sid: "CreateAndDescribeNetworkInterfaces",
        Effect: "Allow",
        Action: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
        Resource: "*",
      },
      {
        // The guide: "either specify a unique resource ID, or include all resource IDs" (its example: arn:aws:ec2:<region>:<account>:*/*).
        Sid: "ManageNetworkInterfacesInOwnAccountAndRegion",
        Effect: "Allow",
        Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
        Resource: `arn:${partition}:ec2:${region}:${accountId}:*`,
      },
    ];
  }

  private executionStatements(): PolicyStatement[] {
    return [
      {
        Sid: "WriteOwnLogGroupOnly",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${this.logGroupArn}:log-stream:*`,
      },
      {
        // AWS requires "*": X-Ray's write actions support no resource-level permissions.
        Sid: "WriteTraces",
        Effect: "Allow",
        Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        Resource: "*",
      },
      {
        Sid: "UseOwnKeyForEnvironmentAndFailedEvents",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: this.key.arn,
      },
      {
        Sid: "SendFailedAsyncEventsToOwnQueue",
        Effect: "Allow",
        Action: "sqs:SendMessage",
        Resource: this.failureQueue.arn,
      },
    ];
  }
}

function egressDescription(egress: FunctionEgress): string {
  switch (egress.kind) {
    case "cidr":
      return "outbound HTTPS only";
    case "endpoints":
    case "added-later":
      return "outbound HTTPS to the VPC endpoints only";
    case "none":
      return "no outbound traffic";
  }
}

/**
 * The security group's inline egress: a CIDR rule, or an explicit empty list (no egress, and a rule added by hand
 * is removed). Left out when separate rule resources manage it: the provider says inline rules and
 * aws_vpc_security_group_egress_rule on one group overwrite each other (resource docs, aws_security_group).
 * Without inline egress the provider still removes AWS's default allow-all egress rule when it creates the group.
 */
function inlineEgress(egress: FunctionEgress): { egress?: SecurityGroupEgress[] } {
  if (egress.kind === "none") return { egress: [] };
  if (egress.kind !== "cidr") return {};
  return {
    egress: [
      {
        description: "HTTPS to AWS APIs (STS, Lambda) over the VPC's NAT gateway",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: [...egress.cidrBlocks],
      },
    ],
  };
}
