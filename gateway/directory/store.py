"""The directory as the app's lifespan holds it: one engine, the keys, a repository per app."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.clock import Clock
from gateway.config import DirectoryConfig
from gateway.directory.codec import RowCodec
from gateway.directory.crypto import BlindIndex, KeyRing
from gateway.directory.engine import create_engine, transaction
from gateway.directory.findings import Reconciliations
from gateway.directory.leases import Leases
from gateway.directory.migrate import ensure_schema
from gateway.directory.resources import Resources


class Directory:
    """The gateway's directory; long-lived (built in the lifespan, closed at shutdown)."""

    def __init__(self, engine: AsyncEngine, codec: RowCodec, clock: Clock | None = None) -> None:
        self.engine = engine
        self._codec = codec
        self._clock = clock or Clock()

    def __repr__(self) -> str:
        return f"Directory({self.engine.dialect.name})"

    def resources(self, tenant: str, app: str) -> Resources:
        """The repository of one app's resources (cheap: build once per app and keep it)."""
        return Resources(self.engine, self._codec, tenant, app, self._clock)

    def reconciliations(self, tenant: str, app: str) -> Reconciliations:
        """The repository of one app's reconciliation runs and findings."""
        return Reconciliations(self.engine, self._codec.keys, tenant, app, self._clock)

    def leases(self, holder: str) -> Leases:
        """Leases taken in the name of `holder` (one name per process)."""
        return Leases(self.engine, holder, self._clock)

    async def check(self) -> None:
        """One round trip to the database (for /readyz); raises DirectoryUnavailable."""
        async with transaction(self.engine, write=False) as connection:
            await connection.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def build_directory(config: DirectoryConfig, clock: Clock | None = None) -> Directory:
    """The directory for a validated config, without I/O (connections open on first use)."""
    keys = KeyRing(config.encryption.keys)
    index = BlindIndex(config.encryption.index_key)
    engine = create_engine(config.url.get_secret_value(), pool_size=config.pool_size, pool_timeout=config.pool_timeout)
    return Directory(engine, RowCodec(keys, index), clock)


async def open_directory(config: DirectoryConfig, clock: Clock | None = None) -> Directory:
    """For the app's lifespan: build the directory and bring its schema up to date (or check it).

    Upgrades when `config.migrate_on_start` (on PostgreSQL under an advisory
    lock), otherwise raises SchemaOutOfDate if the schema is not current.
    Raises DirectoryUnavailable if the database cannot be reached.
    """
    directory = build_directory(config, clock)
    try:
        await ensure_schema(directory.engine, config.url.get_secret_value(), migrate=config.migrate_on_start)
    except BaseException:
        await directory.close()
        raise
    return directory
