"""Framework versions for admins: the shipped version is published on first use, a YAML is imported as a draft
(every problem listed, nothing saved), a draft is published once and never changes, and results keep the
version they used."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from modules.assessment import services
from modules.assessment.framework import Framework, default_framework
from modules.assessment.models import FrameworkVersion
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.assessment.conftest import SMALL_FRAMEWORK, Cities, Client, sign_in_editor

YEAR = date.today().year
ADMIN = "/m/assessment/admin/frameworks"


async def versions(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(FrameworkVersion.code, FrameworkVersion.version, FrameworkVersion.status).order_by(
                FrameworkVersion.created_at
            )
        )
        return [tuple(r) for r in rows]


async def import_yaml(client: Client, text: str, notes: str = "") -> Any:
    return await client.post(
        ADMIN,
        files={"file": ("framework.yaml", text.encode(), "application/yaml")},
        data={"notes": notes},
        headers=csrf_headers(client),
        follow_redirects=False,
    )


async def test_admins_import_check_publish_and_download_versions(
    admin_client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    client = admin_client
    page = await client.get(ADMIN)
    assert page.status_code == 200
    shipped = default_framework()
    assert await versions(sessions) == [(shipped.code, shipped.version, "published")]
    assert "current" in page.text

    broken = SMALL_FRAMEWORK.replace(
        "weight: 1\n    indicators:\n      - code: S1", "weight: -2\n    indicators:\n      - code: S1"
    )
    broken = broken.replace(
        "normalisation: minmax\n        minimum: 0\n        maximum: 50",
        "normalisation: squash\n        minimum: 0\n        maximum: 50",
    )
    r = await import_yaml(client, broken)
    assert r.status_code == 422
    assert "The framework was not imported" in r.text
    assert "dimension safety: weight must not be negative" in r.text
    assert "indicator S2: unknown normalisation &#39;squash&#39;" in r.text
    cycle = SMALL_FRAMEWORK.replace("  - code: governance\n", "  - code: governance\n    parent: governance\n")
    r = await import_yaml(client, cycle)
    assert r.status_code == 422
    assert "governance" in r.text
    empty = await client.post(
        ADMIN, files={"file": ("", b"", "application/yaml")}, data={"yaml": ""}, headers=csrf_headers(client)
    )
    assert empty.status_code == 422
    assert "Choose a framework YAML file or paste its text." in empty.text
    assert len(await versions(sessions)) == 1  # nothing saved

    r = await import_yaml(client, SMALL_FRAMEWORK, notes="Pilot of two dimensions")
    assert r.status_code == 303, r.text
    assert await versions(sessions) == [(shipped.code, shipped.version, "published"), ("pilot-test", "0.1", "draft")]
    again = await import_yaml(client, SMALL_FRAMEWORK)
    assert again.status_code == 422
    assert "already exists" in again.text
    async with sessions() as session:
        draft = await session.scalar(select(FrameworkVersion).where(FrameworkVersion.code == "pilot-test"))
        assert draft is not None
    # a draft's YAML is for admins only; published ones are public
    assert (await client.get(f"/m/assessment/frameworks/{draft.id}/yaml")).status_code == 200
    listing = (await client.get("/api/v1/assessment/frameworks")).json()
    assert {v["status"] for v in listing["items"]} == {"draft", "published"}

    r = await client.post(f"{ADMIN}/{draft.id}/publish", headers=csrf_headers(client), follow_redirects=False)
    assert r.status_code == 303
    assert (await versions(sessions))[-1] == ("pilot-test", "0.1", "published")
    r = await client.post(f"{ADMIN}/{draft.id}/publish", headers=csrf_headers(client), follow_redirects=True)
    assert "Only a draft can be published" in r.text
    r = await client.post(f"{ADMIN}/{draft.id}/delete", headers=csrf_headers(client), follow_redirects=True)
    assert "Published versions are kept" in r.text
    downloaded = await client.get(f"/m/assessment/frameworks/{draft.id}/yaml")
    assert downloaded.headers["content-type"].startswith("application/yaml")
    assert Framework.from_yaml(downloaded.text).code == "pilot-test"
    assert yaml.safe_load(downloaded.text)["version"] == "0.1"


async def test_a_draft_is_private_and_can_be_deleted(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        await services.ensure_default_framework(session)
        draft = await services.import_version(session, SMALL_FRAMEWORK, actor=None)
    assert (await client.get(f"/m/assessment/frameworks/{draft.id}/yaml")).status_code == 404
    listing = (await client.get("/api/v1/assessment/frameworks")).json()
    assert [v["status"] for v in listing["items"]] == ["published"]
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    assert (await client.get(ADMIN)).status_code == 403
    assert (await client.get(f"/m/assessment/frameworks/{draft.id}/yaml")).status_code == 404
    assert (await client.post(f"{ADMIN}/{draft.id}/publish", headers=csrf_headers(client))).status_code == 403
    assert (await import_yaml(client, SMALL_FRAMEWORK.replace('"0.1"', '"0.2"'))).status_code == 403
    await make_user("admin@city.eu", roles=[("admin", {})])
    await sign_in(client, "admin@city.eu")
    await client.get(ADMIN)
    r = await client.post(f"{ADMIN}/{draft.id}/delete", headers=csrf_headers(client), follow_redirects=False)
    assert r.status_code == 303
    assert len(await versions(sessions)) == 1


async def test_results_keep_the_version_they_used(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with transaction(sessions) as session:
        city = await session.get(City, cities.mid)
        assert city is not None
        first = await services.current_version(session)
        await services.save_answers(session, city, YEAR - 1, {"INC01": "yes"}, actor=None)
        await services.submit(session, city, YEAR - 1, actor=None)
        newer = await services.import_version(session, SMALL_FRAMEWORK, actor=None)
        await services.publish_version(session, newer, actor=None)
    async with transaction(sessions) as session:
        city = await session.get(City, cities.mid)
        assert city is not None
        old = await services.survey(session, city, YEAR - 1)
        new = await services.survey(session, city, YEAR)
        scores = await services.city_scores(session, city.id)
        count = await session.scalar(select(func.count()).select_from(FrameworkVersion))
    assert old.version.id == first.id
    assert new.version.id == newer.id
    assert [(s.year, v.code) for s, v in scores] == [(YEAR - 1, "covenant-security")]
    assert count == 2
