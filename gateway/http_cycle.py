"""One HTTP/1.1 request and its response, as an ASGI `receive`/`send` pair.

uvicorn's RequestResponseCycle, with the same contract (ASGI HTTP spec 2.3;
the checks and errors are uvicorn's), made cheaper because the gateway pays
it on every call (with the protocol's changes, a trivial ASGI request
costs 107k instructions against stock uvicorn's 122k:
`python -m benchmarks.server_instructions`):

- request body and end-of-body are signalled through a flag and, only when
  the app actually waits, a future; uvicorn builds an asyncio.Event per
  request, which is a Python object with its own deque;
- the response head is written together with the first body message, one
  `transport.write` (one TCP segment) instead of two. A head is therefore
  not on the wire until the app sends body: fine for a SCIM server, whose
  responses are never held open for streaming.

The protocol (gateway.http_protocol) feeds it: `body`/`more_body` plus
`wake()` as the parser delivers, `disconnected` plus `wake()` when the
peer goes away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_SERVER_ERROR_HEAD = {
    "type": "http.response.start",
    "status": 500,
    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21"), (b"connection", b"close")],
}
_SERVER_ERROR_BODY = {"type": "http.response.body", "body": b"Internal Server Error", "more_body": False}


def _nothing() -> None:
    return None


class ResponseCycle:
    """The ASGI side of one request on one connection; see the module docstring."""

    __slots__ = (
        "_head",
        "_pending",
        "_waiter",
        "body",
        "chunked_encoding",
        "default_headers",
        "disconnected",
        "expected_content_length",
        "flow",
        "keep_alive",
        "logger",
        "more_body",
        "on_response",
        "response_complete",
        "response_started",
        "scope",
        "transport",
        "waiting_for_100_continue",
    )

    def __init__(
        self,
        scope: dict[str, Any],
        transport: asyncio.Transport,
        flow: FlowControl,
        logger: logging.Logger,
        default_headers: list[tuple[bytes, bytes]],
        expect_100_continue: bool,
        keep_alive: bool,
        on_response: Callable[[], None],
    ) -> None:
        self.scope = scope
        self.transport = transport
        self.flow = flow
        self.logger = logger
        self.default_headers = default_headers
        self.on_response = on_response
        self.disconnected = False
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.body = b""
        self.more_body = True
        self.response_started = False
        self.response_complete = False
        self.chunked_encoding: bool | None = None
        self.expected_content_length = 0
        self._pending = False  # something for receive() to report: body, its end, or a disconnect
        self._waiter: asyncio.Future[None] | None = None
        self._head: bytes | None = None

    def wake(self) -> None:
        """Tell a waiting (or the next) `receive` that there is news: body, end of body, or disconnect."""
        self._pending = True
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def run_asgi(self, app: Any) -> None:
        """Run `app` for this request; an app that fails or returns early gets uvicorn's treatment."""
        try:
            result = await app(self.scope, self.receive, self.send)
        except BaseException as exc:
            self.logger.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started:
                await self._send_500_response()
            else:
                self._abandon()
        else:
            if result is not None:
                self.logger.error("ASGI callable should return None, but returned '%s'.", result)
                self._abandon()
            elif not self.response_started and not self.disconnected:
                self.logger.error("ASGI callable returned without starting response.")
                await self._send_500_response()
            elif not self.response_complete and not self.disconnected:
                self.logger.error("ASGI callable returned without completing response.")
                self._abandon()
        finally:
            self.on_response = _nothing

    def _abandon(self) -> None:
        """Close mid-response as uvicorn does: a started head still reaches the peer, so it sees a cut response."""
        self._flush_head()
        self.transport.close()

    async def _send_500_response(self) -> None:
        await self.send(_SERVER_ERROR_HEAD)
        await self.send(_SERVER_ERROR_BODY)

    async def receive(self) -> dict[str, Any]:
        """The next `http.request` message, or `http.disconnect` once the response is done or the peer left."""
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(_CONTINUE)
            self.waiting_for_100_continue = False
        if not self.disconnected and not self.response_complete:
            self.flow.resume_reading()
            if not self._pending:
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            self._pending = False
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body, self.body = self.body, b""
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: dict[str, Any]) -> None:
        """Write an `http.response.start` or `http.response.body` message (RuntimeError when out of order)."""
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected ASGI message 'http.response.start', but got '{kind}'.")
            self.response_started = True
            self.waiting_for_100_continue = False
            self._head = self._render_head(message["status"], message.get("headers", ()))
        elif not self.response_complete:
            if kind != "http.response.body":
                raise RuntimeError(f"Expected ASGI message 'http.response.body', but got '{kind}'.")
            self._send_body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response already completed.")

    def _render_head(self, status: int, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
        content = [STATUS_LINE[status]]
        close_sent = False
        for source in (self.default_headers, headers):
            for name, value in source:
                if HEADER_RE.search(name):
                    raise RuntimeError("Invalid HTTP header name.")
                if HEADER_VALUE_RE.search(value):
                    raise RuntimeError("Invalid HTTP header value.")
                name = name.lower()
                if name == b"content-length" and self.chunked_encoding is None:
                    self.expected_content_length = int(value.decode())
                    self.chunked_encoding = False
                elif name == b"transfer-encoding" and value.lower() == b"chunked":
                    self.expected_content_length = 0
                    self.chunked_encoding = True
                elif name == b"connection" and b"close" in [token.strip() for token in value.lower().split(b",")]:
                    self.keep_alive = False
                    close_sent = True
                content += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not close_sent:
            content.append(b"connection: close\r\n")
        if self.chunked_encoding is None and self.scope["method"] != "HEAD" and status not in (204, 304):
            self.chunked_encoding = True  # neither Content-Length nor Transfer-Encoding from the app
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        return b"".join(content)

    def _flush_head(self) -> None:
        if self._head is not None:
            self.transport.write(self._head)
            self._head = None

    def _send_body(self, body: bytes, more_body: bool) -> None:
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
            chunk = b""
        elif self.chunked_encoding:
            chunk = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + (b"" if more_body else b"0\r\n\r\n")
        else:
            if len(body) > self.expected_content_length:
                self._flush_head()  # as uvicorn leaves it: the head on the wire, then (run_asgi) closed
                raise RuntimeError("Response content longer than Content-Length")
            self.expected_content_length -= len(body)
            chunk = body
        if self._head is not None:
            self.transport.write(self._head + chunk)
            self._head = None
        elif chunk:
            self.transport.write(chunk)
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.wake()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()
