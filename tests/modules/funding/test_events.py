"""Events for real: commitment.published is consumed (suggestions appear), funding.call_opened and
funding.call_closing are published once each and reach a subscriber, deadlines reach the calendar."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from covenant_testmodule.plugin import module as testmodule
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.calendar.models import Deadline
from covenant.config import Settings
from covenant.db import transaction
from covenant.events.base import DomainEvent
from covenant.notifications.models import MailMessage
from covenant.plugins import ModuleRegistry
from modules.funding import services
from modules.funding.models import CallMatch
from modules.funding.plugin import module as funding
from tests.fixtures.bus import Bus, eventually
from tests.modules.funding.conftest import Cities, add_call, publish_commitment

received: list[tuple[str, object]] = []


async def on_funding(event: DomainEvent, _session: AsyncSession) -> None:
    received.append((event.event_name(), event.model_dump()))


@pytest.fixture
def registry() -> ModuleRegistry:
    received.clear()
    listener = dataclasses.replace(
        testmodule, subscriptions={"funding.call_opened": on_funding, "funding.call_closing": on_funding}
    )
    return ModuleRegistry([funding, listener])


@pytest.fixture
def bus_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "dramatiq_max_retries": 3,
            "dramatiq_min_backoff_ms": 10,
            "relay_poll_seconds": 0.2,
            "modules": ["funding", "testmodule"],
        }
    )


async def count(sessions: async_sessionmaker[AsyncSession], query: object) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


async def test_published_commitment_is_matched_and_notices_go_out_once(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await add_call(sessions, deadlines=[(date.today() + timedelta(days=7)).isoformat()])
    await bus.settle()
    await publish_commitment(sessions, cities.a)
    await bus.settle()

    async def matched() -> bool:
        return (
            await count(sessions, select(func.count()).select_from(CallMatch).where(CallMatch.city_id == cities.a)) == 1
        )

    await eventually(matched)
    assert await count(sessions, select(func.count()).select_from(Deadline).where(Deadline.source == "funding")) == 1

    async with transaction(sessions) as session:
        assert await services.send_notices(session) == (1, 1)
    async with transaction(sessions) as session:
        assert await services.send_notices(session) == (0, 0)  # once per call and per deadline
    await bus.settle()

    async def both() -> bool:
        return len(received) >= 2

    await eventually(both)
    names = sorted(name for name, _ in received)
    assert names == ["funding.call_closing", "funding.call_opened"]
    for _name, payload in received:
        assert payload["matched_city_ids"] == [cities.a]  # type: ignore[index]
    mails = await count(
        sessions, select(func.count()).select_from(MailMessage).where(MailMessage.to_address == "contact@nice.example")
    )
    assert mails == 2


async def test_assessment_submitted_is_read_defensively(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    """The assessment module does not exist yet: its event is read from whatever fields it carries."""
    from modules.funding.handlers import match_assessment

    class AssessmentSubmitted(DomainEvent):
        name = "assessment.submitted"
        year: int
        weakest_dimensions: list[str]

    await add_call(sessions, identifier="ESF", programme="ESF-PLUS", themes=["social_inclusion"])
    event = AssessmentSubmitted(city_id=cities.b, year=2026, weakest_dimensions=["social_cohesion"])
    async with transaction(sessions) as session:
        await match_assessment(event, session)
        await match_assessment(event, session)  # applied twice: same result
        [s] = await services.suggestions(session, cities.b)
    assert s.view.call.identifier == "ESF"
