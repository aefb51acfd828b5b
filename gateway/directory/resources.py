"""The resource aggregate's repository: one app's resources, their versions and write intents.

Each method is one transaction. Writes are conditional on what the caller
last read (`expected_version`, an intent's id), so concurrent writers from
any number of processes never lose an update: exactly one wins, the others
get a ConcurrencyError. A write to the vendor is bracketed by an intent:

    entry = await record_intent(...)   # row says: this write is about to happen
    ...call the vendor...
    await confirm(..., entry.pending)  # the desired state becomes current, version + 1
    # or, when the vendor refused: await abandon(..., entry.pending)

so after a crash `pending_intents` names every write whose outcome at the
vendor is unknown; recovery reads the vendor and confirms or abandons it.
Deleting deletes the row, and with it every held value.

A write that must commit together with another aggregate's (a manual app's
desired state and its work item, gateway/directory/work.py) opens the
transaction itself and passes it on, explicitly:

    async with resources.writing() as connection:
        entry = await resources.insert(..., connection=connection)
        await work.add(connection, ...)        # both commit, or neither
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Select, Update, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.clock import Clock
from gateway.directory import statements
from gateway.directory.codec import Key, RowCodec
from gateway.directory.engine import transaction
from gateway.directory.errors import (
    Conflict,
    DirectoryError,
    IntentGone,
    NotFound,
    StaleVersion,
    WriteInProgress,
)
from gateway.directory.observed import Gate, Observe, operation
from gateway.directory.records import Entry, Intent, IntentOp, Origin, State
from gateway.directory.schema import resources as table

USER = "User"
_c = table.c


@dataclass(frozen=True)
class Link:
    """A resource's identity and life cycle without its personal data: `visible` as Entry.visible,
    `pending` the op of a pending intent."""

    id: UUID
    vendor_id: str | None
    visible: bool
    created: datetime
    pending: IntentOp | None


class Resources:
    """The directory's resources of one tenant's app."""

    def __init__(
        self,
        engine: AsyncEngine,
        codec: RowCodec,
        tenant: str,
        app: str,
        clock: Clock,
        *,
        observe: Observe | None = None,
        gate: Gate | None = None,
    ) -> None:
        self._engine = engine
        self._codec = codec
        self.tenant = tenant
        self.app = app
        self._clock = clock
        self.observe = observe
        self.gate = gate

    def __repr__(self) -> str:
        return f"Resources({self.tenant}/{self.app})"

    # Reads: one indexed lookup each; every row returned is decrypted (UndecryptableError otherwise).

    @operation
    async def get(self, kind: str, id: UUID) -> Entry | None:
        """The resource with this SCIM id, pending creates included (see Entry.visible); None if absent."""
        return _first(await self._read(statements.BY_ID, kind, id))

    @operation
    async def by_vendor_id(self, kind: str, vendor_id: str) -> Entry | None:
        """The resource linked to this vendor id, or None."""
        return _first(await self._read(statements.BY_VENDOR_ID, kind, vendor_id))

    @operation
    async def by_vendor_ids(self, kind: str, vendor_ids: Iterable[str]) -> dict[str, Entry]:
        """The resources linked to any of these vendor ids (one query, for merging a vendor's page)."""
        wanted = list(dict.fromkeys(vendor_ids))
        if not wanted:
            return {}
        entries = await self._read(statements.BY_VENDOR_IDS, kind, wanted)
        return {entry.vendor_id: entry for entry in entries if entry.vendor_id is not None}

    @operation
    async def by_user_name(self, user_name: str, kind: str = USER) -> Entry | None:
        """The resource whose userName equals this one case-insensitively (RFC 7643 section 4.1.1), or None."""
        digest = self._codec.user_name_index(self.tenant, self.app, str(kind), user_name)
        return _first(await self._read(statements.BY_USER_NAME, kind, digest))

    @operation
    async def by_external_id(self, kind: str, external_id: str) -> list[Entry]:
        """The resources whose externalId is exactly this one (caseExact, RFC 7643 section 3.1)."""
        digest = self._codec.external_id_index(self.tenant, self.app, str(kind), external_id)
        return await self._read(statements.BY_EXTERNAL_ID, kind, digest)

    @operation
    async def links(self, kind: str, after: UUID | None = None, limit: int = 100) -> list[Link]:
        """Up to `limit` resources of `kind` with an id above `after`, by id, without their personal data
        (nothing decrypted): keyset pages of the whole app, each one indexed query, whatever its size."""
        where = [*self._where(kind)] + ([] if after is None else [_c.id > after])
        columns = (_c.id, _c.vendor_id, _c.version, _c.created, _c.pending_op)
        query = select(*columns).where(*where).order_by(_c.id).limit(limit)
        async with transaction(self._engine, write=False) as connection:
            return [
                Link(row.id, row.vendor_id, row.version > 0, row.created, row.pending_op and IntentOp(row.pending_op))
                for row in await connection.execute(query)
            ]

    # Direct writes: changes that need no vendor call (held attributes only, or learnt from the vendor).

    @operation
    async def insert(
        self,
        kind: str,
        state: State,
        *,
        vendor_id: str | None,
        origin: Origin,
        id: UUID | None = None,
        connection: AsyncConnection | None = None,
    ) -> Entry:
        """Record an existing resource at version 1; raises Conflict (id, userName or vendorId taken).

        `connection`: a transaction from `writing()` to join (a Conflict then leaves it to be rolled back).
        """
        return await self._insert(kind, id or uuid.uuid4(), state, vendor_id, origin, None, connection)

    @operation
    async def update(
        self,
        kind: str,
        id: UUID,
        state: State,
        *,
        expected_version: int,
        vendor_id: str | None = None,
        connection: AsyncConnection | None = None,
    ) -> Entry:
        """Replace the state (and the vendor id, if given) of the resource at `expected_version`; version + 1.

        Every value is sealed again with the primary key. Raises NotFound,
        StaleVersion, WriteInProgress (an intent is pending), Conflict.
        """
        values: dict[str, Any] = self._codec.state_columns(self._key(kind, id), state)
        if vendor_id is not None:
            values["vendor_id"] = vendor_id
        values["updated"] = self.now()
        return await self._change(
            statements.UPDATE_STATE, kind, id, values, expected_version=expected_version, connection=connection
        )

    @operation
    async def mark(
        self, kind: str, id: UUID, *, vendor_id: str | None = None, connection: AsyncConnection | None = None
    ) -> Entry:
        """Version + 1 without changing the state (what the IdP reads changed outside it: a manual app's
        fulfilment), linking `vendor_id` if given. Unconditional; raises NotFound, Conflict (vendorId taken)."""
        values: dict[str, Any] = {} if vendor_id is None else {"vendor_id": vendor_id}
        values["updated"] = self.now()
        return await self._change(statements.MARK, kind, id, values, connection=connection)

    @operation
    async def delete(
        self,
        kind: str,
        id: UUID,
        *,
        expected_version: int | None = None,
        connection: AsyncConnection | None = None,
    ) -> None:
        """Delete the row and every value held for it; raises NotFound, StaleVersion, WriteInProgress."""
        condition: list[ColumnElement[bool]] = [_c.pending_id.is_(None)]
        if expected_version is not None:
            condition.append(_c.version == expected_version)
        async with self._joined(connection) as joined:
            result = await joined.execute(delete(table).where(*self._key_where(kind, id), *condition))
            if result.rowcount == 0:
                raise await self._refusal(joined, kind, id, expected_version)

    def writing(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction for several writes that commit together (pass it as `connection=`);
        committed when the block exits normally, rolled back otherwise. Raises DirectoryUnavailable (also
        while the directory's gate is shut)."""
        if self.gate is not None:
            self.gate()
        return transaction(self._engine, write=True)

    @operation
    async def entries(self, kind: str, after: UUID | None = None, limit: int = 100) -> list[Entry]:
        """Up to `limit` of this app's resources of `kind` with an id above `after`, ordered by id
        (keyset paging: pass the last id of a page to get the next; pending creates included)."""
        where = [*self._where(kind)]
        if after is not None:
            where.append(_c.id > after)
        async with transaction(self._engine, write=False) as connection:
            rows = await connection.execute(select(table).where(*where).order_by(_c.id).limit(limit))
            return [self._codec.entry(row._mapping) for row in rows]

    # Vendor writes: record_intent -> call the vendor -> confirm or abandon.

    @operation
    async def record_intent(
        self,
        kind: str,
        op: IntentOp,
        desired: State,
        *,
        id: UUID | None = None,
        expected_version: int | None = None,
    ) -> Entry:
        """Announce a vendor write; the returned entry's `pending` is the intent to confirm or abandon.

        CREATE inserts a row at version 0 (a new id unless `id` is given) that
        already reserves the userName and vendorId: raises Conflict. UPDATE and
        DELETE need `id` and `expected_version` and leave the current state
        and version unchanged: raises NotFound, StaleVersion, WriteInProgress.
        """
        intent = Intent(uuid.uuid4(), op, desired, self.now())
        if op is IntentOp.CREATE:
            return await self._insert(kind, id or uuid.uuid4(), desired, None, Origin.GATEWAY, intent)
        if id is None or expected_version is None:
            raise ValueError(f"a {op} intent needs the resource's id and expected version")
        values = self._codec.intent_columns(self._key(kind, id), intent)
        return await self._change(statements.RECORD_INTENT, kind, id, values, expected_version=expected_version)

    @operation
    async def confirm(
        self, kind: str, id: UUID, intent: Intent, *, vendor_id: str | None = None, state: State | None = None
    ) -> Entry | None:
        """The vendor applied the intent: its desired state (or `state`, if the vendor adjusted it) becomes current.

        Version + 1; `vendor_id` links a created resource. A DELETE intent
        deletes the row and returns None. Raises IntentGone if the intent is no
        longer the row's pending one; Conflict if `vendor_id` is taken.
        """
        where = (*self._key_where(kind, id), _c.pending_id == intent.id)
        if intent.op is IntentOp.DELETE:
            async with transaction(self._engine, write=True) as connection:
                if (await connection.execute(delete(table).where(*where))).rowcount == 0:
                    raise IntentGone()
            return None
        values = self._codec.state_columns(self._key(kind, id), state or intent.desired)
        values.update(self._codec.intent_columns(self._key(kind, id), None))
        if vendor_id is not None:
            values["vendor_id"] = vendor_id
        values["updated"] = self.now()
        return await self._change(statements.CONFIRM_INTENT, kind, id, values, pending=intent.id)

    @operation
    async def abandon(self, kind: str, id: UUID, intent: Intent) -> None:
        """The vendor did not apply the intent: clear it (a pending create's row is deleted). Raises IntentGone."""
        where = (*self._key_where(kind, id), _c.pending_id == intent.id)
        statement: Any = (
            delete(table).where(*where)
            if intent.op is IntentOp.CREATE
            else update(table).where(*where).values(self._codec.intent_columns(self._key(kind, id), None))
        )
        async with transaction(self._engine, write=True) as connection:
            if (await connection.execute(statement)).rowcount == 0:
                raise IntentGone()

    @operation
    async def pending_intents(self, older_than: timedelta) -> list[Entry]:
        """This app's resources with an intent recorded more than `older_than` ago, oldest first (for recovery)."""
        cutoff = self.now() - older_than
        where = (_c.tenant == self.tenant, _c.app == self.app, _c.pending_since < cutoff)
        async with transaction(self._engine, write=False) as connection:
            rows = await connection.execute(select(table).where(*where).order_by(_c.pending_since))
            return [self._codec.entry(row._mapping) for row in rows]

    # Internals.

    def now(self) -> datetime:
        """The directory clock's wall time (aware UTC): what intents and rows are stamped with."""
        return datetime.fromtimestamp(self._clock.wall(), UTC)

    def _key(self, kind: str, id: UUID) -> Key:
        return (self.tenant, self.app, str(kind), id)

    def _where(self, kind: str) -> tuple[ColumnElement[bool], ...]:
        return (_c.tenant == self.tenant, _c.app == self.app, _c.kind == str(kind))

    def _key_where(self, kind: str, id: UUID) -> tuple[ColumnElement[bool], ...]:
        return (*self._where(kind), _c.id == id)

    async def _read(self, lookup: Select[Any], kind: str, value: Any) -> list[Entry]:
        parameters = {"tenant": self.tenant, "app": self.app, "kind": str(kind), "value": value}
        async with transaction(self._engine, write=False) as connection:
            rows = await connection.execute(lookup, parameters)
            return [self._codec.entry(row._mapping) for row in rows]

    @contextlib.asynccontextmanager
    async def _joined(self, connection: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        """The caller's transaction when given (it commits or rolls back), else one of our own."""
        if connection is not None:
            yield connection
            return
        async with transaction(self._engine, write=True) as own:
            yield own

    async def _insert(
        self,
        kind: str,
        id: UUID,
        state: State,
        vendor_id: str | None,
        origin: Origin,
        intent: Intent | None,
        connection: AsyncConnection | None = None,
    ) -> Entry:
        key = self._key(kind, id)
        now = self.now()
        values = {
            "tenant": self.tenant, "app": self.app, "kind": str(kind), "id": id, "vendor_id": vendor_id,
            "origin": origin.value, "version": 0 if intent else 1, "created": now, "updated": now,
            **self._codec.state_columns(key, state), **self._codec.intent_columns(key, intent),
        }  # fmt: skip
        try:
            async with self._joined(connection) as joined:
                row = (await joined.execute(statements.INSERT, values)).one()
                return self._codec.entry(row._mapping)
        except IntegrityError:
            raise await self._conflict(kind, id, values["user_name_index"], vendor_id, new=True) from None

    async def _change(
        self,
        statement: Update,
        kind: str,
        id: UUID,
        values: dict[str, Any],
        *,
        expected_version: int | None = None,
        pending: UUID | None = None,
        connection: AsyncConnection | None = None,
    ) -> Entry:
        """One of the UPDATE ... RETURNING statements above; when it matches nothing, the reason is raised.

        `expected_version` fills `where_version`; `pending`, an intent's id, fills `where_pending` (no
        match then means IntentGone); neither: the statement has no condition beyond the row's key.
        """
        parameters = {
            **values,
            "where_tenant": self.tenant,
            "where_app": self.app,
            "where_kind": str(kind),
            "where_id": id,
        }
        if pending is not None:
            parameters["where_pending"] = pending
        elif expected_version is not None:
            parameters["where_version"] = expected_version
        try:
            async with self._joined(connection) as joined:
                row = (await joined.execute(statement, parameters)).first()
                if row is None:
                    if pending is not None:
                        raise IntentGone()
                    raise await self._refusal(joined, kind, id, expected_version)
                return self._codec.entry(row._mapping)
        except IntegrityError:
            raise await self._conflict(kind, id, values.get("user_name_index"), values.get("vendor_id")) from None

    async def _refusal(
        self, connection: AsyncConnection, kind: str, id: UUID, expected_version: int | None
    ) -> DirectoryError:
        """Why a conditional write matched no row (read in the same transaction, after the write's lock)."""
        found: Row[Any] | None = (
            await connection.execute(select(_c.version, _c.pending_id).where(*self._key_where(kind, id)))
        ).first()
        if found is None:
            return NotFound(f"no {kind} with this id in {self.tenant}/{self.app}")
        if found.pending_id is not None:
            return WriteInProgress()
        return StaleVersion(expected_version if expected_version is not None else -1, found.version)

    async def _conflict(
        self, kind: str, id: UUID, user_name_index: bytes | None, vendor_id: str | None, *, new: bool = False
    ) -> Conflict:
        """Which unique value a failed write collided with (asked after its rollback)."""
        async with transaction(self._engine, write=False) as connection:
            if new and (await connection.execute(select(_c.id).where(*self._key_where(kind, id)))).first():
                return Conflict("id")
            checks = (("userName", _c.user_name_index, user_name_index), ("vendorId", _c.vendor_id, vendor_id))
            for attribute, column, value in checks:
                if value is None:
                    continue
                other = select(_c.id).where(*self._where(kind), column == value, _c.id != id)
                if (await connection.execute(other)).first() is not None:
                    return Conflict(attribute)
        return Conflict("id")


def _first(entries: list[Entry]) -> Entry | None:
    return entries[0] if entries else None
