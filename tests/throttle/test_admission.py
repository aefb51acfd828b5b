"""Inbound admission (gateway/throttle/admission.py) on a fake clock: who waits how long, who is refused."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clock import FakeClock
from gateway.throttle.admission import Admission, Throttled
from gateway.throttle.gcra import Limit, LocalStore


class BurstClock(FakeClock):
    """Time stands still while waiters sleep: every request of the burst arrives at the same instant."""

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)


def _admission(clock: FakeClock, refusals: list[float] | None = None) -> Admission:
    limits = (Limit("in:{acme}", rate=20, burst=1),)

    def on_throttled() -> None:
        if refusals is not None:
            refusals.append(clock.now())

    return Admission(LocalStore(clock), limits, max_wait=0.5, clock=clock, on_throttled=on_throttled)


async def test_max_wait_absorbs_a_small_burst_by_waiting_for_each_slot() -> None:
    clock = BurstClock()
    admission = _admission(clock)
    await asyncio.gather(*(admission.admit() for _ in range(5)))
    # The first goes at once; each next one waits for its slot, 1/20 s after the previous one's.
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.15, 0.2])


async def test_a_request_whose_slot_is_beyond_max_wait_is_refused_until_time_passes() -> None:
    clock = BurstClock()
    refusals: list[float] = []
    admission = _admission(clock, refusals)
    await asyncio.gather(*(admission.admit() for _ in range(11)))  # slots at 0, 0.05, ... 0.5 s: all within
    assert clock.sleeps[-1] == pytest.approx(0.5)
    with pytest.raises(Throttled) as raised:
        await admission.admit()  # its slot would be 0.55 s away
    assert raised.value.retry_after == 1  # whole seconds (Retry-After), rounded up
    assert refusals == [clock.now()]
    clock.advance(0.05)
    await admission.admit()  # 0.05 s later the same slot is within max_wait
    assert clock.sleeps[-1] == pytest.approx(0.5)
    assert len(refusals) == 1
