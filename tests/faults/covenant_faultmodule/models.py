from __future__ import annotations

from uuid import UUID

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import Base


class FaultNote(Base):
    """The state a request changes; its event goes to the outbox in the same transaction."""

    __tablename__ = "faultmodule_note"

    city_id: Mapped[UUID | None] = mapped_column(default=None, index=True)
    label: Mapped[str] = mapped_column(String(200), default="")


class FaultEffect(Base):
    """What a subscriber did for one event. Deliberately no unique constraint: a duplicate effect must be
    visible to the invariants, not turned into an error."""

    __tablename__ = "faultmodule_effect"

    event_id: Mapped[UUID] = mapped_column(index=True)
    subscriber: Mapped[str] = mapped_column(String(160))
    note_id: Mapped[UUID]
