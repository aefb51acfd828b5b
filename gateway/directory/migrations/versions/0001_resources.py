"""The resources table: ids, correlation values and held attributes of every app's resources.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=True),
        sa.Column("user_name_index", sa.LargeBinary(32), nullable=True),
        sa.Column("user_name", sa.LargeBinary(), nullable=True),
        sa.Column("external_id_index", sa.LargeBinary(32), nullable=True),
        sa.Column("external_id", sa.LargeBinary(), nullable=True),
        sa.Column("attributes", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.LargeBinary(4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column("pending_op", sa.String(16), nullable=True),
        sa.Column("pending_id", sa.Uuid(), nullable=True),
        sa.Column("pending_state", sa.LargeBinary(), nullable=True),
        sa.Column("pending_since", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("tenant", "app", "kind", "id", name="pk_resources"),
        sa.UniqueConstraint(
            "tenant", "app", "kind", "user_name_index", name="uq_resources_tenant_app_kind_user_name_index"
        ),
        sa.UniqueConstraint("tenant", "app", "kind", "vendor_id", name="uq_resources_tenant_app_kind_vendor_id"),
        sa.CheckConstraint("origin IN ('gateway', 'vendor')", name="ck_resources_origin"),
        sa.CheckConstraint(
            "pending_op IS NULL OR pending_op IN ('create', 'update', 'delete')", name="ck_resources_pending_op"
        ),
        sa.CheckConstraint("version >= 0", name="ck_resources_version"),
    )
    op.create_index(
        "ix_resources_tenant_app_kind_external_id_index", "resources", ["tenant", "app", "kind", "external_id_index"]
    )
    op.create_index("ix_resources_tenant_app_pending_since", "resources", ["tenant", "app", "pending_since"])


def downgrade() -> None:
    op.drop_index("ix_resources_tenant_app_pending_since", table_name="resources")
    op.drop_index("ix_resources_tenant_app_kind_external_id_index", table_name="resources")
    op.drop_table("resources")
