/**
 * The dependency graph of the deploy-time check (verify/deploy-time/graph.ts) on small hand-written
 * stacks: which references and depends_on entries become edges, the create and destroy orders, the
 * ancestors of a resource, and cycles.
 */
import type { StackDoc } from "../../core/model/stack-files";
import {
  DependencyCycleError,
  ancestorsOf,
  dependencyGraph,
  destroyOrder,
  referencesIn,
  type DependencyGraph,
} from "../../verify/deploy-time/graph";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const stackOf = (json: Json, name = "s"): StackDoc => ({ name, dir: "/nowhere", file: "/nowhere/cdk.tf.json", json });
const graphOf = (json: Json): DependencyGraph => dependencyGraph(stackOf(json));
const depsOf = (graph: DependencyGraph, address: string): string[] => {
  const deps = graph.dependsOn.get(address);
  if (!deps) throw new Error(`${address} is not in the graph`);
  return [...deps].sort();
};

/** A stack with these resources besides a few every case may reference. */
const withBase = (resource: Json, data: Json = {}): Json => ({
  resource: {
    aws_iam_role: { r: { name: "role" } },
    aws_kms_key: { k: { description: "key" } },
    aws_security_group: { g: { name: "group" } },
    ...resource,
  },
  data: { terraform_remote_state: { callee: { backend: "local", config: { path: "../callee/terraform.tfstate" } } }, ...data },
});

describe("the edges of the dependency graph", () => {
  const cases: [string, Json, string[]][] = [
    ["a reference in a plain argument", { role: "${aws_iam_role.r.arn}" }, ["aws_iam_role.r"]],
    [
      "a reference inside a JSON policy string",
      { policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "kms:Decrypt", Resource: "${aws_kms_key.k.arn}" }] }) },
      ["aws_kms_key.k"],
    ],
    [
      "references in nested blocks and lists",
      {
        vpc_config: [{ security_group_ids: ["${aws_security_group.g.id}"], subnet_ids: ["subnet-1"] }],
        environment: { variables: { ROLE: "${aws_iam_role.r.name}" } },
      },
      ["aws_iam_role.r", "aws_security_group.g"],
    ],
    [
      "several references in one template, text around them",
      { description: "role ${aws_iam_role.r.name} with key ${aws_kms_key.k.key_id}/*" },
      ["aws_iam_role.r", "aws_kms_key.k"],
    ],
    ["an indexed reference", { group: "${aws_security_group.g[0].id}" }, ["aws_security_group.g"]],
    [
      "a depends_on entry (a bare address, no ${})",
      { depends_on: ["aws_iam_role.r", "aws_kms_key.k"] },
      ["aws_iam_role.r", "aws_kms_key.k"],
    ],
    [
      "a data source (remote state output)",
      { environment: { variables: { ARN: "${data.terraform_remote_state.callee.outputs.invoker_role_arn}" } } },
      ["data.terraform_remote_state.callee"],
    ],
    [
      "a data source in a comparison",
      { precondition: [{ condition: '${data.terraform_remote_state.callee.outputs.ok == "yes"}', error_message: "no" }] },
      ["data.terraform_remote_state.callee"],
    ],
    [
      "a reference after a nested object in a function call",
      { policy: '${jsonencode({"Statement" = [{"Sid" = "A"}, {"Resource" = aws_kms_key.k.arn}]})}' },
      ["aws_kms_key.k"],
    ],
    ["a reference in a template directive", { description: '%{ if aws_iam_role.r.name != "" }named%{ endif }' }, ["aws_iam_role.r"]],
    [
      "a reference to an address the stack does not define",
      { role: "${aws_iam_role.missing.arn}", queue: "${aws_sqs_queue.q.arn}", other: "${var.x}${local.y}" },
      [],
    ],
    ["an address written as text, outside any ${}", { description: "see aws_iam_role.r and aws_kms_key.k" }, []],
    ["an escaped $${...} (literal text in Terraform)", { description: "$${aws_iam_role.r.arn}" }, []],
    [
      "the provider and the cdktf metadata",
      { provider: "aws.callee", "//": { metadata: { path: "s/aws_iam_role.r", uniqueId: "x" } } },
      [],
    ],
  ];

  it.each(cases)("%s", (_name, body, expected) => {
    const graph = graphOf(withBase({ aws_lambda_function: { f: body } }));
    expect(depsOf(graph, "aws_lambda_function.f")).toEqual(expected);
  });

  it("ignores a reference of a resource to itself, in an argument and in depends_on", () => {
    const graph = graphOf(
      withBase({
        aws_iam_role: { r: { name: "r", description: "${aws_iam_role.r.name}", depends_on: ["aws_iam_role.r", "aws_kms_key.k"] } },
      }),
    );
    expect(depsOf(graph, "aws_iam_role.r")).toEqual(["aws_kms_key.k"]);
  });

  it("gives data sources edges of their own, and lists resources then data sources in the file's order", () => {
    const graph = graphOf(withBase({}, { aws_iam_policy_document: { d: { statement: [{ resources: ["${aws_kms_key.k.arn}"] }] } } }));
    expect(depsOf(graph, "data.aws_iam_policy_document.d")).toEqual(["aws_kms_key.k"]);
    expect(depsOf(graph, "data.terraform_remote_state.callee")).toEqual([]);
    expect(graph.addresses).toEqual([
      "aws_iam_role.r",
      "aws_kms_key.k",
      "aws_security_group.g",
      "data.terraform_remote_state.callee",
      "data.aws_iam_policy_document.d",
    ]);
    expect(graph.stack).toBe("s");
  });

  it("finds the same references through referencesIn, for any JSON value", () => {
    const known = new Set(["aws_iam_role.r", "aws_kms_key.k"]);
    expect([...referencesIn(["${aws_iam_role.r.arn}", { x: ["${aws_kms_key.k.arn}"] }], known)].sort()).toEqual([
      "aws_iam_role.r",
      "aws_kms_key.k",
    ]);
    expect([...referencesIn("aws_iam_role.r", known)]).toEqual([]);
    expect([...referencesIn({ depends_on: "aws_iam_role.r" }, known)]).toEqual(["aws_iam_role.r"]);
    expect([...referencesIn(42, known)]).toEqual([]);
  });
});

