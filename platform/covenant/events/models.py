"""Tables of the event bus: the outbox the relay reads, the inbox that makes delivery idempotent, and the
dead letters an admin can replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import JsonB
from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import Base
from covenant.events.base import utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity-like serial.
SequentialId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxRecord(Base):
    """One recorded event, written in the transaction of the state change it describes.

    ``id`` is sequential so the relay publishes in the order events were recorded; ``published_at`` stays
    empty until every subscriber's message has been handed to the broker.
    """

    __tablename__ = "event_outbox"
    __table_args__ = (
        # The relay's hot query: unpublished rows in id order.
        Index("ix_event_outbox_unpublished", "published_at", "id"),
        # The consumer's ordering check: earlier events of the same city.
        Index("ix_event_outbox_city_id_id", "city_id", "id"),
    )

    id: Mapped[int] = mapped_column(SequentialId, primary_key=True, autoincrement=True)  # type: ignore[assignment]
    event_id: Mapped[UUID] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonB)
    city_id: Mapped[UUID | None] = mapped_column(default=None)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    """How many times the relay sent it (more than one after a relay crashed between send and mark)."""


class InboxRecord(Base):
    """An event a subscriber has applied; a redelivered message finds its row and is skipped."""

    __tablename__ = "event_inbox"
    __table_args__ = (UniqueConstraint("event_id", "subscriber"),)

    event_id: Mapped[UUID]
    subscriber: Mapped[str] = mapped_column(String(160))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeadLetterStatus:
    DEAD = "dead"
    """Retries exhausted; waiting for someone to fix the cause and replay it."""
    REPLAYED = "replayed"
    """Sent again by an admin; becomes resolved when the subscriber applies it."""
    RESOLVED = "resolved"


class DeadLetter(Base):
    """A message whose subscriber kept failing after every retry."""

    __tablename__ = "event_dead_letter"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        Index("ix_event_dead_letter_status_failed_at", "status", "failed_at"),
    )

    event_id: Mapped[UUID]
    event_name: Mapped[str] = mapped_column(String(120))
    subscriber: Mapped[str] = mapped_column(String(160))
    """The actor, ``<module>.<handler>``."""
    queue: Mapped[str] = mapped_column(String(60))
    message: Mapped[dict[str, Any]] = mapped_column(JsonB)
    """The message body as sent by the relay, so a replay sends exactly the same thing."""
    error: Mapped[str] = mapped_column(Text, default="")
    traceback: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    status: Mapped[str] = mapped_column(String(20), default=DeadLetterStatus.DEAD)
