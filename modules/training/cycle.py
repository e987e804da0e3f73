"""The yearly monitoring cycle, seen from the training module (DESIGN §3).

``cycle.opened`` opens the module's year (the core already gave every active signatory its section, in one
statement; this module needs no rows of its own for the year). ``cycle.closed`` freezes the year with the
module's report section as it stands, so the yearly report no longer changes with later edits. Both are
idempotent: a redelivered event changes nothing, and a reopened cycle's ``cycle.opened`` lifts the freeze.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.events.base import DomainEvent
from covenant.monitoring import years
from covenant.monitoring.events import CycleClosed, CycleOpened
from modules.training.services import report_section

SLUG = "training"


async def open_monitoring_year(event: DomainEvent, session: AsyncSession) -> None:
    """``cycle.opened``: record the module's year as open."""
    assert isinstance(event, CycleOpened)
    await years.open_year(session, SLUG, event)


async def close_monitoring_year(event: DomainEvent, session: AsyncSession) -> None:
    """``cycle.closed``: freeze the module's year with its report section."""
    assert isinstance(event, CycleClosed)
    await years.close_year(session, SLUG, event.year, await report_section(session, event.year))
