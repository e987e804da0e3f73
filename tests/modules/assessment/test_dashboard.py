"""The benchmarking dashboard through HTTP: the profile against the peer group with values computed by hand,
the trend, the indicators that differ most, peers to learn from, the own monitor (htmx and plain), scenarios,
the uncertainty band, the JSON routes, the public index catalogue, and who may see a city's benchmark."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.assessment.benchmark_cohort import YEAR, Cohort, build_cohort, submit_answers
from tests.modules.assessment.conftest import Client, sign_in_editor

NAN = float("nan")
HTMX = {"hx-request": "true"}


# -- the pure parts: peer statistics and charts ----------------------------------------------------------------


def test_peer_statistics_quartiles_and_the_minimum_group() -> None:
    from modules.assessment.benchmarking import peer_statistics, profile

    matrix = np.array([[30.0, 1.0], [40.0, NAN], [50.0, 2.0], [60.0, NAN], [70.0, 3.0], [80.0, NAN]])
    safety, sparse = peer_statistics(matrix, ["safety", "sparse"])
    assert (safety.count, safety.q1, safety.median, safety.q3) == (6, 42.5, 55.0, 67.5)
    assert (sparse.count, sparse.median) == (3, None)  # fewer than five peers: nothing shown
    rows = profile({"safety": 70.0, "sparse": 1.0}, [safety, sparse])
    assert rows[0].standing == "above"
    assert rows[0].difference == pytest.approx(15.0)
    assert rows[1].standing == "unknown"


def test_indicator_gaps_and_strong_peers() -> None:
    from modules.assessment.benchmarking import indicator_gaps, strong_peers

    peers = np.array([[0.5, 0.1, 0.9]] * 5)
    above, below = indicator_gaps({"a": 0.9, "b": 0.1, "c": 0.2}, peers, ["a", "b", "c"], limit=5)
    assert [(g.code, round(g.difference, 2)) for g in above] == [("a", 0.4)]
    assert [(g.code, round(g.difference, 2)) for g in below] == [("c", -0.7)]
    scores = np.array([[10.0], [20.0], [30.0], [40.0], [50.0]])
    strong = strong_peers(scores, ["d"], eligible=np.array([True, True, True, True, False]))
    assert strong["d"].tolist() == [False, False, False, True, False]  # q3 = 40; 50 publishes nothing


def test_charts_escape_labels_and_describe_themselves() -> None:
    from modules.assessment.charts import Bar, band_chart, profile_chart, trend_chart

    svg = profile_chart(
        [Bar("<script>alert(1)</script>", 40, 20, 50, 70)],
        scale=100,
        title="T & co",
        description="D",
        city_label="City",
        peers_label="peers",
        median_label="median",
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'role="img"' in svg
    assert "<title" in svg
    assert "T &amp; co" in svg
    assert "<polyline" in trend_chart([2024, 2025], [40.0, 60.0], scale=100, title="t", description="d")
    assert 'fill-opacity="0.55"' in band_chart(20, 60, title="t", description="d", low_label="l", high_label="h")


@pytest.fixture
async def cohort(sessions: async_sessionmaker[AsyncSession]) -> Cohort:
    return await build_cohort(sessions)


def base(cohort: Cohort, name: str = "Aalst") -> str:
    return f"/m/assessment/cities/{cohort.ids[name]}/benchmark"


def api(cohort: Cohort, name: str = "Aalst") -> str:
    return f"/api/v1/assessment/cities/{cohort.ids[name]}"


async def as_editor(client: Client, make_user: Any, cohort: Cohort, name: str = "Aalst") -> None:
    await sign_in_editor(client, make_user, cohort.ids[name], f"editor@{name.lower()}.eu")


async def test_profile_against_belgian_peers_by_hand(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    body = (await client.get(f"{api(cohort)}/benchmark", params={"country": "true"})).json()
    assert body["year"] == YEAR
    assert body["size_class"] == "50k_250k"
    assert body["peer_count"] == 6
    assert body["framework_version"] == "bench-test 1"
    assert body["coverage"] == 1.0
    safety, design = body["dimensions"]
    assert (safety["code"], safety["value"]) == ("safety", 20.0)
    assert (safety["peer_q1"], safety["peer_median"], safety["peer_q3"]) == pytest.approx((42.5, 55.0, 67.5))
    assert safety["standing"] == "below"
    assert (design["value"], design["peer_median"]) == pytest.approx((10.0, 33.75))
    assert (design["peer_q1"], design["peer_q3"]) == pytest.approx((22.5, 65.625))
    assert body["index"]["value"] == pytest.approx(15.0)
    assert body["index"]["peer_median"] == pytest.approx(41.875)
    # Normalised S2: Aalst 0 vs peers' median 1 (four of six said yes) → the largest gap below.
    assert body["weaknesses"][0]["code"] == "S2"
    assert body["weaknesses"][0]["difference"] == pytest.approx(-1.0)
    assert body["strengths"] == []  # Aalst is nowhere above its peers' median
    assert [y["year"] for y in body["trend"]] == [YEAR]


async def test_peer_group_is_the_size_class_and_optionally_the_country(
    client: Client, make_user: Any, cohort: Cohort
) -> None:
    await as_editor(client, make_user, cohort)
    everywhere = (await client.get(f"{api(cohort)}/benchmark")).json()
    assert everywhere["peer_count"] == 7  # Lille joins; Ath (below 50,000) never does
    # Lille's safety 95 joins the six Belgian peers: 30 40 50 60 70 80 95 → median 60
    assert everywhere["dimensions"][0]["peer_median"] == pytest.approx(60.0)
    # Lille alone in France: no peers, so no statistics at all.
    await as_editor(client, make_user, cohort, "Lille")
    alone = (await client.get(f"{api(cohort, 'Lille')}/benchmark", params={"country": "true"})).json()
    assert alone["peer_count"] == 0
    assert all(d["peer_median"] is None for d in alone["dimensions"])


async def test_dashboard_page_shows_chart_table_and_peers_to_learn_from(
    client: Client, make_user: Any, cohort: Cohort
) -> None:
    await as_editor(client, make_user, cohort)
    response = await client.get(f"{base(cohort)}/", params={"country": "true"})
    assert response.status_code == 200
    html = response.text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in html
    assert "<title id=" in html
    assert "<desc id=" in html
    assert "<caption>Scores per dimension, 2025</caption>" in html
    assert "<td>55.0</td>" in html  # safety median
    assert "42.5 \u2013 67.5" in html  # safety interquartile range
    assert "below the middle half of peers" in html
    assert "6 peer cities in this comparison." in html
    # Strong in safety and design (≥ third quartile) and publishing fiches: Brugge and Namur.
    learning = html.split('id="learning-heading"')[1].split("</section>")[0]
    assert "Brugge — 4 published fiches" in learning
    assert "Namur — 2 published fiches" in learning
    assert "Leuven" not in learning  # publishes no fiches
    assert learning.index("Brugge") < learning.index("Namur")  # alphabetical
    assert "/m/practices/?q=Brugge" in learning
    assert "Safety strategy" in html  # the indicator where Aalst differs most


async def test_dashboard_in_french_uses_the_framework_translations(
    client: Client, make_user: Any, cohort: Cohort
) -> None:
    await as_editor(client, make_user, cohort)
    html = (await client.get(f"{base(cohort)}/", params={"country": "true", "lang": "fr"})).text
    assert "Sécurité" in html


async def test_trend_over_two_years(
    client: Client, make_user: Any, cohort: Cohort, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await submit_answers(
        sessions, cohort.version, YEAR + 1, {cohort.viewer: {"S1": "80", "S2": "yes", "D1": "60", "D2": "2"}}
    )
    await as_editor(client, make_user, cohort)
    body = (await client.get(f"{api(cohort)}/benchmark")).json()
    assert body["year"] == YEAR + 1  # the latest year by default
    assert body["peer_count"] == 0  # nobody else submitted yet
    assert [(y["year"], y["index"]) for y in body["trend"]] == [(YEAR, 15.0), (YEAR + 1, 72.5)]
    html = (await client.get(f"{base(cohort)}/")).text
    assert "Index of Aalst over the years" in html
    assert "Fewer than 5 peers submitted" in html
    older = (await client.get(f"{api(cohort)}/benchmark", params={"year": YEAR, "country": "true"})).json()
    assert older["peer_count"] == 6


async def test_own_monitor_recomputes_with_other_weights(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    params = {"year": str(YEAR), "country": "true", "w_safety": "3", "w_design": "1"}
    response = await client.get(f"{base(cohort)}/monitor", params=params)
    assert response.status_code == 200
    html = response.text
    assert "<html" in html
    # Aalst: (3·20 + 10) / 4 = 17.5; peers 82.5 71.25 52.5 42.5 39.375 22.5 → median 47.5
    assert "<td>17.5</td>" in html
    assert "<td>47.5</td>" in html
    assert "<td>75 %</td>" in html  # safety's share of the weights
    partial = await client.get(f"{base(cohort)}/monitor", params=params, headers=HTMX)
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "<td>17.5</td>" in partial.text


async def test_own_monitor_refuses_bad_weights(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    response = await client.get(f"{base(cohort)}/monitor", params={"w_safety": "lots"})
    assert response.status_code == 422
    assert "Enter a number." in response.text
    response = await client.get(f"{base(cohort)}/monitor", params={"w_safety": "-1"})
    assert response.status_code == 422
    assert "Enter a weight from 0 to 100." in response.text
    response = await client.get(f"{base(cohort)}/monitor", params={"w_safety": "0", "w_design": "0"})
    assert response.status_code == 422
    assert "Give at least one dimension a weight above 0." in response.text


async def test_scenario_shows_a_new_profile_without_saving(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    form = await client.get(f"{base(cohort)}/scenario", params={"country": "true"})
    assert form.status_code == 200
    assert 'name="v_S1"' in form.text
    assert 'value="40"' in form.text  # prefilled with the current answer
    response = await client.post(
        f"{base(cohort)}/scenario?country=true",
        data={"v_S1": "100", "v_S2": "yes", "v_D1": "20", "v_D2": "0"},
        headers=csrf_headers(client),
    )
    assert response.status_code == 200
    html = response.text
    assert 'Feeling safe <span class="muted">(S1)</span>: 40 → 100' in html
    # safety (1 + 1) / 2 = 100; index (100 + 10) / 2 = 55
    assert "<td>100.0</td>" in html
    assert "<td>55.0</td>" in html
    # Nothing saved: the benchmark is unchanged.
    body = (await client.get(f"{api(cohort)}/benchmark", params={"country": "true"})).json()
    assert body["dimensions"][0]["value"] == 20.0


async def test_scenario_refuses_bad_values_with_field_messages(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    response = await client.post(
        f"{base(cohort)}/scenario", data={"v_S1": "150", "v_S2": "perhaps"}, headers=csrf_headers(client)
    )
    assert response.status_code == 422
    assert "S1: 150 is above the maximum 100" in response.text
    assert "S2: expected yes or no" in response.text
    assert 'aria-invalid="true"' in response.text


async def test_uncertainty_band(client: Client, make_user: Any, cohort: Cohort) -> None:
    await as_editor(client, make_user, cohort)
    response = await client.get(f"{base(cohort)}/uncertainty", params={"country": "true"})
    assert response.status_code == 200
    assert "of your peers had a lower index than Aalst" in response.text
    assert 'role="img"' in response.text


async def test_index_catalogue_is_public(client: Client) -> None:
    response = await client.get("/m/assessment/indices")
    assert response.status_code == 200
    for name in (
        "Safe Cities Index",
        "IESE Cities in Motion Index",
        "SDG Index and Dashboards Report for European Cities",
        "Eurostat Regions and Cities Illustrated",
        "JRC Cultural and Creative Cities Monitor",
    ):
        assert name in response.text
    assert "<strong>gap</strong>" in response.text  # security by design
    body = (await client.get("/api/v1/assessment/indices")).json()
    assert len(body["indices"]) == 5
    gaps = {row["dimension"]: row for row in body["gaps"]}
    assert gaps["security_by_design"]["is_gap"] is True
    assert gaps["crime_prevention"]["best"] == "strong"


async def test_only_the_city_and_admins_see_its_benchmark(client: Client, make_user: Any, cohort: Cohort) -> None:
    anonymous = await client.get(f"{base(cohort)}/", follow_redirects=False)
    assert anonymous.status_code in (303, 401)  # sent to the sign-in page
    assert (await client.get(f"{api(cohort)}/benchmark")).status_code == 401
    await as_editor(client, make_user, cohort, "Brugge")
    assert (await client.get(f"{base(cohort)}/")).status_code == 403
    assert (await client.get(f"{api(cohort)}/peers")).status_code == 403
    assert (await client.get(f"{base(cohort)}/monitor")).status_code == 403
    assert (await client.get(f"{base(cohort)}/uncertainty")).status_code == 403
    assert (await client.post(f"{base(cohort)}/scenario", data={}, headers=csrf_headers(client))).status_code == 403
    await make_user("admin@secretariat.eu", roles=[("admin", {})])
    assert (await sign_in(client, "admin@secretariat.eu")).status_code == 303
    assert (await client.get(f"{base(cohort)}/")).status_code == 200


async def test_a_city_without_scores_sees_an_empty_state(
    client: Client, make_user: Any, cohort: Cohort, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from tests.platform.commitments.conftest import add_city

    newcomer = await add_city(sessions, "Genk", "BE", 66_000)
    await sign_in_editor(client, make_user, newcomer, "editor@genk.eu")
    response = await client.get(f"/m/assessment/cities/{newcomer}/benchmark/")
    assert response.status_code == 200
    assert "Nothing to compare yet" in response.text
    missing = await client.get(f"/api/v1/assessment/cities/{newcomer}/benchmark")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
