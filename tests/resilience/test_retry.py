"""Retries (gateway/outbound/client.py, gateway/outbound/retry.py) against a real simulator with injected faults.

The client under test is the real UpstreamClient over real HTTP; only time is
fake (FakeClock: sleeps return at once and advance the clock), so waits of
seconds cost nothing and are asserted exactly.
"""

from __future__ import annotations

import contextlib
import email.utils
from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from gateway.clock import FakeClock
from gateway.config import RetryConfig
from gateway.outbound.auth import StaticTokenAuth
from gateway.outbound.breaker import Breaker
from gateway.outbound.client import AmbiguousWrite, UpstreamClient
from gateway.outbound.errors import NotSupported, VendorThrottled, VendorUnavailable
from gateway.outbound.guard import UpstreamGuard
from gateway.outbound.retry import parse_retry_after
from tests.resilience.harness import (
    RunningSimulator,
    app_config,
    gateway,
    gateway_config,
    new_user,
    scim_client,
    simulator,
)

USERS = "/api/scim/v2/Users"


@contextlib.asynccontextmanager
async def upstream(
    sim: RunningSimulator, clock: FakeClock, retry: RetryConfig | None = None
) -> AsyncIterator[tuple[UpstreamClient, list[str]]]:
    reasons: list[str] = []
    guard = UpstreamGuard(
        retry=retry or RetryConfig(),
        breaker=Breaker("acme/invicti", 100, 30, clock),
        clock=clock,
        on_retry=reasons.append,
    )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(sock_read=0.5)) as session:
        auth = StaticTokenAuth(SecretStr(sim.token))
        yield UpstreamClient(session, sim.scim_url, auth, "acme/invicti", guard=guard), reasons


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("7", now) == 7
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("999999", now) == 3600  # a vendor cannot park a request for days


async def test_429_with_retry_after_seconds_is_honoured() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock) as (client, reasons):
        sim.fault(status=429, path=USERS, retry_after="2", times=2)
        response = await client.request("GET", "/Users", budget=client.new_budget())
        assert response.status == 200
        assert reasons == ["429", "429"]
        assert len(clock.sleeps) == 2 and all(2 <= wait <= 2.2 for wait in clock.sleeps), clock.sleeps
        assert len(sim.requests("GET", "/Users")) == 3


async def test_429_with_retry_after_http_date_is_honoured() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock) as (client, _):
        sim.fault(status=429, path=USERS, retry_after=email.utils.formatdate(clock.wall() + 3, usegmt=True))
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert len(clock.sleeps) == 1 and 2 <= clock.sleeps[0] <= 3.2, clock.sleeps


async def test_429_without_retry_after_backs_off_with_jitter_and_invents_one_for_the_caller() -> None:
    clock = FakeClock(seed=7)
    retry = RetryConfig(attempts=4, base_delay=0.5, max_delay=4, deadline=25, default_retry_after=5)
    async with simulator() as sim, upstream(sim, clock, retry) as (client, reasons):
        sim.fault(status=429, path=USERS, times=-1)  # Delinea: 429, no Retry-After, ever
        with pytest.raises(VendorThrottled) as raised:
            await client.request("GET", "/Users", budget=client.new_budget())
        assert raised.value.retry_after == 5
        assert reasons == ["429"] * 3 and len(sim.requests("GET")) == 4
        ceilings = [0.5, 1.0, 2.0]
        for wait, ceiling in zip(clock.sleeps, ceilings, strict=True):
            assert ceiling / 2 <= wait <= ceiling  # never a hammering zero wait, never above the ceiling


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_retryable_5xx_are_retried_for_reads(status: int) -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock) as (client, reasons):
        sim.fault(status=status, path=USERS, times=2)
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert reasons == [str(status)] * 2


async def test_connection_reset_is_retried_for_reads() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock) as (client, reasons):
        sim.fault(reset=True, path=USERS, times=1)
        assert (await client.request("GET", "/Users", budget=client.new_budget())).status == 200
        assert reasons == ["connection"]


