"""The audit trail: who changed what, when, with the values before and after."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import ACTOR_LENGTH, Base
from central.db.types import UUID, UTCDateTime, json_document
from domain.ids import uuid7


class AuditLog(Base):
    """One audited action. Append-only.

    ``actor`` uses the ``<kind>:<id>`` form of ``created_by``; ``site_id`` is
    the site the action came from (NULL: the hub). ``before``/``after`` hold
    the changed fields (NULL for a creation or a deletion respectively).
    """

    __tablename__ = "audit_log"
    __append_only__ = True
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_table", "entity_id"),
        Index("ix_audit_log_occurred_at", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid7)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    entity_table: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("sites.id"))
    before: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    after: Mapped[dict[str, Any] | None] = mapped_column(json_document())
    request_id: Mapped[str | None] = mapped_column(String(64))
