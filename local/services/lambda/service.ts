/**
 * Lambda Invoke: authorization by the simulator on the ARN as called, then the version the qualifier names
 * runs its zip in a warm child process of its own.
 */
import type { EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import { ThrottledError, type InvokeOutcome } from "../../exec/function-pool";
import { RESET_CONNECTION, type WireResponse } from "../../wire/response";
import { lambdaErrorResponse } from "./errors";
import { invokeSuccessResponse, type InvocationType, type ParsedInvoke } from "./wire";
import type { LocalAccounts } from "../../server/accounts";
import { authorizeFunctionCall } from "./function-access";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, type RequestNetwork } from "../../server/network";
import type { AsyncInvoker } from "./async-invoker";
import type { FunctionVersions, ResolvedFunction } from "./versions";

export interface LambdaCall {
  readonly caller: Principal;
  readonly region: string;
  readonly invoke: ParsedInvoke;
  readonly requestId: string;
  /** The VPC the call is sent from and the Lambda endpoint it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

/** Lambda answers this error; the function is not run. */
export interface LambdaErrorFault {
  readonly kind?: "error";
  readonly code: string;
  readonly status: number;
  readonly message: string;
  /** The body's "Reason", e.g. ConcurrentInvocationLimitExceeded on TooManyRequestsException. */
  readonly reason?: string;
}

/** The function "returned" these bytes: 200 with them as the payload; the function is not run. */
export interface ReturnedPayloadFault {
  readonly kind: "returns";
  readonly payload: Buffer;
}

/** The TCP connection is reset before any answer; the function is not run. */
export interface ConnectionResetFault {
  /** "reset": before the function runs; "reset-after-run": the function runs, then the connection drops before its answer. */
  readonly kind: "reset" | "reset-after-run";
}

/** An Event invocation is queued twice: Lambda's asynchronous delivery is at least once, so a function may receive an event twice. */
export interface DuplicateDeliveryFault {
  readonly kind: "deliver-twice";
}

export type LambdaFault = LambdaErrorFault | ReturnedPayloadFault | ConnectionResetFault | DuplicateDeliveryFault;

export interface LambdaHooks {
  /** Fault injection (off by default, see faults.ts): consulted for every authorized Invoke of an existing function. */
  readonly fault?: (
    functionArn: string,
    invocationType: InvocationType,
    stage?: "before-run" | "after-run" | "enqueue",
  ) => LambdaFault | undefined;
}

/** How one Invoke's outcomes are recorded in the audit log and, when refused, answered. */
interface InvokeAnswers {
  /** How the endpoint's policy judged the call, once authorized: every later record names it. */
  judgedByEndpoint(result: EvaluationResult | undefined): void;
  record(
    outcome: "allowed" | "denied" | "error",
    resource: string,
    extra?: { errorCode?: string; message?: string; decidedBy?: readonly string[]; resourceAccount?: string },
  ): void;
  fail(
    code: string,
    status: number,
    message: string,
    resource: string,
    decidedBy?: readonly string[],
    resourceAccount?: string,
    extraFields?: Record<string, string>,
  ): WireResponse;
}

export class LambdaService {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly versions: FunctionVersions,
    private readonly audit: AuditLog,
    /** Where Event invocations are queued (the runtime owns it: it reports on them and stops them). */
    private readonly async: AsyncInvoker,
    private readonly hooks: LambdaHooks = {},
  ) {}

  async handle(call: LambdaCall): Promise<WireResponse | typeof RESET_CONNECTION> {
    const { requestId, invoke } = call;
    const answer = this.answersFor(call);
    const access = await authorizeFunctionCall(this.accounts, this.versions, {
      caller: call.caller,
      action: "lambda:InvokeFunction",
      functionName: invoke.functionName,
      ...(invoke.qualifier !== undefined ? { qualifier: invoke.qualifier } : {}),
      region: call.region,
      ...(call.network !== undefined ? { network: call.network } : {}),
    });
    answer.judgedByEndpoint(access.ok ? access.value.endpointResult : access.error.endpointResult);
    if (!access.ok) {
      const refused = access.error;
      return answer.fail(refused.code, refused.status, refused.message, refused.resource, refused.decidedBy, refused.resourceAccount);
    }
    const { fn, resourceArn, allowedBy, target } = access.value;
    const faulted = this.injectedFault(call, target, answer);
    if (faulted !== undefined) return faulted;
    if (fn.reservedConcurrency === 0) {
      return answer.fail("TooManyRequestsException", 429, "Rate Exceeded.", resourceArn, [], fn.accountId, {
        Reason: "ReservedFunctionConcurrentInvocationLimitExceeded",
      });
    }

    switch (invoke.invocationType) {
      case "DryRun":
        answer.record("allowed", resourceArn, { decidedBy: allowedBy, resourceAccount: fn.accountId, message: "DryRun" });
        return invokeSuccessResponse({ statusCode: 204 }, requestId);
      case "Event":
        // "Even if your function doesn't return an error, it's possible for it to receive the same event multiple times"
        // (Lambda developer guide, "Asynchronous invocation"): the fault queues the one event twice, with its request id.
        if (this.hooks.fault?.(fn.arn, "Event", "enqueue")?.kind === "deliver-twice") this.async.enqueue(target, invoke.payload, requestId);
        if (!this.async.enqueue(target, invoke.payload, requestId)) {
          return answer.fail(
            "TooManyRequestsException",
            429,
            "Rate Exceeded. (the local runtime's asynchronous queue is full)",
            resourceArn,
            [],
            fn.accountId,
            { Reason: "ConcurrentInvocationLimitExceeded" },
          );
        }
        answer.record("allowed", resourceArn, { decidedBy: allowedBy, resourceAccount: fn.accountId, message: "Event (queued)" });
        return invokeSuccessResponse({ statusCode: 202 }, requestId);
      case "RequestResponse": {
        answer.record("allowed", resourceArn, { decidedBy: allowedBy, resourceAccount: fn.accountId });
        const response = await this.invokeNow(call, target, answer);
        // The ambiguous case a client cannot tell from a reset before the run: the function ran, the answer was lost.
        if (this.hooks.fault?.(fn.arn, "RequestResponse", "after-run")?.kind === "reset-after-run") {
          answer.record("error", resourceArn, {
            errorCode: "ECONNRESET",
            message: "injected fault: connection reset after the function ran, before its answer",
            decidedBy: ["injected fault"],
            resourceAccount: fn.accountId,
          });
          return RESET_CONNECTION;
        }
        return response;
      }
    }
  }

