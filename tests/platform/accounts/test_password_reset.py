"""Password reset end to end: the mail, the single-use link, its expiry; no account enumeration."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import services
from covenant.accounts.models import PasswordReset
from covenant.config import Settings
from covenant.db import transaction
from covenant.notifications import deliver_pending
from covenant.notifications.models import MAILBOX, MailMessage
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]
NEW_PASSWORD = "a brand new passphrase"


async def ask_for_link(client: Client, email: str) -> Any:
    await client.get("/password/forgot")
    return await client.post(
        "/password/forgot", data={"email": email}, headers=csrf_headers(client), follow_redirects=False
    )


async def mailed_link(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> str:
    assert await deliver_pending(sessions, settings) == 1
    async with sessions() as session:
        mail = (await session.scalars(select(MailMessage))).one()
    assert mail.status == MAILBOX
    match = re.search(r"http://\S+(/password/reset/\S+)", mail.body_text)
    assert match, mail.body_text
    return match.group(1)


async def test_reset_flow_end_to_end(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user("a@city.eu")
    response = await ask_for_link(client, "A@city.eu")
    assert response.status_code == 303
    link = await mailed_link(sessions, settings)

    assert (await client.get(link)).status_code == 200
    response = await client.post(
        link,
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert (await sign_in(client, "a@city.eu")).status_code == 400
    assert (await sign_in(client, "a@city.eu", NEW_PASSWORD)).status_code == 303

    # Single use: the same link is refused afterwards.
    again = await client.post(
        link,
        data={"password": "yet another passphrase", "password_confirm": "yet another passphrase"},
        headers=csrf_headers(client),
    )
    assert again.status_code == 400
    assert "This link no longer works" in again.text


async def test_reset_signs_out_every_session(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user("a@city.eu")
    thief_cookie = (await sign_in(client, "a@city.eu")).cookies[services.SESSION_COOKIE]
    client.cookies.delete(services.SESSION_COOKIE)
    await ask_for_link(client, "a@city.eu")
    link = await mailed_link(sessions, settings)
    await client.get(link)
    await client.post(
        link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, headers=csrf_headers(client)
    )
    client.cookies.set(services.SESSION_COOKIE, thief_cookie)
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_expired_link_is_refused(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user("a@city.eu")
    await ask_for_link(client, "a@city.eu")
    link = await mailed_link(sessions, settings)
    async with transaction(sessions) as session:
        await session.execute(update(PasswordReset).values(expires_at=services.now() - timedelta(seconds=1)))
    assert (await client.get(link)).status_code == 400
    response = await client.post(
        link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, headers=csrf_headers(client)
    )
    assert response.status_code == 400


async def test_unknown_address_gets_the_same_answer_and_no_mail(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user("a@city.eu")
    known = await ask_for_link(client, "a@city.eu")
    unknown = await ask_for_link(client, "nobody@city.eu")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"]
    assert await deliver_pending(sessions, settings) == 1


async def test_mismatched_passwords_rerender_with_field_message(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user("a@city.eu")
    await ask_for_link(client, "a@city.eu")
    link = await mailed_link(sessions, settings)
    await client.get(link)
    response = await client.post(
        link, data={"password": NEW_PASSWORD, "password_confirm": "something else"}, headers=csrf_headers(client)
    )
    assert response.status_code == 422
    assert "The two passwords differ." in response.text
    short = await client.post(
        link, data={"password": "short", "password_confirm": "short"}, headers=csrf_headers(client)
    )
    assert short.status_code == 422
    assert 'id="error-password"' in short.text
