"""`read_timeout` bounds one whole vendor exchange: a vendor dripping its answer cannot hold a call open.

aiohttp's own read timeout restarts with every chunk received, so an answer arriving a byte at a time
never trips it; UpstreamClient's attempt timeout counts from the start of the exchange.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from pydantic import SecretStr

from gateway.outbound.auth import StaticTokenAuth
from gateway.outbound.client import AmbiguousWrite, UpstreamClient

DRIP_SECONDS = 0.05
BODY = b'{"id": "1", "userName": "drip@example.com"}'


@asynccontextmanager
async def dripping_vendor() -> AsyncIterator[str]:
    """A vendor that reads a request, sends its head at once, then the body one byte every DRIP_SECONDS."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)  # fmt: skip
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/scim+json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(BODY))  # fmt: skip
        try:
            for byte in BODY:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(DRIP_SECONDS)
        except ConnectionError:
            pass
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_a_dripping_answer_is_cut_at_the_attempt_timeout() -> None:
    async with dripping_vendor() as url, aiohttp.ClientSession() as session:
        client = UpstreamClient(session, url, StaticTokenAuth(SecretStr("t")), "acme/drip", attempt_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(AmbiguousWrite, match="did not answer in time"):  # a POST: never resent blindly
            await client.request("POST", "/Users", json={"userName": "drip@example.com"}, budget=client.new_budget())
        took = time.monotonic() - started
        assert 0.3 <= took < 0.3 + len(BODY) * DRIP_SECONDS / 2, took


async def test_without_an_attempt_timeout_the_whole_answer_is_read() -> None:
    async with dripping_vendor() as url, aiohttp.ClientSession() as session:
        client = UpstreamClient(session, url, StaticTokenAuth(SecretStr("t")), "acme/drip")
        answer = await client.request(
            "POST", "/Users", json={"userName": "drip@example.com"}, budget=client.new_budget()
        )
        assert (answer.status, answer.body) == (201, BODY)
