"""The directory's database engine and its transactions.

The same code runs on SQLite (aiosqlite) and PostgreSQL (asyncpg); the only
engine-specific lines are here. A write is one transaction; a read is one
statement outside any transaction (each statement is atomic on its own), which
spares PostgreSQL the BEGIN and COMMIT round trips. On SQLite the driver is
left in autocommit and the engine's `begin` hook opens write transactions with
BEGIN IMMEDIATE: a real transaction (pysqlite would otherwise defer BEGIN and
auto-commit DDL) that takes the write lock up front, so a second writer waits
for it instead of failing when it upgrades a read lock. WAL lets readers go
on while a writer works.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from gateway.directory.errors import DirectoryUnavailable
from gateway.directory.urls import is_postgresql

_WRITE = "directory_write"


def create_engine(url: str, *, pool_size: int = 5, pool_timeout: float = 5.0) -> AsyncEngine:
    """An async engine for a URL from `urls.database_url`; connects lazily (no I/O here).

    SQL parameters are hidden from SQLAlchemy's error messages: they are
    ciphertexts and blind indexes, which have no business in a log.
    """
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    if is_postgresql(url):
        engine = create_async_engine(url, hide_parameters=True, pool_recycle=1800, **options)
    else:
        # `timeout`: how long SQLite waits for another connection's write lock.
        engine = create_async_engine(url, hide_parameters=True, connect_args={"timeout": pool_timeout}, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the driver must not BEGIN or COMMIT on its own; SQLAlchemy does
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(_WRITE):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextlib.asynccontextmanager
async def transaction(engine: AsyncEngine, *, write: bool) -> AsyncIterator[AsyncConnection]:
    """A write transaction, committed when the block exits normally and rolled back otherwise;
    with `write=False`, statements that each commit on their own (run one per block for a consistent read).

    Raises DirectoryUnavailable when the database cannot be reached, the pool
    has no free connection in time, or the database fails; IntegrityError
    passes through for the caller to name the conflict.
    """
    try:
        async with engine.connect() as connection:
            if not write:
                if engine.dialect.name == "postgresql":
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                # No begin/commit: there is nothing to commit, and on SQLite each would be one more hop
                # to aiosqlite's thread. Closing the connection ends what SQLAlchemy began, once.
                yield connection
                return
            await connection.execution_options(**{_WRITE: True})
            async with connection.begin():
                yield connection
    except IntegrityError:
        raise
    except (DBAPIError, PoolTimeout, OSError) as exc:
        raise DirectoryUnavailable(f"the directory database is unavailable ({_reason(exc)})") from exc


def _reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None)
    return type(original if original is not None else exc).__name__
