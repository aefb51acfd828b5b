"""A dry-run app's recorded calls, for the admin API and the CLI (takes the app's runtime, never a request)."""

from __future__ import annotations

from typing import Any

from scim2_models import NotFoundException

from gateway.directory.dry_runs import DryRunRecord, DryRuns
from gateway.runtime import AppRuntime

#: The most calls one listing returns.
MAX_LIST = 1000


def dry_runs_of(app: AppRuntime) -> DryRuns:
    """The app's recorded calls; NotFoundException (404) for an app not in dry run."""
    if app.dry_runs is None:
        raise NotFoundException(detail=f"{app.tenant}/{app.name} is not a dry-run app (set `dry_run: true`)")
    return app.dry_runs


async def recorded_calls(dry_runs: DryRuns, limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The app's recorded vendor calls, oldest first (at most MAX_LIST from `offset`)."""
    records = await dry_runs.list(limit=max(1, min(limit, MAX_LIST)), offset=max(0, offset))
    calls = [present(record) for record in records]
    return {"tenant": dry_runs.tenant, "app": dry_runs.app, "offset": offset, "calls": calls}


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
