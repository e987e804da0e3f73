"""Through HTTP and services: pyramid, evaluation, warnings, verdict and its event, authorisation."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.base import DomainEvent
from covenant.plugins import ModuleRegistry
from modules.cohesion import services
from modules.cohesion.models import Evaluation
from modules.cohesion.plugin import module
from modules.cohesion.schemas import EvaluationPlanInput, LessonInput, MeasureInput, VerdictInput, WaveInput
from tests.fixtures.bus import Bus, eventually
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.cohesion.conftest import Cities
from tests.platform.commitments.conftest import api_token

Client = AsyncTestClient[Litestar]


async def contributor(client: Client, make_user: Any, city: Any, email: str = "c@mechelen.be") -> None:
    await make_user(email, roles=[("contributor", {"city_id": city, "modules": ["cohesion"]})])
    assert (await sign_in(client, email)).status_code == 303


async def test_pages_and_api_for_a_city(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get("/m/cohesion/")).status_code == 200
    glossary = await client.get("/m/cohesion/glossary")
    assert "Social cohesion" in glossary.text
    assert "Polarisation" in glossary.text
    assert (await client.get(f"/m/cohesion/cities/{cities.a}/measures", follow_redirects=False)).status_code in (
        302,
        303,
        401,
    )
    assert (await client.get(f"/api/v1/cohesion/cities/{cities.a}/measures")).status_code == 401
    await contributor(client, make_user, cities.a)
    base = f"/m/cohesion/cities/{cities.a}"
    assert "No measures yet" in (await client.get(base + "/measures")).text
    form = {"name": "Street workers", "level": "specific", "annual_budget": "12500", "status": "running"}
    r = await client.post(base + "/measures", data=form, headers=csrf_headers(client), follow_redirects=False)
    assert r.status_code == 303, r.text
    bad = await client.post(base + "/measures", data=form | {"level": "top"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    assert "prevention pyramid" in bad.text
    api = f"/api/v1/cohesion/cities/{cities.a}"
    client.headers.update(await api_token(sessions, "c@mechelen.be"))
    created = await client.post(
        api + "/measures", json={"name": "Youth sports", "level": "fundamental", "annual_budget": 1000}
    )
    assert created.status_code == 201, created.text
    measures = (await client.get(api + "/measures")).json()
    assert {m["level"] for m in measures} == {"specific", "fundamental"}
    pyramid = (await client.get(api + "/pyramid")).json()
    assert pyramid["total_budget_cents"] == 1_350_000
    assert set(pyramid["empty_levels"]) == {"societal_context", "general", "curative"}
    assert pyramid["measures_without_evaluation"] == 2
    assert "No measure at these levels" in (await client.get(base + "/pyramid")).text
    bad_api = await client.post(api + "/measures", json={"name": "X measure", "level": "nowhere"})
    assert bad_api.status_code == 400 or bad_api.status_code == 422
    # Evaluation through the API: select, plan, waves, analysis, verdict.
    mid = created.json()["id"]
    assert (await client.post(f"{api}/measures/{mid}/select")).status_code == 200
    plan = {"indicators": ["feeling_of_insecurity"], "design": "pre_post_comparison", "objectives": "Safer\n  Evenings"}
    assert (await client.post(f"{api}/measures/{mid}/evaluation/plan", json=plan)).status_code == 200
    for area, wave, mean in (("intervention", 0, 3.2), ("intervention", 1, 2.8), ("comparison", 0, 3.1)):
        body = {"indicator": "feeling_of_insecurity", "area": area, "wave": wave, "mean": mean, "sd": 0.9, "n": 200}
        assert (await client.post(f"{api}/measures/{mid}/evaluation/waves", json=body)).status_code == 200
    bad_wave = {"indicator": "feeling_of_insecurity", "wave": 1, "mean": 3, "sd": 0, "n": 1}
    r = await client.post(f"{api}/measures/{mid}/evaluation/waves", json=bad_wave)
    assert r.status_code in (400, 422)
    assert "sd" in r.text
    assert "n" in r.text
    # Comparison design without the comparison follow-up: no verdict.
    r = await client.post(
        f"{api}/measures/{mid}/evaluation/verdict", json={"verdict": "continue", "reasons": "It works well."}
    )
    assert r.status_code in (400, 422)
    assert "comparison" in r.text
    body = {"indicator": "feeling_of_insecurity", "area": "comparison", "wave": 1, "mean": 3.05, "sd": 0.9, "n": 200}
    await client.post(f"{api}/measures/{mid}/evaluation/waves", json=body)
    analysis = (await client.get(f"{api}/measures/{mid}/evaluation")).json()
    did = analysis["results"][0]["difference_in_differences"]
    assert did["value"] == pytest.approx(-0.35)
    assert did["direction"] == "improved"
    page = await client.get(f"{base}/measures/{mid}/evaluation")
    assert page.status_code == 200
    assert "Difference-in-differences" in page.text
    r = await client.post(
        f"{api}/measures/{mid}/evaluation/verdict", json={"verdict": "continue", "reasons": "It works well."}
    )
    assert r.status_code == 200
    assert r.json()["verdict"] == "continue"
    # Another city's data is out of reach.
    assert (await client.get(f"/m/cohesion/cities/{cities.b}/measures")).status_code == 403
    assert (await client.get(f"/api/v1/cohesion/cities/{cities.b}/measures")).status_code == 403


async def upload_url(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> tuple[Any, str]:
    """A selected measure of city A and the address its evaluation is uploaded to; a contributor of A is signed
    in."""
    async with transaction(sessions) as session:
        m = await services.create_measure(session, cities.a, MeasureInput(name="Cameras", level="specific"), actor=None)
        await services.select_measure(session, m, actor=None)
    await contributor(client, make_user, cities.a)
    return m.id, f"/m/cohesion/cities/{cities.a}/measures/{m.id}/evaluation/upload"


async def test_csv_upload_breakdowns_and_row_errors(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    measure_id, url = await upload_url(client, make_user, cities, sessions)
    bad = "wave,indicator,value,colour\n0,feeling_of_insecurity,3,red\n"
    r = await client.post(url, files={"file": ("a.csv", bad.encode(), "text/csv")}, headers=csrf_headers(client))
    assert r.status_code == 422
    assert "Unknown column(s): colour" in r.text
    rows = "wave,indicator,value,gender\n0,feeling_of_insecurity,x,female\n1,trust,3,alien\n"
    r = await client.post(url, files={"file": ("a.csv", rows.encode(), "text/csv")}, headers=csrf_headers(client))
    assert "Row 2: column value" in r.text
    assert "Row 3:" in r.text
    lines = ["wave,area,indicator,value,gender,age_group"]
    for wave, values in ((0, [2, 3, 3, 4]), (1, [3, 4, 4, 5])):
        for i, v in enumerate(values):
            lines.append(f"{wave},intervention,feeling_of_insecurity,{v},{'female' if i % 2 else 'male'},18_29")
    r = await client.post(
        url,
        files={"file": ("a.csv", "\n".join(lines).encode(), "text/csv")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    async with sessions() as session:
        evaluation = await services.evaluation_of(session, measure_id)
        assert evaluation is not None
        analysis = await services.analysis_of(session, evaluation)
    result = analysis.headline
    assert result is not None
    assert result.change.value == pytest.approx(1.0)
    assert any("Small sample" in w for w in analysis.warnings)
    assert {(b.dimension, b.group) for b in analysis.breakdowns} == {
        ("gender", "female"),
        ("gender", "male"),
        ("age_group", "18_29"),
    }


def _evaluation(design: str = "pre_post") -> tuple[str, list[Any]]:
    return design, []


def test_backfire_and_displacement_warnings() -> None:
    from modules.cohesion.models import SurveyWave

    def w(area: str, wave: int, mean: float) -> SurveyWave:
        return SurveyWave(indicator="feeling_of_insecurity", area=area, wave=wave, mean=mean, sd=0.8, n=300)

    rise = services.analyse(
        "pre_post", ["feeling_of_insecurity"], [w("intervention", 0, 2.6), w("intervention", 1, 2.9)]
    )
    assert any("backfire" in x for x in rise.warnings)
    moved = services.analyse(
        "pre_post_comparison",
        ["feeling_of_insecurity"],
        [w("intervention", 0, 3.0), w("intervention", 1, 2.5), w("comparison", 0, 3.0), w("comparison", 1, 3.4)],
    )
    assert any("displacement" in x for x in moved.warnings)
    missing = services.analyse("pre_post", ["trust"], [w("intervention", 0, 3.0)])
    assert missing.errors
    assert not missing.results


received: list[dict[str, Any]] = []


async def on_event(event: DomainEvent, _session: AsyncSession) -> None:
    received.append({"name": event.event_name(), **event.model_dump(mode="json")})


@pytest.fixture
def registry() -> ModuleRegistry:
    received.clear()
    listener = dataclasses.replace(
        module, subscriptions={"cohesion.evaluation_completed": on_event, "cohesion.lessons_published": on_event}
    )
    return ModuleRegistry([listener])


async def test_evaluation_completed_and_lessons_published_are_consumed(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        m = await services.create_measure(
            session, cities.a, MeasureInput(name="Park CCTV", level="specific"), actor=None
        )
        evaluation: Evaluation = await services.select_measure(session, m, actor=None)
        await services.save_plan(
            session, evaluation, EvaluationPlanInput(indicators=["feeling_of_insecurity"]), actor=None
        )
        for wave, mean in ((0, 2.6), (1, 2.9)):
            await services.add_wave(
                session,
                evaluation,
                WaveInput(indicator="feeling_of_insecurity", wave=wave, mean=mean, sd=0.8, n=180),
                actor=None,
            )
        await services.complete_evaluation(
            session, evaluation, m, VerdictInput(verdict="stop", reasons="Residents felt watched."), actor=None
        )
        await services.publish_lesson(
            session,
            cities.a,
            LessonInput(title="Cameras alone", body="Cameras raised fear.", evaluation_id=evaluation.id),
            actor=None,
        )
    await bus.settle()

    async def arrived() -> bool:
        return len(received) >= 2

    await eventually(arrived)
    done = next(e for e in received if e["name"] == "cohesion.evaluation_completed")
    assert done["verdict"] == "stop"
    assert done["direction"] == "worsened"
    assert done["city_id"] == str(cities.a)
    assert done["effect"] == pytest.approx(0.3 / 0.8 * (1 - 3 / (4 * 358 - 1)))
    assert any(e["name"] == "cohesion.lessons_published" for e in received)


async def test_demo_is_idempotent(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    for _ in range(2):
        async with transaction(sessions) as session:
            await module.demo_data(session)  # type: ignore[misc]
    async with sessions() as session:
        done = await services.completed_evaluations(session)
    assert [(m.name, e.verdict) for e, m, _c in done] == [("Neighbourhood sports in Nekkerspoel", "continue")]
    async with sessions() as session:
        (initiative,) = await services.city_initiatives(session, cities.a)
        assert len(await services.rubric_history(session, initiative.id)) == 2
        (board,) = await services.initiative_boards(session, initiative.id)
        assert len((await services.board_entries(session, board.id))["strengths"]) == 2
        assert len(await services.initiative_lessons(session, initiative.id)) == 1


async def test_a_french_reader_gets_french_row_errors(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    _, url = await upload_url(client, make_user, cities, sessions)
    client.cookies.set("covenant_locale", "fr")
    await client.get(url.removesuffix("/upload"))
    bad = "wave,indicator,value,colour\n0,feeling_of_insecurity,3,red\n"
    r = await client.post(url, files={"file": ("a.csv", bad.encode(), "text/csv")}, headers=csrf_headers(client))
    assert r.status_code == 422
    assert "Colonne(s) inconnue(s) : colour (attendues : wave, area" in r.text
    rows = "wave,indicator,value,gender\n0,feeling_of_insecurity,x,female\n1,feeling_of_insecurity,3,alien\n"
    r = await client.post(url, files={"file": ("a.csv", rows.encode(), "text/csv")}, headers=csrf_headers(client))
    assert "Ligne 2 : colonne value : un nombre." in r.text
    assert "Ligne 3 : colonne gender : l\u2019une des valeurs female" in r.text
