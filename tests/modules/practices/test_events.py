"""Events for real: ``practices.fiche_published`` reaches a subscriber; ``city.signed`` invites the new signatory."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.events import CitySigned
from covenant.db import transaction
from covenant.events import outbox
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from modules.practices import services
from modules.practices.events import FichePublished
from modules.practices.models import CampaignInvitation
from modules.practices.plugin import module as practices
from modules.practices.schemas import CampaignInput, FicheInput, ReviewInput
from tests.fixtures.bus import Bus, eventually
from tests.modules.practices.conftest import Cities, fiche_fields

received: list[DomainEvent] = []


async def on_published(event: DomainEvent, _session: AsyncSession) -> None:
    received.append(event)


@pytest.fixture
def registry() -> ModuleRegistry:
    """The practices module with its own subscriptions, plus a listener of its event."""
    received.clear()
    listener = dataclasses.replace(
        practices,
        slug="listener",
        route_handlers=(),
        api_route_handlers=(),
        publishes=(),
        navigation=(),
        subscriptions={"practices.fiche_published": on_published},
    )
    return ModuleRegistry([practices, listener])


async def test_publishing_a_fiche_is_consumed(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        fiche = await services.create_fiche(session, cities.a, FicheInput.model_validate(fiche_fields()), actor=None)
        await services.submit_fiche(session, fiche, actor=None)
        await services.start_review(session, fiche, actor=None)
    await bus.settle()
    assert received == []  # nothing public happened yet
    async with transaction(sessions) as session:
        fiche = await services.get_fiche(session, fiche.id)  # type: ignore[assignment]
        await services.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)
    await bus.settle()

    async def arrived() -> bool:
        return len(received) == 1

    await eventually(arrived)
    event = received[0]
    assert isinstance(event, FichePublished)
    assert event.fiche_id == fiche.id
    assert event.city_id == cities.a
    assert event.country_code == "FR"


async def test_a_new_signatory_is_invited_to_open_campaigns(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        await services.create_campaign(
            session,
            CampaignInput(title="Survey", deadline=date.today() + timedelta(days=10), city_ids=[cities.a]),
            actor=None,
        )
    async with transaction(sessions) as session:
        outbox.record(
            session,
            CitySigned(
                city_id=cities.b,
                membership_id=cities.b,
                city_name="Riga",
                country_code="LV",
                adhesion_date=date.today(),
                population=605_000,
            ),
        )
    await bus.settle()

    async def invited() -> bool:
        count = await bus.scalar(
            select(func.count()).select_from(CampaignInvitation).where(CampaignInvitation.city_id == cities.b)
        )
        return bool(count == 1)

    await eventually(invited)
