"""The demo: three years of submitted self-assessments for the signatories, a generated cohort of registry cities,
scores for all, sharing and pilot feedback — deterministic, and a second run adds nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.assessment import services
from modules.assessment.demo import demo_years, load_demo
from modules.assessment.models import Answer, AssessmentResponse, AssessmentScore, IndicatorFeedback
from tests.platform.commitments.conftest import add_city


async def counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, ...]:
    found = []
    async with sessions() as session:
        for model in (AssessmentResponse, Answer, AssessmentScore, IndicatorFeedback, OutboxRecord):
            found.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
    return tuple(found)


async def test_the_demo_loads_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    signatories = [await add_city(sessions, name, "FI", 650_000) for name in ("Helsinki", "Madrid", "Mechelen")]
    for n, population in enumerate((12_000, 30_000, 80_000, 150_000, 300_000, 700_000, 2_000_000) * 2):
        await add_city(sessions, f"Registry city {n}", "DE", population + n, status=None)
    async with transaction(sessions) as session:
        await load_demo(session)
    first = await counts(sessions)
    responses, answers, scores, feedback, events = first
    assert responses == (3 + 14) * 3  # signatories and cohort, three years each
    assert scores == responses
    assert answers > responses * 20  # most indicators answered, some left empty
    assert feedback > 0
    assert events == 3  # the latest year's submission of each signatory
    async with sessions() as session:
        generated = await session.scalar(
            select(func.count()).select_from(AssessmentResponse).where(AssessmentResponse.generated.is_(True))
        )
        assert generated == 14 * 3
        years = set(await session.scalars(select(AssessmentResponse.year)))
        assert years == set(demo_years())
        assert await services.shared_city_ids(session) == {signatories[0], signatories[1]}
        coverage = list(await session.scalars(select(AssessmentScore.coverage)))
        assert min(coverage) > 0.5
        assert max(coverage) <= 1.0
        index = list(await session.scalars(select(AssessmentScore.index)))
        assert all(value is not None and 0 <= value <= 100 for value in index)
    async with transaction(sessions) as session:
        await load_demo(session)
    assert await counts(sessions) == first
