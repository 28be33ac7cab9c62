import { Construct } from "constructs";
import { DataTerraformRemoteStateS3, TerraformOutput } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { FunctionPackage } from "../constructs/function-package";
import { VpcFunction } from "../constructs/vpc-function";
import { AccountStack, stateSettings } from "./account-stack";
import { CALLEE_OUTPUT, CALLER_OUTPUT } from "./outputs";

/** Account A: the caller function, allowed to assume the callee's invoker role and nothing else in account B. */
export class CallerStack extends AccountStack {
  readonly codeBucket: EncryptedBucket;
  readonly caller: VpcFunction;
  readonly calleeState: DataTerraformRemoteStateS3;

  constructor(scope: Construct, id: string, config: CrossAccountConfig) {
    super(scope, id, config, "caller");
    const { provider, partition, accountId, names } = this;

    // Read with account A's own credentials, exactly the key the callee stack writes.
    this.calleeState = new DataTerraformRemoteStateS3(this, "callee-state", stateSettings(config, "caller", names.calleeStateKey));
    const calleeFunctionArn = this.calleeState.getString(CALLEE_OUTPUT.functionArn);
    const invokerRoleArn = this.calleeState.getString(CALLEE_OUTPUT.invokerRoleArn);

    this.codeBucket = new EncryptedBucket(this, "code-bucket", {
      provider,
      partition,
      accountId,
      bucketName: names.callerCodeBucket,
      purpose: "the caller function's code",
    });
    const code = new FunctionPackage(this, "caller-code", { provider, sourceName: "caller", codeBucket: this.codeBucket });

    this.caller = new VpcFunction(this, "caller", {
      provider,
      partition,
      accountId,
      region: config.region,
      functionName: names.callerFunctionName,
      roleName: names.callerRoleName,
      description: `Caller in account ${accountId}; invokes ${names.calleeFunctionName} in account ${config.calleeAccountId}`,
      code,
      vpcId: config.callerVpcId,
      subnetIds: config.callerSubnetIds,
      egressCidrBlocks: config.egressCidrBlocks,
      memoryMb: config.callerMemoryMb,
      timeoutSeconds: config.callerTimeoutSeconds,
      reservedConcurrency: config.callerReservedConcurrency,
      architecture: config.architecture,
      logRetentionDays: config.logRetentionDays,
      environment: {
        CALLEE_FUNCTION_ARN: calleeFunctionArn,
        INVOKER_ROLE_ARN: invokerRoleArn,
        ...(config.externalId !== undefined ? { INVOKER_EXTERNAL_ID: config.externalId } : {}),
      },
    });

    const assumePolicy = this.caller.addInlinePolicy("assume-invoker-policy", "assume-callee-invoker-role-only", [
      {
        Sid: "AssumeCalleeInvokerRoleOnly",
        Effect: "Allow",
        Action: "sts:AssumeRole",
        Resource: invokerRoleArn,
      },
    ]);
    // Fail the plan, before anything changes, when the state read is not the deployment this config describes.
    assumePolicy.addOverride("lifecycle.precondition", [
      {
        condition: `\${data.terraform_remote_state.${this.calleeState.friendlyUniqueId}.outputs.${CALLEE_OUTPUT.invokerRoleArn} == "${names.invokerRoleArn}"}`,
        error_message: `The callee state at s3://${config.stateBucket}/${names.calleeStateKey} does not describe invoker role ${names.invokerRoleArn}: deploy the callee stack with the same configuration first.`,
      },
      {
        condition: `\${data.terraform_remote_state.${this.calleeState.friendlyUniqueId}.outputs.${CALLEE_OUTPUT.externalIdRequired} == ${config.externalId !== undefined}}`,
        error_message: "externalId is set on one side only: give the caller and callee stacks the same externalId setting.",
      },
    ]);

    new TerraformOutput(this, CALLER_OUTPUT.functionArn, { value: this.caller.function.arn });
    new TerraformOutput(this, CALLER_OUTPUT.functionName, { value: this.caller.function.functionName });
    new TerraformOutput(this, CALLER_OUTPUT.executionRoleArn, { value: this.caller.role.arn });
  }
}
