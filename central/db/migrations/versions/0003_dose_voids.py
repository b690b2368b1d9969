"""Dose voids pushed by sites.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:50:00

- ``dose_voids``: a site's statement that a dose record was wrong (one per
  dose), append-only like every clinical fact: its guard triggers are
  created here, with the same SQL as the initial schema's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "dose_voids"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dose_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_by", sa.Uuid(), nullable=True),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dose_id"], ["dose_records.id"], name=op.f("fk_dose_voids_dose_id")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_dose_voids_origin_site_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_dose_voids_site_id")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_voids")),
        sa.UniqueConstraint("dose_id", name=op.f("uq_dose_voids_dose_id")),
    )
    if op.get_context().dialect.name == "postgresql":
        # imuno_reject_change() is created by the initial schema.
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION imuno_reject_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION imuno_reject_change()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{action.lower()} BEFORE {action} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {action} is not allowed'); "
                "END"
            )


def downgrade() -> None:
    # Dropping the table drops its triggers on both engines.
    op.drop_table(TABLE)
