"""
The DynamoDB behind the local runtime's front door: moto's server on 127.0.0.1 and a free port.
Prints {"port": N} as one JSON line once it listens, then serves until its stdin reaches EOF, so
it stops when its parent closes the pipe or dies. moto-process.ts starts and stops it.
"""
import json
import logging
import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    # One access-log line per request on stderr costs both processes time under load; errors still reach stderr.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # verbose=False: moto would otherwise print its own banner on stdout, before the port line.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    try:
        # Blocks until EOF: the parent closed stdin, or exited.
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
