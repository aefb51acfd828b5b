"""The reconciliation aggregate's repository: one app's runs, their findings, and what each run saw.

A run is recorded when it starts (`running`) and closed once (`succeeded` or
`failed`, with its counts). A finding is one account in one state (orphan,
drift, missing, reactivated), keyed by its vendor id: `record` inserts it with
first_seen = last_seen = now, or moves last_seen (and the run that saw it) of
one found before. When a run succeeds, findings no earlier run re-found are
resolved and deleted; a failed run resolves nothing. `mark_seen`/`seen_among`
keep, in the database rather than in memory, which directory entries the
run met at the vendor (to find the missing ones); those rows go when the run
ends. The only personal value, a finding's userName, is sealed like the
resources' (bound to its row); drift keeps the attribute names, never values.
Only the holder of the app's lease writes here (gateway/reconcile/).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.clock import Clock
from gateway.directory.crypto import KeyRing
from gateway.directory.engine import transaction
from gateway.directory.schema import reconcile_findings as findings_table
from gateway.directory.schema import reconcile_runs as runs_table
from gateway.directory.schema import reconcile_seen as seen_table

_f, _r, _s = findings_table.c, runs_table.c, seen_table.c
#: Runs kept per app (older ones are deleted when a run ends): the history the admin API can show.
KEPT_RUNS = 20


class FindingState(StrEnum):
    """What reconciliation found about one account (gateway/reconcile/compare.py decides)."""

    ORPHAN = "orphan"  # at the vendor, never provisioned through the gateway
    DRIFT = "drift"  # a vendor-stored attribute differs from what the gateway last wrote
    MISSING = "missing"  # in the directory, not at the vendor
    REACTIVATED = "reactivated"  # deactivated through the gateway, active at the vendor


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Observation:
    """One finding as a run makes it (before it has first/last-seen times)."""

    kind: str
    vendor_id: str
    state: FindingState
    directory_id: UUID | None = None
    user_name: str | None = None
    attributes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Observation({self.kind} {self.state.value}, {len(self.attributes)} attributes)"


@dataclass(frozen=True, repr=False)  # Observation's repr: no userName
class Finding(Observation):
    first_seen: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_seen: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Run:
    id: UUID
    tenant: str
    app: str
    started: datetime
    finished: datetime | None
    status: RunStatus
    accounts: int
    counts: dict[FindingState, int]
    detail: str | None = None


class Reconciliations:
    """One tenant's app: its reconciliation runs and findings."""

    def __init__(self, engine: AsyncEngine, keys: KeyRing, tenant: str, app: str, clock: Clock) -> None:
        self._engine = engine
        self._keys = keys
        self.tenant = tenant
        self.app = app
        self._clock = clock

    def __repr__(self) -> str:
        return f"Reconciliations({self.tenant}/{self.app})"

    # Runs.

    async def start_run(self) -> Run:
        """Record a run starting now (status running)."""
        values = {
            "id": uuid.uuid4(), "tenant": self.tenant, "app": self.app, "started": self._now(), "finished": None,
            "status": RunStatus.RUNNING.value, "accounts": 0, "detail": None, **{s.value: 0 for s in FindingState},
        }  # fmt: skip
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(insert(runs_table).values(values))
        return _run(values)

    async def finish_run(self, run_id: UUID, status: RunStatus, accounts: int, detail: str | None = None) -> Run:
        """Close the run with the app's findings counted; a succeeded one first deletes the findings it did
        not find again (they are resolved). Returns the closed run."""
        counting = select(_f.state, func.count()).where(*self._app()).group_by(_f.state)
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(delete(seen_table).where(_s.run_id == run_id))
            if status is RunStatus.SUCCEEDED:
                await connection.execute(delete(findings_table).where(*self._app(), _f.run_id != run_id))
            counted = {state: int(n) for state, n in await connection.execute(counting)}
            values = {"finished": self._now(), "status": status.value, "accounts": accounts, "detail": detail}
            values.update({state.value: counted.get(state.value, 0) for state in FindingState})
            update_run = update(runs_table).where(_r.id == run_id).values(values).returning(*runs_table.c)
            closed = _run((await connection.execute(update_run)).one()._mapping)
            older = select(_r.id).where(_r.tenant == self.tenant, _r.app == self.app)
            older = older.order_by(_r.started.desc()).offset(KEPT_RUNS)
            stale = list((await connection.execute(older)).scalars())
            if stale:
                await connection.execute(delete(runs_table).where(_r.id.in_(stale)))
            return closed

    async def last_run(self, finished: bool = False) -> Run | None:
        """The latest run (with `finished`: the latest that ended, either way), or None."""
        query = select(runs_table).where(_r.tenant == self.tenant, _r.app == self.app)
        if finished:
            query = query.where(_r.status != RunStatus.RUNNING.value)
        async with transaction(self._engine, write=False) as connection:
            row = (await connection.execute(query.order_by(_r.started.desc()).limit(1))).first()
        return None if row is None else _run(row._mapping)

    # Findings.

    async def record(
        self, run_id: UUID, observations: Sequence[Observation], seen: Iterable[UUID] = ()
    ) -> Counter[FindingState]:
        """Insert or refresh these findings, and mark the directory entries in `seen` as met at the vendor
        (again is fine: a vendor's pages may overlap), in one transaction; returns how many of each state
        are new."""
        now = self._now()
        wanted = {(o.kind, o.vendor_id, o.state.value): o for o in observations}
        met = list(dict.fromkeys(seen))
        if not wanted and not met:
            return Counter()
        async with transaction(self._engine, write=True) as connection:
            new = await self._upsert(connection, run_id, wanted, now) if wanted else []
            if met:
                known = select(_s.directory_id).where(_s.run_id == run_id, _s.directory_id.in_(met))
                already = set((await connection.execute(known)).scalars())
                rows = [{"run_id": run_id, "directory_id": entry} for entry in met if entry not in already]
                if rows:
                    await connection.execute(insert(seen_table), rows)
        return Counter(FindingState(values["state"]) for values in new)

    async def _upsert(
        self, connection: AsyncConnection, run_id: UUID, wanted: dict[tuple[str, str, str], Observation], now: datetime
    ) -> list[dict[str, Any]]:
        """Refresh the findings already recorded, insert the others; returns the inserted rows."""
        vendor_ids = {o.vendor_id for o in wanted.values()}
        known_query = select(_f.kind, _f.vendor_id, _f.state).where(*self._app(), _f.vendor_id.in_(vendor_ids))
        known = {tuple(row) for row in await connection.execute(known_query)}
        old = [self._columns(o, run_id, now) for key, o in wanted.items() if key in known]
        new = [{**self._columns(o, run_id, now), "first_seen": now} for key, o in wanted.items() if key not in known]
        if old:
            await connection.execute(_REFRESH, [_bound(values) for values in old])
        if new:
            await connection.execute(insert(findings_table), new)
        return new

    async def findings(self, offset: int = 0, limit: int = 100) -> list[Finding]:
        """The app's current findings, by state then vendor id (stable pages)."""
        query = (
            select(findings_table)
            .where(*self._app())
            .order_by(_f.state, _f.kind, _f.vendor_id)
            .offset(offset)
            .limit(limit)
        )
        async with transaction(self._engine, write=False) as connection:
            return [self._finding(row._mapping) for row in await connection.execute(query)]

    async def count_findings(self) -> dict[FindingState, int]:
        """How many current findings of each state the app has."""
        query = select(_f.state, func.count()).where(*self._app()).group_by(_f.state)
        async with transaction(self._engine, write=False) as connection:
            counted = {FindingState(state): int(n) for state, n in await connection.execute(query)}
        return {state: counted.get(state, 0) for state in FindingState}

    # What a run met at the vendor (to tell the missing entries without holding every id in memory).

    async def mark_seen(self, run_id: UUID, directory_ids: Iterable[UUID]) -> None:
        """Note that the run met these entries at the vendor (`record` does it with findings, in one go)."""
        await self.record(run_id, (), directory_ids)

    async def seen_among(self, run_id: UUID, directory_ids: Sequence[UUID]) -> set[UUID]:
        if not directory_ids:
            return set()
        query = select(_s.directory_id).where(_s.run_id == run_id, _s.directory_id.in_(directory_ids))
        async with transaction(self._engine, write=False) as connection:
            return set((await connection.execute(query)).scalars())

    # Internals.

    def _app(self) -> tuple[Any, ...]:
        return (_f.tenant == self.tenant, _f.app == self.app)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.wall(), UTC)

    def _context(self, kind: str, vendor_id: str, state: str) -> bytes:
        return f"{self.tenant}\0{self.app}\0{kind}\0{vendor_id}\0{state}\0finding.user_name".encode()

    def _columns(self, o: Observation, run_id: UUID, now: datetime) -> dict[str, Any]:
        sealed = None
        if o.user_name is not None:
            sealed = self._keys.encrypt(o.user_name.encode(), self._context(o.kind, o.vendor_id, o.state.value))
        return {
            "tenant": self.tenant, "app": self.app, "kind": o.kind, "vendor_id": o.vendor_id, "state": o.state.value,
            "directory_id": o.directory_id, "user_name": sealed, "key_id": self._keys.primary_id if sealed else None,
            "attributes": ",".join(o.attributes) or None, "last_seen": now, "run_id": run_id,
        }  # fmt: skip

    def _finding(self, row: Any) -> Finding:
        token = row["user_name"]
        context = self._context(row["kind"], row["vendor_id"], row["state"])
        return Finding(
            kind=row["kind"],
            vendor_id=row["vendor_id"],
            state=FindingState(row["state"]),
            directory_id=row["directory_id"],
            user_name=None if token is None else self._keys.decrypt(bytes(token), context).decode(),
            attributes=tuple(row["attributes"].split(",")) if row["attributes"] else (),
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )


