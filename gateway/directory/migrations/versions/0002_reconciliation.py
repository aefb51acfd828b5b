"""Reconciliation: runs, findings, the entries each run saw at the vendor, and leases between replicas.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("orphan", sa.Integer(), nullable=False),
        sa.Column("drift", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("reactivated", sa.Integer(), nullable=False),
        sa.Column("detail", sa.String(300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reconcile_runs"),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="ck_reconcile_runs_status"),
    )
    op.create_index("ix_reconcile_runs_tenant_app_started", "reconcile_runs", ["tenant", "app", "started"])
    op.create_table(
        "reconcile_findings",
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("app", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("vendor_id", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("directory_id", sa.Uuid(), nullable=True),
        sa.Column("user_name", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.LargeBinary(4), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "app", "kind", "vendor_id", "state", name="pk_reconcile_findings"),
        sa.CheckConstraint(
            "state IN ('orphan', 'drift', 'missing', 'reactivated')", name="ck_reconcile_findings_state"
        ),
    )
    op.create_table(
        "reconcile_seen",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("directory_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "directory_id", name="pk_reconcile_seen"),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_table("reconcile_seen")
    op.drop_table("reconcile_findings")
    op.drop_index("ix_reconcile_runs_tenant_app_started", table_name="reconcile_runs")
    op.drop_table("reconcile_runs")
