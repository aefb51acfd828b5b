"""GCRA arithmetic (gateway/throttle/gcra.py) on a fake clock: bursts, rate, reservations, Retry-After."""

from __future__ import annotations

import pytest

from gateway.clock import FakeClock
from gateway.throttle.gcra import BoundedLocalStore, Limit, LocalStore, reserve


def test_burst_then_rate_then_refusal_with_time_until_a_slot() -> None:
    tats: dict[str, float] = {}
    limit = Limit("t", rate=5, burst=5)
    decisions = [reserve(tats, [limit], 100.0, 0.0) for _ in range(6)]
    assert [ok for ok, _ in decisions] == [True] * 5 + [False]
    assert decisions[-1][1] == pytest.approx(0.2)  # one interval until the next slot
    assert reserve(tats, [limit], 100.2, 0.0)[0]
    assert not reserve(tats, [limit], 100.2, 0.0)[0]


def test_max_wait_reserves_a_future_slot_instead_of_refusing() -> None:
    tats: dict[str, float] = {}
    limit = Limit("t", rate=10, burst=1)
    assert reserve(tats, [limit], 0.0, 0.25) == (True, 0.0)
    ok, wait = reserve(tats, [limit], 0.0, 0.25)
    assert ok and wait == pytest.approx(0.1)
    ok, wait = reserve(tats, [limit], 0.0, 0.25)
    assert ok and wait == pytest.approx(0.2)
    ok, wait = reserve(tats, [limit], 0.0, 0.25)
    assert not ok and wait == pytest.approx(0.3)  # refused: nothing reserved
    assert reserve(tats, [limit], 0.3, 0.0) == (True, pytest.approx(0.0))


def test_rate_holds_over_time() -> None:
    tats: dict[str, float] = {}
    limit = Limit("t", rate=20, burst=10)
    admitted = 0
    for step in range(10_000):  # 10 s of arrivals every millisecond
        admitted += reserve(tats, [limit], step / 1000, 0.0)[0]
    assert admitted == pytest.approx(10 + 20 * 10, abs=1)


def test_tenant_and_app_limits_reserve_together() -> None:
    tats: dict[str, float] = {}
    tenant, app = Limit("tenant", rate=100, burst=100), Limit("app", rate=1, burst=2)
    assert [reserve(tats, [tenant, app], 0.0, 0.0)[0] for _ in range(3)] == [True, True, False]
    # The refused request consumed nothing from the tenant: 98 left for other apps.
    assert sum(reserve(tats, [tenant], 0.0, 0.0)[0] for _ in range(100)) == 98


def test_share_for_fallback_divides_rate_and_burst() -> None:
    share = Limit("t", rate=30, burst=30).share(3)
    assert (share.rate, share.burst) == (10, 10)
    assert Limit("t", rate=1, burst=2).share(5).burst == 1  # never below one


async def test_local_store_uses_its_clock() -> None:
    clock = FakeClock()
    store = LocalStore(clock)
    limit = (Limit("t", rate=1, burst=1),)
    assert (await store.reserve(limit, 0.0))[0]
    assert not (await store.reserve(limit, 0.0))[0]
    clock.advance(1.0)
    assert (await store.reserve(limit, 0.0))[0]


def test_the_bounded_store_keeps_at_most_max_keys_and_forgets_the_idle_first() -> None:
    clock = FakeClock(start=0.0)
    store = BoundedLocalStore(clock, max_keys=100)
    hot = Limit("hot", rate=1, burst=1)
    for _ in range(50):
        store.reserve_now([hot], 100.0)  # 50 s of slots reserved: the furthest TAT of all
    for index in range(10_000):
        store.reserve_now([Limit(f"client-{index}", rate=1, burst=5)], 0.0)
        assert len(store) <= 100
    assert store.reserve_now([hot], 0.0)[0] is False  # the bucket under most pressure was never forgotten
    clock.advance(10.0)  # every bucket full again: they all go at the next sweep
    for index in range(51):
        store.reserve_now([Limit(f"late-{index}", rate=1, burst=5)], 0.0)
    assert not any(store.tracks(f"client-{index}") for index in range(10_000))
