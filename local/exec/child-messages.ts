/**
 * What the pool (parent) and the bootstrap (child) say to each other. Shared by
 * both sides; the bootstrap is bundled by esbuild, so this file must import nothing
 * but types.
 *
 * Two channels carry an invocation: IPC for the result, the child's stdout/stderr
 * pipes for its logs. The OS gives no ordering between separate pipes, so the child
 * frames every phase with marker lines written to BOTH streams, and the parent ends
 * a phase only when the IPC message and both markers have arrived (or the child is
 * gone and its pipes are closed). That is what attributes each log line to the
 * right invocation.
 */

/** The error document Lambda returns (and the Node runtime builds from a thrown value). */
export interface RuntimeErrorDocument {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvokeMessage {
  type: "invoke";
  requestId: string;
  /** The event as JSON text. */
  payload: string;
  /** Already decoded from base64: JSON text, as Lambda hands it to the runtime. */
  clientContext?: string;
  /** Epoch ms; context.getRemainingTimeInMillis() counts down to it. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
}

export type ParentMessage = InvokeMessage;

export interface ReadyMessage {
  type: "ready";
  maxRssBytes: number;
}

export interface InitErrorMessage {
  type: "init-error";
  error: RuntimeErrorDocument;
  maxRssBytes: number;
}

export interface ResultMessage {
  type: "result";
  requestId: string;
  ok: boolean;
  /** JSON text: the handler's result, or the error document when !ok. */
  payload: string;
  maxRssBytes: number;
  /** The runtime exits right after this answer (uncaught exception, unhandled rejection). */
  exiting: boolean;
}

export type ChildMessage = ReadyMessage | InitErrorMessage | ResultMessage;

/** Phases the child frames with markers: init (ends once), and start/end of each invocation. */
export type MarkerKind = "init-end" | "start" | "end";

// Record separator + a per-environment nonce: user output cannot fake a marker by accident.
const MARKER_LEAD = "\u001elambda-local-marker:";

export function markerPrefix(nonce: string): string {
  return `${MARKER_LEAD}${nonce}:`;
}

/** The marker line (with its newline) for one phase boundary. */
export function markerLine(nonce: string, kind: MarkerKind, requestId: string): string {
  return `${markerPrefix(nonce)}${kind}:${requestId}\n`;
}

/** Splits the text after a marker prefix into kind and request id; undefined if it is not one of ours. */
export function parseMarker(rest: string): { kind: MarkerKind; requestId: string } | undefined {
  const colon = rest.indexOf(":");
  if (colon < 0) return undefined;
  const kind = rest.slice(0, colon);
  if (kind !== "init-end" && kind !== "start" && kind !== "end") return undefined;
  return { kind, requestId: rest.slice(colon + 1) };
}
