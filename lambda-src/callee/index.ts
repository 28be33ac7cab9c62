/**
 * Lambda entry point (handler string `index.handler`). Kept thin: validation is in
 * schema.ts, your logic in business-logic.ts, the envelope in handler.ts.
 */
import { createCalleeHandler } from "./handler";
import { idempotencySettingsFrom } from "./idempotency-settings";

export type { CalleeKeyReused, CalleeResponse, CalleeSuccess, CalleeValidationFailure } from "./handler";
export type { CalleeInput, QuoteRequest } from "./schema";

// Read once per container: a wrong idempotency environment fails the start, before any request runs.
const settings = idempotencySettingsFrom(process.env);

// Loaded only when the callee is idempotent (esbuild evaluates a require()d module when it is required), so the default
// callee's cold start does not pay for Powertools Idempotency and the DynamoDB client; one client per container.
export const handler = createCalleeHandler(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; a static import would be evaluated at start
  settings ? { idempotency: (require("./idempotency") as typeof import("./idempotency")).dynamoDbIdempotency(settings) } : {},
);
