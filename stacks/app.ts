import { App } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { BootstrapStack } from "./bootstrap-stack";
import { CalleeStack } from "./callee-stack";
import { CallerStack } from "./caller-stack";

export const STACK_NAMES = { bootstrap: "bootstrap", callee: "callee", caller: "caller" } as const;

/** Composes the three stacks of a validated configuration into an app. */
export function buildStacks(app: App, config: CrossAccountConfig) {
  const bootstrap = new BootstrapStack(app, STACK_NAMES.bootstrap, config);
  const callee = new CalleeStack(app, STACK_NAMES.callee, config);
  const caller = new CallerStack(app, STACK_NAMES.caller, config);
  // `cdktf deploy caller callee` deploys the callee first, whatever order is typed.
  caller.addDependency(callee);
  return { bootstrap, callee, caller };
}

/** The first deploy of a real configuration (bootstrapOnly): the state bucket and key, before stateKmsKeyArn is known. */
export function buildBootstrapOnly(app: App, config: CrossAccountConfig) {
  return { bootstrap: new BootstrapStack(app, STACK_NAMES.bootstrap, config) };
}
