"""The review workflow and the visibility rules, through the services."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.ai_review import demo, services
from modules.ai_review.models import Technology
from modules.ai_review.schemas import PublishInput, ReviewInput, SignOffInput, TechnologyInput
from modules.ai_review.services import RegisterFilters, ReviewError
from tests.modules.ai_review.conftest import FULL_FRIA, Cities, all_no, entry_fields
from tests.platform.commitments.conftest import add_city


async def new_entry(session: AsyncSession, city_id: object, **overrides: object) -> Technology:
    return await services.create_technology(
        session, city_id, TechnologyInput.model_validate(entry_fields(**overrides)), actor=None
    )  # type: ignore[arg-type]


async def test_incomplete_or_contradictory_reviews_cannot_be_submitted_or_signed_off(
    session: AsyncSession, cities: Cities
) -> None:
    t = await new_entry(session, cities.a, category="facial_recognition", personal_data=False, visibility="restricted")
    await services.save_review(session, t, ReviewInput(answers={"is_ai_system": True}), actor=None)
    with pytest.raises(ReviewError, match="incomplete"):
        await services.submit_review(session, t, actor=None)
    await services.save_review(session, t, ReviewInput(answers=all_no()), actor=None)
    with pytest.raises(ReviewError, match="contradict"):
        await services.submit_review(session, t, actor=None)
    with pytest.raises(ReviewError, match="submitted"):
        await services.sign_off(session, t, SignOffInput(), actor=None)


async def test_high_risk_needs_the_fria_before_sign_off_and_sign_off_records_the_event(
    session: AsyncSession, cities: Cities
) -> None:
    t = await new_entry(session, cities.a, category="facial_recognition", biometric_data=True, visibility="restricted")
    await services.save_review(session, t, ReviewInput(answers=all_no(remote_biometric_id=True)), actor=None)
    await services.submit_review(session, t, actor=None)
    with pytest.raises(ReviewError, match="fundamental rights"):
        await services.sign_off(session, t, SignOffInput(), actor=None)
    await services.sign_off(session, t, SignOffInput(approve=False, note="Complete the FRIA."), actor=None)
    assert t.review_status == "draft"
    await services.save_review(
        session, t, ReviewInput(answers=all_no(remote_biometric_id=True), fria=FULL_FRIA), actor=None
    )
    await services.submit_review(session, t, actor=None)
    result = await services.sign_off(session, t, SignOffInput(note="Fine."), actor=None)
    await session.flush()
    assert (t.review_status, t.risk_class, result.risk_class) == ("signed_off", "high", "high")
    events = list(
        await session.scalars(select(OutboxRecord).where(OutboxRecord.name == "ai_review.technology_reviewed"))
    )
    assert len(events) == 1
    assert events[0].payload["category"] == "facial_recognition"
    assert events[0].payload["risk_class"] == "high"
    assert events[0].payload["city_id"] == str(cities.a)


async def test_a_change_to_the_entry_reopens_a_signed_off_review(session: AsyncSession, cities: Cities) -> None:
    t = await new_entry(session, cities.a)
    await services.save_review(session, t, ReviewInput(answers=all_no()), actor=None)
    await services.submit_review(session, t, actor=None)
    with pytest.raises(ReviewError):
        await services.save_review(session, t, ReviewInput(answers=all_no()), actor=None)  # with the reviewer
    await services.sign_off(session, t, SignOffInput(), actor=None)
    await services.update_technology(
        session, t, TechnologyInput.model_validate(entry_fields(status="operational")), actor=None
    )
    assert t.review_status == "draft"


async def test_restricted_entries_are_never_published(session: AsyncSession, cities: Cities) -> None:
    t = await new_entry(session, cities.a, visibility="restricted")
    with pytest.raises(ReviewError, match="restricted"):
        await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)
    public = await new_entry(session, cities.a, name="Crowd counting")
    with pytest.raises(ReviewError, match="sensitive"):
        await services.publish_technology(session, public, PublishInput(), actor=None)
    await services.publish_technology(session, public, PublishInput(sensitive_information_removed=True), actor=None)
    page = await services.search_public(session, RegisterFilters())
    assert [r.technology.name for r in page.items] == ["Crowd counting"]
    # Turning a published entry restricted takes it off the register.
    await services.update_technology(
        session,
        public,
        TechnologyInput.model_validate(entry_fields(name="Crowd counting", visibility="restricted")),
        actor=None,
    )
    assert public.published_at is None
    assert (await services.search_public(session, RegisterFilters())).total == 0


async def test_register_filters_and_export(session: AsyncSession, cities: Cities) -> None:
    for city, name, category in [(cities.a, "Sound", "sound_detection"), (cities.b, "Chatbot", "citizen_app")]:
        t = await new_entry(session, city, name=name, category=category)
        await services.save_review(
            session, t, ReviewInput(answers=all_no(interacts_with_people=category == "citizen_app")), actor=None
        )
        await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)
    assert [
        r.technology.name for r in (await services.search_public(session, RegisterFilters(country="lv"))).items
    ] == ["Chatbot"]
    assert [
        r.technology.name for r in (await services.search_public(session, RegisterFilters(risk_class="limited"))).items
    ] == ["Chatbot"]
    assert [
        r.technology.name
        for r in (await services.search_public(session, RegisterFilters(category="sound_detection"))).items
    ] == ["Sound"]
    assert (await services.search_public(session, RegisterFilters(status="operational"))).total == 0
    csv_text = services.register_csv(await services.all_public(session, RegisterFilters()))
    assert csv_text.splitlines()[0].startswith("name,organisation,country,department")
    assert "Riga" in csv_text
    assert "Nice" in csv_text


async def test_demo_data_loads_idempotently(sessions: async_sessionmaker[AsyncSession]) -> None:
    for name, country in [
        ("Nice", "FR"),
        ("Madrid", "ES"),
        ("Helsinki", "FI"),
        ("Riga", "LV"),
        ("Métropole Européenne de Lille", "FR"),
    ]:
        await add_city(sessions, name, country, 300_000)
    for _ in range(2):
        async with transaction(sessions) as session:
            await demo.load(session)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Technology)) == len(demo.ENTRIES)
        classes = dict((await session.execute(select(Technology.name, Technology.risk_class))).all())
        assert classes["Post-event facial search for missing persons"] == "high"
        assert classes["Safety feedback chatbot"] == "limited"
        assert classes["Tamper-proof log of municipal police evidence"] == "not_ai"
        public = await services.all_public(session, RegisterFilters())
        assert "Post-event facial search for missing persons" not in {r.technology.name for r in public}
        queue = {t.name for t, _ in await services.review_queue(session)}
        assert {"Place-based patrol planning", "Tamper-proof log of municipal police evidence"} <= queue
        section = await services.cycle_section(
            session,
            (
                await session.scalars(select(Technology.city_id).where(Technology.name == "Safety feedback chatbot"))
            ).one(),
            2025,
        )
        assert section.completeness == 100
        report = await services.report_section(session, 2025)
        assert report.figures["technologies registered"] == len(demo.ENTRIES)
