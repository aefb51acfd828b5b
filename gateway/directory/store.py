"""The directory as the app's lifespan holds it: one engine, the keys, a repository per app."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.clock import Clock
from gateway.config import DirectoryConfig
from gateway.directory.availability import Availability
from gateway.directory.codec import RowCodec
from gateway.directory.crypto import BlindIndex, KeyRing
from gateway.directory.deprovisions import Deprovisions
from gateway.directory.dry_runs import DryRuns
from gateway.directory.engine import create_engine, transaction
from gateway.directory.errors import error_label
from gateway.directory.findings import Reconciliations
from gateway.directory.leases import Leases
from gateway.directory.migrate import ensure_schema
from gateway.directory.observed import Observe
from gateway.directory.resources import Resources
from gateway.directory.work import WorkItems


class Directory:
    """The gateway's directory; long-lived (built in the lifespan, closed at shutdown).

    `observe` is told of every repository operation and check (name, seconds, error label or None);
    `availability` says whether it can serve and gates every repository operation (availability.py).
    """

    def __init__(
        self, engine: AsyncEngine, codec: RowCodec, clock: Clock | None = None, *, observe: Observe | None = None
    ) -> None:
        self.engine = engine
        self._codec = codec
        self._clock = clock or Clock()
        self._observe = observe
        self.availability = Availability(self.check, self._clock)

    def __repr__(self) -> str:
        return f"Directory({self.backend})"

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql` (never the URL)."""
        return self.engine.dialect.name

    def resources(self, tenant: str, app: str) -> Resources:
        """The repository of one app's resources (cheap: build once per app and keep it)."""
        return Resources(
            self.engine, self._codec, tenant, app, self._clock, observe=self._observe, gate=self.availability.gate
        )

    def work(self) -> WorkItems:
        """The repository of manual apps' work items (cheap; one serves every tenant)."""
        return WorkItems(self.engine, self._codec, self._clock)

    def reconciliations(self, tenant: str, app: str) -> Reconciliations:
        """The repository of one app's reconciliation runs and findings."""
        return Reconciliations(self.engine, self._codec.keys, tenant, app, self._clock)

    def leases(self, holder: str) -> Leases:
        """Leases taken in the name of `holder` (one name per process)."""
        return Leases(self.engine, holder, self._clock)

    def deprovisions(self, tenant: str, app: str) -> Deprovisions:
        """The deprovisioning guard's state of one app (gateway/deprovisioning/)."""
        return Deprovisions(self.engine, tenant, app, self._clock)

    def dry_runs(self, tenant: str, app: str) -> DryRuns:
        """The recorded vendor calls of one dry-run app (gateway/dryrun/)."""
        return DryRuns(self.engine, self._codec.keys, tenant, app, self._clock)

    async def check(self) -> None:
        """One round trip to the database (for /readyz); raises DirectoryUnavailable."""
        started = time.perf_counter()
        try:
            async with transaction(self.engine, write=False) as connection:
                await connection.execute(text("SELECT 1"))
        except BaseException as exc:
            if self._observe is not None:
                self._observe("check", time.perf_counter() - started, error_label(exc))
            raise
        if self._observe is not None:
            self._observe("check", time.perf_counter() - started, None)

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def build_directory(
    config: DirectoryConfig, clock: Clock | None = None, *, observe: Observe | None = None
) -> Directory:
    """The directory for a validated config, without I/O (connections open on first use).

    Its schema is not checked: call `prepare` (or run `availability.prepare_forever` with it) before use.
    """
    keys = KeyRing(config.encryption.keys)
    index = BlindIndex(config.encryption.index_key)
    engine = create_engine(config.url.get_secret_value(), pool_size=config.pool_size, pool_timeout=config.pool_timeout)
    return Directory(engine, RowCodec(keys, index), clock, observe=observe)


async def prepare(directory: Directory, config: DirectoryConfig) -> str | None:
    """Bring the directory's schema up to date (`config.migrate_on_start`) or check it; returns its revision.

    Raises SchemaOutOfDate (not migrating, and not current), DirectoryUnavailable (unreachable).
    """
    return await ensure_schema(directory.engine, config.url.get_secret_value(), migrate=config.migrate_on_start)


async def open_directory(config: DirectoryConfig, clock: Clock | None = None) -> Directory:
    """For tools and tests: build the directory and bring its schema up to date (or check it), or fail.

    (The app's lifespan builds it and prepares it in the background instead: availability.py.)

    Upgrades when `config.migrate_on_start` (on PostgreSQL under an advisory
    lock), otherwise raises SchemaOutOfDate if the schema is not current.
    Raises DirectoryUnavailable if the database cannot be reached.
    """
    directory = build_directory(config, clock)
    try:
        await prepare(directory, config)
    except BaseException:
        await directory.close()
        raise
    return directory
