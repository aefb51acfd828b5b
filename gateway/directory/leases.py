"""The lease aggregate's repository: named, expiring locks in the database, shared by every replica.

A lease says "`holder` does this job until `expires`". Taking one is one
transaction that either inserts the row or takes it over when it has
expired (or is already this holder's); of replicas racing for a name exactly
one gets it. The holder renews it while working and releases it when done; a
holder that dies simply lets it expire. Times come from each process's wall
clock, so leases assume replicas' clocks agree to well within a lease's
length (NTP keeps them within milliseconds; leases last minutes).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.clock import Clock
from gateway.directory.engine import transaction
from gateway.directory.schema import leases as table

_c = table.c


class Leases:
    """Leases taken under one holder name (one per gateway process)."""

    def __init__(self, engine: AsyncEngine, holder: str, clock: Clock) -> None:
        self._engine = engine
        self.holder = holder
        self._clock = clock

    def __repr__(self) -> str:
        return f"Leases({self.holder})"

    async def acquire(self, name: str, ttl: timedelta) -> bool:
        """Take `name` for `ttl` if it is free, expired or already ours; False when another holder has it.

        Raises DirectoryUnavailable.
        """
        now = self._now()
        values = {"holder": self.holder, "expires": now + ttl}
        try:
            async with transaction(self._engine, write=True) as connection:
                await connection.execute(insert(table).values(name=name, **values))
            return True
        except IntegrityError:
            pass  # the row exists: take it over only if it lapsed (or is ours)
        takeover = (
            update(table).where(_c.name == name, or_(_c.expires < now, _c.holder == self.holder)).values(**values)
        )
        async with transaction(self._engine, write=True) as connection:
            return bool((await connection.execute(takeover)).rowcount)

    async def renew(self, name: str, ttl: timedelta) -> bool:
        """Extend our lease by `ttl` from now; False when it is no longer ours (it lapsed and was taken)."""
        renewal = update(table).where(_c.name == name, _c.holder == self.holder).values(expires=self._now() + ttl)
        async with transaction(self._engine, write=True) as connection:
            return bool((await connection.execute(renewal)).rowcount)

    async def release(self, name: str) -> None:
        """Give the lease up (a no-op when it is not ours)."""
        async with transaction(self._engine, write=True) as connection:
            await connection.execute(delete(table).where(_c.name == name, _c.holder == self.holder))

    async def holder_of(self, name: str) -> str | None:
        """Who holds `name` now (None: nobody, or the lease lapsed)."""
        query = select(_c.holder).where(_c.name == name, _c.expires >= self._now())
        async with transaction(self._engine, write=False) as connection:
            return (await connection.execute(query)).scalar_one_or_none()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.wall(), UTC)
