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

    # The base is uvicorn's class as Config resolves it at run time, which a type checker cannot follow.
    class BoundedHttpToolsProtocol(httptools_protocol()):  # type: ignore[misc]
        # While the client owes bytes: when it must have sent them, and since when it has been waiting.
        # One timer per connection checks the deadline lazily (re-armed only when it fires early), so a
        # request moving its deadline along costs attribute writes, not a timer armed and cancelled.
        read_deadline: float | None = None
        waiting_since = 0.0
        reading_body = False
        read_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.client_transport = transport
            self.clock = asyncio.get_running_loop()
            opened.add(self)
            if len(opened) > limits.max_connections and not _close_longest_waiting():
                transport.close()  # every other connection is busy or idle: refuse this one
                return
            self.expect_head()

        def connection_lost(self, exc: Exception | None) -> None:
            self.read_deadline = None
            if self.read_timer is not None:
                self.read_timer.cancel()
            opened.discard(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self.read_deadline is None:  # the first byte of a request head (or of noise between requests)
                self.expect_head()
            super().data_received(data)

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self.read_deadline = self.clock.time() + limits.body_timeout
            self.reading_body = True

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self.read_deadline = None  # the request is the app's now; its own deadline bounds it

        def expect_head(self) -> None:
            now = self.clock.time()
            self.read_deadline = now + limits.head_timeout
            self.waiting_since = now
            self.reading_body = False
            if self.read_timer is None:
                self.read_timer = self.clock.call_at(self.read_deadline, self.check_deadline)

        def check_deadline(self) -> None:
            self.read_timer = None
            deadline = self.read_deadline
            if deadline is None:
                return
            if self.clock.time() < deadline:
                self.read_timer = self.clock.call_at(deadline, self.check_deadline)
            else:
                self.read_timed_out()

        def read_timed_out(self) -> None:
            """Close a connection whose client is too slow (or silent)."""
            self.read_deadline = None
            if self.reading_body:
                self.client_transport.close()  # the app, waiting for the rest of the body, sees a disconnect
            else:
                self.shutdown()  # close now, or right after a response still being written

    def _close_longest_waiting() -> bool:
        """Close the connection that has waited longest for its client's bytes; False if none is waiting."""
        waiting = [connection for connection in opened if connection.read_deadline is not None]
        if not waiting:
            return False
        min(waiting, key=lambda connection: connection.waiting_since).read_timed_out()
        return True

    return BoundedHttpToolsProtocol
