"""User administration: list, search, create, grant and revoke roles (HTML and API), with audit rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import services
from covenant.audit.models import AuditEntry
from covenant.db import transaction
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]


async def test_list_search_and_pagination(admin_client: Client, make_user: MakeUser) -> None:
    for n in range(30):
        await make_user(f"user{n:02d}@city.eu", display_name=f"Person {n}")
    page = await admin_client.get("/admin/users")
    assert page.status_code == 200
    assert "Page 1 of 2" in page.text
    found = await admin_client.get("/admin/users", params={"q": "USER07"})
    assert "user07@city.eu" in found.text
    assert "user08@city.eu" not in found.text
    api = (await admin_client.get("/api/v1/admin/users", params={"q": "person 1", "size": 5})).json()
    assert api["total"] == 11
    assert len(api["items"]) == 5


async def test_grant_and_revoke_a_role_are_audited(
    admin_client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await make_user("mayor@city.eu")
    city = uuid4()
    await admin_client.get(f"/admin/users/{user.id}")
    response = await admin_client.post(
        f"/admin/users/{user.id}/grants",
        data={"role": "mayors_office", "city_id": str(city)},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    async with sessions() as session:
        refreshed = await session.get(services.User, user.id)
        assert refreshed is not None
        grant = refreshed.grants[0]
        assert (grant.role, grant.city_id) == ("mayors_office", city)
    await admin_client.post(f"/admin/users/{user.id}/grants/{grant.id}/revoke", headers=csrf_headers(admin_client))

    async with sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.entity_id == str(user.id)).order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in entries] == ["user.created", "grant.added", "grant.revoked"]
    added = entries[1]
    assert added.actor_email == "admin@city.eu"
    assert added.actor_id is not None
    assert added.after is not None
    assert added.after["city_id"] == str(city)
    assert added.request_id
    assert added.ip
    assert entries[2].before is not None
    assert entries[2].before["role"] == "mayors_office"

    log = await admin_client.get("/admin/audit", params={"entity_type": "user", "entity_id": str(user.id)})
    assert log.status_code == 200
    assert "grant.revoked" in log.text
    by_actor = await admin_client.get("/admin/audit", params={"actor": "admin@city.eu"})
    assert "grant.added" in by_actor.text
    assert "user.created" not in by_actor.text


async def test_grant_form_rerenders_with_field_messages(admin_client: Client, make_user: MakeUser) -> None:
    user = await make_user("someone@city.eu")
    response = await admin_client.post(
        f"/admin/users/{user.id}/grants",
        data={"role": "contributor", "city_id": "", "module": "x"},
        headers=csrf_headers(admin_client),
    )
    assert response.status_code == 422
    assert "enter the city&#39;s id" in response.text
    assert "Only reviewers are given a module." in response.text


async def test_api_validates_with_the_same_schema(
    admin_client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await make_user("someone@city.eu")
    async with transaction(sessions) as session:
        admin = await services.user_by_email(session, "admin@city.eu")
        assert admin is not None
        secret = (await services.create_api_token(session, admin, name="t", expires_at=None, actor=None)).secret
    program = admin_client
    program.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    bad = await program.post(f"/api/v1/admin/users/{user.id}/grants", json={"role": "reviewer"}, headers=bearer)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert any("module" in e["field"] for e in bad.json()["errors"])
    good = await program.post(
        f"/api/v1/admin/users/{user.id}/grants", json={"role": "reviewer", "module": "practices"}, headers=bearer
    )
    assert good.status_code == 201
    assert good.json()["module"] == "practices"
    taken = await program.post(
        "/api/v1/admin/users", json={"email": "someone@city.eu", "display_name": "S"}, headers=bearer
    )
    assert taken.status_code == 409


async def test_created_account_gets_an_invitation(
    admin_client: Client, client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await admin_client.post(
        "/admin/users",
        data={"email": "New@City.eu", "display_name": "New"},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    duplicate = await admin_client.post(
        "/admin/users", data={"email": "new@city.eu", "display_name": "Again"}, headers=csrf_headers(admin_client)
    )
    assert duplicate.status_code == 422
    assert "already exists" in duplicate.text
    mailbox = await admin_client.get("/admin/mailbox")
    assert "new@city.eu" in mailbox.text
    assert "Reset your Covenant password" in mailbox.text


async def test_demo_admin_can_sign_in_and_is_reset_on_reload(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        email, first = await services.ensure_demo_admin(session)
    async with transaction(sessions) as session:
        _, second = await services.ensure_demo_admin(session)
    assert first != second
    assert (await sign_in(client, email, first)).status_code == 400
    assert (await sign_in(client, email, second)).status_code == 303
    assert (await client.get("/api/v1/me")).json()["is_admin"] is True
    async with sessions() as session:
        admin = await services.user_by_email(session, email)
        assert admin is not None
        assert [g.role for g in admin.grants] == ["admin"]
