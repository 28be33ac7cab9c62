/**
 * The caller's preconditions on the callee's remote state, run by the real `terraform plan`.
 *
 * From the synthesized caller stack this derives a configuration that needs only Terraform's
 * built-in provider: the same terraform_remote_state block (its `defaults` included) reading a
 * local state file the test writes, and one terraform_data per resource carrying that resource's
 * synthesized lifecycle.precondition blocks, copied verbatim. Each case writes a callee state
 * (format version 4), runs `terraform init` and `terraform plan`, and checks what Terraform says,
 * and that the local model (local/model) says the same.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG_RECORD_FILE } from "../../config/load";
import { checkPreconditions } from "../../core/model/preconditions";
import { Resolver } from "../../core/model/resolver";
import { StackDoc } from "../../core/model/stack-files";
import { ModelError } from "../../core/model/types";
import { CALLEE_OUTPUT } from "../../stacks/outputs";
import { synthAll } from "../support/synth";
import { TerraformRun, flatten, requireTerraform, terraform, writeState } from "./terraform";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Outputs = Record<string, string | boolean>;

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const OUT_DIR = path.join(PROJECT_ROOT, "cdktf.out");
const PRECONDITION_FAILED = "Error: Resource precondition failed";
const FIX = "deploy the callee stack with the same configuration first";

const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, "utf8"));

let version: string;
let tmp: string;
let cliConfig: string;
/** The synthesized stacks (cdktf.out), and the same configuration with externalId toggled (Testing.synth). */
let synthesized: { caller: Json; callee: Json };
let toggled: { caller: Json; callee: Json; externalId: boolean };
let recordedConfig: Json;

