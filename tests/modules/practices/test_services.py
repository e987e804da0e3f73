"""Domain rules: the review workflow, SMART indicators, image checks, full-text search, campaigns, rules."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.practices import demo, handlers, services
from modules.practices.models import CampaignInvitation, FicheStatus, PracticeFiche
from modules.practices.schemas import CampaignInput, FicheInput, IndicatorInput, ReviewInput
from modules.practices.services import FicheFilters, PracticeError
from tests.modules.practices.conftest import Cities, fiche_fields, indicator_fields, png_bytes


def files_in(directory: Path) -> int:
    return len(list(directory.iterdir()))


async def new_fiche(session: AsyncSession, city: UUID | None, **overrides: object) -> PracticeFiche:
    return await services.create_fiche(session, city, FicheInput.model_validate(fiche_fields(**overrides)), actor=None)


async def published(session: AsyncSession, city: UUID | None, **overrides: object) -> PracticeFiche:
    fiche = await new_fiche(session, city, **overrides)
    await services.submit_fiche(session, fiche, actor=None)
    await services.start_review(session, fiche, actor=None)
    await services.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)
    return fiche


async def test_workflow_from_draft_to_published_emits_the_event(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.a)
        assert fiche.status == FicheStatus.draft
        await services.submit_fiche(session, fiche, actor=None)
        assert fiche.status == FicheStatus.submitted
        with pytest.raises(PracticeError, match="in review"):
            await services.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)
        with pytest.raises(PracticeError):
            await services.update_fiche(session, fiche, FicheInput.model_validate(fiche_fields()), actor=None)
        await services.review_fiche(session, fiche, ReviewInput(decision="comment", body="Add the cost."), actor=None)
        assert fiche.status == FicheStatus.in_review
        await services.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)
        assert fiche.status == FicheStatus.published
        assert fiche.published_at is not None
    async with sessions() as session:
        names = list(await session.scalars(select(OutboxRecord.name)))
        assert names.count("practices.fiche_published") == 1
        assert [c.decision for c in await services.comments_of(session, fiche.id)] == ["comment"]


async def test_changes_requested_reopen_the_fiche_and_rejection_closes_it(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.a)
        await services.submit_fiche(session, fiche, actor=None)
        await services.review_fiche(
            session, fiche, ReviewInput(decision="request_changes", body="Pictures, please."), actor=None
        )
        assert fiche.status == FicheStatus.changes_requested
        await services.update_fiche(session, fiche, FicheInput.model_validate(fiche_fields(title="Better")), actor=None)
        await services.submit_fiche(session, fiche, actor=None)
        await services.review_fiche(session, fiche, ReviewInput(decision="reject", body="Out of scope."), actor=None)
        assert fiche.status == FicheStatus.rejected
        with pytest.raises(PracticeError):
            await services.submit_fiche(session, fiche, actor=None)


def test_review_decisions_need_an_explanation() -> None:
    with pytest.raises(ValidationError, match="comment is needed"):
        ReviewInput(decision="reject", body="")


def test_smart_indicators_need_both_values_and_dates_in_order() -> None:
    IndicatorInput.model_validate(indicator_fields())
    with pytest.raises(ValidationError, match="baseline_value"):
        IndicatorInput.model_validate(indicator_fields(baseline_value=None))
    with pytest.raises(ValidationError, match="baseline_date"):
        IndicatorInput.model_validate({k: v for k, v in indicator_fields().items() if k != "baseline_date"})
    with pytest.raises(ValidationError, match="after date must come after"):
        IndicatorInput.model_validate(indicator_fields(after_date="2018-01-01"))


def test_unknown_measures_and_places_are_refused() -> None:
    with pytest.raises(ValidationError, match="Unknown measures"):
        FicheInput.model_validate(fiche_fields(measures=["magic"]))
    with pytest.raises(ValidationError, match="kind of place"):
        FicheInput.model_validate(fiche_fields(place_kind="moon"))


async def test_images_are_checked_by_content_and_get_a_thumbnail(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, tmp_path: Path
) -> None:
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.a)
        tmp_path = tmp_path / "uploads"
        kwargs: dict[str, Any] = {"stage": "before", "caption": "", "directory": tmp_path, "actor": None}
        with pytest.raises(PracticeError, match="not an image"):
            await services.add_image(session, fiche, alt_text="A square", raw=b"GIF89a not really" * 10, **kwargs)
        with pytest.raises(PracticeError, match="not an image"):
            await services.add_image(session, fiche, alt_text="A square", raw=b"%PDF-1.7 " + b"x" * 100, **kwargs)
        big = b"\x89PNG" + b"0" * services.MAX_IMAGE_BYTES
        with pytest.raises(PracticeError, match="10 MB"):
            await services.add_image(session, fiche, alt_text="A square", raw=big, **kwargs)
        with pytest.raises(PracticeError, match="Describe the image"):
            await services.add_image(session, fiche, alt_text=" ", raw=png_bytes(), **kwargs)
        image = await services.add_image(
            session, fiche, alt_text="The square before: open to cars", raw=png_bytes((1600, 1200)), **kwargs
        )
    assert image.content_type == "image/png"
    assert (image.width, image.height) == (1600, 1200)
    stored = sorted(p.name for p in tmp_path.iterdir())
    assert stored == sorted([image.stored_name, image.thumbnail_name])
    from PIL import Image

    with Image.open(tmp_path / image.thumbnail_name) as thumb:
        assert max(thumb.size) <= 480
        assert thumb.format == "JPEG"


async def test_full_text_search_with_facets(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with transaction(sessions) as session:
        await published(session, cities.a)
        await published(
            session,
            cities.b,
            title="Lighting the riverside path",
            place_kind="waterfront",
            measures=["lighting", "sight_lines"],
            problem="Dark, narrow riverside passage feared at night.",
            year=2023,
        )
        await new_fiche(session, cities.a, title="Draft about lighting")  # drafts are never found
    async with sessions() as session:
        everything = await services.search_public(session, FicheFilters())
        assert everything.page.total == 2
        assert dict(everything.facets["country"]) == {"FR": 1, "LV": 1}
        assert dict(everything.facets["measure"])["lighting"] == 1
        found = await services.search_public(session, FicheFilters(q="riverside light"))  # prefixes, every word
        assert [v.fiche.title for v in found.page.items] == ["Lighting the riverside path"]
        if session.get_bind().dialect.name == "sqlite":  # FTS5 folds accents; PostgreSQL's "simple" does not
            assert (await services.search_public(session, FicheFilters(q="massena bollard"))).page.total == 1
        by_city = await services.search_public(session, FicheFilters(q="riga"))  # the city's name is indexed
        assert by_city.page.total == 1
        assert (await services.search_public(session, FicheFilters(q="draft"))).page.total == 0
        assert await services.search_public(session, FicheFilters(q='" OR * NEAR('))  # operators are harmless
        faceted = await services.search_public(session, FicheFilters(measure="street_furniture", country="FR"))
        assert faceted.page.total == 1
        assert (await services.search_public(session, FicheFilters(year=2023, place_kind="waterfront"))).page.total == 1


async def test_campaign_invites_signatories_and_new_ones_once(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        campaign = await services.create_campaign(
            session,
            CampaignInput(title="Survey 2026", deadline=date.today() + timedelta(days=30), city_ids=[cities.a]),
            actor=None,
        )
    from covenant.cities.events import CitySigned

    event = CitySigned(
        city_id=cities.b,
        membership_id=cities.b,
        city_name="Riga",
        country_code="LV",
        adhesion_date=date(2026, 1, 1),
        population=605_000,
    )
    for _ in range(2):  # a redelivered event changes nothing
        async with transaction(sessions) as session:
            await handlers.invite_new_signatory(event, session)
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.b)
        await services.submit_fiche(session, fiche, actor=None)
    async with sessions() as session:
        answers = {
            a["city"]: a["answered_at"] is not None for a in await services.campaign_answers(session, campaign.id)
        }
        assert answers == {"Nice": False, "Riga": True}
        assert await session.scalar(select(func.count()).select_from(CampaignInvitation)) == 2


async def test_rules_of_thumb_count_supporting_fiches(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        await published(session, cities.a)
    async with sessions() as session:
        rules = await services.rules_of_thumb(session)
    assert len(rules) == 10
    by_number = {r["number"]: r["supporting"] for r in rules}
    assert by_number[2] == 1  # hostile-vehicle mitigation
    assert by_number[3] == 0  # lighting
    assert len(services.inventory()) >= 5


async def test_demo_data_is_idempotent(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, tmp_path: Path
) -> None:
    for _ in range(2):
        async with transaction(sessions) as session:
            await demo.load_demo(session, tmp_path / "uploads")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PracticeFiche)) == 8
        result = await services.search_public(session, FicheFilters(q="pericles"))
        assert result.page.total == 1
        result = await services.search_public(session, FicheFilters())
        assert result.page.total == 7  # LETSCROWD waits in review
        assert all(len(v.before) == 1 and len(v.after) == 1 for v in result.page.items)
    assert files_in(tmp_path / "uploads") == 8 * 4  # two pictures and two thumbnails per fiche


async def test_cycle_section_follows_the_city_fiches(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        assert (await services.cycle_section(session, cities.a, 2021)).status == "not_started"
        await published(session, cities.a)
        assert (await services.cycle_section(session, cities.a, 2021)).completeness == 100
        report = await services.report_section(session, date.today().year)
        assert report.figures["published_total"] == 1


async def test_peer_fiches_are_recommended_for_the_weakest_dimensions(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    from covenant.events.base import DomainEvent

    class AssessmentSubmitted(DomainEvent):  # the assessment module's event, as far as this module reads it
        name = "assessment.submitted"
        year: int
        weakest_dimensions: list[str]

    async with transaction(sessions) as session:
        await published(session, cities.b)  # Riga: hostile-vehicle mitigation, street furniture
        await published(session, cities.a, title="Nice's own lighting", measures=["lighting"])
        await published(session, cities.b, title="Riga trains its staff", measures=["training"])
    event = AssessmentSubmitted(city_id=cities.a, year=2026, weakest_dimensions=["security_by_design"])
    for _ in range(2):  # redelivered: nothing more
        async with transaction(sessions) as session:
            await handlers.recommend_after_assessment(event, session)
    async with sessions() as session:
        recommended = await services.recommendations_for(session, cities.a)
    assert [title for _rec, title in recommended] == [fiche_fields()["title"]]  # a peer's, not its own
    assert "Riga" in recommended[0][0].reason
