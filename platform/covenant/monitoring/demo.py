"""Demo monitoring years: last year's cycle closed with a published report, and this year's cycle open with
the demo signatories — some sections submitted, one validated, one returned with a comment, the rest in
progress after their automatic checks. Idempotent: a year that has a cycle is left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.monitoring import report as reports
from covenant.monitoring import services
from covenant.monitoring.models import COMMITMENTS, MonitoringCycle, MonitoringSection, SectionStatus
from covenant.monitoring.schemas import CycleInput
from covenant.plugins import ModuleRegistry

RETURN_COMMENT = (
    "Thank you. Please add the evaluation figures of the pilot and link the commitment it serves; "
    "then submit the section again."
)


async def _sections(session: AsyncSession, cycle: MonitoringCycle) -> list[tuple[MonitoringSection, str]]:
    rows = await session.execute(
        select(MonitoringSection, City.name)
        .join(City, City.id == MonitoringSection.city_id)
        .where(MonitoringSection.cycle_id == cycle.id)
        .order_by(City.name, MonitoringSection.module)
    )
    return [(s, n) for s, n in rows.all()]


async def _last_year(session: AsyncSession, registry: ModuleRegistry, year: int) -> str:
    cycle = await services.create_cycle(
        session,
        CycleInput(
            year=year,
            opens_on=date(year, 2, 1),
            submission_deadline=date(year, 10, 31),
            validation_deadline=date(year, 12, 15),
        ),
        registry=registry,
        actor=None,
    )
    await services.open_cycle(session, cycle, registry=registry, actor=None)
    await session.flush()
    cities = sorted({name for _s, name in await _sections(session, cycle)})
    late = set(cities[-2:])  # two cities did not finish last year
    when = datetime(year, 11, 20, 10, 0, tzinfo=UTC)
    for section, name in await _sections(session, cycle):
        if name in late and section.module != COMMITMENTS:
            continue
        section.status = SectionStatus.validated
        section.completeness = 100
        section.missing = []
        section.submitted_at = when - timedelta(days=30)
        section.decided_at = when
        await services.award_badge(session, section.city_id, year, section.module)
    await services.close_cycle(session, cycle, confirm=True, actor=None)
    report = await reports.compile_report(session, cycle, registry=registry, actor=None)
    await reports.publish_report(session, report, cycle, actor=None)
    return f"demo monitoring {year}: closed, report published"


async def _this_year(session: AsyncSession, registry: ModuleRegistry, today: date) -> str:
    cycle = await services.create_cycle(
        session,
        CycleInput(
            year=today.year,
            opens_on=today - timedelta(days=30),
            submission_deadline=today + timedelta(days=45),
            validation_deadline=today + timedelta(days=75),
        ),
        registry=registry,
        actor=None,
    )
    await services.open_cycle(session, cycle, registry=registry, actor=None)
    await session.flush()
    city_ids = sorted({(name, s.city_id) for s, name in await _sections(session, cycle)})
    for _name, city_id in city_ids:
        await services.checklist(session, cycle, city_id, registry=registry)
    now = datetime.now(UTC)
    by_city: dict[str, list[MonitoringSection]] = {}
    for section, name in await _sections(session, cycle):
        by_city.setdefault(name, []).append(section)
    names = sorted(by_city)
    if names:  # the first city submitted everything; its commitments section is validated
        for section in by_city[names[0]]:
            section.status, section.completeness, section.missing = SectionStatus.submitted, 100, []
            section.submitted_at = now - timedelta(days=3)
        commitments = next((s for s in by_city[names[0]] if s.module == COMMITMENTS), None)
        if commitments is not None:
            await services.validate_section(
                session, cycle, commitments, comment="Clear and complete: thank you.", actor=None
            )
    if len(names) > 1:  # the second submitted; one of its sections came back with a comment
        for section in by_city[names[1]]:
            section.status, section.completeness, section.missing = SectionStatus.submitted, 100, []
            section.submitted_at = now - timedelta(days=2)
        returned = next((s for s in by_city[names[1]] if s.module != COMMITMENTS), by_city[names[1]][0])
        await services.return_section(session, cycle, returned, comment=RETURN_COMMENT, actor=None, registry=registry)
    return f"demo monitoring {today.year}: open, {len(names)} cities taking part"


async def load_demo(session: AsyncSession, registry: ModuleRegistry, today: date | None = None) -> list[str]:
    today = today or date.today()
    lines: list[str] = []
    if await services.cycle_by_year(session, today.year - 1) is None:
        lines.append(await _last_year(session, registry, today.year - 1))
    if await services.cycle_by_year(session, today.year) is None:
        lines.append(await _this_year(session, registry, today))
    return lines
