/**
 * Lambda entry point (handler string `index.handler`). Kept thin: everything
 * testable lives in the other modules of this folder.
 */
import { parseCallerConfig } from "./config";
import { createCallerHandler } from "./handler";

export type { CallerEvent, CallerResult, CallerSuccess, CallerFailure } from "./contract";
export type { CallerErrorCode } from "./errors";

// Runs once per container: a bad environment fails the cold start with a
// ConfigError naming every bad variable, instead of failing each request.
const config = parseCallerConfig(process.env);

export const handler = createCallerHandler(config);
