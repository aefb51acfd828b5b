"""gateway.outbound.timeouts keeps asyncio.timeout's contract with one coarse timer per loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.outbound import timeouts
from gateway.outbound.timeouts import timeout

#: The timer must fire long before the body's 5 s; how soon after 0.05 s depends on the machine's load.
LATE = 2.0


@pytest.mark.parametrize("loop_given", [False, True], ids=["loop looked up", "loop given"])
async def test_a_body_that_overruns_is_cancelled_and_raises_timeout_error_no_earlier_than_asked(
    loop_given: bool,
) -> None:
    started = time.monotonic()
    reached_end = False
    with pytest.raises(TimeoutError), timeout(0.05, asyncio.get_running_loop() if loop_given else None):
        await asyncio.sleep(5)
        reached_end = True
    elapsed = time.monotonic() - started
    assert not reached_end
    assert 0.05 <= elapsed < LATE


async def test_a_body_that_finishes_in_time_is_left_alone_and_leaves_no_timer_behind() -> None:
    with timeout(0.2):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # past the expiry: nothing fires, the task is not cancelled
    watchdog = timeouts._WATCHDOGS[asyncio.get_running_loop()]
    assert not any(watchdog._buckets.values())
    assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    async def body() -> None:
        with timeout(5):
            await asyncio.sleep(5)

    task = asyncio.create_task(body())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_among_many_concurrent_calls_only_the_overdue_ones_time_out() -> None:
    async def call(duration: float, limit: float) -> str:
        try:
            with timeout(limit):
                await asyncio.sleep(duration)
        except TimeoutError:
            return "timed out"
        return "done"

    fast = [call(0.01, 0.3) for _ in range(500)]
    slow = [call(1.0, 0.05 + i * 0.001) for i in range(500)]
    results = await asyncio.gather(*fast, *slow)
    assert results[:500] == ["done"] * 500
    assert results[500:] == ["timed out"] * 500


async def test_an_inner_timeout_expiring_does_not_end_the_outer_one() -> None:
    with timeout(1.0):
        with pytest.raises(TimeoutError), timeout(0.02):
            await asyncio.sleep(1)
        await asyncio.sleep(0.05)  # still allowed: the outer budget has time left
    with pytest.raises(TimeoutError), timeout(0.02), timeout(1.0):
        await asyncio.sleep(1)
