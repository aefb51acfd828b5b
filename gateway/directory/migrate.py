"""Schema migrations (Alembic, checked in under `migrations/`): upgrade, and the start-up check.

An upgrade runs in a worker thread with its own event loop and a one-
connection engine, because Alembic reads and imports its scripts with
blocking file I/O that must not stall the serving loop. All pending
migrations run in one transaction; on PostgreSQL that transaction first
takes an advisory lock, so replicas starting together upgrade one after
the other (the later ones find nothing to do).
"""

from __future__ import annotations

import asyncio
import hashlib

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.directory.engine import create_engine, transaction
from gateway.directory.errors import SchemaOutOfDate
from gateway.directory.schema import VERSION_TABLE
from gateway.directory.urls import is_postgresql, sqlite_path

SCRIPTS = "gateway.directory:migrations"
#: pg_advisory_xact_lock key: a constant every replica agrees on.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"scim-gateway directory migrations").digest()[:8], "big", signed=True)


async def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the database at `url` to `revision`; returns the revision it is at afterwards.

    Creates a SQLite file (and its directory) if missing. Raises
    DirectoryUnavailable if the database cannot be reached; a failing
    migration rolls back every migration of this upgrade.
    """
    # The coroutine is made in the worker thread: made here, a cancellation before the thread starts
    # would leave it never awaited.
    return await asyncio.to_thread(lambda: asyncio.run(_upgrade(url, revision)))


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None: no directory schema yet)."""
    async with transaction(engine, write=False) as connection:
        return await connection.run_sync(_current)


async def head_revision() -> str | None:
    """The newest revision this release ships."""
    return await asyncio.to_thread(lambda: ScriptDirectory.from_config(_config()).get_current_head())


async def ensure_schema(engine: AsyncEngine, url: str, *, migrate: bool) -> str | None:
    """At start-up: upgrade (when `migrate`) or check that the schema is current; returns its revision.

    Raises SchemaOutOfDate when not migrating and the database is not at this
    release's head; DirectoryUnavailable when the database cannot be reached.
    """
    if migrate:
        return await upgrade(url)
    current, head = await current_revision(engine), await head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the directory schema is at {current or 'nothing'}, this release needs {head}: run scim-gateway db upgrade"
        )
    return current


async def _upgrade(url: str, revision: str) -> str | None:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)  # this runs in upgrade's worker thread
    engine = create_engine(url, pool_size=1)
    try:
        async with transaction(engine, write=True) as connection:
            if is_postgresql(url):
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            await connection.run_sync(_run_alembic, revision)
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def _run_alembic(connection: Connection, revision: str) -> None:
    config = _config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPTS)
    return config
