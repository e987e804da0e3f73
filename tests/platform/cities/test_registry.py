"""The secretariat adds authorities the shipped registry lacks; a group signatory keeps its member
municipalities (one shared profile for several neighbouring municipalities)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit.models import AuditEntry
from covenant.cities.models import City, GroupMunicipality
from tests.fixtures.web import csrf_headers, sign_in
from tests.platform.cities.conftest import Cities, MakeUser, api_token

GROUP = {
    "authority_type": "group",
    "name": "Unione dei Comuni della Bassa Romagna",
    "country_code": "it",
    "population": "100000",
}


async def test_an_admin_adds_a_group_and_its_municipalities(
    admin_client: AsyncTestClient[Litestar], sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await admin_client.post(
        "/admin/cities/new", data=GROUP, headers=csrf_headers(admin_client), follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/municipalities")
    async with sessions() as session:
        group = (await session.scalars(select(City).where(City.name == GROUP["name"]))).one()
    assert group.country_code == "IT"
    assert group.authority_type == "group"

    for name, population in (("Lugo", "32000"), ("Bagnacavallo", "16000")):
        added = await admin_client.post(
            f"/cities/{group.id}/municipalities/",
            data={"name": name, "population": population},
            headers=csrf_headers(admin_client),
            follow_redirects=False,
        )
        assert added.status_code == 303
    page = await admin_client.get(f"/cities/{group.id}/municipalities/")
    assert "Lugo" in page.text
    assert "Bagnacavallo" in page.text
    async with sessions() as session:
        refreshed = await session.get(City, group.id)
        assert refreshed is not None
        assert refreshed.population == 48_000  # the members' total once every population is known
        assert refreshed.size_class == "below_50k"
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "city.municipality_added")
        )
        assert audited == 2
        member = (await session.scalars(select(GroupMunicipality).where(GroupMunicipality.name == "Lugo"))).one()

    removed = await admin_client.post(
        f"/cities/{group.id}/municipalities/{member.id}/remove",
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert "Lugo" not in (await admin_client.get(f"/cities/{group.id}/municipalities/")).text
    assert "Bagnacavallo" in (await admin_client.get(f"/cities/{group.id}")).text  # shown on the public profile


async def test_bad_authorities_are_refused_with_field_messages(admin_client: AsyncTestClient[Litestar]) -> None:
    await admin_client.get("/admin/cities/new")
    response = await admin_client.post(
        "/admin/cities/new",
        data={"authority_type": "region", "name": "", "country_code": "XX", "population": "0", "latitude": "120"},
        headers=csrf_headers(admin_client),
    )
    assert response.status_code == 422
    for field in ("name", "country_code", "population", "latitude"):
        assert f'id="error-{field}"' in response.text


async def test_only_admins_add_authorities(
    client: AsyncTestClient[Litestar], make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await client.get("/admin/cities/new", follow_redirects=False)).status_code == 303  # to sign-in
    await make_user("maire@nice.example", roles=[("mayors_office", {"city_id": cities.a})])
    await sign_in(client, "maire@nice.example")
    assert (await client.get("/admin/cities/new")).status_code == 403
    headers = await api_token(sessions, "maire@nice.example")
    api = await client.post("/api/v1/admin/cities", json={**GROUP, "country_code": "IT"}, headers=headers)
    assert api.status_code == 403


async def test_municipalities_belong_to_groups_and_their_own_office(
    client: AsyncTestClient[Litestar], make_user: MakeUser, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions() as session, session.begin():
        group = City(
            name="Comunità", country_code="IT", population=30_000, size_class="below_50k", authority_type="group"
        )
        session.add(group)
    await make_user("ufficio@comunita.example", roles=[("mayors_office", {"city_id": group.id})])
    await make_user("maire@nice.example", roles=[("mayors_office", {"city_id": cities.a})])

    own = await api_token(sessions, "ufficio@comunita.example")
    other = await api_token(sessions, "maire@nice.example")
    url = f"/api/v1/cities/{group.id}/municipalities"
    assert (await client.post(url, json={"name": "Brisighella"}, headers=other)).status_code == 403
    created = await client.post(url, json={"name": "Brisighella", "population": 7_500}, headers=own)
    assert created.status_code == 201
    assert (await client.get(url)).json() == [created.json()]
    bad = await client.post(url, json={"name": "", "population": -1}, headers=own)
    assert bad.status_code == 422
    not_a_group = await client.get(f"/api/v1/cities/{cities.a}/municipalities")
    assert not_a_group.status_code == 409


def test_country_names_follow_the_readers_language() -> None:
    from covenant import i18n
    from covenant.cities.schemas import country_name

    token = i18n.set_locale("fr")
    try:
        assert country_name("BE") == "Belgique"
    finally:
        i18n.reset_locale(token)
    assert country_name("BE") == "Belgium"
