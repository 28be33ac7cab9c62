/**
 * The moto server the DynamoDB front door forwards to: one Python child (moto-server.py) on 127.0.0.1 and a
 * free port, started from the project's .venv. Its stdin is a pipe the child reads until EOF, so it stops
 * when stop() closes it or this process dies; stop() also signals it and waits for it to be gone.
 */
import { spawn, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { PROJECT_ROOT } from "../../../core/paths";
import { LocalRuntimeError } from "../../server/runtime-error";

const LAUNCHER = path.join(__dirname, "moto-server.py");
const INSTALL_HINT = "run `make install`, or `.venv/bin/pip install -r requirements-tools.txt`";
/** moto imports many modules before it listens: seconds on a cold cache. */
const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
/** Of its stderr, what a failure message quotes. */
const STDERR_TAIL = 2_000;
/** A forward moto has not answered in this long is failed (the front door answers InternalServerError), never left hanging. */
const FORWARD_TIMEOUT_MS = 10_000;

/** Where moto listens and the token it answers to: every request the front door forwards carries it. */
export interface MotoAddress {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Random per start, written to moto's stdin: a request without it is refused (moto-server.py). */
  readonly token: string;
}

export interface MotoServer extends MotoAddress {
  readonly port: number;
  /** The child's process id, while it runs. */
  readonly pid: number;
  /** Resolves once the child has exited (stopped, or died). */
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

export interface MotoOptions {
  /** The project whose .venv has moto; default PROJECT_ROOT. */
  readonly projectRoot?: string;
  readonly startTimeoutMs?: number;
}

/** Starts moto's server and resolves once it listens; refuses with a LocalRuntimeError naming the fix. */
export async function startMoto(options: MotoOptions = {}): Promise<MotoServer> {
  const root = options.projectRoot ?? PROJECT_ROOT;
  const python = path.join(root, ".venv", "bin", "python");
  if (!fs.existsSync(python))
    throw new LocalRuntimeError(`the local DynamoDB needs moto from the project's Python tools, but ${python} is missing: ${INSTALL_HINT}`);
  const token = randomBytes(24).toString("hex");
  const child = spawn(python, [LAUNCHER], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Always drained (a full pipe would block the child); the tail goes into a failure's message.
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-STDERR_TAIL)));
  // Its stdin closing under it (EPIPE after it died) is not ours to raise.
  child.stdin?.on("error", () => undefined);
  // The token on stdin, not in its environment, which any process of this user could read in /proc.
  child.stdin?.write(`${token}\n`);
  try {
    const port = await portLine(child, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, () => stderr);
    return {
      url: `http://127.0.0.1:${port}`,
      token,
      port,
      pid: child.pid as number,
      exited,
      stop: once(() => stopChild(child, exited)),
    };
  } catch (err) {
    await stopChild(child, exited);
    throw err;
  }
}

/** The {"port": N} line the launcher prints once it listens. */
function portLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    const failed = (why: string) => {
      clearTimeout(timer);
      const tail = stderr().trim();
      const missing = /ModuleNotFoundError|No module named/.test(tail);
      reject(
        new LocalRuntimeError(
          missing
            ? `the local DynamoDB needs moto in the project's .venv, which does not have it: ${INSTALL_HINT} (${lastLine(tail)})`
            : `moto's server did not start: ${why}${tail !== "" ? `; it wrote: ${lastLine(tail)}` : ""}. If the Python tools are not installed: ${INSTALL_HINT}`,
        ),
      );
    };
    const timer = setTimeout(() => failed(`no port after ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      failed(`it exited (${signal ?? `code ${code}`}) before it listened`);
    child.on("error", (err) => failed(err.message));
    child.once("exit", onExit);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const newline = stdout.indexOf("\n");
      if (newline < 0) return;
      const port = (() => {
        try {
          return (JSON.parse(stdout.slice(0, newline)) as { port?: unknown }).port;
        } catch {
          return undefined;
        }
      })();
      clearTimeout(timer);
      child.off("exit", onExit);
      if (typeof port === "number" && Number.isInteger(port) && port > 0) resolve(port);
      else failed(`its first line is not {"port": N}: ${stdout.slice(0, newline)}`);
      // Nothing else it prints matters; keep the pipe drained.
      child.stdout?.removeAllListeners("data");
      child.stdout?.resume();
    });
  });
}

const lastLine = (text: string): string => text.split("\n").pop() ?? "";

/** Closes its stdin (the launcher stops on EOF), then SIGTERM, and SIGKILL after a grace period. */
async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  // Never spawned (no pid: no exit will come), or already gone.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function once(action: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= action());
}

/** One POST to moto, as the DynamoDB front door sends it: the body, the target, the account and region it is for. */
export interface MotoRequest {
  readonly target: string;
  readonly contentType: string;
  readonly body: Buffer | string;
  readonly accountId: string;
  readonly region: string;
}

export interface MotoAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Sends a request to moto. moto keeps accounts apart by `x-moto-account-id` and takes the region (and the service,
 * on a bare host) from the Authorization header's credential scope; it does not verify the signature, which the
 * front door has already done, so the header carries only that scope.
 */
export function sendToMoto(moto: MotoAddress, request: MotoRequest): Promise<MotoAnswer> {
  const body = typeof request.body === "string" ? Buffer.from(request.body, "utf8") : request.body;
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${moto.url}/`,
      {
        method: "POST",
        headers: {
          "Content-Type": request.contentType,
          "Content-Length": String(body.length),
          "X-Amz-Target": request.target,
          "x-moto-account-id": request.accountId,
          "x-local-runtime-token": moto.token,
          Authorization: `AWS4-HMAC-SHA256 Credential=LOCALRUNTIMEFORWARD/20000101/${request.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 500,
            contentType: String(res.headers["content-type"] ?? "application/x-amz-json-1.0"),
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(FORWARD_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${FORWARD_TIMEOUT_MS} ms`)));
    req.end(body);
  });
}
