"""Deadlines: announced through the bus for real (applied once), listed, filtered, exported as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from dramatiq import Message
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.calendar import services
from covenant.calendar.events import DeadlineAnnounced
from covenant.calendar.handlers import apply_announced_deadline
from covenant.calendar.models import Deadline
from covenant.db import transaction
from covenant.events.consumer import message_body
from covenant.events.models import InboxRecord, OutboxRecord
from tests.fixtures.bus import Bus, eventually
from tests.fixtures.web import csrf_headers
from tests.platform.calendar.conftest import bearer_for

Client = AsyncTestClient[Litestar]
SOON = date.today() + timedelta(days=40)
ACTOR = "core.apply_announced_deadline"


async def _deadlines(sessions: async_sessionmaker[AsyncSession]) -> list[Deadline]:
    async with sessions() as session:
        return list(await session.scalars(select(Deadline).order_by(Deadline.due_on)))


async def test_announced_deadline_is_consumed_through_the_bus_once(bus: Bus, cities: Any) -> None:
    assert ACTOR in bus.catalogue.subscribers
    assert bus.catalogue.events["deadline.announced"].publisher == "core"
    nice = await cities("Nice")
    async with transaction(bus.sessions) as session:
        event = services.announce_deadline(
            session,
            source="funding",
            key="call-2027-urban-security",
            title="Funding call closes",
            due_on=SOON,
            audience="city",
            city_id=nice,
            link="https://example.eu/call",
        )
    await bus.settle()

    async def applied() -> bool:
        return len(await _deadlines(bus.sessions)) == 1

    await eventually(applied)
    [row] = await _deadlines(bus.sessions)
    assert (row.source, row.key, row.city_id, row.audience) == ("funding", "call-2027-urban-security", nice, "city")

    # The broker hands the same message over again: the inbox skips it.
    async with bus.sessions() as session:
        outbox = await session.scalar(select(OutboxRecord).where(OutboxRecord.event_id == event.event_id))
    assert outbox is not None
    bus.broker.enqueue(
        Message(queue_name="core", actor_name=ACTOR, args=(message_body(outbox, ACTOR),), kwargs={}, options={})
    )
    await bus.settle()
    assert len(await _deadlines(bus.sessions)) == 1
    inbox = await bus.scalar(
        select(func.count()).select_from(InboxRecord).where(InboxRecord.event_id == event.event_id)
    )
    assert inbox == 1
    audits = await bus.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "deadline.announced")
    )
    assert audits == 1

    # Announcing the same (source, key) again is an update, not a second deadline.
    async with transaction(bus.sessions) as session:
        services.announce_deadline(
            session,
            source="funding",
            key="call-2027-urban-security",
            title="Funding call closes (extended)",
            due_on=SOON + timedelta(days=7),
            audience="city",
            city_id=nice,
        )
    await bus.settle()

    async def updated() -> bool:
        rows = await _deadlines(bus.sessions)
        return len(rows) == 1 and rows[0].title.endswith("(extended)")

    await eventually(updated)


async def test_the_handler_dedupes_on_the_natural_key(sessions: async_sessionmaker[AsyncSession]) -> None:
    event = DeadlineAnnounced(source="core", key="monitoring-2026", title="Monitoring submission", due_on=SOON)
    for _ in range(2):
        async with transaction(sessions) as session:
            await apply_announced_deadline(event, session)
    assert len(await _deadlines(sessions)) == 1
    with pytest.raises(ValueError, match="city_id"):
        async with transaction(sessions) as session:
            services.announce_deadline(session, source="core", key="x", title="X", due_on=SOON, audience="city")


async def _seed(sessions: async_sessionmaker[AsyncSession], nice: Any) -> None:
    rows = [
        ("core", "monitoring", "Monitoring submission", SOON, "all", None),
        ("funding", "call", "Funding call closes", SOON + timedelta(days=1), "all", None),
        ("core", "nice", "Nice: update progress", SOON + timedelta(days=2), "city", nice),
        ("core", "report", "Compile the report", SOON + timedelta(days=3), "admins", None),
        ("core", "old", "Last year's submission", date.today() - timedelta(days=200), "all", None),
    ]
    async with transaction(sessions) as session:
        for source, key, title, due_on, audience, city in rows:
            values = {"title": title, "due_on": due_on, "audience": audience, "city_id": city, "link": "/convention"}
            await services.save_deadline(session, source, key, values, actor=None)


async def test_public_list_filters_paginates_and_exports_csv(
    client: Client, sessions: async_sessionmaker[AsyncSession], cities: Any
) -> None:
    nice = await cities("Nice")
    empty = await client.get("/deadlines")
    assert "No deadline matches" in empty.text
    await _seed(sessions, nice)
    page = await client.get("/deadlines")
    assert page.status_code == 200
    assert "Monitoring submission" in page.text
    assert "Nice: update progress" in page.text
    assert "Compile the report" not in page.text  # administrators' deadlines stay internal
    assert "Last year" not in page.text
    assert "Last year" in (await client.get("/deadlines?period=past")).text
    funding = await client.get("/deadlines?source=funding")
    assert "Funding call closes" in funding.text
    assert "Monitoring submission" not in funding.text

    export = await client.get("/deadlines.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "covenant-deadlines.csv" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["title"] for r in rows] == [
        "Last year's submission",
        "Monitoring submission",
        "Funding call closes",
        "Nice: update progress",
    ]
    assert {r["city"] for r in rows if r["audience"] == "city"} == {"Nice"}
    filtered = list(csv.DictReader(io.StringIO((await client.get("/deadlines.csv?audience=city")).text)))
    assert [r["title"] for r in filtered] == ["Nice: update progress"]

    api = (await client.get("/api/v1/deadlines?size=2")).json()
    assert (api["total"], len(api["items"]), api["page"]) == (3, 2, 1)
    second = (await client.get("/api/v1/deadlines?size=2&page=2")).json()
    assert [d["title"] for d in second["items"]] == ["Nice: update progress"]
    one = (await client.get(f"/api/v1/deadlines/{api['items'][0]['id']}")).json()
    assert one["title"] == "Monitoring submission"


async def test_admin_announces_a_deadline(
    admin_client: Client, client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any
) -> None:
    nice = await cities("Nice")
    missing_city = {"title": "Nice: upload evidence", "due_on": SOON.isoformat(), "audience": "city"}
    refused = await admin_client.post("/admin/deadlines", data=missing_city, headers=csrf_headers(admin_client))
    assert refused.status_code == 422
    assert "Choose the city" in refused.text
    done = await admin_client.post(
        "/admin/deadlines",
        data=missing_city | {"city_id": str(nice)},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert done.status_code == 303
    [row] = await _deadlines(sessions)
    assert (row.source, row.city_id) == ("core", nice)
    async with sessions() as session:
        recorded = await session.scalar(
            select(func.count()).select_from(OutboxRecord).where(OutboxRecord.name == "deadline.announced")
        )
    assert recorded == 1
    listing = await admin_client.get("/admin/deadlines")
    assert "Nice: upload evidence" in listing.text

    mayor = await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    headers = await bearer_for(sessions, mayor)
    admin_client.cookies.clear()
    body = {"title": "Anything", "due_on": SOON.isoformat()}
    assert (await admin_client.post("/api/v1/deadlines", json=body, headers=headers)).status_code == 403
