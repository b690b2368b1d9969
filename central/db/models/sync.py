"""Sync bookkeeping at the hub: the change log, push batches, quarantine,
conflicts and each site's sync health.

The change log and its ordering guarantee
-----------------------------------------
Sites pull ``change_log`` rows with ``seq > cursor`` in ``seq`` order and then
move their cursor to the last ``seq`` they stored. That is only safe if a row
with a smaller ``seq`` can never become visible after a larger one: with a
plain sequence, transaction A could take seq 10, B take 11 and commit first,
a site pull 11 and move its cursor past 10, and A's change would be skipped
for ever.

Chosen approach: a single-row counter (`ChangeLogCounter`) updated in the same
transaction that writes the change-log rows (`central.db.change_log.
allocate_change_seqs`). The UPDATE takes the row's lock until commit, so
change-writing transactions take their numbers one after another in commit
order, and a rollback gives its numbers back. The committed seqs are therefore
always exactly 1..N, without gaps, and a reader never sees N+1 before N. The
same code is correct on SQLite, where ``BEGIN IMMEDIATE`` already serialises
writers.

The price is that change-writing transactions serialise on the counter from
the moment they take it. Callers take it last, right before commit, after all
their other writes: the lock is then held only for inserting the change-log
rows and the commit, and as no other lock is requested after it, it cannot
take part in a deadlock. The alternative (a sequence plus an xid8 watermark,
serving only rows of transactions older than ``pg_snapshot_xmin``) lets
writers run in parallel but needs a PostgreSQL-only cursor of (xid, seq) and
stalls every pull behind the longest open transaction; push throughput from
~400 sites does not need that.

``audience_site_id`` says which site a change concerns (NULL: every site, e.g.
a recall, the site list, the trust list); pulls use the (audience, seq) index.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import ACTOR_LENGTH, PAYLOAD_HASH_LENGTH, Base, one_of
from central.db.enums import ChangeOp
from central.db.types import UUID, UTCDateTime, hlc_string, json_document
from domain.ids import uuid7

# INTEGER PRIMARY KEY is SQLite's rowid: the fastest key it has.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class ChangeLogCounter(Base):
    """The single row holding the last change-log seq handed out.

    The initial migration inserts the row ``(1, 0)``.
    """

    __tablename__ = "change_log_counter"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("last_seq >= 0", name="last_seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)


class ChangeLog(Base):
    """One change sites may pull, in the global order ``seq``. Append-only.

    ``payload`` is the record's wire form at the time of the change, so a pull
    is a single range query. ``hlc`` is the change's timestamp for multi-writer
    rows.
    """

    __tablename__ = "change_log"
    __append_only__ = True
    __table_args__ = (
        one_of("op", ChangeOp),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_change_log_audience_seq", "audience_site_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[uuid.UUID] = mapped_column(UUID)
    op: Mapped[str] = mapped_column(String(8))
    audience_site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    origin_site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    hlc: Mapped[str | None] = mapped_column(hlc_string())
    payload: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncBatch(Base):
    """A push batch received from a site, with the answer it got.

    A retried batch (same site, same idempotency key) gets ``response`` back
    without being applied again. ``request_hash`` detects a client reusing a
    key for a different body, which is refused rather than answered wrongly.
    """

    __tablename__ = "sync_batches"
    __table_args__ = (
        UniqueConstraint("site_id", "idempotency_key"),
        # The site's latest batch (its last acknowledged outbox sequence) on every push.
        Index("ix_sync_batches_site_received", "site_id", "received_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid7)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(PAYLOAD_HASH_LENGTH))
    protocol_version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    response_status: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(json_document())


class Quarantine(Base):
    """A pushed record the hub would not apply, kept whole for a person to resolve.

    ``record_id`` is text because the payload may be too broken to have a
    valid UUID. Nothing a site sends is ever dropped (sync rule 2).
    """

    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_site_received", "site_id", "received_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid7)
    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sync_batches.id"))
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[Any] = mapped_column(json_document())
    reason_code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    resolution: Mapped[str | None] = mapped_column(Text)


class ConflictLog(Base):
    """A concurrent change of one citizen field, merged by HLC, for review.

    The merge is deterministic (greater HLC wins); ``kept_*`` is the winning
    write and ``lost_*`` the overwritten one, each with its timestamp and the
    site it came from (NULL: the hub). A person reviews it and may correct
    the citizen with a new write.
    """

    __tablename__ = "conflict_log"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid7)
    citizen_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("citizens.id"), index=True)
    field_name: Mapped[str] = mapped_column(String(64))
    kept_value: Mapped[Any] = mapped_column(json_document())
    kept_hlc: Mapped[str] = mapped_column(hlc_string())
    kept_origin_site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    lost_value: Mapped[Any] = mapped_column(json_document())
    lost_hlc: Mapped[str] = mapped_column(hlc_string())
    lost_origin_site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH))
    resolution_note: Mapped[str | None] = mapped_column(Text)


class SiteSyncStatus(Base):
    """The last known sync health of one site, for the dashboard.

    ``clock_offset_ms`` is the site's clock minus the hub's at the last push
    (positive: the site is ahead); ``clock_flagged`` is set when it exceeds
    the tolerated skew. ``backlog`` is the outbox size the site reported.
    """

    __tablename__ = "site_sync_status"

    site_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("sites.id"), primary_key=True)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pull_cursor: Mapped[int | None] = mapped_column(BigInteger)
    backlog: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_version: Mapped[str | None] = mapped_column(String(40))
    protocol_version: Mapped[int | None] = mapped_column(Integer)
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    clock_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
