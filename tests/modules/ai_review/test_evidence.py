"""The bottleneck survey, the legal tracker and the compendium."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.ai_review import demo, services
from modules.ai_review.models import BOTTLENECKS
from modules.ai_review.schemas import SurveyInput
from modules.ai_review.services import LegalFilters, ReviewError
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.ai_review.conftest import Cities
from tests.platform.commitments.conftest import MakeUser, add_city, api_token

Client = AsyncTestClient[Litestar]
KEYS = [key for key, _label in BOTTLENECKS]


def ratings(value: int = 0, **overrides: int) -> dict[str, int]:
    return dict.fromkeys(KEYS, value) | overrides


async def test_survey_is_answered_once_per_city_and_year_and_aggregated(session: AsyncSession, cities: Cities) -> None:
    with pytest.raises(ReviewError, match="every bottleneck"):
        await services.answer_survey(session, cities.a, SurveyInput(year=2025, ratings={"funding": 2}), actor=None)
    await services.answer_survey(
        session, cities.a, SurveyInput(year=2025, ratings=ratings(1), quote="Secret", quote_public=False), actor=None
    )
    # Answering again for the same year replaces the answers.
    await services.answer_survey(
        session,
        cities.a,
        SurveyInput(
            year=2025, ratings=ratings(0, legal_uncertainty=3), experiments=2, quote="Too slow.", quote_public=True
        ),
        actor=None,
    )
    await services.answer_survey(
        session, cities.b, SurveyInput(year=2025, ratings=ratings(1, legal_uncertainty=2), quote="Private"), actor=None
    )
    await services.answer_survey(session, cities.b, SurveyInput(year=2024, ratings=ratings(3)), actor=None)
    aggregate = await services.survey_aggregate(session, 2025)
    assert aggregate.responses == 2
    assert aggregate.experiments == 2
    top = aggregate.bottlenecks[0]
    assert top.key == "legal_uncertainty"
    assert top.counts == (0, 0, 1, 1)
    assert top.serious_share == 100
    assert aggregate.quotes == ["Too slow."]  # only where the city agreed
    assert await services.survey_years(session) == [2025, 2024]


async def test_legal_tracker_filters_and_compares_member_states(session: AsyncSession) -> None:
    assert await services.load_legal_seed(session) > 0
    assert await services.load_legal_seed(session) == 0  # idempotent
    fr = await services.legal_developments(session, LegalFilters(country="fr"))
    assert fr.total >= 2
    assert all(d.country_code == "FR" for d in fr.items)
    countries, categories, matrix = await services.comparison_matrix(session)
    assert {"FR", "IT", "SE"} <= set(countries)
    assert "facial_recognition" in categories
    assert matrix[("IT", "facial_recognition")] == "restrictive"
    assert matrix[("FR", "video_surveillance")] == "conditional"  # the most recent development wins
    restrictive = await services.legal_developments(
        session, LegalFilters(stance="restrictive", category="facial_recognition")
    )
    assert all(d.stance == "restrictive" for d in restrictive.items)


async def test_survey_pages_and_legal_tracker_through_http(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("tech@nice.fr", roles=[("contributor", {"city_id": cities.a, "modules": ["ai_review"]})])
    assert (await sign_in(client, "tech@nice.fr")).status_code == 303
    base = f"/m/ai_review/cities/{cities.a}/survey/"
    assert (await client.get(base + "?year=2025")).status_code == 200
    incomplete = await client.post(base, data={"year": "2025", "r_funding": "2"}, headers=csrf_headers(client))
    assert incomplete.status_code == 422
    data: dict[str, Any] = {f"r_{k}": "1" for k in KEYS} | {"year": "2025", "quote": "Hard.", "quote_public": "on"}
    response = await client.post(base, data=data, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303, response.text
    assert (await client.get(f"/m/ai_review/cities/{cities.b}/survey/")).status_code == 403
    token = await api_token(sessions, "tech@nice.fr")
    answer = {"year": 2024, "ratings": ratings(2)}
    assert (
        await client.put(f"/api/v1/ai_review/cities/{cities.b}/survey/", json=answer, headers=token)
    ).status_code == 403
    assert (
        await client.put(f"/api/v1/ai_review/cities/{cities.a}/survey/", json=answer, headers=token)
    ).status_code == 200
    # A contributor may not add to the legal tracker.
    development = {
        "country_code": "be",
        "kind": "bill",
        "decided_on": "2025-03-01",
        "category": "facial_recognition",
        "stance": "restrictive",
        "title": "Bill banning facial recognition in public spaces",
        "link": "https://example.org/bill",
    }
    assert (await client.post("/m/ai_review/legal", data=development, headers=csrf_headers(client))).status_code == 403
    client.cookies = httpx.Cookies()
    results = await client.get("/m/ai_review/survey/results?year=2025")
    assert results.status_code == 200
    assert "Hard." in results.text
    assert "Nice" not in results.text  # quotes are anonymous
    assert (await client.get("/api/v1/ai_review/survey/2025")).json()["responses"] == 1
    await make_user("reviewer@eu.example", roles=[("reviewer", {"module": "ai_review"})])
    assert (await sign_in(client, "reviewer@eu.example")).status_code == 303
    bad = await client.post(
        "/m/ai_review/legal", data=development | {"link": "javascript:alert(1)"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    ok = await client.post("/m/ai_review/legal", data=development, headers=csrf_headers(client), follow_redirects=False)
    assert ok.status_code == 303
    client.cookies = httpx.Cookies()
    page = (await client.get("/m/ai_review/legal?country=BE")).text
    assert "Bill banning facial recognition" in page
    listed = (await client.get("/api/v1/ai_review/legal?country=BE")).json()
    assert [d["country_code"] for d in listed] == ["BE"]


async def test_demo_pages_render(client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    for name, country in [("Nice", "FR"), ("Madrid", "ES"), ("Helsinki", "FI"), ("Riga", "LV")]:
        await add_city(sessions, name, country, 300_000)
    async with transaction(sessions) as session:
        await demo.load(session)
    for path in ("/m/ai_review/", "/m/ai_review/compendium", "/m/ai_review/legal", "/m/ai_review/survey/results"):
        response = await client.get(path)
        assert response.status_code == 200, path
    compendium = (await client.get("/m/ai_review/compendium")).text
    assert "Safety feedback chatbot" in compendium
    assert "Post-event facial search" not in compendium  # restricted
    assert "Place-based patrol planning" in compendium  # predictive policing, public by a reviewer's override
    results = (await client.get("/m/ai_review/survey/results")).text
    assert "4 cities answered" in results
