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

let child: ChildProcess;
let output = "";
let profilesDir: string;
let endpoint: string;

function awsEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: profilesDir,
    AWS_CONFIG_FILE: path.join(profilesDir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(profilesDir, "credentials"),
  };
}

beforeAll(async () => {
  if (!fs.existsSync(AWS_CLI)) throw new Error(`${AWS_CLI} is missing: run 'make install' (make test does) to install the pinned AWS CLI`);
  profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-profiles-"));
  child = spawn(TSX, ["local/cli.ts", "--port", "0", "--profiles-dir", profilesDir], { cwd: PROJECT_ROOT, env: { ...process.env, CHECKPOINT_DISABLE: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`make local did not start within 45 s:\n${output}`)), 45_000);
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
});

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

it("writes the five profiles, each with endpoint_url and region, and the secrets readable by the owner only", () => {
  const config = fs.readFileSync(path.join(profilesDir, "config"), "utf8");
  for (const p of ["caller-admin", "callee-admin", "caller-function", "callee-function", "outsider"]) {
    expect(config).toContain(`[profile ${p}]`);
  }
  expect(config.match(/endpoint_url = (.*)/g)?.every((l) => l === `endpoint_url = ${endpoint}`)).toBe(true);
  expect(config).toContain("region = eu-west-1");
  expect(fs.statSync(path.join(profilesDir, "credentials")).mode & 0o077).toBe(0);
});

it("the stock AWS CLI sees the caller function's role session", async () => {
  const { stdout } = await run(AWS_CLI, ["--profile", "caller-function", "sts", "get-caller-identity"], { env: awsEnv() });
  const who = JSON.parse(stdout);
  expect(who.Arn).toBe("arn:aws:sts::111111111111:assumed-role/xacct-demo-caller-exec/xacct-demo-caller");
  expect(who.Account).toBe("111111111111");
});

it("the stock AWS CLI runs the chain, and is refused as the outsider", async () => {
  const out = path.join(profilesDir, "answer.json");
  const payload = JSON.stringify({ payload: { operation: "quote", items: [{ sku: "A-1", quantity: 3, unitPriceCents: 100 }] } });
  // CLI v1 sends --payload as given; v2 needs --cli-binary-format raw-in-base64-out for the same.
  const { stdout } = await run(AWS_CLI, ["--profile", "caller-admin", "lambda", "invoke", "--function-name", "xacct-demo-caller", "--payload", payload, out], { env: awsEnv() });
  expect(JSON.parse(stdout)).toMatchObject({ StatusCode: 200, ExecutedVersion: "$LATEST" });
  const answer = JSON.parse(fs.readFileSync(out, "utf8"));
  expect(answer.ok).toBe(true);
  expect(answer.response.result.totalCents).toBe(300);

  const refused = await run(AWS_CLI, ["--profile", "outsider", "sts", "assume-role", "--role-arn", "arn:aws:iam::222222222222:role/xacct-demo-callee-invoker", "--role-session-name", "outsider"], { env: awsEnv() }).then(
    () => "",
    (err: { stderr: string }) => err.stderr,
  );
  expect(refused).toContain("An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::333333333333:user/administrator is not authorized");
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

it("Ctrl-C stops the endpoint and every function process, and exits 0", async () => {
  const started = await descendants(child.pid!);
  // tsx, node, and at least the caller's and the callee's warm environments.
  expect(started.length).toBeGreaterThanOrEqual(3);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGINT");
  expect(await exited).toBe(0);
  const port = Number(new URL(endpoint).port);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(false)));
    socket.once("error", () => resolve(true));
  });
  expect(refused).toBe(true);
  const left = started.filter(alive);
  expect(left.map((pid) => `${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`)).toEqual([]);
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
