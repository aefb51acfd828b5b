"""The deprovisioning guard in the request path (gateway/orchestrator.py calls `deprovision_guard`).

A call deprovisions when it deletes a User, or sets `active` false on a User
that is active now: a PUT whose body says `"active": false`, or a PATCH that,
applied to the user as read, leaves it inactive. Only those pay the read that
tells: every other write passes without any I/O here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scim2_models import SCIMException

from gateway.config import DeprovisionGuardConfig
from gateway.directory.deprovisions import Deprovision, Deprovisions, Verdict
from gateway.outbound.budget import CallBudget
from gateway.scim.models import parse_response
from gateway.scim.patch import NormalisedPatch
from vendors.base import Kind, Resource

if TYPE_CHECKING:
    from gateway.inbound.recording import Call
    from gateway.runtime import AppRuntime

_CORE_ACTIVE = "urn:ietf:params:scim:schemas:core:2.0:user:active"


class DeprovisionHeld(SCIMException):
    """503 + Retry-After: the app's guard holds this deactivation or delete for an operator's decision."""

    status = 503

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail=detail)
        self.retry_after = retry_after


class DeprovisionRefused(SCIMException):
    """409: an operator rejected this deactivation or delete; refused until the guard is reset."""

    status = 409


@dataclass(frozen=True)
class Ticket:
    kind: Kind
    resource_id: str
    operation: Deprovision
    approved: bool


class DeprovisionGate:
    """One app's guard: decides each deprovision against the shared window and held batch."""

    def __init__(
        self, store: Deprovisions, config: DeprovisionGuardConfig, label: str, count: Callable[[str], None]
    ) -> None:
        self.store = store
        self.config = config
        self.label = label
        self._count = count

    async def admit(self, kind: Kind, resource_id: str, operation: Deprovision) -> Ticket:
        """A ticket to go to the vendor; raises DeprovisionHeld (503) or DeprovisionRefused (409)."""
        config = self.config
        decision = await self.store.admit(
            kind.value, resource_id, operation, limit=config.max_deprovisions, window=config.window
        )
        self._count(decision.verdict.value)
        if decision.verdict is Verdict.HELD:
            raise DeprovisionHeld(
                f"deprovisioning guard of {self.label}: more than {config.max_deprovisions} deactivations or "
                f"deletes within {_duration(config.window)}; this {operation.value} is held, not sent to the "
                f"vendor, until an operator approves or rejects the held batch ({decision.batch}); retry later",
                config.retry_after,
            )
        if decision.verdict is Verdict.REFUSED:
            raise DeprovisionRefused(
                detail=f"deprovisioning guard of {self.label}: an operator rejected this {operation.value} "
                f"(batch {decision.batch}); it is refused until an operator resets the guard"
            )
        return Ticket(kind, resource_id, operation, approved=decision.verdict is Verdict.APPROVED)

    async def passed(self, ticket: Ticket) -> None:
        """The vendor took the call: an approved entry is used up."""
        if ticket.approved:
            await self.store.consume(ticket.kind.value, ticket.resource_id, ticket.operation)


@asynccontextmanager
async def deprovision_guard(
    app: AppRuntime,
    call: Call,
    budget: CallBudget,
    kind: Kind,
    resource_id: str,
    *,
    replacing: Resource | None = None,
    patching: NormalisedPatch | None = None,
    deleting: bool = False,
) -> AsyncIterator[None]:
    """Around one write: held (503) or refused (409) before the body runs, when it deprovisions past the guard.

    No-op for apps without a guard and for writes that do not deprovision. Sets `call.deprovision_guard`
    to the verdict (pass, held, approved, refused) for the audit record.
    """
    gate = app.deprovisions
    operation = None
    if gate is not None:
        operation = await _deprovision_of(app, budget, kind, resource_id, replacing, patching, deleting)
    if gate is None or operation is None:
        yield
        return
    try:
        ticket = await gate.admit(kind, resource_id, operation)
    except DeprovisionHeld:
        call.deprovision_guard = Verdict.HELD.value
        raise
    except DeprovisionRefused:
        call.deprovision_guard = Verdict.REFUSED.value
        raise
    call.deprovision_guard = Verdict.APPROVED.value if ticket.approved else Verdict.PASS.value
    yield
    await gate.passed(ticket)


async def _deprovision_of(
    app: AppRuntime,
    budget: CallBudget,
    kind: Kind,
    resource_id: str,
    replacing: Resource | None,
    patching: NormalisedPatch | None,
    deleting: bool,
) -> Deprovision | None:
    if kind is not Kind.USER:
        return None
    if deleting:
        return Deprovision.DELETE
    if replacing is not None and replacing.get("active") is not False:
        return None
    if patching is not None and not any(_touches_active(operation) for operation in patching.operations):
        return None
    if replacing is None and patching is None:
        return None
    current = await app.operations.get(budget, kind, resource_id)
    if current.get("active") is False:
        return None  # already inactive: nothing is taken away
    if patching is None:
        return Deprovision.DEACTIVATE
    model = parse_response(app.operations.schemas[kind], current)
    try:
        patching.apply(model)
    except SCIMException:
        return None  # the write itself will refuse it
    return Deprovision.DEACTIVATE if getattr(model, "active", None) is False else None


def _touches_active(operation: dict[str, Any]) -> bool:
    path = operation.get("path")
    if isinstance(path, str):
        return path.lower() in ("active", _CORE_ACTIVE)
    value = operation.get("value")
    return isinstance(value, dict) and any(str(key).lower() in ("active", _CORE_ACTIVE) for key in value)


def _duration(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"
