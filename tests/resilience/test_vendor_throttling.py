"""Vendor throttling reaches the caller as throttling (429 + Retry-After), and the app pauses for the window
the vendor named (gateway/outbound/pause.py, gateway/outbound/client.py), over loopback against a real simulator.

The UpstreamClient tests run on a FakeClock (waits cost nothing, windows end by `advance`); the gateway
tests use windows far longer than the test, so no one waits either.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from pydantic import SecretStr

from gateway.clock import FakeClock
from gateway.config import RetryConfig
from gateway.outbound.auth import StaticTokenAuth
from gateway.outbound.breaker import Breaker
from gateway.outbound.client import UpstreamClient
from gateway.outbound.errors import VendorThrottled
from gateway.outbound.guard import UpstreamGuard
from tests.resilience.harness import RunningSimulator, metric_value, new_user, one_app, scim_client, simulator

USERS = "/api/scim/v2/Users"


@contextlib.asynccontextmanager
async def upstream(
    sim: RunningSimulator, clock: FakeClock, retry: RetryConfig
) -> AsyncIterator[tuple[UpstreamClient, list[str]]]:
    """A client on `clock`; the list collects one entry per call held back unsent."""
    held: list[str] = []
    guard = UpstreamGuard(
        retry=retry,
        breaker=Breaker("acme/invicti", 100, 30, clock),
        clock=clock,
        on_held_back=lambda: held.append("held"),
    )
    async with aiohttp.ClientSession() as session:
        auth = StaticTokenAuth(SecretStr(sim.token))
        yield UpstreamClient(session, sim.scim_url, auth, "acme/invicti", guard=guard), held


async def vendor_calls(sim: RunningSimulator, method: str) -> int:
    """Requests the vendor received on its Users endpoint, from its own log (`/_sim/requests`)."""
    async with httpx.AsyncClient() as http:
        log = (await http.get(sim.server.url + "/_sim/requests")).json()
    return sum(1 for entry in log if entry["method"] == method and entry["path"].startswith(USERS))


async def test_retry_after_past_the_deadline_is_a_429_at_once_and_pauses_the_app_for_it() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock, RetryConfig(deadline=25)) as (client, held):
        sim.fault(status=429, path=USERS, retry_after="120", times=-1)
        with pytest.raises(VendorThrottled) as first:
            await client.request("GET", "/Users", budget=client.new_budget())
        assert first.value.status == 429 and first.value.retry_after == 120
        assert clock.sleeps == [] and await vendor_calls(sim, "GET") == 1  # 120 s cannot fit in 25: no wait
        clock.advance(30)
        with pytest.raises(VendorThrottled) as second:  # inside the window: not sent
            await client.request(
                "POST", "/Users", json=new_user("paused@example.com"), ok=(201,), budget=client.new_budget()
            )
        assert second.value.status == 429 and second.value.retry_after == pytest.approx(90)
        assert "held back" in second.value.detail
        assert await vendor_calls(sim, "POST") == 0 and held == ["held"]
        clock.advance(90)  # the window is over: calls reach the vendor again
        sim.app.faults.clear()
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert await vendor_calls(sim, "GET") == 2


async def test_429_without_retry_after_until_attempts_run_out_pauses_for_what_the_caller_is_told() -> None:
    clock = FakeClock()
    retry = RetryConfig(attempts=3, base_delay=0.5, max_delay=2, deadline=25, default_retry_after=30)
    async with simulator() as sim, upstream(sim, clock, retry) as (client, held):
        sim.fault(status=429, path=USERS, times=-1)  # Delinea: 429, no Retry-After, ever
        with pytest.raises(VendorThrottled) as first:
            await client.request("GET", "/Users", budget=client.new_budget())
        assert first.value.status == 429 and first.value.retry_after == 30
        assert await vendor_calls(sim, "GET") == 3
        clock.advance(4)  # 26 s of the 30 the caller was told are left: more than a deadline
        with pytest.raises(VendorThrottled) as second:
            await client.request("GET", "/Users", budget=client.new_budget())
        assert second.value.retry_after == pytest.approx(26)
        assert await vendor_calls(sim, "GET") == 3 and held == ["held"]
        clock.advance(26)
        sim.app.faults.clear()
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200


async def test_a_call_meeting_a_pause_that_ends_before_its_deadline_waits_for_it_unsent() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock, RetryConfig(deadline=25)) as (client, held):
        sim.fault(status=429, path=USERS, retry_after="120", times=1)
        with pytest.raises(VendorThrottled):
            await client.request("GET", "/Users", budget=client.new_budget())
        clock.advance(110)  # 10 s of the vendor's window left, 25 s of deadline: wait, as a retry would
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert 10 <= clock.sleeps[-1] <= 10.2 and clock.now() >= 1000 + 120  # sent only once the window ended
        assert await vendor_calls(sim, "GET") == 2 and held == []


async def test_retry_after_that_fits_is_waited_and_resent_within_the_deadline() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock, RetryConfig(deadline=25)) as (client, held):
        sim.fault(status=429, path=USERS, retry_after="10", times=2)
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert await vendor_calls(sim, "GET") == 3 and held == []
        assert len(clock.sleeps) == 2 and all(10 <= wait <= 11 for wait in clock.sleeps), clock.sleeps


async def test_gateway_relays_a_long_retry_after_as_429_and_holds_back_the_next_call() -> None:
    async with one_app() as (sim, server), scim_client(server, "acme", "invicti") as client:
        sim.fault(status=429, path=USERS, retry_after="120", times=-1)
        first = await client.get("/Users")
        assert first.status_code == 429, first.text
        assert first.headers["Retry-After"] == "120" and first.json()["status"] == "429"
        second = await client.post("/Users", json=new_user("later@example.com", "ext-later"))
        assert second.status_code == 429, second.text
        assert 118 <= int(second.headers["Retry-After"]) <= 120
        assert "held back" in second.json()["detail"]
        assert await vendor_calls(sim, "GET") == 1 and await vendor_calls(sim, "POST") == 0
        assert await metric_value(server, "scim_gateway_throttled_requests_total", tenant="acme", where="vendor") == 1
