import { Construct } from "constructs";
import { TerraformOutput } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { CrossAccountInvokerRole } from "../constructs/cross-account-invoker-role";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { FunctionPackage } from "../constructs/function-package";
import { VpcFunction } from "../constructs/vpc-function";
import { AccountStack } from "./account-stack";
import { CALLEE_OUTPUT } from "./outputs";

/** Account B: the callee function and the one role account A may use to invoke it. */
export class CalleeStack extends AccountStack {
  readonly codeBucket: EncryptedBucket;
  readonly callee: VpcFunction;
  readonly invokerRole: CrossAccountInvokerRole;

  constructor(scope: Construct, id: string, config: CrossAccountConfig) {
    super(scope, id, config, "callee");
    const { accountId, names } = this;

    this.codeBucket = new EncryptedBucket(this, "code-bucket", {
      bucketName: names.calleeCodeBucket,
      purpose: "the callee function's code",
    });
    const code = new FunctionPackage(this, "callee-code", { sourceName: "callee", codeBucket: this.codeBucket });

    this.callee = new VpcFunction(this, "callee", {
      functionName: names.calleeFunctionName,
      roleName: names.calleeRoleName,
      description: `Callee in account ${accountId}, invoked cross-account by ${names.callerFunctionName}`,
      code,
      vpcId: config.calleeVpcId,
      subnetIds: config.calleeSubnetIds,
      egressCidrBlocks: config.egressCidrBlocks,
      memoryMb: config.calleeMemoryMb,
      timeoutSeconds: config.calleeTimeoutSeconds,
      reservedConcurrency: config.calleeReservedConcurrency,
      architecture: config.architecture,
      logRetentionDays: config.logRetentionDays,
    });

    this.invokerRole = new CrossAccountInvokerRole(this, "invoker", {
      roleName: names.invokerRoleName,
      trustedAccountId: config.callerAccountId,
      trustedPrincipalArn: names.callerRoleArn,
      targetFunctionArn: this.callee.function.arn,
      externalId: config.externalId,
      organizationId: config.organizationId,
    });

    new TerraformOutput(this, CALLEE_OUTPUT.functionArn, { value: this.callee.function.arn });
    new TerraformOutput(this, CALLEE_OUTPUT.functionName, { value: this.callee.function.functionName });
    new TerraformOutput(this, CALLEE_OUTPUT.invokerRoleArn, { value: this.invokerRole.role.arn });
    // Whether callers must send an external id; never the id itself.
    new TerraformOutput(this, CALLEE_OUTPUT.externalIdRequired, { value: config.externalId !== undefined });
  }
}
