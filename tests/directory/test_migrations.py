"""gateway/directory/migrate.py: Alembic migrations on SQLite and PostgreSQL, and the start-up check."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from gateway.directory.engine import create_engine
from gateway.directory.errors import SchemaOutOfDate
from gateway.directory.migrate import current_revision, ensure_schema, head_revision, upgrade
from gateway.directory.schema import VERSION_TABLE, metadata
from gateway.directory.store import open_directory
from tests.directory.conftest import directory_config


async def test_upgrade_from_empty_reaches_head_and_matches_the_schema_module(database_url):
    head = await head_revision()
    assert head is not None
    assert await upgrade(database_url) == head
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) == head
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"version_table": VERSION_TABLE}), metadata
                )
            )
    finally:
        await engine.dispose()
    assert tables == {
        "resources", "reconcile_runs", "reconcile_findings", "reconcile_seen", "leases", "work_items", VERSION_TABLE,
    }  # fmt: skip
    assert differences == []  # migrations create exactly gateway.directory.schema


async def test_upgrade_is_idempotent_and_concurrent_upgrades_take_turns(database_url, backend):
    # Replicas starting together: on PostgreSQL the advisory lock serialises them; every one succeeds.
    runs = 3 if backend == "postgresql" else 1
    results = await asyncio.gather(*(upgrade(database_url) for _ in range(runs)))
    assert set(results) == {await head_revision()}
    assert await upgrade(database_url) == await head_revision()


async def test_start_up_without_migrating_refuses_an_out_of_date_schema(database_url, keys):
    engine = create_engine(database_url)
    try:
        if database_url.startswith("sqlite"):
            await upgrade(database_url, "base")  # creates the file and its directory, no schema
        with pytest.raises(SchemaOutOfDate, match="run scim-gateway db upgrade"):
            await ensure_schema(engine, database_url, migrate=False)
    finally:
        await engine.dispose()
    config = directory_config(database_url, [keys["old"]], keys["index"], migrate_on_start=False)
    with pytest.raises(SchemaOutOfDate):
        await open_directory(config)
    opened = await open_directory(config.model_copy(update={"migrate_on_start": True}))
    await opened.close()
    checked = await open_directory(config)  # now current: starts without migrating
    await checked.check()
    await checked.close()
