"""Events for real (relay, broker, worker): other modules' events fill the ``module`` indicators, ``city.signed``
opens the city's workspace, and a submission reaches its consumers — training's real handler among them."""

from __future__ import annotations

import dataclasses
from datetime import date
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.events import CitySigned
from covenant.cities.models import City
from covenant.db import new_id, transaction
from covenant.events import outbox
from covenant.events.base import DomainEvent
from covenant.monitoring.events import SectionSubmitted
from covenant.plugins import ModuleRegistry
from modules.ai_review.events import TechnologyReviewed
from modules.assessment import handlers, services
from modules.assessment.events import AssessmentSubmitted
from modules.assessment.models import Answer, AssessmentResponse
from modules.assessment.plugin import module as assessment
from modules.cohesion.events import EvaluationCompleted
from modules.practices.events import FichePublished
from modules.practices.plugin import module as practices
from modules.training.events import SessionEvaluated
from modules.training.models import AssessmentPriority
from modules.training.plugin import module as training
from tests.fixtures.bus import Bus, eventually
from tests.modules.assessment.conftest import Cities

YEAR = date.today().year
received: list[DomainEvent] = []


async def on_event(event: DomainEvent, _session: AsyncSession) -> None:
    received.append(event)


@pytest.fixture
def registry() -> ModuleRegistry:
    """Assessment with the real training and practices modules (publishers of two of the events it consumes, and
    consumers of its own), a stand-in publisher of the two others, and a listener of what assessment emits."""
    received.clear()
    peers = dataclasses.replace(
        assessment,
        slug="peers",
        route_handlers=(),
        api_route_handlers=(),
        navigation=(),
        commands=(),
        demo_data=None,
        cycle_section=None,
        report_section=None,
        publishes=[TechnologyReviewed, EvaluationCompleted],
        subscriptions={"assessment.submitted": on_event, "cycle.section_submitted": on_event},
    )
    return ModuleRegistry([assessment, training, practices, peers])


def reviewed(city: UUID, technology: UUID, risk: str = "high") -> TechnologyReviewed:
    return TechnologyReviewed(
        city_id=city, technology_id=technology, category="video analytics", risk_class=risk, signed_off_on=date.today()
    )


async def module_answers(sessions: async_sessionmaker[AsyncSession], city: UUID) -> dict[str, Answer]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Answer)
            .join(AssessmentResponse, AssessmentResponse.id == Answer.response_id)
            .where(AssessmentResponse.city_id == city, AssessmentResponse.year == YEAR, Answer.source == "module")
        )
        return {a.indicator_code: a for a in rows}


