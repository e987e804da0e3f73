"""Convention pages, administration of editions and sessions, the JSON API, bad input, iCalendar feeds."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from icalendar import Calendar
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.calendar import services
from covenant.calendar.models import AgendaSession, ConventionEdition, Deadline
from covenant.calendar.schemas import SessionForm
from covenant.db import transaction
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]

EDITION = {
    "year": "2027",
    "title": "Convention 2027",
    "starts_on": "2027-05-19",
    "ends_on": "2027-05-20",
    "timezone": "Europe/Brussels",
    "venue": "Lamot Congress Centre",
    "theme": "Safe and inclusive public spaces",
    "status": "registration_open",
    "capacity": "150",
}


async def _count(sessions: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_admin_creates_an_edition_and_its_agenda(
    admin_client: Client, sessions: async_sessionmaker[AsyncSession], cities: Any
) -> None:
    mechelen = await cities("Mechelen", "BE")
    created = await admin_client.post(
        "/admin/convention",
        data=EDITION | {"host_city_id": str(mechelen)},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/admin/convention/2027"
    session_form = {
        "title": "AI and surveillance under the AI Act",
        "starts_at": "2027-05-19T13:30",
        "ends_at": "2027-05-19T15:00",
        "room": "Room Dijle",
        "speakers": "Regione Toscana",
    }
    added = await admin_client.post(
        "/admin/convention/2027/sessions", data=session_form, headers=csrf_headers(admin_client), follow_redirects=False
    )
    assert added.status_code == 303
    async with sessions() as session:
        agenda = (await session.scalars(select(AgendaSession))).one()
    assert agenda.starts_at.hour == 11  # 13:30 in Brussels (CEST) is 11:30 UTC

    public = await admin_client.get("/convention")
    assert public.status_code == 200
    assert "AI and surveillance under the AI Act" in public.text
    assert "13:30\u201315:00" in public.text
    assert "Mechelen" in public.text
    assert "/convention/calendar.ics" in public.text
    year_page = await admin_client.get("/convention/2027")
    assert "Lamot Congress Centre" in year_page.text
    assert (await admin_client.get("/convention/2031")).status_code == 404

    edit = await admin_client.get(f"/admin/convention/2027/sessions/{agenda.id}")
    assert 'value="2027-05-19T13:30"' in edit.text
    entries = await _count(sessions, AuditEntry)
    assert entries >= 2
    removed = await admin_client.post(
        f"/admin/convention/2027/sessions/{agenda.id}/delete",
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert await _count(sessions, AgendaSession) == 0


async def test_bad_edition_and_session_input_is_refused_with_field_messages(
    admin_client: Client, sessions: async_sessionmaker[AsyncSession], make_edition: Any
) -> None:
    backwards = await admin_client.post(
        "/admin/convention", data=EDITION | {"ends_on": "2027-05-18"}, headers=csrf_headers(admin_client)
    )
    assert backwards.status_code == 422
    assert "cannot end before it starts" in backwards.text
    await make_edition(2027)
    taken = await admin_client.post("/admin/convention", data=EDITION, headers=csrf_headers(admin_client))
    assert taken.status_code == 422
    assert "already a convention in 2027" in taken.text
    assert await _count(sessions, ConventionEdition) == 1

    outside = {"title": "Too early", "starts_at": "2027-05-18T09:00", "ends_at": "2027-05-18T10:00"}
    refused = await admin_client.post(
        "/admin/convention/2027/sessions", data=outside, headers=csrf_headers(admin_client)
    )
    assert refused.status_code == 422
    assert "during the convention" in refused.text
    reversed_times = {"title": "Backwards", "starts_at": "2027-05-19T10:00", "ends_at": "2027-05-19T09:00"}
    refused = await admin_client.post(
        "/admin/convention/2027/sessions", data=reversed_times, headers=csrf_headers(admin_client)
    )
    assert refused.status_code == 422
    assert "end after it starts" in refused.text
    assert await _count(sessions, AgendaSession) == 0

    # The API refuses the same way, with problem details naming the field.
    api = await admin_client.get("/api/v1/convention/editions")  # an admin session reads the API
    assert api.status_code == 200


async def test_api_lists_editions_and_admin_creates_through_it(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], make_edition: Any
) -> None:
    from tests.platform.calendar.conftest import bearer_for

    await make_edition(2025, status="held")
    await make_edition(2029, status="draft")
    listed = (await client.get("/api/v1/convention/editions")).json()
    assert [e["year"] for e in listed["items"]] == [2025]  # drafts stay private
    assert (await client.get("/api/v1/convention/editions/2029")).status_code == 404

    admin = await make_user("admin@city.eu", roles=[("admin", {})])
    headers = await bearer_for(sessions, admin)
    body = dict(EDITION) | {"year": 2027, "capacity": 150}
    assert (await client.post("/api/v1/convention/editions", json=body)).status_code == 401
    created = await client.post("/api/v1/convention/editions", json=body, headers=headers)
    assert created.status_code == 201, created.text
    bad = await client.post(
        "/api/v1/convention/editions", json=body | {"year": 2028, "ends_on": "2027-05-01"}, headers=headers
    )
    assert bad.status_code == 422
    outside = await client.post(
        "/api/v1/convention/editions/2027/sessions",
        json={"title": "Too late", "starts_at": "2027-05-21T09:00:00", "ends_at": "2027-05-21T10:00:00"},
        headers=headers,
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "starts_at"
    inside = await client.post(
        "/api/v1/convention/editions/2027/sessions",
        json={"title": "Funding", "starts_at": "2027-05-20T09:00:00", "ends_at": "2027-05-20T10:00:00"},
        headers=headers,
    )
    assert inside.status_code == 201
    detail = (await client.get("/api/v1/convention/editions/2027")).json()
    assert [s["title"] for s in detail["sessions"]] == ["Funding"]

    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/convention/editions" in schema["paths"]
    assert "/api/v1/deadlines" in schema["paths"]


async def test_admin_pages_are_for_admins_only(client: Client, make_user: Any, cities: Any) -> None:
    nice = await cities("Nice")
    anonymous = await client.get("/admin/convention", follow_redirects=False)
    assert anonymous.status_code == 303
    await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    await sign_in(client, "mayor@nice.eu")
    assert (await client.get("/admin/convention")).status_code == 403
    assert (await client.get("/admin/deadlines")).status_code == 403
    refused = await client.post("/admin/convention", data=EDITION, headers=csrf_headers(client))
    assert refused.status_code == 403


async def test_public_ical_feed_parses_and_holds_the_public_events(
    client: Client, sessions: async_sessionmaker[AsyncSession], make_edition: Any, cities: Any
) -> None:
    nice = await cities("Nice")
    edition = await make_edition(2027)
    await make_edition(2030, status="draft")
    async with transaction(sessions) as session:
        await services.add_session(
            session,
            edition,
            SessionForm.model_validate(
                {"title": "Security by design", "starts_at": "2027-05-19T10:30", "ends_at": "2027-05-19T12:00"}
            ),
            actor=None,
        )
        for key, audience, city in (("all", "all", None), ("mine", "city", nice), ("ops", "admins", None)):
            await services.save_deadline(
                session,
                "core",
                key,
                {"title": f"Deadline {key}", "due_on": date(2027, 3, 31), "audience": audience, "city_id": city},
                actor=None,
            )
    response = await client.get("/convention/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Convention 2027", "Security by design", "Deadline all"}
    assert events["Convention 2027"].decoded("dtstart") == date(2027, 5, 19)
    assert events["Convention 2027"].decoded("dtend") == date(2027, 5, 21)
    assert events["Security by design"].decoded("dtstart").hour == 8  # 10:30 CEST → 08:30 UTC


async def test_personal_feed_by_secret_token(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any
) -> None:
    nice = await cities("Nice")
    madrid = await cities("Madrid", "ES")
    async with transaction(sessions) as session:
        for key, audience, city in (("all", "all", None), ("nice", "city", nice), ("madrid", "city", madrid)):
            await services.save_deadline(
                session,
                "core",
                key,
                {
                    "title": f"Deadline {key}",
                    "due_on": date.today() + timedelta(days=30),
                    "audience": audience,
                    "city_id": city,
                },
                actor=None,
            )
    await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    assert (await client.get("/calendar", follow_redirects=False)).status_code == 303
    await sign_in(client, "mayor@nice.eu")
    mine = await client.get("/calendar")
    assert mine.status_code == 200
    assert "Deadline nice" in mine.text
    assert "Deadline madrid" not in mine.text
    url = mine.text.split('id="feed-url" type="text" readonly value="', 1)[1].split('"', 1)[0]
    path = url.split("://", 1)[1].split("/", 1)[1]
    token = path.removeprefix("calendar/").removesuffix(".ics")
    async with sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(Deadline))
        from covenant.calendar.models import FeedToken

        row = (await session.scalars(select(FeedToken))).one()
    assert stored == 3
    assert token not in row.token_hash
    assert (await client.get("/calendar")).text.count(token) >= 1  # shown again, same address

    client.cookies.clear()
    feed = await client.get("/" + path)
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    summaries = {str(e["summary"]) for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert summaries == {"Deadline all", "Deadline nice"}
    assert (await client.get("/calendar/not-a-token.ics")).status_code == 404
    assert (await client.get(f"/calendar/{token}")).status_code == 404

    await sign_in(client, "mayor@nice.eu")
    again = await client.post("/calendar/feed", headers=csrf_headers(client), follow_redirects=False)
    assert again.status_code == 303
    client.cookies.clear()
    assert (await client.get("/" + path)).status_code == 404  # the old address no longer works
