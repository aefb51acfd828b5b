"""The deprovisioning guard's repository: one app's sliding window of deprovisions and its held batch.

Every decision is one write transaction that first locks the app's guard row
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's BEGIN IMMEDIATE already takes
the one write lock), so replicas sharing the database decide one after the
other and the count is exact. The held batch lives in the database: it is the
same for every replica and survives restarts.

    admit(...)   -> "pass" (counted), "held" (503), "approved" (an approved retry), "refused" (rejected)
    consume(...) an approved retry went through: its entry is done
    approve / reject the current batch; reset forgets rejected entries and the window

Identifiers only: an entry names the resource by its SCIM id, the kind and the
operation (deactivate or delete), which is what an IdP's retry repeats.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.clock import Clock
from gateway.directory.engine import transaction
from gateway.directory.schema import deprovision_events as events
from gateway.directory.schema import deprovision_guards as guards
from gateway.directory.schema import deprovision_holds as holds

#: Entries listed by `view` (the status page and the admin API); the counts are always complete.
LISTED = 500


class Deprovision(StrEnum):
    DEACTIVATE = "deactivate"
    DELETE = "delete"


class Verdict(StrEnum):
    PASS = "pass"  # under the threshold: counted, goes to the vendor
    HELD = "held"  # past it, or a batch is held: not sent
    APPROVED = "approved"  # an operator approved this entry: goes to the vendor, not counted
    REFUSED = "refused"  # an operator rejected this entry: refused until reset


class NothingHeld(Exception):
    """approve/reject while no batch is held, or naming a batch that is no longer the held one."""


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    batch: UUID | None = None
    #: This call tripped the guard (the first of its batch).
    tripped: bool = False


@dataclass(frozen=True)
class Hold:
    kind: str
    resource_id: str
    operation: Deprovision
    batch: UUID
    status: str
    held: datetime
    decided: datetime | None


@dataclass(frozen=True)
class GuardView:
    """The guard of one app as an operator sees it."""

    batch: UUID | None
    tripped: datetime | None
    recent: int  # deprovisions counted in the current window
    counts: dict[str, int]  # entries by status: held, approved, rejected
    entries: list[Hold]


class Deprovisions:
    """The deprovisioning guard's state for one tenant's app."""

    def __init__(self, engine: AsyncEngine, tenant: str, app: str, clock: Clock) -> None:
        self._engine = engine
        self.tenant = tenant
        self.app = app
        self._clock = clock
        self._row_exists = False

    def __repr__(self) -> str:
        return f"Deprovisions({self.tenant}/{self.app})"

    async def admit(
        self, kind: str, resource_id: str, operation: Deprovision, *, limit: int, window: float
    ) -> Decision:
        """Decide one deactivation or delete; counted when it passes. Raises DirectoryUnavailable."""
        await self._ensure_row()
        now = self.now()
        async with transaction(self._engine, write=True) as connection:
            batch = await self._locked_batch(connection)
            entry = (
                await connection.execute(
                    select(holds.c.status, holds.c.batch).where(*self._entry(kind, resource_id, operation))
                )
            ).first()
            if entry is not None and entry.status == "approved":
                return Decision(Verdict.APPROVED, entry.batch)
            if entry is not None and entry.status == "rejected":
                return Decision(Verdict.REFUSED, entry.batch)
            if entry is not None:
                return Decision(Verdict.HELD, entry.batch)
            if batch is not None:
                await self._hold(connection, kind, resource_id, operation, batch, now)
                return Decision(Verdict.HELD, batch)
            cutoff = now - timedelta(seconds=window)
            await connection.execute(delete(events).where(*self._app(events), events.c.at < cutoff))
            counted = (await connection.execute(select(func.count()).where(*self._app(events)))).scalar_one()
            if counted >= limit:
                batch = uuid.uuid4()
                await connection.execute(update(guards).where(*self._app(guards)).values(batch=batch, tripped=now))
                await self._hold(connection, kind, resource_id, operation, batch, now)
                return Decision(Verdict.HELD, batch, tripped=True)
            values = {"tenant": self.tenant, "app": self.app, "id": uuid.uuid4(), "at": now}
            await connection.execute(insert(events).values(values))
            return Decision(Verdict.PASS)

    async def consume(self, kind: str, resource_id: str, operation: Deprovision) -> None:
        """An approved entry's retry reached the vendor: the approval is used up."""
        where = (*self._entry(kind, resource_id, operation), holds.c.status == "approved")
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(delete(holds).where(*where))

    async def approve(self, batch: UUID | None = None) -> tuple[UUID, int]:
        """Approve the held batch (or check it is `batch`): its retries go through. Raises NothingHeld."""
        return await self._decide("approved", batch)

    async def reject(self, batch: UUID | None = None) -> tuple[UUID, int]:
        """Reject the held batch: its retries are refused until `reset`. Raises NothingHeld."""
        return await self._decide("rejected", batch)

    async def reset(self) -> int:
        """Forget rejected entries and the window's count; returns how many entries were forgotten.

        A held batch stays held (it needs a decision); approved entries stay until their retries come.
        """
        await self._ensure_row()
        async with transaction(self._engine, write=True) as connection:
            await self._locked_batch(connection)
            await connection.execute(delete(events).where(*self._app(events)))
            result = await connection.execute(delete(holds).where(*self._app(holds), holds.c.status == "rejected"))
            return int(result.rowcount)

    async def view(self, window: float) -> GuardView:
        """The held batch, the counts by status and the entries (at most LISTED, oldest first)."""
        cutoff = self.now() - timedelta(seconds=window)
        async with transaction(self._engine, write=False) as connection:
            state = (
                await connection.execute(select(guards.c.batch, guards.c.tripped).where(*self._app(guards)))
            ).first()
            recent = (
                await connection.execute(select(func.count()).where(*self._app(events), events.c.at >= cutoff))
            ).scalar_one()
            counted = await connection.execute(
                select(holds.c.status, func.count()).where(*self._app(holds)).group_by(holds.c.status)
            )
            counts = {"held": 0, "approved": 0, "rejected": 0} | {row[0]: int(row[1]) for row in counted}
            rows = await connection.execute(
                select(holds).where(*self._app(holds)).order_by(holds.c.held, holds.c.resource_id).limit(LISTED)
            )
            entries = [_hold(row._mapping) for row in rows]
        batch, tripped = (state.batch, state.tripped) if state is not None else (None, None)
        return GuardView(batch, tripped, int(recent), counts, entries)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.wall(), UTC)

    async def _decide(self, status: str, expected: UUID | None) -> tuple[UUID, int]:
        await self._ensure_row()
        now = self.now()
        async with transaction(self._engine, write=True) as connection:
            batch = await self._locked_batch(connection)
            if batch is None:
                raise NothingHeld("no batch is held for this app")
            if expected is not None and expected != batch:
                raise NothingHeld("that batch is no longer the one held for this app")
            where = (*self._app(holds), holds.c.batch == batch, holds.c.status == "held")
            result = await connection.execute(update(holds).where(*where).values(status=status, decided=now))
            await connection.execute(update(guards).where(*self._app(guards)).values(batch=None, tripped=None))
            # The operator has seen the burst: counting starts again from nothing.
            await connection.execute(delete(events).where(*self._app(events)))
            return batch, int(result.rowcount)

    async def _ensure_row(self) -> None:
        """The app's guard row, which every decision locks; made once (a replica racing to make it is fine)."""
        if self._row_exists:
            return
        async with transaction(self._engine, write=False) as connection:
            found = (await connection.execute(select(guards.c.app).where(*self._app(guards)))).first()
        if found is None:
            try:
                async with transaction(self._engine, write=True) as connection:
                    await connection.execute(insert(guards).values(tenant=self.tenant, app=self.app, batch=None))
            except IntegrityError:
                pass  # another process made it first
        self._row_exists = True

    async def _locked_batch(self, connection: AsyncConnection) -> UUID | None:
        statement = select(guards.c.batch).where(*self._app(guards)).with_for_update()
        row = (await connection.execute(statement)).first()
        return None if row is None else row.batch

    async def _hold(
        self,
        connection: AsyncConnection,
        kind: str,
        resource_id: str,
        operation: Deprovision,
        batch: UUID,
        now: datetime,
    ) -> None:
        values = {
            "tenant": self.tenant, "app": self.app, "kind": kind, "resource_id": resource_id,
            "operation": operation.value, "batch": batch, "status": "held", "held": now,
        }  # fmt: skip
        await connection.execute(insert(holds).values(values))

    def _app(self, table: Any) -> tuple[Any, ...]:
        return (table.c.tenant == self.tenant, table.c.app == self.app)

    def _entry(self, kind: str, resource_id: str, operation: Deprovision) -> tuple[Any, ...]:
        return (
            *self._app(holds),
            holds.c.kind == kind,
            holds.c.resource_id == resource_id,
            holds.c.operation == operation.value,
        )


def _hold(row: Any) -> Hold:
    return Hold(
        row["kind"],
        row["resource_id"],
        Deprovision(row["operation"]),
        row["batch"],
        row["status"],
        row["held"],
        row["decided"],
    )
