"""A static SCIM upstream fast enough never to be the bottleneck: raw asyncio, httptools, uvloop.

Every answer is a byte string built once at start-up:

- GET  /v2/Users/{id}  -> 200, the fixed user (whatever the id)
- GET  /v2/Users?...   -> 200, a ListResponse holding that user (the filter is not evaluated)
- POST /v2/Users       -> 201, the user, with Location
- PATCH or PUT /v2/Users/{id} -> 200, the user
- DELETE /v2/Users/{id} -> 204
- anything else        -> 404 SCIM Error
- /api/rbac/users...   -> Orca REST, from a small bounded store (benchmarks/orca_upstream.py)

Run alone: `python -m benchmarks.upstream --port 9001`.
"""

from __future__ import annotations

import argparse
import asyncio

import httptools
import orjson
import uvloop

from benchmarks.orca_upstream import ROOT as ORCA_ROOT
from benchmarks.orca_upstream import OrcaUsers
from benchmarks.processes import LOOPBACK, require_loopback
from benchmarks.scenarios import LIST_SCHEMA, USER

_ROOT = b"/v2/Users"
_ERROR = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404", "detail": "not found"}


def _response(status: str, body: bytes | None, extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\n{extra}"
    if body is None:
        return f"{head}Content-Length: 0\r\n\r\n".encode()
    return f"{head}Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


_USER = orjson.dumps(USER)
_LIST = orjson.dumps(
    {"schemas": [LIST_SCHEMA], "totalResults": 1, "startIndex": 1, "itemsPerPage": 1, "Resources": [USER]}
)
OK_USER = _response("200 OK", _USER)
OK_LIST = _response("200 OK", _LIST)
CREATED = _response("201 Created", _USER, f"Location: {USER['meta']['location']}\r\n")
NO_CONTENT = _response("204 No Content", None)
NOT_FOUND = _response("404 Not Found", orjson.dumps(_ERROR))


def answer(method: bytes, url: bytes) -> bytes:
    """The canned response for a request line."""
    path = url.partition(b"?")[0].rstrip(b"/")
    if path == _ROOT:
        return {b"GET": OK_LIST, b"POST": CREATED}.get(method, NOT_FOUND)
    if path.startswith(_ROOT + b"/") and path.count(b"/") == 3:
        return {b"GET": OK_USER, b"PATCH": OK_USER, b"PUT": OK_USER, b"DELETE": NO_CONTENT}.get(method, NOT_FOUND)
    return NOT_FOUND


class StaticScim(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; answers each request as soon as it is complete."""

    def __init__(self, orca: OrcaUsers) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.orca = orca
        self.url = b""
        self.body = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                self.transport.close()

    def on_message_begin(self) -> None:
        self.url = b""
        self.body = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if self.transport is None:
            return
        method = self.parser.get_method()
        if self.url.startswith(ORCA_ROOT):
            self.transport.write(self.orca.answer(method, self.url, self.body))
        else:
            self.transport.write(answer(method, self.url))
        if not self.parser.should_keep_alive():
            self.transport.close()


async def serve(host: str, port: int) -> None:
    """Serve until cancelled (SIGTERM ends the process)."""
    orca = OrcaUsers()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: StaticScim(orca), require_loopback(host), port, backlog=2048)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="static SCIM upstream for benchmarks")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
