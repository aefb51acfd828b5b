"""What the admin API calls (`POST`/`GET /admin/v1/tenants/{tenant}/apps/{app}/reconcile`): JSON-ready dicts.

Both raise scim2-models SCIMExceptions the admin router renders in its error shape: NotFoundException
(404) for an unknown tenant or app, NotSupported (501) when the app cannot be reconciled (it keeps
nothing in the directory, the gateway has no directory, or the vendor cannot list users), and
DirectoryUnavailable passes through (503) when the database is away. Neither ever writes to a vendor.
"""

from __future__ import annotations

from typing import Any

from gateway.backed.manual.operations import ManualOperations
from gateway.directory.findings import Finding, Run
from gateway.outbound.errors import NotSupported
from gateway.reconcile.reconciler import Reconciler
from gateway.runtime import AppRuntime, Runtime
from vendors.base import Kind, Op

MAX_PAGE = 1000


async def start_reconcile(runtime: Runtime, tenant: str, app: str) -> dict[str, Any]:
    """Start a run of the app in the background and return at once.

    `{"started": true, "run": {...}}`, or `{"started": false, "reason": ...}` when a run of the app is
    already going on (on this replica or another: the lease is taken).
    """
    reconciler = _reconciler(runtime)
    reconcilable(reconciler.app(tenant, app))
    run = await reconciler.begin(tenant, app)
    if run is None:
        return {"started": False, "reason": "a run of this app is in progress (possibly on another replica)"}
    reconciler.start(tenant, app, run)
    return {"started": True, "run": run_json(run)}


async def last_run(runtime: Runtime, tenant: str, app: str, offset: int = 0, limit: int = 100) -> dict[str, Any]:
    """The app's latest run and its current findings, paged (`offset`, `limit` at most MAX_PAGE).

    `{"run": {...} | null, "finished_run": {...} | null, "findings": [...], "total": n, "offset", "limit"}`:
    `run` is the latest (maybe still running), `finished_run` the latest that ended, whose counts
    the findings total follows. Findings are what the runs so far found, each with first/last seen.
    """
    reconciler = _reconciler(runtime)
    reconcilable(reconciler.app(tenant, app))
    offset, limit = max(0, offset), min(max(1, limit), MAX_PAGE)
    runs = reconciler.directory.reconciliations(tenant, app)
    latest, finished = await runs.last_run(), await runs.last_run(finished=True)
    counts = await runs.count_findings()
    return {
        "run": None if latest is None else run_json(latest),
        "finished_run": None if finished is None else run_json(finished),
        "total": sum(counts.values()),
        "offset": offset,
        "limit": limit,
        "findings": [finding_json(found) for found in await runs.findings(offset, limit)],
    }


def reconcilable(app: AppRuntime) -> None:
    """Raise NotSupported (501) unless the app keeps a directory and its vendor can list users."""
    if app.resources is None:
        raise NotSupported(
            f"app {app.name!r} keeps nothing in the directory (directory: off): reconciliation compares the "
            "vendor with the directory, so it needs directory link or full"
        )
    if isinstance(app.operations, ManualOperations):
        raise NotSupported(
            f"app {app.name!r} is a manual app: it has no vendor API to compare with (its directory is the "
            "desired state; its work items say what was done at the vendor)"
        )
    app.operations.require(Kind.USER, Op.SEARCH)


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "status": run.status.value,
        "started": run.started.isoformat(),
        "finished": None if run.finished is None else run.finished.isoformat(),
        "accounts": run.accounts,
        "counts": {state.value: count for state, count in run.counts.items()},
        "detail": run.detail,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "state": finding.state.value,
        "resourceType": finding.kind,
        "vendorId": finding.vendor_id,
        "id": None if finding.directory_id is None else str(finding.directory_id),
        "userName": finding.user_name,
        "attributes": list(finding.attributes),
        "firstSeen": finding.first_seen.isoformat(),
        "lastSeen": finding.last_seen.isoformat(),
    }


def _reconciler(runtime: Runtime) -> Reconciler:
    if runtime.reconciler is None:
        raise NotSupported("reconciliation needs the gateway's directory (the config's directory section)")
    return runtime.reconciler
