"""A dry-run app's recorded calls, for the admin API and the CLI (takes the app's runtime, never a request)."""

from __future__ import annotations

from typing import Any

from scim2_models import NotFoundException

from gateway.directory.dry_runs import DryRunRecord, DryRuns
from gateway.directory.store import Directory
from gateway.runtime import AppRuntime

#: The most calls one listing returns.
MAX_LIST = 1000


def dry_runs_of(app: AppRuntime, directory: Directory | None) -> DryRuns:
    """The app's recorded calls: those of its dry runs, kept after `dry_run` is switched off (until cleared).

    NotFoundException (404) when the config has no directory (no app can have recorded any).
    """
    if app.dry_runs is not None:
        return app.dry_runs
    if directory is None:
        raise NotFoundException(detail=f"{app.tenant}/{app.name} has recorded nothing: the config has no directory")
    return directory.dry_runs(app.tenant, app.name)


async def recorded_calls(dry_runs: DryRuns, dry_run: bool, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The app's recorded vendor calls, oldest first (at most MAX_LIST from `offset`); `dry_run`: the app's
    setting now (false: these were recorded before it was switched off)."""
    records = await dry_runs.list(limit=max(1, min(limit, MAX_LIST)), offset=max(0, offset))
    calls = [present(record) for record in records]
    return {"tenant": dry_runs.tenant, "app": dry_runs.app, "dry_run": dry_run, "offset": offset, "calls": calls}


def present(record: DryRunRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "at": record.at.isoformat(),
        "request_id": record.request_id,
        "operation": record.operation,
        "resource_type": record.kind,
        "method": record.call.method,
        "path": record.call.path,
        "query": record.call.query,
        "body": record.call.body,
    }
