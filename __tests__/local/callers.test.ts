/**
 * The local runtime with several callers (examples/three-callers.json): every configured account (the
 * callee's, each caller's, the outsider's), profiles named by stack, and each caller's function
 * reaching the callee only through its own invoker role, at the alias; `local/cli.ts` writes and
 * prints those profiles, and the AWS CLI uses them.
 */
import { execFile, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pathToFileURL } from "url";
import { promisify } from "util";
import { AssumeRoleCommand, GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { LocalRuntime } from "../../local/server/runtime";
import { PROJECT_ROOT } from "../../local/start";
import { boot, errorOf, lambdaAs, payloadOf, QUOTE, stsAs, THREE_CALLERS_CONFIG, threeCallerStacks } from "./support";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const run = promisify(execFile);
const AWS_CLI = path.join(PROJECT_ROOT, ".venv", "bin", "aws");
const TSX_LOADER = pathToFileURL(path.join(PROJECT_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
const LIVE_ARN = "arn:aws:lambda:eu-west-1:222222222222:function:xacct-demo-callee:live";
const CALLERS = [
  { name: "orders", account: "111111111111" },
  { name: "billing", account: "111111111111" },
  { name: "reports", account: "444444444444" },
] as const;
const invokerRole = (name: string) => `arn:aws:iam::222222222222:role/xacct-demo-invoker-${name}`;
const functionSession = (c: { name: string; account: string }) =>
  `arn:aws:sts::${c.account}:assumed-role/xacct-demo-${c.name}-exec/xacct-demo-${c.name}`;

let dir: string;
let runtime: LocalRuntime & { logs: string[] };

beforeAll(async () => {
  dir = await threeCallerStacks();
  runtime = await boot(dir);
});
afterAll(async () => {
  await runtime?.stop();
});

describe("three callers, two of them in one account", () => {
  it("has every configured account and a profile per stack: <stack>-admin, <stack>-function, and the outsider", () => {
    expect(runtime.model.accounts.map((a) => a.accountId)).toEqual(["111111111111", "222222222222", "444444444444"]);
    const profiles = Object.fromEntries(runtime.profiles().map((p) => [p.profile, p]));
    expect(Object.keys(profiles).sort()).toEqual(
      [
        "callee-admin",
        "callee-function",
        ...CALLERS.flatMap((c) => [`caller-${c.name}-admin`, `caller-${c.name}-function`]),
        "outsider",
      ].sort(),
    );
    for (const c of CALLERS) {
      expect(profiles[`caller-${c.name}-admin`]).toMatchObject({
        principalArn: `arn:aws:iam::${c.account}:user/administrator`,
        accountId: c.account,
      });
      expect(profiles[`caller-${c.name}-function`]).toMatchObject({ principalArn: functionSession(c), accountId: c.account });
    }
    // Two callers in one account: one administrator, under both stacks' profile names.
    expect(profiles["caller-orders-admin"].accessKeyId).toBe(profiles["caller-billing-admin"].accessKeyId);
    expect(profiles["caller-reports-admin"].accessKeyId).not.toBe(profiles["caller-orders-admin"].accessKeyId);
    expect(profiles["callee-admin"].principalArn).toBe("arn:aws:iam::222222222222:user/administrator");
    expect(profiles.outsider.principalArn).toBe("arn:aws:iam::333333333333:user/administrator");
  });

  it.each(CALLERS)("caller $name's function reaches the callee through its own invoker role, at the alias", async (c) => {
    const before = runtime.audit.lastSeq;
    const res = await lambdaAs(runtime, `caller-${c.name}-admin`).send(
      new InvokeCommand({
        FunctionName: `xacct-demo-${c.name}`,
        Payload: Buffer.from(JSON.stringify({ correlationId: c.name, payload: QUOTE })),
      }),
    );
    const answer = payloadOf(res) as Json;
    expect({ status: res.StatusCode, functionError: res.FunctionError, version: res.ExecutedVersion }).toEqual({
      status: 200,
      functionError: undefined,
      version: "$LATEST",
    });
    expect(answer).toMatchObject({ ok: true, correlationId: c.name, response: { ok: true, servedBy: { functionArn: LIVE_ARN } } });
    const events = runtime.audit.since(before).filter((e) => e.outcome === "allowed");
    expect(events.filter((e) => e.action === "sts:AssumeRole").map((e) => [e.principal, e.resource])).toEqual([
      [functionSession(c), invokerRole(c.name)],
    ]);
    expect(events.filter((e) => e.action === "lambda:InvokeFunction" && e.resource === LIVE_ARN).map((e) => e.principal)).toEqual([
      `arn:aws:sts::222222222222:assumed-role/xacct-demo-invoker-${c.name}/xacct-demo-${c.name}`,
    ]);
  });

  it("each caller's function role is refused every other caller's invoker role, with AWS's message", async () => {
    for (const c of CALLERS) {
      for (const other of CALLERS.filter((o) => o !== c)) {
        const err = await errorOf(
          stsAs(runtime, `caller-${c.name}-function`).send(
            new AssumeRoleCommand({ RoleArn: invokerRole(other.name), RoleSessionName: "probe" }),
          ),
        );
        expect({ name: err.name, message: err.message }).toEqual({
          name: "AccessDenied",
          message: `User: ${functionSession(c)} is not authorized to perform: sts:AssumeRole on resource: ${invokerRole(other.name)}`,
        });
      }
      // Its own is allowed, and lets it invoke only the alias.
      const own = await stsAs(runtime, `caller-${c.name}-function`).send(
        new AssumeRoleCommand({ RoleArn: invokerRole(c.name), RoleSessionName: "own" }),
      );
      expect(own.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::222222222222:assumed-role/xacct-demo-invoker-${c.name}/own`);
    }
    // The administrator of the callers' shared account is refused too, as is the outsider.
    for (const profile of ["caller-orders-admin", "outsider"]) {
      const err = await errorOf(
        stsAs(runtime, profile).send(new AssumeRoleCommand({ RoleArn: invokerRole("billing"), RoleSessionName: "probe" })),
      );
      expect(err.name).toBe("AccessDenied");
    }
  });
});

describe("local/cli.ts on the three callers' stacks", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    try {
      if (child?.pid) process.kill(-child.pid, "SIGKILL");
    } catch {
      // ESRCH: already stopped.
    }
  });

  it("writes and prints every stack's profiles, its try lines name a caller stack's, and the export line works", async () => {
    if (!fs.existsSync(AWS_CLI))
      throw new Error(`${AWS_CLI} is missing: run 'make install' (make test does) to install the pinned AWS CLI`);
    const profilesDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-three-profiles-"));
    let output = "";
    const started = spawn(
      process.execPath,
      ["--import", TSX_LOADER, "local/cli.ts", "--dir", dir, "--port", "0", "--profiles-dir", profilesDir, "--quiet", "--no-decisions"],
      // As `XACCT_CONFIG_FILE=examples/three-callers.json make local` runs it: --dir is checked against that configuration.
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CHECKPOINT_DISABLE: "1", XACCT_CONFIG_FILE: THREE_CALLERS_CONFIG },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    child = started;
    const exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    started.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    started.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`local/cli.ts did not start within 60 s:\n${output}`)), 60_000);
      started.stdout!.on("data", () => {
        if (!output.includes("Ctrl-C")) return;
        clearTimeout(timer);
        resolve();
      });
      started.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`local/cli.ts exited early with ${code}:\n${output}`));
      });
    });

    for (const c of CALLERS) {
      expect(output).toMatch(new RegExp(`^ {2}caller-${c.name}-admin +arn:aws:iam::${c.account}:user/administrator$`, "m"));
      expect(output).toMatch(new RegExp(`^ {2}caller-${c.name}-function +${functionSession(c).replace(/[/.]/g, "\\$&")}$`, "m"));
    }
    expect(output).toMatch(/^ {2}aws --profile caller-(orders|billing|reports)-function sts get-caller-identity$/m);
    expect(output).toMatch(
      /^ {2}aws --profile caller-(orders|billing|reports)-admin lambda invoke --function-name xacct-demo-(orders|billing|reports) /m,
    );
    const line = /^ {2}export (AWS_CONFIG_FILE=\S+ AWS_SHARED_CREDENTIALS_FILE=\S+)$/m.exec(output)?.[1];
    expect(line).toBeDefined();
    const env = Object.fromEntries(line!.split(" ").map((kv) => kv.split("=") as [string, string]));
    for (const c of [CALLERS[1], CALLERS[2]]) {
      const { stdout } = await run(AWS_CLI, ["--profile", `caller-${c.name}-function`, "sts", "get-caller-identity"], {
        cwd: os.tmpdir(),
        env: { PATH: process.env.PATH, HOME: profilesDir, ...env },
      });
      expect(JSON.parse(stdout)).toMatchObject({ Arn: functionSession(c), Account: c.account });
    }
    process.kill(-started.pid!, "SIGINT");
    await exited;
    expect(output).toContain("SIGINT: stopping the local runtime");
    // The stacks were up to date for that configuration: nothing was synthesized again.
    expect(output).not.toContain("synthesizing into");
  });
});

describe("the callers' profiles are role sessions of their own accounts", () => {
  it("GetCallerIdentity as each caller's function profile names its account", async () => {
    for (const c of CALLERS) {
      const who = await stsAs(runtime, `caller-${c.name}-function`).send(new GetCallerIdentityCommand({}));
      expect({ arn: who.Arn, account: who.Account }).toEqual({ arn: functionSession(c), account: c.account });
    }
  });
});
