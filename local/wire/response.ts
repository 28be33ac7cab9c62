/** What every emulated service answers with, and how the endpoint writes it. */
import { randomUUID } from "crypto";
import type { ServerResponse } from "http";

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  /** A Buffer for invoke payloads, which are bytes rather than text. */
  body: string | Buffer;
}

/** An AWS error before it is shaped in a service's protocol: the code the SDK names it by, its message and HTTP status. */
export interface WireError {
  code: string;
  message: string;
  status: number;
}

/** Answered instead of a response when the connection must be reset (an injected fault; the endpoint owns the socket). */
export const RESET_CONNECTION: unique symbol = Symbol("reset the connection");

export function writeWire(res: ServerResponse, response: WireResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/** Every request's id, sent back as x-amzn-RequestId (or S3's x-amz-request-id) and recorded in the audit log. */
export function newRequestId(): string {
  return randomUUID();
}
