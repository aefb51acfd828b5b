"""Optimistic concurrency across replicas: each writer has its own engine (as separate processes would)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text

from gateway.directory.errors import ConcurrencyError, Conflict, StaleVersion
from gateway.directory.records import IntentOp, Origin, State
from gateway.directory.store import Directory, open_directory
from tests.directory.conftest import directory_config

WRITERS = 4


@contextlib.asynccontextmanager
async def replicas(database_url: str, keys: dict[str, str], count: int) -> AsyncIterator[list[Directory]]:
    opened = [await open_directory(directory_config(database_url, [keys["old"]], keys["index"])) for _ in range(count)]
    try:
        yield opened
    finally:
        for directory in opened:
            await directory.close()


async def _outcomes(coroutines) -> tuple[list, list[BaseException]]:
    results = await asyncio.gather(*coroutines, return_exceptions=True)
    return [r for r in results if not isinstance(r, BaseException)], [
        r for r in results if isinstance(r, BaseException)
    ]


async def test_concurrent_updates_at_one_version_exactly_one_wins(directory, database_url, keys):
    entry = await directory.resources("acme", "orca").insert(
        "User", State("alice"), vendor_id="v", origin=Origin.VENDOR
    )
    async with replicas(database_url, keys, WRITERS) as writers:
        for round_ in range(1, 11):
            updates = (
                writer.resources("acme", "orca").update(
                    "User", entry.id, State("alice", attributes={"title": f"{round_}-{n}"}), expected_version=round_
                )
                for n, writer in enumerate(writers)
            )
            won, lost = await _outcomes(updates)
            assert len(won) == 1, (round_, lost)
            assert all(isinstance(error, StaleVersion) for error in lost) and len(lost) == WRITERS - 1
    final = await directory.resources("acme", "orca").get("User", entry.id)
    assert final.version == 11 and final.state.attributes == won[0].state.attributes


async def test_updates_blocked_on_one_row_still_let_exactly_one_win(directory, database_url, keys, backend):
    # Hold the row's write lock so every writer is provably waiting at once, then let them all go.
    orca = directory.resources("acme", "orca")
    entry = await orca.insert("User", State("alice"), vendor_id="v", origin=Origin.VENDOR)
    async with replicas(database_url, keys, WRITERS) as writers, directory.engine.connect() as blocker:
        if backend == "sqlite":
            await blocker.execution_options(directory_write=True)
        await blocker.begin()
        await blocker.execute(text("UPDATE resources SET version = version WHERE vendor_id = 'v'"))
        tasks = [
            asyncio.create_task(w.resources("acme", "orca").update("User", entry.id, State("bob"), expected_version=1))
            for w in writers
        ]
        if backend == "postgresql":
            await _until_waiting(blocker, WRITERS)
        await blocker.commit()
        won, lost = await _outcomes(tasks)
    assert len(won) == 1 and len(lost) == WRITERS - 1
    assert all(isinstance(error, StaleVersion) for error in lost)


async def _until_waiting(connection, count: int) -> None:
    """Poll until `count` other sessions wait for a lock (bounded: fails the test after 10 s)."""
    for _ in range(1000):
        waiting = (await connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).scalar_one()
        if waiting >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {waiting} of {count} writers reached the lock")


async def test_concurrent_creates_of_one_user_name_exactly_one_wins(database_url, keys, directory):
    async with replicas(database_url, keys, WRITERS) as writers:
        creates = (
            w.resources("acme", "orca").record_intent(
                "User", IntentOp.CREATE, State(f"Carol@{'EXAMPLE' if n % 2 else 'example'}.com")
            )
            for n, w in enumerate(writers)
        )
        won, lost = await _outcomes(creates)
    assert len(won) == 1 and all(isinstance(error, Conflict) and error.attribute == "userName" for error in lost)


async def test_concurrent_intents_on_one_row_exactly_one_is_recorded(database_url, keys, directory):
    entry = await directory.resources("acme", "orca").insert("User", State("dave"), vendor_id="v", origin=Origin.VENDOR)
    async with replicas(database_url, keys, WRITERS) as writers:
        intents = (
            w.resources("acme", "orca").record_intent(
                "User", IntentOp.UPDATE, State("dave", attributes={"n": n}), id=entry.id, expected_version=1
            )
            for n, w in enumerate(writers)
        )
        won, lost = await _outcomes(intents)
    assert len(won) == 1 and all(isinstance(error, ConcurrencyError) for error in lost)
