"""The catalogue (`covenant events graph`) and the admin pages of the event bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from click.testing import CliRunner
from covenant_testmodule.events import SomethingNoted
from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant.accounts.identity import Grant, Identity
from covenant.app import create_app
from covenant.config import Settings, get_settings
from covenant.events.catalogue import build_catalogue, render_mermaid, render_text
from covenant.events.outbox import record
from covenant.plugins import ModuleRegistry


def _graph(monkeypatch: pytest.MonkeyPatch, modules: str, *args: str) -> str:
    from covenant.cli import cli

    monkeypatch.setenv("COVENANT_MODULES", modules)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["events", "graph", *args])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def test_graph_lists_events_publishers_and_subscribers(monkeypatch: pytest.MonkeyPatch) -> None:
    out = _graph(monkeypatch, "testmodule")
    assert "testmodule.noted  (published by testmodule)" in out
    assert "-> testmodule.note_something  [queue testmodule]" in out
    mermaid = _graph(monkeypatch, "testmodule", "--format", "mermaid")
    assert mermaid.startswith("flowchart LR")
    assert '["testmodule.note_something"]' in mermaid


def test_graph_works_with_zero_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "mail.queued  (published by core)" in _graph(monkeypatch, "")
    core_only = build_catalogue(ModuleRegistry([]))
    assert core_only.queues == ["core"]
    assert {"mail.queued", "commitment.published"} <= set(core_only.events)
    assert "core.send_queued_mail" in render_mermaid(core_only)
    assert "-> core.send_queued_mail  [queue core]" in render_text(core_only)


@pytest.fixture
def as_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-only: requests carrying ``x-test-admin`` are an admin's (sign-in is the accounts' tests' job)."""
    from covenant.accounts import guards

    admin = Identity(user_id=uuid4(), email="admin@example.org", grants=(Grant("admin"),))
    real = guards.identity_of

    def identity_of(connection: Any) -> Identity:
        if connection.headers.get("x-test-admin") == "1":
            connection.scope["identity"] = admin
            return admin
        return real(connection)

    monkeypatch.setattr(guards, "identity_of", identity_of)


@pytest.fixture
async def admin_client(settings: Settings, as_admin: None) -> AsyncIterator[AsyncTestClient[Litestar]]:
    from tests.fixtures.bus import BUS_MODULE

    app = create_app(settings, ModuleRegistry([BUS_MODULE]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        yield client


ADMIN = {"x-test-admin": "1"}


async def test_admin_pages_show_catalogue_recent_events_lag_and_dead_letters(
    admin_client: AsyncTestClient[Litestar], sessions: Any
) -> None:
    async with sessions() as session, session.begin():
        record(session, SomethingNoted(city_id=uuid4(), note="shown"))
    page = await admin_client.get("/admin/events", headers=ADMIN)
    assert page.status_code == 200
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "testmodule.note_something" in main
    assert "testmodule.noted" in main
    catalogue = (await admin_client.get("/api/v1/admin/events/catalogue", headers=ADMIN)).json()
    assert {e["name"] for e in catalogue} >= {"testmodule.noted"}
    recent = (await admin_client.get("/api/v1/admin/events/recent", headers=ADMIN)).json()
    assert recent["total"] == 1
    assert recent["items"][0]["name"] == "testmodule.noted"
    lag = (await admin_client.get("/api/v1/admin/events/lag", headers=ADMIN)).json()
    assert lag["unpublished"] == 1
    assert lag["oldest_unpublished_seconds"] >= 0
    letters = await admin_client.get("/admin/events/dead-letters", headers=ADMIN)
    assert letters.status_code == 200
    assert "No dead letters" in letters.text
    assert (await admin_client.get("/api/v1/admin/events/dead-letters", headers=ADMIN)).json()["total"] == 0


@pytest.mark.parametrize(
    "path",
    ["/admin/events", "/admin/events/dead-letters", "/api/v1/admin/events/lag", "/api/v1/admin/events/catalogue"],
)
async def test_anonymous_may_not_see_the_event_pages(admin_client: AsyncTestClient[Litestar], path: str) -> None:
    response = await admin_client.get(path, follow_redirects=False)
    assert response.status_code in {401, 302, 303}
