/**
 * Runs a deployed function zip the way Lambda does: execution environments (child
 * processes) created on demand up to the concurrency cap, kept warm, one
 * invocation at a time each. See bootstrap.ts for what runs inside.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { ensureBootstrap, prepareFunctionCode } from "./code-cache";
import { RESERVED_ENVIRONMENT_KEYS, reservedKeysIn } from "./environment-variables";
import { ExecutionEnvironment } from "./execution-environment";
import type { EnvironmentCredentials, FunctionSpec, InvokeOutcome, InvokeRequest } from "./invocation";

export type { EnvironmentCredentials, FunctionSpec, InvokeOutcome, InvokeRequest } from "./invocation";

export interface PoolOptions {
  /** Becomes AWS_ENDPOINT_URL in the function's environment. */
  endpointUrl: string;
  /** Called when a new execution environment starts (the execution-role session). */
  credentialsFor: () => Promise<EnvironmentCredentials>;
  /** Every log line as it happens: the function's output and the platform's START/END/REPORT lines. */
  onLog?: (functionName: string, line: string) => void;
  /** Zips are extracted to <cacheDir>/<name>/<sha256>/; the bootstrap is compiled to <cacheDir>/bootstrap.cjs. */
  cacheDir: string;
  /** Default process.execPath. */
  nodeBinary?: string;
  /**
   * The account's unreserved concurrency, shared with its other unreserved functions; used only
   * when the function has no reserved concurrency. Without it only DEFAULT_CONCURRENCY_CAP applies.
   */
  unreservedConcurrency?: UnreservedConcurrency;
  /**
   * The function's reservation when its versions have a pool each (they share it); used only when the
   * function has reserved concurrency. Without it the pool's own cap (reservedConcurrency environments) applies alone.
   */
  reservedConcurrency?: ReservedConcurrency;
}

export type ThrottleReason = "ReservedFunctionConcurrentInvocationLimitExceeded" | "ConcurrentInvocationLimitExceeded";

/** Lambda's TooManyRequestsException: every environment is busy and no new one may start. */
export class ThrottledError extends Error {
  /** `detail`: why, when it is the local runtime's own limit rather than one AWS has. */
  constructor(
    readonly reason: ThrottleReason,
    readonly detail?: string,
  ) {
    super("Rate Exceeded.");
    this.name = "ThrottledError";
  }
}

/** AWS's default concurrent-executions quota of an account in a region (new accounts may start lower, e.g. 10). */
export const DEFAULT_ACCOUNT_CONCURRENCY = 1000;
/** Lambda keeps at least this many executions unreserved in an account (PutFunctionConcurrency refuses to go below). */
export const MINIMUM_UNRESERVED_CONCURRENCY = 100;

/** Invocations in flight against a limit: Lambda counts concurrency this way, not by warm idle environments. */
class InFlightLimit {
  private inFlight = 0;

  constructor(
    /** How errors name it, e.g. "account 222222222222: unreserved concurrency". */
    private readonly what: string,
    readonly limit: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 0)) throw new Error(`${what} must be a non-negative integer, got ${limit}`);
  }

  get inUse(): number {
    return this.inFlight;
  }

  get available(): boolean {
    return this.inFlight < this.limit;
  }

  /** Only after `available` said so, in the same synchronous step. */
  acquire(): void {
    if (!this.available) throw new Error(`${this.what} ${this.limit} is exhausted`);
    this.inFlight += 1;
  }

  release(): void {
    if (this.inFlight === 0) throw new Error(`${this.what} released more often than acquired`);
    this.inFlight -= 1;
  }
}

/**
 * The unreserved concurrency of one account, shared by every function of it that has no
 * reserved concurrency: the account's quota minus what its functions reserve
 * (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html). Like Lambda, it counts
 * invocations in flight, not warm idle environments. Beyond it, Invoke is throttled with
 * ConcurrentInvocationLimitExceeded.
 */
export class UnreservedConcurrency extends InFlightLimit {
  constructor(
    readonly accountId: string,
    limit: number,
  ) {
    super(`account ${accountId}: unreserved concurrency`, limit);
  }
}

/**
 * A function's reserved concurrency, shared by the pools of all its versions: "Reserved concurrency applies
 * to the function as a whole, including its versions and aliases"
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). Beyond it, Invoke is
 * throttled with ReservedFunctionConcurrentInvocationLimitExceeded.
 */
export class ReservedConcurrency extends InFlightLimit {
  constructor(
    readonly functionName: string,
    limit: number,
  ) {
    super(`Function ${functionName}: reserved concurrency`, limit);
  }
}

