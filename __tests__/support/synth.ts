import { App, Testing } from "cdktf";
import { CrossAccountConfig, DEMO_DEFAULTS, validateConfig } from "../../config/config";
import { buildStacks } from "../../stacks/app";

import { allResources } from "./terraform-json";

export { allResources, onlyResource, resourcesOf, type Json } from "./terraform-json";

export interface Policy {
  Version: string;
  Statement: Statement[];
}
export interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export function config(overrides: Partial<CrossAccountConfig> = {}): CrossAccountConfig {
  return validateConfig({ ...DEMO_DEFAULTS, ...overrides });
}

/** Synthesizes the three stacks of a configuration and returns each stack's Terraform JSON. */
export function synthAll(overrides: Partial<CrossAccountConfig> = {}) {
  const app: App = Testing.app();
  const stacks = buildStacks(app, config(overrides));
  return {
    stacks,
    bootstrap: Testing.synth(stacks.bootstrap),
    callee: Testing.synth(stacks.callee),
    caller: Testing.synth(stacks.caller),
    /** Every caller stack's Terraform JSON text, by stack name. */
    callers: new Map(stacks.callers.map((stack) => [stack.node.id, Testing.synth(stack)])),
  };
}

/** Every IAM-style policy document in a stack: role trust and inline policies, key, bucket and queue policies. */
export function allPolicies(synthesized: string): { where: string; policy: Policy }[] {
  const out: { where: string; policy: Policy }[] = [];
  for (const { type, id, body } of allResources(synthesized)) {
    for (const field of ["policy", "assume_role_policy"]) {
      if (typeof body[field] === "string") out.push({ where: `${type}.${id}.${field}`, policy: JSON.parse(body[field]) });
    }
  }
  return out;
}

export function statement(policy: Policy, sid: string): Statement {
  const found = policy.Statement.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid} in ${JSON.stringify(policy)}`);
  return found;
}

export const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
