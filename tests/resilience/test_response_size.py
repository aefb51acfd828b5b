"""A vendor answer is read up to the app's `http.max_response_bytes`, counted after decompression.

The simulator streams the answers (never holding them whole): a gzip bomb
(64 MiB of whitespace, ~64 kB on the wire) and a 48 MiB plain page. The
gateway must answer 502 naming the app and the limit, count it on /metrics,
and never hold more than about the limit: Python's allocation peak while the
request is served is measured with tracemalloc (deterministic, unlike RSS).
"""

from __future__ import annotations

import tracemalloc

import pytest

from tests.resilience.harness import metric_value, one_app, scim_client

USERS = "/api/scim/v2/Users"
LIMIT = 1024 * 1024
ANSWER = 64 * 1024 * 1024
#: The limit, one read buffer and everything else serving the request allocates; far below ANSWER.
ALLOWED_PEAK = 12 * 1024 * 1024


@pytest.mark.parametrize(("encoding", "size"), [("gzip", ANSWER), (None, 48 * 1024 * 1024)])
async def test_an_oversized_vendor_answer_is_refused_with_502_without_being_held(
    encoding: str | None, size: int
) -> None:
    async with (
        one_app(http={"max_response_bytes": LIMIT}) as (sim, server),
        scim_client(server, "acme", "invicti", timeout=60) as client,
    ):
        sim.fault(method="GET", path=USERS, size=size, encoding=encoding)
        tracemalloc.start()
        try:
            answer = await client.get("/Users")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        oversized = await metric_value(
            server, "scim_gateway_upstream_oversized_responses_total", tenant="acme", app="invicti", vendor="invicti"
        )
    assert answer.status_code == 502, answer.text
    detail = answer.json()["detail"]
    assert "'acme/invicti'" in detail and f"{LIMIT} bytes" in detail and "max_response_bytes" in detail
    assert oversized == 1
    assert peak < ALLOWED_PEAK, f"serving one oversized answer allocated {peak / 2**20:.1f} MiB at peak"


async def test_an_answer_within_the_limit_is_read_whole_even_when_compressed() -> None:
    async with (
        one_app(http={"max_response_bytes": LIMIT}) as (sim, server),
        scim_client(server, "acme", "invicti") as client,
    ):
        # Whitespace is valid JSON padding only around a value: this answer is read, then refused as not JSON.
        sim.fault(method="GET", path=USERS, size=LIMIT - 1, encoding="gzip")
        answer = await client.get("/Users")
        oversized = await metric_value(server, "scim_gateway_upstream_oversized_responses_total")
    assert answer.status_code == 502 and "not JSON" in answer.json()["detail"]
    assert oversized == 0
