"""standby entries: the hub scheduler's standby lists for this site's sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standby_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_standby_entries_position_positive")),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_standby_entries_citizen_id_citizens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standby_entries")),
    )
    with op.batch_alter_table("standby_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_standby_entries_day_product_code_run_id_position"),
            ["day", "product_code", "run_id", "position"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("standby_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standby_entries_day_product_code_run_id_position"))
    op.drop_table("standby_entries")
