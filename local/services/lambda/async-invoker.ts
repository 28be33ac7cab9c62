/**
 * Event (asynchronous) invocations: Lambda answers 202 at once, runs the function in the
 * background, retries a failure `maximum_retry_attempts` times, and sends what is left to the
 * on-failure destination with the execution role's permissions. The settings are those of the
 * event-invoke config of the qualifier invoked (the unqualified function's for an unqualified call),
 * else Lambda's defaults.
 *
 * AWS waits about one and then two minutes between retries; the local runtime waits
 * `retryDelayMs` times the attempt number so a demo or test sees the outcome in seconds.
 */
import { accountOf, serviceOf } from "../../../core";
import { randomUUID } from "crypto";
import { ThrottledError, type InvokeOutcome } from "../../exec/function-pool";
import type { FunctionModel } from "../../../core/model/types";
import { LAMBDA_DEFAULTS } from "../../../core/model/functions";
import { LATEST, type FunctionVersions, type ResolvedFunction } from "./versions";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";

/** AWS's destination record ("version 1.0") for asynchronous invocations. */
export interface DestinationRecord {
  readonly version: "1.0";
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: "Success" | "RetriesExhausted" | "EventAgeExceeded";
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly responsePayload: unknown;
}

export interface UndeliveredRecord {
  readonly destination: string | undefined;
  readonly reason: string;
  readonly record: DestinationRecord;
}

/** The action a destination's ARN needs, by service. */
function destinationAction(arn: string): string | undefined {
  const service = serviceOf(arn);
  return { sqs: "sqs:SendMessage", sns: "sns:Publish", lambda: "lambda:InvokeFunction", events: "events:PutEvents" }[service];
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    return buf.toString("utf8");
  }
}

/** Kept per destination, and undelivered, newest last: a long run must not grow without bound. */
export const MAX_RECORDS_KEPT = 10_000;
/** Events waiting or running at once; beyond it Invoke answers TooManyRequestsException. */
export const MAX_PENDING_EVENTS = 50_000;

