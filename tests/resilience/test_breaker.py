"""The per-app circuit breaker: unit transitions on a fake clock, then opening and closing over real HTTP."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clock import FakeClock
from gateway.outbound.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, CircuitOpen
from tests.resilience.harness import app_config, gateway, gateway_config, metric_value, scim_client, simulator

USERS = "/api/scim/v2/Users"
#: Seconds the circuit stays open in the tests over HTTP: far longer than the calls made meanwhile take.
COOLDOWN = 2.0


def test_opens_after_consecutive_failures_then_half_opens_then_closes() -> None:
    clock = FakeClock()
    breaker = Breaker("acme/x", failures=3, cooldown=30, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.record_success()  # a success resets the count: failures must be consecutive
    for _ in range(3):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpen) as raised:
        breaker.before_call()
    assert raised.value.retry_after == 30 and raised.value.status == 503
    clock.advance(29.5)
    assert breaker.state == OPEN
    clock.advance(0.5)
    assert breaker.state == HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.record_success()
    assert breaker.state == CLOSED
    breaker.before_call()


def test_a_failed_probe_reopens_for_a_full_cooldown() -> None:
    clock = FakeClock()
    breaker = Breaker("acme/x", failures=1, cooldown=10, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == OPEN and breaker.seconds_open() == 10


async def test_circuit_opens_fails_fast_for_one_app_only_then_probes_and_closes() -> None:
    async with simulator("acme") as flaky_sim, simulator("globex") as healthy_sim:
        retry = {"attempts": 1, "deadline": 5}
        apps = {
            # A cool-down long enough that the calls made while the circuit is open surely fall inside it.
            "flaky": app_config(flaky_sim, retry=retry, breaker={"failures": 3, "cooldown": COOLDOWN}),
            "healthy": app_config(healthy_sim, retry=retry, breaker={"failures": 3, "cooldown": COOLDOWN}),
        }
        async with (
            gateway(gateway_config({"acme": {"apps": apps}})) as server,
            scim_client(server, "acme", "flaky") as flaky,
            scim_client(server, "acme", "healthy") as healthy,
        ):
            await flaky_sim.settle()
            flaky_sim.fault(status=500, path=USERS, times=-1)
            codes = [(await flaky.get("/Users")).status_code for _ in range(3)]
            assert codes == [502, 502, 502]
            assert len(flaky_sim.requests("GET", "/Users")) == 3
            fast = await flaky.get("/Users")  # open: answered without calling the vendor
            assert fast.status_code == 503 and int(fast.headers["Retry-After"]) >= 1
            assert len(flaky_sim.requests("GET", "/Users")) == 3
            assert await metric_value(server, "scim_gateway_circuit_open", app="flaky") == 1
            assert (await healthy.get("/Users")).status_code == 200  # other apps are unaffected
            assert await metric_value(server, "scim_gateway_circuit_open", app="healthy") == 0

            flaky_sim.app.faults.clear()  # the vendor recovers
            await asyncio.sleep(COOLDOWN + 0.1)  # the cool-down passes (sleeping longer is always safe)
            assert await metric_value(server, "scim_gateway_circuit_state", app="flaky", state="half_open") == 1
            assert (await flaky.get("/Users")).status_code == 200  # the probe succeeds
            assert await metric_value(server, "scim_gateway_circuit_state", app="flaky", state="closed") == 1
            assert len(flaky_sim.requests("GET", "/Users")) == 4


async def test_half_open_probe_that_needs_a_fresh_oauth_token_closes_the_circuit() -> None:
    # Tokens live 1 s (cached 0.5 s), so the probe after the cool-down must fetch one first, through
    # the same circuit: the token request must not be refused as a second probe.
    async with simulator(oauth_client=("client-1", "secret-1"), token_lifetime=1.0) as sim:
        app = {
            "vendor": "invicti",
            "base_url": sim.scim_url,
            "token_url": sim.server.url + "/oauth/token",
            "allow_insecure_url": True,
            "credentials": {"client_id": "client-1", "client_secret": "secret-1"},
            "retry": {"attempts": 1, "deadline": 5},
            "breaker": {"failures": 2, "cooldown": 0.6},
        }
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await sim.settle()
            sim.fault(status=503, path=USERS, times=2)
            assert [(await client.get("/Users")).status_code for _ in range(3)] == [503, 503, 503]
            tokens_before = len(sim.requests("POST", "/oauth/token"))
            await asyncio.sleep(0.7)
            answer = await client.get("/Users")
            assert answer.status_code == 200, answer.text
            assert len(sim.requests("POST", "/oauth/token")) > tokens_before
            assert await metric_value(server, "scim_gateway_circuit_state", app="invicti", state="closed") == 1
