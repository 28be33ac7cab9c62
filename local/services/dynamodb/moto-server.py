"""
The DynamoDB behind the local runtime's front door: moto's server on 127.0.0.1 and a free port.
Prints {"port": N} as one JSON line once it listens, then serves until its stdin reaches EOF, so it
stops when its parent closes the pipe or dies. moto-process.ts starts and stops it.

It answers only requests that carry the token its parent writes as the first line of its stdin (header
x-local-runtime-token; stdin, not the environment, which other processes of the same user can read in
/proc): other processes on this machine, the functions the runtime runs included, cannot reach the tables
without passing the front door's SigV4 check and authorization.
"""
import hmac
import json
import logging
import sys
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

TOKEN_HEADER = "HTTP_X_LOCAL_RUNTIME_TOKEN"


def token_gate(app, token: str):
    """A WSGI wrapper that refuses, with 403, a request without the parent's token."""

    def gated(environ, start_response):
        # Bytes: compare_digest refuses str with characters outside ASCII, and WSGI header values are latin-1.
        if not hmac.compare_digest(environ.get(TOKEN_HEADER, "").encode("latin-1"), token.encode("latin-1")):
            body = b'{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"not sent by the local runtime"}'
            start_response("403 Forbidden", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return gated


def main() -> None:
    token = sys.stdin.readline().strip()
    if len(token) < 32:
        sys.stderr.write("the first line of stdin must be the token (32 or more characters): moto-process.ts writes it\n")
        sys.exit(2)
    # One access-log line per request on stderr costs both processes time under load; errors still reach stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # What moto's ThreadedMotoServer does, with the token gate in front of its application.
    server = make_server("127.0.0.1", 0, token_gate(DomainDispatcherApplication(create_backend_app), token), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    try:
        # Blocks until EOF: the parent closed stdin, or exited.
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