export class AsyncInvoker {
  /** Records delivered to each destination ARN, oldest first. */
  readonly destinations = new Map<string, DestinationRecord[]>();
  /** Outcomes that reached no destination (none configured, or the execution role may not send there). */
  readonly undelivered: UndeliveredRecord[] = [];
  /** Records ever delivered, by destination (the lists above keep only the newest). */
  readonly delivered = new Map<string, number>();
  /** Ever, not just what the lists above still hold: a soak counts every event with these. */
  readonly counts = { queued: 0, succeeded: 0, failed: 0, undelivered: 0 };
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly accounts: LocalAccounts,
    private readonly versions: FunctionVersions,
    private readonly audit: AuditLog,
    private readonly options: { retryDelayMs: number },
  ) {}

  /** False when the queue is full (the caller answers 429). */
  enqueue(target: ResolvedFunction, payload: Buffer, requestId: string): boolean {
    if (this.pending >= MAX_PENDING_EVENTS) return false;
    this.pending++;
    this.counts.queued++;
    void this.run(target, payload, requestId).finally(() => {
      this.pending--;
      if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
    return true;
  }

  /** Resolves when every queued event has completed or reached its destination. */
  whenIdle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get inFlight(): number {
    return this.pending;
  }

  close(): void {
    this.closed = true;
  }

  private async run(target: ResolvedFunction, payload: Buffer, requestId: string): Promise<void> {
    const { fn, qualifier } = target;
    const config = asyncConfigFor(fn, qualifier);
    const maxAttempts = 1 + (config?.maximumRetryAttempts ?? LAMBDA_DEFAULTS.maximumRetryAttempts);
    const maxAgeMs = (config?.maximumEventAgeSeconds ?? LAMBDA_DEFAULTS.maximumEventAgeSeconds) * 1000;
    const queuedAt = Date.now();
    const event: QueuedEvent = { target, config, payload, requestId };
    let attempts = 0;
    let last: InvokeOutcome | undefined;
    let ran = target.version.version;
    while (attempts < maxAttempts && !this.closed) {
      if (Date.now() - queuedAt > maxAgeMs) return this.finish(event, "EventAgeExceeded", attempts, last, ran);
      // Each attempt runs what the qualifier names then: an alias moved meanwhile sends the retry to its new version.
      const version = this.versions.resolve(fn.arn, qualifier)?.version ?? target.version;
      try {
        // Each attempt gets its own request id in AWS's logs; the record keeps the original.
        last = await version.pool.invoke({
          requestId: attempts === 0 ? requestId : randomUUID(),
          payload,
          tailLogs: false,
          invokedFunctionArn: target.invokedArn,
        });
        attempts++;
        ran = version.version;
      } catch (err) {
        if (err instanceof ThrottledError) {
          // Lambda keeps a throttled event queued (without counting an attempt) until it runs or ages out.
          await delay(Math.max(this.options.retryDelayMs, 10));
          continue;
        }
        attempts++;
        ran = version.version;
        last = {
          kind: "function-error",
          functionError: "Unhandled",
          payload: Buffer.from(JSON.stringify({ errorType: "ServiceException", errorMessage: (err as Error).message })),
          durationMs: 0,
          coldStart: false,
        };
      }
      if (last.kind === "success") return this.finish(event, "Success", attempts, last, ran);
      if (attempts < maxAttempts) await delay(this.options.retryDelayMs * attempts);
    }
    return this.finish(event, "RetriesExhausted", attempts, last, ran);
  }

  private keepUndelivered(entry: UndeliveredRecord): void {
    this.counts.undelivered++;
    this.undelivered.push(entry);
    if (this.undelivered.length > MAX_RECORDS_KEPT) this.undelivered.shift();
  }

  private async finish(
    event: QueuedEvent,
    condition: DestinationRecord["requestContext"]["condition"],
    attempts: number,
    outcome: InvokeOutcome | undefined,
    executedVersion: string,
  ): Promise<void> {
    const { target, config, payload, requestId } = event;
    const { fn } = target;
    if (condition === "Success") this.counts.succeeded++;
    else this.counts.failed++;
    const record: DestinationRecord = {
      version: "1.0",
      timestamp: new Date().toISOString(),
      // The function and qualifier invoked (AWS's examples show <arn>:$LATEST for an unqualified call; that an alias call
      // shows <arn>:<alias> is not confirmed against AWS), and the version that ran.
      requestContext: { requestId, functionArn: `${fn.arn}:${target.qualifier ?? LATEST}`, condition, approximateInvokeCount: attempts },
      requestPayload: parseJson(payload),
      responseContext: {
        statusCode: 200,
        executedVersion,
        ...(outcome?.functionError !== undefined ? { functionError: outcome.functionError } : {}),
      },
      responsePayload: outcome ? parseJson(outcome.payload) : null,
    };
    const destination = condition === "Success" ? config?.onSuccessDestination : config?.onFailureDestination;
    if (destination === undefined) {
      const whose = config ? "the event-invoke config" : `${target.invokedArn} (no event-invoke config applies: Lambda's defaults)`;
      if (condition !== "Success") this.keepUndelivered({ destination, reason: `${whose} has no on-failure destination`, record });
      return;
    }
    const action = destinationAction(destination);
    const role = this.accounts.role(fn.roleArn);
    if (!action || !role) {
      this.keepUndelivered({
        destination,
        reason: !action ? `destination type of ${destination} is not modelled` : `execution role ${fn.roleArn} is not in the stacks`,
        record,
      });
      return;
    }
    // Lambda delivers with the function's execution role: the role must be allowed to send there.
    const principal = this.accounts.sessionPrincipal(role, fn.name, false);
    const decision = await this.accounts.authorizer.authorize({
      principal,
      action,
      resourceArn: destination,
      resourceAccountId: accountOf(destination),
      region: fn.region,
    });
    this.audit.record({
      requestId,
      service: "lambda-service",
      action,
      principal: principal.arn,
      principalAccount: principal.accountId,
      resource: destination,
      resourceAccount: accountOf(destination),
      outcome: decision.allowed ? "allowed" : "denied",
      message: `${condition} record of ${fn.name} after ${attempts} attempt(s)`,
      decidedBy: decision.allowed ? decision.allowedBy : decision.deniedBy,
    });
    if (!decision.allowed) {
      this.keepUndelivered({ destination, reason: `${principal.arn} may not ${action} on ${destination} ${decision.reason}`, record });
      return;
    }
    const list = this.destinations.get(destination) ?? [];
    list.push(record);
    if (list.length > MAX_RECORDS_KEPT) list.shift();
    this.delivered.set(destination, (this.delivered.get(destination) ?? 0) + 1);
    this.destinations.set(destination, list);
  }
}

/** An Event invocation as queued: what it names, the settings that apply, and the event. */
interface QueuedEvent {
  readonly target: ResolvedFunction;
  readonly config: FunctionModel["asyncConfig"];
  readonly payload: Buffer;
  readonly requestId: string;
}

/**
 * The event-invoke config an Event invocation uses: the one put on the qualifier invoked (an alias, a version,
 * or the unqualified function, which is $LATEST's), else none, and Lambda's defaults apply: 2 retries, 6 hours,
 * no destination (https://docs.aws.amazon.com/lambda/latest/api/API_PutFunctionEventInvokeConfig.html:
 * "Configures options for asynchronous invocation on a function, version, or alias").
 */
export function asyncConfigFor(fn: FunctionModel, qualifier: string | undefined): FunctionModel["asyncConfig"] {
  const config = fn.asyncConfig;
  if (!config) return undefined;
  const invoked = qualifier === undefined || qualifier === LATEST ? undefined : qualifier;
  return config.qualifier === invoked ? config : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
