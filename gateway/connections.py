"""Bounded client connections: uvicorn's httptools protocol with read timeouts and a connection cap.

Stock uvicorn times a connection out only while it is idle after a response
(`timeout_keep_alive`). A client that connects and sends nothing, or sends its
request head or body a byte at a time, keeps its socket as long as it likes,
until the process runs out of file descriptors. The protocol made here adds,
through public callbacks only (asyncio.Protocol's `connection_made`,
`data_received`, `connection_lost`; the httptools parser's
`on_headers_complete`, `on_message_complete`):

- head timeout: a request head must be complete `head_timeout` seconds after
  the connection opened, or after the first byte following the previous
  request. Otherwise the connection closes (after the response in flight, if
  any: uvicorn's own graceful `shutdown()` of a connection).
- body timeout: the body must be complete `body_timeout` seconds after the
  head. Otherwise the connection closes and the app sees `http.disconnect`.
- at most `max_connections` open connections: one more closes the connection
  that has waited longest for its client's bytes or, when every connection
  is serving a request or idle between requests, is refused itself.

uvicorn's `limit_concurrency` is not used: it counts connections, so silent
sockets would turn real requests away with 503.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass(frozen=True)
class ConnectionLimits:
    """Read timeouts (seconds) and the open-connection cap of one server."""

    head_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1024


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    """Only there so that a uvicorn Config can load and name its protocol class."""


@functools.cache
def httptools_protocol() -> type[asyncio.Protocol]:
    """uvicorn's protocol class for `http="httptools"`, as its public Config resolves it."""
    config = uvicorn.Config(_no_app, http="httptools", lifespan="off", log_config=None)
    config.load()
    return config.http_protocol_class


def bounded_protocol(limits: ConnectionLimits) -> type[asyncio.Protocol]:
    """A protocol class for uvicorn's `http=` setting that enforces `limits` (see the module docstring).

    Call it once per server: the class keeps that server's open connections.
    """
    opened: set[Any] = set()
    waiting: dict[Any, float] = {}  # connections owing the client's bytes -> loop time they started waiting

    # The base is uvicorn's class as Config resolves it at run time, which a type checker cannot follow.
    class BoundedHttpToolsProtocol(httptools_protocol()):  # type: ignore[misc]
        read_timer: asyncio.TimerHandle | None = None
        reading_body = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.client_transport = transport
            opened.add(self)
            if len(opened) > limits.max_connections and not _evict_longest_waiting():
                transport.close()  # every other connection is busy or idle: refuse this one
                return
            self.expect_bytes(limits.head_timeout, body=False)

        def connection_lost(self, exc: Exception | None) -> None:
            self.stop_waiting()
            opened.discard(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.read_timer is None:  # the first byte of a request head (or of noise between requests)
                self.expect_bytes(limits.head_timeout, body=False)
            super().data_received(data)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self.expect_bytes(limits.body_timeout, body=True)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self.stop_waiting()  # the request is the app's now; its own deadline bounds it

        def expect_bytes(self, seconds: float, *, body: bool) -> None:
            """Give the client `seconds` to finish the request head (or body)."""
            if self.read_timer is not None:
                self.read_timer.cancel()
            loop = asyncio.get_running_loop()
            self.read_timer = loop.call_later(seconds, self.read_timed_out)
            self.reading_body = body
            waiting.setdefault(self, loop.time())

        def stop_waiting(self) -> None:
            if self.read_timer is not None:
                self.read_timer.cancel()
                self.read_timer = None
            waiting.pop(self, None)

        def read_timed_out(self) -> None:
            """Close a connection whose client is too slow (or silent)."""
            body = self.reading_body
            self.stop_waiting()
            if body:
                self.client_transport.close()  # the app, waiting for the rest of the body, sees a disconnect
            else:
                self.shutdown()  # close now, or right after a response still being written

    def _evict_longest_waiting() -> bool:
        """Close the connection that has waited longest for its client; False if none is waiting."""
        if not waiting:
            return False
        min(waiting, key=waiting.__getitem__).read_timed_out()
        return True

    return BoundedHttpToolsProtocol
