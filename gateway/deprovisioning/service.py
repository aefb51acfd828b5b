"""The deprovisioning guard's operator actions, shared by the admin API, the CLI and the status page.

Each takes the app's DeprovisionGate (`gate_of` finds it on a running app; the CLI builds one from
the config) and never a request. Decisions are audited: one record each, naming the operator, the
app, the batch and how many entries it held.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from scim2_models import NotFoundException, SCIMException

from gateway.deprovisioning.gate import DeprovisionGate
from gateway.directory.deprovisions import GuardView, NothingHeld
from gateway.observability.audit import AuditLog
from gateway.runtime import AppRuntime


class NoHeldBatch(SCIMException):
    """409: nothing is held for this app (or the batch named is no longer the held one)."""

    status = 409


def gate_of(app: AppRuntime) -> DeprovisionGate:
    """The app's guard; NotFoundException (404) for an app without `guard`."""
    if app.deprovisions is None:
        raise NotFoundException(detail=f"{app.tenant}/{app.name} has no deprovisioning guard (set `guard` on the app)")
    return app.deprovisions


async def guard_status(gate: DeprovisionGate) -> dict[str, Any]:
    """The guard's configuration, its held batch, counts by status and the entries (ids and operations)."""
    return present(gate, await gate.store.view(gate.config.window))


async def decide(
    gate: DeprovisionGate, audit: AuditLog, actor: str, decision: str, batch: UUID | None = None
) -> dict[str, Any]:
    """`approve` or `reject` the held batch (only if it is `batch`, when given); raises NoHeldBatch (409)."""
    store = gate.store
    try:
        decided, entries = await (store.approve(batch) if decision == "approve" else store.reject(batch))
    except NothingHeld as exc:
        raise NoHeldBatch(detail=f"{gate.label}: {exc}") from None
    _audit(audit, gate, actor, f"guard.{decision}", {"batch": str(decided), "entries": entries})
    return {"decision": decision, "batch": str(decided), "entries": entries}


async def reset(gate: DeprovisionGate, audit: AuditLog, actor: str) -> dict[str, Any]:
    """Forget rejected entries and the window's count (their retries are then counted like new ones)."""
    forgotten = await gate.store.reset()
    _audit(audit, gate, actor, "guard.reset", {"entries": forgotten})
    return {"decision": "reset", "entries": forgotten}


def present(gate: DeprovisionGate, view: GuardView) -> dict[str, Any]:
    return {
        "tenant": gate.store.tenant,
        "app": gate.store.app,
        "max_deprovisions": gate.config.max_deprovisions,
        "window_seconds": gate.config.window,
        "holding": view.batch is not None,
        "batch": str(view.batch) if view.batch else None,
        "tripped": view.tripped.isoformat() if view.tripped else None,
        "counted_in_window": view.recent,
        "entries_by_status": view.counts,
        "entries": [
            {
                "kind": entry.kind,
                "id": entry.resource_id,
                "operation": entry.operation.value,
                "status": entry.status,
                "batch": str(entry.batch),
                "held": entry.held.isoformat(),
                "decided": entry.decided.isoformat() if entry.decided else None,
            }
            for entry in view.entries
        ],
    }


def _audit(audit: AuditLog, gate: DeprovisionGate, actor: str, action: str, fields: dict[str, Any]) -> None:
    store = gate.store
    audit.record({"operation": action, "tenant": store.tenant, "app": store.app, "operator": actor, **fields})
