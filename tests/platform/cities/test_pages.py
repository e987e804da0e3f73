"""The city registry through HTTP: public pages and open data, applications with their letter, decisions,
profiles, teams and invitations; HTML and JSON alike, with the authorisation matrix."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts.models import RoleGrant, User
from covenant.cities.models import City, Membership
from covenant.events.models import OutboxRecord
from covenant.notifications.models import MailMessage
from tests.fixtures.web import csrf_headers, sign_in
from tests.platform.cities.conftest import PDF, Cities, MakeUser, add_city, api_token, make_member

Client = AsyncTestClient[Litestar]
APPLICATION = {
    "adhesion_date": "2024-03-18",
    "mayor": "Hélène Barbier",
    "mandate_end": "2026-06-30",
    "contact_name": "Julien Morel",
    "contact_email": "contact@nice.example",
}


async def membership(sessions: async_sessionmaker[AsyncSession], city_id: Any) -> Membership | None:
    async with sessions() as session:
        m: Membership | None = await session.scalar(select(Membership).where(Membership.city_id == city_id))
        return m


async def mails_to(sessions: async_sessionmaker[AsyncSession], address: str) -> list[MailMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(MailMessage).where(MailMessage.to_address == address)))


# -- public site ---------------------------------------------------------------------------------------


@pytest.fixture
async def signatories(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> Cities:
    """Nice and Riga signatories, Graz suspended, Porto only applied, plus 30 small Belgian towns signed."""
    await make_member(sessions, cities.a)
    await make_member(sessions, cities.b)
    graz = await add_city(sessions, "Graz", "AT", 303_270, latitude=47.07, longitude=15.44)
    await make_member(sessions, graz, "suspended")
    porto = await add_city(sessions, "Porto", "PT", 252_687)
    await make_member(sessions, porto, "applied")
    for i in range(30):
        town = await add_city(sessions, f"Town {i:02d}", "BE", 60_000 + i)
        await make_member(sessions, town)
    return cities


async def test_the_list_searches_filters_sorts_and_paginates(client: Client, signatories: Cities) -> None:
    first = await client.get("/cities")
    assert first.status_code == 200
    assert "Nice" in first.text
    assert "Graz" in first.text
    assert "Porto" not in first.text
    assert "Town 21" in first.text
    assert "Town 22" not in first.text
    assert 'class="suspended"' in first.text
    assert "33 results" in first.text
    second = await client.get("/cities?page=2")
    assert "Town 29" in second.text
    assert "Nice" not in second.text

    search = await client.get("/cities?q=NIC")
    assert "Nice" in search.text
    assert "Riga" not in search.text
    latvia = await client.get("/cities?country=LV")
    assert "Riga" in latvia.text
    assert "Nice" not in latvia.text
    big = await client.get("/cities?size_class=500k_1m")
    assert "Riga" in big.text
    assert "Nice" not in big.text
    assert "Town" not in big.text
    by_population = await client.get("/cities?sort=population")
    assert by_population.text.index("Riga") < by_population.text.index("Nice") < by_population.text.index("Graz")
    assert (await client.get("/cities?q=zzz")).text.count("No signatory matches") == 1
    assert (await client.get("/cities?page=0")).status_code == 422


async def test_csv_and_json_share_the_filters(client: Client, signatories: Cities) -> None:
    response = await client.get("/cities.csv?country=AT")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "covenant-signatories.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["name"], r["country"], r["status"], r["population"]) for r in rows] == [
        ("Graz", "Austria", "suspended", "303270")
    ]
    assert rows[0]["adhesion_date"] == "2024-03-18"
    assert rows[0]["commitments"] == "0"
    assert len(list(csv.DictReader(io.StringIO((await client.get("/cities.csv")).text)))) == 33

    api = (await client.get("/api/v1/cities?sort=population&size=2&page=1")).json()
    assert api["total"] == 33
    assert api["size"] == 2
    assert [c["name"] for c in api["items"]] == ["Riga", "Nice"]
    assert api["items"][0]["status"] == "signatory"
    assert api["items"][0]["country"] == "Latvia"
    assert (await client.get("/api/v1/cities?q=graz")).json()["items"][0]["status"] == "suspended"
    assert (await client.get("/api/v1/cities?size=500")).status_code == 422
    detail = (await client.get(f"/api/v1/cities/{signatories.a}")).json()
    assert detail["name"] == "Nice"
    assert detail["adhesion_date"] == "2024-03-18"
    assert "/api/v1/cities" in (await client.get("/schema/openapi.json")).json()["paths"]


async def test_the_map_is_an_svg_drawn_on_the_server(client: Client, signatories: Cities) -> None:
    page = await client.get("/cities/map")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert page.text.count("<circle") == 3  # the three with coordinates; Graz greyed
    assert "#9aa3ad" in page.text
    svg = await client.get("/cities/map.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg.text


async def test_the_profile_shows_the_team_to_its_members_only(
    client: Client, signatories: Cities, make_user: MakeUser
) -> None:
    await make_user("office@nice.example", roles=[("mayors_office", {"city_id": signatories.a})])
    anonymous = await client.get(f"/cities/{signatories.a}")
    assert anonymous.status_code == 200
    assert "Hélène Barbier" in anonymous.text
    assert "office@nice.example" not in anonymous.text
    await sign_in(client, "office@nice.example")
    member = await client.get(f"/cities/{signatories.a}")
    assert "— office@nice.example (" in member.text
    assert "Manage the team" in member.text
    other = (await client.get(f"/cities/{signatories.b}")).text
    assert "<h2>Team</h2>" not in other
    assert "Manage the team" not in other
    assert (await client.get("/cities/01a21321-0000-7000-8000-000000000000")).status_code == 404


async def test_home_shows_live_figures_without_suspended_signatories(client: Client, signatories: Cities) -> None:
    home = await client.get("/")
    assert home.status_code == 200
    # 32 active signatories: Nice, Riga, 30 towns; Graz (suspended) and Porto (applied) left out.
    assert "<strong>32</strong>" in home.text
    inhabitants = 342_669 + 742_572 + sum(60_000 + i for i in range(30))
    assert f"<strong>{inhabitants:,}</strong>" in home.text
    assert "Latvia" in home.text
    assert "Austria" not in home.text
    assert 'href="/cities"' in home.text  # the navigation's "Signatories"


# -- applying ------------------------------------------------------------------------------------------


async def apply(client: Client, city_id: Any, letter: bytes = PDF, **overrides: str) -> Any:
    await client.get(f"/cities/{city_id}/apply")
    return await client.post(
        f"/cities/{city_id}/apply",
        data=APPLICATION | overrides,
        files={"letter": ("My letter (final).pdf", letter, "application/pdf")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )


async def test_a_signed_in_office_applies_with_its_letter(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    await make_user("office@nice.example")
    await sign_in(client, "office@nice.example")
    assert "Nice" in (await client.get("/cities/apply?q=nic")).text
    response = await apply(client, cities.a)
    assert response.status_code == 303, response.text
    m = await membership(sessions, cities.a)
    assert m is not None
    assert m.status == "applied"
    assert m.adhesion_date == date(2024, 3, 18)
    assert m.letter_file
    assert "final" not in m.letter_file
    assert (settings.var_dir / "uploads" / m.letter_file).read_bytes() == PDF
    assert [mail.subject for mail in await mails_to(sessions, "office@nice.example")] == [
        "Your application to the Covenant is received"
    ]
    again = await apply(client, cities.a)
    assert again.status_code == 409
    assert "already has an application" in again.text


@pytest.mark.parametrize(
    ("letter", "overrides", "field", "message"),
    [
        (b"GIF89a", {}, "letter", "must be a PDF"),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), {}, "letter", "larger than 10 MB"),
        (b"", {}, "letter", "Attach the commitment letter"),
        (PDF, {"adhesion_date": "2024-02-31"}, "adhesion_date", "Enter a date as YYYY-MM-DD."),
        (PDF, {"adhesion_date": "2999-01-01"}, "adhesion_date", "future"),
        (PDF, {"mandate_end": "2020-01-01"}, "mandate_end", "after the council"),
        (PDF, {"contact_email": "nobody"}, "contact_email", "e-mail address"),
    ],
    ids=["not-pdf", "too-large", "missing", "bad-date", "future", "mandate", "email"],
)
async def test_bad_applications_get_field_errors_and_save_nothing(
    client: Client,
    cities: Cities,
    make_user: MakeUser,
    sessions: async_sessionmaker[AsyncSession],
    settings: Any,
    letter: bytes,
    overrides: dict[str, str],
    field: str,
    message: str,
) -> None:
    await make_user("office@nice.example")
    await sign_in(client, "office@nice.example")
    response = await apply(client, cities.a, letter, **overrides)
    assert response.status_code == 422
    assert f'id="error-{field}"' in response.text
    assert message in response.text
    assert await membership(sessions, cities.a) is None
    assert not (settings.var_dir / "uploads").exists() or not any((settings.var_dir / "uploads").iterdir())


async def test_the_api_takes_the_same_application(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("office@riga.example")
    bearer = await api_token(sessions, "office@riga.example")
    url = f"/api/v1/cities/{cities.b}/application"
    bad = await client.post(
        url, data=APPLICATION, files={"letter": ("x.pdf", b"nope", "application/pdf")}, headers=bearer
    )
    assert bad.status_code == 422
    assert {"field": "letter", "message": "The letter must be a PDF file."} in bad.json()["errors"]
    ok = await client.post(url, data=APPLICATION, files={"letter": ("x.pdf", PDF, "application/pdf")}, headers=bearer)
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "applied"
    assert ok.json()["has_letter"] is True
    duplicate = await client.post(
        url, data=APPLICATION, files={"letter": ("x.pdf", PDF, "application/pdf")}, headers=bearer
    )
    assert duplicate.status_code == 409
    assert (await client.post(url, data=APPLICATION)).status_code == 401


# -- decisions -----------------------------------------------------------------------------------------


async def test_admin_decides_through_the_pages(
    admin_client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    applicant = await make_user("office@nice.example")
    await make_member(sessions, cities.a, "applied", applicant=applicant.id)
    queue = await admin_client.get("/admin/memberships")
    assert queue.status_code == 200
    assert "Nice" in queue.text
    assert "Nice" not in (await admin_client.get("/admin/memberships?status=signatory")).text
    detail = await admin_client.get(f"/admin/memberships/{cities.a}")
    assert "/accept" in detail.text
    assert "/suspend" not in detail.text

    no_reason = await admin_client.post(
        f"/admin/memberships/{cities.a}/reject", data={"reason": ""}, headers=csrf_headers(admin_client)
    )
    assert no_reason.status_code == 422
    assert 'id="error-reason"' in no_reason.text
    refused = await admin_client.post(
        f"/admin/memberships/{cities.a}/reinstate", data={}, headers=csrf_headers(admin_client)
    )
    assert refused.status_code == 409
    assert "Not allowed" in refused.text

    accepted = await admin_client.post(
        f"/admin/memberships/{cities.a}/accept", data={}, headers=csrf_headers(admin_client), follow_redirects=False
    )
    assert accepted.status_code == 303
    bad_notice = await admin_client.post(
        f"/admin/memberships/{cities.a}/suspend",
        data={"reason": "No report", "notice_date": "not a date"},
        headers=csrf_headers(admin_client),
    )
    assert bad_notice.status_code == 422
    assert 'id="error-notice_date"' in bad_notice.text
    suspended = await admin_client.post(
        f"/admin/memberships/{cities.a}/suspend",
        data={"reason": "No report", "notice_date": "2025-01-10"},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert suspended.status_code == 303
    m = await membership(sessions, cities.a)
    assert m is not None
    assert m.status == "suspended"
    assert m.notice_date == date(2025, 1, 10)
    async with sessions() as session:
        grant = await session.scalar(select(RoleGrant).where(RoleGrant.user_id == applicant.id))
        names = list(await session.scalars(select(OutboxRecord.name).where(OutboxRecord.name.like("city.%"))))
    assert grant is not None
    assert grant.role == "mayors_office"
    assert grant.city_id == cities.a
    assert names == ["city.applied", "city.signed", "city.suspended"]
    subjects = [mail.subject for mail in await mails_to(sessions, "office@nice.example")]
    assert "Nice's membership of the Covenant is suspended" in subjects


async def test_admin_decides_through_the_api(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("admin@city.eu", roles=[("admin", {})])
    admin = await api_token(sessions, "admin@city.eu")
    await make_member(sessions, cities.a, "applied")
    base = f"/api/v1/cities/{cities.a}/membership"
    assert (await client.post(f"{base}/suspend", json={"reason": "x"}, headers=admin)).status_code == 409
    accepted = await client.post(f"{base}/accept", json={}, headers=admin)
    assert accepted.status_code == 201
    assert accepted.json()["status"] == "signatory"
    missing = await client.post(f"{base}/suspend", json={"reason": "x"}, headers=admin)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "notice_date"
    assert (
        await client.post(f"{base}/suspend", json={"reason": "x", "notice_date": "2025-02-30"}, headers=admin)
    ).status_code == 422
    suspended = await client.post(f"{base}/suspend", json={"reason": "x", "notice_date": "2025-02-14"}, headers=admin)
    assert suspended.json()["status"] == "suspended"
    assert (await client.post(f"{base}/reinstate", json={}, headers=admin)).json()["status"] == "signatory"
    assert (await client.post(f"{base}/withdraw", json={"reason": "Council vote"}, headers=admin)).json()[
        "status"
    ] == "withdrawn"
    assert (await client.post(f"{base}/withdraw", json={}, headers=admin)).status_code == 409
    assert (await client.post(f"{base}/dance", json={}, headers=admin)).status_code == 409
    listed = (await client.get("/api/v1/admin/memberships?status=withdrawn", headers=admin)).json()
    assert [m["city_name"] for m in listed["items"]] == ["Nice"]


# -- authorisation ---------------------------------------------------------------------------------------


async def test_anonymous_is_sent_to_sign_in_or_told_401(client: Client, cities: Cities) -> None:
    for path in (
        f"/cities/{cities.a}/apply",
        f"/cities/{cities.a}/edit",
        f"/cities/{cities.a}/team",
        f"/cities/{cities.a}/letter",
        "/cities/apply",
        "/admin/memberships",
    ):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login"), path
    for method, path in (
        ("GET", f"/api/v1/cities/{cities.a}/team"),
        ("PUT", f"/api/v1/cities/{cities.a}"),
        ("POST", f"/api/v1/cities/{cities.a}/membership/accept"),
        ("POST", f"/api/v1/cities/{cities.a}/application"),
        ("GET", "/api/v1/admin/memberships"),
    ):
        assert (await client.request(method, path, json={})).status_code == 401, path


@pytest.mark.parametrize("role", ["mayors_office", "contributor"])
async def test_people_of_city_a_get_403_on_city_b(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession], role: str
) -> None:
    await make_user("someone@nice.example", roles=[(role, {"city_id": cities.a})])
    await make_member(sessions, cities.b)
    await sign_in(client, "someone@nice.example")
    b = cities.b
    for path in (
        f"/cities/{b}/apply",
        f"/cities/{b}/edit",
        f"/cities/{b}/team",
        f"/cities/{b}/letter",
        "/admin/memberships",
        f"/admin/memberships/{b}",
    ):
        assert (await client.get(path)).status_code == 403, path
    await client.get("/cities")
    for path, data in (
        (f"/cities/{b}/edit", {"name": "x"}),
        (f"/cities/{b}/team", {"email": "x@y.eu"}),
        (f"/cities/{b}/withdraw", {}),
        (f"/admin/memberships/{b}/suspend", {}),
    ):
        assert (await client.post(path, data=data, headers=csrf_headers(client))).status_code == 403, path

    bearer = await api_token(sessions, "someone@nice.example")
    profile = {"name": "Riga", "country_code": "LV", "population": 1}
    assert (await client.put(f"/api/v1/cities/{b}", json=profile, headers=bearer)).status_code == 403
    assert (await client.get(f"/api/v1/cities/{b}/team", headers=bearer)).status_code == 403
    assert (await client.post(f"/api/v1/cities/{b}/team", json={"email": "x@y.eu"}, headers=bearer)).status_code == 403
    assert (await client.post(f"/api/v1/cities/{b}/membership/withdraw", json={}, headers=bearer)).status_code == 403
    assert (await client.post(f"/api/v1/cities/{b}/membership/suspend", json={}, headers=bearer)).status_code == 403
    assert (await client.post(f"/api/v1/cities/{b}/application", data=APPLICATION, headers=bearer)).status_code == 403
    m = await membership(sessions, b)
    assert m is not None
    assert m.status == "signatory"
    # Their own city stays theirs (a contributor may not edit the profile, a mayor's office may).
    own = await client.get(f"/cities/{cities.a}/edit")
    assert own.status_code == (200 if role == "mayors_office" else 403)


# -- profile and team ------------------------------------------------------------------------------------


async def test_the_mayors_office_edits_its_profile_with_field_errors_for_bad_input(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("office@nice.example", roles=[("mayors_office", {"city_id": cities.a})])
    await sign_in(client, "office@nice.example")
    form = (await client.get(f"/cities/{cities.a}/edit")).text
    assert 'value="342669"' in form
    fields = {"name": "Nice", "country_code": "XX", "population": "0", "website": "nice.fr"}
    bad = await client.post(f"/cities/{cities.a}/edit", data=fields, headers=csrf_headers(client))
    assert bad.status_code == 422
    for field in ("country_code", "population", "website"):
        assert f'id="error-{field}"' in bad.text
    good = fields | {"country_code": "fr", "population": "348085", "area_km2": "71.9", "website": "https://nice.fr"}
    saved = await client.post(
        f"/cities/{cities.a}/edit", data=good, headers=csrf_headers(client), follow_redirects=False
    )
    assert saved.status_code == 303
    async with sessions() as session:
        city = await session.get(City, cities.a)
    assert city is not None
    assert city.population == 348_085
    assert city.country_code == "FR"

    bearer = await api_token(sessions, "office@nice.example")
    api_bad = await client.put(
        f"/api/v1/cities/{cities.a}", json={"name": "Nice", "country_code": "ZZ", "population": -5}, headers=bearer
    )
    assert api_bad.status_code == 422
    assert {e["field"].split(".")[-1] for e in api_bad.json()["errors"]} >= {"country_code", "population"}
    api_ok = await client.put(
        f"/api/v1/cities/{cities.a}", json={"name": "Nice", "country_code": "FR", "population": 350_000}, headers=bearer
    )
    assert api_ok.status_code == 200
    assert api_ok.json()["population"] == 350_000


async def test_invitations_create_the_account_mail_a_link_and_can_be_undone(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    office = await make_user("office@nice.example", roles=[("mayors_office", {"city_id": cities.a})])
    await make_user("known@riga.example")
    await sign_in(client, "office@nice.example")
    await client.get(f"/cities/{cities.a}/team")
    bad = await client.post(
        f"/cities/{cities.a}/team",
        data={"email": "x@y.eu", "role": "contributor", "modules": "nosuchmodule"},
        headers=csrf_headers(client),
    )
    assert bad.status_code == 422
    assert 'id="error-modules"' in bad.text
    invited = await client.post(
        f"/cities/{cities.a}/team",
        data={
            "email": "New.Person@Nice.example",
            "display_name": "New Person",
            "role": "contributor",
            "modules": "testmodule",
        },
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert invited.status_code == 303
    mails = await mails_to(sessions, "new.person@nice.example")
    assert sorted(m.subject for m in mails) == [
        "Reset your Covenant password",
        "You are invited to the team of Nice on Covenant",
    ]
    link = re.search(r"/password/reset/\S+", next(m.body_text for m in mails if "Reset" in m.subject))
    assert link is not None
    assert (await client.get(link.group(0))).status_code == 200

    bearer = await api_token(sessions, "office@nice.example")
    known = await client.post(
        f"/api/v1/cities/{cities.a}/team", json={"email": "known@riga.example", "role": "mayors_office"}, headers=bearer
    )
    assert known.status_code == 201
    assert known.json()["role"] == "mayors_office"
    assert [m.subject for m in await mails_to(sessions, "known@riga.example")] == [
        "You are invited to the team of Nice on Covenant"
    ]
    team = (await client.get(f"/api/v1/cities/{cities.a}/team", headers=bearer)).json()
    assert {(m["email"], m["role"], tuple(m["modules"])) for m in team} == {
        ("office@nice.example", "mayors_office", ()),
        ("new.person@nice.example", "contributor", ("testmodule",)),
        ("known@riga.example", "mayors_office", ()),
    }

    page = await client.get(f"/cities/{cities.a}/team")
    assert "new.person@nice.example" in page.text
    assert "Yes, remove" in page.text
    newcomer = next(m for m in team if m["email"] == "new.person@nice.example")
    removed = await client.post(
        f"/cities/{cities.a}/team/{newcomer['grant_id']}/remove", headers=csrf_headers(client), follow_redirects=False
    )
    assert removed.status_code == 303
    own = next(m for m in team if m["email"] == "office@nice.example")
    assert (await client.delete(f"/api/v1/cities/{cities.a}/team/{own['grant_id']}", headers=bearer)).status_code == 409
    known_grant = next(m for m in team if m["email"] == "known@riga.example")["grant_id"]
    assert (await client.delete(f"/api/v1/cities/{cities.b}/team/{known_grant}", headers=bearer)).status_code == 403
    assert (await client.delete(f"/api/v1/cities/{cities.a}/team/{known_grant}", headers=bearer)).status_code == 204
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(RoleGrant).where(RoleGrant.city_id == cities.a))
        newcomer_user = await session.scalar(select(User).where(User.email == "new.person@nice.example"))
    assert left == 1
    assert office is not None
    assert newcomer_user is not None
    assert newcomer_user.password_hash is None


async def test_the_mayors_office_withdraws_its_city_and_downloads_its_letter(
    client: Client, cities: Cities, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("office@nice.example")
    await sign_in(client, "office@nice.example")
    assert (await apply(client, cities.a)).status_code == 303
    await make_user("admin@city.eu", roles=[("admin", {})])
    admin = await api_token(sessions, "admin@city.eu")
    await client.post(f"/api/v1/cities/{cities.a}/membership/accept", json={}, headers=admin)
    await sign_in(client, "office@nice.example")  # a fresh session carries the new grant
    letter = await client.get(f"/cities/{cities.a}/letter")
    assert letter.status_code == 200
    assert letter.content == PDF
    profile = await client.get(f"/cities/{cities.a}")
    assert "Withdraw" in profile.text
    withdrawn = await client.post(
        f"/cities/{cities.a}/withdraw", data={}, headers=csrf_headers(client), follow_redirects=False
    )
    assert withdrawn.status_code == 303
    m = await membership(sessions, cities.a)
    assert m is not None
    assert m.status == "withdrawn"
    assert (await client.post(f"/cities/{cities.a}/withdraw", data={}, headers=csrf_headers(client))).status_code == 200
