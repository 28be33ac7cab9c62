import { Construct } from "constructs";
import { DataTerraformRemoteStateS3, TerraformOutput } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { EncryptedBucket } from "../constructs/encrypted-code-bucket";
import { FunctionPackage } from "../constructs/function-package";
import { VpcFunction } from "../constructs/vpc-function";
import type { ResolvedCaller } from "../config/callers";
import { AccountStack, accessWith, targetStateSettings } from "./account-stack";
import { CALLEE_ALIAS, CALLEE_OUTPUT, CALLER_OUTPUT } from "./outputs";
import { functionEgress } from "./network";
import { InterfaceEndpoints } from "../constructs/interface-endpoints";
import type { ConditionBlock } from "../constructs/iam-policy";

/**
 * What the caller reads for a callee output its state lacks: values no precondition accepts, shown in
 * the precondition's message ("" is never an ARN; "missing" is neither true nor false, and Terraform's
 * == does not convert between types).
 */
export function calleeStateDefaults(caller: Pick<ResolvedCaller, "outputs">): Record<string, string> {
  return {
    [CALLEE_OUTPUT.functionArn]: "",
    [CALLEE_OUTPUT.aliasArn]: "",
    [caller.outputs.invokerRoleArn]: "",
    [caller.outputs.externalIdRequired]: MISSING_OUTPUT,
  };
}

/** What a missing boolean output reads as: neither true nor false. */
export const MISSING_OUTPUT = "missing";

/** A caller's account: its function, allowed to assume its own invoker role in the callee's account and nothing else there. */
export class CallerStack extends AccountStack {
  readonly codeBucket: EncryptedBucket;
  readonly caller: VpcFunction;
  readonly calleeState: DataTerraformRemoteStateS3;
  readonly callerConfig: ResolvedCaller;
  /** The STS and Lambda endpoints, when the caller's vpcEndpoints is 'create'. */
  readonly endpoints?: InterfaceEndpoints;

