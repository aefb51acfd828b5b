"""Client connections over real loopback sockets: slow, silent and idle clients are closed; real ones are served.

The server is stock uvicorn with gateway.inbound.connections' protocol, serving a
small ASGI app; timeouts are a few hundred milliseconds so that each test
takes about that long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gateway.app import create_app
from gateway.inbound.connections import ConnectionLimits
from gateway.inbound.serving import RunningServer, gateway_options, serving, start_server
from tests.processes import gateway_process
from tests.resilience.harness import TEST_METRICS, TOKENS, app_config, gateway_config, simulator

SHORT = ConnectionLimits(head_timeout=0.3, body_timeout=0.3, max_connections=1024)
SLACK = 2.0  # a loaded CI machine may run a timer late; never early
seen: list[str] = []  # what the /wait endpoint received after the body it read


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            seen.append(f"disconnect after {len(body)} bytes")
            return
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/wait":
        seen.append((await receive())["type"])
        return
    client = scope["client"]
    answer = b"%s %s %d %s %s" % (
        scope["method"].encode(), scope["raw_path"], len(body), client[0].encode(), scope["scheme"].encode()
    )  # fmt: skip
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(answer))]})
    await send({"type": "http.response.body", "body": answer})


def _get(path: str, *headers: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/1.1", "Host: test", *headers]) + "\r\n\r\n").encode()


async def _until_closed(reader: asyncio.StreamReader) -> float:
    """Read to EOF (the server closed); returns how long that took."""
    started = time.monotonic()
    with contextlib.suppress(ConnectionResetError):
        while await asyncio.wait_for(reader.read(65536), 10):
            pass
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def _served(limits: ConnectionLimits = SHORT, **config: Any) -> AsyncIterator[RunningServer]:
    async with serving(_app, limits=limits, **config) as server:
        yield server


async def _ask(server: RunningServer, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(request)
        return await asyncio.wait_for(reader.read(-1), 10)
    finally:
        writer.close()


async def test_a_client_that_never_sends_a_byte_is_closed_after_the_head_timeout() -> None:
    async with _served() as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        waited = await _until_closed(reader)
        writer.close()
    assert 0.25 <= waited < 0.3 + SLACK


async def test_a_head_dripping_one_byte_at_a_time_is_closed_after_the_head_timeout() -> None:
    async with _served() as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)

        async def drip() -> None:
            with contextlib.suppress(ConnectionError):
                for byte in _get("/slow"):
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.05)  # the whole head would take ~1.5 s

        dripping = asyncio.create_task(drip())
        waited = await _until_closed(reader)
        dripping.cancel()
        writer.close()
    assert 0.25 <= waited < 0.3 + SLACK


async def test_a_body_that_stalls_midway_is_cut_and_the_app_sees_a_disconnect() -> None:
    seen.clear()
    async with _served() as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")  # 3 of 10 bytes
        waited = await _until_closed(reader)
        writer.close()
        for _ in range(100):  # the app task runs right after the close
            if seen:
                break
            await asyncio.sleep(0.01)
    assert 0.25 <= waited < 0.3 + SLACK
    assert seen == ["disconnect after 3 bytes"]


async def test_noise_between_requests_does_not_keep_a_connection_open() -> None:
    """Bytes that start no request (CRLFs) after a response still count against the head timeout."""
    async with _served(timeout_keep_alive=60) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_get("/a"))
        assert (await reader.readuntil(b"GET /a 0")).startswith(b"HTTP/1.1 200 OK")
        writer.write(b"\r\n")
        waited = await _until_closed(reader)
        writer.close()
    assert waited < 0.3 + SLACK


async def test_a_slow_but_steady_client_within_the_timeouts_is_served() -> None:
    async with _served(ConnectionLimits(head_timeout=1.5, body_timeout=1.5)) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        request = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
        for part in (request[:10], request[10:30], request[30:-2], request[-2:]):
            writer.write(part)
            await asyncio.sleep(0.1)
        answer = await asyncio.wait_for(reader.read(-1), 10)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"POST /echo 4 127.0.0.1 http")


async def test_open_connections_are_capped_and_a_real_client_still_gets_in() -> None:
    """250 sockets (silent, or a head begun) against a cap of 100: the longest waiting go; a real client is served."""
    async with _served(ConnectionLimits(head_timeout=30, body_timeout=30, max_connections=100)) as server:
        slow = [await asyncio.open_connection(server.host, server.port) for _ in range(250)]
        for index, (_, writer) in enumerate(slow):
            if index % 2:
                writer.write(b"GET /dr")
        started = time.monotonic()
        answer = await _ask(server, _get("/real", "Connection: close"))
        served_in = time.monotonic() - started
        closed = await asyncio.gather(*(_closed_soon(reader) for reader, _ in slow))
        for _, writer in slow:
            writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.endswith(b"GET /real 0 127.0.0.1 http")
    assert served_in < SLACK  # at once, not after a timeout
    assert closed.count(False) <= 100 and closed[:150] == [True] * 150  # the oldest went first


async def _closed_soon(reader: asyncio.StreamReader) -> bool:
    with contextlib.suppress(TimeoutError):
        await _until_closed_within(reader, 0.5)
        return True
    return False


async def _until_closed_within(reader: asyncio.StreamReader, seconds: float) -> None:
    async with asyncio.timeout(seconds):
        with contextlib.suppress(ConnectionResetError):
            while await reader.read(65536):
                pass


async def test_hundreds_of_dripping_sockets_are_closed_within_the_head_timeout_and_real_clients_served() -> None:
    """250 sockets each sending a byte of a head every 0.1 s: all closed at the head timeout; others served."""
    async with _served(ConnectionLimits(head_timeout=0.5, body_timeout=0.5)) as server:
        slow = [await asyncio.open_connection(server.host, server.port) for _ in range(250)]
        started = time.monotonic()

        async def drip(writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                for byte in _get("/never-finished"):
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.1)

        drips = [asyncio.create_task(drip(writer)) for _, writer in slow]
        answers = [await _ask(server, _get(f"/real{n}", "Connection: close")) for n in range(5)]
        await asyncio.gather(*(_until_closed(reader) for reader, _ in slow))
        all_closed_in = time.monotonic() - started
        for task in drips:
            task.cancel()
        for _, writer in slow:
            writer.close()
    assert all(answer.startswith(b"HTTP/1.1 200 OK") for answer in answers)
    assert all_closed_in < 0.5 + SLACK


async def test_idle_keep_alive_connection_is_closed_after_its_timeout_not_before() -> None:
    async with _served(ConnectionLimits(head_timeout=5, body_timeout=5), timeout_keep_alive=0.3) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(_get("/a"))
        answered = await reader.readuntil(b"GET /a 0")
        idle = await _until_closed(reader)
        writer.close()
    assert answered.startswith(b"HTTP/1.1 200 OK")
    assert 0.25 <= idle < 0.3 + SLACK


async def test_requests_on_one_keep_alive_connection_are_not_cut_by_the_timeouts() -> None:
    async with _served(timeout_keep_alive=5) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        for index in range(6):  # 0.9 s on one connection: longer than each timeout, never idle that long
            writer.write(_get(f"/n{index}"))
            await reader.readuntil(f"GET /n{index} 0".encode())
            await asyncio.sleep(0.15)
        writer.close()


async def test_x_forwarded_headers_from_a_trusted_peer_name_the_client() -> None:
    async with _served(forwarded_allow_ips="127.0.0.1") as server:
        forwarded = ("X-Forwarded-For: 203.0.113.7, 127.0.0.1", "X-Forwarded-Proto: https", "Connection: close")
        proxied = await _ask(server, _get("/p", *forwarded))
    async with _served(forwarded_allow_ips="192.0.2.1") as server:
        untrusted = await _ask(server, _get("/p", "X-Forwarded-For: 203.0.113.7", "Connection: close"))
    assert proxied.endswith(b"GET /p 0 203.0.113.7 https")
    assert untrusted.endswith(b"GET /p 0 127.0.0.1 http")


async def test_conflicting_framing_is_refused_with_400_and_the_connection_closes() -> None:
    async with _served() as server:
        answer = await _ask(server, b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n") and b"connection: close" in answer


async def test_client_that_goes_away_is_reported_as_http_disconnect() -> None:
    seen.clear()
    async with _served() as server:
        _, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"POST /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
    assert seen == ["http.disconnect"]


async def test_shutdown_closes_idle_connections_and_lets_a_request_in_flight_finish() -> None:
    server = await start_server(_app, limits=ConnectionLimits(head_timeout=5, body_timeout=5))
    idle_reader, idle_writer = await asyncio.open_connection(server.host, server.port)
    idle_writer.write(_get("/a"))
    await idle_reader.readuntil(b"GET /a 0 127.0.0.1 http")
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
    assert finished.endswith(b"POST /echo 4 127.0.0.1 http") and b"\r\nconnection: close\r\n" in finished


async def test_the_gateway_records_a_request_whose_body_stalled(tmp_path: Path) -> None:
    """Limits come from the config's `server` section; the cut request has its audit record."""
    audit_file = tmp_path / "audit.jsonl"
    async with simulator() as sim:
        config = gateway_config(
            {"acme": {"apps": {"invicti": app_config(sim)}}},
            server={"head_timeout": 0.3, "body_timeout": 0.3},
            observability={"audit": {"file": str(audit_file)}, "health_check_interval": 3600, **TEST_METRICS},
        )
        async with serving(create_app(config), **gateway_options(config)) as server:
            reader, writer = await asyncio.open_connection(server.host, server.port)
            writer.write(
                b"POST /tenants/acme/apps/invicti/scim/v2/Users HTTP/1.1\r\nHost: gw\r\nX-Request-ID: stalled-1\r\n"
                b"Authorization: Bearer " + TOKENS["acme"].encode() + b"\r\n"
                b'Content-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{"userName": "sl'
            )
            waited = await _until_closed(reader)
            writer.close()
        records = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert waited < 0.3 + SLACK
    (record,) = [record for record in records if record["request_id"] == "stalled-1"]
    assert record["status"] >= 400 and record["operation"] == "create"
    assert sim.requests("POST") == []


async def test_serve_options_override_the_config(tmp_path: Path) -> None:
    """`scim-gateway serve --head-timeout`: a real process closes a silent client after that time."""
    path = tmp_path / "gateway.yaml"
    path.write_text(
        json.dumps(
            {
                "allow_literal_secrets": True,
                "server": {"head_timeout": 60},
                "observability": {"audit": {"file": os.devnull}, "health_check_interval": 3600, **TEST_METRICS},
                "tenants": {"acme": {"tokens": [{"name": "t", "sha256": "a" * 64}], "apps": {}}},
            }
        )
    )
    async with gateway_process(path, options=["--head-timeout", "0.5"]) as gateway:
        host, port = gateway.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        waited = await _until_closed(reader)
        writer.close()
    assert 0.4 <= waited < 0.5 + SLACK
