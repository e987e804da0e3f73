"""Pages and JSON through HTTP, and who may do what (own city, other city, anonymous, admin)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.funding import services
from modules.funding.models import AdvocacyDocument, Application, CoSignature
from modules.funding.schemas import AdvocacyInput
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.funding.conftest import Cities, add_call, api_token, publish_commitment

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]


async def test_public_pages_answer(client: Client, sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    call_id = await add_call(sessions)
    for path in (
        "/m/funding/",
        "/m/funding/calls",
        "/m/funding/programmes",
        "/m/funding/timeline",
        "/m/funding/advocacy",
        "/m/funding/uptake",
        f"/m/funding/calls/{call_id}",
        "/m/funding/calls?status=open&theme=public_spaces&programme=ISF-POLICE",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
    assert "ISF-2026-PROTECT" in (await client.get("/m/funding/calls?status=open")).text
    assert "ISF-2026-PROTECT" not in (await client.get("/m/funding/calls?status=closed")).text
    assert "Internal Security Fund" in (await client.get("/m/funding/programmes")).text
    csv = await client.get("/m/funding/calls.csv")
    assert csv.headers["content-disposition"].startswith("attachment")
    assert "ISF-2026-PROTECT" in csv.text


async def test_json_catalogue_and_openapi(
    client: Client, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await add_call(sessions)
    programmes = (await client.get("/api/v1/funding/programmes")).json()
    assert {"ERDF-PO5", "ESF-PLUS", "ISF-POLICE", "HORIZON-CL3", "EUI", "CERV", "TAIEX", "EIB-LOANS"} <= {
        p["code"] for p in programmes
    }
    page = (await client.get("/api/v1/funding/calls", params={"theme": "prevention"})).json()
    assert page["total"] == 1
    assert page["items"][0]["status"] == "open"
    assert (await client.get("/api/v1/funding/calls", params={"city": str(cities.b), "theme": "victims"})).json()[
        "total"
    ] == 0
    schema = (await client.get("/schema/openapi.json")).json()
    assert sum(1 for path in schema["paths"] if path.startswith("/api/v1/funding/")) >= 3


async def test_city_pages_are_for_the_city_team(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await add_call(sessions)
    await publish_commitment(sessions, cities.a)
    async with transaction(sessions) as session:
        await services.recompute_city(session, cities.a)
    anonymous = await client.get(f"/api/v1/funding/cities/{cities.a}/suggestions")
    assert anonymous.status_code == 401
    html = await client.get(f"/m/funding/cities/{cities.a}/suggestions", follow_redirects=False)
    assert html.status_code in (302, 303, 401)

    await make_user("a@nice.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["funding"]})])
    assert (await sign_in(client, "a@nice.eu")).status_code == 303
    own = await client.get(f"/m/funding/cities/{cities.a}/suggestions?excluded=1")
    assert own.status_code == 200
    assert "Protection of public spaces" in own.text
    assert "Safer squares" in own.text
    api = (await client.get(f"/api/v1/funding/cities/{cities.a}/suggestions")).json()
    assert api["suggestions"][0]["reasons"][0]["kind"] == "commitment"
    assert (await client.get(f"/m/funding/cities/{cities.b}/suggestions")).status_code == 403
    assert (await client.get(f"/api/v1/funding/cities/{cities.b}/applications")).status_code == 403
    refused = await client.post(
        f"/m/funding/cities/{cities.b}/applications",
        data={"title": "Theirs", "programme": "CERV"},
        headers=csrf_headers(client),
    )
    assert refused.status_code == 403
    # the contributor cannot import calls (administrators only)
    token = await api_token(sessions, "a@nice.eu")
    assert (await client.post("/api/v1/funding/calls/import", json=[], headers=token)).status_code == 403
    assert (await client.get(f"/api/v1/funding/cities/{cities.b}/suggestions", headers=token)).status_code == 403


async def test_pipeline_through_the_form_and_the_api(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await make_user("m@nice.eu", roles=[("mayors_office", {"city_id": cities.a})])
    await sign_in(client, "m@nice.eu")
    base = f"/m/funding/cities/{cities.a}/applications"
    await client.get(base)
    bad = await client.post(
        base, data={"title": "Square", "programme": "ISF-POLICE", "requested_eur": "-3"}, headers=csrf_headers(client)
    )
    assert bad.status_code == 422
    assert "field-error" in bad.text
    ok = await client.post(
        base,
        data={"title": "Square", "programme": "ISF-POLICE", "requested_eur": "250000"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert ok.status_code == 303
    async with sessions() as session:
        app = (await session.scalars(select(Application))).one()
    assert app.requested_cents == 25_000_000
    skip = await client.post(
        f"{base}/{app.id}/status", data={"status": "awarded", "awarded_eur": "1"}, headers=csrf_headers(client)
    )
    assert skip.status_code == 422
    token = await api_token(sessions, "m@nice.eu")
    api = f"/api/v1/funding/cities/{cities.a}/applications/{app.id}/status"
    skip_api = await client.post(api, json={"status": "submitted"}, headers=token)
    assert skip_api.status_code == 400 or skip_api.status_code == 422
    assert "application/problem+json" in skip_api.headers["content-type"]
    moved = await client.post(api, json={"status": "preparing"}, headers=token)
    assert moved.status_code == 200
    assert moved.json()["status"] == "preparing"
    negative = await client.post(
        f"/api/v1/funding/cities/{cities.a}/applications",
        json={"title": "Neg", "programme": "CERV", "requested_cents": -1},
        headers=token,
    )
    assert negative.status_code in (400, 422)


async def test_admin_imports_and_a_mayors_office_cosigns(
    admin_client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    client = admin_client
    await client.get("/m/funding/import")
    body = (
        "identifier,title,programme,opening_date,deadlines,themes\n"
        "X-1,Safer streets,CERV,2026-01-01,2099-01-01,prevention\n"
    )
    done = await client.post(
        "/m/funding/import",
        files={"file": ("calls.csv", body.encode(), "text/csv")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert done.status_code == 303
    refused = await client.post(
        "/m/funding/import",
        files={"file": ("calls.csv", body.replace("CERV", "NOPE").encode(), "text/csv")},
        headers=csrf_headers(client),
    )
    assert refused.status_code == 422
    assert "Row 2, column programme" in refused.text
    api = await client.post(
        "/api/v1/funding/calls/import",
        headers=await api_token(sessions, "admin@city.eu"),
        json=[
            {
                "identifier": "X-1",
                "title": "Safer streets v2",
                "programme": "CERV",
                "plannedOpeningDate": "2026-01-01",
                "deadlineDates": ["2099-01-01"],
            }
        ],
    )
    assert api.json() == {"created": 0, "updated": 1}

    async with transaction(sessions) as session:
        doc = await services.create_advocacy(
            session, AdvocacyInput(kind="letter", title="Cities in the Security Union"), actor=None
        )
    await client.get("/logout")
    await make_user("m@riga.eu", roles=[("mayors_office", {"city_id": cities.b})])
    await make_user("c@riga.eu", roles=[("contributor", {"city_id": cities.b})])
    await client.post("/logout", headers=csrf_headers(client))
    await sign_in(client, "c@riga.eu")
    denied = await client.post(f"/m/funding/advocacy/{doc.id}/cosign/{cities.b}", headers=csrf_headers(client))
    assert denied.status_code == 403
    await client.post("/logout", headers=csrf_headers(client))
    await sign_in(client, "m@riga.eu")
    page = await client.get(f"/m/funding/advocacy/{doc.id}")
    assert "Co-sign on behalf of Riga" in page.text
    assert (
        await client.post(f"/m/funding/advocacy/{doc.id}/cosign/{cities.a}", headers=csrf_headers(client))
    ).status_code == 403
    signed = await client.post(
        f"/m/funding/advocacy/{doc.id}/cosign/{cities.b}", headers=csrf_headers(client), follow_redirects=False
    )
    assert signed.status_code == 303
    async with sessions() as session:
        assert (await session.scalars(select(CoSignature))).one().city_id == cities.b
    register = (await client.get("/api/v1/funding/advocacy")).json()
    assert register[0]["cosigning_cities"] == ["Riga"]


async def test_advocacy_steps_and_pdf_upload(admin_client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    client = admin_client
    await client.get("/m/funding/advocacy")
    created = await client.post(
        "/m/funding/advocacy",
        data={"kind": "position_paper", "title": "ERDF guidance", "addressees": "DG REGIO, Council"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert created.status_code == 303
    async with sessions() as session:
        doc = (await session.scalars(select(AdvocacyDocument))).one()
    assert doc.addressees == ["DG REGIO", "Council"]
    skip = await client.post(
        f"/m/funding/advocacy/{doc.id}/status", data={"status": "answered"}, headers=csrf_headers(client)
    )
    assert skip.status_code == 422
    fake = await client.post(
        f"/m/funding/advocacy/{doc.id}/document",
        files={"file": ("x.pdf", b"<html>", "application/pdf")},
        headers=csrf_headers(client),
    )
    assert fake.status_code == 422
    up = await client.post(
        f"/m/funding/advocacy/{doc.id}/document",
        files={"file": ("paper.pdf", b"%PDF-1.4 test", "application/pdf")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert up.status_code == 303
    download = await client.get(f"/m/funding/advocacy/{doc.id}/document")
    assert download.content == b"%PDF-1.4 test"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "paper.pdf" in download.headers["content-disposition"]
    sent = await client.post(
        f"/m/funding/advocacy/{doc.id}/status",
        data={"status": "sent", "on": "2026-01-10"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert sent.status_code == 303


async def test_admins_see_the_import_and_notice_actions(admin_client: Client, cities: Cities) -> None:
    page = await admin_client.get("/m/funding/")
    assert "/m/funding/import" in page.text
    sent = await admin_client.post("/m/funding/notices", headers=csrf_headers(admin_client), follow_redirects=False)
    assert sent.status_code == 303
