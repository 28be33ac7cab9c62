/** The access model of the synthesized stacks (cdktf.out or another --dir): no AWS, no Terraform. */
import * as fs from "fs";
import * as path from "path";
import { CONFIG_RECORD_FILE } from "../config/load";
import { accountOf, type AccountsModel, loadAccountsModel, ModelError } from "../core";
import { CALLEE_OUTPUT, CALLER_OUTPUT } from "../stacks/outputs";
import { VerifyInputError, type AccessModel, type IntendedPath } from "./access-model";

/** The application stacks; the bootstrap stack (Terraform state) is outside the proof. */
export const APPLICATION_STACKS = ["caller", "callee"] as const;
/** Every stack, in the order they are deployed (the caller reads the callee's state); the deploy-time check walks them all. */
export const DEPLOY_ORDER = ["bootstrap", "callee", "caller"] as const;

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
  let model: AccountsModel;
  try {
    model = loadAccountsModel(root, { stacks: [...APPLICATION_STACKS] });
  } catch (err) {
    if (err instanceof ModelError) throw new VerifyInputError(`cannot read the stacks in ${dir}: ${err.message}`);
    throw err;
  }
  const intended = intendedPathOf(model, dir);
  return {
    origin: `the synthesized stacks in ${dir}`,
    partition: model.partition,
    region: model.functions.get(intended.calleeFunctionArn)?.region ?? model.accounts[0].region,
    callerAccountId: accountOf(intended.callerRoleArn),
    calleeAccountId: accountOf(intended.invokerRoleArn),
    roles: [...model.roles.values()],
    functions: [...model.functions.values()],
    buckets: [...model.buckets.values()],
    keys: [...model.keys.values()],
    intended,
    configured: configuredOf(root),
  };
}

function intendedPathOf(model: AccountsModel, dir: string): IntendedPath {
  const output = (stack: string, key: string): string => {
    const value = model.outputs.get(stack)?.[key];
    if (typeof value !== "string")
      throw new VerifyInputError(
        `stack '${stack}' in ${dir} has no output '${key}': the proof needs it to know the intended path; synthesize the stacks of this project (make synth)`,
      );
    return value;
  };
  const intended: IntendedPath = {
    callerFunctionArn: output("caller", CALLER_OUTPUT.functionArn),
    callerRoleArn: output("caller", CALLER_OUTPUT.executionRoleArn),
    invokerRoleArn: output("callee", CALLEE_OUTPUT.invokerRoleArn),
    calleeFunctionArn: output("callee", CALLEE_OUTPUT.functionArn),
  };
  for (const [what, arn, known] of [
    ["caller role", intended.callerRoleArn, model.roles.has(intended.callerRoleArn)],
    ["invoker role", intended.invokerRoleArn, model.roles.has(intended.invokerRoleArn)],
    ["caller function", intended.callerFunctionArn, model.functions.has(intended.callerFunctionArn)],
    ["callee function", intended.calleeFunctionArn, model.functions.has(intended.calleeFunctionArn)],
  ] as const) {
    if (!known) throw new VerifyInputError(`the ${what} the outputs name (${arn}) is not defined by the stacks in ${dir}`);
  }
  return intended;
}

/** The configuration the stacks were built from, as main.ts records it next to them. */
function configuredOf(root: string): AccessModel["configured"] {
  const file = path.join(root, CONFIG_RECORD_FILE);
  if (!fs.existsSync(file)) return {};
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new VerifyInputError(`${file} is not valid JSON (${(err as Error).message}): synthesize again (make synth)`);
  }
  return {
    ...(typeof record.externalId === "string" ? { externalId: record.externalId } : {}),
    ...(typeof record.organizationId === "string" ? { organizationId: record.organizationId } : {}),
  };
}