describe("the create and destroy orders", () => {
  const cases: [string, Json, string[]][] = [
    [
      "no dependencies: by address, not by file order",
      { resource: { aws_z: { b: {} }, aws_a: { b: {}, a: {} } } },
      ["aws_a.a", "aws_a.b", "aws_z.b"],
    ],
    [
      "dependencies first, whatever the addresses; ties by address",
      { resource: { aws_a: { second: { key: "${aws_z.first.id}" } }, aws_m: { third: {} }, aws_z: { first: {} } } },
      ["aws_m.third", "aws_z.first", "aws_a.second"],
    ],
    [
      "a chain through depends_on and references",
      {
        resource: {
          aws_a: { last: { depends_on: ["aws_b.middle"] } },
          aws_b: { middle: { x: "${aws_c.first.arn}" } },
          aws_c: { first: {} },
        },
      },
      ["aws_c.first", "aws_b.middle", "aws_a.last"],
    ],
    [
      "a data source before what reads it",
      { resource: { aws_a: { fn: { arn: "${data.terraform_remote_state.z.outputs.arn}" } } }, data: { terraform_remote_state: { z: {} } } },
      ["data.terraform_remote_state.z", "aws_a.fn"],
    ],
  ];

  it.each(cases)("%s", (_name, json, expected) => {
    const graph = graphOf(json);
    expect(graph.createOrder).toEqual(expected);
    expect(destroyOrder(graph)).toEqual([...expected].reverse());
    for (const [address, deps] of graph.dependsOn)
      for (const dep of deps) expect(graph.createOrder.indexOf(dep)).toBeLessThan(graph.createOrder.indexOf(address));
  });

  it("an empty stack has empty orders", () => {
    const graph = graphOf({});
    expect(graph.createOrder).toEqual([]);
    expect(destroyOrder(graph)).toEqual([]);
  });
});

