/** The endpoint's HTTP plumbing: listening on a port, and reading a request body within a limit. */
import type { IncomingMessage, Server } from "http";
import type { AddressInfo } from "net";
import { LocalRuntimeError } from "./runtime-error";

/** Lambda's synchronous payload limit; anything larger is refused before it is read. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024 + 1024;

export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      if (err.code === "EADDRINUSE")
        reject(
          new LocalRuntimeError(
            `port ${port} on ${host} is already in use: stop the process using it, or choose another port (--port 0 picks a free one)`,
          ),
        );
      else if (err.code === "EACCES")
        reject(new LocalRuntimeError(`port ${port} on ${host} needs privileges this user lacks: choose a port above 1023`));
      else reject(new LocalRuntimeError(`cannot listen on ${host}:${port}: ${err.message}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function readBody(req: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      resolve("too-large");
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners("data");
        req.resume();
        resolve("too-large");
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
