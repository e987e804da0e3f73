"""The embedded default: ``covenant serve`` runs the relay and a worker in its own process, so a state
change made through the web reaches its subscribers with nothing else running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.config import Settings
from covenant.notifications.models import MAILBOX, MailMessage
from covenant.plugins import ModuleRegistry
from tests.fixtures.bus import eventually
from tests.fixtures.web import csrf_headers


async def test_a_mail_queued_by_a_request_is_delivered_by_the_in_process_worker(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    make_user: Callable[..., Awaitable[Any]],
) -> None:
    await make_user("mayor@mechelen.example")
    embedded = settings.model_copy(update={"relay_poll_seconds": 0.2})
    app = create_app(embedded, ModuleRegistry([]), embedded_worker=True)
    async with AsyncTestClient(app=app) as client:
        await client.get("/password/forgot")
        response = await client.post(
            "/password/forgot",
            data={"email": "mayor@mechelen.example"},
            headers=csrf_headers(client),
            follow_redirects=False,
        )
        assert response.status_code == 303

        async def delivered() -> bool:
            async with sessions() as session:
                status = await session.scalar(
                    select(MailMessage.status).where(MailMessage.to_address == "mayor@mechelen.example")
                )
            return status == MAILBOX

        await eventually(delivered, timeout=15)
