"""The map of published fiches: server-drawn SVG, the library's filters, fiches that cannot be placed."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from modules.practices import services
from modules.practices.services import FicheFilters
from tests.modules.practices.conftest import Cities
from tests.modules.practices.test_services import new_fiche, published

Client = AsyncTestClient[Litestar]


async def place_cities(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    async with transaction(sessions) as session:
        nice = await session.get(City, cities.a)
        riga = await session.get(City, cities.b)
        assert nice is not None
        assert riga is not None
        nice.latitude, nice.longitude = 43.70, 7.27
        riga.latitude, riga.longitude = 56.95, 24.11


async def test_the_map_places_published_fiches_by_city_with_the_filters(
    client: Client, sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await place_cities(sessions, cities)
    async with transaction(sessions) as session:
        await published(session, cities.a, title="Benches that stop lorries in Nice")
        await published(session, cities.a, title="Lighting the promenade", measures=["lighting"], place_kind="street")
        await published(session, cities.b, title="Riga market square", measures=["lighting"])
        await published(session, None, title="PERICLES project toolkit")
        await new_fiche(session, cities.b, title="A draft stays off the map")

    async with sessions() as session:
        everything = await services.fiche_map(session, FicheFilters())
        lit = await services.fiche_map(session, FicheFilters(measure="lighting"))
    assert everything.total == 4
    assert [(p.name, len(p.fiches)) for p in everything.points] == [("Nice", 2), ("Riga", 1)]
    assert [title for _id, title in everything.unplaced] == ["PERICLES project toolkit"]
    nice = everything.points[0]
    assert 0 < nice.x < everything.width
    assert 0 < nice.y < everything.height
    assert nice.x < everything.points[1].x
    assert nice.y > everything.points[1].y
    assert lit.total == 2
    assert {p.name for p in lit.points} == {"Nice", "Riga"}

    library = await client.get("/m/practices/", params={"measure": "lighting"})
    assert 'href="/m/practices/map?measure=lighting"' in library.text
    page = await client.get("/m/practices/map", params={"measure": "lighting", "country": "LV"})
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "<circle" in page.text
    assert "Riga market square" in page.text
    assert "Lighting the promenade" not in page.text  # filtered out by the country
    assert "A draft stays off the map" not in (await client.get("/m/practices/map")).text
    assert "tile" not in page.text.lower()  # drawn on the server, no external tiles
    empty = await client.get("/m/practices/map", params={"q": "nothingmatchesthis"})
    assert empty.status_code == 200
    assert "<circle" not in empty.text
