"""The gateway's HTTP protocol over real loopback sockets, held to stock uvicorn's behaviour byte for byte.

Every scenario sends raw bytes to a small ASGI app served once by uvicorn's
own httptools protocol and once by gateway.http_protocol, reads until the
server closes, and compares what came back (the Date header aside). The
scenarios cover what the protocol rewrote: keep-alive, pipelining, request
bodies (chunked, large enough to pause reading), 100-continue, HEAD,
chunked responses, apps that fail or misbehave. Idle keep-alive closing,
disconnects and the concurrency limit are tested on the gateway's protocol
directly.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from gateway.http_protocol import ScimHttpToolsProtocol
from gateway.inbound.serving import KEEP_ALIVE_SECONDS, RunningServer, serving, start_server

_DATE = re.compile(rb"\r\ndate: [^\r]*")
received: list[str] = []  # ASGI message types the /wait endpoint saw after its body


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path = scope["path"]
    if path == "/raise":
        raise RuntimeError("boom")
    if path == "/return-early":
        return
    if path.startswith("/start-then-"):  # a response begun, then abandoned
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if path == "/start-then-raise":
            raise ConnectionResetError("gone")
        return
    if path == "/whoami":  # what X-Forwarded-* made of the peer; a real peer's port varies, so not shown
        client = scope["client"]
        shown = f"{client[0]}:{client[1]}" if client[0] != "127.0.0.1" else client[0]
        answer = f"{shown} {scope['scheme']}".encode()
        headers = [(b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if path == "/wait":  # waits for what comes after the body: a disconnect
        received.append((await receive())["type"])
        return
    answer = b"%s %s %d:%s" % (scope["method"].encode(), scope["raw_path"], len(body), body[:32])
    if path == "/chunked":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-kind", b"chunked")]})
        await send({"type": "http.response.body", "body": answer, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await send({"type": "http.response.body", "body": b"-end", "more_body": False})
        return
    headers = [(b"Content-Type", b"text/plain"), (b"content-length", b"%d" % len(answer))]
    if path == "/bad-header":
        headers.append((b"x-injected", b"a\r\nset-cookie: evil"))
    if path == "/too-long":
        headers[1] = (b"content-length", b"2")
    if path == "/close":
        headers.append((b"Connection", b"keep-alive, Close"))
    await send({"type": "http.response.start", "status": 204 if path == "/empty" else 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if path == "/empty" else answer})


@asynccontextmanager
async def _served(protocol: Any, **config: Any) -> AsyncIterator[RunningServer]:
    async with serving(_app, http=protocol, **config) as server:
        yield server


async def _exchange(server: RunningServer, *parts: bytes) -> bytes:
    """Send `parts` (each its own write, a short pause between), then read until the server closes."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        for index, part in enumerate(parts):
            if index:
                await asyncio.sleep(0.05)  # let the server act on what it has before the next part
            writer.write(part)
            await writer.drain()
        return await asyncio.wait_for(reader.read(-1), 10)
    finally:
        writer.close()


def _get(path: str, *headers: str, method: str = "GET", version: str = "1.1") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


_BIG = b"x" * 200_000
SCENARIOS: dict[str, tuple[bytes, ...]] = {
    "keep-alive then close": (_get("/a?q=1"), _get("/b%20c", "Connection: close")),
    "pipelined": (_get("/one") + _get("/two") + _get("/three", "Connection: close"),),
    "body by content-length": (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    ),
    "chunked request body": (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
    ),
    "body in several writes": (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhel",
        b"lo wor",
        b"d",
    ),
    "body large enough to pause reading": (
        b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BIG), _BIG),
    ),
    "100-continue": (
        b"POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\nConnection: close\r\n\r\n",
        b"body",
    ),
    "HEAD": (_get("/head", method="HEAD"), _get("/x", "Connection: close")),
    "204": (_get("/empty", "Connection: close"),),
    "HTTP/1.0": (_get("/old", version="1.0"),),
    "app says Connection: close": (_get("/close"),),
    "chunked response": (_get("/chunked"), _get("/x", "Connection: close")),
    "app raises": (_get("/raise"),),
    "app returns without a response": (_get("/return-early"),),
    "app raises after starting a response": (_get("/start-then-raise"),),
    "app returns after starting a response": (_get("/start-then-return"),),
    "header injection refused": (_get("/bad-header"),),
    "body longer than Content-Length": (_get("/too-long"),),
    "malformed request": (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",),
    "websocket upgrade refused": (
        _get("/ws", "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13"),
    ),
}


FORWARDED = {
    "no forwarding headers": (),
    "proxy chain and https": ("X-Forwarded-For: 203.0.113.7, 10.0.0.1", "X-Forwarded-Proto: https"),
    "two X-Forwarded-For fields": ("X-Forwarded-For: 203.0.113.7", "X-Forwarded-For: 127.0.0.1"),
    "client with a port": ("X-Forwarded-For: 203.0.113.7:4444",),
    "bracketed IPv6": ("X-Forwarded-For: [2001:db8::1]:8443",),
    "only trusted hops": ("X-Forwarded-For: 127.0.0.1",),
    "empty": ("X-Forwarded-For: ", "X-Forwarded-Proto: "),
    "unknown scheme ignored": ("X-Forwarded-Proto: gopher",),
}


