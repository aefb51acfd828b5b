"""Hard limits on input, over real HTTP: body size (chunked too), smuggling shapes, filters, count, ids, links."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr
from yarl import URL

from gateway.orchestrator import MAX_BODY_BYTES
from gateway.outbound.auth import StaticTokenAuth
from gateway.outbound.client import UpstreamClient
from gateway.outbound.errors import VendorBadResponse
from gateway.scim.filter_limits import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS
from tests.resilience.harness import (
    TOKENS,
    RunningSimulator,
    app_config,
    gateway,
    gateway_config,
    new_user,
    one_app,
    scim_client,
    simulator,
)

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    yield b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big","x":"'
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size
    yield b'"}'


def _raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


async def test_body_over_the_limit_is_413_while_streaming_even_when_chunked() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        answer = await client.post(
            "/Users", content=_chunks(2 * MAX_BODY_BYTES), headers={"Content-Type": "application/scim+json"}
        )
        assert answer.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in answer.request.headers
        assert answer.status_code == 413 and answer.json()["schemas"] == [ERROR]
        declared = await client.post("/Users", content=b"x" * (MAX_BODY_BYTES + 1))
        assert declared.status_code == 413
        assert sim.requests() == []


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}",
    ],
    ids=["content-length-and-chunked", "two-content-lengths"],
)
async def test_conflicting_framing_is_refused_with_400_and_never_reaches_the_vendor(framing: bytes) -> None:
    """llhttp refuses smuggling shapes (RFC 9112 section 6.3) before any ASGI code: uvicorn's own plain 400."""
    async with one_app() as (sim, server):
        head = (
            b"POST /tenants/acme/apps/invicti/scim/v2/Users HTTP/1.1\r\nHost: gw\r\n"
            b"Authorization: Bearer " + TOKENS["acme"].encode() + b"\r\n"
            b"Content-Type: application/scim+json\r\n"
        )
        answer = await asyncio.to_thread(_raw_request, server.port, head + framing)
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 400 Bad Request", answer
        assert b"connection: close" in rest.partition(b"\r\n\r\n")[0].lower()
        assert sim.requests() == []


async def test_filter_length_depth_and_terms_are_capped_before_any_vendor_call() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        long_filter = 'userName eq "' + "a" * MAX_FILTER_LENGTH + '"'
        deep = "(" * (MAX_FILTER_DEPTH + 1) + 'userName eq "a"' + ")" * (MAX_FILTER_DEPTH + 1)
        many = " or ".join(f'userName eq "u{i}"' for i in range(MAX_FILTER_TERMS + 1))
        for text, scim_type in ((long_filter, "invalidFilter"), (deep, "invalidFilter"), (many, "tooMany")):
            answer = await client.get("/Users", params={"filter": text})
            assert answer.status_code == 400, text[:40]
            assert answer.json()["scimType"] == scim_type
            searched = await client.post(
                "/Users/.search",
                json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": text},
            )
            assert searched.status_code == 400 and searched.json()["scimType"] == scim_type
        # Brackets and words inside quoted values do not count.
        fine = await client.get("/Users", params={"filter": 'userName eq "((((((((((( and or or"'})
        assert fine.status_code == 200
        assert len(sim.requests()) == 1


async def test_count_is_capped_to_max_results() -> None:
    async with simulator() as sim:
        app = app_config(sim, max_results=3)
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            answer = await client.get("/Users", params={"count": "100000"})
            assert answer.status_code == 200 and answer.json()["itemsPerPage"] <= 3
            assert [entry["query"] for entry in sim.requests("GET")] == ["startIndex=1&count=3"]


@pytest.mark.parametrize(
    "raw_path",
    [
        "/Users/..%2F..%2Fadmin",
        "/Users/..%2F..%2F..%2Fadmin%2Fsecrets",
        "/Users/https:%2F%2Fevil.example%2Fx",
        "/Users/https%3A%2F%2Fevil.example",
        "/Users/..",
        "/Users/%2E%2E",
        "/Users/a%5C..%5Cadmin",
    ],
)
async def test_ids_that_could_steer_the_vendor_path_never_reach_the_simulator(raw_path: str) -> None:
    async with one_app() as (sim, server):
        url = f"{server.url}/tenants/acme/apps/invicti/scim/v2{raw_path}"
        headers = {"Authorization": f"Bearer {TOKENS['acme']}"}
        # aiohttp with encoded URLs: the %2F must reach the gateway as sent.
        async with aiohttp.ClientSession() as session:
            for method in ("GET", "DELETE", "PUT"):
                body = new_user("x@example.com") if method == "PUT" else None
                async with session.request(method, URL(url, encoded=True), headers=headers, json=body) as answer:
                    assert answer.status in (404, 405), (method, answer.status)
        assert [entry for entry in sim.requests() if "admin" in entry["path"] or "evil" in entry["path"]] == []
        assert sim.requests() == []


async def _client(sim: RunningSimulator, session: aiohttp.ClientSession) -> UpstreamClient:
    return UpstreamClient(session, sim.scim_url, StaticTokenAuth(SecretStr(sim.token)), "acme/invicti")


async def test_links_and_redirects_off_the_vendor_host_are_refused() -> None:
    async with simulator() as sim, aiohttp.ClientSession() as session:
        client = await _client(sim, session)
        same_host = sim.scim_url + "/Users?startIndex=1"
        assert (
            await client.request("GET", same_host, budget=client.new_budget())
        ).status == 200  # a next link on the vendor's own origin
        for link in ("https://evil.example/scim/v2/Users", "//evil.example/Users", "http://127.0.0.1:1/Users"):
            with pytest.raises(VendorBadResponse):
                await client.request("GET", link, budget=client.new_budget())
        sim.fault(status=302, path="/api/scim/v2/Users", body={"detail": "moved"})
        with pytest.raises(VendorBadResponse):
            await client.request("GET", "/Users", budget=client.new_budget())
        assert len(sim.requests("GET")) == 2  # the same-host link and the redirect, nothing else
