"""The survey through HTTP: the size class decides the indicators, htmx saves one field (422 with its message when
refused), the plain form saves all or nothing, submission scores the cohort and emits its events, and a city's
answers stay with that city and the admins."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.assessment import services
from modules.assessment.models import Answer, AssessmentResponse, AssessmentScore, FrameworkVersion
from modules.assessment.plugin import module
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.assessment.conftest import Cities, Client, sign_in_editor
from tests.platform.commitments.conftest import api_token

YEAR = date.today().year
HTMX = {"hx-request": "true"}


def url(city: Any, year: int = YEAR) -> str:
    return f"/m/assessment/cities/{city}/years/{year}"


async def answers(sessions: async_sessionmaker[AsyncSession], city: Any, year: int = YEAR) -> dict[str, Any]:
    async with sessions() as session:
        rows = await session.execute(
            select(Answer.indicator_code, Answer.value, Answer.raw, Answer.source)
            .join(AssessmentResponse, AssessmentResponse.id == Answer.response_id)
            .where(AssessmentResponse.city_id == city, AssessmentResponse.year == year)
        )
        return {code: (value, raw, source) for code, value, raw, source in rows}


async def test_the_survey_has_the_indicators_of_the_city_size_class(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion
) -> None:
    await make_user("admin@city.eu", roles=[("admin", {})])
    assert (await sign_in(client, "admin@city.eu")).status_code == 303
    small = (await client.get(url(cities.small))).text
    mid = (await client.get(url(cities.mid))).text
    for text in (small, mid):
        assert "Pilot test framework" in text
        assert "version 0.1" in text
        assert '<h2 lang="en">Safety</h2>' in text
        assert '<h2 lang="en">Governance</h2>' in text
        assert "From the latest residents&#39; survey." in text  # help text
        assert 'name="a_S1"' in text
        assert 'name="a_G2"' in text
        # filled from another module: shown read-only, with where it comes from
        assert 'id="answer-G4"' in text
        assert 'name="a_G4"' not in text
        assert "Filled automatically from ai_review.technology_reviewed" in text
    assert 'id="answer-G3"' not in small  # for cities of 50,000 inhabitants or more only
    assert 'id="answer-G3"' in mid
    assert "0 of 6 indicators answered" in small
    assert "0 of 7 indicators answered" in mid


async def test_htmx_saves_one_answer_and_refuses_a_wrong_one_with_its_message(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    await client.get(url(cities.small))
    headers = csrf_headers(client) | HTMX
    saved = await client.post(url(cities.small) + "/answers/S1", data={"a_S1": "45,5"}, headers=headers)
    assert saved.status_code == 200, saved.text
    assert 'id="answer-S1"' in saved.text
    assert "Saved" in saved.text
    assert 'id="completeness"' in saved.text
    assert 'hx-swap-oob="true"' in saved.text
    assert "1 of 6 indicators answered" in saved.text
    assert "<html" not in saved.text  # a fragment, not the page
    assert await answers(sessions, cities.small) == {"S1": (45.5, "45.5", "survey")}

    too_high = await client.post(url(cities.small) + "/answers/S1", data={"a_S1": "150"}, headers=headers)
    assert too_high.status_code == 422
    assert "S1: 150 is above the maximum 100" in too_high.text
    assert 'aria-invalid="true"' in too_high.text
    assert 'value="150"' in too_high.text
    not_a_number = await client.post(url(cities.small) + "/answers/S2", data={"a_S2": "a few"}, headers=headers)
    assert not_a_number.status_code == 422
    assert "S2: expected a number" in not_a_number.text
    scale = await client.post(url(cities.small) + "/answers/G1", data={"a_G1": "7"}, headers=headers)
    assert scale.status_code == 422
    assert "G1" in scale.text
    assert await answers(sessions, cities.small) == {"S1": (45.5, "45.5", "survey")}  # nothing else saved

    choice = await client.post(url(cities.small) + "/answers/G2", data={"a_G2": "Adopted"}, headers=headers)
    assert choice.status_code == 200
    assert (await answers(sessions, cities.small))["G2"] == (1.0, "adopted", "survey")
    cleared = await client.post(url(cities.small) + "/answers/S1", data={"a_S1": ""}, headers=headers)
    assert cleared.status_code == 200
    assert "S1" not in await answers(sessions, cities.small)
    # neither a module-filled indicator nor one of another size class can be saved
    assert (
        await client.post(url(cities.small) + "/answers/G4", data={"a_G4": "3"}, headers=headers)
    ).status_code == 404
    assert (
        await client.post(url(cities.small) + "/answers/G3", data={"a_G3": "yes"}, headers=headers)
    ).status_code == 404


async def test_the_plain_form_saves_everything_or_nothing(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.mid, "editor@mechelen.be")
    await client.get(url(cities.mid))
    form = {"a_S1": "60", "a_S2": "3", "a_S3": "yes", "a_G1": "4", "a_G2": "draft", "a_G3": ""}
    bad = await client.post(url(cities.mid) + "/answers", data=form | {"a_S3": "perhaps"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    assert "There is a problem" in bad.text
    assert "S3: expected yes or no" in bad.text
    assert await answers(sessions, cities.mid) == {}
    ok = await client.post(
        url(cities.mid) + "/answers", data=form, headers=csrf_headers(client), follow_redirects=False
    )
    assert ok.status_code == 303, ok.text
    assert await answers(sessions, cities.mid) == {
        "S1": (60.0, "60", "survey"),
        "S2": (3.0, "3", "survey"),
        "S3": (1.0, "yes", "survey"),
        "G1": (4.0, "4", "survey"),
        "G2": (0.5, "draft", "survey"),
    }
    page = (await client.get(url(cities.mid))).text
    assert "5 of 7 indicators answered" in page
    assert '<option value="draft" selected>' in page


async def test_language_changes_the_labels_not_the_answers(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    await client.get(url(cities.small))
    await client.post(url(cities.small) + "/answers/G2", data={"a_G2": "adopted"}, headers=csrf_headers(client) | HTMX)
    r = await client.post(
        url(cities.small) + "/language", data={"language": "fr"}, headers=csrf_headers(client), follow_redirects=False
    )
    assert r.status_code == 303
    page = (await client.get(url(cities.small))).text
    assert "Se sentir en sécurité la nuit" in page
    assert '<h2 lang="fr">Sécurité</h2>' in page
    assert "Adopté" in page
    assert "Safety walks" in page  # no French text: English
    assert await answers(sessions, cities.small) == {"G2": (1.0, "adopted", "survey")}
    bad = await client.post(url(cities.small) + "/language", data={"language": "xx"}, headers=csrf_headers(client))
    assert bad.status_code == 422


async def test_submit_scores_the_cohort_and_records_the_events(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    await client.get(url(cities.small))
    empty = await client.post(url(cities.small) + "/submit", headers=csrf_headers(client))
    assert empty.status_code == 422
    assert "Answer at least one indicator before submitting." in empty.text
    form = {"a_S1": "80", "a_S2": "10", "a_S3": "yes", "a_G1": "2", "a_G2": "none"}
    await client.post(url(cities.small) + "/answers", data=form, headers=csrf_headers(client))
    page = (await client.get(url(cities.small))).text
    assert "G4" in page.split('id="submit"')[1]  # still unanswered, listed before submitting
    r = await client.post(url(cities.small) + "/submit", headers=csrf_headers(client), follow_redirects=False)
    assert r.status_code == 303, r.text
    async with sessions() as session:
        response = await session.scalar(select(AssessmentResponse).where(AssessmentResponse.city_id == cities.small))
        assert response is not None
        assert response.status == "submitted"
        assert response.framework_version_id == small_framework.id
        score = await session.scalar(select(AssessmentScore).where(AssessmentScore.response_id == response.id))
        assert score is not None
        assert score.coverage == pytest.approx(5 / 6)
        assert score.missing == ["G4"]
        assert set(score.dimensions) == {"safety", "governance"}
        assert score.framework_version_id == small_framework.id
        events = {
            row.name: row.payload
            for row in await session.scalars(select(OutboxRecord).where(OutboxRecord.city_id == cities.small))
        }
    submitted = events["assessment.submitted"]
    assert submitted["year"] == YEAR
    assert submitted["framework_version"] == "0.1"
    assert set(submitted["dimension_scores"]) == {"safety", "governance"}
    assert submitted["weakest_dimensions"][0] in {"safety", "governance"}
    assert events["cycle.section_submitted"]["module"] == "assessment"
    assert events["cycle.section_submitted"]["completeness"] == 83
    # a submitted self-assessment is frozen until reopened
    frozen = await client.post(
        url(cities.small) + "/answers/S1", data={"a_S1": "10"}, headers=csrf_headers(client) | HTMX
    )
    assert frozen.status_code == 422
    assert "reopen it" in frozen.text
    assert "This self-assessment is submitted" in (await client.get(url(cities.small))).text
    again = await client.post(url(cities.small) + "/submit", headers=csrf_headers(client))
    assert again.status_code == 422
    r = await client.post(url(cities.small) + "/reopen", headers=csrf_headers(client), follow_redirects=False)
    assert r.status_code == 303
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AssessmentScore)) == 0


async def test_another_citys_editor_and_anonymous_visitors_are_refused(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    async with transaction(sessions) as session:
        from covenant.cities.models import City

        city = await session.get(City, cities.small)
        assert city is not None
        await services.save_answers(session, city, YEAR, {"S1": "33"}, actor=None)
    anonymous = await client.get(url(cities.small), follow_redirects=False)
    assert anonymous.status_code in (303, 401)
    assert (await client.get(f"/api/v1/assessment/cities/{cities.small}/years/{YEAR}")).status_code == 401
    await sign_in_editor(client, make_user, cities.mid, "editor@mechelen.be")
    await client.get(url(cities.mid))
    for path in ("", "/template.csv", "/template.xlsx", "/upload", "/feedback"):
        assert (await client.get(url(cities.small) + path)).status_code == 403, path
    assert (await client.get(f"/m/assessment/cities/{cities.small}/")).status_code == 403
    posted = await client.post(
        url(cities.small) + "/answers/S1", data={"a_S1": "99"}, headers=csrf_headers(client) | HTMX
    )
    assert posted.status_code == 403
    assert (await client.post(url(cities.small) + "/submit", headers=csrf_headers(client))).status_code == 403
    client.headers.update(await api_token(sessions, "editor@mechelen.be"))
    api = f"/api/v1/assessment/cities/{cities.small}"
    assert (await client.get(f"{api}/years/{YEAR}")).status_code == 403
    assert (await client.put(f"{api}/years/{YEAR}/answers", json={"answers": {"S1": 1}})).status_code == 403
    assert (await client.get(f"{api}/scores")).status_code == 403
    assert (await answers(sessions, cities.small)) == {"S1": (33.0, "33", "survey")}
    # an admin sees the unpublished answers
    await make_user("admin@city.eu", roles=[("admin", {})])
    client.headers.update(await api_token(sessions, "admin@city.eu"))
    seen = await client.get(f"{api}/years/{YEAR}")
    assert seen.status_code == 200
    assert seen.json()["answers"][0]["raw"] == "33"


async def test_the_json_api_saves_answers_with_problem_details(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await make_user("editor@ath.be", roles=[("contributor", {"city_id": cities.small, "modules": ["assessment"]})])
    client.headers.update(await api_token(sessions, "editor@ath.be"))
    api = f"/api/v1/assessment/cities/{cities.small}/years/{YEAR}"
    bad = await client.put(api + "/answers", json={"answers": {"S1": 120, "S3": "maybe", "ZZ": 1, "G3": True}})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    problem = bad.json()
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(fields) == {"answers.S1", "answers.S3", "answers.ZZ", "answers.G3"}
    assert "above the maximum" in fields["answers.S1"]
    assert "Unknown indicator code ZZ" in fields["answers.ZZ"]
    assert "size class" in fields["answers.G3"]
    assert (await client.put(api + "/answers", json={"answers": {"G4": 2}})).status_code == 422
    ok = await client.put(api + "/answers", json={"answers": {"S1": 70, "S3": True, "G2": "draft"}, "language": "fr"})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["language"] == "fr"
    assert body["framework_version"] == "0.1"
    assert body["answered"] == 3
    assert body["applicable"] == 6
    assert body["coverage"] == pytest.approx(0.5)
    assert set(body["missing"]) == {"S2", "G1", "G4"}
    assert {a["indicator_code"]: a["raw"] for a in body["answers"]} == {"S1": "70", "S3": "yes", "G2": "draft"}
    submitted = await client.post(api + "/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["score"]["coverage"] == pytest.approx(0.5)
    scores = (await client.get(f"/api/v1/assessment/cities/{cities.small}/scores")).json()
    assert [s["year"] for s in scores] == [YEAR]
    assert scores[0]["framework_version"] == "pilot-test 0.1"
    versions = (await client.get("/api/v1/assessment/frameworks")).json()
    assert {(v["code"], v["status"]) for v in versions["items"]} == {
        ("covenant-security", "published"),
        ("pilot-test", "published"),
    }


async def test_sharing_is_opt_in(client: Client, make_user: Any, cities: Cities, sessions: Any) -> None:
    await sign_in_editor(client, make_user, cities.mid, "editor@mechelen.be")
    page = (await client.get(f"/m/assessment/cities/{cities.mid}/")).text
    assert "Share our individual scores with our peers" in page
    async with sessions() as session:
        assert await services.sharing_of(session, cities.mid) is False
    r = await client.post(
        f"/m/assessment/cities/{cities.mid}/sharing", data={"shared": "on"}, headers=csrf_headers(client)
    )
    assert r.status_code in (200, 303)
    async with sessions() as session:
        assert await services.shared_city_ids(session) == {cities.mid}
    await client.post(f"/m/assessment/cities/{cities.mid}/sharing", data={}, headers=csrf_headers(client))
    async with sessions() as session:
        assert await services.shared_city_ids(session) == set()
    assert (
        await client.post(
            f"/m/assessment/cities/{cities.small}/sharing", data={"shared": "on"}, headers=csrf_headers(client)
        )
    ).status_code == 403


async def test_cycle_and_report_hooks(cities: Cities, small_framework: FrameworkVersion, sessions: Any) -> None:
    assert module.cycle_section is not None
    assert module.report_section is not None
    async with transaction(sessions) as session:
        section = await module.cycle_section(session, cities.small, YEAR)
        assert (section.status, section.completeness) == ("not_started", 0)
        from covenant.cities.models import City

        city = await session.get(City, cities.small)
        assert city is not None
        await services.save_answers(session, city, YEAR, {"S1": "50", "S2": "1", "G1": "3"}, actor=None)
        section = await module.cycle_section(session, cities.small, YEAR)
        assert (section.status, section.completeness) == ("in_progress", 50)
        assert section.link == f"/m/assessment/cities/{cities.small}/years/{YEAR}"
        await services.submit(session, city, YEAR, actor=None)
        section = await module.cycle_section(session, cities.small, YEAR)
        assert (section.status, section.completeness) == ("submitted", 50)
        report = await module.report_section(session, YEAR)
    assert report.figures["self-assessments submitted"] == 1
    assert report.figures["median coverage"] == 0.5
    assert {t.get("dimension") for t in report.tables if "dimension" in t} == {"safety", "governance"}
