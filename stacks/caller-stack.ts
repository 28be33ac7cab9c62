import { Construct } from "constructs";
import { DataTerraformRemoteStateS3, TerraformOutput } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { FunctionPackage } from "../constructs/function-package";
import { VpcFunction } from "../constructs/vpc-function";
import { AccountStack, stateSettings } from "./account-stack";
import { CALLEE_OUTPUT, CALLER_OUTPUT } from "./outputs";

/**
 * What the caller reads for a callee output its state lacks: values no precondition accepts, shown in
 * the precondition's message ("" is never an ARN; "missing" is neither true nor false, and Terraform's
 * == does not convert between types).
 */
export const CALLEE_STATE_DEFAULTS = {
  [CALLEE_OUTPUT.functionArn]: "",
  [CALLEE_OUTPUT.invokerRoleArn]: "",
  [CALLEE_OUTPUT.externalIdRequired]: "missing",
} as const;

/** Account A: the caller function, allowed to assume the callee's invoker role and nothing else in account B. */
export class CallerStack extends AccountStack {
  readonly codeBucket: EncryptedBucket;
  readonly caller: VpcFunction;
  readonly calleeState: DataTerraformRemoteStateS3;

  constructor(scope: Construct, id: string, config: CrossAccountConfig) {
    super(scope, id, config, "caller");
    const { partition, accountId, names } = this;

    // Read with account A's own credentials, exactly the key the callee stack writes.
    // An output the state lacks reads as its default, so the preconditions below (not "Unsupported attribute") report it;
    // Terraform uses `defaults` when the state is empty or lacks an output: https://developer.hashicorp.com/terraform/language/state/remote-state-data
    this.calleeState = new DataTerraformRemoteStateS3(this, "callee-state", {
      ...stateSettings(config, "caller", names.calleeStateKey),
      defaults: CALLEE_STATE_DEFAULTS,
    });
    const calleeFunctionArn = this.calleeState.getString(CALLEE_OUTPUT.functionArn);
    const invokerRoleArn = this.calleeState.getString(CALLEE_OUTPUT.invokerRoleArn);

    this.codeBucket = new EncryptedBucket(this, "code-bucket", {
      bucketName: names.callerCodeBucket,
      purpose: "the caller function's code",
    });
    const code = new FunctionPackage(this, "caller-code", { sourceName: "caller", codeBucket: this.codeBucket });

    this.caller = new VpcFunction(this, "caller", {
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
    const state = `s3://${config.stateBucket}/${names.calleeStateKey}`;
    const read = (output: string) => `data.terraform_remote_state.${this.calleeState.friendlyUniqueId}.outputs.${output}`;
    const calleeFunctionArnExpected = `arn:${partition}:lambda:${config.region}:${config.calleeAccountId}:function:${names.calleeFunctionName}`;
    const externalIdRequired = config.externalId !== undefined;
    const redeploy = "deploy the callee stack with the same configuration first";
    assumePolicy.addOverride("lifecycle.precondition", [
      {
        condition: `\${${read(CALLEE_OUTPUT.invokerRoleArn)} == "${names.invokerRoleArn}"}`,
        error_message:
          `The callee state at ${state} does not describe invoker role ${names.invokerRoleArn}: its ${CALLEE_OUTPUT.invokerRoleArn} is ` +
          `"\${${read(CALLEE_OUTPUT.invokerRoleArn)}}" ("" when the state has no such output). Fix: ${redeploy}.`,
      },
      {
        condition: `\${${read(CALLEE_OUTPUT.functionArn)} == "${calleeFunctionArnExpected}"}`,
        error_message:
          `The callee state at ${state} does not describe callee function ${calleeFunctionArnExpected}: its ${CALLEE_OUTPUT.functionArn} is ` +
          `"\${${read(CALLEE_OUTPUT.functionArn)}}" ("" when the state has no such output). Fix: ${redeploy}.`,
      },
      {
        condition: `\${${read(CALLEE_OUTPUT.externalIdRequired)} == ${externalIdRequired}}`,
        error_message:
          `The callee state at ${state} has ${CALLEE_OUTPUT.externalIdRequired} = \${${read(CALLEE_OUTPUT.externalIdRequired)}}, but this caller ` +
          `expects ${externalIdRequired} (it is configured ${externalIdRequired ? "with" : "without"} an externalId). ` +
          `If that value is true or false, externalId is set on one side only: give the caller and callee stacks the same externalId setting. ` +
          `If it is "${CALLEE_STATE_DEFAULTS[CALLEE_OUTPUT.externalIdRequired]}", the state has no such output. Either way, ${redeploy}.`,
      },
    ]);

    new TerraformOutput(this, CALLER_OUTPUT.functionArn, { value: this.caller.function.arn });
    new TerraformOutput(this, CALLER_OUTPUT.functionName, { value: this.caller.function.functionName });
    new TerraformOutput(this, CALLER_OUTPUT.executionRoleArn, { value: this.caller.role.arn });
  }
}
