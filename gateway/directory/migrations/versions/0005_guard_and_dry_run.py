"""The deprovisioning guard's state (window, held batch) and dry-run apps' recorded vendor calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deprovision_guards",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("batch", sa.Uuid(), nullable=True),
        sa.Column("tripped", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "app", name="pk_deprovision_guards"),
    )
    op.create_table(
        "deprovision_events",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "app", "id", name="pk_deprovision_events"),
    )
    op.create_index("ix_deprovision_events_tenant_app_at", "deprovision_events", ["tenant", "app", "at"])
    op.create_table(
        "deprovision_holds",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(512), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("batch", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("held", sa.DateTime(), nullable=False),
        sa.Column("decided", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "app", "kind", "resource_id", "operation", name="pk_deprovision_holds"),
        sa.CheckConstraint("operation IN ('deactivate', 'delete')", name="ck_deprovision_holds_operation"),
        sa.CheckConstraint("status IN ('held', 'approved', 'rejected')", name="ck_deprovision_holds_status"),
    )
    op.create_index("ix_deprovision_holds_tenant_app_batch", "deprovision_holds", ["tenant", "app", "batch"])
    op.create_table(
        "dry_run_calls",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("call", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.LargeBinary(4), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "app", "id", name="pk_dry_run_calls"),
    )
    op.create_index("ix_dry_run_calls_tenant_app_at", "dry_run_calls", ["tenant", "app", "at"])


def downgrade() -> None:
    op.drop_index("ix_dry_run_calls_tenant_app_at", table_name="dry_run_calls")
    op.drop_table("dry_run_calls")
    op.drop_index("ix_deprovision_holds_tenant_app_batch", table_name="deprovision_holds")
    op.drop_table("deprovision_holds")
    op.drop_index("ix_deprovision_events_tenant_app_at", table_name="deprovision_events")
    op.drop_table("deprovision_events")
    op.drop_table("deprovision_guards")
