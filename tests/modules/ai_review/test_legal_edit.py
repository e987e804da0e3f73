"""Reviewers correct and delete legal tracker entries (HTML with a confirmation, and the API)."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from modules.ai_review.models import LegalDevelopment
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.ai_review.conftest import Cities
from tests.platform.commitments.conftest import MakeUser, api_token

Client = AsyncTestClient[Litestar]
DEVELOPMENT = {
    "country_code": "be",
    "kind": "bill",
    "decided_on": "2025-03-01",
    "category": "facial_recognition",
    "stance": "restrictive",
    "title": "Bill banning facial recognition in public spaces",
    "link": "https://example.org/bill",
}


async def test_reviewer_edits_and_deletes_legal_developments_in_html(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("reviewer@eu.example", roles=[("reviewer", {"module": "ai_review"})])
    await make_user("tech@nice.fr", roles=[("contributor", {"city_id": cities.a, "modules": ["ai_review"]})])
    assert (await sign_in(client, "reviewer@eu.example")).status_code == 303
    await client.post("/m/ai_review/legal", data=DEVELOPMENT, headers=csrf_headers(client))
    async with sessions() as session:
        d_id = (await session.scalars(select(LegalDevelopment.id))).one()
    listing = (await client.get("/m/ai_review/legal")).text
    assert f"/m/ai_review/legal/{d_id}/edit" in listing
    form = await client.get(f"/m/ai_review/legal/{d_id}/edit")
    assert form.status_code == 200
    assert "Bill banning facial recognition" in form.text
    assert "This cannot be undone" in form.text  # the deletion asks for confirmation
    # Bad input re-renders the form with the message.
    bad = await client.post(
        f"/m/ai_review/legal/{d_id}/", data=DEVELOPMENT | {"title": "x"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    ok = await client.post(
        f"/m/ai_review/legal/{d_id}/",
        data=DEVELOPMENT | {"stance": "conditional", "title": "Bill allowing facial recognition under conditions"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert ok.status_code == 303
    listing = (await client.get("/m/ai_review/legal")).text
    assert "Bill allowing facial recognition under conditions" in listing
    # A contributor and an anonymous visitor may neither edit nor delete, nor see the links.
    client.cookies = httpx.Cookies()
    assert (await sign_in(client, "tech@nice.fr")).status_code == 303
    assert "/edit" not in (await client.get("/m/ai_review/legal")).text
    assert (await client.get(f"/m/ai_review/legal/{d_id}/edit")).status_code == 403
    assert (await client.post(f"/m/ai_review/legal/{d_id}/delete", headers=csrf_headers(client))).status_code == 403
    client.cookies = httpx.Cookies()
    anonymous = await client.get(f"/m/ai_review/legal/{d_id}/edit", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
    # The reviewer confirms the deletion.
    assert (await sign_in(client, "reviewer@eu.example")).status_code == 303
    gone = await client.post(f"/m/ai_review/legal/{d_id}/delete", headers=csrf_headers(client), follow_redirects=False)
    assert gone.status_code == 303
    assert (await client.get(f"/m/ai_review/legal/{d_id}/edit")).status_code == 404
    async with sessions() as session:
        assert await session.get(LegalDevelopment, d_id) is None
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {"ai_review.legal_development_updated", "ai_review.legal_development_deleted"} <= actions


async def test_reviewer_updates_and_deletes_legal_developments_through_the_api(
    client: Client, make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("reviewer@eu.example", roles=[("reviewer", {"module": "ai_review"})])
    await make_user("tech@nice.fr", roles=[("contributor", {"city_id": cities.a, "modules": ["ai_review"]})])
    reviewer = await api_token(sessions, "reviewer@eu.example")
    city = await api_token(sessions, "tech@nice.fr")
    created = await client.post("/api/v1/ai_review/legal", json=DEVELOPMENT, headers=reviewer)
    assert created.status_code == 201, created.text
    url = f"/api/v1/ai_review/legal/{created.json()['id']}"
    assert (await client.get(url)).json()["title"] == DEVELOPMENT["title"]
    changed = DEVELOPMENT | {"country_code": "nl", "stance": "permissive"}
    assert (await client.put(url, json=changed, headers=city)).status_code == 403
    assert (await client.put(url, json=changed)).status_code == 401
    assert (await client.put(url, json=changed | {"link": "ftp://x"}, headers=reviewer)).status_code in (400, 422)
    updated = await client.put(url, json=changed, headers=reviewer)
    assert updated.status_code == 200, updated.text
    assert (updated.json()["country_code"], updated.json()["stance"]) == ("NL", "permissive")
    assert (await client.delete(url, headers=city)).status_code == 403
    assert (await client.delete(url, headers=reviewer)).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url, headers=reviewer)).status_code == 404
