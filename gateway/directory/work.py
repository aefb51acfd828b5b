"""The work item aggregate's repository: what a person must do at the vendor for a manual app.

Each IdP write to a manual app (gateway/backed/manual/operations.py) adds one item *in the
transaction that records the desired state* (`add` takes the caller's
connection), so no accepted write is ever without its item. An item then
moves, each step conditional on its current state, so that of two operators
acting at once exactly one wins:

    open --claim--> claimed --complete--> done
      \\                  \\---reject----> rejected
       \\--complete / reject (without claiming first)

`task` (userName, roles, the changed attribute names) and `reason` are
personal data: sealed like a resource's columns (codec.py), bound to the
item's row. Items are kept after they close (they are the record of what was
done; listing filters by state), but once an account's deletion is done its
items' personal data is erased (`redact`): deletes delete.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import ColumnElement, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.clock import Clock
from gateway.directory.codec import Key, RowCodec
from gateway.directory.engine import transaction
from gateway.directory.errors import DirectoryError, NotFound
from gateway.directory.schema import UtcDateTime
from gateway.directory.schema import work_items as table

_c = table.c
_KIND = "Work"  # the `kind` part of the sealing context: items are bound to their own rows


class Action(StrEnum):
    """What the person does at the vendor."""

    CREATE = "create"
    UPDATE = "update"
    DEACTIVATE = "deactivate"
    DELETE = "delete"


class WorkState(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    REJECTED = "rejected"


OPEN_STATES = (WorkState.OPEN, WorkState.CLAIMED)


class WrongState(DirectoryError):
    """The item is not in a state that allows the transition (closed already, or claimed by someone else)."""

    def __init__(self, state: WorkState, wanted: str) -> None:
        super().__init__(f"the work item is {state.value}: it cannot be {wanted}")
        self.state = state


@dataclass(frozen=True)
class Task:
    """What to do, as the person needs it: the account's userName, its roles, the attributes that changed."""

    user_name: str
    roles: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    #: The account's vendor-side id when one is known (recorded by a completed create).
    vendor_id: str | None = None

    def __repr__(self) -> str:
        return f"Task(<userName>, {len(self.roles)} roles, changed={list(self.changed)})"


@dataclass(frozen=True)
class WorkItem:
    id: UUID
    tenant: str
    app: str
    resource_id: UUID
    action: Action
    state: WorkState
    task: Task
    created: datetime
    claimed: datetime | None = None
    closed: datetime | None = None
    claimed_by: str | None = None
    closed_by: str | None = None
    vendor_id: str | None = None
    reason: str | None = field(default=None, repr=False)
    notify: str | None = None
    notify_attempts: int = 0
    notify_after: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Backlog:
    """The open items of one app: how many, and when the oldest was created."""

    tenant: str
    app: str
    open: int
    oldest: datetime


