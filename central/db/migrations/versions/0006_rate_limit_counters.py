"""Security: the rate-limit counter table under Alembic.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 04:20:00

- ``rate_limit_counters``: one row per rate-limit key (see
  `central.services.rate_limit`). Hubs before this revision created the table
  at start-up with exactly this definition; on such a database the table is
  kept as it is (its counters are disposable, but there is no reason to drop
  them), and a downgrade removes it either way.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("rate_limit_counters"):
        return
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("window_no", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_counters")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