  constructor(scope: Construct, id: string, config: CrossAccountConfig, caller: ResolvedCaller) {
    const access = accessWith(config, "caller", caller);
    super(scope, id, config, { side: "caller", accountId: caller.accountId, access, stateKey: caller.stateKey });
    this.callerConfig = caller;
    const { partition, accountId, names } = this;
    const defaults = calleeStateDefaults(caller);

    // Read with account A's own credentials, exactly the key the callee stack writes.
    // An output the state lacks reads as its default, so the preconditions below (not "Unsupported attribute") report it;
    // Terraform uses `defaults` when the state is empty or lacks an output: https://developer.hashicorp.com/terraform/language/state/remote-state-data
    this.calleeState = new DataTerraformRemoteStateS3(this, "callee-state", {
      ...targetStateSettings(config, access, names.calleeStateKey),
      defaults,
    });
    const calleeAliasArn = this.calleeState.getString(CALLEE_OUTPUT.aliasArn);
    const invokerRoleArn = this.calleeState.getString(caller.outputs.invokerRoleArn);

    this.codeBucket = new EncryptedBucket(this, "code-bucket", {
      bucketName: caller.codeBucket,
      purpose: "the caller function's code",
    });
    const code = new FunctionPackage(this, "caller-code", { sourceName: "caller", codeBucket: this.codeBucket });

    this.caller = new VpcFunction(this, "caller", {
      functionName: caller.functionName,
      roleName: caller.roleName,
      description: `Caller in account ${accountId}; invokes ${names.calleeFunctionName}:${CALLEE_ALIAS} in account ${config.calleeAccountId}`,
      code,
      vpcId: caller.vpcId,
      subnetIds: caller.subnetIds,
      egress: functionEgress(caller.network, config.egressCidrBlocks, true),
      memoryMb: caller.memoryMb,
      timeoutSeconds: caller.timeoutSeconds,
      reservedConcurrency: caller.reservedConcurrency,
      architecture: config.architecture,
      logRetentionDays: config.logRetentionDays,
      environment: {
        CALLEE_FUNCTION_ARN: calleeAliasArn,
        INVOKER_ROLE_ARN: invokerRoleArn,
        ...(caller.externalId !== undefined ? { INVOKER_EXTERNAL_ID: caller.externalId } : {}),
        // An idempotent callee answers a repeated key with its stored answer: an Invoke whose outcome is unknown may be sent again.
        ...(config.calleeIdempotency === true ? { CALLEE_IDEMPOTENT: "true" } : {}),
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
    const calleeAliasArnExpected = `${calleeFunctionArnExpected}:${CALLEE_ALIAS}`;
    const externalIdRequired = caller.externalId !== undefined;
    const roleKey = caller.outputs.invokerRoleArn;
    const externalKey = caller.outputs.externalIdRequired;
    const redeploy = "deploy the callee stack with the same configuration first";
    assumePolicy.addOverride("lifecycle.precondition", [
      {
        condition: `\${${read(roleKey)} == "${caller.invokerRoleArn}"}`,
        error_message:
          `The callee state at ${state} does not describe invoker role ${caller.invokerRoleArn}: its ${roleKey} is ` +
          `"\${${read(roleKey)}}" ("" when the state has no such output). Fix: ${redeploy}.`,
      },
      {
        condition: `\${${read(CALLEE_OUTPUT.functionArn)} == "${calleeFunctionArnExpected}"}`,
        error_message:
          `The callee state at ${state} does not describe callee function ${calleeFunctionArnExpected}: its ${CALLEE_OUTPUT.functionArn} is ` +
          `"\${${read(CALLEE_OUTPUT.functionArn)}}" ("" when the state has no such output). Fix: ${redeploy}.`,
      },
      {
        condition: `\${${read(CALLEE_OUTPUT.aliasArn)} == "${calleeAliasArnExpected}"}`,
        error_message:
          `The callee state at ${state} does not describe alias ${calleeAliasArnExpected}: its ${CALLEE_OUTPUT.aliasArn} is ` +
          `"\${${read(CALLEE_OUTPUT.aliasArn)}}" ("" when the state has no such output, as before the callee published versions). Fix: ${redeploy}.`,
      },
      {
        condition: `\${${read(externalKey)} == ${externalIdRequired}}`,
        error_message:
          `The callee state at ${state} has ${externalKey} = \${${read(externalKey)}}, but this caller ` +
          `expects ${externalIdRequired} (it is configured ${externalIdRequired ? "with" : "without"} an externalId). ` +
          `If that value is true or false, externalId is set on one side only: give the caller and callee stacks the same externalId setting. ` +
          `If it is "${MISSING_OUTPUT}", the state has no such output. Either way, ${redeploy}.`,
      },
    ]);

    new TerraformOutput(this, CALLER_OUTPUT.functionArn, { value: this.caller.function.arn });
    new TerraformOutput(this, CALLER_OUTPUT.functionName, { value: this.caller.function.functionName });
    new TerraformOutput(this, CALLER_OUTPUT.executionRoleArn, { value: this.caller.role.arn });

    if (caller.network.mode === "create") {
      const org: ConditionBlock =
        config.organizationId !== undefined ? { StringEquals: { "aws:PrincipalOrgID": config.organizationId } } : {};
      // Endpoint policies as AWS's data-perimeter examples write them: any principal, narrowed by conditions to the one intended.
      this.endpoints = new InterfaceEndpoints(this, "endpoints", {
        name: caller.functionName,
        vpcId: caller.vpcId,
        subnetIds: caller.subnetIds,
        clientSecurityGroupIds: [this.caller.securityGroup.id],
        endpoints: [
          {
            service: "sts",
            policyStatements: [
              {
                Sid: "CallerRoleAssumesItsInvokerRoleOnly",
                Effect: "Allow",
                Principal: "*",
                Action: "sts:AssumeRole",
                Resource: caller.invokerRoleArn,
                Condition: { ArnEquals: { "aws:PrincipalArn": caller.roleArn }, ...org },
              },
            ],
          },
          {
            service: "lambda",
            policyStatements: [
              {
                Sid: "InvokerRoleInvokesCalleeAliasOnly",
                Effect: "Allow",
                Principal: "*",
                Action: "lambda:InvokeFunction",
                Resource: calleeAliasArnExpected,
                Condition: { ArnEquals: { "aws:PrincipalArn": caller.invokerRoleArn }, ...org },
              },
            ],
          },
        ],
      });
      new TerraformOutput(this, CALLER_OUTPUT.endpointSecurityGroupId, { value: this.endpoints.securityGroup.id });
    }
  }
}
