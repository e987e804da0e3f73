"""Law-enforcement and biometric uses must be restricted, unless a reviewer allows public visibility with a reason."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.ai_review import services
from modules.ai_review.models import Technology
from modules.ai_review.schemas import PublishInput, ReviewInput, TechnologyInput
from modules.ai_review.services import ReviewError
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.ai_review.conftest import Cities, all_no, entry_fields
from tests.platform.commitments.conftest import MakeUser, api_token

Client = AsyncTestClient[Litestar]
REASON = "Place-based forecasts only, no data about persons; the council asked for a public listing."


async def new_entry(session: AsyncSession, city_id: object, **overrides: object) -> Technology:
    return await services.create_technology(
        session,
        city_id,  # type: ignore[arg-type]
        TechnologyInput.model_validate(entry_fields(**overrides)),
        actor=None,
    )


@pytest.mark.parametrize(
    ("category", "answers"),
    [
        ("facial_recognition", {}),
        ("predictive_policing", {}),
        ("video_surveillance", {"realtime_rbi": True}),
        ("video_surveillance", {"remote_biometric_id": True}),
        ("sound_detection", {"law_enforcement": True}),
        ("unstructured_data", {"law_enforcement_assessment": True}),
    ],
)
def test_restriction_grounds_cover_law_enforcement_and_biometric_uses(category: str, answers: dict[str, bool]) -> None:
    assert services.restriction_grounds(category, answers)


def test_other_uses_have_no_restriction_grounds() -> None:
    assert services.restriction_grounds("sound_detection", all_no()) == []
    assert services.restriction_grounds("video_surveillance", {"emotion_recognition": True}) == []


async def test_public_biometric_entry_is_refused_at_creation_and_update(session: AsyncSession, cities: Cities) -> None:
    with pytest.raises(ReviewError, match="must be restricted") as refused:
        await new_entry(session, cities.a, category="facial_recognition", biometric_data=True)
    assert refused.value.field == "visibility"
    t = await new_entry(session, cities.a, category="facial_recognition", biometric_data=True, visibility="restricted")
    assert t.visibility == "restricted"
    with pytest.raises(ReviewError, match="must be restricted"):
        await services.update_technology(
            session,
            t,
            TechnologyInput.model_validate(entry_fields(category="facial_recognition", biometric_data=True)),
            actor=None,
        )
    ok = await new_entry(session, cities.a)  # sound detection, public
    with pytest.raises(ReviewError, match="must be restricted"):
        await services.update_technology(
            session, ok, TechnologyInput.model_validate(entry_fields(category="predictive_policing")), actor=None
        )


async def test_answers_revealing_law_enforcement_restrict_and_unpublish_a_public_entry(
    session: AsyncSession, cities: Cities
) -> None:
    t = await new_entry(session, cities.a)
    await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)
    assert t.published_at is not None
    await services.save_review(session, t, ReviewInput(answers=all_no(law_enforcement=True)), actor=None)
    assert t.visibility == "restricted"
    assert t.published_at is None
    with pytest.raises(ReviewError, match="restricted entry cannot be published"):
        await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)


async def test_a_reviewer_override_needs_a_reason_and_allows_publication(session: AsyncSession, cities: Cities) -> None:
    t = await new_entry(session, cities.a, category="predictive_policing", personal_data=False, visibility="restricted")
    with pytest.raises(ReviewError, match="at least 20 characters") as refused:
        await services.allow_public_visibility(session, t, "   because   ", actor=None)
    assert refused.value.field == "reason"
    assert t.visibility == "restricted"
    await services.allow_public_visibility(session, t, REASON, actor=None)
    assert (t.visibility, t.public_override_reason) == ("public", REASON)
    assert t.public_override_at is not None
    await services.publish_technology(session, t, PublishInput(sensitive_information_removed=True), actor=None)
    assert t.published_at is not None
    # The city may edit the entry and keep it public: the override stays.
    await services.update_technology(
        session,
        t,
        TechnologyInput.model_validate(entry_fields(category="predictive_policing", personal_data=False)),
        actor=None,
    )
    assert t.visibility == "public"
    # Withdrawing the override restricts the entry again and takes it off the register.
    await services.withdraw_public_override(session, t, actor=None)
    assert t.visibility == "restricted"
    assert not t.public_override_reason
    assert t.published_at is None


async def test_override_through_html_and_api_is_for_reviewers_only(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("tech@nice.fr", roles=[("contributor", {"city_id": cities.a, "modules": ["ai_review"]})])
    await make_user("reviewer@eu.example", roles=[("reviewer", {"module": "ai_review"})])
    city_token = await api_token(sessions, "tech@nice.fr")
    api = f"/api/v1/ai_review/cities/{cities.a}/technologies"
    refused = await client.post(
        api + "/", json=entry_fields(category="facial_recognition", biometric_data=True), headers=city_token
    )
    assert refused.status_code in (400, 422)
    assert "must be restricted" in refused.text
    created = await client.post(
        api + "/",
        json=entry_fields(category="predictive_policing", personal_data=False, visibility="restricted"),
        headers=city_token,
    )
    assert created.status_code == 201, created.text
    tech_id = created.json()["id"]
    assert created.json()["restriction_grounds"] == ["predictive policing"]
    override = f"/api/v1/ai_review/technologies/{tech_id}/public-override"
    assert (await client.post(override, json={"reason": REASON}, headers=city_token)).status_code == 403
    reviewer_token = await api_token(sessions, "reviewer@eu.example")
    short = await client.post(override, json={"reason": "ok"}, headers=reviewer_token)
    assert short.status_code in (400, 422)
    done = await client.post(override, json={"reason": REASON}, headers=reviewer_token)
    assert done.status_code == 200, done.text
    assert (done.json()["visibility"], done.json()["public_override_reason"]) == ("public", REASON)
    # HTML: the reviewer sees the grounds and withdraws the override; a contributor may not post it.
    assert (await sign_in(client, "tech@nice.fr")).status_code == 303
    html = f"/m/ai_review/reviews/{tech_id}/visibility"
    response = await client.post(html, data={"reason": REASON}, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code in (302, 303, 403)
    assert response.status_code != 303 or "/login" in response.headers.get("location", "")
    client.cookies = httpx.Cookies()
    assert (await sign_in(client, "reviewer@eu.example")).status_code == 303
    detail = (await client.get(f"/m/ai_review/technologies/{tech_id}")).text
    assert "Law-enforcement or biometric use" in detail
    assert REASON in detail
    response = await client.post(html, data={"withdraw": "1"}, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303
    detail = (await client.get(f"/m/ai_review/technologies/{tech_id}")).text
    assert "Allow public visibility" in detail
    response = await client.post(html, data={"reason": "short"}, headers=csrf_headers(client))
    assert "at least 20 characters" in response.text
    response = await client.post(html, data={"reason": REASON}, headers=csrf_headers(client))
    assert "Withdraw the override" in response.text
