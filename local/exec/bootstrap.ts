/**
 * The runtime inside one execution environment (a child process forked by
 * FunctionPool). It plays the part of Lambda's Node.js runtime interface client:
 * loads the handler at init, runs one invocation at a time, builds the context,
 * turns results and errors into what Lambda answers, and formats console output
 * the way the managed runtime does.
 *
 * Compiled by esbuild into <cacheDir>/bootstrap.cjs and run with plain node, so it
 * may import only Node built-ins and ./protocol.
 */
import * as fs from "fs";
import Module from "module";
import * as path from "path";
import { pathToFileURL } from "url";
import * as util from "util";
import type { ChildMessage, InvokeMessage, MarkerKind, ParentMessage, RuntimeErrorDocument } from "./child-messages";
import { markerLine } from "./child-messages";

// argv[2] is the marker nonce; drop it so the function sees [node, script] as on Lambda.
const nonce = process.argv[2] ?? "";
process.argv.splice(2);

const taskRoot = process.env.LAMBDA_TASK_ROOT ?? "";
const handlerString = process.env._HANDLER ?? "";
// nodejs24.x and later run the newer runtime client, whose behaviour differs in two places below.
const runtimeMajor = Number(/nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV ?? "")?.[1] ?? 0);

// Taken before user code runs, so a function that replaces process.stdout.write cannot break framing.
const rawStdoutWrite = process.stdout.write;
const rawStderrWrite = process.stderr.write;
function writeStdout(text: string, done?: () => void): void {
  rawStdoutWrite.call(process.stdout, text, "utf8", done ? () => done() : undefined);
}
function writeStderr(text: string, done?: () => void): void {
  rawStderrWrite.call(process.stderr, text, "utf8", done ? () => done() : undefined);
}

// ---------------------------------------------------------------------------
// Module resolution: only the task root, like /var/task on Lambda.
// ---------------------------------------------------------------------------

// Node also searches node_modules in every parent directory of the code. The cache
// may sit inside a project whose node_modules would then satisfy imports the bundle
// lacks; on Lambda those imports fail. Keep lookups inside the task root.
const moduleInternals = Module as unknown as { _nodeModulePaths(from: string): string[] };
const nodeModulePaths = moduleInternals._nodeModulePaths.bind(Module);
moduleInternals._nodeModulePaths = (from: string) => nodeModulePaths(from).filter((dir) => isInside(dir, taskRoot));

function isInside(candidate: string, root: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

// ---------------------------------------------------------------------------
// Errors, as the Node.js runtime reports them.
// ---------------------------------------------------------------------------

function runtimeError(type: string, message: string, stack?: string): Error {
  const error = new Error(message);
  // Non-enumerable like Error.prototype.name, so logged errors don't repeat it as a field.
  Object.defineProperty(error, "name", { value: `Runtime.${type}`, writable: true, configurable: true, enumerable: false });
  if (stack !== undefined) error.stack = stack;
  return error;
}

function looksLikeError(value: unknown): value is Error {
  const v = value as { name?: unknown; message?: unknown; stack?: unknown } | null | undefined;
  return (
    !!v &&
    typeof v.name === "string" &&
    !!v.name &&
    typeof v.message === "string" &&
    !!v.message &&
    typeof v.stack === "string" &&
    !!v.stack
  );
}

/** Error document for the Invoke answer: Error-likes give name/message/stack lines, anything else its type and toString(). */
function toErrorDocument(value: unknown): RuntimeErrorDocument {
  try {
    if (util.types.isNativeError(value) || looksLikeError(value)) {
      const error = value as Error;
      return { errorType: error.name, errorMessage: error.message, trace: String(error.stack ?? "").split("\n") };
    }
    return { errorType: typeof value, errorMessage: (value as { toString(): string }).toString(), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

function intoError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

// ---------------------------------------------------------------------------
// Console: Lambda's text or JSON log lines, one line per call.
// ---------------------------------------------------------------------------

interface Level {
  name: "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL";
  priority: number;
}
const LEVELS: Record<Level["name"], Level> = {
  TRACE: { name: "TRACE", priority: 1 },
  DEBUG: { name: "DEBUG", priority: 2 },
  INFO: { name: "INFO", priority: 3 },
  WARN: { name: "WARN", priority: 4 },
  ERROR: { name: "ERROR", priority: 5 },
  FATAL: { name: "FATAL", priority: 6 },
};
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === "JSON";
const minimumLevel = LEVELS[(process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase() ?? "") as Level["name"]] ?? LEVELS.TRACE;

// undefined during init: Lambda's text lines then literally say "undefined".
let currentRequestId: string | undefined;
const REQUEST_ID_SYMBOL = Symbol.for("aws.lambda.runtime.requestId");

function serializeErrorsInJson(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      errorType: value.constructor?.name ?? "UnknownError",
      errorMessage: value.message,
      stackTrace: typeof value.stack === "string" ? value.stack.split("\n") : value.stack,
      ...value,
    };
  }
  return value;
}

function formatJsonLine(level: Level, time: string, args: unknown[]): string {
  const record: Record<string, unknown> = { timestamp: time, level: level.name, requestId: currentRequestId };
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, serializeErrorsInJson);
    } catch {
      record.message = util.format(args[0]);
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...args);
  const error = args.find((a): a is Error => a instanceof Error);
  if (error) {
    record.errorType = error.constructor?.name ?? "UnknownError";
    record.errorMessage = error.message;
    record.stackTrace = typeof error.stack === "string" ? error.stack.split("\n") : [];
  }
  return JSON.stringify(record);
}

