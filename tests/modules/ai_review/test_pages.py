"""Through HTTP: a city's register entries and review, the reviewers' sign-off, the public register,
the JSON API, and who may do what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.ai_review.conftest import FULL_FRIA, Cities, all_no, entry_fields
from tests.platform.commitments.conftest import MakeUser, api_token

Client = AsyncTestClient[Litestar]


@asynccontextmanager
async def signed_out(client: Client) -> AsyncIterator[Client]:
    saved = client.cookies
    client.cookies = httpx.Cookies()
    try:
        yield client
    finally:
        client.cookies = saved


async def contributor(client: Client, make_user: MakeUser, city: UUID, email: str = "tech@nice.fr") -> None:
    await make_user(email, roles=[("contributor", {"city_id": city, "modules": ["ai_review"]})])
    assert (await sign_in(client, email)).status_code == 303


async def reviewer(client: Client, make_user: MakeUser, email: str = "reviewer@eu.example") -> None:
    await make_user(email, roles=[("reviewer", {"module": "ai_review"})])
    client.cookies = httpx.Cookies()
    assert (await sign_in(client, email)).status_code == 303


def form_answers(answers: dict[str, Any], fria: dict[str, str] | None = None) -> dict[str, str]:
    data = {f"q_{k}": ("yes" if v is True else "no" if v is False else str(v)) for k, v in answers.items()}
    return data | {f"fria_{k}": v for k, v in (fria or {}).items()}


def html_entry(**overrides: Any) -> dict[str, Any]:
    values = entry_fields(**overrides)
    for box in ("personal_data", "biometric_data", "dpia_done"):
        if values.get(box) is True:
            values[box] = "on"
        else:
            values.pop(box, None)
    return values


async def test_city_registers_reviews_and_publishes_and_a_reviewer_signs_off(
    client: Client, make_user: MakeUser, cities: Cities
) -> None:
    await contributor(client, make_user, cities.a)
    base = f"/m/ai_review/cities/{cities.a}/technologies"
    assert f"{base}/" in (await client.get("/m/ai_review/")).text  # the register links to the city's own entries
    assert "No technology registered yet" in (await client.get(base + "/")).text
    assert (await client.get(base + "/new")).status_code == 200
    # Bad input: a too-long short description re-renders the form with the message.
    bad = await client.post(base + "/", data=html_entry(short_description="x" * 151), headers=csrf_headers(client))
    assert bad.status_code == 422
    assert "150" in bad.text
    # Bad input: a public facial recognition entry is refused with the reason.
    bad = await client.post(
        base + "/", data=html_entry(category="facial_recognition", biometric_data=True), headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    assert "must be restricted" in bad.text
    response = await client.post(
        base + "/",
        data=html_entry(category="video_surveillance", biometric_data=True),
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    tech_id = re.search(r"/technologies/([0-9a-f-]{36})/review", response.headers["location"]).group(1)  # type: ignore[union-attr]
    review = f"{base}/{tech_id}/review"
    page = await client.get(review)
    assert page.status_code == 200
    assert "Prohibited practices" in page.text
    # An incomplete questionnaire is saved but cannot be sent.
    response = await client.post(review, data={"q_is_ai_system": "yes", "submit": "1"}, headers=csrf_headers(client))
    assert response.status_code == 422
    assert "incomplete" in response.text
    # Complete, high risk (emotion recognition), with the FRIA: sent to the reviewers.
    data = form_answers(all_no(emotion_recognition=True), FULL_FRIA) | {"submit": "1"}
    response = await client.post(review, data=data, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303, response.text
    page = (await client.get(review)).text
    assert "High risk" in page
    assert "Annex III 1(c)" in page
    assert "Awaiting the reviewer" in page
    # Publication needs the confirmation.
    await client.post(f"{base}/{tech_id}/publish", data={}, headers=csrf_headers(client))
    async with signed_out(client) as anonymous:
        assert (await anonymous.get(f"/m/ai_review/technologies/{tech_id}")).status_code == 404
    await client.post(
        f"{base}/{tech_id}/publish", data={"sensitive_information_removed": "on"}, headers=csrf_headers(client)
    )
    async with signed_out(client) as anonymous:
        assert (await anonymous.get(f"/m/ai_review/technologies/{tech_id}")).status_code == 200
        assert "Sound detection in the old town" in (await anonymous.get("/m/ai_review/")).text
    # The reviewer signs off from the queue.
    await reviewer(client, make_user)
    queue = await client.get("/m/ai_review/reviews/")
    assert queue.status_code == 200
    assert "Sound detection in the old town" in queue.text
    response = await client.post(
        f"/m/ai_review/reviews/{tech_id}",
        data={"approve": "yes", "note": "OK"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    detail = (await client.get(f"/m/ai_review/technologies/{tech_id}")).text
    assert "Signed off" in detail
    assert "Nothing to review" in (await client.get("/m/ai_review/reviews/")).text


async def test_public_register_lists_only_public_entries_and_exports_them(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    token = await api_token(sessions, "tech@nice.fr")
    api = f"/api/v1/ai_review/cities/{cities.a}/technologies"
    ids = {}
    for name, visibility in [
        ("Open entry", "public"),
        ("Police facial search", "restricted"),
        ("Draft entry", "public"),
    ]:
        response = await client.post(api + "/", json=entry_fields(name=name, visibility=visibility), headers=token)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    response = await client.post(
        f"{api}/{ids['Open entry']}/publish", json={"sensitive_information_removed": True}, headers=token
    )
    assert response.status_code == 200
    assert response.json()["published"]
    refused = await client.post(
        f"{api}/{ids['Police facial search']}/publish", json={"sensitive_information_removed": True}, headers=token
    )
    assert refused.status_code == 422
    assert "restricted" in refused.text
    async with signed_out(client) as anonymous:
        page = (await anonymous.get("/m/ai_review/?country=FR")).text
        assert "Open entry" in page
        assert "Police facial search" not in page
        assert "Draft entry" not in page
        assert "Open entry" not in (await anonymous.get("/m/ai_review/?country=LV")).text
        csv_response = await anonymous.get("/m/ai_review/register.csv")
        assert "attachment" in csv_response.headers["content-disposition"]
        assert "Open entry" in csv_response.text
        assert "Police facial search" not in csv_response.text
        records = (await anonymous.get("/m/ai_review/register.json")).json()
        assert [r["name"] for r in records] == ["Open entry"]
        assert records[0]["organisation"] == "Nice"
        register = (await anonymous.get("/api/v1/ai_review/technologies")).json()
        assert register["total"] == 1
        assert register["items"][0]["name"] == "Open entry"
        assert (await anonymous.get(f"/api/v1/ai_review/technologies/{ids['Police facial search']}")).status_code == 404
        assert (await anonymous.get(f"/m/ai_review/technologies/{ids['Draft entry']}")).status_code == 404


async def test_api_review_classifies_and_a_reviewer_signs_off(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    token = await api_token(sessions, "tech@nice.fr")
    api = f"/api/v1/ai_review/cities/{cities.a}/technologies"
    tech_id = (await client.post(api + "/", json=entry_fields(category="citizen_app"), headers=token)).json()["id"]
    result = await client.put(f"{api}/{tech_id}/review", json={"answers": all_no(social_scoring=True)}, headers=token)
    assert result.status_code == 200
    assert result.json()["risk_class"] == "prohibited"
    assert "Art. 5(1)(c)" in result.json()["rules"][0]["articles"]
    result = await client.put(
        f"{api}/{tech_id}/review", json={"answers": all_no(interacts_with_people=True)}, headers=token
    )
    assert result.json()["risk_class"] == "limited"
    assert result.json()["complete"]
    assert (await client.post(f"{api}/{tech_id}/submit", headers=token)).status_code == 200
    # A contributor is not a reviewer.
    assert (
        await client.post(f"/api/v1/ai_review/technologies/{tech_id}/sign-off", json={}, headers=token)
    ).status_code == 403
    await reviewer(client, make_user)
    token = await api_token(sessions, "reviewer@eu.example")
    response = await client.post(
        f"/api/v1/ai_review/technologies/{tech_id}/sign-off", json={"approve": True}, headers=token
    )
    assert response.status_code == 200
    assert response.json()["risk_class"] == "limited"
    again = await client.post(
        f"/api/v1/ai_review/technologies/{tech_id}/sign-off", json={"approve": True}, headers=token
    )
    assert again.status_code == 422
    # Reviewers see every city's entries, restricted ones included.
    assert (await client.get(f"/api/v1/ai_review/technologies/{tech_id}")).json()["review_status"] == "signed_off"


async def test_a_city_sees_and_edits_only_its_own_entries(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.b, email="tech@riga.lv")
    api_b = f"/api/v1/ai_review/cities/{cities.b}/technologies"
    token_b = await api_token(sessions, "tech@riga.lv")
    tech_b = (await client.post(api_b + "/", json=entry_fields(), headers=token_b)).json()["id"]
    client.cookies = httpx.Cookies()
    await contributor(client, make_user, cities.a)
    token = await api_token(sessions, "tech@nice.fr")
    assert (await client.get(f"/m/ai_review/cities/{cities.b}/technologies/")).status_code == 403
    assert (await client.get(f"/m/ai_review/cities/{cities.b}/technologies/{tech_b}/review")).status_code == 403
    response = await client.post(
        f"/m/ai_review/cities/{cities.b}/technologies/", data=html_entry(), headers=csrf_headers(client)
    )
    assert response.status_code == 403
    assert (await client.get(api_b + "/", headers=token)).status_code == 403
    assert (await client.put(f"{api_b}/{tech_b}/review", json={"answers": {}}, headers=token)).status_code == 403
    # Nor through its own city's address.
    assert (await client.get(f"/m/ai_review/cities/{cities.a}/technologies/{tech_b}/edit")).status_code == 404
    assert (await client.get(f"/m/ai_review/technologies/{tech_b}")).status_code == 404  # unpublished, another city
    assert (await client.get("/m/ai_review/reviews/")).status_code == 403
    async with signed_out(client) as anonymous:
        response = await anonymous.get(f"/m/ai_review/cities/{cities.a}/technologies/", follow_redirects=False)
        assert response.status_code in (302, 303, 401)
        assert (await anonymous.get(f"/api/v1/ai_review/cities/{cities.a}/technologies/")).status_code == 401
        assert (await anonymous.get("/m/ai_review/")).status_code == 200


async def test_api_routes_are_in_the_openapi_schema(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = [p for p in schema["paths"] if p.startswith("/api/v1/ai_review/")]
    assert len(paths) >= 5