describe("ancestorsOf", () => {
  // top -> left, right; left -> bottom; right -> bottom (depends_on); bottom -> base; lone is unrelated.
  const graph = graphOf({
    resource: {
      aws_x: {
        top: { a: "${aws_x.left.id}", b: ["${aws_x.right.id}"] },
        left: { a: "${aws_x.bottom.id}" },
        right: { depends_on: ["aws_x.bottom"] },
        bottom: { a: "${aws_x.base.id}" },
        base: {},
        lone: {},
      },
    },
  });

  it.each([
    ["aws_x.top", ["aws_x.base", "aws_x.bottom", "aws_x.left", "aws_x.right"]],
    ["aws_x.left", ["aws_x.base", "aws_x.bottom"]],
    ["aws_x.right", ["aws_x.base", "aws_x.bottom"]],
    ["aws_x.bottom", ["aws_x.base"]],
    ["aws_x.base", []],
    ["aws_x.lone", []],
    ["aws_x.unknown", []],
  ])("%s: everything it depends on, directly or not", (address, expected) => {
    expect([...ancestorsOf(graph, address)].sort()).toEqual(expected);
  });

  it("never includes the resource itself or what depends on it", () => {
    const ancestors = ancestorsOf(graph, "aws_x.bottom");
    expect(ancestors.has("aws_x.bottom")).toBe(false);
    expect(ancestors.has("aws_x.left")).toBe(false);
  });
});

describe("cycles", () => {
  it.each([
    ["two references", { aws_x: { a: { v: "${aws_x.b.id}" }, b: { v: "${aws_x.a.id}" }, c: {} } }, ["aws_x.a", "aws_x.b"]],
    [
      "a reference and a depends_on",
      { aws_x: { a: { depends_on: ["aws_x.c"] }, b: {}, c: { v: "${aws_x.a.arn}" } } },
      ["aws_x.a", "aws_x.c"],
    ],
    [
      "three resources in a ring",
      { aws_x: { a: { v: "${aws_x.b.id}" }, b: { v: "${aws_x.c.id}" }, c: { v: "${aws_x.a.id}" } } },
      ["aws_x.a", "aws_x.b", "aws_x.c"],
    ],
    [
      "a cycle and a resource waiting for it",
      { aws_x: { a: { v: "${aws_x.b.id}" }, b: { v: "${aws_x.a.id}" }, waits: { v: "${aws_x.a.id}" } } },
      ["aws_x.a", "aws_x.b"],
    ],
  ])("%s: DependencyCycleError naming the addresses", (_name, resource, members) => {
    let error: unknown;
    try {
      graphOf({ resource });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DependencyCycleError);
    const message = (error as Error).message;
    expect((error as Error).name).toBe("DependencyCycleError");
    expect(message).toMatch(/^stack 's': the resources .* depend on each other, so Terraform cannot order them \(Error: Cycle\)$/);
    for (const address of members) expect(message).toContain(address);
    // The resources that could be ordered are not named.
    for (const address of Object.keys(resource.aws_x).map((n) => `aws_x.${n}`))
      if (!members.includes(address)) expect(message).not.toContain(address);
  });

  it("names the stack", () => {
    expect(() =>
      dependencyGraph(stackOf({ resource: { aws_x: { a: { v: "${aws_x.b.id}" }, b: { depends_on: ["aws_x.a"] } } } }, "callee")),
    ).toThrow("stack 'callee': the resources aws_x.a, aws_x.b depend on each other");
  });
});