function log(level: Level, args: unknown[]): void {
  const time = new Date().toISOString();
  const line = jsonLogs
    ? formatJsonLine(level, time, args)
    : `${time}\t${String(currentRequestId)}\t${level.name}\t${util.format(...args)}`;
  // One call, one line: the parent splits on \n and turns \r back into \n.
  writeStdout(`${line.replace(/\n/g, "\r")}\n`);
}

function patchConsole(): void {
  const target = console as unknown as Record<string, (...args: unknown[]) => void>;
  const make = (level: Level) => (level.priority >= minimumLevel.priority ? (...args: unknown[]) => log(level, args) : () => undefined);
  target.trace = make(LEVELS.TRACE);
  target.debug = make(LEVELS.DEBUG);
  target.info = make(LEVELS.INFO);
  target.log = target.info;
  target.warn = make(LEVELS.WARN);
  target.error = make(LEVELS.ERROR);
  target.fatal = make(LEVELS.FATAL);
}

// Error properties are not enumerable; include them, as the runtime's "Invoke Error" lines do.
function withErrorFields(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const fields: Record<string, unknown> = {
      errorType: value.name,
      errorMessage: value.message,
      code: (value as { code?: unknown }).code,
      ...value,
    };
    if (typeof value.stack === "string") fields.stack = value.stack.split("\n");
    return fields;
  }
  return value;
}

/** The runtime's own error lines ("Invoke Error", "Uncaught Exception", ...). */
function logError(label: string, value: unknown): void {
  const error = intoError(value);
  if (jsonLogs) {
    console.error(error);
    return;
  }
  let formatted: string;
  try {
    formatted = `\t${JSON.stringify(error, withErrorFields)}`;
  } catch {
    formatted = `\t${JSON.stringify(toErrorDocument(error))}`;
  }
  console.error(label, formatted);
}

// ---------------------------------------------------------------------------
// Talking to the parent.
// ---------------------------------------------------------------------------

function memoryInUse(): number {
  // Peak RSS (resourceUsage reports kB) is what "Max Memory Used" means.
  return Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
}

/** Writes the marker to both streams, sends the message, then calls done once all three are flushed. */
function frameAndSend(kind: MarkerKind, requestId: string, message: ChildMessage, done?: () => void): void {
  let pending = 3;
  const step = () => {
    pending -= 1;
    if (pending === 0) done?.();
  };
  writeStdout(markerLine(nonce, kind, requestId), step);
  writeStderr(markerLine(nonce, kind, requestId), step);
  if (process.send) process.send(message, undefined, {}, step);
  else step();
}

function exitAfter(code: number): () => void {
  return () => process.exit(code);
}

// ---------------------------------------------------------------------------
// Loading the handler.
// ---------------------------------------------------------------------------

type Handler = (event: unknown, context: object, callback: (error?: unknown, result?: unknown) => void) => unknown;

let handler: Handler | undefined;
let handlerIsAsync = false;
let initializing = true;

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** package.json "type": "module" decides how .js loads; look no further up than the task root. */
function isEsmPackage(dir: string): boolean {
  for (let current = dir; isInside(current, taskRoot); current = path.dirname(current)) {
    const manifest = path.join(current, "package.json");
    if (isFile(manifest)) {
      try {
        return (JSON.parse(fs.readFileSync(manifest, "utf8")) as { type?: unknown }).type === "module";
      } catch {
        return false;
      }
    }
    if (current === taskRoot) break;
  }
  return false;
}

