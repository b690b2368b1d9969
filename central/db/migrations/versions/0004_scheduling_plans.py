"""Scheduling: site addresses, second-dose plans and standby lists.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 02:05:00

- ``sites.address``: the street address printed on invitations (NULL for
  existing sites until someone records it).
- ``second_dose_plans``: the next dose of a series due after a run's horizon.
- ``standby_entries``: per session, citizens called in for leftover doses.

Neither new table is append-only, so no guard trigger is created.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("address", sa.String(length=300), nullable=True))
    op.create_table(
        "second_dose_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("dose_number", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("earliest", sa.Date(), nullable=False),
        sa.Column("latest", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("dose_number >= 2", name=op.f("ck_second_dose_plans_dose_number_later")),
        sa.CheckConstraint("latest >= earliest", name=op.f("ck_second_dose_plans_window_order")),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_second_dose_plans_citizen_id")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scheduler_runs.id"], name=op.f("fk_second_dose_plans_run_id")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_second_dose_plans_site_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_dose_plans")),
    )
    op.create_index(
        op.f("ix_second_dose_plans_citizen_id"), "second_dose_plans", ["citizen_id"], unique=False
    )
    op.create_index(
        op.f("ix_second_dose_plans_run_id"), "second_dose_plans", ["run_id"], unique=False
    )
    op.create_table(
        "standby_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_standby_entries_position_positive")),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_standby_entries_citizen_id")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scheduler_runs.id"], name=op.f("fk_standby_entries_run_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_standby_entries_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standby_entries")),
    )
    op.create_index(
        "ix_standby_entries_session",
        "standby_entries",
        ["run_id", "site_id", "day", "product_id", "position"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_standby_entries_session", table_name="standby_entries")
    op.drop_table("standby_entries")
    op.drop_index(op.f("ix_second_dose_plans_run_id"), table_name="second_dose_plans")
    op.drop_index(op.f("ix_second_dose_plans_citizen_id"), table_name="second_dose_plans")
    op.drop_table("second_dose_plans")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("address")
