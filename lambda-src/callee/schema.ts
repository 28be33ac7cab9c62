/**
 * The callee's input contract (keep README.md in this folder in sync).
 *
 * Every request is a JSON object with an `operation` discriminator, an optional
 * `correlationId` (1..128 chars; the caller always sets one) and an optional
 * `idempotencyKey` (1..128 chars; the caller always sets one, the same on every retry of
 * one request). Unknown fields are rejected so typos surface as `VALIDATION_FAILED`
 * instead of being ignored.
 *
 * `quote` — the example business operation:
 * ```json
 * {
 *   "operation": "quote",
 *   "items": [{ "sku": "ABC-123", "quantity": 2, "unitPriceCents": 1999 }],
 *   "currency": "EUR"
 * }
 * ```
 * - `items`: 1..100 entries
 *   - `sku`: 1..32 chars of `A-Z`, `0-9`, `-`
 *   - `quantity`: integer 1..1000
 *   - `unitPriceCents`: integer 0..10 000 000
 * - `currency`: `"EUR"` (default), `"USD"` or `"GBP"`
 *
 * DEMO operations (delete them, see demo-operations.ts):
 * - `{ "operation": "fail" }` throws a `DemoFailure` to show error propagation.
 * - `{ "operation": "sleep", "milliseconds": 0..900000 }` waits, then answers; for timeout demos.
 */
import { z } from "zod";
import { type FieldIssue, toFieldIssues } from "../shared/field-issues";

export const CURRENCIES = ["EUR", "USD", "GBP"] as const;
export type Currency = (typeof CURRENCIES)[number];

export const MAX_ITEMS = 100;
export const MAX_QUANTITY = 1000;
export const MAX_UNIT_PRICE_CENTS = 10_000_000;
// Lambda's longest timeout; anything above could never finish anyway.
export const MAX_SLEEP_MS = 900_000;

const correlationId = z.string().min(1).max(128).optional();
// Sent by the caller on every Invoke (see lambda-src/caller/contract.ts); accepted, not yet acted on.
const idempotencyKey = z.string().min(1).max(128).optional();

export const quoteItemSchema = z.strictObject({
  sku: z.string().regex(/^[A-Z0-9-]{1,32}$/, "must be 1-32 characters of A-Z, 0-9 and -"),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  unitPriceCents: z.number().int().min(0).max(MAX_UNIT_PRICE_CENTS),
});

export const quoteRequestSchema = z.strictObject({
  correlationId,
  idempotencyKey,
  operation: z.literal("quote"),
  items: z.array(quoteItemSchema).min(1).max(MAX_ITEMS),
  currency: z.enum(CURRENCIES).default("EUR"),
});

// DEMO operation: delete together with demoFail in demo-operations.ts.
export const failRequestSchema = z.strictObject({
  correlationId,
  idempotencyKey,
  operation: z.literal("fail"),
});

// DEMO operation: delete together with demoSleep in demo-operations.ts.
export const sleepRequestSchema = z.strictObject({
  correlationId,
  idempotencyKey,
  operation: z.literal("sleep"),
  milliseconds: z.number().int().min(0).max(MAX_SLEEP_MS),
});

export const calleeInputSchema = z.discriminatedUnion("operation", [quoteRequestSchema, failRequestSchema, sleepRequestSchema]);

export type QuoteItem = z.output<typeof quoteItemSchema>;
export type QuoteRequest = z.output<typeof quoteRequestSchema>;
export type CalleeInput = z.output<typeof calleeInputSchema>;

/** A bad field of the callee's input. */
export type ValidationIssue = FieldIssue;

export type ValidationResult =
  { readonly ok: true; readonly value: CalleeInput } | { readonly ok: false; readonly issues: ValidationIssue[] };

/** Validates any value (null, arrays, strings, numbers included). Never throws. */
export function validateCalleeInput(input: unknown): ValidationResult {
  try {
    const result = calleeInputSchema.safeParse(input);
    return result.success ? { ok: true, value: result.data } : { ok: false, issues: toFieldIssues(result.error) };
  } catch {
    // safeParse doesn't throw on JSON; this guards against exotic objects (throwing getters, proxies).
    return { ok: false, issues: [{ path: "(root)", message: "Input could not be read as a JSON object" }] };
  }
}

/** A correlation id from input that failed validation for other reasons, if it is itself valid. */
export function salvageCorrelationId(input: unknown): string | undefined {
  try {
    if (typeof input !== "object" || input === null) return undefined;
    return correlationId.safeParse((input as Record<string, unknown>).correlationId).data;
  } catch {
    return undefined;
  }
}