const requireFromTask = Module.createRequire(path.join(taskRoot, "noop.js"));
// A literal import() survives esbuild's CommonJS output on node20 targets.
const importModule = (file: string): Promise<unknown> => import(pathToFileURL(file).href);

async function loadModule(moduleRoot: string, moduleName: string): Promise<unknown> {
  const base = path.resolve(taskRoot, moduleRoot, moduleName);
  if (isFile(base)) return requireFromTask(base);
  const esm = isEsmPackage(path.dirname(base));
  if (isFile(`${base}.js`)) return esm ? importModule(`${base}.js`) : requireFromTask(`${base}.js`);
  if (isFile(`${base}.mjs`)) return importModule(`${base}.mjs`);
  if (isFile(`${base}.cjs`)) return requireFromTask(`${base}.cjs`);
  // Lambda falls back to Node's resolution; for a missing file that throws MODULE_NOT_FOUND.
  return requireFromTask(requireFromTask.resolve(moduleName, { paths: [taskRoot, path.resolve(taskRoot, moduleRoot)] }));
}

async function loadHandler(fullHandler: string): Promise<Handler> {
  if (fullHandler.includes("..")) {
    throw runtimeError(
      "MalformedHandlerName",
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const moduleAndHandler = path.basename(fullHandler);
  const moduleRoot = fullHandler.slice(0, fullHandler.length - moduleAndHandler.length);
  const match = /^([^.]*)\.(.*)$/.exec(moduleAndHandler);
  if (!match) throw runtimeError("MalformedHandlerName", "Bad handler");
  const [, moduleName, handlerPath] = match;

  let loaded: unknown;
  try {
    loaded = await loadModule(moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw runtimeError("UserCodeSyntaxError", String(error), error.stack);
    if ((error as { code?: unknown } | null)?.code === "MODULE_NOT_FOUND") throw runtimeError("ImportModuleError", String(error));
    throw error;
  }
  const found = handlerPath
    .split(".")
    .reduce<unknown>((object, key) => (object ? (object as Record<string, unknown>)[key] : undefined), loaded);
  if (!found) throw runtimeError("HandlerNotFound", `${fullHandler} is undefined or not exported`);
  if (typeof found !== "function") throw runtimeError("HandlerNotFound", `${fullHandler} is not a function`);
  if (runtimeMajor >= 24 && found.length >= 3) {
    throw runtimeError(
      "CallbackHandlerDeprecated",
      "ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later.",
    );
  }
  return found as Handler;
}

function failInit(error: unknown, exitCode: number): void {
  initializing = false;
  frameAndSend("init-end", "-", { type: "init-error", error: toErrorDocument(error), maxRssBytes: memoryInUse() }, exitAfter(exitCode));
}

async function init(): Promise<void> {
  try {
    handler = await loadHandler(handlerString);
    handlerIsAsync = handler.constructor?.name === "AsyncFunction";
  } catch (error) {
    logError("Uncaught Exception", error);
    failInit(error, 129);
    return;
  }
  initializing = false;
  frameAndSend("init-end", "-", { type: "ready", maxRssBytes: memoryInUse() });
}

// ---------------------------------------------------------------------------
// Invocations.
// ---------------------------------------------------------------------------

interface Invocation {
  requestId: string;
  answered: boolean;
}

let current: Invocation | undefined;
// What to do when the event loop has drained (the runtime's beforeExit logic).
let onEmptyEventLoop: (() => void) | undefined;

/** Sends the answer once; the IPC channel is unref'd during an invocation so "loop drained" is observable. */
function answer(invocation: Invocation, ok: boolean, payload: string, exitCode?: number): void {
  if (invocation.answered) return;
  invocation.answered = true;
  onEmptyEventLoop = undefined;
  process.channel?.ref();
  const message: ChildMessage = {
    type: "result",
    requestId: invocation.requestId,
    ok,
    payload,
    maxRssBytes: memoryInUse(),
    exiting: exitCode !== undefined,
  };
  frameAndSend("end", invocation.requestId, message, exitCode === undefined ? undefined : exitAfter(exitCode));
}

function answerError(invocation: Invocation, error: unknown, exitCode?: number): void {
  answer(invocation, false, JSON.stringify(toErrorDocument(error)), exitCode);
}

function answerResult(invocation: Invocation, result: unknown): void {
  let body: string | undefined;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    const message = "Unable to stringify response body";
    const error = runtimeMajor >= 24 ? runtimeError("JSONStringifyError", message) : new Error(message);
    logError("Invoke Error", error);
    answerError(invocation, error);
    return;
  }
  answer(invocation, true, body ?? "null");
}

function parseClientContext(text: string | undefined): unknown {
  return text === undefined ? undefined : JSON.parse(text);
}

function invoke(message: InvokeMessage): void {
  const invocation: Invocation = { requestId: message.requestId, answered: false };
  current = invocation;
  currentRequestId = message.requestId;
  (globalThis as Record<symbol, unknown>)[REQUEST_ID_SYMBOL] = message.requestId;
  process.env._X_AMZN_TRACE_ID = message.traceId;
  writeStdout(markerLine(nonce, "start", message.requestId));
  writeStderr(markerLine(nonce, "start", message.requestId));

  let finished = false; // only the first of callback/succeed/fail/done counts
  let waitForEmptyEventLoop = true;
  const postError = (error: unknown) => {
    logError("Invoke Error", error);
    answerError(invocation, error);
  };
  const done = (error: unknown, result?: unknown) => {
    if (finished) return;
    finished = true;
    onEmptyEventLoop = undefined;
    if (error !== undefined && error !== null) postError(error);
    else answerResult(invocation, result);
  };
  const callback = (error?: unknown, result?: unknown) => {
    if (finished) return;
    finished = true;
    if (error !== undefined && error !== null) {
      onEmptyEventLoop = undefined;
      postError(error);
    } else if (!waitForEmptyEventLoop) {
      onEmptyEventLoop = undefined;
      answerResult(invocation, result);
    } else {
      // callbackWaitsForEmptyEventLoop: answer only once nothing else is pending.
      onEmptyEventLoop = () => setImmediate(() => answerResult(invocation, result));
    }
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      waitForEmptyEventLoop = value;
    },
    succeed: (result?: unknown) => done(null, result),
    fail: (error?: unknown) => done(error === undefined || error === null ? "handled" : error),
    done,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: undefined as unknown,
    identity: undefined,
    invokedFunctionArn: message.invokedFunctionArn,
    awsRequestId: message.requestId,
    getRemainingTimeInMillis: () => message.deadlineMs - Date.now(),
  };

  // If the loop drains with no answer: a sync/callback handler answers null, an async one failed to settle.
  // (Runtime.NodeJsExit and its wording are from memory of Lambda's Node runtime, not confirmed.)
  onEmptyEventLoop = () => {
    finished = true;
    if (handlerIsAsync) {
      const error = runtimeError(
        "NodeJsExit",
        "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled.",
      );
      logError("Invoke Error", error);
      answerError(invocation, error);
    } else {
      answerResult(invocation, null);
    }
  };
  process.channel?.unref();

  try {
    const event: unknown = JSON.parse(message.payload);
    context.clientContext = parseClientContext(message.clientContext);
    const returned = (handler as Handler)(event, context, callback);
    if (returned && typeof (returned as PromiseLike<unknown>).then === "function") {
      (returned as PromiseLike<unknown>).then(
        (result) => done(null, result),
        (error: unknown) => done(error === undefined || error === null ? "handled" : error),
      );
    }
  } catch (error) {
    callback(error);
  }
}

process.on("beforeExit", () => {
  const action = onEmptyEventLoop;
  onEmptyEventLoop = undefined;
  // Keep the environment alive for the next invocation whatever happens.
  process.channel?.ref();
  action?.();
});

process.on("uncaughtException", (error) => {
  logError("Uncaught Exception", error);
  if (initializing) failInit(error, 129);
  else if (current && !current.answered) answerError(current, error, 129);
  else writeStdout("", exitAfter(129));
});

process.on("unhandledRejection", (reason) => {
  const error = runtimeError("UnhandledPromiseRejection", String(reason));
  Object.assign(error, { reason, promise: {} });
  logError("Unhandled Promise Rejection", error);
  if (initializing) failInit(error, 128);
  else if (current && !current.answered) answerError(current, error, 128);
  else writeStdout("", exitAfter(128));
});

process.on("message", (message: ParentMessage) => {
  if (message.type === "invoke") invoke(message);
});

// The parent is gone (even SIGKILLed): a Lambda environment never outlives its host.
process.on("disconnect", () => process.exit(0));

patchConsole();
void init();
