"""The HTTP/1.1 server protocol: uvicorn's httptools protocol, cheaper per request, answering bad framing as SCIM.

What changes against uvicorn's HttpToolsProtocol, and why:

- Each request runs in a `ResponseCycle` (gateway.http_cycle): uvicorn's
  contract, cheaper, head and body in one write.
- Idle keep-alive connections are closed by one `IdleSweeper` per server
  instead of a loop timer armed and cancelled around every request: a
  connection idle for `timeout_keep_alive` seconds is closed within
  `IdleSweeper.tick` seconds after that, never before.
- X-Forwarded-For and X-Forwarded-Proto from a trusted peer (uvicorn's
  `forwarded_allow_ips`, FORWARDED_ALLOW_IPS) are applied while the scope is
  built, exactly as uvicorn's ProxyHeadersMiddleware would, with the peer's
  trust decided once per connection; gateway.inbound.serving.uvicorn_config turns
  the middleware (a coroutine layer and a trust lookup per request) off.
- llhttp (behind httptools) refuses request smuggling shapes itself, before
  any ASGI code runs: Content-Length together with Transfer-Encoding, two
  differing Content-Lengths, bad chunk framing (RFC 9112 section 6.3).
  uvicorn answers a plain-text 400; here it is a SCIM Error (RFC 7644
  section 3.12) like every other refusal, and the connection still closes.

The callbacks overridden below are uvicorn's with those changes; the rest
of its behaviour (pipelining, flow control, 100-continue, HEAD, upgrade
refusal, limit_concurrency, graceful shutdown) is kept, and
tests/gateway/test_http_protocol.py compares the bytes with stock uvicorn's.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any
from urllib.parse import unquote

import httptools
import orjson
from uvicorn.middleware.proxy_headers import _TrustedHosts
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.http_cycle import ResponseCycle

_BODY = orjson.dumps(
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400",
        "detail": "malformed HTTP request (e.g. conflicting Content-Length and Transfer-Encoding)",
    }
)


class IdleSweeper:
    """Closes a server's keep-alive connections whose `idle_deadline` has passed, on one repeating timer.

    The timer runs only while the server has connections; `watch()` (called
    for each new connection) restarts it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, connections: set[Any], timeout: float) -> None:
        self.tick = max(0.05, min(1.0, timeout / 4))
        self._loop = loop
        self._connections = connections
        self._timer: asyncio.TimerHandle | None = None

    def watch(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_later(self.tick, self._sweep)

    def _sweep(self) -> None:
        now = self._loop.time()
        for connection in list(self._connections):
            deadline = getattr(connection, "idle_deadline", None)
            if deadline is not None and deadline <= now:
                connection.idle_deadline = None
                connection.timeout_keep_alive_handler()
        self._timer = self._loop.call_later(self.tick, self._sweep) if self._connections else None


_sweepers: weakref.WeakKeyDictionary[ServerState, IdleSweeper] = weakref.WeakKeyDictionary()


def _sweeper_for(state: ServerState, loop: asyncio.AbstractEventLoop, timeout: float) -> IdleSweeper:
    sweeper = _sweepers.get(state)
    if sweeper is None:
        sweeper = _sweepers[state] = IdleSweeper(loop, state.connections, timeout)
    return sweeper


@functools.lru_cache(maxsize=16)
def _trusted_proxies(hosts: str | tuple[str, ...]) -> _TrustedHosts:
    """uvicorn's own parser of `forwarded_allow_ips` (so both trust the same peers), built once per setting."""
    return _TrustedHosts(list(hosts) if isinstance(hosts, tuple) else hosts)


def _apply_forwarded(scope: dict[str, Any], trusted: _TrustedHosts) -> None:
    """Set `scheme` and `client` from X-Forwarded-Proto/-For as ProxyHeadersMiddleware does (peer trusted)."""
    proto: bytes | None = None
    forwarded_for: list[bytes] = []
    for name, value in scope["headers"]:
        if name == b"x-forwarded-proto":
            proto = value
        elif name == b"x-forwarded-for":
            forwarded_for.append(value)
    if proto is not None:
        scheme = proto.decode("latin1").strip()
        if scheme in ("http", "https", "ws", "wss"):
            scope["scheme"] = scheme
    if forwarded_for:
        host, port = trusted.get_trusted_client_address(b", ".join(forwarded_for).decode("latin1"))
        if host:  # an empty X-Forwarded-For names nobody: keep the peer
            scope["client"] = (host, port)


class ScimHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the changes in the module docstring."""

    cycle: ResponseCycle  # type: ignore[assignment]
    idle_deadline: float | None = None  # loop time after which an idle keep-alive connection is closed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        allowed = self.config.forwarded_allow_ips
        self.trusted_proxies = _trusted_proxies(tuple(allowed) if isinstance(allowed, list) else allowed)
        self.via_trusted_proxy = self.client is not None and self.client[0] in self.trusted_proxies
        _sweeper_for(self.server_state, self.loop, self.timeout_keep_alive).watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.idle_deadline = None
        cycle = self.cycle
        if cycle is not None:
            if not cycle.response_complete:
                cycle.disconnected = True
            cycle.wake()
        if self.flow is not None:
            self.flow.resume_writing()
        if exc is None:
            self.transport.close()
        self.parser = None  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.idle_deadline = None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def on_headers_complete(self) -> None:
        parser = self.parser
        http_version = parser.get_http_version()
        scope = self.scope
        scope["method"] = parser.get_method().decode("ascii")
        if http_version != "1.1":
            scope["http_version"] = http_version
        if parser.should_upgrade() and self._should_upgrade():
            return
        parsed_url = httptools.parse_url(self.url)
        raw_path = parsed_url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        scope["path"] = self.root_path + path
        scope["raw_path"] = self.root_path.encode("ascii") + raw_path if self.root_path else raw_path
        scope["query_string"] = parsed_url.query or b""
        if self.via_trusted_proxy:
            _apply_forwarded(scope, self.trusted_proxies)  # type: ignore[arg-type]

        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        else:
            app = self.app
        previous = self.cycle
        self.cycle = ResponseCycle(
            scope,  # type: ignore[arg-type]
            self.transport,
            self.flow,
            self.logger,
            self.server_state.default_headers,
            self.expect_100_continue,
            http_version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        if previous is None or previous.response_complete:
            self._start_asgi_task(self.cycle, app)  # type: ignore[arg-type]
        else:  # pipelined behind a request still being answered
            self.flow.pause_reading()
            self.pipeline.appendleft((self.cycle, app))  # type: ignore[arg-type]

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
            return
        cycle.body += body
        if len(cycle.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        cycle.wake()

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if cycle.response_complete or (self.parser.should_upgrade() and self._should_upgrade()):
            return
        cycle.more_body = False
        cycle.wake()

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        else:
            self.idle_deadline = self.loop.time() + self.timeout_keep_alive

    def send_400_response(self, msg: str) -> None:
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/scim+json\r\n",
                b"content-length: " + str(len(_BODY)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                _BODY,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()
