"""The scale generator: it loads a coherent, reproducible Covenant on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks.generate import GENERATED_DOMAIN, GenerationError, Synth, generate_into
from covenant.cities.models import City, Membership
from covenant.commitments.models import Commitment, ProgressUpdate
from covenant.events.catalogue import build_catalogue
from covenant.events.models import InboxRecord, OutboxRecord
from covenant.events.relay import Relay
from tests.benchmarks.conftest import SHIPPED_MODULES, TODAY, shipped_registry

pytestmark = pytest.mark.backend

N = 200


async def count(session: AsyncSession, table: str) -> int:
    return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608 - fixed names


async def test_generates_a_coherent_covenant(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
    report = await generate_into(engine, N, registry=shipped_registry(), today=TODAY)

    assert report.cities == N
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(City)) == N
        assert await session.scalar(select(func.count()).select_from(Membership)) == N
        for table, rows in report.rows.items():
            assert await count(session, table) == rows, table
        # Every module got its share, and the activity is skewed: the busiest city has several times the mean.
        for table in ("commitment", "funding_call", "ai_review_technology", "training_session", "cohesion_measure"):
            assert report.rows.get(table, 0) > 0, table
        assert report.rows.get("practices_fiche", 0) > 0
        # Three years of self-assessments, scored by the module over each year's cohort.
        assert report.rows.get("assessment_answer", 0) > report.rows.get("assessment_response", 0) > 0
        years = (await session.execute(text("SELECT DISTINCT year FROM assessment_score"))).scalars().all()
        assert len(years) == 3
        assert await count(session, "assessment_score") == report.rows["assessment_response"]
        per_city = (
            await session.execute(select(func.count()).select_from(Commitment).group_by(Commitment.city_id))
        ).scalars()
        counts = sorted(per_city, reverse=True)
        assert counts[0] >= 3 * (sum(counts) / N)
        # Progress updates belong to published commitments; achieved ones end at 100 %.
        orphans = await session.scalar(
            select(func.count())
            .select_from(ProgressUpdate)
            .join(Commitment, Commitment.id == ProgressUpdate.commitment_id)
            .where(Commitment.published_at.is_(None))
        )
        assert orphans == 0
        achieved_below_100 = (
            select(func.count())
            .select_from(Commitment)
            .where(Commitment.status == "achieved", Commitment.progress != 100)
        )
        assert not await session.scalar(achieved_below_100)
        # Every generated moment is in the past, older than the relay's re-send window.
        newest = await session.scalar(select(func.max(OutboxRecord.published_at)))
        newest = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
        assert newest < datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)


async def test_generated_events_are_published_and_applied(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The history leaves nothing for the relay to send and nothing a subscriber still waits for: a new
    event of a generated city is not held back by the per-city ordering check."""
    await generate_into(engine, N, registry=shipped_registry(), today=TODAY)
    catalogue = build_catalogue(shipped_registry())

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxRecord)) > N
        assert not await session.scalar(
            select(func.count()).select_from(OutboxRecord).where(OutboxRecord.published_at.is_(None))
        )
        for subscriber in catalogue.subscribers.values():
            unapplied = await session.scalar(
                select(func.count())
                .select_from(OutboxRecord)
                .where(
                    OutboxRecord.name.in_(subscriber.events),
                    ~select(InboxRecord.id)
                    .where(InboxRecord.event_id == OutboxRecord.event_id, InboxRecord.subscriber == subscriber.name)
                    .exists(),
                )
            )
            assert unapplied == 0, subscriber.name
    from dramatiq.brokers.stub import StubBroker

    relay = Relay(sessions, StubBroker(), catalogue)
    assert await relay.publish_pending() == 0


async def test_a_second_run_is_refused(engine: AsyncEngine) -> None:
    await generate_into(engine, 20, registry=shipped_registry(), today=TODAY)
    with pytest.raises(GenerationError, match="already holds 20 generated cities"):
        await generate_into(engine, 20, registry=shipped_registry(), today=TODAY)


async def test_the_scale_is_bounded(engine: AsyncEngine) -> None:
    with pytest.raises(GenerationError):
        await generate_into(engine, 0, registry=shipped_registry(), today=TODAY)
    with pytest.raises(GenerationError):
        await generate_into(engine, 100_001, registry=shipped_registry(), today=TODAY)


def test_same_seed_same_world() -> None:
    catalogue = build_catalogue(shipped_registry())

    def world(seed: int) -> Synth:
        synth = Synth(
            150, seed=seed, today=TODAY, catalogue=catalogue, modules=SHIPPED_MODULES, programmes=[], target_groups=[]
        )
        synth.build()
        return synth

    first, again, other = world(1), world(1), world(2)
    assert {t: len(r) for t, r in first.rows.items()} == {t: len(r) for t, r in again.rows.items()}
    assert [c["id"] for c in first.rows["city"]] == [c["id"] for c in again.rows["city"]]
    assert [c["title"] for c in first.rows["commitment"]] == [c["title"] for c in again.rows["commitment"]]
    assert [c["id"] for c in first.rows["city"]] != [c["id"] for c in other.rows["city"]]
    assert all(c["contact_email"].endswith(f"@{GENERATED_DOMAIN}") for c in first.rows["city"])
