"""Events of the convention calendar — the public contract for announcing deadlines.

Any part of the platform announces a deadline by recording :class:`DeadlineAnnounced` in its outbox (a
module imports this class; it must not list it in ``ActionModule.publishes``: the core declares it). The
core calendar applies it (``covenant.calendar.handlers``): announcing the same ``(source, key)`` again
updates the deadline instead of adding a second one.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_event


@register_core_event
class DeadlineAnnounced(DomainEvent):
    name = "deadline.announced"
    description = "A deadline was announced; the core calendar shows it and includes it in iCalendar feeds."

    source: str = Field(min_length=1, max_length=40)
    """``core`` or the announcing module's slug."""
    key: str = Field(min_length=1, max_length=120)
    """Stable name of the deadline within its source (e.g. ``monitoring-2026``)."""
    title: str = Field(min_length=1, max_length=200)
    due_on: date
    audience: Literal["all", "city", "admins"] = "all"
    """``city`` needs the envelope's ``city_id``."""
    link: str = Field(default="", max_length=500)
    details: str = ""
    """A sentence or two shown with the deadline (the class attribute ``description`` is the catalogue's)."""
