"""gateway/directory/availability.py: preparation retried until the database answers, the gate, readiness."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import structlog

from benchmarks.postgres import PostgresServer
from gateway.clock import FakeClock
from gateway.directory.availability import BACKOFF, Availability, prepare_forever
from gateway.directory.errors import DirectoryUnavailable
from gateway.directory.records import Origin, State
from gateway.directory.store import Directory, build_directory, prepare
from tests.directory.conftest import directory_config
from tests.processes import free_port


class SteppedClock(FakeClock):
    """A FakeClock whose sleeps wait for the test: `step()` lets the sleeper go on."""

    def __init__(self) -> None:
        super().__init__()
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()
        self.advance(seconds)

    async def next_sleep(self) -> None:
        await asyncio.wait_for(self.asleep.wait(), 30)
        self.asleep.clear()

    def step(self) -> None:
        self._wake.set()


class Unreachable:
    """A database the directory cannot use yet, and `fix()` to make it usable."""

    def __init__(self, url: str, fix) -> None:
        self.url, self.fix = url, fix


@pytest.fixture
async def unreachable(backend, request, tmp_path) -> AsyncIterator[Unreachable]:
    if backend == "sqlite":
        blocker = tmp_path / "data"
        blocker.write_text("a file where the database's directory should be")

        async def fix_sqlite() -> None:
            blocker.unlink()

        yield Unreachable(f"sqlite+aiosqlite:///{blocker / 'directory.db'}", fix_sqlite)
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = "late_database"

    async def admin() -> asyncpg.Connection:
        return await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="postgres", password=server.password, database="postgres"
        )

    async def fix_postgresql() -> None:  # the database exists from now on
        connection = await admin()
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    yield Unreachable(server.url(name), fix_postgresql)
    connection = await admin()
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def test_preparation_retries_with_bounded_backoff_until_the_database_answers(unreachable, keys):
    clock = SteppedClock()
    config = directory_config(unreachable.url, [keys["old"]], keys["index"], pool_timeout=1)
    directory = build_directory(config, clock)
    orca = directory.resources("acme", "orca")
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(prepare_forever(directory.availability, lambda: prepare(directory, config), clock))
        try:
            for _ in range(len(BACKOFF) + 2):  # every attempt fails until fixed; the waits grow, then stay bounded
                await clock.next_sleep()
                assert directory.availability.prepared is False
                with pytest.raises(DirectoryUnavailable, match="not ready yet"):
                    await orca.by_user_name("alice")
                assert not await directory.availability.ready()
                clock.step()
            await clock.next_sleep()
            await unreachable.fix()
            clock.step()
            await asyncio.wait_for(task, 30)
            assert directory.availability.prepared is True and directory.availability.problem is None
            entry = await orca.insert("User", State("alice"), vendor_id="v-1", origin=Origin.GATEWAY)  # migrated
            assert (await orca.by_user_name("ALICE")).id == entry.id
            assert await directory.availability.ready()
        finally:
            task.cancel()
            await directory.close()
    assert clock.sleeps == [*BACKOFF, BACKOFF[-1], BACKOFF[-1], BACKOFF[-1]]
    warnings = [line for line in logs if line["log_level"] == "warning"]
    assert len(warnings) == 1, "one clear line, not one per attempt"
    assert warnings[0]["event"] == "directory_not_ready" and keys["old"] not in str(warnings[0])
    assert "postgres:" not in str(logs) and "password" not in str(logs).lower()
    assert [line["event"] for line in logs if line["log_level"] == "info"][-2:] == [
        "directory_ready",
        "directory_reachable",
    ]


async def test_readiness_checks_the_database_once_per_cache_period_and_within_its_timeout():
    clock = FakeClock()
    calls = 0
    hang = asyncio.Event()

    async def check() -> None:
        nonlocal calls
        calls += 1
        if hang.is_set():
            await asyncio.Event().wait()  # a database that accepts and never answers

    availability = Availability(check, clock, check_timeout=0.05, cache_seconds=2.0)
    assert await availability.ready() and calls == 1
    results = await asyncio.gather(*(availability.ready() for _ in range(20)))
    assert all(results) and calls == 1, "probes within the cache period reuse the answer"
    clock.advance(2.5)
    hang.set()
    results = await asyncio.gather(*(availability.ready() for _ in range(20)))
    assert not any(results) and calls == 2, "concurrent probes share one bounded check"
    assert availability.problem == "the directory database did not answer within 0.05 s"
    hang.clear()
    assert not await availability.ready() and calls == 2  # still cached
    clock.advance(2.5)
    assert await availability.ready() and calls == 3 and availability.problem is None


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # see test_unavailable.py
async def test_a_prepared_directory_whose_database_goes_away_is_not_ready(keys):
    url = f"postgresql+asyncpg://gateway:hunter2@127.0.0.1:{free_port()}/directory"
    directory: Directory = build_directory(directory_config(url, [keys["old"]], keys["index"], pool_timeout=1))
    directory.availability.prepared = True  # as after a successful start-up
    try:
        assert not await directory.availability.ready()
        assert directory.availability.problem.startswith("the directory database is unavailable")
        assert "hunter2" not in directory.availability.problem
    finally:
        await directory.close()
