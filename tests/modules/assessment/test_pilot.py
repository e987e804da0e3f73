"""Pilot tools: a city's feedback on each indicator (usability and relevance 1-5, comment) and the admins' pilot
report — response rate, completeness per indicator, ratings, the indicators most often left empty — and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from covenant.cities.models import City, MembershipStatus
from covenant.db import transaction
from modules.assessment import services
from modules.assessment.models import FrameworkVersion
from modules.assessment.schemas import FeedbackItem
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.assessment.conftest import Cities, Client, sign_in_editor
from tests.platform.commitments.conftest import add_city

YEAR = date.today().year


async def test_a_city_rates_the_indicators(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    page = await client.get(f"/m/assessment/cities/{cities.small}/years/{YEAR}/feedback")
    assert page.status_code == 200
    assert 'name="usability_S1"' in page.text
    assert 'name="relevance_G4"' in page.text
    assert 'name="usability_G3"' not in page.text  # not for a city of this size
    url = f"/m/assessment/cities/{cities.small}/years/{YEAR}/feedback"
    bad = await client.post(url, data={"usability_S1": "7", "relevance_S1": "4"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    assert 'id="error-usability_S1"' in bad.text
    async with sessions() as session:
        assert await services.feedback_of(session, cities.small, small_framework.id) == {}
    form = {
        "usability_S1": "2",
        "relevance_S1": "5",
        "comment_S1": "  We survey every second year.  ",
        "usability_G1": "4",
        "relevance_G1": "",
        "comment_G1": "",
    }
    ok = await client.post(url, data=form, headers=csrf_headers(client), follow_redirects=False)
    assert ok.status_code == 303, ok.text
    async with sessions() as session:
        saved = await services.feedback_of(session, cities.small, small_framework.id)
    assert {code: (f.usability, f.relevance, f.comment) for code, f in saved.items()} == {
        "S1": (2, 5, "We survey every second year."),
        "G1": (4, None, ""),
    }
    again = await client.get(url)
    assert "We survey every second year." in again.text
    await client.post(url, data={"usability_S1": "3"}, headers=csrf_headers(client))
    async with sessions() as session:
        saved = await services.feedback_of(session, cities.small, small_framework.id)
    assert {code: f.usability for code, f in saved.items()} == {"S1": 3}  # an emptied item is removed


async def test_the_pilot_report(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await add_city(sessions, "Applicant town", "BE", 40_000, status=MembershipStatus.applied)  # not a signatory
    async with transaction(sessions) as session:
        small = await session.get(City, cities.small)
        mid = await session.get(City, cities.mid)
        assert small is not None
        assert mid is not None
        await services.save_answers(session, small, YEAR, {"S1": "50", "S2": "2", "G1": "3"}, actor=None)
        await services.submit(session, small, YEAR, actor=None)
        await services.save_answers(session, mid, YEAR, {"S1": "70", "G3": "yes"}, actor=None)  # a draft
        for city, usability, relevance in ((small, 2, 5), (mid, 4, 3)):
            items = {"S2": FeedbackItem(usability=usability, relevance=relevance, comment=f"from {city.name}")}
            await services.save_feedback(session, city.id, small_framework, items, actor=None)
    async with sessions() as session:
        report = await services.pilot_report(session, YEAR)
    assert (report.signatories, report.responses, report.submitted) == (3, 2, 1)
    assert report.response_rate == pytest.approx(1 / 3)
    rows = {r.indicator.code: r for r in report.indicators}
    assert (rows["S1"].applicable, rows["S1"].answered) == (2, 2)
    assert (rows["G3"].applicable, rows["G3"].answered) == (1, 1)  # only the bigger city answers it
    assert rows["S3"].completeness == 0
    assert rows["S2"].mean_usability == 3
    assert rows["S2"].mean_relevance == 4
    assert sorted(rows["S2"].comments) == ["from Ath", "from Mechelen"]
    empty = [r.indicator.code for r in report.most_often_empty()]
    assert empty[:3] == ["G2", "G4", "S3"]  # never answered, in code order
    assert "S1" not in empty
    assert empty.index("S2") > empty.index("S3")

    await make_user("admin@city.eu", roles=[("admin", {})])
    assert (await sign_in(client, "admin@city.eu")).status_code == 303
    page = await client.get(f"/m/assessment/admin/pilot?year={YEAR}")
    assert page.status_code == 200
    assert "1 submitted of 3 active signatories" in page.text
    assert "Indicators most often left empty" in page.text
    exported = await client.get(f"/m/assessment/admin/pilot.csv?year={YEAR}")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    s2 = next(line for line in lines if line["code"] == "S2")
    assert (s2["applicable_responses"], s2["answered"], s2["completeness"]) == ("2", "1", "0.500")
    assert (s2["mean_usability"], s2["mean_relevance"], s2["ratings"]) == ("3.0", "4.0", "2")
    listing = await client.get(f"/m/assessment/admin/responses?year={YEAR}&status=draft")
    assert "Mechelen" in listing.text
    assert "Ath" not in listing.text


async def test_the_pilot_report_is_for_admins(client: Client, make_user: Any, cities: Cities) -> None:
    assert (await client.get("/m/assessment/admin/pilot", follow_redirects=False)).status_code in (303, 401)
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    assert (await client.get("/m/assessment/admin/pilot")).status_code == 403
    assert (await client.get("/m/assessment/admin/pilot.csv")).status_code == 403
    assert (await client.get("/m/assessment/admin/responses")).status_code == 403
