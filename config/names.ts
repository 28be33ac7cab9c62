import { partitionOf } from "../core/arn";
import { CrossAccountConfig } from "./config";

/**
 * Every name and ARN that one stack needs to know of the other, derived from
 * configuration alone. Deterministic names let the callee be deployed first
 * (its trust policy names the caller's role before that role exists) and keep
 * working when the caller's role is re-created.
 */
export interface CrossAccountNames {
  readonly callerFunctionName: string;
  readonly callerRoleName: string;
  readonly callerRoleArn: string;
  readonly calleeFunctionName: string;
  readonly calleeRoleName: string;
  readonly calleeRoleArn: string;
  /** The callee's idempotency records (with calleeIdempotency). */
  readonly calleeIdempotencyTable: string;
  readonly invokerRoleName: string;
  readonly invokerRoleArn: string;
  readonly callerCodeBucket: string;
  readonly calleeCodeBucket: string;
  readonly calleeStateKey: string;
  readonly callerStateKey: string;
}

export { partitionOf };

export function namesFor(config: CrossAccountConfig): CrossAccountNames {
  const base = `${config.namePrefix}-${config.environment}`;
  const partition = partitionOf(config.region);
  const callerRoleName = `${base}-caller-exec`;
  const invokerRoleName = `${base}-callee-invoker`;
  return {
    callerFunctionName: `${base}-caller`,
    callerRoleName,
    callerRoleArn: `arn:${partition}:iam::${config.callerAccountId}:role/${callerRoleName}`,
    calleeFunctionName: `${base}-callee`,
    calleeRoleName: `${base}-callee-exec`,
    calleeRoleArn: `arn:${partition}:iam::${config.calleeAccountId}:role/${base}-callee-exec`,
    calleeIdempotencyTable: `${base}-callee-idempotency`,
    invokerRoleName,
    invokerRoleArn: `arn:${partition}:iam::${config.calleeAccountId}:role/${invokerRoleName}`,
    callerCodeBucket: `${base}-code-${config.callerAccountId}-${config.region}`,
    calleeCodeBucket: `${base}-code-${config.calleeAccountId}-${config.region}`,
    calleeStateKey: `${config.stateKeyPrefix}/callee.tfstate`,
    callerStateKey: `${config.stateKeyPrefix}/caller.tfstate`,
  };
}
