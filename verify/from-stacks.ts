/** The access model of the synthesized stacks (cdktf.out or another --dir): no AWS, no Terraform. */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_RECORD_FILE } from "../config/load";
import { accountOf, type AccountsModel, loadAccountsModel, ModelError, stackNamesIn } from "../core";
import { CALLEE_OUTPUT, CALLER_OUTPUT } from "../stacks/outputs";
import { VerifyInputError, type AccessModel, type IntendedPath } from "./access-model";
import { cidrEgressOf } from "./network";

/** The callee's stack; the bootstrap stack (Terraform state) is outside the proof. */
export const CALLEE_STACK = "callee";
export const BOOTSTRAP_STACK = "bootstrap";
/** The stacks of the default (single-caller) configuration, in the order they are deployed; deployOrderOf gives any directory's. */
export const DEPLOY_ORDER = ["bootstrap", "callee", "caller"] as const;

/** The caller function's environment that names its own invoker role and what it invokes (lambda-src/caller/config.ts). */
const CALLER_ENV = { invokerRoleArn: "INVOKER_ROLE_ARN", calleeArn: "CALLEE_FUNCTION_ARN" } as const;

const isCallerStack = (name: string) => name === "caller" || name.startsWith("caller-");

interface ConfigRecord {
  readonly externalId?: string;
  readonly organizationId?: string;
  /** The callers list, in the configuration's order; absent for the single-caller shorthand. */
  readonly callers?: readonly { readonly name: string; readonly externalId?: string }[];
}

