/**
 * `local/cli.ts` as a user starts it, from a directory other than the repository: the absolute paths
 * and the export line it prints, and one line per authorization decision (unless --no-decisions).
 */
import { spawn, execFile, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { promisify } from "util";
import { formatDecision, type AuditEvent } from "../../local/server/audit";
import { PROJECT_ROOT } from "../../local/start";
import { loadAccountsModel } from "../../core/model/load-model";
import { endpointOf, OUT_DIR } from "./support";

const run = promisify(execFile);
const AWS_CLI = path.join(PROJECT_ROOT, ".venv", "bin", "aws");
const TSX_LOADER = pathToFileURL(path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
const CLI = path.join(PROJECT_ROOT, "local", "cli.ts");
const INVOKER_ROLE = "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker";
const CALLEE = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee";
/** The callee's alias live: what the caller invokes, and what its decision line names. */
const CALLEE_LIVE = `${CALLEE}:live`;
const CALLER = "arn:aws:lambda:eu-west-1:111111111111:function:xacct-demo-caller";

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

const started: Started[] = [];

/** `node local/cli.ts ARGS` in `cwd`, in its own process group; resolves once it printed its banner. */
async function startCli(cwd: string, args: string[]): Promise<Started> {
  let output = "";
  const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, "--port", "0", ...args], {
    cwd,
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const s = { child, output: () => output, exited };
  started.push(s);
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local/cli.ts did not start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on("data", () => {
      if (!output.includes("Ctrl-C")) return;
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`local/cli.ts exited early with ${code}:\n${output}`));
    });
  });
  return s;
}

/** SIGINT, then the whole output once it exited (every line it printed has arrived). */
async function stopCli(s: Started): Promise<string> {
  process.kill(-s.child.pid!, "SIGINT");
  await s.exited;
  return s.output();
}

afterAll(() => {
  for (const s of started) {
    try {
      process.kill(-s.child.pid!, "SIGKILL");
    } catch {
      // ESRCH: already stopped.
    }
  }
});

/** The environment the printed `export` line sets, parsed from the output (so the test uses what the user copies). */
function exportedEnv(output: string): Record<string, string> {
  const line = /^ {2}export (AWS_CONFIG_FILE=\S+ AWS_SHARED_CREDENTIALS_FILE=\S+)$/m.exec(output)?.[1];
  if (line === undefined) throw new Error(`no export line in:\n${output}`);
  return Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string]));
}

/** The pinned AWS CLI, run from `cwd`: stdout when it succeeded, the error text when refused. */
async function aws(cwd: string, env: Record<string, string>, args: string[]): Promise<{ ok: boolean; text: string }> {
  return run(AWS_CLI, args, { cwd, env: { PATH: process.env.PATH, HOME: cwd, ...env } }).then(
    (r) => ({ ok: true, text: r.stdout }),
    (err: { stderr: string }) => ({ ok: false, text: err.stderr }),
  );
}

/** One allowed chain (caller-admin invokes the caller, which assumes the invoker role) and two refusals. */
async function allowedAndRefused(cwd: string, env: Record<string, string>): Promise<void> {
  const out = path.join(cwd, "answer.json");
  const payload = JSON.stringify({ payload: { operation: "quote", items: [{ sku: "A-1", quantity: 1, unitPriceCents: 5 }] } });
  const chain = await aws(cwd, env, [
    "--profile",
    "caller-admin",
    "lambda",
    "invoke",
    "--function-name",
    "xacct-demo-caller",
    "--payload",
    payload,
    out,
  ]);
  expect(chain).toMatchObject({ ok: true });
  expect(JSON.parse(fs.readFileSync(out, "utf8")).ok).toBe(true);
  const outsider = await aws(cwd, env, [
    "--profile",
    "outsider",
    "sts",
    "assume-role",
    "--role-arn",
    INVOKER_ROLE,
    "--role-session-name",
    "outsider",
  ]);
  expect(outsider.ok).toBe(false);
  expect(outsider.text).toContain("(AccessDenied)");
  const direct = await aws(cwd, env, [
    "--profile",
    "caller-function",
    "lambda",
    "invoke",
    "--function-name",
    CALLEE,
    "--payload",
    "{}",
    path.join(cwd, "direct.json"),
  ]);
  expect(direct.ok).toBe(false);
  expect(direct.text).toContain("(AccessDeniedException)");
}

beforeAll(() => {
  if (!fs.existsSync(AWS_CLI)) throw new Error(`${AWS_CLI} is missing: run 'make install' (make test does) to install the pinned AWS CLI`);
});

