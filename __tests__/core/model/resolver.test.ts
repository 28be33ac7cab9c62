/**
 * The resolver (core/model/resolver.ts) on small in-memory stacks: what it resolves (references,
 * providers, remote-state outputs and their defaults, policies) and how it names what it cannot.
 */
import { ModelError } from "../../../core/model/types";
import { Resolver, type Where } from "../../../core/model/resolver";
import type { JsonObject, StackDoc } from "../../../core/model/stack-files";

const PROVIDERS = {
  aws: [
    { region: "eu-west-1", allowed_account_ids: ["111111111111"] },
    { alias: "b", region: "eu-west-1", allowed_account_ids: ["222222222222"] },
  ],
};

function stack(name: string, json: JsonObject): StackDoc {
  return { name, dir: `/stacks/${name}`, file: `/stacks/${name}/cdk.tf.json`, json: { provider: PROVIDERS, ...json } };
}

/** A callee stack with an S3 backend and outputs, and a caller stack that reads them. */
function resolver(overrides: { callee?: JsonObject; caller?: JsonObject } = {}): Resolver {
  const callee = stack("callee", {
    terraform: { backend: { s3: { bucket: "state", key: "x/callee.tfstate" } } },
    resource: {
      aws_iam_role: { invoker: { name: "invoker", provider: "aws.b" }, pathed: { name: "p", path: "/svc/" }, unnamed: {} },
      aws_lambda_function: { fn: { function_name: "callee", provider: "aws.b" } },
      aws_kms_key: { k: {} },
    },
    output: {
      invoker_role_arn: { value: "${aws_iam_role.invoker.arn}" },
      function_name: { value: "${aws_lambda_function.fn.function_name}" },
    },
    ...overrides.callee,
  });
  const caller = stack("caller", {
    data: {
      terraform_remote_state: {
        callee: { backend: "s3", config: { bucket: "state", key: "x/callee.tfstate" }, defaults: { missing_output: "" } },
      },
    },
    resource: { aws_iam_role: { self_ref: { name: "${aws_iam_role.self_ref.name}" } } },
    ...overrides.caller,
  });
  return new Resolver(new Map([callee, caller].map((s) => [s.name, s])));
}

const at = (stackName: string, path = "arg"): Where => ({ stack: stackName, address: "aws_test.t", path });

describe("Resolver.value", () => {
  it.each<[string, string, string, unknown]>([
    ["a literal string", "callee", "plain", "plain"],
    ["a role ARN in the aliased provider's account", "callee", "${aws_iam_role.invoker.arn}", "arn:aws:iam::222222222222:role/invoker"],
    ["a role ARN with a path, default provider", "callee", "${aws_iam_role.pathed.arn}", "arn:aws:iam::111111111111:role/svc/p"],
    [
      "a function ARN inside text",
      "callee",
      "fn=${aws_lambda_function.fn.arn}!",
      "fn=arn:aws:lambda:eu-west-1:222222222222:function:callee!",
    ],
    [
      "a qualified ARN",
      "callee",
      "${aws_lambda_function.fn.qualified_arn}",
      "arn:aws:lambda:eu-west-1:222222222222:function:callee:$LATEST",
    ],
    ["a comparison", "callee", '${aws_iam_role.invoker.name == "invoker"}', true],
    ["a false comparison", "callee", '${aws_iam_role.invoker.name != "invoker"}', false],
    [
      "a remote-state output",
      "caller",
      "${data.terraform_remote_state.callee.outputs.invoker_role_arn}",
      "arn:aws:iam::222222222222:role/invoker",
    ],
    ["a remote-state default for a missing output", "caller", "${data.terraform_remote_state.callee.outputs.missing_output}", ""],
  ])("%s", (_what, stackName, raw, expected) => {
    expect(resolver().value(at(stackName), raw)).toEqual(expected);
  });

  it("resolves nested lists and objects, keys included", () => {
    expect(resolver().value(at("callee"), { "${aws_iam_role.invoker.name}": ["${aws_kms_key.k.arn}", 3, null] })).toEqual({
      invoker: [expect.stringMatching(/^arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f-]{36}$/), 3, null],
    });
  });

  it("a stand-in id is the same on every load and differs per resource", () => {
    const first = resolver().value(at("callee"), "${aws_iam_role.invoker.unique_id}");
    expect(resolver().value(at("callee"), "${aws_iam_role.invoker.unique_id}")).toBe(first);
    expect(resolver().value(at("callee"), "${aws_iam_role.pathed.unique_id}")).not.toBe(first);
  });

  it("all outputs of a remote state, with its defaults under them", () => {
    expect(resolver().value(at("caller"), "${data.terraform_remote_state.callee.outputs}")).toEqual({
      missing_output: "",
      invoker_role_arn: "arn:aws:iam::222222222222:role/invoker",
      function_name: "callee",
    });
  });
});