/** The caller stacks of a directory: in the configuration's order when it is recorded, else by name. */
function callerStacksIn(root: string, record: ConfigRecord): string[] {
  const order = (record.callers ?? []).map((c) => c.name);
  const rank = (stack: string) => {
    const i = order.indexOf(stack.replace(/^caller-/, ""));
    return i === -1 ? order.length : i;
  };
  return stackNamesIn(root)
    .filter(isCallerStack)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Every stack of a directory in the order they are deployed: bootstrap, the callee, then each caller (each reads the callee's state). */
export function deployOrderOf(dir: string): string[] {
  const root = path.resolve(dir);
  const names = stackNamesIn(root);
  return [...(names.includes(BOOTSTRAP_STACK) ? [BOOTSTRAP_STACK] : []), CALLEE_STACK, ...callerStacksIn(root, configRecordOf(root))];
}

export function accessModelFromStacks(dir: string): AccessModel {
  const root = path.resolve(dir);
  if (!fs.existsSync(root))
    throw new VerifyInputError(
      `${dir} does not exist: run \`make synth\` to create cdktf.out, or pass --dir with a cdktf output directory`,
    );
  if (!fs.statSync(root).isDirectory())
    throw new VerifyInputError(
      `${dir} is not a directory: pass --dir with a cdktf output directory (the one holding stacks/<name>/cdk.tf.json)`,
    );
  const record = configRecordOf(root);
  const callerStacks = callerStacksIn(root, record);
  let model: AccountsModel;
  try {
    // With no caller stack the model names what is there: the message says which stacks the directory holds.
    model = loadAccountsModel(root, { stacks: [...(callerStacks.length > 0 ? callerStacks : ["caller"]), CALLEE_STACK] });
  } catch (err) {
    if (err instanceof ModelError) throw new VerifyInputError(`cannot read the stacks in ${dir}: ${err.message}`);
    throw err;
  }
  const intended = intendedPathsOf(model, dir, callerStacks, record);
  const callerAccountIds = [...new Set(intended.map((p) => accountOf(p.callerRoleArn)))];
  return {
    origin: `the synthesized stacks in ${dir}`,
    partition: model.partition,
    region: model.functions.get(intended[0].calleeFunctionArn)?.region ?? model.accounts[0].region,
    callerAccountIds,
    calleeAccountId: accountOf(intended[0].calleeFunctionArn),
    roles: [...model.roles.values()],
    functions: [...model.functions.values()],
    buckets: [...model.buckets.values()],
    keys: [...model.keys.values()],
    tables: [...model.tables.values()],
    vpcEndpoints: model.vpcEndpoints,
    cidrEgress: cidrEgressOf(root, new Set(model.functions.keys())),
    intended,
    configured: {
      ...(record.externalId !== undefined ? { externalId: record.externalId } : {}),
      ...(record.organizationId !== undefined ? { organizationId: record.organizationId } : {}),
    },
  };
}

/**
 * One path per caller stack. Which invoker role is a caller's own, and what it invokes, its function's environment
 * says (what the deployed code uses); a stack without it falls back to the callee's outputs, keyed by the caller's name.
 */
function intendedPathsOf(model: AccountsModel, dir: string, callerStacks: readonly string[], record: ConfigRecord): IntendedPath[] {
  const output = (stack: string, key: string): string => {
    const value = model.outputs.get(stack)?.[key];
    if (typeof value !== "string")
      throw new VerifyInputError(
        `stack '${stack}' in ${dir} has no output '${key}': the proof needs it to know the intended path; synthesize the stacks of this project (make synth)`,
      );
    return value;
  };
  const calleeOutputs = model.outputs.get(CALLEE_STACK) ?? {};
  const calleeFunctionArn = output(CALLEE_STACK, CALLEE_OUTPUT.functionArn);
  const aliasArn = calleeOutputs[CALLEE_OUTPUT.aliasArn];
  const callee = model.functions.get(calleeFunctionArn);
  if (!callee)
    throw new VerifyInputError(`the callee function the outputs name (${calleeFunctionArn}) is not defined by the stacks in ${dir}`);
  const invokerOutputs = Object.keys(calleeOutputs).filter(
    (k) => k === CALLEE_OUTPUT.invokerRoleArn || k.startsWith(`${CALLEE_OUTPUT.invokerRoleArn}_`),
  );

  const paths = callerStacks.map((stack): IntendedPath => {
    const caller = stack === "caller" ? (record.callers?.length === 1 ? record.callers[0].name : "caller") : stack.slice("caller-".length);
    const callerFunctionArn = output(stack, CALLER_OUTPUT.functionArn);
    const callerRoleArn = output(stack, CALLER_OUTPUT.executionRoleArn);
    const env = model.functions.get(callerFunctionArn)?.environment ?? {};
    // The callee's output for this caller: keyed by its name, the shorthand's unkeyed one, or the only one there is.
    const invokerKey = [`${CALLEE_OUTPUT.invokerRoleArn}_${caller}`, CALLEE_OUTPUT.invokerRoleArn].find((k) => invokerOutputs.includes(k));
    const outputKey = invokerKey ?? (invokerOutputs.length === 1 ? invokerOutputs[0] : undefined);
    const invokerRoleArn = env[CALLER_ENV.invokerRoleArn] ?? (outputKey !== undefined ? output(CALLEE_STACK, outputKey) : undefined);
    if (invokerRoleArn === undefined)
      throw new VerifyInputError(
        `cannot tell which invoker role belongs to caller '${caller}': its function sets no ${CALLER_ENV.invokerRoleArn} and stack '${CALLEE_STACK}' in ${dir} has no output '${CALLEE_OUTPUT.invokerRoleArn}_${caller}'; synthesize the stacks of this project (make synth)`,
      );
    const targetArn = env[CALLER_ENV.calleeArn] ?? (typeof aliasArn === "string" ? aliasArn : calleeFunctionArn);
    const externalId = record.callers?.find((c) => c.name === caller)?.externalId ?? record.externalId;
    const qualified = [...callee.aliases.values()].map((a) => a.arn).concat(callee.versions.map((v) => `${callee.arn}:${v}`));
    for (const [what, arn, known] of [
      ["caller role", callerRoleArn, model.roles.has(callerRoleArn)],
      ["invoker role", invokerRoleArn, model.roles.has(invokerRoleArn)],
      ["caller function", callerFunctionArn, model.functions.has(callerFunctionArn)],
      ["callee function or alias", targetArn, targetArn === callee.arn || qualified.includes(targetArn)],
    ] as const) {
      if (!known)
        throw new VerifyInputError(`the ${what} of caller '${caller}' (${arn}, stack '${stack}') is not defined by the stacks in ${dir}`);
    }
    return {
      caller,
      stack,
      callerFunctionArn,
      callerRoleArn,
      invokerRoleArn,
      calleeFunctionArn,
      targetArn,
      ...(externalId !== undefined ? { externalId } : {}),
    };
  });
  // Grouped by account (in the order each first appears), the configuration's order within one.
  const accounts = [...new Set(paths.map((p) => accountOf(p.callerRoleArn)))];
  return paths
    .map((p, i) => ({ p, i }))
    .sort((a, b) => accounts.indexOf(accountOf(a.p.callerRoleArn)) - accounts.indexOf(accountOf(b.p.callerRoleArn)) || a.i - b.i)
    .map(({ p }) => p);
}

/** The configuration the stacks were built from, as main.ts records it next to them. */
function configRecordOf(root: string): ConfigRecord {
  const file = path.join(root, CONFIG_RECORD_FILE);
  if (!fs.existsSync(file)) return {};
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new VerifyInputError(`${file} is not valid JSON (${(err as Error).message}): synthesize again (make synth)`);
  }
  const callers = Array.isArray(record.callers)
    ? (record.callers as unknown[])
        .filter(
          (c): c is Record<string, unknown> => c !== null && typeof c === "object" && typeof (c as { name?: unknown }).name === "string",
        )
        .map((c) => ({ name: c.name as string, ...(typeof c.externalId === "string" ? { externalId: c.externalId } : {}) }))
    : undefined;
  return {
    ...(typeof record.externalId === "string" ? { externalId: record.externalId } : {}),
    ...(typeof record.organizationId === "string" ? { organizationId: record.organizationId } : {}),
    ...(callers !== undefined ? { callers } : {}),
  };
}