/**
 * The runtime's own cap on environments of a function without reserved concurrency: each is a
 * child process, and this machine has few cores. It is not an AWS limit; the one AWS has, the
 * account's unreserved concurrency, is modelled by UnreservedConcurrency and applies as well.
 */
export const DEFAULT_CONCURRENCY_CAP = 64;
// An idle environment whose role session would expire during an invocation is replaced, not reused.
const CREDENTIALS_MARGIN_MS = 60_000;

/**
 * The version of the Node.js that will run a function, when its major is the one the function's runtime declares
 * (nodejs22.x runs on Node 22 in Lambda); anything else is refused before an environment starts.
 */
export function matchingNode(spec: Pick<FunctionSpec, "name" | "runtime">, nodeBinary: string): string {
  const declared = /^nodejs(\d+)\.x$/.exec(spec.runtime);
  if (!declared)
    throw new Error(
      `Function ${spec.name} declares runtime ${spec.runtime}: the local runtime runs only Node.js functions (nodejs<major>.x)`,
    );
  let version: string;
  try {
    version =
      nodeBinary === process.execPath
        ? process.version
        : execFileSync(nodeBinary, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim();
  } catch (err) {
    throw new Error(`Function ${spec.name}: cannot run ${nodeBinary} --version (${(err as Error).message})`);
  }
  if (version.replace(/^v/, "").split(".")[0] !== declared[1]) {
    throw new Error(
      `Function ${spec.name} declares runtime ${spec.runtime}, but the local runtime would run it on Node.js ${version} (${nodeBinary}): ` +
        (declared[1] === "22"
          ? "run it on Node.js 22, as Lambda does: make demo, make local and make test provide it, or put Node.js 22 first on PATH"
          : `make provides Node.js 22 only: declare nodejs22.x, or run the runtime (node --import tsx local/cli.ts) on Node.js ${declared[1]}`),
    );
  }
  return version;
}

export class FunctionPool {
  private readonly environments = new Set<ExecutionEnvironment>();
  /** Warm environments, most recently used last (reused first, as Lambda tends to). */
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly cap: number;
  private readonly nodeBinary: string;
  /** The exact Node.js version the environments run, e.g. v22.23.5 (INIT_START names it). */
  readonly nodeVersion: string;
  private taskRoot?: string;
  private closing?: Promise<void>;
  /** Set by retire(): no new invocation is taken, and the pool closes when the last one in flight ends. */
  private retiring?: { resolve: () => void; done: Promise<void> };
  private inFlight = 0;
  private coldStarts = 0;
  private invocations = 0;

  constructor(
    private readonly spec: FunctionSpec,
    private readonly options: PoolOptions,
  ) {
    const reserved = reservedKeysIn(spec.environment);
    if (reserved.length > 0) {
      throw new Error(
        `Function ${spec.name}: environment sets reserved key(s) ${reserved.join(", ")}. Lambda rejects these at deploy time; remove them from the stack. Reserved keys: ${RESERVED_ENVIRONMENT_KEYS.join(", ")}.`,
      );
    }
    if (!path.isAbsolute(spec.zipPath)) throw new Error(`Function ${spec.name}: zipPath must be absolute, got ${spec.zipPath}`);
    if (!(spec.timeoutSeconds > 0)) throw new Error(`Function ${spec.name}: timeoutSeconds must be positive, got ${spec.timeoutSeconds}`);
    if (!(spec.memorySizeMb > 0)) throw new Error(`Function ${spec.name}: memorySizeMb must be positive, got ${spec.memorySizeMb}`);
    const concurrency = spec.reservedConcurrency;
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 0)) {
      throw new Error(`Function ${spec.name}: reservedConcurrency must be a non-negative integer, got ${concurrency}`);
    }
    this.cap = concurrency ?? DEFAULT_CONCURRENCY_CAP;
    this.nodeBinary = options.nodeBinary ?? process.execPath;
    this.nodeVersion = matchingNode(spec, this.nodeBinary);
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    if (this.closing || this.retiring) throw new Error(`FunctionPool for ${this.spec.name} is ${this.closing ? "closed" : "retired"}`);
    const payload = decodePayload(request.payload);
    const clientContext = decodeClientContext(request.clientContext);

    // Claimed synchronously, before any await, so concurrent invokes can't overshoot the caps.
    const shared = this.spec.reservedConcurrency === undefined ? this.options.unreservedConcurrency : this.options.reservedConcurrency;
    if (shared && !shared.available)
      throw new ThrottledError(
        this.spec.reservedConcurrency === undefined
          ? "ConcurrentInvocationLimitExceeded"
          : "ReservedFunctionConcurrentInvocationLimitExceeded",
      );
    let env = this.takeIdle();
    const coldStart = env === undefined;
    if (!env) {
      if (this.environments.size >= this.cap) {
        if (this.spec.reservedConcurrency !== undefined) throw new ThrottledError("ReservedFunctionConcurrentInvocationLimitExceeded");
        throw new ThrottledError(
          "ConcurrentInvocationLimitExceeded",
          `the local runtime runs at most ${this.cap} execution environments of a function without reserved concurrency`,
        );
      }
      env = this.newEnvironment();
    }
    shared?.acquire();
    env.reserve();
    this.inFlight += 1;

    try {
      if (coldStart) {
        await this.startEnvironment(env);
        this.coldStarts += 1;
      }
      this.invocations += 1;
      return await env.invoke(request, payload, clientContext, coldStart);
    } finally {
      shared?.release();
      env.release();
      this.inFlight -= 1;
      if (env.reusable && env.alive && !this.closing && !this.isRetiring()) {
        this.idle.push(env);
      } else {
        env.kill();
        this.environments.delete(env);
      }
      if (this.inFlight === 0) this.drained();
    }
  }

  /**
   * Takes no new invocation from now on; those in flight finish, then every environment is stopped, as
   * Lambda stops a version's environments once nothing runs there. Resolves when the pool is closed.
   */
  retire(): Promise<void> {
    if (!this.retiring) {
      let resolve!: () => void;
      const drained = new Promise<void>((r) => (resolve = r));
      this.retiring = { resolve, done: drained.then(() => this.close()) };
      if (this.inFlight === 0) resolve();
    }
    return this.retiring.done;
  }

  /** Methods, so the check before the awaits in invoke() does not decide them for after those awaits. */
  private isRetiring(): boolean {
    return this.retiring !== undefined;
  }

  private drained(): void {
    this.retiring?.resolve();
  }

  stats(): { environments: number; busy: number; coldStarts: number; invocations: number } {
    let busy = 0;
    for (const env of this.environments) if (env.busy) busy += 1;
    return { environments: this.environments.size, busy, coldStarts: this.coldStarts, invocations: this.invocations };
  }

  /** Process ids of the running environments (diagnostics and tests). */
  pids(): number[] {
    return [...this.environments].map((env) => env.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Kills every environment; resolves when all have exited. In-flight invokes reject. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const all = [...this.environments];
      for (const env of all) env.kill("closed");
      await Promise.all(all.map((env) => env.exited));
      this.environments.clear();
      this.idle.length = 0;
    })();
    return this.closing;
  }

  private takeIdle(): ExecutionEnvironment | undefined {
    const limit = Date.now() + this.spec.timeoutSeconds * 1000 + CREDENTIALS_MARGIN_MS;
    for (let env = this.idle.pop(); env; env = this.idle.pop()) {
      if (env.alive && env.reusable && env.credentialsExpireAt > limit) return env;
      env.kill();
      this.environments.delete(env);
    }
    return undefined;
  }

  private newEnvironment(): ExecutionEnvironment {
    const env = new ExecutionEnvironment({
      spec: this.spec,
      endpointUrl: this.options.endpointUrl,
      nodeBinary: this.nodeBinary,
      nodeVersion: this.nodeVersion,
      onLog: this.options.onLog,
      onGone: (gone) => {
        this.environments.delete(gone);
        const at = this.idle.indexOf(gone);
        if (at >= 0) this.idle.splice(at, 1);
      },
    });
    this.environments.add(env);
    return env;
  }

  private async startEnvironment(env: ExecutionEnvironment): Promise<void> {
    try {
      // Once per pool: the zip cannot change under a pool (a new deployment means a new spec and pool).
      this.taskRoot ??= prepareFunctionCode(this.spec.name, this.spec.zipPath, this.spec.zipSha256, this.options.cacheDir);
      const bootstrap = ensureBootstrap(this.options.cacheDir);
      const credentials = await this.options.credentialsFor();
      if (this.closing) throw new Error(`FunctionPool for ${this.spec.name} is closed`);
      env.start(this.taskRoot, bootstrap, path.dirname(bootstrap), credentials);
    } catch (error) {
      env.kill();
      throw error;
    }
  }
}

function decodePayload(payload: Buffer): string {
  const text = payload.toString("utf8");
  if (text.trim() === "") return "{}";
  try {
    JSON.parse(text);
  } catch {
    // Lambda refuses such a request before any function runs (InvalidRequestContentException).
    throw new Error("Could not parse request body into json: the payload is not valid JSON");
  }
  return text;
}

function decodeClientContext(clientContext: string | undefined): string | undefined {
  if (clientContext === undefined) return undefined;
  const text = Buffer.from(clientContext, "base64").toString("utf8");
  try {
    JSON.parse(text);
  } catch {
    throw new Error("Client context must be a valid Base64-encoded JSON object");
  }
  return text;
}
