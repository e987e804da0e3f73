"""A sign-off's ai_review.technology_reviewed reaches a real subscriber through the outbox, relay and worker."""

from __future__ import annotations

import dataclasses

import pytest
from covenant_testmodule.plugin import module as testmodule
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from modules.ai_review import services
from modules.ai_review.plugin import module
from modules.ai_review.schemas import ReviewInput, SignOffInput, TechnologyInput
from tests.fixtures.bus import Bus, eventually
from tests.modules.ai_review.conftest import Cities, all_no, entry_fields

received: list[dict[str, object]] = []


async def on_reviewed(event: DomainEvent, _session: AsyncSession) -> None:
    received.append(event.model_dump(mode="json"))


@pytest.fixture
def registry() -> ModuleRegistry:
    """ai_review itself plus a listener module (as assessment will be) subscribing to its event."""
    received.clear()
    listener = dataclasses.replace(testmodule, subscriptions={"ai_review.technology_reviewed": on_reviewed})
    return ModuleRegistry([module, listener])


async def test_sign_off_is_delivered_with_city_category_and_risk_class(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        t = await services.create_technology(
            session, cities.a, TechnologyInput.model_validate(entry_fields(category="citizen_app")), actor=None
        )
        await services.save_review(session, t, ReviewInput(answers=all_no(interacts_with_people=True)), actor=None)
        await services.submit_review(session, t, actor=None)
    await bus.settle()
    assert received == []  # submission alone tells nobody
    async with transaction(sessions) as session:
        t = await services.get_technology(session, t.id)  # type: ignore[assignment]
        await services.sign_off(session, t, SignOffInput(), actor=None)
    await bus.settle()

    async def arrived() -> bool:
        return len(received) >= 1

    await eventually(arrived)
    assert len(received) == 1
    event = received[0]
    assert (event["city_id"], event["technology_id"], event["category"], event["risk_class"]) == (
        str(cities.a),
        str(t.id),
        "citizen_app",
        "limited",
    )
