"""Supply chain: shipment kinds and references, allocation proposals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:35:00

- ``shipments``: ``kind`` (allocation, transfer, return; existing rows are
  allocations), ``reference`` (the delivery note's number, unique) and
  ``from_site_id`` (the sender of a transfer).
- ``allocations``: the proposal's horizon, safety margin and summary.
- ``allocation_lines``: the proposed quantity before adjustment and the
  first appointment day the line serves.

No append-only table is touched, so no guard trigger needs re-creating.
"""

# ruff: noqa: E501

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="allocation")
        )
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("from_site_id", sa.Uuid(), nullable=True))
        batch.create_unique_constraint(op.f("uq_shipments_reference"), ["reference"])
        batch.create_foreign_key(
            op.f("fk_shipments_from_site_id"), "sites", ["from_site_id"], ["id"]
        )
        batch.create_check_constraint(
            op.f("ck_shipments_kind"), "kind IN ('allocation', 'transfer', 'return')"
        )
        batch.create_check_constraint(
            op.f("ck_shipments_transfer_has_sender"),
            "(kind = 'transfer') = (from_site_id IS NOT NULL)",
        )
    with op.batch_alter_table("allocations") as batch:
        batch.add_column(sa.Column("horizon_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("horizon_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("safety_margin_percent", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("summary", _json(), nullable=True))
    with op.batch_alter_table("allocation_lines") as batch:
        batch.add_column(sa.Column("proposed_vials", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_day", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("allocation_lines") as batch:
        batch.drop_column("first_day")
        batch.drop_column("proposed_vials")
    with op.batch_alter_table("allocations") as batch:
        batch.drop_column("summary")
        batch.drop_column("safety_margin_percent")
        batch.drop_column("horizon_days")
        batch.drop_column("horizon_start")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_constraint(op.f("ck_shipments_transfer_has_sender"), type_="check")
        batch.drop_constraint(op.f("ck_shipments_kind"), type_="check")
        batch.drop_constraint(op.f("fk_shipments_from_site_id"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_shipments_reference"), type_="unique")
        batch.drop_column("from_site_id")
        batch.drop_column("reference")
        batch.drop_column("kind")
