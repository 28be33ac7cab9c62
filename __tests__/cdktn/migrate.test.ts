/** The cdktf -> cdktn migration (scripts/cdktn/migrate.ts) on small fixtures: no network, any Node.js. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  applyMigration,
  AWS_PROVIDER,
  CDKTN_VERSIONS,
  enginesAtLeastRequired,
  migratableFiles,
  migratePackageJson,
  migratePackageJsonText,
  planMigration,
  rewriteSource,
  unmappedSpecifiers,
  usesCdktf,
} from "../../scripts/cdktn/migrate";
import { compareVersions, nodeVersionProblem } from "../../scripts/cdktn/node-version";
import { toolchainMismatch } from "../../scripts/cdktn/paths";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

describe("rewriteSource: imports", () => {
  it.each([
    [`import { App, TerraformStack } from "cdktf";`, `import { App, TerraformStack } from "cdktn";`],
    [`import type { Construct } from 'cdktf';`, `import type { Construct } from 'cdktn';`],
    [`export { Testing } from "cdktf";`, `export { Testing } from "cdktn";`],
    [`import { IamRole } from "@cdktf/provider-aws/lib/iam-role";`, `import { IamRole } from "@cdktn/provider-aws/lib/iam-role";`],
    [
      `import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";`,
      `import { S3BucketServerSideEncryptionConfigurationA } from "@cdktn/provider-aws/lib/s3-bucket-server-side-encryption-configuration";`,
    ],
    [`const { App } = require("cdktf");`, `const { App } = require("cdktn");`],
    [`require("@cdktf/provider-aws");`, `require("@cdktn/provider-aws");`],
    [`const cli = require.resolve("cdktf-cli/bundle/bin/cdktf");`, `const cli = require.resolve("cdktn-cli/bin/cdktn");`],
    [`const pkg = require.resolve("cdktf-cli/package.json");`, `const pkg = require.resolve("cdktn-cli/package.json");`],
    [`const m = await import("cdktf");`, `const m = await import("cdktn");`],
    [`jest.mock("cdktf", () => ({}));`, `jest.mock("cdktn", () => ({}));`],
    [`import "cdktf/lib/testing/adapters/jest";`, `import "cdktn/lib/testing/adapters/jest";`],
  ])("%s", (before, after) => {
    expect(rewriteSource(before)).toBe(after);
  });

  it("rewrites the provider package wherever it is named (eslint's no-restricted-imports, comments)", () => {
    const eslint = `{ paths: [{ name: "@cdktf/provider-aws", message: "Import the class by deep path, e.g. '@cdktf/provider-aws/lib/iam-role'." }] }`;
    expect(rewriteSource(eslint)).toBe(
      `{ paths: [{ name: "@cdktn/provider-aws", message: "Import the class by deep path, e.g. '@cdktn/provider-aws/lib/iam-role'." }] }`,
    );
  });

  it("rewrites CLI invocations, and only those", () => {
    expect(rewriteSource("\tnpx cdktf synth\n")).toBe("\tnpx cdktn synth\n");
    expect(rewriteSource("run `make synth` (or `npx cdktf synth`) first")).toBe("run `make synth` (or `npx cdktn synth`) first");
    expect(rewriteSource("deploy the stacks first (cdktf deploy callee caller)")).toBe(
      "deploy the stacks first (cdktn deploy callee caller)",
    );
    // Not commands: the output folder, the config file, prose, the stacks' own values.
    const untouched = [
      `const out = path.join(root, "cdktf.out");`,
      `const file = path.join(cwd, "cdktf.json");`,
      `pass --dir with a cdktf output directory`,
      `tags: { ManagedBy: "cdktf" }`,
      "sessionName: `cdktf-${config.namePrefix}-${side}`",
      `const s = "cdktf";`,
      `// cdktf's App writes to CDKTF_OUTDIR (node_modules/cdktf/lib/app.js)`,
      `process.env.CDKTF_CONTEXT_JSON`,
    ];
    for (const line of untouched) expect(rewriteSource(line)).toBe(line);
  });

  it("follows the AWS provider version a test asserts, on lines naming required_providers only", () => {
    const test = `expect(json.terraform.required_providers.aws.version).toBe("${AWS_PROVIDER.cdktf}");\nconst other = "${AWS_PROVIDER.cdktf}";\n`;
    expect(rewriteSource(test)).toBe(
      `expect(json.terraform.required_providers.aws.version).toBe("${AWS_PROVIDER.cdktn}");\nconst other = "${AWS_PROVIDER.cdktf}";\n`,
    );
    expect(rewriteSource(`required_providers: "6.20.0"`, { awsProviderFrom: "6.20.0" })).toBe(
      `required_providers: "${AWS_PROVIDER.cdktn}"`,
    );
  });

  it("leaves a file that imports neither package byte for byte as it was", () => {
    const source = `import * as fs from "fs";\nimport { z } from "zod";\n// synthesized into cdktf.out by cdktf\nexport const x = fs.existsSync("cdktf.json");\r\n`;
    expect(rewriteSource(source)).toBe(source);
  });

  it("is idempotent: rewriting a rewritten file changes nothing", () => {
    const source = [
      `import { App } from "cdktf";`,
      `import { AwsProvider } from "@cdktf/provider-aws/lib/provider";`,
      `const x = require.resolve("cdktf-cli");`,
      `// npx cdktf synth, then cdktf deploy`,
      `expect(json.terraform.required_providers.aws.version).toBe("${AWS_PROVIDER.cdktf}");`,
    ].join("\n");
    const once = rewriteSource(source);
    expect(once).not.toBe(source);
    expect(once).not.toMatch(/cdktf/);
    expect(rewriteSource(once)).toBe(once);
  });

  it("reports cdktf imports it has no mapping for", () => {
    expect(
      unmappedSpecifiers(rewriteSource(`import { NullProvider } from "@cdktf/provider-null/lib/provider";\nimport { App } from "cdktf";`)),
    ).toEqual(["@cdktf/provider-null/lib/provider"]);
    expect(unmappedSpecifiers(`import { App } from "cdktn";`)).toEqual([]);
  });
});

describe("migratePackageJson", () => {
  const pkg = {
    name: "p",
    engines: { node: ">=20" },
    scripts: { synth: "CHECKPOINT_DISABLE=1 cdktf synth", deploy: "npx cdktf deploy '*'", test: "jest" },
    dependencies: {
      "@aws-sdk/client-sts": "3.1164.0",
      "@cdktf/provider-aws": "21.22.1",
      cdktf: "0.21.0",
      constructs: "10.4.2",
      zod: "4.6.7",
    },
    devDependencies: { "cdktf-cli": "0.21.0", jest: "30.5.2" },
  };

  it("renames and pins the packages, pins constructs, raises engines.node and rewrites the CLI in scripts", () => {
    const out = migratePackageJson(pkg);
    expect(out).toEqual({
      name: "p",
      engines: { node: ">=22.19" },
      scripts: { synth: "CHECKPOINT_DISABLE=1 cdktn synth", deploy: "npx cdktn deploy '*'", test: "jest" },
      dependencies: {
        "@aws-sdk/client-sts": "3.1164.0",
        "@cdktn/provider-aws": CDKTN_VERSIONS["@cdktn/provider-aws"],
        cdktn: "0.24.0",
        constructs: "10.6.0",
        zod: "4.6.7",
      },
      devDependencies: { "cdktn-cli": "0.24.0", jest: "30.5.2" },
    });
    // Keys keep their place, so the diff is the renamed lines only.
    expect(Object.keys(out.dependencies as object)).toEqual(["@aws-sdk/client-sts", "@cdktn/provider-aws", "cdktn", "constructs", "zod"]);
    expect(pkg.dependencies.cdktf).toBe("0.21.0"); // the input is not modified
  });

  it("keeps an engines.node that already requires 22.19 or later, and adds one when there is none", () => {
    expect(migratePackageJson({ ...pkg, engines: { node: ">=22.19 <23" } }).engines).toEqual({ node: ">=22.19 <23" });
    expect(migratePackageJson({ name: "p" }).engines).toEqual({ node: ">=22.19" });
    expect(enginesAtLeastRequired(">=22.19.0")).toBe(true);
    expect(enginesAtLeastRequired("^24.1.0")).toBe(true);
    expect(enginesAtLeastRequired(">=22.18")).toBe(false);
    expect(enginesAtLeastRequired(">=20 || >=22.19")).toBe(false);
    expect(enginesAtLeastRequired(undefined)).toBe(false);
  });

  it("is idempotent, text included", () => {
    const once = migratePackageJsonText(JSON.stringify(pkg, null, 2) + "\n");
    expect(migratePackageJsonText(once)).toBe(once);
    expect(usesCdktf(JSON.parse(once))).toBe(false);
    expect(usesCdktf(pkg)).toBe(true);
    const already = `{"name":"p","engines":{"node":">=22.19"},"dependencies":{"cdktn":"0.24.0"}}`;
    expect(migratePackageJsonText(already)).toBe(already);
  });

  it("toolchain/cdktn/package.json is the migration of this project's package.json (else make test-cdktn stops and says how to regenerate it)", () => {
    expect(toolchainMismatch(path.join(PROJECT_ROOT, "package.json"))).toBeUndefined();
    const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-pkg-")), "package.json");
    const changed = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    changed.dependencies.zod = "0.0.1";
    fs.writeFileSync(other, JSON.stringify(changed));
    expect(toolchainMismatch(other)).toBe(
      'toolchain/cdktn/package.json is not the migration of package.json (at dependencies.zod the migration gives "0.0.1", toolchain/cdktn has "4.6.7")',
    );
  });
});

describe("planMigration and applyMigration on a project folder", () => {
  function fixture(): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "cdktn-migrate-"));
    const write = (rel: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    write(
      "package.json",
      JSON.stringify(
        {
          name: "f",
          scripts: { synth: "cdktf synth" },
          dependencies: { cdktf: "0.21.0", "@cdktf/provider-aws": "21.22.1", constructs: "10.4.2" },
          devDependencies: { "cdktf-cli": "0.21.0" },
        },
        null,
        2,
      ) + "\n",
    );
    write("main.ts", `import { App } from "cdktf";\nnew App().synth();\n`);
    write("stacks/s.ts", `import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";\nexport { S3Bucket };\n`);
    write("config/plain.ts", `export const n = 1; // writes cdktf.out\n`);
    write("Makefile", "synth:\n\tnpx cdktf synth\n");
    write("cdktf.json", `{"language":"typescript","app":"npx tsx main.ts"}\n`);
    write("README.md", "Run `npx cdktf synth`.\n");
    write("node_modules/cdktf/index.js", `require("cdktf");\n`);
    write("cdktf.out/x.js", `require("cdktf");\n`);
    write("scripts/cdktn/own.ts", `import { App } from "cdktf";\n`);
    return root;
  }

  it("changes exactly package.json, the importing sources and the Makefile; nothing else is read", () => {
    const root = fixture();
    expect(migratableFiles(root)).toEqual(["Makefile", "config/plain.ts", "main.ts", "stacks/s.ts"]);
    const plan = planMigration(root);
    expect(plan.changes.map((c) => c.file)).toEqual(["package.json", "Makefile", "main.ts", "stacks/s.ts"]);
    expect(plan.unmapped).toEqual([]);
    const before = new Map(
      ["config/plain.ts", "cdktf.json", "README.md", "node_modules/cdktf/index.js", "cdktf.out/x.js", "scripts/cdktn/own.ts"].map((f) => [
        f,
        fs.readFileSync(path.join(root, f), "utf8"),
      ]),
    );
    applyMigration(root, plan);
    expect(fs.readFileSync(path.join(root, "main.ts"), "utf8")).toBe(`import { App } from "cdktn";\nnew App().synth();\n`);
    expect(fs.readFileSync(path.join(root, "stacks/s.ts"), "utf8")).toBe(
      `import { S3Bucket } from "@cdktn/provider-aws/lib/s3-bucket";\nexport { S3Bucket };\n`,
    );
    expect(fs.readFileSync(path.join(root, "Makefile"), "utf8")).toBe("synth:\n\tnpx cdktn synth\n");
    expect(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))).toEqual({
      name: "f",
      scripts: { synth: "cdktn synth" },
      dependencies: { cdktn: "0.24.0", "@cdktn/provider-aws": "25.7.0", constructs: "10.6.0" },
      devDependencies: { "cdktn-cli": "0.24.0" },
      engines: { node: ">=22.19" },
    });
    for (const [f, text] of before) expect(fs.readFileSync(path.join(root, f), "utf8")).toBe(text);
  });

  it("a second migration plans no change", () => {
    const root = fixture();
    applyMigration(root, planMigration(root));
    expect(planMigration(root).changes).toEqual([]);
  });
});

describe("the Node.js version check", () => {
  it("accepts 22.19.0 and later, and names what it found, what is needed and that make provides it", () => {
    expect(compareVersions("v22.19.0", "22.19.0")).toBe(0);
    expect(compareVersions("22.9.0", "22.19.0")).toBe(-1);
    expect(nodeVersionProblem("make test-cdktn", "v22.19.0", "/x/node")).toBeUndefined();
    expect(nodeVersionProblem("make test-cdktn", "v24.1.0", "/x/node")).toBeUndefined();
    expect(nodeVersionProblem("make test-cdktn", "v20.20.2", "/usr/bin/node")).toBe(
      "make test-cdktn needs Node.js >= 22.19.0 (cdktn-cli 0.24 requires it), but the node on PATH (/usr/bin/node) is v20.20.2: run it through make, which provides Node.js 22.",
    );
    expect(nodeVersionProblem("x", "v22.18.9", "n")).toMatch(/is v22\.18\.9/);
  });
});
