import { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { CrossAccountInvokerRole } from "../constructs/cross-account-invoker-role";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { FunctionPackage } from "../constructs/function-package";
import { VpcFunction } from "../constructs/vpc-function";
import { GatewayEndpoint } from "../constructs/gateway-endpoint";
import type { ConditionBlock } from "../constructs/iam-policy";
import { IDEMPOTENCY_TABLE_ACTIONS, IdempotencyTable } from "../constructs/idempotency-table";
import { AccountStack, sideTarget } from "./account-stack";
import { functionEgress } from "./network";
import { networkChoice } from "../config/network";
import type { ResolvedCaller } from "../config/callers";
import { CALLEE_ALIAS, CALLEE_OUTPUT } from "./outputs";

/** Account B: the callee function, its alias, and one invoker role per caller, each trusting that caller alone. */
export class CalleeStack extends AccountStack {
  readonly codeBucket: EncryptedBucket;
  readonly callee: VpcFunction;
  /** The idempotency records, with calleeIdempotency. */
  readonly idempotencyTable?: IdempotencyTable;
  /** The DynamoDB gateway endpoint, with calleeIdempotency and calleeVpcEndpoints 'create'. */
  readonly dynamodbEndpoint?: GatewayEndpoint;
  /** By caller name. */
  readonly invokerRoles: ReadonlyMap<string, CrossAccountInvokerRole>;

  constructor(scope: Construct, id: string, config: CrossAccountConfig, callers: readonly ResolvedCaller[]) {
    super(scope, id, config, sideTarget(config, "callee"));
    const { accountId, names } = this;

    this.codeBucket = new EncryptedBucket(this, "code-bucket", {
      bucketName: names.calleeCodeBucket,
      purpose: "the callee function's code",
    });
    const code = new FunctionPackage(this, "callee-code", { sourceName: "callee", codeBucket: this.codeBucket });
    const idempotent = config.calleeIdempotency === true;

    this.callee = new VpcFunction(this, "callee", {
      functionName: names.calleeFunctionName,
      roleName: names.calleeRoleName,
      description: `Callee in account ${accountId}, invoked cross-account by ${callers.length === 1 ? callers[0].functionName : `${callers.length} callers`}`,
      code,
      vpcId: config.calleeVpcId,
      subnetIds: config.calleeSubnetIds,
      // Without idempotency the callee calls no AWS API: with 'create' it gets no endpoint and no egress at all.
      egress: functionEgress(calleeNetwork(config), config.egressCidrBlocks, idempotent),
      memoryMb: config.calleeMemoryMb,
      timeoutSeconds: config.calleeTimeoutSeconds,
      reservedConcurrency: config.calleeReservedConcurrency,
      architecture: config.architecture,
      logRetentionDays: config.logRetentionDays,
      aliasName: CALLEE_ALIAS,
      ...(idempotent
        ? {
            environment: {
              IDEMPOTENCY_TABLE_NAME: names.calleeIdempotencyTable,
              IDEMPOTENCY_EXPIRES_AFTER_SECONDS: String(config.calleeIdempotencyExpirySeconds ?? DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS),
            },
          }
        : {}),
    });
    const alias = this.callee.alias!;
    if (idempotent) this.addIdempotency(config);

    // One role per caller: a trust never grows with the callers, revoking one touches one role, CloudTrail names the consumer.
    this.invokerRoles = new Map(
      callers.map((caller) => [
        caller.name,
        new CrossAccountInvokerRole(this, caller.invokerConstructId, {
          roleName: caller.invokerRoleName,
          trustedAccountId: caller.accountId,
          trustedPrincipalArn: caller.roleArn,
          // Since 2022 Lambda authorizes a qualified ARN against that ARN: the alias, and not $LATEST or a version, is granted.
          targetFunctionArn: alias.arn,
          externalId: caller.externalId,
          organizationId: config.organizationId,
        }),
      ]),
    );

    new TerraformOutput(this, CALLEE_OUTPUT.functionArn, { value: this.callee.function.arn });
    new TerraformOutput(this, CALLEE_OUTPUT.functionName, { value: this.callee.function.functionName });
    new TerraformOutput(this, CALLEE_OUTPUT.aliasArn, { value: alias.arn });
    if (this.idempotencyTable) new TerraformOutput(this, CALLEE_OUTPUT.idempotencyTable, { value: this.idempotencyTable.table.name });
    for (const caller of callers) {
      new TerraformOutput(this, caller.outputs.invokerRoleArn, { value: this.invokerRoles.get(caller.name)!.role.arn });
      // Whether this caller must send an external id; never the id itself.
      new TerraformOutput(this, caller.outputs.externalIdRequired, { value: caller.externalId !== undefined });
    }
  }

  /** The table, the role's use of it and of its key, and the gateway endpoint that reaches it from the callee's VPC. */
  private addIdempotency(config: CrossAccountConfig): void {
    const { names } = this;
    const table = new IdempotencyTable(this, "idempotency", { tableName: names.calleeIdempotencyTable, kmsKeyArn: this.callee.key.arn });
    (this as { idempotencyTable?: IdempotencyTable }).idempotencyTable = table;
    // The role's own policy, which the function does not wait for: Lambda checks no DynamoDB permission at CreateFunction.
    this.callee.addInlinePolicy("idempotency-policy", "idempotency-table", [
      table.itemStatement("IdempotencyRecordsInOwnTableOnly"),
      table.keyStatement("OwnKeyThroughDynamoDbOnly", this.callee.key.arn),
    ]);
    if (calleeNetwork(config).mode !== "create") return;
    const org: ConditionBlock =
      config.organizationId !== undefined ? { StringEquals: { "aws:PrincipalOrgID": config.organizationId } } : {};
    (this as { dynamodbEndpoint?: GatewayEndpoint }).dynamodbEndpoint = new GatewayEndpoint(this, "dynamodb-endpoint", {
      service: "dynamodb",
      name: names.calleeFunctionName,
      vpcId: config.calleeVpcId,
      routeTableIds: config.calleeRouteTableIds ?? [],
      clientSecurityGroupIds: [this.callee.securityGroup.id],
      policyStatements: [
        {
          Sid: "CalleeRoleUsesItsIdempotencyTableOnly",
          Effect: "Allow",
          // Gateway endpoint policies name principals through conditions; Principal is "*" (VPC user guide, "Endpoint policies").
          Principal: "*",
          Action: [...IDEMPOTENCY_TABLE_ACTIONS],
          Resource: table.tableArn,
          Condition: { ArnEquals: { "aws:PrincipalArn": names.calleeRoleArn }, ...org },
        },
      ],
    });
  }
}

/** Powertools Idempotency's default record lifetime (IdempotencyConfig expiresAfterSeconds). */
export const DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS = 3600;

/** The callee side's network choice. */
export function calleeNetwork(config: CrossAccountConfig) {
  return networkChoice(config.calleeVpcEndpoints, config.calleeEndpointSecurityGroupIds, config.calleeEndpointPrefixListIds);
}
