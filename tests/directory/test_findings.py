"""gateway/directory/findings.py and Resources.entries: runs, findings with first/last seen, seen marks."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from gateway.directory.findings import KEPT_RUNS, FindingState, Observation, RunStatus, last_finished_runs
from gateway.directory.records import Origin, State
from gateway.directory.schema import reconcile_findings, reconcile_runs, reconcile_seen

ORPHAN = Observation("User", "v-1", FindingState.ORPHAN, user_name="Mallory@Example.com")
DRIFT = Observation("User", "v-2", FindingState.DRIFT, uuid.uuid4(), "bob@example.com", ("displayName", "emails"))


async def test_a_finding_keeps_its_first_seen_and_moves_its_last_seen(directory, clock):
    runs = directory.reconciliations("acme", "orca")
    first = await runs.start_run()
    assert await runs.record(first.id, [ORPHAN, DRIFT]) == {FindingState.ORPHAN: 1, FindingState.DRIFT: 1}
    await runs.finish_run(first.id, RunStatus.SUCCEEDED, 10)
    clock.advance(3600)
    second = await runs.start_run()
    assert await runs.record(second.id, [ORPHAN]) == {}  # nothing new
    closed = await runs.finish_run(second.id, RunStatus.SUCCEEDED, 10)
    assert closed.counts == {s: int(s is FindingState.ORPHAN) for s in FindingState}
    (orphan,) = await runs.findings()  # the drift was not found again: resolved, deleted
    assert orphan.state is FindingState.ORPHAN and orphan.user_name == "Mallory@Example.com"
    assert (orphan.last_seen - orphan.first_seen).total_seconds() == 3600
    last = await runs.last_run()
    assert (last.id, last.status, last.accounts, last.counts[FindingState.ORPHAN]) == (
        second.id, RunStatus.SUCCEEDED, 10, 1,
    )  # fmt: skip
    assert await runs.count_findings() == {s: int(s is FindingState.ORPHAN) for s in FindingState}


async def test_a_failed_run_resolves_nothing_and_personal_values_are_sealed(directory):
    runs = directory.reconciliations("acme", "orca")
    first = await runs.start_run()
    await runs.record(first.id, [ORPHAN, DRIFT])
    await runs.finish_run(first.id, RunStatus.SUCCEEDED, 2)
    failed = await runs.start_run()
    closed = await runs.finish_run(failed.id, RunStatus.FAILED, 0, "the vendor failed")
    assert closed.counts[FindingState.DRIFT] == 1  # still standing: a failed run resolves nothing
    assert len(await runs.findings()) == 2
    assert (await runs.last_run(finished=True)).detail == "the vendor failed"
    drift = next(f for f in await runs.findings() if f.state is FindingState.DRIFT)
    assert drift.attributes == ("displayName", "emails") and drift.directory_id == DRIFT.directory_id
    assert "bob" not in repr(drift)
    async with directory.engine.connect() as connection:
        stored = [row.user_name for row in await connection.execute(select(reconcile_findings))]
    assert all(b"example.com" not in bytes(value).lower() for value in stored)
    assert await directory.reconciliations("acme", "other").findings() == []  # per app


async def test_seen_marks_answer_membership_and_go_with_the_run(directory):
    runs = directory.reconciliations("acme", "orca")
    run = await runs.start_run()
    ids = [uuid.uuid4() for _ in range(5)]
    await runs.mark_seen(run.id, ids[:3])
    await runs.mark_seen(run.id, ids[1:3])  # met again (overlapping vendor pages): fine
    assert await runs.seen_among(run.id, ids) == set(ids[:3])
    await runs.finish_run(run.id, RunStatus.SUCCEEDED, 3)
    async with directory.engine.connect() as connection:
        assert (await connection.execute(select(reconcile_seen))).all() == []


async def test_links_page_every_resource_of_the_app_by_id(directory):
    orca = directory.resources("acme", "orca")
    made = {(await orca.insert("User", State(f"u{i}"), vendor_id=f"v{i}", origin=Origin.GATEWAY)).id for i in range(7)}
    await directory.resources("acme", "other").insert("User", State("x"), vendor_id="x", origin=Origin.GATEWAY)
    seen, after, pages = [], None, 0
    while page := await orca.links("User", after, limit=3):
        assert all(link.visible and link.vendor_id and link.pending is None for link in page)
        seen += [link.id for link in page]
        after, pages = page[-1].id, pages + 1
    assert set(seen) == made and len(seen) == 7 and pages == 3 and seen == sorted(seen)


async def test_old_runs_are_pruned_and_every_apps_last_finished_run_comes_in_one_query(directory, clock):
    orca, other = directory.reconciliations("acme", "orca"), directory.reconciliations("globex", "orca")
    for _ in range(KEPT_RUNS + 2):
        clock.advance(60)
        await orca.finish_run((await orca.start_run()).id, RunStatus.SUCCEEDED, 1)
    clock.advance(60)
    last_other = await other.finish_run((await other.start_run()).id, RunStatus.FAILED, 0, "x")
    clock.advance(60)
    running = await orca.start_run()
    async with directory.engine.connect() as connection:
        kept = (await connection.execute(select(func.count()).select_from(reconcile_runs))).scalar_one()
    assert kept == KEPT_RUNS + 2  # acme/orca: 20 finished + the running one; globex/orca: 1
    latest = {(run.tenant, run.app): run for run in await last_finished_runs(directory.engine)}
    assert set(latest) == {("acme", "orca"), ("globex", "orca")}
    assert latest[("globex", "orca")] == last_other
    assert latest[("acme", "orca")].id != running.id and latest[("acme", "orca")].status is RunStatus.SUCCEEDED
    assert latest[("acme", "orca")] == await orca.last_run(finished=True)
