"""People: citizen aliases, for a walk-in registered offline under a new id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 04:45:00

- ``citizen_aliases``: the id a site gave a person the hub already held (by
  JMBG), and the citizen it stands for (`central.db.models.people.CitizenAlias`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "citizen_aliases",
        sa.Column("alias_id", sa.Uuid(), nullable=False),
        sa.Column("citizen_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column(
            "field_hlc",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citizen_id"], ["citizens.id"], name=op.f("fk_citizen_aliases_citizen_id")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_citizen_aliases_site_id")),
        sa.PrimaryKeyConstraint("alias_id", name=op.f("pk_citizen_aliases")),
    )
    op.create_index(
        op.f("ix_citizen_aliases_citizen_id"), "citizen_aliases", ["citizen_id"], unique=False
    )
    op.create_index(
        op.f("ix_citizen_aliases_site_id"), "citizen_aliases", ["site_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_citizen_aliases_site_id"), table_name="citizen_aliases")
    op.drop_index(op.f("ix_citizen_aliases_citizen_id"), table_name="citizen_aliases")
    op.drop_table("citizen_aliases")
