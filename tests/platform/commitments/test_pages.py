"""Through HTTP: the management pages, the public pages, the JSON API, CSV, and who may do what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.commitments.models import Commitment
from tests.fixtures.web import csrf_headers, sign_in
from tests.platform.commitments.conftest import Cities, MakeUser, api_token, commitment_fields

Client = AsyncTestClient[Litestar]


async def editor(client: Client, make_user: MakeUser, city: UUID, email: str = "mayor@nice.fr") -> None:
    await make_user(email, roles=[("mayors_office", {"city_id": city})])
    assert (await sign_in(client, email)).status_code == 303


@asynccontextmanager
async def signed_out(client: Client) -> AsyncIterator[Client]:
    """The same client without its cookies for a while (a second test client would restart the app)."""
    saved = client.cookies
    client.cookies = httpx.Cookies()
    try:
        yield client
    finally:
        client.cookies = saved


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Commitment)) or 0)


async def test_mayors_office_drafts_publishes_and_reports_progress_through_the_pages(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await editor(client, make_user, cities.a)
    base = f"/cities/{cities.a}/commitments"
    assert "No commitments yet" in (await client.get(base + "/")).text
    assert (await client.get(base + "/new")).status_code == 200
    response = await client.post(
        base + "/", data=commitment_fields(modules="testmodule"), headers=csrf_headers(client), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    commitment_id = re.search(r"/commitments/([0-9a-f-]{36})/edit", response.headers["location"]).group(1)  # type: ignore[union-attr]
    # A draft: the editor sees it, the public does not.
    assert (await client.get(f"/commitments/{commitment_id}")).status_code == 200
    async with signed_out(client) as anonymous:
        assert (await anonymous.get(f"/commitments/{commitment_id}")).status_code == 404
        assert (await anonymous.get(f"/api/v1/commitments/{commitment_id}")).status_code == 404
    edit = await client.post(
        f"{base}/{commitment_id}",
        data=commitment_fields(title="Safer squares, revised", modules="testmodule"),
        headers=csrf_headers(client),
    )
    assert edit.status_code == 200
    assert "Safer squares, revised" in edit.text
    published = await client.post(f"{base}/{commitment_id}/publish", headers=csrf_headers(client))
    assert "The commitment is published." in published.text
    progress = await client.post(
        f"{base}/{commitment_id}/progress",
        data={
            "reported_on": "2025-05-01",
            "percentage": "35",
            "narrative": "Two squares done.",
            "evidence_links": "https://example.org/report.pdf",
        },
        headers=csrf_headers(client),
    )
    assert progress.status_code == 200
    assert "Two squares done." in progress.text
    async with signed_out(client) as anonymous:
        page = await anonymous.get(f"/commitments/{commitment_id}")
        assert page.status_code == 200
        assert "Safer squares, revised" in page.text
        assert "https://example.org/report.pdf" in page.text
        assert "Written in English" in page.text
        listing = await anonymous.get("/commitments?country=fr&priority=urban_planning&module=testmodule")
        assert "Safer squares, revised" in listing.text
        assert "Safer squares" not in (await anonymous.get("/commitments?country=LV")).text
        csv_response = await anonymous.get("/commitments.csv?q=squares")
        assert csv_response.headers["content-type"].startswith("text/csv")
        assert "Nice,FR," in csv_response.text
        assert "attachment" in csv_response.headers["content-disposition"]
    withdrawn = await client.post(f"{base}/{commitment_id}/withdraw", headers=csrf_headers(client))
    assert "The commitment is withdrawn." in withdrawn.text
    assert await count(sessions) == 1


async def test_invalid_forms_rerender_with_field_messages_and_save_nothing(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await editor(client, make_user, cities.a)
    base = f"/cities/{cities.a}/commitments"
    await client.get(base + "/new")
    backwards = await client.post(
        base + "/", data=commitment_fields(start_date="2026-01-01", due_date="2025-01-01"), headers=csrf_headers(client)
    )
    assert backwards.status_code == 422
    assert "The due date cannot be before the start date." in backwards.text
    unknown = await client.post(base + "/", data=commitment_fields(modules="nope"), headers=csrf_headers(client))
    assert unknown.status_code == 422
    assert "Unknown action module" in unknown.text
    assert await count(sessions) == 0
    bearer = await api_token(sessions, "mayor@nice.fr")
    api = f"/api/v1/cities/{cities.a}/commitments"
    created = await client.post(api, json=commitment_fields(), headers=bearer)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert (await client.post(f"{api}/{cid}/publish", headers=bearer)).status_code == 200
    for bad in (-5, 150):
        refused = await client.post(
            f"{api}/{cid}/progress", json={"reported_on": "2025-03-01", "percentage": bad}, headers=bearer
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"].startswith("percentage")
    html = await client.post(
        f"{base}/{cid}/progress", data={"reported_on": "2025-03-01", "percentage": "150"}, headers=csrf_headers(client)
    )
    assert html.status_code == 422
    assert 'id="error-percentage"' in html.text
    other = await client.put(f"{api}/{cid}", json=commitment_fields(parent_id=cid), headers=bearer)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "parent_id"
    detail = (await client.get(f"/api/v1/commitments/{cid}")).json()
    assert detail["updates"] == []
    assert detail["progress"] == 0


async def test_other_city_contributor_and_anonymous_are_refused(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("mayor@nice.fr", roles=[("mayors_office", {"city_id": cities.a})])
    nice = await api_token(sessions, "mayor@nice.fr")
    created = await client.post(f"/api/v1/cities/{cities.a}/commitments", json=commitment_fields(), headers=nice)
    cid = created.json()["id"]
    a_base, a_api = f"/cities/{cities.a}/commitments", f"/api/v1/cities/{cities.a}/commitments"
    # Anonymous: sent to sign in (HTML), 401 (API).
    assert (await client.get(a_base + "/", follow_redirects=False)).status_code == 303
    assert (await client.post(a_api, json=commitment_fields())).status_code == 401
    # The mayor's office of Riga: 403 on everything of Nice, HTML and API alike.
    await editor(client, make_user, cities.b, "mayor@riga.lv")
    riga = await api_token(sessions, "mayor@riga.lv")
    for path in ("/", "/new", f"/{cid}/edit", f"/{cid}/progress", "/export.csv"):
        assert (await client.get(a_base + path)).status_code == 403, path
    for path in ("/", f"/{cid}", f"/{cid}/publish", f"/{cid}/withdraw", f"/{cid}/progress"):
        assert (
            await client.post(a_base + path, data=commitment_fields(), headers=csrf_headers(client))
        ).status_code == 403, path
    assert (await client.get(a_api, headers=riga)).status_code == 403
    assert (await client.post(a_api, json=commitment_fields(), headers=riga)).status_code == 403
    assert (await client.put(f"{a_api}/{cid}", json=commitment_fields(), headers=riga)).status_code == 403
    assert (await client.post(f"{a_api}/{cid}/publish", headers=riga)).status_code == 403
    # Riga cannot reach Nice's commitment through its own city's routes either.
    assert (await client.post(f"/api/v1/cities/{cities.b}/commitments/{cid}/publish", headers=riga)).status_code == 404
    # A draft of Nice is invisible to Riga.
    assert (await client.get(f"/commitments/{cid}")).status_code == 404
    # A contributor of Nice may neither edit nor publish commitments.
    await make_user("helper@nice.fr", roles=[("contributor", {"city_id": cities.a})])
    helper = await api_token(sessions, "helper@nice.fr")
    assert (await client.post(f"{a_api}/{cid}/publish", headers=helper)).status_code == 403
    assert (await client.post(a_api, json=commitment_fields(), headers=helper)).status_code == 403
    async with sessions() as session:
        assert (await session.get(Commitment, UUID(cid))).published_at is None  # type: ignore[union-attr]


async def test_csv_export_and_import_through_the_pages(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await editor(client, make_user, cities.a)
    base = f"/cities/{cities.a}/commitments"
    await client.get(base + "/")
    good = "title,priority,start_date,due_date,modules\nLit squares,technology,2025-01-01,2025-12-31,testmodule\n"
    imported = await client.post(
        base + "/import", files={"file": ("c.csv", good.encode(), "text/csv")}, headers=csrf_headers(client)
    )
    assert imported.status_code == 200
    assert "Imported: 1 new drafts, 0 updated." in imported.text
    exported = await client.get(base + "/export.csv")
    assert exported.status_code == 200
    assert "Lit squares" in exported.text
    again = await client.post(
        base + "/import", files={"file": ("c.csv", exported.content, "text/csv")}, headers=csrf_headers(client)
    )
    assert "Imported: 0 new drafts, 0 updated." in again.text
    bad = good + "Backwards,technology,2025-12-31,2025-01-01,\n"
    refused = await client.post(
        base + "/import", files={"file": ("c.csv", bad.encode(), "text/csv")}, headers=csrf_headers(client)
    )
    assert refused.status_code == 422
    assert "Line 3: " in refused.text
    assert await count(sessions) == 1


async def test_api_list_filters_and_paginates(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("admin@covenant.eu", roles=[("admin", {})])
    admin = await api_token(sessions, "admin@covenant.eu")
    for city, n in ((cities.a, 3), (cities.b, 2)):
        for i in range(n):
            c = await client.post(
                f"/api/v1/cities/{city}/commitments",
                json=commitment_fields(title=f"Commitment {i}", priority="technology" if i else "urban_planning"),
                headers=admin,
            )
            await client.post(f"/api/v1/cities/{city}/commitments/{c.json()['id']}/publish", headers=admin)
    body = (await client.get("/api/v1/commitments?size=2&page=2")).json()
    assert body["total"] == 5
    assert body["pages"] == 3
    assert len(body["items"]) == 2
    assert (await client.get("/api/v1/commitments?country=LV")).json()["total"] == 2
    assert (await client.get("/api/v1/commitments?priority=technology")).json()["total"] == 3
    assert (await client.get("/api/v1/commitments?status=achieved")).json()["total"] == 0
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/commitments" in schema["paths"]
    assert "/api/v1/cities/{city_id}/commitments/{commitment_id}/progress" in schema["paths"]
