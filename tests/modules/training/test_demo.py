"""The demo data loads twice without change and every page shows it."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.training import demo, services
from modules.training.models import Curriculum, QuestionnaireAnswer, TrainingSession
from tests.fixtures.web import csrf_headers
from tests.modules.training.conftest import Cities

Client = AsyncTestClient[Litestar]


async def test_demo_loads_once_and_pages_show_it(
    admin_client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for _ in range(2):
        async with transaction(sessions) as session:
            await demo.load(session)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Curriculum)) == 2
        assert await session.scalar(select(func.count()).select_from(TrainingSession)) == 3
        assert await session.scalar(select(func.count()).select_from(QuestionnaireAnswer)) == 16
        events = await session.scalar(
            select(func.count()).select_from(OutboxRecord).where(OutboxRecord.name == "training.session_evaluated")
        )
        assert events == 2
        section = await services.cycle_section(session, cities.a, 2025)
        report = await services.report_section(session, 2025)
    assert section.completeness == 100
    assert report.figures["pilot sessions evaluated"] == 2

    for url in (
        "/m/training/",
        "/m/training/matrix",
        "/m/training/toolbox",
        "/m/training/report",
        "/m/training/review/",
    ):
        r = await admin_client.get(url)
        assert r.status_code == 200, url
    assert "Urban Security Coordinator" in (await admin_client.get("/m/training/matrix")).text
    report_page = (await admin_client.get("/m/training/report")).text
    assert "Mechelen" in report_page
    assert "invite the national police" in report_page
    city = await admin_client.get(f"/m/training/cities/{cities.a}/")
    assert city.status_code == 200
    assert "Pilot 1" in city.text
    assert "local_police" in city.text
    async with sessions() as session:
        ts = (await session.scalars(select(TrainingSession).where(TrainingSession.city_id == cities.a))).first()
    assert ts is not None
    page = await admin_client.get(f"/m/training/cities/{cities.a}/sessions/{ts.id}")
    assert page.status_code == 200
    assert "<meter" in page.text


async def test_report_csv_and_toolbox_attachment(
    admin_client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        await demo.load(session)
        joint = (await session.scalars(select(Curriculum).where(Curriculum.title == demo.JOINT_TITLE))).one()
        entry = await services.add_toolbox_entry(session, source="test", source_key="x", title="Street lessons")
    csv = await admin_client.get("/m/training/report.csv")
    assert csv.status_code == 200
    assert csv.headers["content-disposition"].startswith("attachment")
    assert "city,Mechelen,1," in csv.text
    url = f"/m/training/cities/{joint.city_id}/curricula/{joint.id}"
    page = await admin_client.get(url)
    assert "DG REGIO EU Competency Framework" in page.text
    r = await admin_client.post(
        f"{url}/toolbox", data={"entry_id": str(entry.id)}, headers=csrf_headers(admin_client), follow_redirects=False
    )
    assert r.status_code == 303
    async with sessions() as session:
        refreshed = await session.get(Curriculum, joint.id)
    assert refreshed is not None
    assert str(entry.id) in refreshed.toolbox_entry_ids
