/**
 * The caller's public contract: the event it accepts and the envelope it returns.
 * Keep README.md in this folder in sync with this file.
 */
import { z } from "zod";
import type { CallerError } from "./errors";
import { type FieldIssue, toFieldIssues } from "../shared/field-issues";

export const INVOCATION_TYPES = ["RequestResponse", "Event"] as const;
export type InvocationType = (typeof INVOCATION_TYPES)[number];

/**
 * Event accepted by the caller.
 *
 * ```json
 * { "correlationId": "order-42", "idempotencyKey": "order-42-quote", "invocationType": "RequestResponse",
 *   "payload": { "operation": "quote", "items": [] } }
 * ```
 *
 * - `correlationId` (optional, 1..128 chars): propagated to the callee and into every log line;
 *   defaults to the caller's own `context.awsRequestId`.
 * - `idempotencyKey` (optional, 1..128 chars): sent to the callee with every Invoke, the same on every
 *   SDK retry, so the callee can recognise a request it has already run; defaults to the correlation id.
 *   A client retrying an INVOKE_OUTCOME_UNKNOWN should send the same key (or the same correlationId).
 * - `invocationType` (optional): `"RequestResponse"` (default, waits for the answer) or
 *   `"Event"` (asynchronous; Lambda queues it and answers 202 with no payload).
 * - `payload` (optional JSON object, default `{}`): sent to the callee as `{ ...payload, correlationId, idempotencyKey }`
 *   (a `correlationId` or `idempotencyKey` inside `payload` is overwritten).
 *
 * Unknown top-level fields are rejected (they are usually typos). A `null`/absent event counts as `{}`.
 */
export const callerEventSchema = z.strictObject({
  correlationId: z.string().min(1).max(128).optional(),
  idempotencyKey: z.string().min(1).max(128).optional(),
  invocationType: z.enum(INVOCATION_TYPES).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});

export type CallerEvent = z.input<typeof callerEventSchema>;

/** A validated event with defaults applied. */
export interface NormalizedCallerEvent {
  readonly correlationId?: string;
  /** Absent: the correlation id is the key. */
  readonly idempotencyKey?: string;
  readonly invocationType: InvocationType;
  readonly payload: Record<string, unknown>;
}

/** Success envelope. `ok` is about the cross-account call; the callee's own verdict is inside `response`. */
export interface CallerSuccess {
  readonly ok: true;
  readonly correlationId: string;
  readonly invocationType: InvocationType;
  /** Lambda's StatusCode: 200 for RequestResponse, 202 for Event. */
  readonly statusCode: number;
  /** The callee's parsed JSON answer; `null` for Event. */
  readonly response: unknown;
  readonly requestIds: { readonly caller: string; readonly callee?: string };
}

export interface CallerFailure {
  readonly ok: false;
  readonly correlationId: string;
  readonly error: CallerError;
}

export type CallerResult = CallerSuccess | CallerFailure;

export type ParsedCallerEvent =
  { readonly ok: true; readonly event: NormalizedCallerEvent } | { readonly ok: false; readonly issues: FieldIssue[] };

/** Never throws. */
export function parseCallerEvent(event: unknown): ParsedCallerEvent {
  const result = callerEventSchema.safeParse(event ?? {});
  if (!result.success) return { ok: false, issues: toFieldIssues(result.error) };
  const { correlationId, idempotencyKey, invocationType = "RequestResponse", payload = {} } = result.data;
  return {
    ok: true,
    event: {
      ...(correlationId !== undefined ? { correlationId } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      invocationType,
      payload,
    },
  };
}

/** Keeps a usable correlation id from an event that failed validation for other reasons. */
export function salvageCorrelationId(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const candidate = (event as Record<string, unknown>).correlationId;
  return callerEventSchema.shape.correlationId.safeParse(candidate).data;
}
