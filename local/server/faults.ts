/**
 * Fault injection for the local runtime, off unless a plan is given (tests, `make local --fault`).
 *
 * A plan is an ordered list of rules. For each request a fault can apply to, the first rule that
 * matches and has not used up its `times` decides the answer; so `sts-throttle:2, sts-deny` throttles
 * the first two AssumeRole calls and denies every later one. Lambda faults hit the callee stack's
 * function only, so the caller itself is always invoked normally and can report what it saw.
 */
import { accessDeniedMessage } from "../../core/iam/authorize";
import type { AccountsModel } from "../../core/model/types";
import type { InvocationType } from "../services/lambda/wire";
import type { ServiceHooks } from "../services/definition";
import type { LambdaFault } from "../services/lambda/service";
import type { StsCall, StsFault } from "../services/sts/service";
import { UserFacingError } from "../../config/user-facing-error";

/** Every fault, with the one line `--help` shows for it. */
export const FAULTS = {
  "sts-throttle": "STS answers AssumeRole with Throttling (400, Rate exceeded), as STS throttles",
  "sts-deny": "STS refuses AssumeRole with AccessDenied (403)",
  "lambda-throttle": "Lambda answers Invoke of the callee with TooManyRequestsException (429)",
  "callee-not-json": "Invoke of the callee answers 200 with a payload that is not JSON",
  "connection-reset": "the connection of an Invoke of the callee is reset (TCP RST) before any answer",
  "connection-reset-after-run": "a RequestResponse Invoke of the callee runs it, then its connection is reset (TCP RST) before the answer",
  "event-delivered-twice": "an Event Invoke of the callee is queued twice, as Lambda's at-least-once asynchronous delivery may do",
} as const;

export type FaultName = keyof typeof FAULTS;

export interface FaultRule {
  readonly fault: FaultName;
  /** Apply to the first `times` matching requests only; undefined: to every one. */
  readonly times?: number;
}

export type FaultPlan = readonly FaultRule[];

/** The bytes `callee-not-json` answers as the callee's payload. */
export const NOT_JSON_PAYLOAD = "this is not JSON: injected by the local runtime's callee-not-json fault";

const MAX_TIMES = 1_000_000;

export class FaultSpecError extends UserFacingError {
  readonly code = "FAULT_SPEC_INVALID";

  constructor(message: string) {
    super(message);
  }
}

function isFaultName(name: string): name is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, name);
}

/** `name` or `name:N` (only the first N times), as `--fault` takes it. */
export function parseFaultRule(spec: string): FaultRule {
  const [name = "", count, ...rest] = spec.split(":");
  if (!isFaultName(name)) {
    throw new FaultSpecError(`unknown fault '${name}' in --fault ${spec}: the faults are ${Object.keys(FAULTS).join(", ")}`);
  }
  if (count === undefined) return { fault: name };
  const times = /^\d{1,7}$/.test(count) && rest.length === 0 ? Number(count) : NaN;
  if (!(times >= 1 && times <= MAX_TIMES)) {
    throw new FaultSpecError(
      `--fault ${spec}: the count after ':' must be an integer from 1 to ${MAX_TIMES} (how many times the fault applies), got '${spec.slice(name.length + 1)}'`,
    );
  }
  return { fault: name, times };
}

/** For logs: "sts-throttle (first 2 times), connection-reset (every time)". */
export function describeFaultPlan(plan: FaultPlan): string {
  return plan
    .map((r) => `${r.fault} (${r.times === undefined ? "every time" : `first ${r.times} time${r.times === 1 ? "" : "s"}`})`)
    .join(", ");
}

function stsFault(fault: FaultName, call: StsCall): StsFault | undefined {
  switch (fault) {
    case "sts-throttle":
      // What STS really answers when throttling AssumeRole (awsQuery, so 400 rather than 429).
      return { code: "Throttling", status: 400, message: "Rate exceeded" };
    case "sts-deny":
      return {
        code: "AccessDenied",
        status: 403,
        message: accessDeniedMessage(call.caller.arn, "sts:AssumeRole", call.params.RoleArn ?? "*"),
      };
    default:
      return undefined;
  }
}

function lambdaFault(fault: FaultName): LambdaFault | undefined {
  switch (fault) {
    case "lambda-throttle":
      return { code: "TooManyRequestsException", status: 429, message: "Rate Exceeded.", reason: "ConcurrentInvocationLimitExceeded" };
    case "callee-not-json":
      return { kind: "returns", payload: Buffer.from(NOT_JSON_PAYLOAD, "utf8") };
    case "connection-reset":
      return { kind: "reset" };
    case "connection-reset-after-run":
      return { kind: "reset-after-run" };
    case "event-delivered-twice":
      return { kind: "deliver-twice" };
    default:
      return undefined;
  }
}

const STS_FAULTS: ReadonlySet<FaultName> = new Set(["sts-throttle", "sts-deny"]);
const LAMBDA_FAULTS: ReadonlySet<FaultName> = new Set([
  "lambda-throttle",
  "callee-not-json",
  "connection-reset",
  "connection-reset-after-run",
  "event-delivered-twice",
]);
/** When each Lambda fault is consulted: once the function has run, when an Event is queued, or (the others) before it runs. */
const FAULT_STAGES: Partial<Record<FaultName, "after-run" | "enqueue">> = {
  "connection-reset-after-run": "after-run",
  "event-delivered-twice": "enqueue",
};

/** The hooks that carry out `plan` on the functions of `model`'s callee stack. */
export function faultHooks(plan: FaultPlan, model: AccountsModel): ServiceHooks {
  const callees = new Set([...model.functions.values()].filter((f) => f.source.stack === "callee").map((f) => f.arn));
  if (callees.size === 0 && plan.some((r) => LAMBDA_FAULTS.has(r.fault))) {
    throw new FaultSpecError(
      `the Lambda faults (${[...LAMBDA_FAULTS].join(", ")}) hit the callee stack's function, and these stacks have none`,
    );
  }
  const used = plan.map(() => 0);
  // The first rule that matches and still has uses left; each request uses up one.
  const take = (matches: (rule: FaultRule) => boolean): FaultName | undefined => {
    const i = plan.findIndex((rule, at) => matches(rule) && (rule.times === undefined || used[at] < rule.times));
    if (i < 0) return undefined;
    used[i] += 1;
    return plan[i].fault;
  };
  // An Event invocation has no payload to replace: callee-not-json leaves it alone (and keeps its count).
  const appliesTo = (rule: FaultRule, invocationType: InvocationType, stage: "before-run" | "after-run" | "enqueue") =>
    LAMBDA_FAULTS.has(rule.fault) &&
    (FAULT_STAGES[rule.fault] ?? "before-run") === stage &&
    ((rule.fault !== "callee-not-json" && rule.fault !== "connection-reset-after-run") || invocationType === "RequestResponse");
  return {
    sts: {
      fault: (action, call) => {
        if (action !== "AssumeRole") return undefined;
        const fault = take((rule) => STS_FAULTS.has(rule.fault));
        return fault && stsFault(fault, call);
      },
    },
    lambda: {
      fault: (functionArn, invocationType, stage = "before-run") => {
        if (!callees.has(functionArn)) return undefined;
        const fault = take((rule) => appliesTo(rule, invocationType, stage));
        return fault && lambdaFault(fault);
      },
    },
  };
}
