/**
 * One execution environment: a child Node process running bootstrap.cjs, kept warm
 * between invocations, one invocation at a time.
 */
import { type ChildProcess, fork } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import { buildEnvironment, newLogStreamName, newTraceId } from "./environment-variables";
import type { EnvironmentCredentials, FunctionSpec, InvokeOutcome, InvokeRequest } from "./invocation";
import type { ChildMessage, InvokeMessage, ResultMessage, RuntimeErrorDocument } from "./child-messages";
import { markerPrefix, parseMarker } from "./child-messages";

/** Lambda's on-demand init limit; beyond it the init continues on the invocation's own timeout. */
export const INIT_TIMEOUT_MS = 10_000;
/** Lambda's synchronous response limit. */
export const MAX_RESPONSE_BYTES = 6_291_556;
// After the child exits, its pipes close at once unless a grandchild inherited them; don't wait forever.
const PIPE_DRAIN_GRACE_MS = 1_000;

type Stream = "stdout" | "stderr";
const STREAMS: readonly Stream[] = ["stdout", "stderr"];
const INIT_OWNER = "\u0000init";

/** Why a phase (init or an invocation) ended. */
type Ending =
  | { kind: "message"; message: ChildMessage }
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "timeout" }
  | { kind: "closed" };

/** A phase ends when the IPC message and the markers on both streams are in, or the child is gone. */
interface Phase {
  requestId: string | undefined; // undefined: the init phase
  message?: ChildMessage;
  markers: Record<Stream, boolean>;
  done: boolean;
  resolve(ending: Ending): void;
}

interface RunningInvocation {
  requestId: string;
  records: string[];
}

// Every live child of every pool, so a dying parent can take them along.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort when the parent exits without close(); children also exit on their own when the IPC channel drops.
    process.once("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    });
  }
  liveChildren.add(child);
}

const SIGNAL_TEXT: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: "killed",
  SIGTERM: "terminated",
  SIGABRT: "aborted",
  SIGSEGV: "segmentation fault",
  SIGINT: "interrupt",
  SIGBUS: "bus error",
  SIGILL: "illegal instruction",
  SIGFPE: "floating point exception",
};

