"""Instructions per request of the HTTP server alone: stock uvicorn against the gateway's server settings.

The same callgrind method as benchmarks.instructions, around a trivial ASGI
app (a fixed 300-byte answer with Content-Length, Content-Type and
X-Request-ID, as the gateway sends), so that only the server's own work per
request is counted: parsing, the ASGI cycle, the response write, keep-alive
bookkeeping. Both servers run on uvloop with the same settings; `stock` is
uvicorn's `http="httptools"` with its ProxyHeadersMiddleware, `gateway` is
gateway.inbound.serving.uvicorn_config (the same, plus gateway.inbound.connections' read timeouts and connection cap).

    python -m benchmarks.server_instructions             # both, 2,000 GETs each (~1 min)
    python -m benchmarks.server_instructions --serve gateway --port 9000   # one server, no valgrind

Needs valgrind (`apt-get install valgrind`); not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import uvicorn

from benchmarks.instructions import _callgrind, count_per_request
from benchmarks.processes import LOOPBACK, free_port, start_server, stop_server
from gateway.inbound.serving import bind_socket, uvicorn_config

SERVERS = ("stock", "gateway")
_BODY = b'{"id":"2819c223","userName":"bjensen@example.com"}' * 6
_HEADERS = [
    (b"content-type", b"application/scim+json"),
    (b"content-length", str(len(_BODY)).encode()),
    (b"x-request-id", b"0123456789abcdef0123456789abcdef"),
]


async def trivial_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every request with the same body; complete the lifespan."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


def serve(kind: str, port: int) -> None:
    """Run the trivial app on `kind` (stock or gateway) until killed."""
    settings = {"http": "httptools", "proxy_headers": True} if kind == "stock" else {}
    server = uvicorn.Server(uvicorn_config(trivial_app, loop="uvloop", **settings))
    server.run(sockets=[bind_socket(LOOPBACK, port)])


def measure(kind: str, work: Path, requests: int) -> int:
    """Instructions per GET for the trivial app on `kind`, under callgrind."""
    port = free_port()
    command = [*_callgrind(work, kind), sys.executable, "-m", "benchmarks.server_instructions"]
    server = start_server(
        kind, [*command, "--serve", kind, "--port", str(port)], port, log_dir=work, ready_path="/", timeout=300
    )
    try:
        return count_per_request(server, f"{server.url}/Users/2819c223", "unused", requests, work)
    finally:
        stop_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured GETs per server (default 2000)")
    parser.add_argument("--serve", choices=SERVERS, help="only serve the trivial app on this server")
    parser.add_argument("--port", type=int, default=9000, help="port for --serve")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="scim-bench-server-ir-") as tmp:
        results = {kind: measure(kind, Path(tmp), args.requests) for kind in SERVERS}
    print("| server | instructions per trivial GET |\n|---|--:|")
    for kind, count in results.items():
        print(f"| {kind} | {count:,} |")
    print(f"\ngateway / stock: {results['gateway'] / results['stock']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
