"""Personal API tokens: created on the account page and shown once, stored hashed, revocable."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts.models import ApiToken
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]


async def create_token(client: Client, name: str = "reporting script") -> str:
    await client.get("/account")
    response = await client.post(
        "/account/tokens", data={"name": name, "expires_in_days": ""}, headers=csrf_headers(client)
    )
    assert response.status_code == 201, response.text
    match = re.search(r'<code class="token">(cov_[^<]+)</code>', response.text)
    assert match
    return match.group(1)


async def test_token_opens_the_api_and_revoking_closes_it(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    secret = await create_token(client)
    async with sessions() as session:
        token = (await session.scalars(select(ApiToken))).one()
    assert token.token_hash != secret
    assert secret not in token.token_hash
    assert "cov_" not in (await client.get("/account")).text.replace(token.prefix, "")  # shown once only

    await client.post(f"/account/tokens/{token.id}/revoke", headers=csrf_headers(client))
    # A program has the token and no cookie.
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/me", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/me", headers={"Authorization": "Bearer cov_made_up"})).status_code == 401


async def test_token_opens_the_api(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    secret = await create_token(client)
    client.cookies.clear()
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json()["email"] == "a@city.eu"
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_token_form_rerenders_with_field_errors(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    response = await client.post(
        "/account/tokens", data={"name": "", "expires_in_days": "0"}, headers=csrf_headers(client)
    )
    assert response.status_code == 422
    assert 'id="error-name"' in response.text
    assert 'id="error-expires_in_days"' in response.text


async def test_bearer_requests_need_no_csrf_token_but_cookie_ones_cannot_change_the_api(
    admin_client: Client,
) -> None:
    secret = await create_token(admin_client, "admin script")
    # The call riding on the browser's session cookie is not authorised (the API is CSRF-exempt)...
    response = await admin_client.post("/api/v1/admin/users", json={"email": "x@city.eu", "display_name": "X"})
    assert response.status_code == 401
    # ...the same call from a program with the token is, without any CSRF token.
    admin_client.cookies.clear()
    response = await admin_client.post(
        "/api/v1/admin/users",
        json={"email": "new@city.eu", "display_name": "New"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.text
