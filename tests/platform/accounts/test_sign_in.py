"""Signing in and out, sessions checked on the server, rotation at sign-in, expiry, the rate limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import services
from covenant.accounts.models import SignInSession
from covenant.config import Settings
from covenant.db import transaction
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]
GENERIC_FAILURE = "The e-mail address or the password is not right."


async def me(client: Client, cookie: str | None = None) -> int:
    if cookie is not None:
        client.cookies.set(services.SESSION_COOKIE, cookie)
    return (await client.get("/api/v1/me")).status_code


async def test_sign_in_opens_a_session_the_server_knows(client: Client, make_user: MakeUser) -> None:
    await make_user("Mayor@City.eu")
    response = await sign_in(client, "mayor@city.EU")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.cookies.get(services.SESSION_COOKIE)
    assert cookie
    assert "httponly" in response.headers["set-cookie"].lower()
    body = (await client.get("/api/v1/me")).json()
    assert body["email"] == "mayor@city.eu"
    page = await client.get("/")
    assert "You are signed in." in page.text


async def test_sign_in_goes_back_to_the_page_asked_for_but_never_elsewhere(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await client.get("/login")
    for target, expected in (("/account", "/account"), ("//evil.example", "/"), ("https://evil.example", "/")):
        client.cookies.delete(services.SESSION_COOKIE)
        response = await client.post(
            "/login",
            data={"email": "a@city.eu", "password": "correct horse battery staple", "next": target},
            headers=csrf_headers(client),
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


async def test_wrong_password_and_unknown_account_get_the_same_answer(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    wrong = await sign_in(client, "a@city.eu", "not the password")
    unknown = await sign_in(client, "nobody@city.eu", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert GENERIC_FAILURE in response.text
        assert services.SESSION_COOKIE not in response.cookies
    assert await me(client) == 401


async def test_disabled_account_cannot_sign_in(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await make_user("a@city.eu")
    async with transaction(sessions) as session:
        (await session.get(services.User, user.id)).is_active = False  # type: ignore[union-attr]
    assert (await sign_in(client, "a@city.eu")).status_code == 400


async def test_session_id_rotates_at_sign_in(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("a@city.eu")
    first = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    second = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    assert first != second
    # Signing in again from a signed-in browser replaced its session instead of adding one.
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SignInSession)) == 1
    assert await me(client, first) == 401
    assert await me(client, second) == 200


async def test_a_forged_cookie_is_ignored(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    token = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    value = token.rpartition(".")[0]
    assert await me(client, value + ".0000") == 401
    assert await me(client, token) == 200


async def test_sign_out_revokes_the_session_on_the_server(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    cookie = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    response = await client.post("/logout", headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303
    assert services.SESSION_COOKIE not in client.cookies
    # A copy of the old cookie, replayed, opens nothing any more.
    assert await me(client, cookie) == 401


async def test_sign_out_everywhere(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    laptop_cookie = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    client.cookies.delete(services.SESSION_COOKIE)  # now another browser
    await sign_in(client, "a@city.eu")
    response = await client.post("/logout/everywhere", headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303
    assert await me(client, laptop_cookie) == 401


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
async def test_idle_and_absolute_expiry(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], column: str
) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    assert await me(client) == 200
    past = services.now() - services.SESSION_IDLE_TIMEOUT - timedelta(minutes=1)
    async with transaction(sessions) as session:
        await session.execute(update(SignInSession).values({column: past}))
    assert await me(client) == 401


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_attempts_per_minute": 3})


async def test_sign_in_attempts_are_rate_limited_per_email(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    for _ in range(3):
        assert (await sign_in(client, "a@city.eu", "wrong password")).status_code == 400
    blocked = await sign_in(client, "a@city.eu")  # even the right password waits
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "60"
    assert "Too many sign-in attempts" in blocked.text


async def test_sign_in_attempts_are_rate_limited_per_address(client: Client) -> None:
    for n in range(3 * services.IP_LIMIT_FACTOR):
        assert (await sign_in(client, f"guess{n}@city.eu", "wrong password")).status_code == 400
    assert (await sign_in(client, "another@city.eu", "wrong password")).status_code == 429


async def test_old_attempts_no_longer_count(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("a@city.eu")
    for _ in range(3):
        await sign_in(client, "a@city.eu", "wrong password")
    async with transaction(sessions) as session:
        await session.execute(update(services.LoginAttempt).values(at=services.now() - timedelta(minutes=2)))
    assert (await sign_in(client, "a@city.eu")).status_code == 303
