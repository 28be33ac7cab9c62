/** The cdktf-vs-cdktn output comparison (scripts/cdktn/compare.ts) on small synthesized-looking folders. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ABSENT, type AllowedDifference, compareOutputs, formatReport, judge, PRESENT, readAllowed } from "../../scripts/cdktn/compare";
import { ALLOWED_DIFFERENCES } from "../../scripts/cdktn/paths";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function stack(): Json {
  return {
    "//": { metadata: { backend: "s3", stackName: "callee", version: "0.21.0" } },
    terraform: { required_providers: { aws: { source: "aws", version: "6.25.0" } }, backend: { s3: { bucket: "b", key: "k" } } },
    provider: { aws: [{ alias: "callee", allowed_account_ids: ["222222222222"], region: "eu-west-1" }] },
    data: { aws_iam_policy_document: { d: { statement: [{ actions: ["sts:AssumeRole"] }] } } },
    output: { fn_arn: { value: "${aws_lambda_function.fn.arn}" } },
    resource: {
      aws_lambda_function: {
        fn: {
          "//": { metadata: { path: "callee/fn", uniqueId: "fn" } },
          function_name: "xacct-demo-callee",
          runtime: "nodejs22.x",
          timeout: 10,
          vpc_config: { subnet_ids: ["subnet-1", "subnet-2"] },
        },
      },
      aws_s3_object: { code: { bucket: "b", source: "assets/code_asset_1/AAAA/function.zip", source_hash: "abc" } },
    },
  };
}

/** An output folder: manifest.json, stacks/callee/cdk.tf.json and its asset. */
function outDir(body: Json, opts: { assetFolder?: string; assetBytes?: string; version?: string } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-compare-"));
  const folder = opts.assetFolder ?? "assets/code_asset_1/AAAA";
  fs.mkdirSync(path.join(root, "stacks", "callee", folder), { recursive: true });
  fs.writeFileSync(path.join(root, "stacks", "callee", folder, "function.zip"), opts.assetBytes ?? "PK zip bytes");
  fs.writeFileSync(path.join(root, "stacks", "callee", "cdk.tf.json"), JSON.stringify(body, null, 2));
  fs.writeFileSync(
    path.join(root, "manifest.json"),
    JSON.stringify({
      version: opts.version ?? "0.21.0",
      stacks: { callee: { name: "callee", synthesizedStackPath: "stacks/callee/cdk.tf.json", workingDirectory: "stacks/callee" } },
    }),
  );
  return root;
}

