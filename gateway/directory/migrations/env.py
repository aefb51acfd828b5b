"""Alembic environment for the directory: runs on the connection `gateway.directory.migrate` passes in.

`migrate` opens the transaction (and, on PostgreSQL, takes an advisory lock)
before Alembic runs, so one upgrade commits or rolls back as a whole and
replicas starting together take turns. Add a migration by copying the last
file in versions/ (next number, `down_revision` = the previous one); the tests
check that the migrated schema equals `gateway.directory.schema` on both engines.
"""

from __future__ import annotations

from alembic import context

from gateway.directory.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("directory migrations run through `scim-gateway db upgrade` (gateway.directory.migrate)")
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
