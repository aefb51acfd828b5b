"""The deprovisioning guard's repository on SQLite and PostgreSQL: window, held batch, decisions, replicas."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gateway.clock import FakeClock
from gateway.directory.deprovisions import Deprovision, NothingHeld, Verdict
from gateway.directory.store import Directory, open_directory
from tests.directory.conftest import directory_config

DELETE, DEACTIVATE = Deprovision.DELETE, Deprovision.DEACTIVATE


async def test_the_window_counts_then_holds_and_retries_stay_held(directory: Directory, clock: FakeClock) -> None:
    guard = directory.deprovisions("acme", "orca")
    verdicts = [(await guard.admit("User", f"u{i}", DELETE, limit=3, window=600)).verdict for i in range(3)]
    assert verdicts == [Verdict.PASS] * 3
    tripped = await guard.admit("User", "u3", DEACTIVATE, limit=3, window=600)
    assert tripped.verdict is Verdict.HELD and tripped.tripped and tripped.batch is not None
    later = await guard.admit("User", "u4", DELETE, limit=3, window=600)
    assert later.verdict is Verdict.HELD and not later.tripped and later.batch == tripped.batch
    retry = await guard.admit("User", "u3", DEACTIVATE, limit=3, window=600)
    assert retry.verdict is Verdict.HELD and retry.batch == tripped.batch
    clock.advance(3600)  # the window moves on, but a held batch waits for an operator
    assert (await guard.admit("User", "u5", DELETE, limit=3, window=600)).verdict is Verdict.HELD
    view = await guard.view(600)
    assert view.batch == tripped.batch and view.counts == {"held": 3, "approved": 0, "rejected": 0}
    assert {(e.resource_id, e.operation) for e in view.entries} == {("u3", DEACTIVATE), ("u4", DELETE), ("u5", DELETE)}


async def test_old_deprovisions_leave_the_window(directory: Directory, clock: FakeClock) -> None:
    guard = directory.deprovisions("acme", "orca")
    for i in range(2):
        assert (await guard.admit("User", f"a{i}", DELETE, limit=2, window=60)).verdict is Verdict.PASS
    clock.advance(61)
    assert (await guard.admit("User", "b", DELETE, limit=2, window=60)).verdict is Verdict.PASS
    assert (await guard.view(60)).recent == 1


async def test_approval_lets_the_batch_through_once_and_counting_starts_again(directory: Directory) -> None:
    guard = directory.deprovisions("acme", "orca")
    await guard.admit("User", "u0", DELETE, limit=1, window=600)
    held = await guard.admit("User", "u1", DELETE, limit=1, window=600)
    await guard.admit("User", "u2", DEACTIVATE, limit=1, window=600)
    with pytest.raises(NothingHeld):
        await guard.approve(batch=uuid.uuid4())
    assert await guard.approve(held.batch) == (held.batch, 2)
    with pytest.raises(NothingHeld):
        await guard.approve()
    assert (await guard.admit("User", "u1", DELETE, limit=1, window=600)).verdict is Verdict.APPROVED
    await guard.consume("User", "u1", DELETE)
    # Used up: the same call again is a new deprovision, counted in a fresh window.
    assert (await guard.admit("User", "u1", DELETE, limit=1, window=600)).verdict is Verdict.PASS
    assert (await guard.admit("User", "u2", DEACTIVATE, limit=1, window=600)).verdict is Verdict.APPROVED
    assert (await guard.admit("User", "u9", DELETE, limit=1, window=600)).verdict is Verdict.HELD


async def test_rejection_refuses_until_reset(directory: Directory) -> None:
    guard = directory.deprovisions("acme", "orca")
    await guard.admit("User", "u0", DELETE, limit=1, window=600)
    await guard.admit("User", "u1", DELETE, limit=1, window=600)
    assert (await guard.reject())[1] == 1
    assert (await guard.admit("User", "u1", DELETE, limit=1, window=600)).verdict is Verdict.REFUSED
    assert (await guard.view(600)).counts["rejected"] == 1
    assert await guard.reset() == 1
    assert (await guard.admit("User", "u1", DELETE, limit=1, window=600)).verdict is Verdict.PASS


async def test_three_processes_share_one_exact_count(database_url: str, keys: dict[str, str], backend: str) -> None:
    """Three directories (three replicas' engines) on one database: exactly `limit` deprovisions pass."""
    if backend == "sqlite":
        pytest.skip("SQLite serves one replica; its single writer is covered by the tests above")
    config = directory_config(database_url, [keys["old"]], keys["index"])
    replicas = [await open_directory(config, FakeClock()) for _ in range(3)]
    try:
        guards = [replica.deprovisions("acme", "orca") for replica in replicas]
        decisions = await asyncio.gather(
            *(guards[i % 3].admit("User", f"u{i}", DELETE, limit=10, window=600) for i in range(30))
        )
        assert sum(d.verdict is Verdict.PASS for d in decisions) == 10
        assert sum(d.tripped for d in decisions) == 1
        assert len({d.batch for d in decisions if d.verdict is Verdict.HELD}) == 1
        assert (await guards[1].view(600)).counts["held"] == 20
    finally:
        for replica in replicas:
            await replica.close()
