"""Working the queue of manual apps: list, claim, complete, reject. Used by the admin API and the CLI alike.

Each transition is one transaction, conditional on the item's state (two
operators completing one item: one wins, the other gets 409). Completing or
rejecting also adds one to the account's version, so the IdP's next read (and
its ETag) shows the new fulfilment; completing a create records the
vendor-side id on the account, in the same transaction. Then the transition
is audited (gateway/backed/manual/events.py).

Errors are SCIM exceptions, rendered as JSON by the admin API and as a line by the CLI:
    404 NotFound        no such item in this tenant
    409 WorkConflict    the item's state does not allow it, or the vendor id is another account's
    400 InvalidValue    a create completed without its vendor id; a rejection without a reason
    503 DirectoryDown   the directory's database is unavailable (or not yet prepared); nothing changed
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from scim2_models import InvalidValueException, NotFoundException, SCIMException

from gateway.backed.errors import DirectoryDown
from gateway.backed.manual.events import WorkEvents
from gateway.directory.errors import Conflict, DirectoryUnavailable, NotFound
from gateway.directory.store import Directory
from gateway.directory.work import OPEN_STATES, Action, Backlog, WorkItem, WorkItems, WorkState, WrongState
from vendors.base import Kind

MAX_LIMIT = 1000
MAX_REASON = 1000


class WorkConflict(SCIMException):
    """The item's state does not allow this transition (409)."""

    status = 409


class WorkService:
    """The work items of one gateway's manual apps."""

    def __init__(self, directory: Directory, events: WorkEvents, manual_apps: frozenset[tuple[str, str]]) -> None:
        self.directory = directory
        self.items: WorkItems = directory.work()
        self.events = events
        self.manual_apps = manual_apps
        #: Open items per manual app, as last read (`refresh`): for metrics and the status page.
        self.backlog: dict[tuple[str, str], Backlog] = {}
        #: Webhook deliveries by (tenant, app, outcome), once the sender (webhook.py) runs.
        self.notifications: dict[tuple[str, str, str], int] = {}

    async def refresh(self) -> None:
        """Read the open items' count and oldest time of every manual app (one grouped query)."""
        self.backlog = {(row.tenant, row.app): row for row in await self.items.backlog()}

    async def listing(
        self,
        tenant: str,
        *,
        app: str | None = None,
        states: list[str] | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """A page of items, oldest first (open and claimed unless `states` says otherwise), and the cursor
        for the next page (`next`: pass it as `after`; None at the end)."""
        try:
            wanted = [WorkState(state) for state in states] if states else list(OPEN_STATES)
        except ValueError:
            raise InvalidValueException(detail="state must be open, claimed, done or rejected") from None
        limit = max(1, min(limit, MAX_LIMIT))
        try:
            with self._available():
                found = await self.items.page(tenant, app=app, states=wanted, after=_id(after), limit=limit)
        except NotFound:
            raise NotFoundException(detail="`after` names no work item of this tenant") from None
        return {
            "items": [render(item) for item in found],
            "next": str(found[-1].id) if len(found) == limit else None,
        }

    async def claim(self, tenant: str, id: str, by: str) -> dict[str, Any]:
        """Take an open item (claiming one's own claimed item again is a no-op)."""
        return render(await self._move(tenant, id, WorkState.CLAIMED, by))

    async def complete(self, tenant: str, id: str, by: str, vendor_id: str | None = None) -> dict[str, Any]:
        """The person did it at the vendor. A create needs `vendor_id`, the account's id there."""
        vendor_id = (vendor_id or "").strip() or None
        if vendor_id is not None and len(vendor_id) > 512:
            raise InvalidValueException(detail="vendorId is longer than 512 characters")
        return render(await self._move(tenant, id, WorkState.DONE, by, vendor_id=vendor_id))

    async def reject(self, tenant: str, id: str, by: str, reason: str) -> dict[str, Any]:
        """The person could not or would not do it; `reason` says why (kept sealed, shown to operators)."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidValueException(detail="a rejection needs a reason")
        return render(await self._move(tenant, id, WorkState.REJECTED, by, reason=reason[:MAX_REASON]))

    @contextlib.contextmanager
    def _available(self) -> Iterator[None]:
        """The directory's gate (schema prepared), and its database errors as 503 with Retry-After."""
        try:
            self.directory.availability.gate()
            yield
        except DirectoryUnavailable:
            raise DirectoryDown() from None

    async def _move(
        self,
        tenant: str,
        id: str,
        to: WorkState,
        by: str,
        *,
        vendor_id: str | None = None,
        reason: str | None = None,
    ) -> WorkItem:
        with self._available():
            return await self._moved(tenant, id, to, by[:64], vendor_id, reason)  # names as the column keeps them

    async def _moved(
        self, tenant: str, id: str, to: WorkState, by: str, vendor_id: str | None, reason: str | None
    ) -> WorkItem:
        item_id = _id(id)
        before = await self.items.get(tenant, item_id) if item_id is not None else None
        if before is None or item_id is None:
            raise NotFoundException(detail="no work item with that id in this tenant")
        if to is WorkState.DONE and before.action is Action.CREATE and vendor_id is None and before.is_open:
            raise InvalidValueException(detail="completing a create needs the account's vendorId at the vendor")
        try:
            async with self.items.writing() as connection:
                item = await self.items.transition(
                    connection, tenant, item_id, to, by, vendor_id=vendor_id, reason=reason
                )
                if to is WorkState.DONE and item.action is Action.DELETE:
                    await self.items.redact(connection, item.tenant, item.app, item.resource_id)
                if to is not WorkState.CLAIMED and item.action is not Action.DELETE:
                    resources = self.directory.resources(item.tenant, item.app)
                    linked = vendor_id if item.action is Action.CREATE and to is WorkState.DONE else None
                    # Deleted since by the IdP (NotFound): its delete item carries on.
                    with contextlib.suppress(NotFound):
                        await resources.mark(Kind.USER, item.resource_id, vendor_id=linked, connection=connection)
        except WrongState as exc:
            raise WorkConflict(detail=str(exc)) from None
        except Conflict:
            raise WorkConflict(detail="that vendorId is already recorded for another account of this app") from None
        if item.state is not before.state or item.claimed_by != before.claimed_by:
            operation = {WorkState.CLAIMED: "claimed", WorkState.DONE: "completed"}.get(to, "rejected")
            self.events.transition(item, by, operation, before=before.state.value)
        return item


def render(item: WorkItem) -> dict[str, Any]:
    """An item as the admin API and the CLI show it (to operators: the task's userName and roles included)."""
    body: dict[str, Any] = {
        "id": str(item.id),
        "tenant": item.tenant,
        "app": item.app,
        "resourceId": str(item.resource_id),
        "action": item.action.value,
        "state": item.state.value,
        "userName": item.task.user_name,
        "roles": list(item.task.roles),
        "changed": list(item.task.changed),
        "created": item.created.isoformat(),
        "claimed": item.claimed.isoformat() if item.claimed else None,
        "claimedBy": item.claimed_by,
        "closed": item.closed.isoformat() if item.closed else None,
        "closedBy": item.closed_by,
        "vendorId": item.vendor_id or item.task.vendor_id,
        "reason": item.reason,
    }
    if item.notify is not None:
        body["notification"] = {"state": item.notify, "attempts": item.notify_attempts}
    return body


def _id(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise NotFoundException(detail="no work item with that id in this tenant") from None
