/**
 * scripts/validate.sh (make validate) with the real terraform: on the synthesized stacks (whose
 * hashicorp/aws provider must be downloaded), and on stacks that need only the built-in provider,
 * which terraform can init and validate offline.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requireTerraform, terraformEnv } from "./terraform";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = path.join(PROJECT_ROOT, "scripts", "validate.sh");
const STACKS = path.join(PROJECT_ROOT, "cdktf.out", "stacks");

let tmp: string;
let cliConfig: string;

beforeAll(() => {
  requireTerraform([1, 4]);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-tf-validate-"));
  cliConfig = path.join(tmp, "empty.tfrc");
  fs.writeFileSync(cliConfig, "");
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function validate(stacksDir: string, logDir: string, env: Record<string, string> = {}) {
  const result = spawnSync("/usr/bin/env", ["bash", SCRIPT, stacksDir], {
    cwd: PROJECT_ROOT,
    env: { ...terraformEnv(cliConfig), VALIDATE_LOG_DIR: logDir, ...env },
    encoding: "utf8",
    // A machine that can reach the registry downloads the AWS provider here.
    timeout: 540_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function stack(root: string, name: string, text: string): void {
  fs.mkdirSync(path.join(root, name), { recursive: true });
  fs.writeFileSync(path.join(root, name, "cdk.tf.json"), text);
}

/** Every path under dir named `name`. */
function findNamed(dir: string, name: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.name === name) return [full];
    return entry.isDirectory() ? findNamed(full, name) : [];
  });
}

describe("scripts/validate.sh on the synthesized stacks", () => {
  it("validates every stack, or, where the AWS provider cannot be downloaded (as on a machine without registry access), says so in one sentence and exits 2", () => {
    const stacks = fs.readdirSync(STACKS).filter((name) => fs.existsSync(path.join(STACKS, name, "cdk.tf.json")));
    expect(stacks.length).toBeGreaterThanOrEqual(2);
    const logDir = path.join(tmp, "synthesized-logs");
    const run = validate(STACKS, logDir);
    if (run.status === 2) {
      expect(run.stdout).toBe("");
      const lines = run.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      const logFile = /\(terraform's output: (\S+)\)/.exec(lines[0])?.[1];
      expect(lines[0]).toBe(
        `validate: the hashicorp/aws provider could not be downloaded from registry.terraform.io (terraform's output: ${logFile}), ` +
          `so validation cannot run on this machine: run make validate on a machine with registry access, or there run ` +
          `terraform init -backend=false && terraform validate in ${STACKS}/<stack>.`,
      );
      // The log holds what terraform really said: it could not reach the registry.
      expect(path.dirname(logFile!)).toBe(logDir);
      const log = fs.readFileSync(logFile!, "utf8");
      expect(log).toContain("hashicorp/aws");
      expect(log).toMatch(
        /Failed to query available provider packages|Failed to install provider|could not connect to registry\.terraform\.io/,
      );
    } else {
      // The registry is reachable here: then every stack must be valid.
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
      for (const name of stacks) expect(run.stdout).toContain(`validate: stack ${name} is valid`);
    }
    expect(findNamed(STACKS, ".terraform")).toEqual([]);
    expect(findNamed(STACKS, ".terraform.lock.hcl")).toEqual([]);
  }, 600_000);
});

describe("scripts/validate.sh on stacks terraform can init offline (built-in provider only)", () => {
  const valid = JSON.stringify({
    resource: { terraform_data: { marker: { input: "ok" } } },
    output: { marker: { value: "${terraform_data.marker.output}" } },
  });

  it("passes valid stacks, working on copies: nothing is written into the stacks' folders", () => {
    const root = path.join(tmp, "valid");
    stack(root, "first", valid);
    stack(root, "second", valid);
    const logDir = path.join(tmp, "valid-logs");
    const run = validate(root, logDir);
    expect(run).toEqual({
      status: 0,
      stdout: `validate: stack first is valid (log: ${logDir}/first.log)\nvalidate: stack second is valid (log: ${logDir}/second.log)\n`,
      stderr: "",
    });
    expect(fs.readFileSync(path.join(logDir, "first.log"), "utf8")).toContain("Success! The configuration is valid.");
    expect(fs.readdirSync(path.join(root, "first"))).toEqual(["cdk.tf.json"]);
  });

  it("fails on an invalid stack with terraform validate's own error, and still checks the others", () => {
    const root = path.join(tmp, "invalid");
    stack(root, "a-invalid", JSON.stringify({ output: { broken: { value: "${terraform_data.nowhere.output}" } } }));
    stack(root, "b-valid", valid);
    const run = validate(root, path.join(tmp, "invalid-logs"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("validate: stack a-invalid is NOT valid");
    expect(run.stderr).toContain("Error: Reference to undeclared resource");
    expect(run.stderr).toContain("validate: invalid stacks: a-invalid");
    expect(run.stdout).toContain("validate: stack b-valid is valid");
  });

  it("tells an init failure that is not a download apart from one that is, naming the log", () => {
    const root = path.join(tmp, "unreadable");
    stack(root, "broken", "{ this is not JSON");
    const logDir = path.join(tmp, "unreadable-logs");
    const run = validate(root, logDir);
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      `validate: terraform init -backend=false failed for stack broken, and not for a download: see ${logDir}/broken.log.`,
    );
    expect(fs.readFileSync(path.join(logDir, "broken.log"), "utf8")).toMatch(/Error: /);
  });

  it("exits 2 with one sentence when there is no terraform on PATH", () => {
    const emptyBin = path.join(tmp, "empty-bin");
    fs.mkdirSync(emptyBin, { recursive: true });
    const result = spawnSync("/bin/bash", [SCRIPT, path.join(tmp, "valid")], {
      cwd: PROJECT_ROOT,
      env: { ...terraformEnv(cliConfig), PATH: emptyBin },
      encoding: "utf8",
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      "validate: terraform is not on PATH, so validation cannot run here: install Terraform >= 1.10 and run make validate again.\n",
    );
  });

  it("says to synthesize first when there is no stack", () => {
    const run = validate(path.join(tmp, "no-such-dir"), path.join(tmp, "none-logs"));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("no synthesized stack");
    expect(run.stderr).toContain("make synth");
  });
});
