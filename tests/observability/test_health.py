"""/healthz, /readyz and per-app health from each connector's check (issue 5)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import httpx

from gateway.app import create_app
from gateway.clock import FakeClock
from gateway.config import parse_config
from gateway.demo import start_simulators
from gateway.observability.health import CONCURRENT_CHECKS, check_app, check_forever
from gateway.outbound.budget import CallBudget
from gateway.outbound.errors import VendorUnavailable
from gateway.outbound.guard import default_guard
from gateway.runtime import AppHealth
from tests.observability.helpers import demo_gateway, demo_raw_config, scim_client


async def test_readyz_is_503_until_the_runtime_is_built() -> None:
    async with start_simulators():
        app = create_app(parse_config(demo_raw_config()))
        # ASGITransport does not run the lifespan: the app answers but has not started.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            assert (await client.get("/healthz")).status_code == 200
            starting = await client.get("/readyz")
    assert starting.status_code == 503 and starting.json() == {"status": "starting"}


async def test_a_vendor_down_shows_in_app_up_but_never_makes_the_pod_unready() -> None:
    async with demo_gateway({"health_check_interval": 0.2}) as demo, scim_client() as client:
        assert (await client.get(demo.gateway.url + "/healthz")).json() == {"status": "ok"}
        await demo.simulators[("invicti", "globex")].stop()  # the vendor is gone entirely
        metrics = ""
        for _ in range(100):  # bounded: the background check notices within a few intervals
            metrics = (await client.get(demo.metrics_url)).text
            if 'scim_gateway_app_up{app="invicti",tenant="globex",vendor="invicti"} 0.0' in metrics:
                break
            await asyncio.sleep(0.1)
        ready = await client.get(demo.gateway.url + "/readyz")
    assert 'scim_gateway_app_up{app="invicti",tenant="globex",vendor="invicti"} 0.0' in metrics
    assert 'scim_gateway_app_up{app="invicti",tenant="acme",vendor="invicti"} 1.0' in metrics
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_a_connector_bug_in_check_marks_the_app_down_and_never_escapes() -> None:
    class Broken:
        async def check(self, budget: CallBudget) -> None:
            raise KeyError("a bug in a connector")

    app = SimpleNamespace(
        tenant="acme", name="broken", vendor="x", connector=Broken(), health=AppHealth(), guard=default_guard("x")
    )
    await check_app(app)  # type: ignore[arg-type]
    assert app.health.checked and not app.health.ok
    assert app.health.detail == "the check failed unexpectedly (KeyError)"


async def test_checks_of_many_apps_run_a_few_at_a_time() -> None:
    in_flight, peak, finished = 0, 0, 0
    full, release, all_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    apps: list[SimpleNamespace] = []

    class Slow:
        async def check(self, budget: CallBudget) -> None:
            nonlocal in_flight, peak, finished
            in_flight += 1
            peak = max(peak, in_flight)
            if in_flight == CONCURRENT_CHECKS:
                full.set()
            await release.wait()
            in_flight -= 1
            finished += 1
            if finished == len(apps):
                all_done.set()

    apps += [
        SimpleNamespace(
            tenant=f"t{i}", name="a", vendor="x", connector=Slow(), health=AppHealth(), guard=default_guard("x")
        )
        for i in range(50)
    ]
    task = asyncio.create_task(check_forever(SimpleNamespace(apps=lambda: apps), 3600))  # type: ignore[arg-type]
    await asyncio.wait_for(full.wait(), 5)
    for _ in range(20):  # give any check beyond the bound the chance to start
        await asyncio.sleep(0)
    assert peak == CONCURRENT_CHECKS < len(apps)
    release.set()
    await asyncio.wait_for(all_done.wait(), 5)
    task.cancel()
    assert peak == CONCURRENT_CHECKS


class SteppedClock(FakeClock):
    """`sleep` returns only when the test calls `next_round`, then with the time moved on by the sleep."""

    def __init__(self) -> None:
        super().__init__()
        self.asleep = asyncio.Event()
        self._wake: asyncio.Queue[None] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.asleep.set()
        await self._wake.get()
        self.advance(seconds)

    async def next_round(self) -> None:
        """Let the sleeper go, and return once it sleeps again."""
        self.asleep.clear()
        self._wake.put_nowait(None)
        await asyncio.wait_for(self.asleep.wait(), 5)


async def test_apps_are_checked_at_once_then_after_each_interval_of_the_clock() -> None:
    clock, up, checks = SteppedClock(), True, 0

    class Vendor:
        async def check(self, budget: CallBudget) -> None:
            nonlocal checks
            checks += 1
            if not up:
                raise VendorUnavailable("the vendor answered 503")

    app = SimpleNamespace(
        tenant="acme",
        name="a",
        vendor="x",
        connector=Vendor(),
        health=AppHealth(),
        secrets=(),
        guard=default_guard("a"),
    )
    task = asyncio.create_task(check_forever(SimpleNamespace(apps=lambda: [app]), 3600, clock))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(clock.asleep.wait(), 5)
        assert (checks, clock.sleeps) == (1, [3600])
        assert app.health.ok and app.health.checked_at == clock.wall()
        up = False
        await clock.next_round()  # an hour later, without waiting one
        assert (checks, clock.sleeps) == (2, [3600, 3600])
        assert not app.health.ok and app.health.detail == "the vendor answered 503"
        assert app.health.checked_at == clock.wall() == 1_700_000_000.0 + 3600
    finally:
        task.cancel()