async def test_other_modules_events_fill_the_indicators(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        outbox.record(session, reviewed(cities.mid, new_id(), "high"))
        outbox.record(session, reviewed(cities.mid, new_id(), "minimal"))
        for attended, participants, respondents, satisfaction in ((12, 15, 10, 4.2), (8, 8, 30, 3.8), (5, 6, 0, None)):
            outbox.record(
                session,
                SessionEvaluated(
                    city_id=cities.mid,
                    session_id=new_id(),
                    curriculum_id=new_id(),
                    target_groups=["police"],
                    participants=participants,
                    attended=attended,
                    respondents=respondents,
                    satisfaction=satisfaction,
                ),
            )
        for direction in ("improved", "worsened"):
            outbox.record(
                session,
                EvaluationCompleted(
                    city_id=cities.mid,
                    evaluation_id=new_id(),
                    measure_id=new_id(),
                    measure_name="Street workers",
                    level="specific",
                    indicator="feeling_of_insecurity",
                    change=-0.3,
                    effect=-0.4,
                    direction=direction,
                    verdict="continue",
                ),
            )
        outbox.record(
            session,
            FichePublished(
                city_id=cities.mid, fiche_id=new_id(), title="Benches as bollards", place_kind="square", measures=[]
            ),
        )
    await bus.settle()

    async def filled() -> bool:
        return set(await module_answers(sessions, cities.mid)) == {"TEC04", "CAP01", "CAP02", "COH02", "COH03", "SBD05"}

    await eventually(filled)
    got = await module_answers(sessions, cities.mid)
    assert got["TEC04"].value == 2  # two technology reviews signed off
    assert got["CAP01"].value == 25  # attended, summed (the engine divides by the population)
    assert got["CAP02"].value == pytest.approx((4.2 * 10 + 3.8 * 30) / 40, abs=0.01)  # weighted by respondents
    assert got["COH02"].value == 2
    assert got["COH03"].value == 50  # one of two improved
    assert got["SBD05"].value == 1
    assert got["TEC04"].source_detail.startswith("ai_review: 2 technology review(s) signed off")
    assert "risk class" in got["TEC04"].source_detail
    assert "3 evaluated session(s), 25 participant(s) attended" in got["CAP01"].source_detail
    assert "latest 'Benches as bollards'" in got["SBD05"].source_detail
    async with sessions() as session:
        response = await services.response_of(session, cities.mid, YEAR)
        assert response is not None
        assert response.status == "draft"
        assert response.opened_by == "event"
        city = await session.get(City, cities.mid)
        assert city is not None
        current = await services.survey(session, city, YEAR)
    assert current.answered == 6  # the survey counts them; the page shows them read-only


async def test_a_redelivered_event_changes_nothing_and_a_submitted_year_is_frozen(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    first = reviewed(cities.small, new_id())
    for _ in range(2):
        async with transaction(sessions) as session:
            await handlers.technology_reviewed(first, session)
    assert (await module_answers(sessions, cities.small))["TEC04"].value == 1
    async with transaction(sessions) as session:
        await handlers.technology_reviewed(reviewed(cities.small, new_id()), session)
    assert (await module_answers(sessions, cities.small))["TEC04"].value == 2
    async with transaction(sessions) as session:
        city = await session.get(City, cities.small)
        assert city is not None
        await services.submit(session, city, YEAR, actor=None)
    async with transaction(sessions) as session:
        await handlers.technology_reviewed(reviewed(cities.small, new_id()), session)
    assert (await module_answers(sessions, cities.small))["TEC04"].value == 2


async def test_city_signed_opens_the_workspace(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        outbox.record(
            session,
            CitySigned(
                city_id=cities.other,
                membership_id=cities.other,
                city_name="Leuven",
                country_code="BE",
                adhesion_date=date.today(),
                population=102_000,
            ),
        )
    await bus.settle()

    async def opened() -> bool:
        async with sessions() as session:
            return await services.response_of(session, cities.other, YEAR) is not None

    await eventually(opened)
    async with sessions() as session:
        response = await services.response_of(session, cities.other, YEAR)
        assert response is not None
        assert (response.status, response.opened_by) == ("draft", "city.signed")


async def test_a_submission_reaches_its_consumers(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        for city_id, strong in ((cities.mid, True), (cities.other, False)):
            city = await session.get(City, city_id)
            assert city is not None
            framework = (await services.survey(session, city, YEAR)).framework
            answers = {
                i.code: ("yes" if strong else "no")
                for i in framework.indicators_for(city.size_class)
                if i.type == "yes_no" and i.source != "module"
            }
            await services.save_answers(session, city, YEAR, answers, actor=None)
            submission = await services.submit(session, city, YEAR, actor=None)
    await bus.settle()

    async def arrived() -> bool:
        return {e.name for e in received if e.city_id == cities.other} == {
            "assessment.submitted",
            "cycle.section_submitted",
        }

    await eventually(arrived)
    event = next(e for e in received if isinstance(e, AssessmentSubmitted) and e.city_id == cities.other)
    assert event == submission.event
    assert event.year == YEAR
    assert event.framework_code == "covenant-security"
    assert len(event.weakest_dimensions) == 2
    scores = event.dimension_scores
    assert all(
        scores[d] <= min(v for k, v in scores.items() if k not in event.weakest_dimensions)
        for d in event.weakest_dimensions
    )
    section = next(e for e in received if isinstance(e, SectionSubmitted) and e.city_id == cities.other)
    assert (section.module, section.year) == ("assessment", YEAR)

    async def training_noted() -> bool:
        async with sessions() as session:
            row = await session.scalar(
                select(AssessmentPriority).where(
                    AssessmentPriority.city_id == cities.other, AssessmentPriority.year == YEAR
                )
            )
            return row is not None and row.weak_dimensions == event.weakest_dimensions

    await eventually(training_noted)


async def test_two_saves_opening_the_same_survey_at_once_share_one_response(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with transaction(sessions) as session:
        city = await session.get(City, cities.mid)
        assert city is not None
        first = await services.open_response(session, city, YEAR)
    # The second request looked before the first committed: it saw no response and inserts one too.
    real = services.response_of
    calls: list[int] = []

    async def stale_then_real(session: AsyncSession, city_id: UUID, year: int) -> AssessmentResponse | None:
        calls.append(1)
        return None if len(calls) == 1 else await real(session, city_id, year)

    monkeypatch.setattr(services, "response_of", stale_then_real)
    async with transaction(sessions) as session:
        city = await session.get(City, cities.mid)
        assert city is not None
        second = await services.open_response(session, city, YEAR)
    assert second.id == first.id
    assert len(calls) == 2
