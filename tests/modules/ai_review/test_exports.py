"""CSV exports: the bottleneck survey's aggregate (no city names unless agreed) and the legal tracker."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.ai_review import services
from modules.ai_review.models import BOTTLENECKS
from modules.ai_review.schemas import LegalDevelopmentInput, SurveyInput
from tests.modules.ai_review.conftest import Cities

Client = AsyncTestClient[Litestar]
KEYS = [key for key, _label in BOTTLENECKS]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


async def test_survey_csv_has_aggregates_only_and_names_only_cities_that_agreed(
    client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        await services.answer_survey(
            session,
            cities.a,
            SurveyInput(year=2025, ratings=dict.fromkeys(KEYS, 3), quote="Nice says: too slow.", quote_public=True),
            actor=None,
        )
        await services.answer_survey(
            session, cities.b, SurveyInput(year=2025, ratings=dict.fromkeys(KEYS, 0), name_public=True), actor=None
        )
    response = await client.get("/m/ai_review/survey/results.csv?year=2025")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    table = rows(response.text)
    assert len(table) == len(BOTTLENECKS)
    first = table[0]
    assert (first["responses"], first["not_a_problem"], first["blocking"]) == ("2", "1", "1")
    assert first["significant_or_blocking_percent"] == "50"
    assert "Nice" not in response.text  # no names, no quotes
    assert "Riga" not in response.text
    participants = await client.get("/m/ai_review/survey/participants.csv?year=2025")
    assert participants.status_code == 200
    listed = rows(participants.text)
    assert [(r["city"], r["country"]) for r in listed[:1]] == [("Riga", "LV")]  # Riga agreed, Nice did not
    assert "Nice" not in participants.text
    assert "1 other cities" in listed[-1]["city"]
    page = (await client.get("/m/ai_review/survey/results?year=2025")).text
    assert "/m/ai_review/survey/results.csv?year=2025" in page
    assert "Riga (LV)" in page
    assert (await client.get("/api/v1/ai_review/survey/2025")).json()["named_participants"] == [
        {"city": "Riga", "country": "LV"}
    ]
    # A year without answers exports the header and zero counts.
    empty = rows((await client.get("/m/ai_review/survey/results.csv?year=2021")).text)
    assert {r["responses"] for r in empty} == {"0"}


async def test_legal_tracker_csv_follows_the_filters_and_neutralises_formulas(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    base = {"kind": "bill", "category": "facial_recognition", "stance": "restrictive", "link": "https://example.org"}
    async with transaction(sessions) as session:
        for country, title, when in [
            ("BE", '=HYPERLINK("x") bill', "2025-03-01"),
            ("IT", "Moratorium on facial recognition", "2024-01-01"),
        ]:
            data = LegalDevelopmentInput.model_validate(
                base | {"country_code": country, "title": title, "decided_on": when}
            )
            await services.add_legal_development(session, data, actor=None)
    response = await client.get("/m/ai_review/legal.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = rows(response.text)
    assert [r["country"] for r in table] == ["BE", "IT"]  # newest first
    assert table[0]["title"].startswith("'=")
    assert list(table[0]) == list(services.LEGAL_CSV_FIELDS)
    filtered = rows((await client.get("/m/ai_review/legal.csv?country=it")).text)
    assert [r["title"] for r in filtered] == ["Moratorium on facial recognition"]
    assert "/m/ai_review/legal.csv" in (await client.get("/m/ai_review/legal")).text
