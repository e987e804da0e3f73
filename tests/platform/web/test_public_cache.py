"""Public pages served from memory to anonymous readers, retired by any write, never to a signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from covenant.web import public_cache
from covenant.web.public_cache import PublicCache, writes
from tests.fixtures.web import sign_in
from tests.platform.cities.conftest import Cities, MakeUser, make_member

Client = AsyncTestClient[Litestar]


@contextmanager
def statements(app: Litestar) -> Iterator[list[str]]:
    """The SQL the app's engine runs inside the block."""
    seen: list[str] = []
    engine: AsyncEngine = app.state.engine

    def capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


@pytest.fixture
async def signatories(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> Cities:
    await make_member(sessions, cities.a)
    await make_member(sessions, cities.b)
    return cities


def test_statements_that_change_data_are_told_from_reads() -> None:
    assert not writes("SELECT * FROM city")
    assert not writes("  select 1")
    assert not writes("WITH RECURSIVE codes(code) AS (SELECT min(country_code) FROM city) SELECT code FROM codes")
    assert not writes("BEGIN IMMEDIATE")
    assert not writes("SAVEPOINT sa_savepoint_1")
    for statement in (
        "INSERT INTO city VALUES (1)",
        "UPDATE city SET name = 'x'",
        "DELETE FROM city",
        "WITH moved AS (UPDATE city SET name = 'x' RETURNING id) SELECT id FROM moved",
        "COPY city FROM STDIN",
        "TRUNCATE city",
    ):
        assert writes(statement), statement


async def test_a_second_anonymous_read_does_not_touch_the_database(
    app: Litestar, client: Client, signatories: Cities
) -> None:
    for path in ("/cities", f"/cities/{signatories.a}", "/api/v1/cities", f"/api/v1/cities/{signatories.b}", "/"):
        first = await client.get(path)
        assert first.status_code == 200, path
        with statements(app) as seen:
            again = await client.get(path)
        assert again.status_code == 200
        assert again.content == first.content, path
        assert seen == [], path
        assert again.headers["x-request-id"] != first.headers["x-request-id"]
        assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


async def test_a_write_retires_the_stored_pages_at_once(
    app: Litestar, client: Client, signatories: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert "Nice" in (await client.get("/cities")).text
    assert (await client.get(f"/api/v1/cities/{signatories.a}")).json()["name"] == "Nice"
    async with transaction(sessions) as session:  # any writer of this process: here, not even the app
        await session.execute(update(City).where(City.id == signatories.a).values(name="Nizza"))
    listing = (await client.get("/cities")).text
    assert "Nizza" in listing
    assert ">Nice<" not in listing
    assert (await client.get(f"/api/v1/cities/{signatories.a}")).json()["name"] == "Nizza"


async def test_pages_expire_when_writes_come_from_elsewhere(signatories: Cities) -> None:
    now = [100.0]
    cache = PublicCache(10, clock=lambda: now[0])
    key = ("/cities", b"", "en", ())
    generation = public_cache.generation()
    cache.put(key, public_cache.Entry(generation, now[0] + 10, 200, [], b"stored"))
    assert cache.get(key) is not None
    now[0] += 10
    assert cache.get(key) is None, "an entry older than the setting is never served"


async def test_signed_in_readers_and_language_choices_are_never_served_a_stored_page(
    client: Client, signatories: Cities, make_user: MakeUser
) -> None:
    anonymous = await client.get("/cities")
    assert "Sign out" not in anonymous.text
    await make_user("reader@city.eu")
    await sign_in(client, "reader@city.eu")
    assert "Sign out" in (await client.get("/cities")).text
    client.cookies.clear()

    french = await client.get("/cities", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert french.headers["content-language"] == "fr"
    assert (await client.get("/cities")).headers["content-language"] == "en"
    switched = await client.get("/cities?lang=it")
    assert switched.headers["content-language"] == "it"
    assert "covenant_locale=it" in switched.headers.get("set-cookie", "")


async def test_a_new_visitor_gets_a_csrf_cookie_from_a_stored_page_and_can_then_sign_in(
    client: Client, signatories: Cities, make_user: MakeUser
) -> None:
    await client.get("/cities")
    client.cookies.clear()
    stored = await client.get("/cities")
    assert "covenant_csrf=" in stored.headers.get("set-cookie", "")
    await make_user("visitor@city.eu")
    signed = await client.post(
        "/login",
        data={"email": "visitor@city.eu", "password": "correct horse battery staple"},
        headers={"x-csrftoken": client.cookies.get("covenant_csrf") or ""},
        follow_redirects=False,
    )
    assert signed.status_code == 303


async def test_only_opted_in_successful_pages_are_kept(app: Litestar, client: Client, signatories: Cities) -> None:
    missing = "/cities/00000000-0000-0000-0000-000000000000"
    assert (await client.get(missing)).status_code == 404
    with statements(app) as seen:
        assert (await client.get(missing)).status_code == 404
    assert seen, "a 404 is looked up again"
    await client.get("/commitments")
    with statements(app) as seen:
        await client.get("/commitments")
    assert seen, "a page that did not opt in is rendered each time"


async def test_head_is_answered_from_a_stored_page_without_a_body(client: Client, signatories: Cities) -> None:
    page = await client.get("/cities")
    head = await client.head("/cities")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == page.headers["content-length"]


def test_the_cache_can_be_turned_off() -> None:
    assert not PublicCache(0).enabled
    assert PublicCache(0.5).enabled
