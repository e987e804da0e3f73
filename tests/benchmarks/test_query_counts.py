"""No N+1: every hot page issues a small, fixed number of SQL statements, however many rows it shows.

The generated Covenant gives the pages real volumes (a busiest city with dozens of commitments and their
timelines, lists with full pages); the statements are counted on the app's own engine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.benchmarks.conftest import generate_world

pytestmark = pytest.mark.backend

MAX_STATEMENTS = 12
"""A page may need several queries (rows, total, facets, related rows in one IN each) but never one per row."""

PUBLIC_PAGES = (
    "/",
    "/cities",
    "/cities?page=2&sort=population",
    "/api/v1/cities?size=100",
    "/commitments",
    "/api/v1/commitments?size=100",
    "/m/funding/",
    "/m/funding/calls",
    "/m/ai_review/",
    "/m/training/",
    "/m/cohesion/",
    "/m/practices/",
    "/m/practices/?measure=lighting",
    "/api/v1/practices/fiches",
    "/api/v1/ai_review/technologies",
)


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


async def statements_for(client: AsyncTestClient[Litestar], app: Litestar, url: str) -> list[str]:
    await client.get(url)  # warm caches and lazy imports; the second request is the one counted
    with counting(app.state.engine) as statements:
        response = await client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements


async def test_hot_pages_issue_a_bounded_number_of_statements(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    world = await generate_world(app.state.engine, 200)
    counts = {url: await statements_for(client, app, url) for url in PUBLIC_PAGES}
    too_many = {url: len(s) for url, s in counts.items() if len(s) > MAX_STATEMENTS}
    assert not too_many, too_many

    # A city profile costs the same however busy the city: the quiet city may skip the queries that only
    # run when there are commitments, never the reverse.
    busy = await statements_for(client, app, f"/cities/{world.busiest}")
    quiet = await statements_for(client, app, f"/cities/{world.quietest}")
    assert len(busy) <= MAX_STATEMENTS, "\n".join(busy)
    assert len(quiet) <= len(busy) <= len(quiet) + 3

    # So does a module's page of a city.
    busy = await statements_for(client, app, f"/m/cohesion/cities/{world.busiest}/pyramid")
    quiet = await statements_for(client, app, f"/m/cohesion/cities/{world.quietest}/pyramid")
    assert len(busy) <= MAX_STATEMENTS, "\n".join(busy)
    assert len(busy) == len(quiet)