@pytest.mark.parametrize("allowed", ["127.0.0.1,::1", "10.0.0.0/8, 127.0.0.0/8", "192.0.2.1", "*"])
async def test_forwarded_headers_are_applied_exactly_like_uvicorns_middleware(allowed: str) -> None:
    stock_settings = {"http": "httptools", "proxy_headers": True, "forwarded_allow_ips": allowed}
    expected, got = {}, {}
    async with (
        serving(_app, **stock_settings) as stock,
        _served(ScimHttpToolsProtocol, forwarded_allow_ips=allowed) as ours,
    ):
        for case, headers in FORWARDED.items():
            request = _get("/whoami", *headers, "Connection: close")
            expected[case] = (await _exchange(stock, request)).rpartition(b"\r\n\r\n")[2]
            got[case] = (await _exchange(ours, request)).rpartition(b"\r\n\r\n")[2]
    assert got == expected
    if allowed == "127.0.0.1,::1":  # the cases say something: the first hop not trusted, its scheme
        assert got["proxy chain and https"] == b"10.0.0.1:0 https"
        assert got["no forwarding headers"] == got["empty"] == b"127.0.0.1 http"
    if allowed == "192.0.2.1":  # loopback not trusted: every header ignored
        assert set(got.values()) == {b"127.0.0.1 http"}


@pytest.mark.parametrize("parts", SCENARIOS.values(), ids=SCENARIOS.keys())
async def test_answers_exactly_like_stock_uvicorn(parts: tuple[bytes, ...]) -> None:
    # A short keep-alive: the upgrade scenario ends with both servers closing the idle connection.
    settings = {"ws": "none", "timeout_keep_alive": 0.3}
    async with _served("httptools", **settings) as stock, _served(ScimHttpToolsProtocol, **settings) as ours:
        expected, got = await _exchange(stock, *parts), await _exchange(ours, *parts)
    if parts == SCENARIOS["malformed request"]:  # the one deliberate difference: the 400 is a SCIM Error
        assert got.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"application/scim+json" in got
        assert b"urn:ietf:params:scim:api:messages:2.0:Error" in got
        return
    if parts == SCENARIOS["header injection refused"]:
        assert expected == b""  # refused before anything is written; the connection closes
    else:
        assert expected.startswith(b"HTTP/1.1 ")
    assert _DATE.sub(b"", got) == _DATE.sub(b"", expected)


async def test_a_response_is_head_then_body_and_says_when_it_closes() -> None:
    async with _served(ScimHttpToolsProtocol) as server:
        answer = await _exchange(server, _get("/a?b=c", "Connection: close"))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert body == b"GET /a 0:"
    assert b"\r\ncontent-length: 9" in head and b"\r\ncontent-type: text/plain" in head
    assert b"\r\nconnection: close" in head  # added because the client asked to close


async def test_idle_keep_alive_connection_is_closed_after_its_timeout_not_before() -> None:
    async with _served(ScimHttpToolsProtocol, timeout_keep_alive=0.3) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_get("/a"))
        answered = await reader.readuntil(b"GET /a 0:")
        started = time.monotonic()
        rest = await asyncio.wait_for(reader.read(-1), 5)  # EOF: the server closed the idle connection
        idle = time.monotonic() - started
        writer.close()
    assert answered.startswith(b"HTTP/1.1 200 OK") and rest == b""
    assert 0.25 <= idle < 0.3 + 2 * 0.075 + 0.5  # the timeout, plus at most a sweep tick (and scheduling slack)


async def test_a_connection_in_use_is_not_closed_by_the_idle_sweep() -> None:
    async with _served(ScimHttpToolsProtocol, timeout_keep_alive=0.2) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        for index in range(8):  # 0.8 s of traffic on one connection, never idle for 0.2 s
            writer.write(_get(f"/n{index}"))
            await reader.readuntil(f"GET /n{index} 0:".encode())
            await asyncio.sleep(0.1)
        writer.close()


async def test_client_that_goes_away_is_reported_as_http_disconnect() -> None:
    received.clear()
    async with _served(ScimHttpToolsProtocol) as server:
        _, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
    assert received == ["http.disconnect"]


async def test_concurrency_limit_answers_503() -> None:
    async with _served(ScimHttpToolsProtocol, limit_concurrency=1) as server:
        _, holder = await asyncio.open_connection(server.host, server.port)  # takes the one slot
        answer = await _exchange(server, _get("/a"))
        holder.close()
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable") and answer.endswith(b"Service Unavailable")


async def test_shutdown_closes_idle_connections_and_lets_a_request_in_flight_finish() -> None:
    server = await start_server(_app, http=ScimHttpToolsProtocol)
    idle_reader, idle_writer = await asyncio.open_connection(server.host, server.port)
    idle_writer.write(_get("/a"))
    await idle_reader.readuntil(b"GET /a 0:")
    busy_reader, busy_writer = await asyncio.open_connection(server.host, server.port)
    busy_writer.write(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nha")  # half a body
    await busy_writer.drain()
    await asyncio.sleep(0.05)
    stopping = asyncio.create_task(server.stop())
    assert await asyncio.wait_for(idle_reader.read(-1), 5) == b""
    busy_writer.write(b"lf")
    finished = await asyncio.wait_for(busy_reader.read(-1), 5)
    await stopping
    idle_writer.close()
    busy_writer.close()
    assert finished.endswith(b"POST /echo 4:half") and b"\r\nconnection: close\r\n" in finished


async def test_idle_connections_outlive_a_load_balancers_idle_timeout_by_default() -> None:
    """A proxy in front (AWS ALB, nginx: 60 s idle) must close idle connections before the gateway does."""
    async with serving(_app) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_get("/a"))
        await reader.readuntil(b"GET /a 0:")
        (connection,) = server.server.server_state.connections
        left = connection.idle_deadline - asyncio.get_running_loop().time()  # type: ignore[attr-defined]
        writer.close()
    assert KEEP_ALIVE_SECONDS > 60 and KEEP_ALIVE_SECONDS - 1 < left <= KEEP_ALIVE_SECONDS
