"""Outgoing e-mail, queued in the transaction that decides to send it and delivered by a worker."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase

QUEUED = "queued"
SENT = "sent"
"""Handed to the SMTP server."""
MAILBOX = "mailbox"
"""No SMTP server configured: kept for the dev mailbox page instead."""
FAILED = "failed"
"""Gave up after MAX_ATTEMPTS."""


class MailMessage(AuditedBase):
    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_status_id", "status", "id"),)

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
