"""The work_items table: what a person must do at the vendor for each write to a manual app.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("task", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.LargeBinary(4), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("claimed", sa.DateTime(), nullable=True),
        sa.Column("closed", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.Column("vendor_id", sa.String(512), nullable=True),
        sa.Column("notify", sa.String(16), nullable=True),
        sa.Column("notify_attempts", sa.Integer(), nullable=False),
        sa.Column("notify_after", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_work_items"),
        sa.CheckConstraint("action IN ('create', 'update', 'deactivate', 'delete')", name="ck_work_items_action"),
        sa.CheckConstraint("state IN ('open', 'claimed', 'done', 'rejected')", name="ck_work_items_state"),
        sa.CheckConstraint("notify IS NULL OR notify IN ('pending', 'sent', 'failed')", name="ck_work_items_notify"),
    )
    op.create_index("ix_work_items_tenant_app_state_created", "work_items", ["tenant", "app", "state", "created"])
    op.create_index(
        "ix_work_items_tenant_app_resource_id_created", "work_items", ["tenant", "app", "resource_id", "created"]
    )
    op.create_index("ix_work_items_notify_notify_after", "work_items", ["notify", "notify_after"])


def downgrade() -> None:
    op.drop_index("ix_work_items_notify_notify_after", table_name="work_items")
    op.drop_index("ix_work_items_tenant_app_resource_id_created", table_name="work_items")
    op.drop_index("ix_work_items_tenant_app_state_created", table_name="work_items")
    op.drop_table("work_items")
