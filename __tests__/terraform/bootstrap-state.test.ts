/**
 * The bootstrap stack's local state survives `make clean` and a new synth: the real terraform, given the
 * synthesized backend block in a copy of the project's layout (<root>/cdktf.out/stacks/bootstrap), writes
 * its state to <root>/terraform-state/bootstrap.tfstate, outside cdktf.out.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OUT_DIR } from "../local/support";
import { requireTerraform, terraform } from "./terraform";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-bootstrap-state-"));
const cliConfig = path.join(root, "terraformrc");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(() => {
  requireTerraform([1, 4]);
  fs.writeFileSync(cliConfig, "");
});

it("applies with the synthesized local backend and keeps the state in terraform-state/, outside cdktf.out", () => {
  const synthesized = JSON.parse(fs.readFileSync(path.join(OUT_DIR, "stacks", "bootstrap", "cdk.tf.json"), "utf8"));
  const stackDir = path.join(root, "cdktf.out", "stacks", "bootstrap");
  fs.mkdirSync(stackDir, { recursive: true });
  // The stack's own backend block, verbatim; a built-in resource stands in for the AWS ones.
  const config = {
    terraform: { backend: synthesized.terraform.backend },
    resource: { terraform_data: { marker: { input: "bootstrap" } } },
  };
  fs.writeFileSync(path.join(stackDir, "main.tf.json"), JSON.stringify(config, null, 2));

  const init = terraform(stackDir, cliConfig, ["init", "-input=false", "-no-color"]);
  expect(init.flat).toContain("Terraform has been successfully initialized");
  const apply = terraform(stackDir, cliConfig, ["apply", "-auto-approve", "-input=false", "-no-color"]);
  expect(apply.flat).toContain("Apply complete! Resources: 1 added");

  const stateFile = path.join(root, "terraform-state", "bootstrap.tfstate");
  expect(JSON.parse(fs.readFileSync(stateFile, "utf8")).resources.map((r: { type: string }) => r.type)).toEqual(["terraform_data"]);
  expect(fs.existsSync(path.join(stackDir, "terraform.tfstate"))).toBe(false);
  // What `make clean` removes leaves the state in place.
  fs.rmSync(path.join(root, "cdktf.out"), { recursive: true, force: true });
  expect(fs.existsSync(stateFile)).toBe(true);
});
