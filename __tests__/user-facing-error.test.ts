/**
 * One root for the errors meant for a person (config/user-facing-error.ts): each has a stable code, its own name,
 * and the entry points print its message without a stack trace.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ConfigValidationError } from "../config/config";
import { isUserFacing, UserFacingError } from "../config/user-facing-error";
import { BundleError } from "../constructs/bundle";
import { SimulationError } from "../core/iam/authorize";
import { ModelError } from "../core/model/types";
import { FaultSpecError } from "../local/server/faults";
import { LocalRuntimeError } from "../local/server/runtime";
import { VerifyInputError } from "../verify/access-model";
import { DependencyCycleError } from "../verify/deploy-time/graph";

const ROOT = path.join(__dirname, "..");

it.each([
  [new ConfigValidationError(["x is wrong"]), "ConfigValidationError", "CONFIG_INVALID"],
  [new BundleError("m"), "BundleError", "BUNDLE_FAILED"],
  [new ModelError("m"), "ModelError", "STACKS_UNREADABLE"],
  [new FaultSpecError("m"), "FaultSpecError", "FAULT_SPEC_INVALID"],
  [new LocalRuntimeError("m"), "LocalRuntimeError", "LOCAL_RUNTIME_REFUSED"],
  [new SimulationError("m"), "SimulationError", "POLICY_NOT_EVALUABLE"],
  [new DependencyCycleError("s", ["a", "b"]), "DependencyCycleError", "DEPENDENCY_CYCLE"],
  [new VerifyInputError("m"), "VerifyInputError", "VERIFY_BAD_INPUT"],
])("%s has the root, its own name and its stable code", (err, name, code) => {
  expect(err).toBeInstanceOf(UserFacingError);
  expect(isUserFacing(err)).toBe(true);
  expect(err.name).toBe(name);
  expect(err.code).toBe(code);
});

it("leaves other errors to be reported as bugs", () => {
  expect(isUserFacing(new Error("bug"))).toBe(false);
  expect(isUserFacing("a string")).toBe(false);
});

it("verify prints a user-facing error's message alone and exits 2", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", "verify/cli.ts", "--dir", "/nonexistent/cdktf.out"], {
    cwd: ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  expect(result.status).toBe(2);
  expect(result.stderr).toMatch(/^verify: \/nonexistent\/cdktf\.out does not exist: run `make synth`/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
});
