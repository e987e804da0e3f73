"""``commitment.published`` relates published fiches to the commitment: stored once, shown on the fiche and API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.commitments.events import CommitmentPublished
from covenant.commitments.models import Commitment
from covenant.db import transaction
from covenant.events import outbox
from covenant.plugins import ModuleRegistry
from modules.practices import handlers, services
from modules.practices.models import CommitmentLink
from modules.practices.plugin import module as practices
from tests.fixtures.bus import Bus, eventually
from tests.modules.practices.conftest import Cities
from tests.modules.practices.test_services import published

Client = AsyncTestClient[Litestar]


async def add_commitment(session: AsyncSession, city: UUID, title: str, *, published_at: bool = True) -> Commitment:
    commitment = Commitment(
        city_id=city,
        title=title,
        priority="urban_planning",
        modules=["practices"],
        start_date=date(2025, 1, 1),
        due_date=date(2027, 12, 31),
        published_at=datetime.now(UTC) if published_at else None,
    )
    session.add(commitment)
    await session.flush()
    return commitment


def event_of(commitment: Commitment, modules: list[str] | None = None) -> CommitmentPublished:
    return CommitmentPublished(
        city_id=commitment.city_id,
        commitment_id=commitment.id,
        title=commitment.title,
        priority=commitment.priority,
        modules=commitment.modules if modules is None else modules,
        due_date=commitment.due_date,
    )


@pytest.fixture
def registry() -> ModuleRegistry:
    """The practices module with its own subscriptions (``commitment.published`` among them)."""
    return ModuleRegistry([practices])


async def test_related_fiches_are_linked_once_and_shown(
    client: Client, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        bollards = await published(session, cities.a, title="Bollards and benches on the seafront promenade")
        tech = await published(session, cities.a, title="Cameras at the station", measures=["technology"])
        commitment = await add_commitment(session, cities.b, "Protect the promenade with street furniture")
        other = await add_commitment(session, cities.b, "Train the police", published_at=True)
        other.modules = ["training"]
    async with transaction(sessions) as session:
        await handlers.link_commitment_fiches(event_of(commitment), session)
        await handlers.link_commitment_fiches(event_of(commitment), session)  # redelivered: nothing new
        await handlers.link_commitment_fiches(event_of(other, ["training"]), session)  # not for this module
    async with sessions() as session:
        links = list(await session.scalars(select(CommitmentLink).order_by(CommitmentLink.score.desc())))
    # both fiches speak of street furniture; only the first of the promenade too: it comes first
    assert [link.fiche_id for link in links] == [bollards.id, tech.id]
    assert links[0].score > links[1].score
    assert links[0].commitment_id == commitment.id
    assert links[0].city_id == cities.b
    assert "promenade" in links[0].reason
    assert {link.commitment_id for link in links} == {commitment.id}  # the training commitment is left alone

    page = await client.get(f"/m/practices/fiches/{bollards.id}")
    assert "Protect the promenade with street furniture" in page.text
    assert f'href="/commitments/{commitment.id}"' in page.text
    api = (await client.get(f"/api/v1/practices/fiches/{bollards.id}")).json()
    assert [(c["commitment_id"], c["city_name"]) for c in api["commitments"]] == [(str(commitment.id), "Riga")]
    assert api["commitments"][0]["url"] == f"/commitments/{commitment.id}"

    async with transaction(sessions) as session:  # an unpublished commitment disappears from the fiche
        (await session.get(Commitment, commitment.id)).published_at = None  # type: ignore[union-attr]
    assert (await client.get(f"/api/v1/practices/fiches/{bollards.id}")).json()["commitments"] == []


async def test_priority_measures_link_when_no_word_is_shared(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        lit = await published(session, cities.a, title="Brighter squares", measures=["lighting"])
        commitment = await add_commitment(session, cities.b, "Redesign two neighbourhoods")
        links = await services.link_commitment(
            session,
            commitment_id=commitment.id,
            city_id=cities.b,
            title=commitment.title,
            priority="urban_planning",
            modules=[],
        )
    assert [link.fiche_id for link in links] == [lit.id]
    assert "Lighting" in links[0].reason


async def test_commitment_published_is_consumed_for_real(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        fiche = await published(session, cities.a, title="Safer promenade by design")
        commitment = await add_commitment(session, cities.b, "A safer promenade for summer events")
    async with transaction(sessions) as session:
        outbox.record(session, event_of(commitment))
    await bus.settle()

    async def linked() -> bool:
        count = await bus.scalar(
            select(func.count()).select_from(CommitmentLink).where(CommitmentLink.fiche_id == fiche.id)
        )
        return bool(count == 1)

    await eventually(linked)
