import type { EvaluationResult } from "../../core/iam/authorize";

/** The VPC endpoint a request passed (sent from a function's VPC through an interface or gateway endpoint of it; see network.ts). */
export interface AuditedEndpoint {
  /** Its stand-in id (vpce-...): aws:SourceVpce. */
  readonly id: string;
  /** The service it is an endpoint of ("sts", "lambda"). */
  readonly service: string;
  /** Its VPC: aws:SourceVpc. */
  readonly vpcId: string;
  /** How its policy is named in decidedBy: "VPC endpoint policy of vpce-... (sts)". */
  readonly policyName: string;
  /** How its policy alone judged the request; undefined when the request was answered before any authorization. */
  readonly result?: EvaluationResult;
}

/** What the runtime decided, request by request: the demo prints it, tests and benchmarks count it. */
export interface AuditEvent {
  readonly seq: number;
  readonly time: string;
  readonly requestId: string;
  readonly service: "sts" | "iam" | "lambda" | "lambda-service" | "kms" | "s3" | "dynamodb";
  readonly action: string;
  /** The caller's ARN as AWS reports it (user, assumed-role session, or service name). */
  readonly principal: string;
  readonly principalAccount?: string;
  readonly resource?: string;
  readonly resourceAccount?: string;
  readonly outcome: "allowed" | "denied" | "error";
  /** AWS's error code when refused or failed. */
  readonly errorCode?: string;
  readonly message?: string;
  /** The statements that allowed or refused it (the endpoint policy's among them, named by its policyName). */
  readonly decidedBy: readonly string[];
  /** The VPC endpoint it passed; absent for a request from outside any VPC, or from a VPC without an endpoint for the service. */
  readonly vpcEndpoint?: AuditedEndpoint;
}

export type AuditListener = (event: AuditEvent) => void;

export class AuditLog {
  private readonly events: AuditEvent[] = [];
  private readonly listeners = new Set<AuditListener>();
  private seq = 0;

  /** Keeps the newest `limit` events; older ones are dropped so a long soak cannot grow memory without bound. */
  constructor(private readonly limit = 10_000) {}

  record(event: Omit<AuditEvent, "seq" | "time">): AuditEvent {
    const full: AuditEvent = { seq: ++this.seq, time: new Date().toISOString(), ...event };
    this.events.push(full);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
    for (const listener of this.listeners) listener(full);
    return full;
  }

  /** Events after `afterSeq` (0 = all kept). */
  since(afterSeq = 0): AuditEvent[] {
    return this.events.filter((e) => e.seq > afterSeq);
  }

  get lastSeq(): number {
    return this.seq;
  }

  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * One short line per decision, as `make local` prints it:
 * `ALLOW sts:AssumeRole <principal> -> <resource>`, `DENY lambda:InvokeFunction <principal> -> <resource> (<reason>)`,
 * `ERROR <action> <principal> -> <resource> (<code>)` for requests refused before any authorization (validation, throttling, faults);
 * each ending `via <vpce-id> (<service>)` when the request passed a VPC endpoint.
 */
export function formatDecision(e: AuditEvent): string {
  const verdict = e.outcome === "allowed" ? "ALLOW" : e.outcome === "denied" ? "DENY" : "ERROR";
  const target = e.resource !== undefined ? ` -> ${e.resource}` : "";
  const via = e.vpcEndpoint !== undefined ? ` via ${e.vpcEndpoint.id} (${e.vpcEndpoint.service})` : "";
  return `${verdict} ${e.action} ${e.principal}${target}${e.outcome === "allowed" ? "" : ` (${refusalReason(e)})`}${via}`;
}

function refusalReason(e: AuditEvent): string {
  if (e.outcome === "error") return e.errorCode ?? "error";
  if (e.decidedBy.length > 0) return e.decidedBy.join("; ");
  const because = e.message !== undefined ? /\bbecause (.*)$/.exec(e.message)?.[1] : undefined;
  return because ?? e.errorCode ?? "denied";
}
