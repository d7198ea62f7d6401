"""Run the stand-in: python -m ramguard_standin [--port 0] [--port-file FILE]."""
from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import make_server


def main() -> None:
    parser = argparse.ArgumentParser(description="ramguard's local AWS stand-in (moto, extended)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the chosen port to this file once listening")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="stop when the process that started the stand-in is gone (test harnesses)")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the stand-in listens on loopback only")
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    from .app import StandIn
    from .configsvc import allow_custom_lambda_rules

    allow_custom_lambda_rules()
    class Handler(MotoRequestHandler):
        def log_request(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
            if args.verbose:
                super().log_request(*a, **kw)

    server = make_server(args.host, args.port, StandIn(), threaded=True, request_handler=Handler)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as fh:
            fh.write(str(port))
        import os

        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"ramguard-standin listening on http://{args.host}:{port}", flush=True)
    if args.exit_with_parent:
        import os
        import threading
        import time

        parent = os.getppid()

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
