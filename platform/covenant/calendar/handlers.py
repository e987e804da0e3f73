"""Core subscribers of the convention calendar: deadlines announced by any part of the platform."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.calendar.events import DeadlineAnnounced
from covenant.calendar.services import apply_deadline
from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_subscription


async def apply_announced_deadline(event: DomainEvent, session: AsyncSession) -> None:
    """Show the deadline in the calendar. The inbox applies each event once; re-announcing the same
    (source, key) — or a redelivery that slipped past the inbox — updates the row instead of adding one."""
    assert isinstance(event, DeadlineAnnounced)
    await apply_deadline(session, event)


register_core_subscription(DeadlineAnnounced.name, apply_announced_deadline)
