"""Matching logic: reasons, ranking, eligibility exclusions, needs from the assessment."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from modules.funding import services
from tests.modules.funding.conftest import Cities, add_call, publish_commitment


async def test_a_published_commitment_brings_matching_calls_with_reasons(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    isf = await add_call(sessions)
    await add_call(sessions, identifier="JUST-VICTIMS", programme="JUSTICE", themes=["victims"])
    commitment = await publish_commitment(sessions, cities.a)
    async with transaction(sessions) as session:
        assert await services.recompute_city(session, cities.a) == 1
        [s] = await services.suggestions(session, cities.a)
    assert s.view.call.id == isf
    kinds = {r["kind"] for r in s.reasons}
    assert {"commitment", "theme", "eligible"} <= kinds
    assert s.commitment_ids == [str(commitment)]
    assert s.score > 10


async def test_eligibility_exclusions_are_explained(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    await add_call(sessions, identifier="FR-ONLY", eligible_countries=["FR"])
    await add_call(sessions, identifier="SMALL-TOWNS", max_population=100_000)
    await add_call(sessions, identifier="BIG-CITIES", min_population=500_000)
    await add_call(sessions, identifier="COMPANIES", applicant_types=["company"])
    await publish_commitment(sessions, cities.a)
    await publish_commitment(sessions, cities.b)
    async with transaction(sessions) as session:
        await services.recompute_city(session, cities.a)
        await services.recompute_city(session, cities.b)
        nice = {s.view.call.identifier for s in await services.suggestions(session, cities.a)}
        riga = {s.view.call.identifier for s in await services.suggestions(session, cities.b)}
        city_b = await session.get(City, cities.b)
        assert city_b is not None
        excluded = {v.call.identifier: {r.kind for r in rs} for v, rs in await services.exclusions(session, city_b)}
    assert nice == {"FR-ONLY"}
    assert riga == {"BIG-CITIES"}
    assert excluded["FR-ONLY"] == {"country"}
    assert excluded["SMALL-TOWNS"] == {"population"}
    assert excluded["COMPANIES"] == {"applicant"}


async def test_closed_calls_and_unrelated_calls_are_not_suggested(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await add_call(sessions, identifier="OLD", opening_date="2020-01-01", deadlines=["2020-06-01"])
    await add_call(sessions, identifier="TRAINING", programme="ERASMUS-PLUS", themes=["training"])
    await publish_commitment(sessions, cities.a)
    async with transaction(sessions) as session:
        assert await services.recompute_city(session, cities.a) == 0
    # a commitment related to training makes the Erasmus+ call relevant
    await publish_commitment(sessions, cities.a, priority="technology", modules=["training"], title="Train the police")
    async with transaction(sessions) as session:
        await services.recompute_city(session, cities.a)
        assert [s.view.call.identifier for s in await services.suggestions(session, cities.a)] == ["TRAINING"]


async def test_weak_assessment_dimensions_raise_the_score(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await add_call(sessions, identifier="COHESION", programme="ESF-PLUS", themes=["social_inclusion"])
    async with transaction(sessions) as session:
        await services.recompute_city(session, cities.a)
        assert await services.suggestions(session, cities.a) == []
        await services.record_needs(session, cities.a, ["social_cohesion"], 2026)
        await services.recompute_city(session, cities.a)
        [s] = await services.suggestions(session, cities.a)
    assert s.reasons[0] == {"kind": "need", "detail": "social_cohesion", "ref": "social_cohesion"}


async def test_open_calls_rank_before_forthcoming_ones(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    from datetime import date, timedelta

    soon = date.today() + timedelta(days=10)
    await add_call(
        sessions, identifier="LATER", opening_date=soon.isoformat(), deadlines=[(soon + timedelta(days=30)).isoformat()]
    )
    await add_call(sessions, identifier="NOW")
    await publish_commitment(sessions, cities.a)
    async with transaction(sessions) as session:
        await services.recompute_city(session, cities.a)
        ranked = [s.view.call.identifier for s in await services.suggestions(session, cities.a)]
    assert ranked == ["NOW", "LATER"]