describe("Resolver refuses what it cannot know, naming stack, address, path and expression", () => {
  it.each<[string, string, string, string]>([
    ["an input variable", "callee", "${var.x}", "input variables are not modelled"],
    ["a function call", "callee", "${jsonencode(aws_iam_role.invoker.arn)}", "function call jsonencode(...) is not supported"],
    ["an unknown resource", "callee", "${aws_iam_role.nope.arn}", "stack 'callee' has no resource aws_iam_role.nope"],
    ["an unmodelled type", "callee", "${aws_vpc.v.id}", "stack 'callee' has no resource aws_vpc.v"],
    ["an unmodelled attribute", "callee", "${aws_iam_role.invoker.create_date}", "attribute 'create_date' of aws_iam_role is not modelled"],
    ["a whole resource", "callee", "${aws_iam_role.invoker}", "a reference to a whole resource (or an unknown name) is not modelled"],
    ["a nested path", "callee", "${aws_iam_role.invoker.tags.x}", "the nested attribute path tags.x is not modelled"],
    [
      "another data source",
      "callee",
      "${data.aws_caller_identity.me.account_id}",
      "data source data.aws_caller_identity.me is not modelled",
    ],
    ["a name AWS generates", "callee", "${aws_iam_role.unnamed.arn}", "no 'name' is set, so Terraform would generate one"],
    [
      "a missing output without a default",
      "caller",
      "${data.terraform_remote_state.callee.outputs.other}",
      "stack 'callee' has no output 'other'",
    ],
    ["a reference cycle", "caller", "${aws_iam_role.self_ref.arn}", "reference cycle through stack 'caller', aws_iam_role.self_ref.name"],
  ])("%s", (_what, stackName, raw, reason) => {
    const run = () => resolver().value(at(stackName), raw);
    expect(run).toThrow(ModelError);
    expect(run).toThrow(reason);
    expect(run).toThrow(`stack '${stackName}', aws_test.t.arg`);
  });

  it("a remote state whose backend no stack uses, listing the stacks' backends", () => {
    const r = resolver({
      caller: { data: { terraform_remote_state: { callee: { backend: "s3", config: { bucket: "state", key: "other.tfstate" } } } } },
    });
    expect(() => r.value(at("caller"), "${data.terraform_remote_state.callee.outputs.function_name}")).toThrow(
      "reads state s3://state/other.tfstate, but no stack has an S3 backend with that bucket and key (stacks: callee (s3://state/x/callee.tfstate), caller (no S3 backend))",
    );
  });

  it.each<[string, JsonObject, string]>([
    ["no region", { aws: [{ allowed_account_ids: ["111111111111"] }] }, "the model needs a literal 'region'"],
    ["no account binding", { aws: [{ region: "eu-west-1" }] }, "the model needs allowed_account_ids with exactly one 12-digit account id"],
    ["two accounts", { aws: [{ region: "eu-west-1", allowed_account_ids: ["111111111111", "222222222222"] }] }, "exactly one 12-digit"],
  ])("a provider with %s", (_what, provider, reason) => {
    const r = resolver({ callee: { provider } });
    expect(() => r.value(at("callee"), "${aws_iam_role.pathed.arn}")).toThrow(reason);
  });
});

describe("Resolver.policy", () => {
  it("escapes interpolated values for JSON before parsing, as Terraform renders them", () => {
    const r = resolver({ callee: { resource: { aws_iam_role: { quoted: { name: 'a"b' } } } } });
    const policy = r.policy(
      at("callee"),
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"x:Y","Resource":"${aws_iam_role.quoted.name}"}]}',
    );
    expect(policy.Statement).toEqual([{ Effect: "Allow", Action: "x:Y", Resource: 'a"b' }]);
  });

  it.each<[string, unknown, string]>([
    ["not text", { Statement: [] }, "expected a policy document as JSON text"],
    ["not JSON", "{nope", "not a valid JSON policy document after resolution"],
    ["no statement", '{"Version":"2012-10-17"}', "not a valid policy document (no Statement)"],
    ["a bad effect", '{"Statement":[{"Effect":"Maybe"}]}', 'Effect must be Allow or Deny, found "Maybe"'],
  ])("refuses a policy that is %s", (_what, raw, reason) => {
    expect(() => resolver().policy(at("callee"), raw)).toThrow(reason);
  });
});
