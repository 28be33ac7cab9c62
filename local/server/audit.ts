/** What the runtime decided, request by request: the demo prints it, tests and benchmarks count it. */
export interface AuditEvent {
  readonly seq: number;
  readonly time: string;
  readonly requestId: string;
  readonly service: "sts" | "iam" | "lambda" | "lambda-service" | "kms" | "s3";
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
  /** The statements that allowed or refused it. */
  readonly decidedBy: readonly string[];
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
 * `ERROR <action> <principal> -> <resource> (<code>)` for requests refused before any authorization (validation, throttling, faults).
 */
export function formatDecision(e: AuditEvent): string {
  const verdict = e.outcome === "allowed" ? "ALLOW" : e.outcome === "denied" ? "DENY" : "ERROR";
  const target = e.resource !== undefined ? ` -> ${e.resource}` : "";
  return `${verdict} ${e.action} ${e.principal}${target}${e.outcome === "allowed" ? "" : ` (${refusalReason(e)})`}`;
}

function refusalReason(e: AuditEvent): string {
  if (e.outcome === "error") return e.errorCode ?? "error";
  if (e.decidedBy.length > 0) return e.decidedBy.join("; ");
  const because = e.message !== undefined ? /\bbecause (.*)$/.exec(e.message)?.[1] : undefined;
  return because ?? e.errorCode ?? "denied";
}
