"""Sync: an index for a site's latest push batch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 02:05:00

- ``ix_sync_batches_site_received``: every push reads the site's last
  acknowledged outbox sequence from its latest batch
  (`central.services.sync.push.last_acknowledged_seq`); without the index
  that read sorts every batch the site ever sent.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_sync_batches_site_received", "sync_batches", ["site_id", "received_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_sync_batches_site_received", table_name="sync_batches")
