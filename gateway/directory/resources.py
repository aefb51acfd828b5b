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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, Select, Update, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.clock import Clock
from gateway.directory.codec import Key, RowCodec
from gateway.directory.engine import transaction
from gateway.directory.errors import Conflict, DirectoryError, IntentGone, NotFound, StaleVersion, WriteInProgress
from gateway.directory.records import Entry, Intent, IntentOp, Origin, State
from gateway.directory.schema import resources as table

USER = "User"
_c = table.c


def _lookup(match: ColumnElement[bool]) -> Select[Any]:
    """A read by one indexed value, built once: per call only its parameters change."""
    scope = (_c.tenant == bindparam("tenant"), _c.app == bindparam("app"), _c.kind == bindparam("kind"))
    return select(table).where(*scope, match)


_BY_ID = _lookup(_c.id == bindparam("value"))
_BY_VENDOR_ID = _lookup(_c.vendor_id == bindparam("value"))
_BY_VENDOR_IDS = _lookup(_c.vendor_id.in_(bindparam("value", expanding=True)))
_BY_USER_NAME = _lookup(_c.user_name_index == bindparam("value"))
_BY_EXTERNAL_ID = _lookup(_c.external_id_index == bindparam("value"))


def _keyed_update(*condition: ColumnElement[bool]) -> Update:
    """An UPDATE of one row by its key, built once: the SET columns are the keys of each call's values."""
    key = (
        _c.tenant == bindparam("where_tenant"),
        _c.app == bindparam("where_app"),
        _c.kind == bindparam("where_kind"),
        _c.id == bindparam("where_id"),
    )
    return update(table).where(*key, *condition)


_AT_VERSION = (_c.version == bindparam("where_version"), _c.pending_id.is_(None))
_BUMPED = {"version": _c.version + 1}
_RECORD_INTENT = _keyed_update(*_AT_VERSION).returning(*table.c)
_UPDATE_STATE = _keyed_update(*_AT_VERSION).values(_BUMPED).returning(*table.c)
_CONFIRM_INTENT = _keyed_update(_c.pending_id == bindparam("where_pending")).values(_BUMPED).returning(*table.c)
_INSERT = insert(table).returning(*table.c)


class Resources:
    """The directory's resources of one tenant's app."""

    def __init__(self, engine: AsyncEngine, codec: RowCodec, tenant: str, app: str, clock: Clock) -> None:
        self._engine = engine
        self._codec = codec
        self.tenant = tenant
        self.app = app
        self._clock = clock

    def __repr__(self) -> str:
        return f"Resources({self.tenant}/{self.app})"

    # Reads: one indexed lookup each; every row returned is decrypted (UndecryptableError otherwise).

    async def get(self, kind: str, id: UUID) -> Entry | None:
        """The resource with this SCIM id, pending creates included (see Entry.visible); None if absent."""
        return _first(await self._read(_BY_ID, kind, id))

    async def by_vendor_id(self, kind: str, vendor_id: str) -> Entry | None:
        """The resource linked to this vendor id, or None."""
        return _first(await self._read(_BY_VENDOR_ID, kind, vendor_id))

    async def by_vendor_ids(self, kind: str, vendor_ids: Iterable[str]) -> dict[str, Entry]:
        """The resources linked to any of these vendor ids (one query, for merging a vendor's page)."""
        wanted = list(dict.fromkeys(vendor_ids))
        if not wanted:
            return {}
        entries = await self._read(_BY_VENDOR_IDS, kind, wanted)
        return {entry.vendor_id: entry for entry in entries if entry.vendor_id is not None}

    async def by_user_name(self, user_name: str, kind: str = USER) -> Entry | None:
        """The resource whose userName equals this one case-insensitively (RFC 7643 section 4.1.1), or None."""
        digest = self._codec.user_name_index(self.tenant, self.app, str(kind), user_name)
        return _first(await self._read(_BY_USER_NAME, kind, digest))

    async def by_external_id(self, kind: str, external_id: str) -> list[Entry]:
        """The resources whose externalId is exactly this one (caseExact, RFC 7643 section 3.1)."""
        digest = self._codec.external_id_index(self.tenant, self.app, str(kind), external_id)
        return await self._read(_BY_EXTERNAL_ID, kind, digest)

    # Direct writes: changes that need no vendor call (held attributes only, or learnt from the vendor).

    async def insert(
        self, kind: str, state: State, *, vendor_id: str | None, origin: Origin, id: UUID | None = None
    ) -> Entry:
        """Record an existing resource at version 1; raises Conflict (id, userName or vendorId taken)."""
        return await self._insert(kind, id or uuid.uuid4(), state, vendor_id, origin, None)

    async def update(
        self, kind: str, id: UUID, state: State, *, expected_version: int, vendor_id: str | None = None
    ) -> Entry:
        """Replace the state (and the vendor id, if given) of the resource at `expected_version`; version + 1.

        Every value is sealed again with the primary key. Raises NotFound,
        StaleVersion, WriteInProgress (an intent is pending), Conflict.
        """
        values: dict[str, Any] = self._codec.state_columns(self._key(kind, id), state)
        if vendor_id is not None:
            values["vendor_id"] = vendor_id
        values["updated"] = self.now()
        return await self._change(_UPDATE_STATE, kind, id, values, expected_version=expected_version)

    async def delete(self, kind: str, id: UUID, *, expected_version: int | None = None) -> None:
        """Delete the row and every value held for it; raises NotFound, StaleVersion, WriteInProgress."""
        condition: list[ColumnElement[bool]] = [_c.pending_id.is_(None)]
        if expected_version is not None:
            condition.append(_c.version == expected_version)
        async with transaction(self._engine, write=True) as connection:
            result = await connection.execute(delete(table).where(*self._key_where(kind, id), *condition))
            if result.rowcount == 0:
                raise await self._refusal(connection, kind, id, expected_version)

    # Vendor writes: record_intent -> call the vendor -> confirm or abandon.

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
        return await self._change(_RECORD_INTENT, kind, id, values, expected_version=expected_version)

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
        return await self._change(_CONFIRM_INTENT, kind, id, values, pending=intent.id)

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

    async def _insert(
        self, kind: str, id: UUID, state: State, vendor_id: str | None, origin: Origin, intent: Intent | None
    ) -> Entry:
        key = self._key(kind, id)
        now = self.now()
        values = {
            "tenant": self.tenant, "app": self.app, "kind": str(kind), "id": id, "vendor_id": vendor_id,
            "origin": origin.value, "version": 0 if intent else 1, "created": now, "updated": now,
            **self._codec.state_columns(key, state), **self._codec.intent_columns(key, intent),
        }  # fmt: skip
        try:
            async with transaction(self._engine, write=True) as connection:
                row = (await connection.execute(_INSERT, values)).one()
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
    ) -> Entry:
        """One of the conditional UPDATE ... RETURNING statements above; when it matches nothing, the reason
        is raised. `pending`: the condition is this intent's id, so no match means IntentGone."""
        parameters = {
            **values,
            "where_tenant": self.tenant,
            "where_app": self.app,
            "where_kind": str(kind),
            "where_id": id,
        }
        if pending is not None:
            parameters["where_pending"] = pending
        else:
            parameters["where_version"] = expected_version
        try:
            async with transaction(self._engine, write=True) as connection:
                row = (await connection.execute(statement, parameters)).first()
                if row is None:
                    if pending is not None:
                        raise IntentGone()
                    raise await self._refusal(connection, kind, id, expected_version)
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