beforeAll(() => {
  version = requireTerraform([1, 4]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-tf-remote-state-"));
  cliConfig = path.join(tmp, "empty.tfrc");
  fs.writeFileSync(cliConfig, "");
  // jest's global setup synthesized cdktf.out when it was missing or stale.
  synthesized = {
    caller: readJson(path.join(OUT_DIR, "stacks", "caller", "cdk.tf.json")),
    callee: readJson(path.join(OUT_DIR, "stacks", "callee", "cdk.tf.json")),
  };
  recordedConfig = readJson(path.join(OUT_DIR, CONFIG_RECORD_FILE));
  const externalId = recordedConfig.externalId === undefined ? "xacct-terraform-test-external-id" : undefined;
  const variant = synthAll({ ...recordedConfig, externalId });
  toggled = { caller: JSON.parse(variant.caller), callee: JSON.parse(variant.callee), externalId: externalId !== undefined };
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function remoteStateOf(caller: Json): { id: string; block: Json } {
  const all = caller.data?.terraform_remote_state ?? {};
  const ids = Object.keys(all);
  if (ids.length !== 1) throw new Error(`expected one terraform_remote_state in the caller stack, found ${ids.join(", ") || "none"}`);
  return { id: ids[0], block: all[ids[0]] };
}

/** Every resource of a stack that has lifecycle.precondition blocks, with those blocks as synthesized. */
function preconditionsOf(stack: Json): { type: string; name: string; blocks: Json[] }[] {
  const out: { type: string; name: string; blocks: Json[] }[] = [];
  for (const [type, byName] of Object.entries<Record<string, Json>>(stack.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const list = body.lifecycle?.precondition;
      if (list !== undefined) out.push({ type, name, blocks: Array.isArray(list) ? list : [list] });
    }
  }
  return out;
}

/** References (outside string literals) in the `${...}` of a template. */
function referencesIn(template: string): string[] {
  const bodies = [...template.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1].replace(/"(?:[^"\\]|\\.)*"/g, '""'));
  return bodies.flatMap((body) => [...body.matchAll(/[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)+/g)].map((m) => m[0]));
}

/**
 * The built-in-provider configuration: the caller's remote state read from `statePath` with the local
 * backend (everything else of the block as synthesized), one terraform_data per resource with the
 * synthesized preconditions, and the outputs read as an output.
 */
function derivedConfiguration(caller: Json, statePath: string, { keepDefaults }: { keepDefaults: boolean }): Json {
  const { id, block } = remoteStateOf(caller);
  const remote: Json = { ...structuredClone(block), backend: "local", config: { path: statePath } };
  if (!keepDefaults) delete remote.defaults;
  const resources: Json = {};
  for (const { type, name, blocks } of preconditionsOf(caller)) {
    for (const ref of blocks.flatMap((b) => [...referencesIn(String(b.condition)), ...referencesIn(String(b.error_message))])) {
      if (!ref.startsWith(`data.terraform_remote_state.${id}.outputs.`)) {
        throw new Error(`${type}.${name}: a precondition reads ${ref}, which the built-in-provider configuration does not have`);
      }
    }
    resources[`${type}__${name}`] = { lifecycle: { precondition: structuredClone(blocks) } };
  }
  return {
    data: { terraform_remote_state: { [id]: remote } },
    resource: { terraform_data: resources },
    output: { callee_outputs: { value: `\${data.terraform_remote_state.${id}.outputs}` } },
  };
}

interface Planned {
  readonly dir: string;
  readonly plan: TerraformRun;
}

/** Writes the state (unless undefined: no state file at all) and the configuration, then terraform init and plan. */
function planWith(caseName: string, caller: Json, state: Outputs | undefined, options = { keepDefaults: true }): Planned {
  const dir = path.join(tmp, caseName);
  const statePath = path.join(dir, "callee-state", "callee.tfstate");
  fs.mkdirSync(dir, { recursive: true });
  if (state) writeState(statePath, version, state);
  fs.writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(derivedConfiguration(caller, statePath, options), null, 2));
  const init = terraform(dir, cliConfig, ["init", "-input=false", "-no-color"]);
  if (init.status !== 0) throw new Error(`terraform init failed in ${dir} (exit ${init.status}):\n${init.stdout}\n${init.stderr}`);
  return { dir, plan: terraform(dir, cliConfig, ["plan", "-input=false", "-no-color", "-out=plan.tfplan"]) };
}

const docOf = (name: string, json: Json): StackDoc => ({
  name,
  dir: path.join(tmp, name),
  file: path.join(tmp, name, "cdk.tf.json"),
  json,
});

/** What the callee stack outputs (resolved by the local model from its synthesized JSON): the state it writes when applied. */
function calleeOutputs(stacks: { caller: Json; callee: Json }): Outputs {
  const resolver = new Resolver(
    new Map([
      ["callee", docOf("callee", stacks.callee)],
      ["caller", docOf("caller", stacks.caller)],
    ]),
  );
  return resolver.outputs("callee") as Outputs;
}

function without(outputs: Outputs, ...keys: string[]): Outputs {
  return Object.fromEntries(Object.entries(outputs).filter(([key]) => !keys.includes(key)));
}

/**
 * The local model's verdict for a callee whose outputs are exactly `state`: the error_message part of
 * its precondition failure (as Terraform renders it) and its notes, or undefined when every precondition holds.
 */
function modelVerdict(caller: Json, callee: Json, state: Outputs): { message: string; notes: string } | undefined {
  const edited = structuredClone(callee);
  edited.output = Object.fromEntries(Object.entries(state).map(([key, value]) => [key, { value }]));
  const docs = [docOf("callee", edited), docOf("caller", caller)];
  try {
    checkPreconditions(new Resolver(new Map(docs.map((d) => [d.name, d]))), [docs[1]]);
    return undefined;
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    const marker = "(terraform plan would stop here too): ";
    const rest = err.message.slice(err.message.indexOf(marker) + marker.length);
    expect(err.message).toContain(marker);
    const [message, ...notes] = rest.split("\n");
    return { message, notes: notes.join("\n") };
  }
}

const countOf = (text: string, part: string) => text.split(part).length - 1;

/** The plan failed on exactly `count` preconditions, each message in `messages` is there, and no reference failed. */
function expectPreconditionFailures(plan: TerraformRun, count: number, messages: string[]): void {
  expect(plan.status).toBe(1);
  expect(plan.flat).not.toContain("Unsupported attribute");
  expect(countOf(plan.flat, PRECONDITION_FAILED)).toBe(count);
  expect(countOf(plan.flat, "Error: ")).toBe(count);
  for (const message of messages) expect(plan.flat).toContain(flatten(message));
}

describe("the synthesized caller stack, as terraform reads it", () => {
  it("has the preconditions and defaults the derived configuration carries (the cases below are not vacuous)", () => {
    const [only, ...others] = preconditionsOf(synthesized.caller);
    expect(others).toEqual([]);
    expect(only.type).toBe("aws_iam_role_policy");
    const conditions = only.blocks.map((b) => String(b.condition));
    for (const output of [CALLEE_OUTPUT.invokerRoleArn, CALLEE_OUTPUT.functionArn, CALLEE_OUTPUT.externalIdRequired]) {
      expect(conditions.filter((c) => c.includes(`.outputs.${output} ==`))).toHaveLength(1);
    }
    // Every output the caller reads anywhere (environment, policy, preconditions) has a default,
    // so a state lacking one reaches the preconditions instead of failing on the reference.
    const { block } = remoteStateOf(synthesized.caller);
    const read = new Set(
      [...JSON.stringify(synthesized.caller).matchAll(/data\.terraform_remote_state\.[\w-]+\.outputs\.(\w+)/g)].map((m) => m[1]),
    );
    expect([...read].sort()).toEqual(Object.keys(block.defaults).sort());
    // The callee really declares them all: a state it writes has no reason to lack one.
    for (const output of read) expect(Object.keys(synthesized.callee.output)).toContain(output);
  });

  it("is what Testing.synth gives for the recorded configuration (so the externalId variant below is the same stack but for that)", () => {
    const again = synthAll(recordedConfig as Parameters<typeof synthAll>[0]);
    const caller = JSON.parse(again.caller);
    expect(remoteStateOf(caller)).toEqual(remoteStateOf(synthesized.caller));
    expect(preconditionsOf(caller)).toEqual(preconditionsOf(synthesized.caller));
    expect(preconditionsOf(toggled.caller)).not.toEqual(preconditionsOf(synthesized.caller));
  });
});

describe("terraform plan on the caller's remote state (real terraform, built-in provider only)", () => {
  let expected: Outputs;
  let location: string;
  beforeAll(() => {
    expected = calleeOutputs(synthesized);
    const { config } = remoteStateOf(synthesized.caller).block;
    location = `s3://${config.bucket}/${config.key}`;
  });

  it("(a) plans when the state holds every output the callee stack declares, with its values, and reads them from the file", () => {
    expect(Object.keys(expected).sort()).toEqual(Object.keys(synthesized.callee.output).sort());
    const { dir, plan } = planWith("a-right-state", synthesized.caller, expected);
    expect(plan.status).toBe(0);
    expect(plan.flat).not.toContain("Error:");
    expect(plan.flat).toContain(`Plan: ${preconditionsOf(synthesized.caller).length} to add, 0 to change, 0 to destroy.`);
    const shown = terraform(dir, cliConfig, ["show", "-json", "-no-color", "plan.tfplan"]);
    expect(shown.status).toBe(0);
    expect(JSON.parse(shown.stdout).planned_values.outputs.callee_outputs.value).toEqual(expected);
    expect(modelVerdict(synthesized.caller, synthesized.callee, expected)).toBeUndefined();
  });

  it("(b) stops on the invoker-role precondition, not on 'Unsupported attribute', when the state lacks invoker_role_arn", () => {
    const state = without(expected, CALLEE_OUTPUT.invokerRoleArn);
    const { plan } = planWith("b-no-invoker-role-arn", synthesized.caller, state);
    const model = modelVerdict(synthesized.caller, synthesized.callee, state)!;
    expect(model.notes).toContain(`stack 'callee' has no output '${CALLEE_OUTPUT.invokerRoleArn}'`);
    expect(model.message).toContain(`does not describe invoker role ${expected[CALLEE_OUTPUT.invokerRoleArn]}: its invoker_role_arn is ""`);
    expect(model.message).toContain(location);
    expect(model.message).toContain(FIX);
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it.each([
    [CALLEE_OUTPUT.functionArn, 'its callee_function_arn is ""'],
    [CALLEE_OUTPUT.aliasArn, 'its callee_alias_arn is "" ("" when the state has no such output, as before the callee published versions)'],
    [CALLEE_OUTPUT.externalIdRequired, "external_id_required = missing, but this caller expects"],
  ])("(b) stops on its own precondition when the state lacks %s", (output, shown) => {
    const state = without(expected, output);
    const { plan } = planWith(`b-no-${output}`, synthesized.caller, state);
    const model = modelVerdict(synthesized.caller, synthesized.callee, state)!;
    expect(model.message).toContain(shown);
    expect(model.message).toContain(FIX);
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it("(b) reports all four when the state exists but holds no outputs (a destroyed callee)", () => {
    const { plan } = planWith("b-empty-state", synthesized.caller, {});
    expectPreconditionFailures(plan, 4, [
      `does not describe invoker role ${expected[CALLEE_OUTPUT.invokerRoleArn]}: its invoker_role_arn is ""`,
      `does not describe callee function ${expected[CALLEE_OUTPUT.functionArn]}: its callee_function_arn is ""`,
      `does not describe alias ${expected[CALLEE_OUTPUT.aliasArn]}: its callee_alias_arn is ""`,
      "external_id_required = missing",
    ]);
    expect(countOf(plan.flat, FIX)).toBe(4);
    expect(countOf(plan.flat, location)).toBeGreaterThanOrEqual(3);
  });

  it("(c) with no state file at all, stops at reading it, before any precondition: defaults apply only to a state that exists", () => {
    const { plan } = planWith("c-no-state", synthesized.caller, undefined);
    expect(plan.status).toBe(1);
    expect(plan.flat).toContain("Error: Unable to find remote state");
    expect(plan.flat).toContain("No stored state was found for the given workspace in the given backend.");
    expect(plan.flat).not.toContain("Unsupported attribute");
    expect(plan.flat).not.toContain(PRECONDITION_FAILED);
  });

  it("(d) stops on the invoker-role precondition when the state names another invoker role", () => {
    const other = expected[CALLEE_OUTPUT.invokerRoleArn].toString().replace(/role\/.*$/, "role/someone-else-invoker");
    const state = { ...expected, [CALLEE_OUTPUT.invokerRoleArn]: other };
    const { plan } = planWith("d-other-invoker-role", synthesized.caller, state);
    const model = modelVerdict(synthesized.caller, synthesized.callee, state)!;
    expect(model.message).toContain(`its invoker_role_arn is "${other}"`);
    expect(model.notes).toBe("");
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it("(d) stops on the callee-function precondition when the state names another function", () => {
    const other = `${expected[CALLEE_OUTPUT.functionArn]}-old`;
    const state = { ...expected, [CALLEE_OUTPUT.functionArn]: other };
    const { plan } = planWith("d-other-function", synthesized.caller, state);
    const model = modelVerdict(synthesized.caller, synthesized.callee, state)!;
    expect(model.message).toContain(
      `does not describe callee function ${expected[CALLEE_OUTPUT.functionArn]}: its callee_function_arn is "${other}"`,
    );
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it("(e) stops on the external-id precondition when the state's external_id_required differs from the caller's setting", () => {
    const flipped = !expected[CALLEE_OUTPUT.externalIdRequired];
    const state = { ...expected, [CALLEE_OUTPUT.externalIdRequired]: flipped };
    const { plan } = planWith("e-external-id", synthesized.caller, state);
    const model = modelVerdict(synthesized.caller, synthesized.callee, state)!;
    expect(model.message).toContain(`external_id_required = ${flipped}, but this caller expects ${!flipped}`);
    expect(model.message).toContain("externalId is set on one side only");
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it("(e) and the other way round: a caller synthesized with the externalId setting toggled plans against its own callee's state and stops on the original", () => {
    const own = calleeOutputs(toggled);
    expect(own[CALLEE_OUTPUT.externalIdRequired]).toBe(toggled.externalId);
    const good = planWith("e-toggled-own-state", toggled.caller, own);
    expect(good.plan.status).toBe(0);

    const state = { ...own, [CALLEE_OUTPUT.externalIdRequired]: !toggled.externalId };
    const { plan } = planWith("e-toggled-other-state", toggled.caller, state);
    const model = modelVerdict(toggled.caller, toggled.callee, state)!;
    expect(model.message).toContain(`external_id_required = ${!toggled.externalId}, but this caller expects ${toggled.externalId}`);
    expect(model.message).toContain(`configured ${toggled.externalId ? "with" : "without"} an externalId`);
    expectPreconditionFailures(plan, 1, [model.message]);
  });

  it("without the defaults, the same state fails on 'Unsupported attribute' before any precondition (the problem the defaults fix)", () => {
    const { plan } = planWith("control-no-defaults", synthesized.caller, without(expected, CALLEE_OUTPUT.invokerRoleArn), {
      keepDefaults: false,
    });
    expect(plan.status).toBe(1);
    expect(plan.flat).toContain("Error: Unsupported attribute");
    expect(plan.flat).toContain(`This object does not have an attribute named "${CALLEE_OUTPUT.invokerRoleArn}".`);
    expect(plan.flat).not.toContain(PRECONDITION_FAILED);
  });
});
