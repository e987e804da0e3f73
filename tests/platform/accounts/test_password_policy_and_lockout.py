"""The password policy (breached list shipped as data, a minimum-entropy rule, no personal details), the
sign-in lockout that no stranger can turn into a permanent one, and session rotation at password change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import passwords, services
from covenant.accounts.models import LoginAttempt
from covenant.config import Settings
from covenant.db import transaction
from tests.fixtures.web import DEFAULT_PASSWORD, csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]


def test_the_breached_list_ships_with_the_code() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 5000
    assert {"password123", "qwertyuiop", "iloveyou1"} <= common


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("password123", passwords.TOO_COMMON),
        ("Password123!", passwords.TOO_COMMON),  # case and a trailing symbol change nothing
        ("qwertyuiop1", passwords.TOO_COMMON),
        ("abcdefghijklm", passwords.TOO_PREDICTABLE),
        ("1234567890123", passwords.TOO_PREDICTABLE),
        ("aaaaaaaaaaaaaaaa", passwords.TOO_PREDICTABLE),
        ("8402957163", passwords.TOO_PREDICTABLE),  # ten random digits: 33 bits
        ("ana.lopez-2026!", passwords.TOO_PERSONAL),
        (DEFAULT_PASSWORD, None),
        ("Tr0ub4dor&3x", None),
        ("a new passphrase", None),
    ],
)
def test_policy(password: str, refused: str | None) -> None:
    assert passwords.policy_problem(password, personal=("ana.lopez@city.eu", "Ana López")) == refused


async def test_reset_and_change_refuse_weak_passwords_with_a_field_message(client: Client, make_user: MakeUser) -> None:
    await make_user("ana.lopez@city.eu", display_name="Ana Lopez")
    await sign_in(client, "ana.lopez@city.eu")
    for weak, message in (
        ("password1234", "one of the most common ones"),
        ("ana.lopez-is-me", "must not contain your e-mail address or your name"),
        ("zzzzzzzzzzzzzz", "too easy to guess"),
    ):
        data = {"current_password": DEFAULT_PASSWORD, "password": weak, "password_confirm": weak}
        response = await client.post("/account/password", data=data, headers=csrf_headers(client))
        assert response.status_code == 422, weak
        assert message in response.text
        assert 'id="error-password"' in response.text


async def test_password_change_rotates_this_session_and_ends_the_others(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    laptop = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    client.cookies.delete(services.SESSION_COOKIE)
    phone = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    data = {
        "current_password": DEFAULT_PASSWORD,
        "password": "a new passphrase",
        "password_confirm": "a new passphrase",
    }
    changed = await client.post("/account/password", data=data, headers=csrf_headers(client), follow_redirects=False)
    assert changed.status_code == 303
    fresh = changed.cookies[services.SESSION_COOKIE]
    assert fresh not in (laptop, phone)
    for old in (laptop, phone):
        client.cookies.set(services.SESSION_COOKIE, old)
        assert (await client.get("/api/v1/me")).status_code == 401
    client.cookies.set(services.SESSION_COOKIE, fresh)
    assert (await client.get("/api/v1/me")).status_code == 200


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_attempts_per_minute": 3})


async def test_lockout_is_per_account_and_address_and_grows(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("victim@city.eu")
    for _ in range(3):
        assert (await sign_in(client, "victim@city.eu", "wrong password")).status_code == 400
    blocked = await sign_in(client, "victim@city.eu")
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "60"
    # The owner, from their own address, is not slowed down by the stranger's failures.
    async with sessions() as session:
        assert await services.sign_in_wait(session, email="victim@city.eu", ip="198.51.100.7", per_minute=3) == 0
        assert await services.sign_in_wait(session, email="victim@city.eu", ip="testclient", per_minute=3) > 0

    async def wait_after(failures: int) -> int:
        async with transaction(sessions) as session:
            await session.execute(update(LoginAttempt).values(at=services.now() - timedelta(seconds=1)))
            for _ in range(failures):
                session.add(LoginAttempt(email="victim@city.eu", ip="testclient", at=services.now()))
        async with sessions() as session:
            return await services.sign_in_wait(session, email="victim@city.eu", ip="testclient", per_minute=3)

    assert await wait_after(1) == 120  # 4 failures: twice the first wait
    assert await wait_after(1) == 240
    assert await wait_after(20) == services.LOCKOUT_CAP.total_seconds()  # never more than the cap


async def test_lockout_ends_by_itself(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("victim@city.eu")
    for _ in range(12):  # a stranger keeps trying: the wait is at its cap
        await sign_in(client, "victim@city.eu", "wrong password")
    assert (await sign_in(client, "victim@city.eu")).status_code == 429
    async with transaction(sessions) as session:
        await session.execute(
            update(LoginAttempt).values(at=services.now() - services.LOCKOUT_CAP - timedelta(seconds=1))
        )
    assert (await sign_in(client, "victim@city.eu")).status_code == 303
