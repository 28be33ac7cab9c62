/**
 * `npm run verify`: the access proof of the synthesized stacks, or (--live) of the deployed accounts.
 * Exit codes: 0 the proof holds; 1 access beyond the intended path, the intended path refused,
 * or a policy finding; 2 bad input (nothing was judged).
 */
import * as path from "path";
import { parseArgs } from "util";
import { isUserFacing } from "../config/user-facing-error";
import { ensureSynthesized, ModelError, PROJECT_ROOT, SimulationError } from "../core";
import { VerifyInputError, type AccessModel } from "./access-model";
import { analyzeAccess } from "./analyze";
import { findPolicyProblems } from "./findings";
import { checkDeployTime } from "./deploy-time/check";
import { deployTimeMermaid } from "./deploy-time/report";
import { accessModelFromStacks, deployOrderOf } from "./from-stacks";
import { jsonReport, mermaidReport, passed, textReport, type ProofResult } from "./report";
import { validatePolicies } from "./validate-policies";

export const EXIT = { proven: 0, violation: 1, badInput: 2 } as const;

const USAGE = `Usage:
  npm run verify -- [--dir DIR] [--format text|json|mermaid]
  npm run verify -- --live --caller-profile P --callee-profile Q [--ignore-drift] [--dir DIR] [--format text|json|mermaid]

Computes who can assume the invoker role, invoke the callee (directly or through any chain of
roles), read or write the code buckets, and use or administer the keys, from the policies of
the synthesized stacks (default: cdktf.out, synthesized first when missing or out of date), or
with --live from the deployed accounts, read with the two AWS profiles (IAM, Lambda, KMS and S3
read APIs; the profiles need read access such as the AWS-managed SecurityAudit policy).

It also walks each stack's resources in the order Terraform creates, then destroys them, and checks
what AWS validates at each step (CreateFunction's role and network-interface permissions, keys,
destinations, the code upload, the destroy order of security groups and permissions).

Exit codes: 0 only the intended path is open and every deploy-time check passes; 1 access beyond
the intended path, the intended path refused, a policy or deploy-time finding, or (live) drift
from the stacks unless --ignore-drift; 2 bad input (nothing was judged).`;

const FORMATS = ["text", "json", "mermaid"] as const;
type Format = (typeof FORMATS)[number];

interface Options {
  readonly dir?: string;
  readonly format: Format;
  readonly live?: { readonly callerProfile: string; readonly calleeProfile: string; readonly ignoreDrift: boolean };
}

function parseOptions(argv: readonly string[]): Options | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        dir: { type: "string" },
        format: { type: "string", default: "text" },
        live: { type: "boolean", default: false },
        "caller-profile": { type: "string" },
        "callee-profile": { type: "string" },
        "ignore-drift": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new VerifyInputError(`${(err as Error).message}\n\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (!(FORMATS as readonly string[]).includes(v.format as string))
    throw new VerifyInputError(`--format ${v.format} is not one of ${FORMATS.join(", ")}`);
  const callerProfile = v["caller-profile"];
  const calleeProfile = v["callee-profile"];
  if (!v.live && (callerProfile !== undefined || calleeProfile !== undefined || v["ignore-drift"]))
    throw new VerifyInputError("--caller-profile, --callee-profile and --ignore-drift are for live mode: add --live");
  if (v.live && (callerProfile === undefined || calleeProfile === undefined)) {
    throw new VerifyInputError(
      "--live needs both --caller-profile (account A, where the caller runs) and --callee-profile (account B, where the callee runs)",
    );
  }
  return {
    ...(v.dir !== undefined ? { dir: v.dir } : {}),
    format: v.format as Format,
    ...(v.live
      ? {
          live: { callerProfile: callerProfile as string, calleeProfile: calleeProfile as string, ignoreDrift: v["ignore-drift"] === true },
        }
      : {}),
  };
}

/** The cdktf output to judge: --dir as given, or cdktf.out, synthesized first when missing or stale. */
async function stacksDir(options: Options, log: (line: string) => void): Promise<string> {
  if (options.dir !== undefined) return options.dir;
  const outDir = path.join(PROJECT_ROOT, "cdktf.out");
  try {
    await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, log });
  } catch (err) {
    if (err instanceof ModelError) throw new VerifyInputError(err.message);
    throw err;
  }
  return path.relative(process.cwd(), outDir) || ".";
}

export async function runVerify(argv: readonly string[], out: (text: string) => void, log: (line: string) => void): Promise<number> {
  const options = parseOptions(argv);
  if (options === "help") {
    out(USAGE);
    return EXIT.proven;
  }
  const dir = await stacksDir(options, log);
  const stacks: AccessModel = accessModelFromStacks(dir);
  let model = stacks;
  let drift: string[] | undefined;
  if (options.live) {
    // Loaded only for live mode: it pulls in the AWS SDK clients.
    const { readDeployedAccounts } = await import("./live");
    ({ model, drift } = await readDeployedAccounts(stacks, options.live));
  }
  validatePolicies(model);
  let analysis;
  try {
    analysis = await analyzeAccess(model);
  } catch (err) {
    // validatePolicies catches what AWS would refuse; anything the simulator still cannot read is bad input too.
    if (err instanceof SimulationError) throw new VerifyInputError(`a policy cannot be evaluated: ${err.message}`);
    throw err;
  }
  // Deploying is judged on the stacks, in live mode too: it is about what the next apply and destroy will do.
  const deployTime = await checkDeployTime(dir, deployOrderOf(dir));
  const result: ProofResult = {
    analysis,
    findings: findPolicyProblems(model),
    deployTime,
    ...(drift ? { drift, driftJudged: !options.live?.ignoreDrift } : {}),
  };
  if (options.format === "json") out(jsonReport(result));
  else if (options.format === "mermaid") out(`${mermaidReport(result.analysis)}\n${deployTimeMermaid(deployTime)}`);
  else out(textReport(result));
  return passed(result) ? EXIT.proven : EXIT.violation;
}

/**
 * A writer to a stream that may be closed under us (`npm run verify -- --format json | head -1`):
 * once the reader has gone (EPIPE), it stops writing, quietly. Any other error on the stream is
 * passed to onOtherError. The exit code stays the proof's.
 */
export function pipeWriter(stream: NodeJS.WritableStream, onOtherError: (err: Error) => void): (text: string) => void {
  let closed = false;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") {
      closed = true;
      return;
    }
    onOtherError(err);
  });
  return (text) => {
    if (closed) return;
    stream.write(text);
  };
}

if (require.main === module) {
  const writeErr = pipeWriter(process.stderr, () => undefined);
  const writeOut = pipeWriter(process.stdout, (err) => {
    writeErr(`verify: cannot write the report: ${err.message}\n`);
    process.exitCode = EXIT.badInput;
  });
  runVerify(
    process.argv.slice(2),
    (text) => writeOut(`${text}\n`),
    (line) => writeErr(`verify: ${line}\n`),
  )
    .then((code) => {
      // A report that could not be written (other than to a reader that has gone) is not a proof.
      if (process.exitCode === undefined || process.exitCode === EXIT.proven) process.exitCode = code;
    })
    .catch((err: unknown) => {
      // Bad input of any kind (the stacks, a profile, a policy): the message alone, exit 2.
      if (isUserFacing(err)) {
        writeErr(`verify: ${err.message}\n`);
        process.exitCode = EXIT.badInput;
        return;
      }
      writeErr(`verify: internal error (please report it): ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = EXIT.badInput;
    });
}
