import { UserFacingError } from "../../config/user-facing-error";

/** Why the local runtime refuses to start (or a profile to be named): a message a person can act on. */
export class LocalRuntimeError extends UserFacingError {
  readonly code = "LOCAL_RUNTIME_REFUSED";

  constructor(message: string) {
    super(message);
  }
}
