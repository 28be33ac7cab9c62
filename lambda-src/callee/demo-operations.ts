/**
 * DEMO OPERATIONS: delete this file, the `fail`/`sleep` schemas in schema.ts and
 * their cases in handler.ts once you have seen error and timeout propagation work.
 */

/** Thrown on purpose; Lambda reports it to the caller as errorType "DemoFailure". */
export class DemoFailure extends Error {
  // Set explicitly: Lambda takes errorType from `name`, and minifiers rename classes.
  override readonly name = "DemoFailure";
}

export function demoFail(): never {
  throw new DemoFailure('Deliberate failure requested with operation "fail"');
}

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, then answers; longer than the function timeout makes Lambda report Sandbox.Timedout. */
export async function demoSleep(milliseconds: number, sleep: Sleep = realSleep): Promise<{ sleptMs: number }> {
  await sleep(milliseconds);
  return { sleptMs: milliseconds };
}
