"""Delegates: capacity, waiting list, promotion with a mail, duplicates, and who may register whom."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.calendar import services
from covenant.calendar.models import Registration
from covenant.calendar.schemas import RegistrationForm
from covenant.db import transaction
from covenant.notifications.models import MailMessage
from tests.fixtures.web import csrf_headers, sign_in
from tests.platform.calendar.conftest import bearer_for

Client = AsyncTestClient[Litestar]


async def _count(sessions: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_capacity_waiting_list_and_promotion(
    sessions: async_sessionmaker[AsyncSession], cities: Any, make_edition: Any
) -> None:
    nice = await cities("Nice")
    edition = await make_edition(capacity=2)
    people = ["a@nice.eu", "b@nice.eu", "c@nice.eu", "d@nice.eu"]
    registered = []
    for email in people:
        async with transaction(sessions) as session:
            form = RegistrationForm(name="Delegate " + email[0], email=email, role="Delegate")
            registered.append(await services.register_delegate(session, edition, nice, form, actor=None))
    assert [r.status for r in registered] == ["confirmed", "confirmed", "waiting", "waiting"]
    async with sessions() as session:
        positions = await services.waiting_positions(session, edition)
        seats = await services.occupancy(session, edition)
    assert positions == {registered[2].id: 1, registered[3].id: 2}
    assert (seats.confirmed, seats.waiting, seats.free) == (2, 2, 0)

    async with transaction(sessions) as session:
        first = await session.get(Registration, registered[0].id)
        assert first is not None
        promoted = await services.cancel_registration(session, edition, first, actor=None)
    assert promoted is not None
    assert promoted.email == "c@nice.eu"
    async with sessions() as session:
        statuses = dict((await session.execute(select(Registration.email, Registration.status))).tuples().all())
        mail = (
            await session.scalars(
                select(MailMessage).where(MailMessage.to_address == "c@nice.eu").order_by(MailMessage.id)
            )
        ).all()
    assert statuses == {
        "a@nice.eu": "cancelled",
        "b@nice.eu": "confirmed",
        "c@nice.eu": "confirmed",
        "d@nice.eu": "waiting",
    }
    assert "place became free" in mail[-1].body_text
    assert await _count(sessions, AuditEntry, AuditEntry.action == "convention.registration_promoted") == 1

    # Cancelling someone on the waiting list promotes nobody.
    async with transaction(sessions) as session:
        last = await session.get(Registration, registered[3].id)
        assert last is not None
        assert await services.cancel_registration(session, edition, last, actor=None) is None


async def test_mayors_office_registers_through_the_page_and_duplicates_are_refused(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any, make_edition: Any
) -> None:
    nice = await cities("Nice")
    await make_edition(capacity=1)
    await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    await sign_in(client, "mayor@nice.eu")

    page = await client.get("/convention/2027/delegates/" + str(nice))
    assert page.status_code == 200
    assert "No delegate registered yet" in page.text
    form = {"name": "Élodie Martin", "email": "Elodie@Nice.eu", "role": "Deputy mayor"}
    done = await client.post(
        f"/convention/2027/delegates/{nice}", data=form, headers=csrf_headers(client), follow_redirects=False
    )
    assert done.status_code == 303
    # Beyond the capacity: the waiting list, not an error.
    second = {"name": "Jean Dupont", "email": "jean@nice.eu"}
    waiting = await client.post(f"/convention/2027/delegates/{nice}", data=second, headers=csrf_headers(client))
    assert waiting.status_code == 200
    assert "On the waiting list" in waiting.text
    assert "number 1" in waiting.text

    again = await client.post(f"/convention/2027/delegates/{nice}", data=form, headers=csrf_headers(client))
    assert again.status_code == 422
    assert "already registered" in again.text
    bad = await client.post(
        f"/convention/2027/delegates/{nice}", data={"name": "X", "email": "nope"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    assert "e-mail address like" in bad.text
    assert await _count(sessions, Registration) == 2

    # Cancel with confirmation: the waiting delegate gets the seat.
    async with sessions() as session:
        elodie = (await session.scalars(select(Registration).where(Registration.email == "elodie@nice.eu"))).one()
    cancelled = await client.post(
        f"/convention/2027/delegates/{nice}/{elodie.id}/cancel", headers=csrf_headers(client), follow_redirects=False
    )
    assert cancelled.status_code == 303
    async with sessions() as session:
        jean = (await session.scalars(select(Registration).where(Registration.email == "jean@nice.eu"))).one()
    assert jean.status == "confirmed"


async def test_registration_refused_when_not_open(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any, make_edition: Any
) -> None:
    nice = await cities("Nice")
    await make_edition(status="announced")
    user = await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    headers = await bearer_for(sessions, user)
    response = await client.post(
        f"/api/v1/convention/editions/2027/delegates/{nice}",
        json={"name": "Ann Lee", "email": "a@nice.eu"},
        headers=headers,
    )
    assert response.status_code == 422
    assert await _count(sessions, Registration) == 0


async def test_api_registration_waiting_list_and_duplicates(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any, make_edition: Any
) -> None:
    nice = await cities("Nice")
    await make_edition(capacity=1)
    user = await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": nice})])
    headers = await bearer_for(sessions, user)
    url = f"/api/v1/convention/editions/2027/delegates/{nice}"
    first = await client.post(url, json={"name": "Ann Lee", "email": "ann@nice.eu"}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "confirmed"
    second = await client.post(url, json={"name": "Bob Roy", "email": "bob@nice.eu"}, headers=headers)
    assert second.json()["status"] == "waiting"
    assert second.json()["waiting_position"] == 1
    duplicate = await client.post(url, json={"name": "Ann Lee", "email": "ANN@nice.eu"}, headers=headers)
    assert duplicate.status_code == 422
    assert any(e["field"] == "email" for e in duplicate.json()["errors"])
    listed = (await client.get(url, headers=headers)).json()
    assert (listed["capacity"], listed["confirmed"], listed["waiting"]) == (1, 1, 1)
    cancel = await client.post(f"{url}/{first.json()['id']}/cancel", headers=headers)
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "cancelled"
    listed = (await client.get(url, headers=headers)).json()
    assert [r["status"] for r in listed["items"]] == ["confirmed"]


async def test_a_city_cannot_register_or_cancel_another_citys_delegates(
    client: Client, make_user: Any, sessions: async_sessionmaker[AsyncSession], cities: Any, make_edition: Any
) -> None:
    city_a = await cities("Nice")
    city_b = await cities("Madrid", "ES")
    edition = await make_edition()
    async with transaction(sessions) as session:
        theirs = await services.register_delegate(
            session, edition, city_b, RegistrationForm(name="Javier Ortega", email="j@madrid.es"), actor=None
        )
    user = await make_user("mayor@nice.eu", roles=[("mayors_office", {"city_id": city_a})])
    contributor = await make_user("helper@madrid.es", roles=[("contributor", {"city_id": city_b})])
    await sign_in(client, "mayor@nice.eu")
    base = f"/convention/2027/delegates/{city_b}"
    assert (await client.get(base)).status_code == 403
    form = {"name": "Intruder", "email": "x@nice.eu"}
    assert (await client.post(base, data=form, headers=csrf_headers(client))).status_code == 403
    assert (await client.post(f"{base}/{theirs.id}/cancel", headers=csrf_headers(client))).status_code == 403
    # Through its own city's URL, another city's registration is not found.
    own = f"/convention/2027/delegates/{city_a}/{theirs.id}/cancel"
    assert (await client.post(own, headers=csrf_headers(client))).status_code == 404

    client.cookies.clear()
    api = f"/api/v1/convention/editions/2027/delegates/{city_b}"
    for headers in (await bearer_for(sessions, user), await bearer_for(sessions, contributor)):
        assert (await client.get(api, headers=headers)).status_code == 403
        assert (await client.post(api, json=form, headers=headers)).status_code == 403
        assert (await client.post(f"{api}/{theirs.id}/cancel", headers=headers)).status_code == 403
    assert (await client.get(api)).status_code == 401
    async with sessions() as session:
        row = await session.get(Registration, theirs.id)
    assert row is not None
    assert row.status == "confirmed"
    assert await _count(sessions, Registration) == 1