describe("compareOutputs", () => {
  it("finds no difference between identical outputs", () => {
    const c = compareOutputs(outDir(stack()), outDir(stack()));
    expect(c.differences).toEqual([]);
    expect(c.stacks).toEqual(["callee"]);
    expect(c.resources).toBe(2);
    expect(judge(c.differences, []).failed).toEqual([]);
  });

  it("reports a changed resource argument with its path and both values, and fails it unless it is allowed", () => {
    const changed = stack();
    changed.resource.aws_lambda_function.fn.runtime = "nodejs20.x";
    changed.resource.aws_lambda_function.fn.vpc_config.subnet_ids = ["subnet-1"];
    const c = compareOutputs(outDir(stack()), outDir(changed));
    expect(c.differences).toEqual([
      { path: "callee:resource.aws_lambda_function.fn.runtime", category: "resource arguments", cdktf: "nodejs22.x", cdktn: "nodejs20.x" },
      {
        path: "callee:resource.aws_lambda_function.fn.vpc_config.subnet_ids[1]",
        category: "resource arguments",
        cdktf: "subnet-2",
        cdktn: ABSENT,
      },
    ]);
    const j = judge(c.differences, []);
    expect(j.failed).toHaveLength(2);
    const report = formatReport(c, j, "allowed.json");
    expect(report).toContain("resource arguments: 2 difference(s)");
    expect(report).toContain(
      '[FAIL]    callee:resource.aws_lambda_function.fn.runtime\n      cdktf: "nodejs22.x"\n      cdktn: "nodejs20.x"\n      not listed in allowed.json',
    );
  });

  it("passes an allowed difference and prints its reason; the same path with another value still fails", () => {
    const changed = stack();
    changed.resource.aws_lambda_function.fn.timeout = 11;
    const allowed: AllowedDifference[] = [
      { path: "callee:resource.aws_lambda_function.fn.timeout", cdktf: 10, cdktn: 11, reason: "a reviewed change, for the test" },
    ];
    const c = compareOutputs(outDir(stack()), outDir(changed));
    const j = judge(c.differences, allowed);
    expect(j.failed).toEqual([]);
    expect(j.allowed).toHaveLength(1);
    expect(formatReport(c, j, "allowed.json")).toContain(
      "[allowed] callee:resource.aws_lambda_function.fn.timeout\n      cdktf: 10\n      cdktn: 11\n      reason: a reviewed change, for the test",
    );

    changed.resource.aws_lambda_function.fn.timeout = 12;
    expect(judge(compareOutputs(outDir(stack()), outDir(changed)).differences, allowed).failed).toHaveLength(1);
  });

  it("reports differences outside resources (provider versions, providers, data, outputs, metadata, the manifest): they fail unless listed", () => {
    const changed = stack();
    changed["//"].metadata.version = "0.24.0";
    changed.terraform.required_providers.aws = { source: "hashicorp/aws", version: "6.66.0" };
    changed.provider.aws[0].region = "eu-west-2";
    changed.data.aws_iam_policy_document.d.statement[0].actions = ["sts:TagSession"];
    delete changed.output.fn_arn;
    changed.resource.aws_lambda_function.fn["//"].metadata.uniqueId = "fn2";
    const c = compareOutputs(outDir(stack()), outDir(changed, { version: "0.24.0" }));
    expect(c.differences.map((d) => [d.path, d.category, d.cdktf, d.cdktn])).toEqual([
      ['callee:resource.aws_lambda_function.fn["//"].metadata.uniqueId', "outside resources", "fn", "fn2"],
      ['callee:["//"].metadata.version', "outside resources", "0.21.0", "0.24.0"],
      ["callee:data.aws_iam_policy_document.d.statement[0].actions[0]", "outside resources", "sts:AssumeRole", "sts:TagSession"],
      ["callee:output.fn_arn", "outside resources", { value: "${aws_lambda_function.fn.arn}" }, ABSENT],
      ["callee:provider.aws[0].region", "outside resources", "eu-west-1", "eu-west-2"],
      ["callee:terraform.required_providers.aws.source", "outside resources", "aws", "hashicorp/aws"],
      ["callee:terraform.required_providers.aws.version", "outside resources", "6.25.0", "6.66.0"],
      ["manifest.json:version", "outside resources", "0.21.0", "0.24.0"],
    ]);
    expect(judge(c.differences, []).failed).toHaveLength(8);
    // A `*` in an allowed path stands for the stack.
    const j = judge(c.differences, [
      {
        path: "*:terraform.required_providers.aws.version",
        cdktf: "6.25.0",
        cdktn: "6.66.0",
        reason: "each binding pins its own provider",
      },
    ]);
    expect(j.failed).toHaveLength(7);
    expect(j.allowed.map((a) => a.difference.path)).toEqual(["callee:terraform.required_providers.aws.version"]);
  });

  it("reports resources and stacks one side does not have", () => {
    const more = stack();
    more.resource.aws_sqs_queue = { q: { name: "q" } };
    const c = compareOutputs(outDir(stack()), outDir(more));
    expect(c.differences).toEqual([
      { path: "callee:resource.aws_sqs_queue.q", category: "resources added or removed", cdktf: ABSENT, cdktn: PRESENT },
    ]);
  });

  it("compares asset paths that differ only by folder by content", () => {
    const moved = stack();
    moved.resource.aws_s3_object.code.source = "assets/code_asset_1/BBBB/function.zip";
    const c = compareOutputs(outDir(stack()), outDir(moved, { assetFolder: "assets/code_asset_1/BBBB" }));
    expect(c.differences).toEqual([]);
    expect(c.equalByContent).toHaveLength(1);
    expect(c.equalByContent[0]).toMatch(
      /^callee:resource\.aws_s3_object\.code\.source \(assets\/code_asset_1\/AAAA\/function\.zip and assets\/code_asset_1\/BBBB\/function\.zip: sha256 [0-9a-f]{64}\)$/,
    );

    const rebuilt = compareOutputs(outDir(stack()), outDir(moved, { assetFolder: "assets/code_asset_1/BBBB", assetBytes: "other bytes" }));
    expect(rebuilt.differences.map((d) => [d.path, d.category])).toEqual([
      ["callee:resource.aws_s3_object.code.source", "resource arguments"],
      ["callee:assets", "assets"],
      ["callee:assets", "assets"],
    ]);
  });
});

describe("the allowed-differences file", () => {
  it("needs a reason for every entry, and exactly the keys path, cdktf, cdktn, reason", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-allowed-")), "a.json");
    fs.writeFileSync(
      file,
      JSON.stringify([
        { path: "x:y", cdktf: 1, cdktn: 2, reason: "" },
        { path: "x:z", cdktf: 1, cdktn: 2 },
      ]),
    );
    expect(() => readAllowed(file)).toThrow(/entry 0 \(x:y\): reason must say why.*entry 1 has keys cdktf,cdktn,path, expected exactly/);
  });

  it("the project's file is well formed, and every entry says why", () => {
    const entries = readAllowed(ALLOWED_DIFFERENCES);
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e.reason.length).toBeGreaterThan(40);
  });
});
