"""The simulators' strict rate limit (vendors/simulators/base.py): 429 at once past the limit, with or without
Retry-After, set through the control API, and every answer counted."""

from __future__ import annotations

import httpx
import pytest

from vendors.simulators.base import RateLimit, Simulator
from vendors.simulators.invicti import InvictiSimulator

SPEC = InvictiSimulator()
SETTINGS = SPEC.demo_settings("acme")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def client(simulator: Simulator) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {SETTINGS.scim_token}"}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator), base_url="http://sim", headers=headers)


@pytest.mark.parametrize("retry_after", [True, False])
async def test_past_the_burst_the_vendor_refuses_until_the_rate_refills(retry_after: bool) -> None:
    simulator = SPEC.create_app(SETTINGS)
    clock = Clock()
    simulator.limit = RateLimit(2.0, 2, clock, retry_after=retry_after)
    async with client(simulator) as sim:
        statuses = [(await sim.get("/api/scim/v2/Users")).status_code for _ in range(2)]
        refused = await sim.get("/api/scim/v2/Users")
        clock.now += 0.5  # one request's worth at 2/s
        again = await sim.get("/api/scim/v2/Users")
        calls = (await sim.get("/_sim/calls")).json()
    assert statuses == [200, 200] and refused.status_code == 429 and again.status_code == 200
    assert refused.headers.get("retry-after") == ("1" if retry_after else None)
    assert calls == {"calls": {"GET 200": 3, "GET 429": 1}, "rate_limited": 1}


async def test_the_limit_is_set_and_lifted_through_the_control_api() -> None:
    simulator = SPEC.create_app(SETTINGS)
    async with client(simulator) as sim:
        assert (await sim.post("/_sim/limit", json={"rate": 0})).status_code == 400
        set_answer = await sim.post("/_sim/limit", json={"rate": 1, "retry_after": True})
        assert set_answer.json() == {"limit": {"rate": 1.0, "burst": 1, "retry_after": True}}
        first, second = (await sim.get("/api/scim/v2/Users")), (await sim.get("/api/scim/v2/Users"))
        assert (first.status_code, second.status_code) == (200, 429)
        assert (await sim.delete("/_sim/limit")).status_code == 200
        assert (await sim.get("/api/scim/v2/Users")).status_code == 200
