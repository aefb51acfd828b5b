"""The vendor-call concurrency permits: never more out than the count, first come first served, no leaks."""

from __future__ import annotations

import asyncio

import pytest

from gateway.clock import SYSTEM_CLOCK
from gateway.config import UpstreamConfig
from gateway.throttle.admission import OutboundLimiter, OutboundThrottled
from gateway.throttle.gcra import LocalStore

FAR = 1e12  # a deadline no test reaches


def limiter(concurrency: int) -> OutboundLimiter:
    return OutboundLimiter(LocalStore(), "acme", "app", UpstreamConfig(concurrency=concurrency), SYSTEM_CLOCK)


async def test_free_permits_are_taken_at_once_and_the_count_is_never_exceeded() -> None:
    permits = limiter(3)
    out, peak = 0, 0

    async def call() -> None:
        nonlocal out, peak
        assert await permits.acquire_permit(FAR)
        out += 1
        peak = max(peak, out)
        await asyncio.sleep(0)
        out -= 1
        permits.release_permit()

    await asyncio.gather(*(call() for _ in range(50)))
    assert peak == 3 and out == 0
    taken = [await permits.acquire_permit(FAR) for _ in range(3)]  # all three are free again
    assert taken == [True, True, True]


async def test_waiters_are_served_in_arrival_order_and_a_free_permit_does_not_jump_the_queue() -> None:
    permits = limiter(1)
    assert await permits.acquire_permit(FAR)
    order: list[int] = []

    async def waiter(index: int) -> None:
        await permits.acquire_permit(FAR)
        order.append(index)
        permits.release_permit()

    tasks = [asyncio.create_task(waiter(index)) for index in range(5)]
    await asyncio.sleep(0)  # all five are queued
    permits.release_permit()
    newcomer = asyncio.create_task(waiter(99))  # arrives after the release: must queue behind the five
    await asyncio.gather(*tasks, newcomer)
    assert order == [0, 1, 2, 3, 4, 99]


async def test_a_cancelled_waiter_takes_nothing() -> None:
    permits = limiter(1)
    assert await permits.acquire_permit(FAR)
    task = asyncio.create_task(permits.acquire_permit(FAR))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    permits.release_permit()
    assert await asyncio.wait_for(permits.acquire_permit(FAR), 1)


async def test_a_waiter_cancelled_just_after_being_handed_a_permit_passes_it_on() -> None:
    permits = limiter(1)
    assert await permits.acquire_permit(FAR)
    first = asyncio.create_task(permits.acquire_permit(FAR))
    second = asyncio.create_task(permits.acquire_permit(FAR))
    await asyncio.sleep(0)
    permits.release_permit()  # handed to `first`, which has not run yet
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1)  # got the permit `first` gave back


async def test_a_waiter_whose_deadline_passes_is_refused_with_429_and_takes_nothing() -> None:
    permits = limiter(1)
    assert await permits.acquire_permit(FAR)
    with pytest.raises(OutboundThrottled) as refused:
        await permits.acquire_permit(SYSTEM_CLOCK.now() + 0.01)
    assert refused.value.status == 429 and refused.value.retry_after == 1
    permits.release_permit()
    assert await asyncio.wait_for(permits.acquire_permit(FAR), 1)
