/**
 * Lambda entry point (handler string `index.handler`). Kept thin: validation is in
 * schema.ts, your logic in business-logic.ts, the envelope in handler.ts.
 */
import { createCalleeHandler } from "./handler";

export type { CalleeResponse, CalleeSuccess, CalleeValidationFailure } from "./handler";
export type { CalleeInput, QuoteRequest } from "./schema";

export const handler = createCalleeHandler();
