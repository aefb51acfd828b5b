"""The directory's tables (SQLAlchemy Core). Migrations in `migrations/versions` create exactly this.

Only portable types and constraints: no engine-specific column types,
defaults or partial indexes, so SQLite and PostgreSQL behave the same.
Personal data is stored sealed (`crypto.KeyRing`) next to its blind index
(`crypto.BlindIndex`); everything in clear here is an identifier, a flag or a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)

#: Alembic's bookkeeping table (named so a shared PostgreSQL database can hold other Alembic histories).
VERSION_TABLE = "directory_schema_version"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive-UTC (SQLite has no time zones; PostgreSQL would convert)."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("directory times must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


resources = Table(
    "resources",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("id", Uuid(as_uuid=True), primary_key=True),  # the SCIM id
    Column("vendor_id", String(512), nullable=True),  # None until a pending create is confirmed
    Column("user_name_index", LargeBinary(32), nullable=True),
    Column("user_name", LargeBinary, nullable=True),  # sealed
    Column("external_id_index", LargeBinary(32), nullable=True),
    Column("external_id", LargeBinary, nullable=True),  # sealed
    Column("attributes", LargeBinary, nullable=False),  # sealed JSON: the attributes the gateway holds
    # The key that sealed the current state's columns (a pending_state is sealed by the primary key of its day).
    Column("key_id", LargeBinary(4), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("updated", UtcDateTime, nullable=False),
    Column("pending_op", String(16), nullable=True),
    Column("pending_id", Uuid(as_uuid=True), nullable=True),
    Column("pending_state", LargeBinary, nullable=True),  # sealed JSON: the desired state
    Column("pending_since", UtcDateTime, nullable=True),
    UniqueConstraint("tenant", "app", "kind", "user_name_index"),
    UniqueConstraint("tenant", "app", "kind", "vendor_id"),
    CheckConstraint("origin IN ('gateway', 'vendor', 'adopted')", name="origin"),
    CheckConstraint("pending_op IS NULL OR pending_op IN ('create', 'update', 'delete')", name="pending_op"),
    CheckConstraint("version >= 0", name="version"),
    Index(None, "tenant", "app", "kind", "external_id_index"),
    Index(None, "tenant", "app", "pending_since"),
)


# Reconciliation (gateway/directory/findings.py): each run of one app, what it found, which directory
# entries it saw at the vendor (scratch rows, dropped when the run ends). Vendor ids are identifiers and
# attribute names are schema names: the only personal value, a finding's userName, is sealed.
reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("app", String(63), nullable=False),
    Column("started", UtcDateTime, nullable=False),
    Column("finished", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("accounts", Integer, nullable=False),  # accounts read at the vendor
    Column("orphan", Integer, nullable=False),
    Column("drift", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    Column("reactivated", Integer, nullable=False),
    Column("detail", String(300), nullable=True),  # why a run failed, in the gateway's words (scrubbed)
    CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
    Index(None, "tenant", "app", "started"),
)

reconcile_findings = Table(
    "reconcile_findings",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("vendor_id", String(512), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("directory_id", Uuid(as_uuid=True), nullable=True),  # the directory entry, when there is one
    Column("user_name", LargeBinary, nullable=True),  # sealed
    Column("key_id", LargeBinary(4), nullable=True),
    Column("attributes", Text, nullable=True),  # drift: the names of the attributes that differ, comma-separated
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("run_id", Uuid(as_uuid=True), nullable=False),  # the last run that found it
    CheckConstraint("state IN ('orphan', 'drift', 'missing', 'reactivated')", name="state"),
)

reconcile_seen = Table(
    "reconcile_seen",
    metadata,
    Column("run_id", Uuid(as_uuid=True), primary_key=True),
    Column("directory_id", Uuid(as_uuid=True), primary_key=True),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires", UtcDateTime, nullable=False),
)

#: Work items of manual apps (gateway/directory/work.py): what a person must do at the vendor for each
#: write the IdP made. `task` and `reason` are sealed like a resource's personal columns.
work_items = Table(
    "work_items",
    metadata,
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("app", String(63), nullable=False),
    Column("resource_id", Uuid(as_uuid=True), nullable=False),  # the SCIM id (resources.id)
    Column("action", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("task", LargeBinary, nullable=False),  # sealed JSON: userName, roles, changed attribute names
    Column("reason", LargeBinary, nullable=True),  # sealed: why it was rejected
    Column("key_id", LargeBinary(4), nullable=False),
    Column("created", UtcDateTime, nullable=False),
    Column("claimed", UtcDateTime, nullable=True),
    Column("closed", UtcDateTime, nullable=True),
    Column("claimed_by", String(64), nullable=True),  # operator names, not people's data
    Column("closed_by", String(64), nullable=True),
    Column("vendor_id", String(512), nullable=True),  # the vendor-side id a completed create recorded
    # The webhook notification: None (no webhook), pending, sent or failed (gateway/backed/manual/webhook.py).
    Column("notify", String(16), nullable=True),
    Column("notify_attempts", Integer, nullable=False),
    Column("notify_after", UtcDateTime, nullable=True),
    CheckConstraint("action IN ('create', 'update', 'deactivate', 'delete')", name="action"),
    CheckConstraint("state IN ('open', 'claimed', 'done', 'rejected')", name="state"),
    CheckConstraint("notify IS NULL OR notify IN ('pending', 'sent', 'failed')", name="notify"),
    Index(None, "tenant", "app", "state", "created"),
    Index(None, "tenant", "app", "resource_id", "created"),
    Index(None, "notify", "notify_after"),
)


# The deprovisioning guard (gateway/deprovisioning/): shared by every replica, kept across restarts.
# Identifiers only: a held entry names the resource by its SCIM id and the operation, enough to match a retry.

deprovision_guards = Table(
    "deprovision_guards",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("batch", Uuid(as_uuid=True), nullable=True),  # the batch being held; None while counting
    Column("tripped", UtcDateTime, nullable=True),
)

deprovision_events = Table(
    "deprovision_events",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Index(None, "tenant", "app", "at"),
)

deprovision_holds = Table(
    "deprovision_holds",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("resource_id", String(512), primary_key=True),
    Column("operation", String(16), primary_key=True),
    Column("batch", Uuid(as_uuid=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("held", UtcDateTime, nullable=False),
    Column("decided", UtcDateTime, nullable=True),
    CheckConstraint("operation IN ('deactivate', 'delete')", name="operation"),
    CheckConstraint("status IN ('held', 'approved', 'rejected')", name="status"),
    Index(None, "tenant", "app", "batch"),
)

# Dry-run apps (gateway/dryrun/): each vendor write as it would have been sent, sealed (it names people).
dry_run_calls = Table(
    "dry_run_calls",
    metadata,
    Column("tenant", String(63), primary_key=True),
    Column("app", String(63), primary_key=True),
    Column("id", Uuid(as_uuid=True), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("operation", String(16), nullable=False),  # the SCIM operation: create, replace, patch, delete
    Column("kind", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("call", LargeBinary, nullable=False),  # sealed JSON: path, query and body, credentials removed
    Column("key_id", LargeBinary(4), nullable=False),
    Index(None, "tenant", "app", "at"),
)
