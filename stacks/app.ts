import { App } from "cdktf";
import { CrossAccountConfig } from "../config/config";
import { BootstrapStack } from "./bootstrap-stack";
import { CalleeStack } from "./callee-stack";
import { CallerStack } from "./caller-stack";
import { resolveCallers } from "../config/callers";

export const STACK_NAMES = { bootstrap: "bootstrap", callee: "callee", caller: "caller" } as const;

/** Composes the stacks of a validated configuration into an app: bootstrap, callee, and one stack per caller. */
export function buildStacks(app: App, config: CrossAccountConfig) {
  const callerConfigs = resolveCallers(config);
  const bootstrap = new BootstrapStack(app, STACK_NAMES.bootstrap, config, callerConfigs);
  const callee = new CalleeStack(app, STACK_NAMES.callee, config, callerConfigs);
  const callers = callerConfigs.map((caller) => {
    const stack = new CallerStack(app, caller.stackName, config, caller);
    // `cdktf deploy caller callee` deploys the callee first, whatever order is typed.
    stack.addDependency(callee);
    return stack;
  });
  // The first caller: the only one with the shorthand or a one-entry list (its stack is "caller").
  return { bootstrap, callee, caller: callers[0], callers };
}

/** The first deploy of a real configuration (bootstrapOnly): the state bucket and key, before stateKmsKeyArn is known. */
export function buildBootstrapOnly(app: App, config: CrossAccountConfig) {
  return { bootstrap: new BootstrapStack(app, STACK_NAMES.bootstrap, config) };
}
