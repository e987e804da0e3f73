"""On PostgreSQL, the hot pages' queries use indexes: no big table is read whole to show one page.

Each page is requested once through the app on a generated Covenant (after ANALYZE); every SELECT it
issued is then explained as PostgreSQL runs it in production — a prepared statement with a *generic* plan
(it switches to one after five executions, and SQLAlchemy sends LIMIT as a parameter, DESIGN §7).

Totals (a plan whose root is a plain aggregate: a list's count) read what they count and are left out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.benchmarks.conftest import World, generate_world
from tests.conftest import Backend

pytestmark = pytest.mark.backend

CITIES = 2_000
BIG_TABLE_ROWS = 1_000

SIGNATORY_LISTS = ("/cities", "/cities?sort=population", "/cities?sort=adhesion_date", "/api/v1/cities")
HOT_PAGES = (
    "/commitments",
    "/api/v1/commitments",
    "/m/practices/",
    "/m/ai_review/",
    "/m/funding/calls",
)
CITY_PAGES = ("/cities/{city}", "/m/cohesion/cities/{city}/pyramid")

WHOLE_SET_AGGREGATES: tuple[str, ...] = ()
"""Statements known to read a whole set besides totals (a plain ``count(*)``, recognised by its plan)."""


@contextmanager
def capturing(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, UUID | date | datetime):
        return f"'{value}'"
    if isinstance(value, list | dict):
        value = json.dumps(value)
    return "'" + str(value).replace("'", "''") + "'"


# An Incremental Sort is not blocking: it sorts the groups of an already ordered input one at a time, so
# under a LIMIT it reads only as many groups as the page needs (a list ordered by population, then name).
BLOCKING = {"Sort", "Hash", "Aggregate", "Group", "Unique", "Materialize", "SetOp", "WindowAgg"}


def whole_reads(plan: dict[str, Any], big: set[str], stops_early: bool = False) -> list[str]:
    """Big tables the plan reads whole: a sequential scan, or an index scan without a condition, unless the
    rows stream straight into a LIMIT (an ordered index read that stops at the page size is what we want).
    Anything under a sort, a hash, an aggregate, or on the inner side of a nested loop does not stop early."""
    kind = plan.get("Node Type", "")
    found = []
    whole = kind == "Seq Scan" or (kind in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan)
    if whole and plan.get("Relation Name") in big and not stops_early:
        found.append(f"{kind} on {plan['Relation Name']}")
    for child in plan.get("Plans", []):
        streams = stops_early or kind == "Limit"
        if kind in BLOCKING or child.get("Parent Relationship") in ("Inner", "SubPlan", "InitPlan"):
            streams = False
        found += whole_reads(child, big, streams)
    return found


async def generic_plan(engine: AsyncEngine, statement: str, parameters: Any) -> dict[str, Any]:
    async with engine.connect() as conn:
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        # Sequential scans are made very expensive, so one that remains means no index can serve the query
        # (and a whole-table index read means the same); the data's size then no longer decides the test.
        await conn.execute(text("SET enable_seqscan = off"))
        await conn.exec_driver_sql(f"PREPARE hot AS {statement}")
        args = ", ".join(literal(p) for p in (parameters or ()))
        rows = await conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) EXECUTE hot{f'({args})' if args else ''}")
        plan = rows.scalar_one()
        await conn.exec_driver_sql("DEALLOCATE hot")
        await conn.rollback()
    document = json.loads(plan) if isinstance(plan, str) else plan
    return dict(document[0]["Plan"])


async def big_tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= :rows "
                "AND relnamespace = 'public'::regnamespace"
            ),
            {"rows": BIG_TABLE_ROWS},
        )
        return set(rows.scalars())


async def whole_reads_of(
    app: Litestar, client: AsyncTestClient[Litestar], engine: AsyncEngine, urls: list[str]
) -> dict[str, list[str]]:
    """For each URL, the big tables its SELECTs read whole (whole-set aggregates left out)."""
    big = await big_tables(engine)
    assert {"city", "commitment", "event_outbox"} <= big
    problems: dict[str, list[str]] = {}
    for url in urls:
        with capturing(app.state.engine) as seen:  # the app's engine serves the client on its own loop
            response = await client.get(url)
        assert response.status_code == 200, url
        for statement, parameters in seen:
            reads_rows = statement.lstrip().upper().startswith(("SELECT", "WITH"))
            if not reads_rows or (WHOLE_SET_AGGREGATES and statement.startswith(WHOLE_SET_AGGREGATES)):
                continue
            plan = await generic_plan(engine, statement, parameters)
            if plan.get("Node Type") == "Aggregate" and plan.get("Strategy") == "Plain":
                continue  # a total reads what it counts
            reads = whole_reads(plan, big)
            if reads:
                problems.setdefault(url, []).append(f"{', '.join(reads)}: {statement[:300]}")
    return problems


@pytest.fixture
async def world(backend: Backend, engine: AsyncEngine) -> World:
    if not backend.is_postgres:
        pytest.skip("EXPLAIN plans are PostgreSQL's (SQLite has no cost-based choice to check here)")
    return await generate_world(engine, CITIES)


async def test_hot_queries_use_indexes(
    world: World, app: Litestar, client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    urls = [*HOT_PAGES, *(p.format(city=c) for p in CITY_PAGES for c in (world.busiest, world.quietest))]
    problems = await whole_reads_of(app, client, engine, urls)
    assert not problems, json.dumps(problems, indent=2)


async def test_signatory_list_uses_an_index(
    world: World, app: Litestar, client: AsyncTestClient[Litestar], engine: AsyncEngine
) -> None:
    problems = await whole_reads_of(app, client, engine, list(SIGNATORY_LISTS))
    assert not problems, json.dumps(problems, indent=2)