class WorkItems:
    """The work items of every manual app (each call names its tenant; most also its app)."""

    def __init__(self, engine: AsyncEngine, codec: RowCodec, clock: Clock) -> None:
        self._engine = engine
        self._codec = codec
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.wall(), UTC)

    def writing(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction for writes that commit together (see gateway/directory/resources.py)."""
        return transaction(self._engine, write=True)

    async def add(
        self,
        connection: AsyncConnection,
        tenant: str,
        app: str,
        resource_id: UUID,
        action: Action,
        task: Task,
        *,
        notify: bool = False,
    ) -> WorkItem:
        """A new open item, written in the caller's transaction (it commits with the desired state or not at
        all). `notify`: the app has a webhook, so the item's notification is pending from now."""
        id, now = uuid.uuid4(), self.now()
        values = {
            "id": id, "tenant": tenant, "app": app, "resource_id": resource_id, "action": action.value,
            "state": WorkState.OPEN.value, "task": self._seal(id, "task", _task_json(task)), "reason": None,
            "key_id": self._codec.keys.primary_id, "created": now, "notify": "pending" if notify else None,
            "notify_attempts": 0, "notify_after": now if notify else None,
        }  # fmt: skip
        row = (await connection.execute(insert(table).values(values).returning(*table.c))).one()
        return self._item(row._mapping)

    async def get(self, tenant: str, id: UUID) -> WorkItem | None:
        rows = await self._select(_c.tenant == tenant, _c.id == id)
        return rows[0] if rows else None

    async def page(
        self,
        tenant: str,
        *,
        app: str | None = None,
        states: Iterable[WorkState] = OPEN_STATES,
        after: UUID | None = None,
        limit: int = 100,
    ) -> list[WorkItem]:
        """Items of `tenant` (and `app`) in `states`, oldest first; `after`: the last id of the previous page."""
        where: list[ColumnElement[bool]] = [_c.tenant == tenant, _c.state.in_([state.value for state in states])]
        if app is not None:
            where.append(_c.app == app)
        if after is not None:
            last = await self.get(tenant, after)
            if last is None:
                raise NotFound("no work item with that id in this tenant")
            where.append(tuple_(_c.created, _c.id) > tuple_(literal(last.created, UtcDateTime()), literal(last.id)))
        return await self._select(*where, order=True, limit=limit)

    async def latest(self, tenant: str, app: str, resource_ids: Iterable[UUID]) -> dict[UUID, WorkItem]:
        """The newest item of each of these resources (one query; what a read shows as its fulfilment)."""
        wanted = list(dict.fromkeys(resource_ids))
        if not wanted:
            return {}
        items = await self._select(_c.tenant == tenant, _c.app == app, _c.resource_id.in_(wanted), order=True)
        return {item.resource_id: item for item in items}  # oldest first: the newest of each wins

    async def transition(
        self,
        connection: AsyncConnection,
        tenant: str,
        id: UUID,
        to: WorkState,
        by: str,
        *,
        vendor_id: str | None = None,
        reason: str | None = None,
    ) -> WorkItem:
        """Move an item to `to` in the caller's transaction: claimed (from open, or claimed by `by`: idempotent),
        done or rejected (from open or claimed). Raises NotFound, WrongState."""
        now = self.now()
        if to is WorkState.CLAIMED:
            allowed: ColumnElement[bool] = (_c.state == WorkState.OPEN.value) | (
                (_c.state == WorkState.CLAIMED.value) & (_c.claimed_by == by)
            )
            values: dict[str, Any] = {"state": to.value, "claimed": now, "claimed_by": by}
        else:
            allowed = _c.state.in_([state.value for state in OPEN_STATES])
            values = {"state": to.value, "closed": now, "closed_by": by, "vendor_id": vendor_id}
            if reason is not None:
                values["reason"] = self._seal(id, "reason", reason.encode())
        statement = update(table).where(_c.tenant == tenant, _c.id == id, allowed).values(values)
        row = (await connection.execute(statement.returning(*table.c))).first()
        if row is not None:
            return self._item(row._mapping)
        found = (await connection.execute(select(table).where(_c.tenant == tenant, _c.id == id))).first()
        if found is None:
            raise NotFound("no work item with that id in this tenant")
        current = WorkState(found.state)
        raise WrongState(current, "claimed by someone else" if current is WorkState.CLAIMED else _verb(to))

    async def redact(self, connection: AsyncConnection, tenant: str, app: str, resource_id: UUID) -> int:
        """Erase the personal data (userName, roles, reasons) of every item of a resource, in the caller's
        transaction: once its deletion is done, the items keep only what was done and when. Returns how many."""
        where = (_c.tenant == tenant, _c.app == app, _c.resource_id == resource_id)
        rows = (await connection.execute(select(_c.id, _c.task).where(*where))).all()
        for row in rows:
            task = orjson.loads(self._codec.open(self._key(row.id), "task", row.task))
            kept = Task("", (), tuple(task["changed"]), task.get("vendorId"))
            values = {"task": self._seal(row.id, "task", _task_json(kept)), "reason": None}
            await connection.execute(update(table).where(_c.id == row.id).values(values))
        return len(rows)

    async def backlog(self) -> list[Backlog]:
        """Per app with open items: how many and the oldest's creation time (for metrics and /status)."""
        statement = (
            select(_c.tenant, _c.app, func.count(), func.min(_c.created))
            .where(_c.state.in_([state.value for state in OPEN_STATES]))
            .group_by(_c.tenant, _c.app)
        )
        async with transaction(self._engine, write=False) as connection:
            rows = (await connection.execute(statement)).all()
        return [Backlog(row[0], row[1], int(row[2]), _aware(row[3])) for row in rows]

    # Webhook notifications (gateway/backed/manual/webhook.py): due ones, leased before sending.

    async def due_notifications(self, limit: int = 50) -> list[WorkItem]:
        """Items whose notification is pending and due now, oldest first."""
        return await self._select(_c.notify == "pending", _c.notify_after <= self.now(), order=True, limit=limit)

    async def lease_notification(self, item: WorkItem, until: datetime) -> bool:
        """Take `item`'s delivery until `until` (other processes skip it meanwhile); False if another took it."""
        where = (_c.id == item.id, _c.notify == "pending", _c.notify_after == item.notify_after)
        async with transaction(self._engine, write=True) as connection:
            result = await connection.execute(update(table).where(*where).values(notify_after=until))
            return bool(result.rowcount)

    async def notified(self, id: UUID, outcome: str, attempts: int, retry_at: datetime | None) -> None:
        """Record a delivery attempt: `sent`, `failed` (given up), or still `pending` until `retry_at`."""
        values = {"notify": outcome, "notify_attempts": attempts, "notify_after": retry_at}
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(update(table).where(_c.id == id).values(values))

    # Internals.

    async def _select(self, *where: ColumnElement[bool], order: bool = False, limit: int | None = None) -> list[Any]:
        statement = select(table).where(*where)
        if order:
            statement = statement.order_by(_c.created, _c.id)
        if limit is not None:
            statement = statement.limit(limit)
        async with transaction(self._engine, write=False) as connection:
            return [self._item(row._mapping) for row in await connection.execute(statement)]

    def _key(self, id: UUID) -> Key:
        return ("", "", _KIND, id)

    def _seal(self, id: UUID, column: str, plaintext: bytes) -> bytes:
        return self._codec.seal(self._key(id), column, plaintext)

    def _item(self, row: Any) -> WorkItem:
        id = row["id"]
        task = orjson.loads(self._codec.open(self._key(id), "task", row["task"]))
        reason = row["reason"]
        return WorkItem(
            id=id,
            tenant=row["tenant"],
            app=row["app"],
            resource_id=row["resource_id"],
            action=Action(row["action"]),
            state=WorkState(row["state"]),
            task=Task(task["userName"], tuple(task["roles"]), tuple(task["changed"]), task.get("vendorId")),
            created=row["created"],
            claimed=row["claimed"],
            closed=row["closed"],
            claimed_by=row["claimed_by"],
            closed_by=row["closed_by"],
            vendor_id=row["vendor_id"],
            reason=None if reason is None else self._codec.open(self._key(id), "reason", reason).decode(),
            notify=row["notify"],
            notify_attempts=row["notify_attempts"],
            notify_after=row["notify_after"],
        )


def _task_json(task: Task) -> bytes:
    data = {"userName": task.user_name, "roles": list(task.roles), "changed": list(task.changed)}
    if task.vendor_id is not None:
        data["vendorId"] = task.vendor_id
    return orjson.dumps(data)


def _verb(state: WorkState) -> str:
    return {WorkState.DONE: "completed", WorkState.REJECTED: "rejected"}.get(state, state.value)


def _aware(value: Any) -> datetime:
    """min() over a UtcDateTime column comes back without the type's processing on some drivers."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def age(oldest: datetime, now: datetime) -> timedelta:
    return max(now - oldest, timedelta(0))
