/**
 * The one root of every error meant for a person rather than a stack trace (as aws-cdk's ValidationError is):
 * a stable code a script can match on, and a message that names the problem and the fix. The entry points
 * (main.ts, local/start.ts and local/cli.ts, verify/cli.ts) print these and exit; anything else is a bug.
 */
export abstract class UserFacingError extends Error {
  /** Stable across releases: change a message freely, never a code. */
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function isUserFacing(err: unknown): err is UserFacingError {
  return err instanceof UserFacingError;
}
