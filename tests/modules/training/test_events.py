"""training.session_evaluated leaves through the outbox to a real subscriber; cohesion's lessons reach the toolbox."""

from __future__ import annotations

import dataclasses
from datetime import date
from uuid import UUID

import pytest
from covenant_testmodule.plugin import module as testmodule
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events import outbox
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from modules.training import services
from modules.training.models import ToolboxEntry, TrainingSession
from modules.training.plugin import module as training
from modules.training.schemas import AnswerInput
from tests.fixtures.bus import Bus, eventually
from tests.modules.training.conftest import Cities
from tests.modules.training.test_pilots import planned_session

received: list[dict[str, object]] = []


class LessonsPublished(DomainEvent):
    """Stands in for the cohesion module's event (being written at the same time)."""

    name = "cohesion.lessons_published"
    lessons_id: UUID
    title: str
    summary: str = ""


async def on_evaluated(event: DomainEvent, _session: AsyncSession) -> None:
    received.append(event.model_dump(mode="json"))


@pytest.fixture
def registry() -> ModuleRegistry:
    received.clear()
    listener = dataclasses.replace(
        testmodule, publishes=[LessonsPublished], subscriptions={"training.session_evaluated": on_evaluated}
    )
    return ModuleRegistry([training, listener])


async def test_closing_a_questionnaire_tells_the_assessment_module(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    _, ts_id = await planned_session(sessions, cities.a, capacity=5)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        people = [await services.register_participant(session, ts, name=f"P{i}", actor=None) for i in range(4)]
        for person, score in zip(people[:2], (5, 3), strict=True):
            data = dict.fromkeys(("relevance", "quality", "trainers", "organisation", "applicability"), score)
            await services.answer_questionnaire(session, person.token, AnswerInput.model_validate(data))
    await bus.settle()
    assert received == []  # answers alone publish nothing
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        await services.close_questionnaire(session, ts, actor=None)
    await bus.settle()

    async def arrived() -> bool:
        return len(received) >= 1

    await eventually(arrived)
    event = received[0]
    assert event["city_id"] == str(cities.a)
    assert event["session_id"] == str(ts_id)
    assert event["participants"] == 4
    assert event["respondents"] == 2
    assert event["satisfaction"] == 4.0
    assert event["target_groups"] == ["local_police"]


async def test_lessons_learned_become_toolbox_entries_once(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    lessons = LessonsPublished(
        city_id=cities.b,
        lessons_id=UUID("01900000-0000-7000-8000-000000000001"),
        title="Street football against loitering: what worked",
        summary="Involve the youth workers from the start.",
    )
    async with transaction(sessions) as session:
        outbox.record(session, lessons)
    async with transaction(sessions) as session:  # delivered again: a second event with the same lessons
        outbox.record(session, lessons.model_copy(update={"event_id": UUID("01900000-0000-7000-8000-0000000000ff")}))
    await bus.settle()

    async def stored() -> bool:
        return bool(await bus.scalar(select(func.count()).select_from(ToolboxEntry)))

    await eventually(stored)
    await bus.settle()
    async with sessions() as session:
        entries = list(await session.scalars(select(ToolboxEntry)))
    assert len(entries) == 1
    assert entries[0].title == "Street football against loitering: what worked"
    assert entries[0].source == "cohesion"
    assert entries[0].city_id == cities.b


class AssessmentSubmitted(DomainEvent):
    """Stands in for the assessment module's event."""

    name = "assessment.submitted"
    year: int
    weakest_dimensions: list[str]


async def test_weak_dimensions_of_an_assessment_recommend_curricula(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    """The handler itself, applied twice (a redelivery): one row per city and year, curricula recommended."""
    from modules.training.handlers import recommend_curricula

    curriculum_id, _ = await planned_session(sessions, cities.b)  # a knowledge unit for local police
    async with transaction(sessions) as session:
        c = await services.get_curriculum(session, curriculum_id)
        assert c is not None
        await services.submit_for_review(session, c, actor=None)
        await services.review_curriculum(session, c, approve=True, actor=None)
    event = AssessmentSubmitted(city_id=cities.a, year=2025, weakest_dimensions=["regulation_and_data", "cohesion"])
    for _ in range(2):
        async with transaction(sessions) as session:
            await recommend_curricula(event, session)
    async with sessions() as session:
        priority, recommended = await services.assessment_recommendations(session, cities.a)
    assert priority is not None
    assert priority.areas == ["knowledge", "interpersonal"]
    assert [r.id for r in recommended] == [curriculum_id]
    assert services.areas_for(["something new"]) == ["know_how"]


async def test_a_new_signatory_is_invited_to_the_pilots(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    from covenant.cities.events import CitySigned
    from covenant.notifications.models import MailMessage

    signed = CitySigned(
        city_id=cities.a,
        membership_id=UUID(int=1),
        city_name="Mechelen",
        country_code="BE",
        adhesion_date=date(2025, 1, 1),
        population=87_000,
    )
    async with transaction(sessions) as session:
        outbox.record(session, signed)
    await bus.settle()

    async def mailed() -> bool:
        count = await bus.scalar(
            select(func.count()).select_from(MailMessage).where(MailMessage.to_address == "contact@city.example")
        )
        return bool(count)

    await eventually(mailed)
