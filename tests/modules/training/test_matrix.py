"""The competence matrix: Table 4 transcribed faithfully, shown as a page and JSON, extended by admins."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.training import services
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]

# Cells read off Table 4 (knowledge, know-how, (inter)personal).
TABLE_4 = {
    "local_police": ("advanced", "advanced", "intermediate"),
    "social_services": ("advanced", "advanced", "intermediate"),
    "urban_planning": ("advanced", "intermediate", "basic"),
    "youth_policies": ("advanced", "intermediate", "intermediate"),
    "education_training": ("basic", "basic", "basic"),
    "city_administrators": ("basic", "intermediate", "intermediate"),
    "social_economic_associations": ("basic", "basic", "intermediate"),
    "healthcare": ("intermediate", "intermediate", "intermediate"),
    "education": ("intermediate", "intermediate", "intermediate"),
    "public_transport": ("intermediate", "intermediate", "intermediate"),
    "organised_local_community": ("basic", "intermediate", "intermediate"),
    "neighbourhood_watch": ("basic", "basic", "basic"),
    "volunteers": ("basic", "basic", "basic"),
    "community_trainers": ("intermediate", "intermediate", "intermediate"),
}


async def test_table_4_is_transcribed_cell_by_cell(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with sessions() as session:
        levels = await services.target_levels(session)
        rows = await services.matrix(session)
    assert {k: tuple(v[a] for a in ("knowledge", "know_how", "interpersonal")) for k, v in levels.items()} == TABLE_4
    families = [r.group.family for r in rows]
    assert list(dict.fromkeys(families)) == [
        "urban_authority",
        "political",
        "public_institutions",
        "local_community",
        "community_trainers",
    ]
    police = rows[0]
    assert police.group.title["en"] == "Local police"
    assert len(police.cells["knowledge"].topics) == 7
    assert "gdpr" in police.cells["knowledge"].topics
    assert len(police.cells["know_how"].topics) == 4
    assert police.cells["interpersonal"].topics == ["perceived_insecurity", "citizen_engagement", "qualified_warning"]


async def test_loading_the_matrix_twice_changes_nothing(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        assert await services.ensure_matrix(session) == 14
    async with transaction(sessions) as session:
        assert await services.ensure_matrix(session) == 0


async def test_matrix_page_and_api(client: Client, cities: Cities) -> None:
    page = await client.get("/m/training/matrix")
    assert page.status_code == 200
    assert "Neighbourhood watch groups" in page.text
    assert 'id="group-urban_planning"' in page.text
    assert (await client.get("/m/training/")).status_code == 200
    api = await client.get("/api/v1/training/matrix")
    assert api.status_code == 200
    volunteers = next(g for g in api.json() if g["key"] == "volunteers")
    assert {c["area"]: c["level"] for c in volunteers["cells"]} == {
        "knowledge": "basic",
        "know_how": "basic",
        "interpersonal": "basic",
    }
    schema = (await client.get("/schema/openapi.json")).json()
    assert sum(1 for p in schema["paths"] if p.startswith("/api/v1/training/")) >= 3


PROFILE: dict[str, Any] = {
    "key": "urban_security_coordinator",
    "title": "Urban Security Coordinator",
    "family": "New professional positions",
    "knowledge": "advanced",
    "know_how": "advanced",
    "interpersonal": "intermediate",
}


async def test_admin_adds_a_profile_without_code(admin_client: Client, cities: Cities) -> None:
    await admin_client.get("/m/training/matrix")
    r = await admin_client.post(
        "/m/training/matrix/profiles", data=PROFILE, headers=csrf_headers(admin_client), follow_redirects=False
    )
    assert r.status_code == 303
    page = await admin_client.get("/m/training/matrix")
    assert "Urban Security Coordinator" in page.text
    again = await admin_client.post("/m/training/matrix/profiles", data=PROFILE, headers=csrf_headers(admin_client))
    assert again.status_code == 422
    assert "already exists" in again.text


@pytest.mark.parametrize("level", ["expert", "", "Advanced!"])
async def test_a_level_outside_the_three_is_refused(admin_client: Client, cities: Cities, level: str) -> None:
    await admin_client.get("/m/training/matrix")
    r = await admin_client.post(
        "/m/training/matrix/profiles",
        data=PROFILE | {"key": "coordinator_x", "knowledge": level},
        headers=csrf_headers(admin_client),
    )
    assert r.status_code == 422
    assert "basic" in r.text  # the message names the allowed levels


async def test_only_admins_extend_the_matrix(client: Client, make_user: Any, cities: Cities) -> None:
    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "c@a.eu")
    r = await client.post("/m/training/matrix/profiles", data=PROFILE, headers=csrf_headers(client))
    assert r.status_code == 403
