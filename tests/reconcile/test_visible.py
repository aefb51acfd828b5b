"""Reconciliation made visible: scim_gateway_accounts and the new-findings counter on /metrics, the status page."""

from __future__ import annotations

from prometheus_client import generate_latest

from gateway.directory.records import Origin, State
from gateway.observability.status import StatusPage, render
from tests.reconcile.harness import reconciling


def sample(exposition: str, name: str, **labels: str) -> float | None:
    wanted = name + "{" + ",".join(f'{key}="{value}"' for key, value in sorted(labels.items())) + "}"
    for line in exposition.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return None


async def test_metrics_and_the_status_page_show_the_last_run(database_url, keys):
    async with reconciling(database_url, keys) as r:
        labels = {"tenant": "acme", "app": "app"}
        before = generate_latest(r.runtime.metrics.registry).decode()
        assert sample(before, "scim_gateway_reconcile_new_findings_total", **labels, state="orphan") == 0
        assert sample(before, "scim_gateway_accounts", **labels, state="orphan") is None  # never reconciled
        page = StatusPage.build(r.runtime, "test")
        assert "never" in render(r.runtime, page, page.rates.rates()).split("<td>app</td>")[1].split("</tr>")[0]

        user = r.simulator.state()["Users"][0]
        await r.app.resources.insert("User", State(user["userName"]), vendor_id=user["id"], origin=Origin.GATEWAY)
        await r.reconciler.run_now("acme", "app")
        await r.reconciler.run_now("acme", "app")  # the same orphans again: not new
        after = generate_latest(r.runtime.metrics.registry).decode()
        assert sample(after, "scim_gateway_accounts", **labels, state="orphan") == 4
        assert sample(after, "scim_gateway_accounts", **labels, state="total") == 5
        assert sample(after, "scim_gateway_accounts", **labels, state="missing") == 0
        assert sample(after, "scim_gateway_reconcile_new_findings_total", **labels, state="orphan") == 4
        assert user["userName"] not in after  # labels are bounded: never a user

        row = render(r.runtime, page, page.rates.rates()).split("<td>app</td>")[1].split("</tr>")[0]
        assert "4 orphans" in row and "drift 0" in row and "5 accounts" in row and user["userName"] not in row


async def test_every_replica_shows_the_run_another_one_made(database_url, keys):
    async with reconciling(database_url, keys) as first, reconciling(database_url, keys) as second:
        await first.reconciler.run_now("acme", "app")
        assert ("acme", "app") not in second.reconciler.last
        await second.reconciler.refresh()  # each scheduler tick does this
        exposition = generate_latest(second.runtime.metrics.registry).decode()
        assert sample(exposition, "scim_gateway_accounts", tenant="acme", app="app", state="orphan") == 5
