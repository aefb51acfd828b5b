"""Dry-run apps' recorded vendor calls: each write as it would have been sent, sealed at rest.

A recorded call names people (a create's body is the person), so everything
but the method, the SCIM operation and the time is sealed with the directory's
keys (AES-256-GCM, bound to its row), as the resources table's personal columns are.
Credentials never reach this module: gateway/dryrun/recording.py removes them first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.clock import Clock
from gateway.directory.crypto import KeyRing
from gateway.directory.engine import transaction
from gateway.directory.schema import dry_run_calls as table

_c = table.c


@dataclass(frozen=True)
class RecordedCall:
    """One vendor write a dry-run app did not send: `path` relative to the vendor's base URL."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass(frozen=True)
class DryRunRecord:
    id: UUID
    at: datetime
    request_id: str | None
    operation: str
    kind: str
    call: RecordedCall


class DryRuns:
    """The recorded calls of one tenant's dry-run app."""

    def __init__(self, engine: AsyncEngine, keys: KeyRing, tenant: str, app: str, clock: Clock) -> None:
        self._engine = engine
        self._keys = keys
        self.tenant = tenant
        self.app = app
        self._clock = clock

    def __repr__(self) -> str:
        return f"DryRuns({self.tenant}/{self.app})"

    async def record(self, operation: str, kind: str, calls: list[RecordedCall], request_id: str | None) -> None:
        """Store the calls one SCIM write would have made, in order, in one transaction."""
        if not calls:
            return
        now = datetime.fromtimestamp(self._clock.wall(), UTC)
        rows = []
        for call in calls:
            id = uuid.uuid4()
            plain = orjson.dumps({"path": call.path, "query": call.query, "body": call.body})
            rows.append({
                "tenant": self.tenant, "app": self.app, "id": id, "at": now, "request_id": request_id,
                "operation": operation, "kind": kind, "method": call.method,
                "call": self._keys.encrypt(plain, self._context(id)), "key_id": self._keys.primary_id,
            })  # fmt: skip
            now = now.replace(microsecond=min(now.microsecond + 1, 999_999))  # keeps the calls' order listable
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(insert(table), rows)

    async def list(self, limit: int = 100, offset: int = 0) -> list[DryRunRecord]:
        """Recorded calls, oldest first. Raises DirectoryUnavailable, UndecryptableError."""
        statement = (
            select(table)
            .where(_c.tenant == self.tenant, _c.app == self.app)
            .order_by(_c.at, _c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, write=False) as connection:
            rows = [row._mapping for row in await connection.execute(statement)]
        return [self._record(row) for row in rows]

    async def clear(self) -> int:
        """Delete every recorded call of the app (after review, or before switching dry_run off)."""
        async with transaction(self._engine, write=True) as connection:
            result = await connection.execute(delete(table).where(_c.tenant == self.tenant, _c.app == self.app))
            return int(result.rowcount)

    def _record(self, row: Any) -> DryRunRecord:
        call = orjson.loads(self._keys.decrypt(bytes(row["call"]), self._context(row["id"])))
        recorded = RecordedCall(row["method"], call["path"], call["query"], call["body"])
        return DryRunRecord(row["id"], row["at"], row["request_id"], row["operation"], row["kind"], recorded)

    def _context(self, id: UUID) -> bytes:
        return f"{self.tenant}\0{self.app}\0dry_run\0{id}\0call".encode()
