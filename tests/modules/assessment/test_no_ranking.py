"""The no-ranking rule: the benchmarking pages and JSON never show a rank, a "top" list or a league table, and
never another city's individual scores unless that city opted in to share them. A peer group too small to
hide individual scores gets no statistics at all."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.assessment.models import ScoreSharing
from tests.fixtures.web import csrf_headers
from tests.modules.assessment.benchmark_cohort import ANSWERS, Cohort, build_cohort
from tests.modules.assessment.conftest import Client, sign_in_editor

# Scores of Aalst's Belgian peers that do not share (safety, design, index), as the pages would print them.
PRIVATE = {
    "Namur": ("70.0", "75.0", "72.5"),
    "Leuven": ("60.0", "30.0", "45.0"),
    "Mechelen": ("50.0", "20.0", "35.0"),
    "Kortrijk": ("40.0", "37.5", "38.75"),
    "Hasselt": ("30.0", "0.0", "15.0"),
}
RANKING = re.compile(
    r"\brank(s|ed|ing)?\b|\btop[ -]?\d+|\bleague\b|\bbest cit|\bworst\b|\b\d+(st|nd|rd|th)\s+(place|of|out)\b"
    r"|#\s?\d+\b|\bposition\s+\d",
    re.IGNORECASE,
)


@pytest.fixture
async def cohort(sessions: async_sessionmaker[AsyncSession]) -> Cohort:
    return await build_cohort(sessions, shared=("Brugge",))


async def pages(client: Client, cohort: Cohort, *, country: bool = True) -> dict[str, str]:
    base = f"/m/assessment/cities/{cohort.viewer}/benchmark"
    api = f"/api/v1/assessment/cities/{cohort.viewer}"
    params = {"country": "true"} if country else {}
    return {
        "dashboard": (await client.get(f"{base}/", params=params)).text,
        "monitor": (await client.get(f"{base}/monitor", params={**params, "w_safety": "2"})).text,
        "scenario": (await client.get(f"{base}/scenario", params=params)).text,
        "scenario run": (
            await client.post(
                f"{base}/scenario" + ("?country=true" if country else ""),
                data={"v_S1": "90"},
                headers=csrf_headers(client),
            )
        ).text,
        "uncertainty": (await client.get(f"{base}/uncertainty", params=params)).text,
        "benchmark json": (await client.get(f"{api}/benchmark", params=params)).text,
        "peers json": (await client.get(f"{api}/peers", params=params)).text,
    }


def visible_text(html: str) -> str:
    """The words a reader sees (tags dropped), so that class names and ids do not count."""
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


async def test_no_rank_top_or_league_table_anywhere(client: Client, make_user: Any, cohort: Cohort) -> None:
    await sign_in_editor(client, make_user, cohort.viewer, "editor@aalst.eu")
    for country in (True, False):
        for name, text in (await pages(client, cohort, country=country)).items():
            words = visible_text(text).replace("This is not a ranking", "")
            assert not RANKING.search(words), (name, RANKING.search(words))


async def test_other_cities_scores_appear_only_when_they_opted_in(
    client: Client, make_user: Any, cohort: Cohort
) -> None:
    await sign_in_editor(client, make_user, cohort.viewer, "editor@aalst.eu")
    texts = await pages(client, cohort)
    dashboard = texts["dashboard"]
    shared = dashboard.split('id="shared-heading"')[1].split("</section>")[0]
    # Brugge opted in: its name and its scores (80, 90, 85) are shown together.
    assert "Brugge" in shared
    assert "<td>80.0</td>" in shared
    assert "<td>85.0</td>" in shared
    for name, scores in PRIVATE.items():
        assert name not in shared
        for text in texts.values():
            for line in text.splitlines():
                if name in line:  # a private peer may be named (peers to learn from) but never with a score
                    assert not any(f">{score}<" in line or f": {score}" in line for score in scores), (name, line)
    peers = (await client.get(f"/api/v1/assessment/cities/{cohort.viewer}/peers", params={"country": "true"})).json()
    assert [p["name"] for p in peers["shared_peers"]] == ["Brugge"]
    assert peers["shared_peers"][0]["index"] == pytest.approx(85.0)
    for group in peers["learning"]:
        for city in group["cities"]:
            assert city["index"] is None
            assert city["dimensions"] is None
    # The benchmark JSON carries aggregates only: no city id or name but the viewer's.
    benchmark = texts["benchmark json"]
    for name in ANSWERS:
        if name != "Aalst":
            assert name not in benchmark
            assert str(cohort.ids[name]) not in benchmark


async def test_opting_out_hides_the_scores_again(
    client: Client, make_user: Any, cohort: Cohort, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        await session.execute(update(ScoreSharing).values(shared=False))
    await sign_in_editor(client, make_user, cohort.viewer, "editor@aalst.eu")
    dashboard = (await client.get(f"/m/assessment/cities/{cohort.viewer}/benchmark/", params={"country": "true"})).text
    assert 'id="shared-heading"' not in dashboard
    peers = (await client.get(f"/api/v1/assessment/cities/{cohort.viewer}/peers", params={"country": "true"})).json()
    assert peers["shared_peers"] == []
    assert peers["shared_total"] == 0


async def test_a_tiny_peer_group_gets_no_statistics(client: Client, make_user: Any, cohort: Cohort) -> None:
    """With fewer than five peers a median would reveal individual scores: none is shown, nor anyone to learn
    from, nor an uncertainty band."""
    lille = cohort.ids["Lille"]
    await sign_in_editor(client, make_user, lille, "editor@lille.eu")
    body = (await client.get(f"/api/v1/assessment/cities/{lille}/peers", params={"country": "true"})).json()
    assert body["peer_count"] == 0
    assert all(s["peer_median"] is None for s in body["statistics"])
    assert body["learning"] == []
    html = (await client.get(f"/m/assessment/cities/{lille}/benchmark/uncertainty", params={"country": "true"})).text
    assert "Fewer than 5 peers" in html