async def test_deadline_bounds_all_retries_and_the_caller_gets_retry_after() -> None:
    clock = FakeClock()
    retry = RetryConfig(attempts=10, deadline=25)
    async with simulator() as sim, upstream(sim, clock, retry) as (client, _):
        sim.fault(status=503, path=USERS, retry_after="10", times=-1)
        started = clock.now()
        with pytest.raises(VendorUnavailable) as raised:
            await client.request("GET", "/Users", budget=client.new_budget())
        assert clock.now() - started < 25
        assert len(sim.requests("GET")) == 3  # at 0, ~10, ~20 s; a fourth would land past the deadline
        assert raised.value.retry_after == 10


async def test_post_is_resent_after_a_429_but_never_after_an_answer_that_may_have_followed_the_write() -> None:
    clock = FakeClock()
    async with simulator() as sim, upstream(sim, clock) as (client, _):
        sim.fault(status=429, method="POST", path=USERS, retry_after="1", times=1)  # refused before acting
        created = await client.request(
            "POST", "/Users", json=new_user("first@example.com"), ok=(201,), budget=client.new_budget()
        )
        assert created.status == 201 and len(sim.requests("POST")) == 2
        # Every 5xx but 501, whatever it is: the vendor (or a proxy) may have stored the user first.
        for status in (500, 502, 503, 504):
            sim.fault(status=status, method="POST", path=USERS, times=1)
            with pytest.raises(AmbiguousWrite) as raised:
                await client.request(
                    "POST", "/Users", json=new_user(f"s{status}@example.com"), ok=(201,), budget=client.new_budget()
                )
            assert raised.value.resend is (status != 500)  # a 500 is settled by a lookup, never resent
            assert raised.value.error.status == (502 if status == 500 else 503)
        assert len(sim.requests("POST")) == 6  # none of them resent
        sim.fault(status=501, method="POST", path=USERS, times=1)
        with pytest.raises(NotSupported):  # certainly not acted: no lookup is owed
            await client.request(
                "POST", "/Users", json=new_user("s501@example.com"), ok=(201,), budget=client.new_budget()
            )


async def test_gateway_answers_429_with_retry_after_when_a_vendor_keeps_throttling_without_one() -> None:
    async with simulator() as sim:
        retry = {"attempts": 10, "base_delay": 0.05, "max_delay": 0.1, "deadline": 1.0, "default_retry_after": 7}
        config = gateway_config({"acme": {"apps": {"invicti": app_config(sim, retry=retry)}}})
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            await sim.settle()
            sim.fault(status=429, path=USERS, times=-1)  # Delinea: 429 and never a Retry-After
            answer = await client.get("/Users")
            assert answer.status_code == 429  # throttling reaches the IdP as throttling, which it reschedules
            assert answer.headers["Retry-After"] == "7"
            assert answer.json()["status"] == "429"
            sent = len(sim.requests("GET", "/Users"))
            assert 3 <= sent <= 25
            # The 7 s the caller was told hold for every call of the app: not sent, answered at once.
            again = await client.get("/Users")
            assert again.status_code == 429 and 1 <= int(again.headers["Retry-After"]) <= 7
            assert len(sim.requests("GET", "/Users")) == sent


async def test_token_endpoint_down_is_a_503_with_retry_after_then_recovers() -> None:
    async with simulator(oauth_client=("client-1", "secret-1")) as sim:
        app = {
            "vendor": "invicti",
            "base_url": sim.scim_url,
            "token_url": sim.server.url + "/oauth/token",
            "allow_insecure_url": True,
            "credentials": {"client_id": "client-1", "client_secret": "secret-1"},
            "retry": {"attempts": 3, "base_delay": 0.01, "max_delay": 0.02, "deadline": 2},
            # The start-up health check fails on the same token endpoint, concurrently with the request or
            # not, depending on the machine: with the default 5 failures the circuit could open and turn the
            # recovery below into a 503. This test is about retries, not the breaker.
            "breaker": {"failures": 1000},
        }
        config = gateway_config({"acme": {"apps": {"invicti": app}}})
        sim.fault(status=503, path="/oauth/token", times=-1)
        async with gateway(config) as server, scim_client(server, "acme", "invicti") as client:
            answer = await client.get("/Users")
            assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1
            assert len(sim.requests("POST", "/oauth/token")) >= 3  # token requests are retried too
            sim.app.faults.clear()
            assert (await client.get("/Users")).status_code == 200
