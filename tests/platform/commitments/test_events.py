"""The commitments' events reach a real subscriber through the outbox, the relay and the worker."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from covenant_testmodule.plugin import module as testmodule
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.commitments import services
from covenant.commitments.schemas import CommitmentInput, ProgressInput
from covenant.db import transaction
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from tests.fixtures.bus import Bus, eventually
from tests.platform.commitments.conftest import Cities, commitment_fields

received: list[tuple[str, str]] = []


async def on_commitment(event: DomainEvent, _session: AsyncSession) -> None:
    received.append((event.event_name(), str(getattr(event, "commitment_id", ""))))


@pytest.fixture
def registry() -> ModuleRegistry:
    """A tiny action module subscribing to the three commitment events."""
    received.clear()
    listener = dataclasses.replace(
        testmodule,
        subscriptions={
            "commitment.published": on_commitment,
            "commitment.progressed": on_commitment,
            "commitment.achieved": on_commitment,
        },
    )
    return ModuleRegistry([listener])


async def test_publish_progress_and_achievement_are_consumed(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        data = CommitmentInput.model_validate(commitment_fields())
        c = await services.create_commitment(session, cities.a, data, actor=None, known_modules=[])
    await bus.settle()
    assert received == []  # a draft tells nobody
    async with transaction(sessions) as session:
        c = await services.get_commitment(session, c.id)  # type: ignore[assignment]
        await services.publish_commitment(session, c, actor=None)
    async with transaction(sessions) as session:
        c = await services.get_commitment(session, c.id)  # type: ignore[assignment]
        await services.add_progress(session, c, ProgressInput(reported_on=date(2025, 3, 1), percentage=50), actor=None)
    async with transaction(sessions) as session:
        c = await services.get_commitment(session, c.id)  # type: ignore[assignment]
        await services.add_progress(session, c, ProgressInput(reported_on=date(2025, 9, 1), percentage=100), actor=None)
    await bus.settle()

    async def all_arrived() -> bool:
        return len(received) >= 4

    await eventually(all_arrived)
    assert sorted(received) == sorted(
        [
            ("commitment.published", str(c.id)),
            ("commitment.progressed", str(c.id)),
            ("commitment.progressed", str(c.id)),
            ("commitment.achieved", str(c.id)),
        ]
    )
