"""Outbound limits per app (gateway/throttle/admission.py OutboundLimiter): the vendor never sees more than
its configured rate or concurrency, whatever the callers do. Arrival times and in-flight counts are
measured by a thin ASGI wrapper in front of the real simulator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from gateway.inbound.serving import serving
from tests.resilience.harness import RunningSimulator, app_config, gateway, gateway_config, scim_client
from vendors.simulators import SIMULATORS

USERS = "/api/scim/v2/Users"


@dataclass
class Meter:
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0


@contextlib.asynccontextmanager
async def metered_simulator() -> AsyncIterator[tuple[RunningSimulator, Meter]]:
    spec = SIMULATORS["invicti"]
    settings = spec.demo_settings("acme")
    sim = spec.create_app(settings)
    meter = Meter()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(USERS):
            await sim(scope, receive, send)
            return
        meter.arrivals.append(time.monotonic())
        meter.in_flight += 1
        meter.peak = max(meter.peak, meter.in_flight)
        try:
            await sim(scope, receive, send)
        finally:
            meter.in_flight -= 1

    async with serving(app) as server:
        yield RunningSimulator(server, sim, server.url + spec.scim_base_path(settings), settings.scim_token), meter


async def test_vendor_never_sees_more_than_the_configured_rate() -> None:
    async with metered_simulator() as (sim, meter):
        app = app_config(sim, upstream={"rate": 20, "burst": 1}, retry={"deadline": 10})
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await asyncio.sleep(0.1)  # the start-up health check has passed the limiter
            meter.arrivals.clear()
            answers = await asyncio.gather(*(client.get("/Users", params={"count": "1"}) for _ in range(12)))
            assert [a.status_code for a in answers] == [200] * 12
            assert len(meter.arrivals) == 12
            # 20/s: one every 50 ms, never a burst. Sends are scheduled exactly; arrivals get loopback
            # jitter, so any 6 consecutive arrivals must span 5 intervals (minus a little jitter).
            spans = [meter.arrivals[i + 5] - meter.arrivals[i] for i in range(len(meter.arrivals) - 5)]
            assert min(spans) >= 5 * 0.05 - 0.05, spans
            assert meter.arrivals[-1] - meter.arrivals[0] >= 11 * 0.05 - 0.02


async def test_vendor_never_sees_more_than_the_concurrency_cap() -> None:
    async with metered_simulator() as (sim, meter):
        app = app_config(sim, upstream={"concurrency": 2}, retry={"deadline": 10})
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await asyncio.sleep(0.1)
            meter.peak = 0
            sim.fault(path=USERS, latency=0.1, times=8)
            answers = await asyncio.gather(*(client.get("/Users", params={"count": "1"}) for _ in range(8)))
            assert [a.status_code for a in answers] == [200] * 8
            assert meter.peak == 2


async def test_budget_that_cannot_be_met_before_the_deadline_is_a_429_with_retry_after_not_a_burst() -> None:
    async with metered_simulator() as (sim, meter):
        app = app_config(sim, upstream={"rate": 1, "burst": 1}, retry={"deadline": 0.5})
        async with (
            gateway(gateway_config({"acme": {"apps": {"invicti": app}}})) as server,
            scim_client(server, "acme", "invicti") as client,
        ):
            await asyncio.sleep(1.1)  # the health check's slot is paid back
            meter.arrivals.clear()
            answers = await asyncio.gather(*(client.get("/Users", params={"count": "1"}) for _ in range(3)))
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 429, 429]
            assert all(int(a.headers["Retry-After"]) >= 1 for a in answers if a.status_code == 429)
            assert len(meter.arrivals) == 1
