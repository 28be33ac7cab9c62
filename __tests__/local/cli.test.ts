/**
 * `make local` as a user runs it: the runtime in its own process, the profiles it writes, and the
 * stock AWS CLI (pinned in .venv) talking to it; Ctrl-C stops everything.
 */
import { spawn, execFile, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { PROJECT_ROOT } from "../../local/start";

const run = promisify(execFile);
const AWS_CLI = path.join(PROJECT_ROOT, ".venv", "bin", "aws");
const TSX = path.join(PROJECT_ROOT, "node_modules", ".bin", "tsx");

interface LocalProcess {
  child: ChildProcess;
  output: () => string;
  endpoint: string;
}

/** `make local` in its own process group, as a terminal runs it; resolves once it prints its endpoint. */
async function startMakeLocal(dir: string): Promise<LocalProcess> {
  let output = "";
  const child = spawn("make", ["-s", "local", `LOCAL_ARGS=--port 0 --profiles-dir ${dir}`], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`make local did not start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m && output.includes("Ctrl-C")) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`make local exited early with ${code}:\n${output}`)));
  });
  return { child, output: () => output, endpoint };
}

let local: LocalProcess;
let profilesDir: string;

function awsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: profilesDir,
    AWS_CONFIG_FILE: path.join(profilesDir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(profilesDir, "credentials"),
    ...extra,
  };
}

beforeAll(async () => {
  if (!fs.existsSync(AWS_CLI)) throw new Error(`${AWS_CLI} is missing: run 'make install' (make test does) to install the pinned AWS CLI`);
  profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-profiles-"));
  local = await startMakeLocal(profilesDir);
});

/** Last resort when a test failed midway: the whole group, if any of it is left. */
function killGroup(p: LocalProcess | undefined): void {
  try {
    if (p) process.kill(-p.child.pid!, "SIGKILL");
  } catch {
    // ESRCH: nothing left, as it should be.
  }
}

afterAll(() => killGroup(local));

it("writes the five profiles, each with endpoint_url and region, and the secrets readable by the owner only", () => {
  const config = fs.readFileSync(path.join(profilesDir, "config"), "utf8");
  for (const p of ["caller-admin", "callee-admin", "caller-function", "callee-function", "outsider"]) {
    expect(config).toContain(`[profile ${p}]`);
  }
  expect(config.match(/endpoint_url = (.*)/g)?.every((l) => l === `endpoint_url = ${local.endpoint}`)).toBe(true);
  expect(config).toContain("region = eu-west-1");
  expect(fs.statSync(path.join(profilesDir, "credentials")).mode & 0o077).toBe(0);
});

it("the stock AWS CLI sees the caller function's role session", async () => {
  const { stdout } = await run(AWS_CLI, ["--profile", "caller-function", "sts", "get-caller-identity"], { env: awsEnv() });
  const who = JSON.parse(stdout);
  expect(who.Arn).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
  expect(who.Account).toBe("111111111111");
});

it("each profile is who the README says it is", async () => {
  const expected: Record<string, string> = {
    "caller-admin": "arn:aws:iam::111111111111:user/administrator",
    "callee-admin": "arn:aws:iam::222222222222:user/administrator",
    "caller-function": "arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller",
    "callee-function": "arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-exec/xacct-demo-callee",
    outsider: "arn:aws:iam::333333333333:user/administrator",
  };
  const seen = await Promise.all(
    Object.keys(expected).map(async (profile) => [
      profile,
      JSON.parse((await run(AWS_CLI, ["--profile", profile, "sts", "get-caller-identity"], { env: awsEnv() })).stdout).Arn,
    ]),
  );
  expect(Object.fromEntries(seen)).toEqual(expected);
});

it("an SDK v3 program finds the runtime through AWS_PROFILE alone (endpoint_url from the profile)", async () => {
  const program = `const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");
new STSClient({}).send(new GetCallerIdentityCommand({})).then((r) => console.log(r.Arn), (e) => { console.error(e.name, e.message); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ["-e", program], { cwd: PROJECT_ROOT, env: awsEnv({ AWS_PROFILE: "callee-function" }) });
  expect(stdout.trim()).toBe("arn:aws:sts::222222222222:assumed-role/xacct-demo-callee-exec/xacct-demo-callee");
});

it("the stock AWS CLI runs the chain, and is refused as the outsider", async () => {
  const out = path.join(profilesDir, "answer.json");
  const payload = JSON.stringify({ payload: { operation: "quote", items: [{ sku: "A-1", quantity: 3, unitPriceCents: 100 }] } });
  // CLI v1 sends --payload as given; v2 needs --cli-binary-format raw-in-base64-out for the same.
  const { stdout } = await run(
    AWS_CLI,
    ["--profile", "caller-admin", "lambda", "invoke", "--function-name", "xacct-demo-caller", "--payload", payload, out],
    { env: awsEnv() },
  );
  expect(JSON.parse(stdout)).toMatchObject({ StatusCode: 200, ExecutedVersion: "$LATEST" });
  const answer = JSON.parse(fs.readFileSync(out, "utf8"));
  expect(answer.ok).toBe(true);
  expect(answer.response.result.totalCents).toBe(300);

  const refused = await run(
    AWS_CLI,
    [
      "--profile",
      "outsider",
      "sts",
      "assume-role",
      "--role-arn",
      "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker",
      "--role-session-name",
      "outsider",
    ],
    { env: awsEnv() },
  ).then(
    () => "",
    (err: { stderr: string }) => err.stderr,
  );
  expect(refused).toContain(
    "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::333333333333:user/administrator is not authorized",
  );
});

/** Every process below `root`, from ps's pid/ppid table. */
async function descendants(root: number): Promise<number[]> {
  const { stdout } = await run("ps", ["-e", "-o", "pid=,ppid="]);
  const children = new Map<number, number[]>();
  for (const line of stdout.trim().split("\n")) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (out.push(c), walk(c)));
  walk(root);
  return out;
}

/** Running, not a zombie waiting for a reaper (this container's init does not reap). */
const alive = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
};