/** Lambda's Runtime.ExitError document (its wording follows Go's exec.ExitError). */
export function exitErrorDocument(requestId: string, code: number | null, signal: NodeJS.Signals | null): RuntimeErrorDocument {
  const reason =
    signal !== null
      ? `Runtime exited with error: signal: ${SIGNAL_TEXT[signal] ?? signal}`
      : code === 0 || code === null
        ? "Runtime exited without providing a reason"
        : `Runtime exited with error: exit status ${code}`;
  return { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: ${reason}` };
}

export function timeoutErrorDocument(requestId: string, timeoutSeconds: number): RuntimeErrorDocument {
  return {
    errorType: "Sandbox.Timedout",
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  };
}

export interface EnvironmentSettings {
  spec: FunctionSpec;
  endpointUrl: string;
  nodeBinary: string;
  /** The exact version of nodeBinary, for INIT_START. */
  nodeVersion: string;
  onLog?: (functionName: string, line: string) => void;
  /** Called once the child has exited and its resources are released. */
  onGone(env: ExecutionEnvironment): void;
}

export class ExecutionEnvironment {
  /** True while an invocation holds this environment: between the pool's reserve() and release(). */
  get busy(): boolean {
    return this.reserved;
  }
  private reserved = false;
  /** False once the environment must not serve another invocation. */
  reusable = true;
  credentialsExpireAt = Number.POSITIVE_INFINITY;
  readonly exited: Promise<void>;

  private child?: ChildProcess;
  private homeDir?: string;
  private readonly nonce = crypto.randomBytes(8).toString("hex");
  private readonly logStreamName: string;
  private state: "new" | "initializing" | "ready" | "gone" = "new";
  private killReason?: "timeout" | "closed";
  private exitStatus?: { code: number | null; signal: NodeJS.Signals | null };
  private phase?: Phase;
  private initEnding?: Promise<Ending>;
  private initDurationMs = 0;
  private initRecords: string[] = [];
  private invocation?: RunningInvocation;
  private owner: Record<Stream, string | null> = { stdout: INIT_OWNER, stderr: INIT_OWNER };
  private partial: Record<Stream, string> = { stdout: "", stderr: "" };
  private maxRssBytes = 0;
  private timer?: NodeJS.Timeout;
  private suppressedInitDeadline?: number;
  private markExited!: () => void;
  private spawnError?: Error;

  constructor(private readonly settings: EnvironmentSettings) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.logStreamName = newLogStreamName(new Date(), settings.spec.version ?? "$LATEST");
  }

  /** Taken for one invocation (the pool reserves before a cold start, so the start counts as busy). */
  reserve(): void {
    if (this.reserved) throw new Error("execution environment is already reserved");
    this.reserved = true;
  }

  release(): void {
    this.reserved = false;
  }

  get alive(): boolean {
    return this.state === "initializing" || this.state === "ready";
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Forks the child; init runs from here on (the first invoke waits for it). */
  start(taskRoot: string, bootstrapPath: string, runtimeDir: string, credentials: EnvironmentCredentials): void {
    if (this.state !== "new") throw new Error(`Execution environment of ${this.settings.spec.name} was already started or stopped`);
    const spec = this.settings.spec;
    this.homeDir = fs.mkdtempSync(`${os.tmpdir()}/lambda-home-${spec.name.replace(/[^A-Za-z0-9_-]/g, "_")}-`);
    this.credentialsExpireAt = credentials.expiration.getTime();
    const env = buildEnvironment({
      functionName: spec.name,
      functionVersion: spec.version ?? "$LATEST",
      region: spec.region,
      runtime: spec.runtime,
      memorySizeMb: spec.memorySizeMb,
      handler: spec.handler,
      logGroupName: spec.logGroupName,
      logStreamName: this.logStreamName,
      userVariables: spec.environment,
      taskRoot,
      runtimeDir,
      homeDir: this.homeDir,
      nodeBinary: this.settings.nodeBinary,
      endpointUrl: this.settings.endpointUrl,
      credentials,
    });

    this.state = "initializing";
    this.emit(`INIT_START Runtime Version: ${spec.runtime} (local node ${this.settings.nodeVersion})`);
    const startedAt = performance.now();
    this.initEnding = new Promise<Ending>((resolve) => {
      this.phase = { requestId: undefined, markers: { stdout: false, stderr: false }, done: false, resolve };
    }).then((ending) => {
      this.initDurationMs = performance.now() - startedAt;
      return ending;
    });

    const child = fork(bootstrapPath, [this.nonce], {
      cwd: taskRoot,
      env,
      execPath: this.settings.nodeBinary,
      // Not the parent's flags (jest/tsx loaders). The heap cap approximates the memory limit:
      // V8 aborts past it; RSS beyond MemorySize (buffers, code) is not enforced.
      execArgv: [`--max-old-space-size=${spec.memorySizeMb}`],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    this.child = child;
    trackChild(child);

    for (const stream of STREAMS) {
      const pipe = child[stream];
      pipe?.setEncoding("utf8");
      pipe?.on("data", (chunk: string) => this.onData(stream, chunk));
      pipe?.on("end", () => this.flushPartial(stream));
    }
    child.on("message", (message: ChildMessage) => this.onMessage(message));
    child.on("error", (error) => {
      if (child.pid !== undefined) return; // send errors; the exit that follows tells the story
      // Never spawned (bad nodeBinary): no exit or close event will come.
      this.spawnError = error;
      this.onGone();
    });
    let drainTimer: NodeJS.Timeout | undefined;
    child.on("exit", (code, signal) => {
      this.exitStatus = { code, signal };
      this.reusable = false;
      drainTimer = setTimeout(() => this.onGone(), PIPE_DRAIN_GRACE_MS);
    });
    child.on("close", () => {
      if (drainTimer) clearTimeout(drainTimer);
      this.onGone();
    });

    // Past the init limit the init goes on, now on the clock of the invocation waiting for it.
    this.timer = setTimeout(() => {
      const timeoutMs = spec.timeoutSeconds * 1000;
      this.suppressedInitDeadline = Date.now() + timeoutMs;
      this.timer = setTimeout(() => this.kill("timeout"), timeoutMs);
    }, INIT_TIMEOUT_MS);
  }

  /** SIGKILLs the child (if any); `exited` resolves once it is gone. The reason decides how an open invocation ends. */
  kill(reason?: "timeout" | "closed"): void {
    this.reusable = false;
    if (this.state === "new") {
      this.state = "gone";
      this.markExited();
      this.settings.onGone(this);
      return;
    }
    if (this.state === "gone") return;
    if (reason && !this.killReason) this.killReason = reason;
    this.child?.kill("SIGKILL");
  }

  /** Runs one invocation. Resolves with Lambda's answer; rejects only if the pool closes meanwhile. */
  async invoke(request: InvokeRequest, payload: string, clientContext: string | undefined, coldStart: boolean): Promise<InvokeOutcome> {
    const spec = this.settings.spec;
    const requestId = request.requestId;
    const invocation: RunningInvocation = { requestId, records: [] };

    const init = this.initEnding ? await this.initEnding : ({ kind: "closed" } as const);
    if (this.spawnError) {
      throw new Error(`Cannot start ${this.settings.nodeBinary} for function ${spec.name}: ${this.spawnError.message}`);
    }
    if (init.kind === "closed") throw this.closedError(requestId);
    const initDurationMs = coldStart ? this.initDurationMs : undefined;

    this.invocation = invocation;
    this.platform(invocation, `START RequestId: ${requestId} Version: ${spec.version ?? "$LATEST"}`);

    if (!(init.kind === "message" && init.message.type === "ready")) {
      // Init failed: Lambda answers the waiting invocation with the init error and discards the environment.
      this.reusable = false;
      invocation.records.push(...this.initRecords);
      let error: RuntimeErrorDocument;
      let status: string;
      if (init.kind === "message" && init.message.type === "init-error") {
        error = init.message.error;
        status = `Status: error\tError Type: ${error.errorType}`;
      } else if (init.kind === "timeout") {
        error = timeoutErrorDocument(requestId, spec.timeoutSeconds);
        this.platform(
          invocation,
          `${new Date().toISOString()} ${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
        );
        status = "Status: timeout";
      } else {
        const exit = init.kind === "exit" ? init : { code: null, signal: null };
        error = exitErrorDocument(requestId, exit.code, exit.signal);
        this.platform(invocation, `${error.errorMessage}\n${error.errorType}`);
        status = `Status: error\tError Type: ${error.errorType}`;
      }
      return this.finish(invocation, { ok: false, payload: JSON.stringify(error) }, 0, initDurationMs, status, request.tailLogs);
    }

    const deadline = this.suppressedInitDeadline ?? Date.now() + spec.timeoutSeconds * 1000;
    this.suppressedInitDeadline = undefined;
    const ending = new Promise<Ending>((resolve) => {
      this.phase = { requestId, markers: { stdout: false, stderr: false }, done: false, resolve };
    });
    const message: InvokeMessage = {
      type: "invoke",
      requestId,
      payload,
      clientContext,
      deadlineMs: deadline,
      invokedFunctionArn: request.invokedFunctionArn ?? spec.arn,
      traceId: newTraceId(),
    };
    const dispatchedAt = performance.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kill("timeout"), Math.max(0, deadline - Date.now()));
    if (this.state === "gone") {
      // Died while idle (e.g. a background timer threw) after being picked: answer as Lambda would.
      this.endPhase(this.goneEnding());
    } else {
      this.child?.send(message, (error) => {
        // The channel broke: make sure the child is gone, its exit then ends the phase.
        if (error) this.kill();
      });
    }

    const end = await ending;
    clearTimeout(this.timer);
    const durationMs = performance.now() - dispatchedAt;

    switch (end.kind) {
      case "closed":
        throw this.closedError(requestId);
      case "timeout": {
        this.platform(
          invocation,
          `${new Date().toISOString()} ${requestId} Task timed out after ${spec.timeoutSeconds.toFixed(2)} seconds`,
        );
        const error = timeoutErrorDocument(requestId, spec.timeoutSeconds);
        return this.finish(
          invocation,
          { ok: false, payload: JSON.stringify(error) },
          durationMs,
          initDurationMs,
          "Status: timeout",
          request.tailLogs,
        );
      }
      case "exit": {
        const error = exitErrorDocument(requestId, end.code, end.signal);
        this.platform(invocation, `${error.errorMessage}\n${error.errorType}`);
        return this.finish(
          invocation,
          { ok: false, payload: JSON.stringify(error) },
          durationMs,
          initDurationMs,
          `Status: error\tError Type: ${error.errorType}`,
          request.tailLogs,
        );
      }
      case "message": {
        const result = end.message as ResultMessage;
        if (result.exiting) this.reusable = false;
        let answer = { ok: result.ok, payload: result.payload };
        const bytes = Buffer.byteLength(result.payload, "utf8");
        if (result.ok && bytes > MAX_RESPONSE_BYTES) {
          answer = {
            ok: false,
            payload: JSON.stringify({
              errorType: "Function.ResponseSizeTooLarge",
              errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            }),
          };
        }
        return this.finish(invocation, answer, durationMs, initDurationMs, undefined, request.tailLogs);
      }
    }
  }

  private closedError(requestId: string): Error {
    return new Error(`FunctionPool for ${this.settings.spec.name} was closed while invocation ${requestId} was running`);
  }

  private finish(
    invocation: RunningInvocation,
    answer: { ok: boolean; payload: string },
    durationMs: number,
    initDurationMs: number | undefined,
    status: string | undefined,
    tailLogs: boolean,
  ): InvokeOutcome {
    const spec = this.settings.spec;
    const maxMemoryMb = Math.ceil(this.maxRssBytes / (1024 * 1024));
    // Since August 2025 Lambda bills the init of on-demand managed runtimes too.
    const billedMs = Math.ceil(durationMs + (initDurationMs ?? 0));
    const report = [
      `REPORT RequestId: ${invocation.requestId}`,
      `Duration: ${durationMs.toFixed(2)} ms`,
      `Billed Duration: ${billedMs} ms`,
      `Memory Size: ${spec.memorySizeMb} MB`,
      `Max Memory Used: ${maxMemoryMb} MB`,
      ...(initDurationMs !== undefined ? [`Init Duration: ${initDurationMs.toFixed(2)} ms`] : []),
      ...(status !== undefined ? [status] : []),
    ].join("\t");
    this.platform(invocation, `END RequestId: ${invocation.requestId}`);
    this.platform(invocation, `${report}\t`);
    if (this.invocation === invocation) this.invocation = undefined;
    return {
      kind: answer.ok ? "success" : "function-error",
      payload: Buffer.from(answer.payload, "utf8"),
      ...(answer.ok ? {} : { functionError: "Unhandled" as const }),
      ...(tailLogs ? { logTail: `${invocation.records.join("\n")}\n` } : {}),
      durationMs,
      ...(initDurationMs !== undefined ? { initDurationMs } : {}),
      coldStart: initDurationMs !== undefined,
    };
  }

  /** A line of the platform's own (START, END, REPORT, timeouts): into the invocation's tail and the log. */
  private platform(invocation: RunningInvocation, line: string): void {
    invocation.records.push(line);
    this.emit(line);
  }

  private emit(line: string): void {
    this.settings.onLog?.(this.settings.spec.name, line);
  }

  private onData(stream: Stream, chunk: string): void {
    const text = this.partial[stream] + chunk;
    const lines = text.split("\n");
    this.partial[stream] = lines.pop() ?? "";
    for (const line of lines) this.onLine(stream, line);
  }

  private flushPartial(stream: Stream): void {
    const rest = this.partial[stream];
    this.partial[stream] = "";
    if (rest !== "") this.onLine(stream, rest);
  }

  private onLine(stream: Stream, line: string): void {
    const prefix = markerPrefix(this.nonce);
    const at = line.indexOf(prefix);
    const marker = at >= 0 ? parseMarker(line.slice(at + prefix.length)) : undefined;
    if (!marker) {
      this.onRecord(stream, line);
      return;
    }
    // Output without a trailing newline ends up in front of the marker.
    if (at > 0) this.onRecord(stream, line.slice(0, at));
    if (marker.kind === "start") {
      this.owner[stream] = marker.requestId;
      return;
    }
    this.owner[stream] = null;
    const phase = this.phase;
    if (phase && !phase.done && (marker.kind === "init-end" ? phase.requestId === undefined : phase.requestId === marker.requestId)) {
      phase.markers[stream] = true;
      this.maybeEndPhase();
    }
  }

  private onRecord(stream: Stream, raw: string): void {
    // The bootstrap turns a message's own newlines into \r to keep one call on one line.
    const record = raw.replace(/\r$/, "").replace(/\r/g, "\n");
    this.emit(record);
    const owner = this.owner[stream];
    if (owner === INIT_OWNER) this.initRecords.push(record);
    else if (owner !== null && this.invocation?.requestId === owner) this.invocation.records.push(record);
  }

  private onMessage(message: ChildMessage): void {
    this.maxRssBytes = Math.max(this.maxRssBytes, message.maxRssBytes);
    const phase = this.phase;
    if (!phase || phase.done) return;
    const matches = message.type === "result" ? phase.requestId === message.requestId : phase.requestId === undefined;
    if (!matches) return;
    phase.message = message;
    if (message.type === "ready") this.state = "ready";
    this.maybeEndPhase();
  }

  private maybeEndPhase(): void {
    const phase = this.phase;
    if (phase && !phase.done && phase.message && phase.markers.stdout && phase.markers.stderr) {
      if (phase.requestId === undefined && this.timer) clearTimeout(this.timer);
      this.endPhase({ kind: "message", message: phase.message });
    }
  }

  private endPhase(ending: Ending): void {
    const phase = this.phase;
    if (!phase || phase.done) return;
    phase.done = true;
    phase.resolve(ending);
  }

  /** How an open phase ends once the child is gone. */
  private goneEnding(): Ending {
    if (this.killReason === "closed") return { kind: "closed" };
    if (this.killReason === "timeout") return { kind: "timeout" };
    const message = this.phase?.message;
    if (message) return { kind: "message", message };
    return { kind: "exit", code: this.exitStatus?.code ?? null, signal: this.exitStatus?.signal ?? null };
  }

  /** The child has exited and its output is read: end whatever phase was open, release resources. */
  private onGone(): void {
    if (this.state === "gone") return;
    this.state = "gone";
    this.reusable = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.child) liveChildren.delete(this.child);
    for (const stream of STREAMS) this.flushPartial(stream);

    this.endPhase(this.goneEnding());
    if (this.homeDir) fs.rmSync(this.homeDir, { recursive: true, force: true });
    this.settings.onGone(this);
    this.markExited();
  }
}