  /** How this call's outcomes are recorded in the audit log and answered. */
  private answersFor(call: LambdaCall): InvokeAnswers {
    const { caller, requestId } = call;
    let endpointResult: EvaluationResult | undefined;
    const record: InvokeAnswers["record"] = (outcome, resource, extra = {}) =>
      this.audit.record({
        requestId,
        service: "lambda",
        action: "lambda:InvokeFunction",
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        outcome,
        decidedBy: extra.decidedBy ?? [],
        ...extra,
        ...auditedEndpoint(call.network, endpointResult),
      });
    const fail: InvokeAnswers["fail"] = (code, status, message, resource, decidedBy = [], resourceAccount, extraFields) => {
      record(code === "AccessDeniedException" ? "denied" : "error", resource, { errorCode: code, message, decidedBy, resourceAccount });
      return lambdaErrorResponse({ code, status, message, ...(extraFields ? { extraFields } : {}) }, requestId);
    };
    return { judgedByEndpoint: (result) => (endpointResult = result), record, fail };
  }

  /** The answer an injected fault gives instead of the function's, if one applies to this call. */
  private injectedFault(
    call: LambdaCall,
    target: ResolvedFunction,
    answer: InvokeAnswers,
  ): WireResponse | typeof RESET_CONNECTION | undefined {
    const { fn, invokedArn: resourceArn } = target;
    const fault = this.hooks.fault?.(fn.arn, call.invoke.invocationType);
    if (fault?.kind === "reset") {
      answer.record("error", resourceArn, {
        errorCode: "ECONNRESET",
        message: "injected fault: connection reset before an answer",
        decidedBy: ["injected fault"],
        resourceAccount: fn.accountId,
      });
      return RESET_CONNECTION;
    }
    // Event and DryRun answer no payload, so there is nothing to replace: they are served as usual.
    if (fault?.kind === "returns" && call.invoke.invocationType === "RequestResponse") {
      answer.record("allowed", resourceArn, {
        message: `injected fault: answered ${fault.payload.length} byte(s) as the function's payload`,
        decidedBy: ["injected fault"],
        resourceAccount: fn.accountId,
      });
      return invokeSuccessResponse({ statusCode: 200, payload: fault.payload, executedVersion: target.version.version }, call.requestId);
    }
    if (fault !== undefined && (fault.kind === undefined || fault.kind === "error")) {
      const extraFields = fault.reason ? { Reason: fault.reason } : undefined;
      return answer.fail(fault.code, fault.status, fault.message, resourceArn, ["injected fault"], fn.accountId, extraFields);
    }
    return undefined;
  }

  /** RequestResponse: runs the version in one of its warm environments and answers its payload. */
  private async invokeNow(call: LambdaCall, target: ResolvedFunction, answer: InvokeAnswers): Promise<WireResponse> {
    const { invoke } = call;
    const { fn, invokedArn: resourceArn, version } = target;
    let outcome: InvokeOutcome;
    try {
      outcome = await version.pool.invoke({
        requestId: call.requestId,
        payload: invoke.payload,
        ...(invoke.clientContext !== undefined ? { clientContext: invoke.clientContext } : {}),
        tailLogs: invoke.logType === "Tail",
        invokedFunctionArn: target.invokedArn,
      });
    } catch (err) {
      if (err instanceof ThrottledError) {
        // The runtime's own limits say so, as the full asynchronous queue does; AWS's say only "Rate Exceeded.".
        const message = err.detail !== undefined ? `Rate Exceeded. (${err.detail})` : "Rate Exceeded.";
        return answer.fail("TooManyRequestsException", 429, message, resourceArn, [], fn.accountId, { Reason: err.reason });
      }
      const message = `The local runtime could not run ${fn.name}: ${(err as Error).message}`;
      return answer.fail("ServiceException", 500, message, resourceArn, [], fn.accountId);
    }
    return invokeSuccessResponse(
      {
        statusCode: 200,
        payload: outcome.payload,
        // X-Amz-Executed-Version: the version that ran ("1" through an alias pointing at it, $LATEST unqualified) (API_Invoke).
        executedVersion: version.version,
        ...(outcome.functionError !== undefined ? { functionError: outcome.functionError } : {}),
        ...(outcome.logTail !== undefined ? { logTail: outcome.logTail } : {}),
      },
      call.requestId,
    );
  }
}