const portClosed = (endpoint: string) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(Number(new URL(endpoint).port), "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });

const describeLeft = (pids: number[]) =>
  pids.filter(alive).map((pid) => `${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`);

async function waitUntilGone(pids: number[], ms = 10_000): Promise<string[]> {
  const until = Date.now() + ms;
  while (Date.now() < until && pids.some(alive)) await new Promise((r) => setTimeout(r, 100));
  return describeLeft(pids);
}

it("Ctrl-C stops the endpoint and every function process", async () => {
  const started = await descendants(local.child.pid!);
  // make, the runtime, and at least the caller's and the callee's warm environments.
  expect(started.length).toBeGreaterThanOrEqual(3);
  const exited = new Promise<void>((resolve) => local.child.once("exit", () => resolve()));
  process.kill(-local.child.pid!, "SIGINT"); // the whole foreground group, as a terminal's Ctrl-C does
  await exited;
  expect(local.output()).toContain("SIGINT: stopping the local runtime");
  expect(await portClosed(local.endpoint)).toBe(true);
  expect(await waitUntilGone(started)).toEqual([]);
});

it("SIGKILL of make alone (it cannot pass anything on) still stops the runtime and its function processes", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-profiles-"));
  const second = await startMakeLocal(dir);
  try {
    // Start a function environment so there is a grandchild to leave behind.
    const env = { ...awsEnv(), AWS_CONFIG_FILE: path.join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "credentials") };
    await run(
      AWS_CLI,
      [
        "--profile",
        "callee-admin",
        "lambda",
        "invoke",
        "--function-name",
        "xacct-demo-callee",
        "--payload",
        JSON.stringify({ operation: "quote", items: [{ sku: "A-1", quantity: 1, unitPriceCents: 1 }] }),
        path.join(dir, "out.json"),
      ],
      { env },
    );
    const started = await descendants(second.child.pid!);
    // The runtime notices it was orphaned; a SIGTERM to make is simply passed on to it.
    process.kill(second.child.pid!, "SIGKILL");
    expect(await waitUntilGone(started)).toEqual([]);
    expect(await portClosed(second.endpoint)).toBe(true);
  } finally {
    killGroup(second);
  }
});

it("a bad --port is refused with the usage, before anything starts", async () => {
  const result = await run(TSX, ["local/cli.ts", "--port", "http"], { cwd: PROJECT_ROOT }).then(
    () => ({ code: 0, stderr: "" }),
    (err: { code: number; stderr: string }) => err,
  );
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("--port must be an integer from 0 to 65535, got 'http'");
  expect(result.stderr).toContain("usage:");
});
