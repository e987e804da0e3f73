"""The yearly monitoring cycle, seen from the assessment module (DESIGN §3).

``cycle.opened`` opens the year's self-assessment of every city whose assessment section the cycle requires:
one draft response per city, on the current framework version, in the city's usual language — created in ONE
``INSERT … SELECT`` (10,000 cities are one statement, not 10,000 round trips); a city that already has its
response for the year keeps it. ``cycle.closed`` freezes the year with the module's report section. Both are
idempotent and safe in any order (see :mod:`covenant.monitoring.years`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Boolean, Integer, String, Table, case, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.events.base import DomainEvent
from covenant.monitoring import years
from covenant.monitoring.events import CycleClosed, CycleOpened
from modules.assessment.models import AssessmentResponse, ResponseStatus
from modules.assessment.services import COUNTRY_LANGUAGES, current_version, report_section

SLUG = "assessment"
OPENED_BY = "cycle.opened"


def _language() -> Any:
    """The city's language from its country, in SQL (English where the survey has no translation)."""
    if not COUNTRY_LANGUAGES:
        return literal("en", String)
    return case(*((City.country_code == code, lang) for code, lang in COUNTRY_LANGUAGES.items()), else_="en")


async def open_drafts(session: AsyncSession, event: CycleOpened) -> int:
    """A draft response for the year for every required city that has none; returns how many were made."""
    version = await current_version(session)
    now = datetime.now(UTC)
    existing = select(AssessmentResponse.city_id).where(AssessmentResponse.year == event.year)
    query = select(
        years.database_id(session),
        City.id,
        literal(event.year, Integer),
        literal(version.id, GUID()),
        _language(),
        literal(ResponseStatus.draft.value, String),
        literal(OPENED_BY, String),
        literal(False, Boolean),
        literal(now, DateTimeUTC(timezone=True)),
        literal(now, DateTimeUTC(timezone=True)),
    ).where(City.id.in_(years.required_cities(event, SLUG)), City.id.not_in(existing))
    columns = [
        "id",
        "city_id",
        "year",
        "framework_version_id",
        "language",
        "status",
        "opened_by",
        "generated",
        "created_at",
        "updated_at",
    ]
    result = await session.execute(insert(cast(Table, AssessmentResponse.__table__)).from_select(columns, query))
    return max(0, int(getattr(result, "rowcount", 0) or 0))


async def open_monitoring_year(event: DomainEvent, session: AsyncSession) -> None:
    """``cycle.opened``: the year's draft self-assessments, then the module's year recorded as open."""
    assert isinstance(event, CycleOpened)
    prepared = await open_drafts(session, event) if event.required.get(SLUG) else 0
    await years.open_year(session, SLUG, event, prepared=prepared)


async def close_monitoring_year(event: DomainEvent, session: AsyncSession) -> None:
    """``cycle.closed``: freeze the module's year with its report section."""
    assert isinstance(event, CycleClosed)
    await years.close_year(session, SLUG, event.year, await report_section(session, event.year))
