"""The assessment module in the cycle: cycle.opened gives every required city its draft self-assessment
for the year in one statement (keeping a response a city already has); cycle.closed freezes the module's year."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from covenant.monitoring import services
from covenant.monitoring.events import CycleOpened
from covenant.monitoring.models import ModuleYear
from covenant.monitoring.schemas import CycleInput
from covenant.plugins import ModuleRegistry
from modules.assessment import cycle as assessment_cycle
from modules.assessment import services as assessment
from modules.assessment.models import AssessmentResponse
from tests.fixtures.bus import Bus
from tests.platform.monitoring.conftest import TODAY, YEAR, Cities, StatementCounter


def cycle_input() -> CycleInput:
    return CycleInput.model_validate(
        {
            "year": YEAR,
            "opens_on": TODAY,
            "submission_deadline": TODAY + timedelta(days=30),
            "validation_deadline": TODAY + timedelta(days=60),
        }
    )


async def test_opening_drafts_every_required_citys_self_assessment(
    bus: Bus,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    registry: ModuleRegistry,
    cities: Cities,
) -> None:
    async with transaction(sessions) as session:
        nice = await session.get(City, cities.nice)
        assert nice is not None
        kept = await assessment.open_response(session, nice, YEAR, opened_by="survey")
        cycle = await services.create_cycle(session, cycle_input(), registry=registry, actor=None)
        assert set(cycle.required) >= {"assessment", "commitments"}
        await services.open_cycle(session, cycle, registry=registry, actor=None)
    await bus.settle()
    async with sessions() as session:
        responses = {r.city_id: r for r in await session.scalars(select(AssessmentResponse))}
        year = await session.scalar(
            select(ModuleYear).where(ModuleYear.module == "assessment", ModuleYear.year == YEAR)
        )
    assert set(responses) == {cities.nice, cities.riga, cities.faenza}  # active signatories only
    assert responses[cities.nice].id == kept.id  # the city's own response is kept
    assert responses[cities.riga].opened_by == "cycle.opened"
    assert (responses[cities.riga].language, responses[cities.faenza].language) == ("en", "it")
    assert {r.status for r in responses.values()} == {"draft"}
    assert year is not None
    assert (year.sections, year.prepared) == (3, 2)

    # The drafts are one statement, and a second delivery adds nothing.
    async with transaction(sessions) as session:
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        with StatementCounter(engine) as counter:
            event = CycleOpened(
                cycle_id=cycle.id, year=YEAR, due_date=cycle.submission_deadline, required=cycle.required
            )
            assert await assessment_cycle.open_drafts(session, event) == 0
    assert len(counter.matching("INSERT INTO assessment_response")) == 1

    async with transaction(sessions) as session:
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        await services.close_cycle(session, cycle, confirm=True, actor=None)
    await bus.settle()
    async with sessions() as session:
        frozen = await session.scalar(
            select(ModuleYear).where(ModuleYear.module == "assessment", ModuleYear.year == YEAR)
        )
    assert frozen is not None
    assert frozen.closed_at is not None
    assert frozen.report is not None