it("prints the absolute paths it wrote and an export line that works from any directory, then each decision as one line", async () => {
  // Started from a directory that is not the repository, with a relative --profiles-dir.
  const startDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-cli-start-"));
  const s = await startCli(startDir, ["--profiles-dir", "profiles"]);
  const config = path.join(fs.realpathSync(startDir), "profiles", "config");
  const credentials = path.join(fs.realpathSync(startDir), "profiles", "credentials");
  const banner = s.output();
  expect(banner).toContain(`wrote ${config}\n`);
  expect(banner).toContain(`wrote ${credentials}\n`);
  const env = exportedEnv(banner);
  expect(env).toEqual({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: credentials });
  expect(banner).toContain(path.join(os.tmpdir(), "answer.json"));
  expect(banner).not.toMatch(/ answer\.json/);

  // Used from yet another directory, as the export line says.
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-cli-elsewhere-"));
  const who = await aws(elsewhere, env, ["--profile", "caller-function", "sts", "get-caller-identity"]);
  expect(JSON.parse(who.text).Arn).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
  await allowedAndRefused(elsewhere, env);

  const output = await stopCli(s);
  const lines = output.split("\n");
  // The administrator calls from outside; the caller's function, and the invoker session it obtains, through its VPC's endpoints.
  const model = loadAccountsModel(OUT_DIR);
  const [sts, lambda] = ["sts", "lambda"].map((service) => endpointOf(model, "xacct-demo-caller", service).id);
  expect(lines).toContain("ALLOW lambda:InvokeFunction arn:aws:iam::111111111111:user/administrator -> " + CALLER);
  expect(lines).toContain(
    `ALLOW sts:AssumeRole arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller -> ${INVOKER_ROLE} via ${sts} (sts)`,
  );
  expect(lines).toContain(
    `ALLOW lambda:InvokeFunction arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-invoker/xacct-demo-caller -> ${CALLEE_LIVE} via ${lambda} (lambda)`,
  );
  expect(
    lines.filter((l) => l.startsWith(`DENY sts:AssumeRole arn:aws:iam::333333333333:user/administrator -> ${INVOKER_ROLE} (`)),
  ).toHaveLength(1);
  expect(
    lines.filter((l) =>
      l.startsWith(
        `DENY lambda:InvokeFunction arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller -> ${CALLEE} (`,
      ),
    ),
  ).toHaveLength(1);
  // The function logs are still there (--quiet is what hides them).
  expect(output).toMatch(/^\[xacct-demo-caller\] /m);
});

it("--no-decisions hides the decision lines, and only them", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-cli-quiet-"));
  const s = await startCli(dir, ["--profiles-dir", path.join(dir, "profiles"), "--no-decisions"]);
  await allowedAndRefused(dir, exportedEnv(s.output()));
  const output = await stopCli(s);
  expect(output).not.toMatch(/^(ALLOW|DENY|ERROR) /m);
  expect(output).toMatch(/^\[xacct-demo-caller\] /m);
  expect(output).toContain("--no-decisions");
});

it("--quiet hides the function logs but keeps the decisions", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-cli-q-"));
  const s = await startCli(dir, ["--profiles-dir", path.join(dir, "profiles"), "--quiet"]);
  await allowedAndRefused(dir, exportedEnv(s.output()));
  const output = await stopCli(s);
  expect(output).not.toMatch(/^\[xacct-demo-caller\] /m);
  expect(output).toMatch(/^ALLOW sts:AssumeRole /m);
  expect(output).toMatch(/^DENY lambda:InvokeFunction /m);
});

it("the usage text documents --no-decisions and --quiet", async () => {
  const { stdout } = await run(process.execPath, ["--import", TSX_LOADER, CLI, "--help"], { cwd: PROJECT_ROOT });
  expect(stdout).toMatch(/--no-decisions\s+do not print the authorization decisions/);
  expect(stdout).toMatch(/--quiet\s+do not print function logs/);
});

describe("formatDecision", () => {
  const base: AuditEvent = {
    seq: 1,
    time: "",
    requestId: "r",
    service: "sts",
    action: "sts:AssumeRole",
    principal: "P",
    resource: "R",
    outcome: "allowed",
    decidedBy: ["trust"],
  };
  it("ALLOW without a reason, DENY with the statements, or AWS's 'because', or the code", () => {
    expect(formatDecision(base)).toBe("ALLOW sts:AssumeRole P -> R");
    expect(formatDecision({ ...base, outcome: "denied", decidedBy: ["identity-based policy (no Allow matched)"] })).toBe(
      "DENY sts:AssumeRole P -> R (identity-based policy (no Allow matched))",
    );
    expect(
      formatDecision({
        ...base,
        outcome: "denied",
        decidedBy: [],
        message: "User: P is not authorized because no resource-based policy allows it",
      }),
    ).toBe("DENY sts:AssumeRole P -> R (no resource-based policy allows it)");
    expect(formatDecision({ ...base, outcome: "denied", decidedBy: [], errorCode: "AccessDenied" })).toBe(
      "DENY sts:AssumeRole P -> R (AccessDenied)",
    );
    expect(formatDecision({ ...base, outcome: "error", errorCode: "ValidationError", resource: undefined })).toBe(
      "ERROR sts:AssumeRole P (ValidationError)",
    );
  });

  it("ends with the VPC endpoint the request passed, after the reason when refused", () => {
    const vpcEndpoint = { id: "vpce-1", service: "lambda", vpcId: "vpc-1", policyName: "VPC endpoint policy of vpce-1 (lambda)" };
    expect(formatDecision({ ...base, vpcEndpoint: { ...vpcEndpoint, result: "Allowed" } })).toBe(
      "ALLOW sts:AssumeRole P -> R via vpce-1 (lambda)",
    );
    expect(
      formatDecision({
        ...base,
        outcome: "denied",
        decidedBy: ["VPC endpoint policy of vpce-1 (lambda) (no Allow matched)"],
        vpcEndpoint: { ...vpcEndpoint, result: "ImplicitlyDenied" },
      }),
    ).toBe("DENY sts:AssumeRole P -> R (VPC endpoint policy of vpce-1 (lambda) (no Allow matched)) via vpce-1 (lambda)");
  });
});
