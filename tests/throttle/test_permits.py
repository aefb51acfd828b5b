"""The vendor-call concurrency permits: never more out than the count, first come first served, no leaks."""

from __future__ import annotations

import asyncio

import pytest

from gateway.throttle.admission import Permits


async def test_free_permits_are_taken_at_once_and_the_count_is_never_exceeded() -> None:
    permits = Permits(3)
    out, peak = 0, 0

    async def call() -> None:
        nonlocal out, peak
        if not permits.try_take():
            await permits.take()
        out += 1
        peak = max(peak, out)
        await asyncio.sleep(0.001)
        out -= 1
        permits.release()

    await asyncio.gather(*(call() for _ in range(50)))
    assert peak == 3 and out == 0 and permits.free == 3


async def test_waiters_are_served_in_arrival_order_and_a_free_permit_does_not_jump_the_queue() -> None:
    permits = Permits(1)
    assert permits.try_take()
    order: list[int] = []

    async def waiter(index: int) -> None:
        await permits.take()
        order.append(index)
        permits.release()

    tasks = [asyncio.create_task(waiter(index)) for index in range(5)]
    await asyncio.sleep(0)  # all five are queued
    permits.release()
    assert not permits.try_take()  # the permit went to the first waiter, not to a newcomer
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4] and permits.free == 1


async def test_a_cancelled_waiter_takes_nothing() -> None:
    permits = Permits(1)
    assert permits.try_take()
    task = asyncio.create_task(permits.take())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    permits.release()
    assert permits.free == 1 and permits.try_take()


async def test_a_waiter_cancelled_just_after_being_handed_a_permit_passes_it_on() -> None:
    permits = Permits(1)
    assert permits.try_take()
    first = asyncio.create_task(permits.take())
    second = asyncio.create_task(permits.take())
    await asyncio.sleep(0)
    permits.release()  # handed to `first`, which has not run yet
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # got the permit `first` gave back
    permits.release()
    assert permits.free == 1
