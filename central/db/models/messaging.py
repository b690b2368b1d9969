"""Messages to citizens (appointment notices by SMS or e-mail), sent via an outbox.

A message row is written in the same transaction as the change it announces
(the appointment), and a sender job delivers pending rows, so no message is
lost or sent for a change that rolled back.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.db.base import Base, CentralRecord, one_of
from central.db.enums import NotificationChannel, NotificationStatus
from central.db.types import UUID, UTCDateTime


class NotificationOutbox(CentralRecord, Base):
    """One message waiting to be sent, or its delivery outcome."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        one_of("channel", NotificationChannel),
        one_of("status", NotificationStatus),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_notification_outbox_queue", "status", "next_attempt_at"),
    )

    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)
    citizen_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("citizens.id"))
    status: Mapped[str] = mapped_column(String(8), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
