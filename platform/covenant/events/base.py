"""Domain events: facts in the past tense, with an envelope that makes them traceable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import uuid_utils
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession


def new_event_id() -> UUID:
    return UUID(str(uuid_utils.uuid7()))


def utcnow() -> datetime:
    return datetime.now(UTC)


class DomainEvent(BaseModel):
    """Base of every event. Subclasses set ``name`` (dotted, e.g. ``commitment.published``) and
    ``version``, and add the payload fields consumers need: ids and a few values, never ORM objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]
    version: ClassVar[int] = 1
    description: ClassVar[str] = ""

    event_id: UUID = Field(default_factory=new_event_id)
    occurred_at: datetime = Field(default_factory=utcnow)
    actor: UUID | None = None
    """The user whose action caused the event; None for the system (scheduler, worker)."""
    city_id: UUID | None = None
    correlation_id: UUID | None = None

    @classmethod
    def event_name(cls) -> str:
        return cls.name

    def payload(self) -> dict[str, Any]:
        """JSON-ready body of the event, envelope included."""
        return self.model_dump(mode="json")


EventHandler = Callable[[DomainEvent, AsyncSession], Awaitable[None]]
"""A subscriber: applies one event inside the transaction the consumer opened for it."""
