"""gateway/directory/leases.py: one holder at a time, expiry, renewal; replicas racing on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gateway.clock import FakeClock
from gateway.directory.store import open_directory
from tests.directory.conftest import directory_config

MINUTE = timedelta(minutes=1)


async def test_one_holder_at_a_time_until_release_or_expiry(directory, clock):
    a, b = directory.leases("replica-a"), directory.leases("replica-b")
    assert await a.acquire("reconcile:acme/orca", MINUTE)
    assert not await b.acquire("reconcile:acme/orca", MINUTE)
    assert await a.acquire("reconcile:acme/orca", MINUTE)  # already ours: re-taking is fine
    assert await b.acquire("reconcile:acme/other", MINUTE)  # another name is free
    assert await a.holder_of("reconcile:acme/orca") == "replica-a"
    await b.release("reconcile:acme/orca")  # not b's: nothing happens
    assert not await b.acquire("reconcile:acme/orca", MINUTE)
    await a.release("reconcile:acme/orca")
    assert await b.acquire("reconcile:acme/orca", MINUTE)
    clock.advance(30)
    assert await b.renew("reconcile:acme/orca", MINUTE)
    clock.advance(50)  # renewed 30 s in, so held until 90 s: still held at 80 s
    assert not await a.acquire("reconcile:acme/orca", MINUTE)
    clock.advance(30)  # lapsed: a takes it over, and b learns on renewal that it is gone
    assert await a.acquire("reconcile:acme/orca", MINUTE)
    assert not await b.renew("reconcile:acme/orca", MINUTE)
    assert await b.holder_of("reconcile:acme/orca") == "replica-a"


async def test_three_replicas_racing_get_exactly_one_lease(database_url, keys, backend):
    # Three directory instances (three engines, as three gateway processes) on one database: PostgreSQL,
    # the engine for replicas (a SQLite file serves one replica).
    if backend != "postgresql":
        pytest.skip("replicas share PostgreSQL; SQLite is for one replica")
    clock = FakeClock()
    config = directory_config(database_url, [keys["old"]], keys["index"])
    replicas = [await open_directory(config, clock) for _ in range(3)]
    try:
        for round_ in range(5):
            name = f"reconcile:acme/app{round_}"
            leases = [replica.leases(f"replica-{n}") for n, replica in enumerate(replicas)]
            won = await asyncio.gather(*(lease.acquire(name, MINUTE) for lease in leases))
            assert sum(won) == 1, won
            clock.advance(61)  # the winner dies without releasing; the others race for the lapsed lease
            retaken = await asyncio.gather(
                *(lease.acquire(name, MINUTE) for lease, had in zip(leases, won, strict=True) if not had)
            )
            assert sum(retaken) == 1, retaken
    finally:
        for replica in replicas:
            await replica.close()
