"""gateway/reconcile/: a real simulator, a real directory (SQLite and PostgreSQL), the admin's service functions."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from scim2_models import NotFoundException

from gateway.directory.findings import FindingState, RunStatus
from gateway.directory.records import Origin, State
from gateway.outbound.errors import NotSupported
from gateway.reconcile.reconciler import LEASE_TTL
from gateway.reconcile.service import last_run, start_reconcile
from tests.reconcile.harness import reconciling
from vendors.simulators.base import FaultRule


def written(user: dict) -> dict:
    """What the gateway would have written for a user the vendor holds (the attributes it stores)."""
    return {key: user[key] for key in ("userName", "displayName", "name", "emails", "active") if key in user}


async def seed(r, users: list[dict]) -> dict[str, object]:
    """Directory entries for the simulator's users: 0 as written, 1 drifted, 2 deactivated by the gateway,
    3 found at the vendor (origin vendor), 4 unknown to the directory; plus one entry the vendor lost."""
    resources, ids = r.app.resources, {}
    for index, user in enumerate(users[:4]):
        state = State(user["userName"], user.get("externalId"), written=written(user))
        if index == 1:
            state = State(user["userName"], written={**written(user), "displayName": "Before The Change"})
        if index == 2:
            state = State(user["userName"], active=False, written={**written(user), "active": False})
        origin = Origin.VENDOR if index == 3 else Origin.GATEWAY
        ids[index] = (await resources.insert("User", state, vendor_id=user["id"], origin=origin)).id
    ids["gone"] = (await resources.insert("User", State("gone@acme.example"), vendor_id="v-gone",
                                          origin=Origin.GATEWAY)).id  # fmt: skip
    return ids


async def test_a_run_finds_orphans_drift_missing_and_reactivated_accounts(database_url, keys):
    async with reconciling(database_url, keys) as r:
        users = r.simulator.state()["Users"]
        ids = await seed(r, users)
        requests_before = len(r.simulator.requests)
        run = await r.reconciler.run_now("acme", "app")
        assert run.status is RunStatus.SUCCEEDED and run.accounts == 5
        assert run.counts == {FindingState.ORPHAN: 2, FindingState.DRIFT: 1, FindingState.MISSING: 1,
                              FindingState.REACTIVATED: 1}  # fmt: skip
        page = await last_run(r.runtime, "acme", "app")
        found = {(f["state"], f["vendorId"]): f for f in page["findings"]}
        assert set(found) == {("orphan", users[3]["id"]), ("orphan", users[4]["id"]), ("drift", users[1]["id"]),
                              ("reactivated", users[2]["id"]), ("missing", "v-gone")}  # fmt: skip
        assert found[("drift", users[1]["id"])]["attributes"] == ["displayName"]
        assert found[("orphan", users[3]["id"])]["id"] == str(ids[3])  # found there, never provisioned
        assert found[("orphan", users[4]["id"])]["id"] is None and found[("orphan", users[4]["id"])]["userName"]
        assert found[("missing", "v-gone")]["userName"] == "gone@acme.example"
        assert page["total"] == 5 and page["run"]["status"] == "succeeded"
        vendor_calls = list(r.simulator.requests)[requests_before:]
        assert vendor_calls and {call["method"] for call in vendor_calls} == {"GET"}  # never writes to the vendor


async def test_findings_keep_first_seen_and_resolved_ones_go(database_url, keys, clock):
    async with reconciling(database_url, keys, clock=clock) as r:
        users = r.simulator.state()["Users"]
        await seed(r, users)
        await r.reconciler.run_now("acme", "app")
        first = {(f["state"], f["vendorId"]): f for f in (await last_run(r.runtime, "acme", "app"))["findings"]}
        clock.advance(3600)
        entry = await r.app.resources.by_vendor_id("User", "v-gone")
        await r.app.resources.delete("User", entry.id)  # the missing one is dealt with
        run = await r.reconciler.run_now("acme", "app")
        assert run.counts[FindingState.MISSING] == 0 and run.counts[FindingState.ORPHAN] == 2
        second = {(f["state"], f["vendorId"]): f for f in (await last_run(r.runtime, "acme", "app"))["findings"]}
        assert set(second) == set(first) - {("missing", "v-gone")}
        for key, finding in second.items():
            assert finding["firstSeen"] == first[key]["firstSeen"] and finding["lastSeen"] > first[key]["lastSeen"]


async def test_start_returns_at_once_and_a_second_start_is_refused_while_it_runs(database_url, keys):
    async with reconciling(database_url, keys) as r:
        r.simulator.add_fault(FaultRule(method="GET", path="/api/scim/v2/Users", latency=0.3))
        started = await asyncio.wait_for(start_reconcile(r.runtime, "acme", "app"), 0.25)
        assert started["started"] is True and started["run"]["status"] == "running"
        again = await start_reconcile(r.runtime, "acme", "app")
        assert again["started"] is False
        page = await last_run(r.runtime, "acme", "app")
        assert page["run"]["status"] == "running" and page["finished_run"] is None
        await r.reconciler.tasks[("acme", "app")]
        page = await last_run(r.runtime, "acme", "app", offset=1, limit=2)
        assert page["run"]["status"] == "succeeded" and page["total"] == 5 and len(page["findings"]) == 2
        assert (await start_reconcile(r.runtime, "acme", "app"))["started"] is True  # the lease was released


async def test_a_failing_vendor_fails_the_run_and_resolves_nothing(database_url, keys):
    async with reconciling(database_url, keys, app={"retry": {"attempts": 1}}) as r:
        await seed(r, r.simulator.state()["Users"])
        await r.reconciler.run_now("acme", "app")
        r.simulator.add_fault(FaultRule(method="GET", status=500, times=-1))
        failed = await r.reconciler.run_now("acme", "app")
        assert failed.status is RunStatus.FAILED and "app" in failed.detail
        assert (await last_run(r.runtime, "acme", "app"))["total"] == 5  # still standing
        assert r.reconciler.last[("acme", "app")].status is RunStatus.FAILED


async def test_unknown_apps_and_apps_without_a_directory_are_refused(database_url, keys):
    async with reconciling(database_url, keys, app={"directory": "off"}) as r:
        with pytest.raises(NotFoundException):
            await start_reconcile(r.runtime, "acme", "nope")
        with pytest.raises(NotFoundException):
            await last_run(r.runtime, "nope", "app")
        with pytest.raises(NotSupported, match="directory"):
            await start_reconcile(r.runtime, "acme", "app")


async def test_the_scheduler_runs_due_apps_once_per_period(database_url, keys, clock):
    async with reconciling(database_url, keys, clock=clock, app={"reconcile": {"every": "6h"}}) as r:
        await r.reconciler.tick()
        await r.reconciler.tasks[("acme", "app")]
        await r.reconciler.tick()  # not due yet
        assert ("acme", "app") not in r.reconciler.tasks
        clock.advance(timedelta(hours=6).total_seconds())
        await r.reconciler.tick()
        assert ("acme", "app") in r.reconciler.tasks
        await r.reconciler.tasks[("acme", "app")]
        assert r.reconciler.last[("acme", "app")].accounts == 5


async def test_three_replicas_asked_at_once_run_the_app_once(database_url, keys, backend):
    if backend != "postgresql":
        pytest.skip("replicas share PostgreSQL; SQLite is for one replica")
    async with (
        reconciling(database_url, keys) as a,
        reconciling(database_url, keys) as b,
        reconciling(database_url, keys) as c,
    ):
        replicas = (a, b, c)
        for replica in replicas:
            replica.simulator.add_fault(FaultRule(method="GET", path="/api/scim/v2/Users", latency=0.2))
        answers = await asyncio.gather(*(start_reconcile(r.runtime, "acme", "app") for r in replicas))
        assert [answer["started"] for answer in answers].count(True) == 1, answers
        (winner,) = [r for r, answer in zip(replicas, answers, strict=True) if answer["started"]]
        await winner.reconciler.tasks[("acme", "app")]
        for replica in replicas:  # every replica reads the same last run
            page = await last_run(replica.runtime, "acme", "app")
            assert page["run"]["id"] == answers[replicas.index(winner)]["run"]["id"]
            assert page["run"]["status"] == "succeeded"


async def test_a_run_that_loses_its_lease_stops_and_says_so(database_url, keys, clock):
    async with reconciling(database_url, keys, clock=clock) as r:
        r.reconciler.page_size = 2  # three vendor pages for five users
        r.simulator.add_fault(FaultRule(method="GET", path="/api/scim/v2/Users", latency=0.2, times=-1))
        run = await r.reconciler.begin("acme", "app")
        task = asyncio.create_task(r.reconciler.execute("acme", "app", run))
        await asyncio.sleep(0.1)  # the first page is in flight; this replica stalls past its lease
        clock.advance(LEASE_TTL.total_seconds() + 1)
        other = r.directory.leases("replica-b")
        assert await other.acquire("reconcile:acme/app", LEASE_TTL)
        finished = await task
        assert finished.status is RunStatus.FAILED and "lease" in finished.detail and finished.accounts < 5
        assert await other.holder_of("reconcile:acme/app") == "replica-b"  # the loser released nothing of b's
