"""Resources may be adopted: an IdP's create took over an account made outside it (`on_existing: link`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot alter a constraint in place, so Alembic rebuilds the table there.
    with op.batch_alter_table("resources") as batch:
        batch.drop_constraint("ck_resources_origin", type_="check")
        batch.create_check_constraint("ck_resources_origin", "origin IN ('gateway', 'vendor', 'adopted')")


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_constraint("ck_resources_origin", type_="check")
        batch.create_check_constraint("ck_resources_origin", "origin IN ('gateway', 'vendor')")
