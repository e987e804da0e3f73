"""Core subscribers of the monitoring cycle: a module reports a completed section; a new signatory joins an
open cycle."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.events import CitySigned
from covenant.events.base import DomainEvent
from covenant.events.catalogue import register_core_subscription
from covenant.monitoring import services
from covenant.monitoring.events import SectionSubmitted


async def apply_section_submitted(event: DomainEvent, session: AsyncSession) -> None:
    """``cycle.section_submitted``: the city's checklist shows the module's section as submitted."""
    assert isinstance(event, SectionSubmitted)
    if event.city_id is None:
        return
    await services.mark_submitted(session, event.year, event.city_id, event.module, event.completeness)


async def open_sections_for_new_signatory(event: DomainEvent, session: AsyncSession) -> None:
    """``city.signed`` during an open cycle: the new signatory gets its sections of that cycle too (the
    modules' registry is not known here, so the sections follow the cycle's stored requirements)."""
    assert isinstance(event, CitySigned)
    if event.city_id is None:
        return
    for cycle in await services.open_cycles(session):
        required = {k: list(v) for k, v in (cycle.required or {}).items() if v}
        if required:
            await services.create_sections(session, cycle, required, city_id=event.city_id)


register_core_subscription(SectionSubmitted.name, apply_section_submitted)
register_core_subscription(CitySigned.name, open_sections_for_new_signatory)
