"""Who may do what: only admins run the cycle; a city's team sees its own checklist (and only the mayor's
office submits it); another city's team, a reviewer or an anonymous visitor cannot."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.monitoring import services
from covenant.monitoring.schemas import CycleInput
from covenant.plugins import ModuleRegistry
from tests.platform.commitments.conftest import api_token
from tests.platform.monitoring.conftest import YEAR, Cities, Client, cycle_form, post_form, signed_in_as


@pytest.fixture
async def open_cycle(sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry, cities: Cities) -> None:
    values = cycle_form()
    values.pop("required")
    async with transaction(sessions) as session:
        cycle = await services.create_cycle(session, CycleInput.model_validate(values), registry=registry, actor=None)
        await services.open_cycle(session, cycle, registry=registry, actor=None)


ADMIN_PAGES = [
    "/admin/monitoring/",
    f"/admin/monitoring/{YEAR}",
    f"/admin/monitoring/{YEAR}/matrix",
    f"/admin/monitoring/{YEAR}/progress",
    f"/admin/monitoring/{YEAR}/delays",
    f"/admin/monitoring/{YEAR}/notices",
    f"/admin/monitoring/{YEAR}/close",
    f"/admin/monitoring/{YEAR}/edit",
]
ADMIN_ACTIONS = [
    "/admin/monitoring/",
    f"/admin/monitoring/{YEAR}/open",
    f"/admin/monitoring/{YEAR}/remind",
    f"/admin/monitoring/{YEAR}/close",
    f"/admin/monitoring/{YEAR}/report",
]


async def test_anonymous_visitors_see_only_the_public_figures(client: Client, open_cycle: None, cities: Cities) -> None:
    for path in ADMIN_PAGES:
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    assert (await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}", follow_redirects=False)).status_code == 303
    assert (await client.get("/api/v1/monitoring/cycles")).status_code == 401
    assert (await client.get(f"/api/v1/cities/{cities.nice}/monitoring/{YEAR}")).status_code == 401
    assert (await client.get("/figures")).status_code == 200
    assert (await client.get("/api/v1/figures")).json()["signatories"] == 3
    assert (await client.get(f"/reports/{YEAR}")).status_code == 404  # not compiled, let alone published
    for path in ADMIN_ACTIONS:
        assert (await post_form(client, path)).status_code in (401, 403), path


async def test_a_citys_team_sees_its_own_checklist_only(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], open_cycle: None, cities: Cities
) -> None:
    await signed_in_as(client, make_user, "mayor@nice.fr", [("mayors_office", {"city_id": cities.nice})])
    for path in ADMIN_PAGES:
        assert (await client.get(path)).status_code == 403, path
    for path in ADMIN_ACTIONS:
        assert (await post_form(client, path)).status_code == 403, path
    assert (await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")).status_code == 200
    workbook = await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}/workbook.xlsx")
    assert workbook.status_code == 200
    overview = load_workbook(io.BytesIO(workbook.content), read_only=True).worksheets[0]
    assert overview.title == "Overview"
    assert next(overview.values)[0] == f"Monitoring {YEAR}"
    for path in ("", "/workbook.xlsx"):
        assert (await client.get(f"/cities/{cities.riga}/monitoring/{YEAR}{path}")).status_code == 403
    for path in ("/submit", "/delay"):
        assert (await post_form(client, f"/cities/{cities.riga}/monitoring/{YEAR}{path}")).status_code == 403

    token = await api_token(sessions, "mayor@nice.fr")
    assert (await client.get("/api/v1/monitoring/cycles", headers=token)).status_code == 403
    assert (await client.get(f"/api/v1/monitoring/cycles/{YEAR}/matrix", headers=token)).status_code == 403
    assert (await client.get(f"/api/v1/cities/{cities.nice}/monitoring/{YEAR}", headers=token)).status_code == 200
    assert (await client.get(f"/api/v1/cities/{cities.riga}/monitoring/{YEAR}", headers=token)).status_code == 403
    riga_api = f"/api/v1/cities/{cities.riga}/monitoring/{YEAR}"
    assert (await client.post(riga_api + "/submit", headers=token)).status_code == 403
    # Another city's checklist never appears on its profile.
    assert f"Monitoring {YEAR}" not in (await client.get(f"/cities/{cities.riga}")).text


async def test_a_contributor_sees_the_checklist_but_the_mayors_office_submits(
    client: Client, make_user: Any, open_cycle: None, cities: Cities
) -> None:
    await signed_in_as(client, make_user, "staff@nice.fr", [("contributor", {"city_id": cities.nice})])
    page = await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")
    assert page.status_code == 200
    assert "Submit for validation" not in page.text
    assert (await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/submit")).status_code == 403
    assert (await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/delay")).status_code == 403


async def test_a_reviewer_runs_nothing(client: Client, make_user: Any, open_cycle: None, cities: Cities) -> None:
    await signed_in_as(client, make_user, "reviewer@covenant.eu", [("reviewer", {"module": "practices"})])
    assert (await client.get(f"/admin/monitoring/{YEAR}")).status_code == 403
    assert (await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")).status_code == 403


async def test_an_admin_changes_the_dates_and_the_calendar_follows(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], open_cycle: None
) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from covenant.events.models import OutboxRecord
    from tests.platform.monitoring.conftest import TODAY

    await signed_in_as(client, make_user, "admin@covenant.eu", [("admin", {})])
    form = await client.get(f"/admin/monitoring/{YEAR}/edit")
    assert form.status_code == 200
    assert "Required sections, by city size" not in form.text  # requirements are fixed once open
    later = (TODAY + timedelta(days=25)).isoformat()
    values = cycle_form(submission_deadline=later)
    values.pop("required")
    bad = await post_form(client, f"/admin/monitoring/{YEAR}/edit", values | {"validation_deadline": TODAY.isoformat()})
    assert bad.status_code == 422
    assert "The validation deadline cannot come before the submission deadline." in bad.text
    saved = await post_form(client, f"/admin/monitoring/{YEAR}/edit", values)
    assert saved.status_code == 303
    async with sessions() as session:
        announced = [
            r.payload
            for r in await session.scalars(select(OutboxRecord).where(OutboxRecord.name == "deadline.announced"))
        ]
    assert any(p["key"] == f"monitoring-{YEAR}-submission" and p["due_on"] == later for p in announced)
