/**
 * Lambda entry point (handler string `index.handler`). Kept thin: validation is in
 * schema.ts, your logic in business-logic.ts, the envelope in handler.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createCalleeHandler } from "./handler";
import { idempotencySettingsFrom } from "./idempotency";

export type { CalleeKeyReused, CalleeResponse, CalleeSuccess, CalleeValidationFailure } from "./handler";
export type { CalleeInput, QuoteRequest } from "./schema";

// Read once per container: a wrong idempotency environment fails the start, before any request runs.
const settings = idempotencySettingsFrom(process.env);

// One DynamoDB client per container, and only when the callee is idempotent.
export const handler = createCalleeHandler(settings ? { idempotency: { settings, client: new DynamoDBClient({}) } } : {});
