"""A request's transaction is committed before its response is sent: a commit that fails is a 503 (database
away) with nothing written, never a success reported over lost data."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, post
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from covenant.app import create_app
from covenant.config import Settings
from covenant.events.models import OutboxRecord
from covenant.events.outbox import record
from covenant.plugins import ActionModule, ModuleRegistry
from covenant.web.deps import DbSession
from tests.conftest import Backend


@post("/notes", name="committest:notes", status_code=201)
async def add_note(request: Request[Any, Any, Any], db_session: DbSession, cut: bool = False) -> dict[str, str]:
    from covenant_testmodule.events import SomethingNoted

    event = SomethingNoted(note="committed?")
    record(db_session, event)
    await db_session.flush()
    if cut:  # the database drops this request's connection after the handler's work, before the commit
        pid = await db_session.scalar(text("SELECT pg_backend_pid()"))
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as other:  # waits (up to 10 s) until the connection is gone
            await other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
    return {"event_id": str(event.event_id)}


MODULE = ActionModule(
    slug="committest", title="Commit test", action=9, summary="Only in the tests.", api_route_handlers=[add_note]
)


async def _events(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(OutboxRecord)) or 0)


@pytest.mark.backend
async def test_a_commit_that_fails_is_a_503_with_nothing_written(
    backend: Backend, settings: Settings, session: AsyncSession
) -> None:
    app = create_app(settings, ModuleRegistry([MODULE]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        ok = await client.post("/api/v1/committest/notes")
        assert ok.status_code == 201, ok.text
        assert await _events(session) == 1
        if not backend.is_postgres:
            pytest.skip("cutting a request's connection needs PostgreSQL")

        cut = await client.post("/api/v1/committest/notes", params={"cut": "true"})
        assert cut.status_code == 503, cut.text
        assert cut.headers["retry-after"]
        assert cut.headers["content-type"].startswith("application/problem+json")
        assert await _events(session) == 1, "the failed request's event was written"

        again = await client.post("/api/v1/committest/notes")
        assert again.status_code == 201, again.text
    assert await _events(session) == 2
