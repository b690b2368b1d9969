"""appointment events: the ``rebook_requested`` kind

A site records that a citizen asks to be booked again; the hub's next
scheduler run rebooks them. The kind's CHECK constraint changes, so SQLite
rebuilds ``appointment_events`` (batch mode), which drops the table's
append-only triggers: they are created again here (the SQL of 0001).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "appointment_events"
OLD_KINDS = ("scheduled", "checked_in", "done", "no_show", "cancelled", "rescheduled")
NEW_KINDS = (*OLD_KINDS, "rebook_requested")


def _table(kinds: Sequence[str]) -> sa.Table:
    """appointment_events as it stands with `kinds` (as in 0001, the kind's type aside)."""
    return sa.Table(
        TABLE,
        # The convention names the kind's CHECK as 0001 did.
        sa.MetaData(naming_convention={"ck": "ck_%(table_name)s_%(constraint_name)s"}),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *kinds,
                name="appointment_event_kind",
                native_enum=False,
                create_constraint=True,
                length=max(len(kind) for kind in kinds),
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("dose_record_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name="fk_appointment_events_appointment_id_appointments",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_events"),
        sa.Index("ix_appointment_events_appointment_id_hlc", "appointment_id", "hlc"),
    )


def _rebuild(kinds: Sequence[str]) -> None:
    for action in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{action}")
    # copy_from: the table is rebuilt from this definition (its CHECK included).
    with op.batch_alter_table(TABLE, copy_from=_table(kinds), recreate="always"):
        pass
    for action in ("update", "delete"):
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_{action} BEFORE {action.upper()} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'imuno:append_only:{TABLE}'); END"
        )


def upgrade() -> None:
    _rebuild(NEW_KINDS)


def downgrade() -> None:
    # Refuses (CHECK) while a rebook_requested event exists: it would be lost.
    _rebuild(OLD_KINDS)
