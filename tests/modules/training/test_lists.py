"""Pagination and search on the city's workspace lists and the toolbox."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.training import services
from modules.training.schemas import CurriculumInput, SelfAssessmentInput, SessionInput
from tests.fixtures.web import sign_in
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]


async def test_workspace_lists_are_paginated_and_searchable(
    client: Client, make_user: Any, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        curricula = []
        for n in range(12):
            curricula.append(
                await services.create_curriculum(
                    session,
                    cities.a,
                    CurriculumInput(
                        title=f"Course {n:02d} {'night' if n % 4 == 0 else 'day'}", target_groups=["local_police"]
                    ),
                    actor=None,
                )
            )
        for n in range(13):
            await services.create_session(
                session,
                cities.a,
                SessionInput(
                    curriculum_id=curricula[0].id,
                    title=f"Pilot {n:02d}",
                    starts_on=date(2026, 1, 1) + timedelta(days=n),
                    ends_on=date(2026, 1, 1) + timedelta(days=n),
                    place="Town hall" if n != 7 else "Harbour 100% open",
                ),
                actor=None,
            )
        for n in range(11):
            await services.start_self_assessment(
                session,
                cities.a,
                SelfAssessmentInput(target_group="volunteers" if n < 3 else "local_police"),
                user_id=None,
                actor=None,
            )
        await services.create_curriculum(
            session, cities.b, CurriculumInput(title="Course of city B night", target_groups=["volunteers"]), actor=None
        )
    async with sessions() as session:
        first = await services.search_city_sessions(session, cities.a)
        last = await services.search_city_sessions(session, cities.a, number=2)
        found = await services.search_city_sessions(session, cities.a, q="100%")
        wild = await services.search_city_sessions(session, cities.a, q="%")
        night = await services.search_city_curricula(session, cities.a, q="NIGHT")
        groups = await services.search_city_self_assessments(session, cities.a, target_group="volunteers")
        beyond = await services.search_city_self_assessments(session, cities.a, number=99)
    assert (first.total, first.pages, len(first.items)) == (13, 2, 10)
    assert first.items[0].title == "Pilot 12"  # latest first
    assert [s.title for s in last.items] == ["Pilot 02", "Pilot 01", "Pilot 00"]
    assert [s.title for s in found.items] == ["Pilot 07"]
    assert [s.title for s in wild.items] == ["Pilot 07"]  # '%' is searched literally
    assert sorted(c.title for c in night.items) == ["Course 00 night", "Course 04 night", "Course 08 night"]
    assert groups.total == 3
    assert beyond.number == 2
    assert len(beyond.items) == 1

    await make_user("c@a.eu", roles=[("contributor", {"city_id": cities.a, "modules": ["training"]})])
    await sign_in(client, "c@a.eu")
    url = f"/m/training/cities/{cities.a}/"
    page = await client.get(url, params={"sq": "pilot", "spage": "2", "cq": "night"})
    assert page.status_code == 200
    assert "Pilot 00" in page.text
    assert "Pilot 12" not in page.text
    assert ">Course 04 night</a>" in page.text
    assert ">Course 05 day</a>" not in page.text
    assert "Course of city B" not in page.text  # another city's draft
    assert "Page 1 of 2" in page.text  # the self-assessments keep their own page
    assert "spage=1" in page.text  # links keep the other lists' state
    assert "cq=night" in page.text
    empty = await client.get(url, params={"sq": "nothing like it"})
    assert "No session matches this search." in empty.text
    odd = await client.get(url, params={"spage": "x", "apage": "-3"})
    assert odd.status_code == 200


async def test_toolbox_is_paginated_and_searchable(client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as session:
        for n in range(30):
            await services.add_toolbox_entry(
                session,
                source="cohesion",
                source_key=f"l{n}",
                title=f"Lesson {n:02d}",
                summary="street mediation" if n == 5 else "",
            )
    page = await client.get("/m/training/toolbox")
    assert page.status_code == 200
    assert "Page 1 of 2" in page.text
    assert "30 results" in page.text
    second = await client.get("/m/training/toolbox", params={"page": "2"})
    assert "Lesson 00" in second.text
    found = await client.get("/m/training/toolbox", params={"q": "Mediation"})
    assert "Lesson 05" in found.text
    assert "1 results" in found.text
    assert "Lesson 06" not in found.text
    none = await client.get("/m/training/toolbox", params={"q": "zzz"})
    assert "No resource matches this search." in none.text
