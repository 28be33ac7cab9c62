/**
 * ============================================================================
 *  YOUR BUSINESS LOGIC GOES HERE.
 *
 *  This is THE place to put your own code. Keep it a pure function of the
 *  validated input (no AWS calls, no clock, no randomness) so it stays easy to
 *  test; the handler does validation, logging and the response envelope.
 *  When you change the input, change schema.ts (and README.md) with it.
 * ============================================================================
 */
import type { Currency, QuoteRequest } from "./schema";

export interface QuoteLine {
  readonly sku: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly lineTotalCents: number;
}

export interface Quote {
  readonly currency: Currency;
  readonly lines: readonly QuoteLine[];
  /** Sum of all quantities. */
  readonly totalQuantity: number;
  readonly totalCents: number;
}

/**
 * Example: prices a list of items. Integer cents only: the schema's limits
 * (100 items x 1000 x 10 000 000) keep every sum below 2^53, so it is exact.
 */
export function computeQuote(request: QuoteRequest): Quote {
  const lines = request.items.map((item) => ({
    sku: item.sku,
    quantity: item.quantity,
    unitPriceCents: item.unitPriceCents,
    lineTotalCents: item.quantity * item.unitPriceCents,
  }));
  return {
    currency: request.currency,
    lines,
    totalQuantity: lines.reduce((sum, line) => sum + line.quantity, 0),
    totalCents: lines.reduce((sum, line) => sum + line.lineTotalCents, 0),
  };
}
