"""The membership events reach a subscriber for real: outbox → relay → broker → worker → handler."""

from __future__ import annotations

import dataclasses

import pytest
from covenant_testmodule.models import Tally
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.events import MembershipEvent
from covenant.events.base import DomainEvent
from covenant.events.catalogue import build_catalogue
from covenant.plugins import ModuleRegistry
from tests.fixtures.bus import BUS_MODULE, Bus, eventually
from tests.platform.cities.conftest import Cities, make_member

CITY_EVENTS = ("city.applied", "city.signed", "city.rejected", "city.suspended", "city.reinstated", "city.withdrew")


async def note_city_event(event: DomainEvent, session: AsyncSession) -> None:
    """A module reacting to a city's membership: it records what it saw."""
    assert isinstance(event, MembershipEvent)
    session.add(Tally(city_id=event.city_id, event_id=event.event_id, note=f"{event.name} {event.city_name}"))


@pytest.fixture
def registry() -> ModuleRegistry:
    subscriptions = {**BUS_MODULE.subscriptions, **dict.fromkeys(CITY_EVENTS, note_city_event)}
    return ModuleRegistry([dataclasses.replace(BUS_MODULE, subscriptions=subscriptions)])


def test_the_core_publishes_the_city_events(registry: ModuleRegistry) -> None:
    catalogue = build_catalogue(registry)
    for name in CITY_EVENTS:
        assert catalogue.events[name].publisher == "core"
        module_subscribers = [s for s in catalogue.events[name].subscribers if not s.startswith("core.")]
        assert module_subscribers == ["testmodule.note_city_event"]
    # The core opens a new signatory's sections of a running monitoring cycle.
    assert "core.open_sections_for_new_signatory" in catalogue.events["city.signed"].subscribers


async def test_a_subscriber_applies_each_membership_event_once(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await make_member(sessions, cities.a, "withdrawn")  # applied, signed, withdrew
    await make_member(sessions, cities.b, "suspended")  # applied, signed, suspended
    await bus.settle()

    async def notes() -> list[str]:
        async with sessions() as session:
            return sorted(await session.scalars(select(Tally.note)))

    expected = sorted(
        [
            "city.applied Nice",
            "city.signed Nice",
            "city.withdrew Nice",
            "city.applied Riga",
            "city.signed Riga",
            "city.suspended Riga",
        ]
    )

    async def all_applied() -> bool:
        return await notes() == expected

    await eventually(all_applied)
    await bus.settle()
    assert await notes() == expected
    assert await bus.tallies(city_id=cities.b) == 3