async def last_finished_runs(engine: AsyncEngine) -> list[Run]:
    """The latest finished run of every app that has one, in one query (what every replica shows)."""
    ended = _r.status != RunStatus.RUNNING.value
    latest = (
        select(_r.tenant, _r.app, func.max(_r.started).label("started")).where(ended).group_by(_r.tenant, _r.app)
    ).subquery()
    query = select(runs_table).join(
        latest, (_r.tenant == latest.c.tenant) & (_r.app == latest.c.app) & (_r.started == latest.c.started)
    )
    async with transaction(engine, write=False) as connection:
        return [_run(row._mapping) for row in await connection.execute(query.where(ended))]


_KEY = ("tenant", "app", "kind", "vendor_id", "state")
_REFRESH = (
    update(findings_table)
    .where(*(findings_table.c[name] == bindparam(f"k_{name}") for name in _KEY))
    .values(
        {
            name: bindparam(f"v_{name}")
            for name in ("directory_id", "user_name", "key_id", "attributes", "last_seen", "run_id")
        }
    )
)


def _bound(values: dict[str, Any]) -> dict[str, Any]:
    """Parameters of _REFRESH for one finding's column values."""
    return {f"k_{name}" if name in _KEY else f"v_{name}": value for name, value in values.items()}


def _run(row: Any) -> Run:
    return Run(
        id=row["id"],
        tenant=row["tenant"],
        app=row["app"],
        started=row["started"],
        finished=row["finished"],
        status=RunStatus(row["status"]),
        accounts=row["accounts"],
        counts={state: row[state.value] for state in FindingState},
        detail=row["detail"],
    )
