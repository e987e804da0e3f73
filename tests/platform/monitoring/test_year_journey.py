"""A whole monitoring year through HTTP and real events: create, open (one statement), cities fill in and
submit, reminders only to the incomplete, a module reports a section, validate / return, a delay, close,
modules freeze, report HTML / PDF / ZIP, publish, Covenant in figures."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.calendar.models import Deadline
from covenant.db import transaction
from covenant.events.outbox import record
from covenant.monitoring.events import SectionSubmitted
from covenant.monitoring.models import Badge, ModuleYear, MonitoringCycle, MonitoringSection
from covenant.notifications.models import MailMessage
from modules.practices import services as practices
from modules.practices.schemas import FicheInput, ReviewInput
from tests.fixtures.bus import Bus
from tests.modules.practices.conftest import fiche_fields
from tests.platform.commitments.conftest import api_token, commitment_fields
from tests.platform.monitoring.conftest import (
    SLUGS,
    TODAY,
    YEAR,
    Cities,
    Client,
    StatementCounter,
    cycle_form,
    post_form,
    signed_in_as,
)


async def sections_of(sessions: async_sessionmaker[AsyncSession], city_id: Any) -> dict[str, MonitoringSection]:
    async with sessions() as session:
        rows = await session.scalars(select(MonitoringSection).where(MonitoringSection.city_id == city_id))
        return {s.module: s for s in rows}


async def mails_to(sessions: async_sessionmaker[AsyncSession], address: str) -> list[MailMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(MailMessage).where(MailMessage.to_address == address)))


async def publish_practice(sessions: async_sessionmaker[AsyncSession], city_id: Any) -> None:
    async with transaction(sessions) as session:
        fiche = await practices.create_fiche(
            session, city_id, FicheInput.model_validate(fiche_fields(year=YEAR)), actor=None
        )
        await practices.submit_fiche(session, fiche, actor=None)
        await practices.start_review(session, fiche, actor=None)
        await practices.review_fiche(session, fiche, ReviewInput(decision="publish"), actor=None)


async def report_commitment_progress(client: Client, sessions: async_sessionmaker[AsyncSession], city_id: Any) -> None:
    """The city's own commitment, published, with a progress update of this year (its JSON API)."""
    token = await api_token(sessions, "mayor@nice.fr")
    api = f"/api/v1/cities/{city_id}/commitments"
    created = await client.post(api + "/", json=commitment_fields(), headers=token)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert (await client.post(f"{api}/{cid}/publish", headers=token)).status_code == 200
    progress = {"reported_on": TODAY.isoformat(), "percentage": 40, "narrative": "Two squares redesigned."}
    assert (await client.post(f"{api}/{cid}/progress", json=progress, headers=token)).status_code == 201


async def test_a_whole_year(
    client: Client, app: Litestar, bus: Bus, sessions: async_sessionmaker[AsyncSession], cities: Cities, make_user: Any
) -> None:
    await signed_in_as(client, make_user, "admin@covenant.eu", [("admin", {})])
    assert "Create a cycle" in (await client.get("/admin/monitoring/")).text

    # Bad inputs are refused with their reason; then the cycle is created, its deadlines announced.
    early = await post_form(
        client, "/admin/monitoring/", cycle_form(submission_deadline=(TODAY - timedelta(days=30)).isoformat())
    )
    assert early.status_code == 422
    assert "The submission deadline must come after the opening date." in early.text
    created = await post_form(client, "/admin/monitoring/", cycle_form())
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/admin/monitoring/{YEAR}"
    again = await post_form(client, "/admin/monitoring/", cycle_form())
    assert again.status_code == 422
    assert f"The year {YEAR} already has a monitoring cycle." in again.text

    # Opening: every active signatory's required sections, in ONE statement.
    with StatementCounter(app.state.engine) as counter:
        opened = await post_form(client, f"/admin/monitoring/{YEAR}/open")
    assert opened.status_code == 303
    inserts = counter.matching("INSERT INTO monitoring_section")
    assert len(inserts) == 1, inserts
    assert "SELECT" in inserts[0][0].upper()
    assert set(await sections_of(sessions, cities.nice)) == {"commitments", "practices"}
    assert set(await sections_of(sessions, cities.riga)) == set(SLUGS) | {"commitments"}
    assert set(await sections_of(sessions, cities.faenza)) == {"commitments"}
    assert await sections_of(sessions, cities.graz) == {}  # suspended
    assert await sections_of(sessions, cities.gdansk) == {}  # applied only

    # cycle.opened reaches every module, which opens its year; the deadlines reach the calendar.
    await bus.settle()
    async with sessions() as session:
        opened_years = {y.module: y for y in await session.scalars(select(ModuleYear).where(ModuleYear.year == YEAR))}
        deadlines = {d.key for d in await session.scalars(select(Deadline))}
    assert set(opened_years) == set(SLUGS)
    assert opened_years["practices"].sections == 2
    assert opened_years["funding"].sections == 1
    assert opened_years["assessment"].prepared == 1  # Riga's draft self-assessment for the year
    assert {f"monitoring-{YEAR}-submission", f"monitoring-{YEAR}-validation"} <= deadlines

    # The admin's matrix, its filters, the live progress bar.
    matrix = await client.get(f"/admin/monitoring/{YEAR}/matrix")
    assert matrix.status_code == 200
    assert all(name in matrix.text for name in ("Nice", "Riga", "Faenza"))
    assert "Graz" not in matrix.text
    latvia = await client.get(f"/admin/monitoring/{YEAR}/matrix", params={"country": "LV"})
    assert "Riga" in latvia.text
    assert "Nice" not in latvia.text
    funding_open = await client.get(
        f"/admin/monitoring/{YEAR}/matrix", params={"module": "funding", "status": "not_started"}
    )
    assert "Riga" in funding_open.text
    assert "Faenza" not in funding_open.text
    overview = await client.get(f"/admin/monitoring/{YEAR}")
    assert 'hx-trigger="every 5s"' in overview.text
    assert "<progress" in overview.text
    progress = await client.get(f"/admin/monitoring/{YEAR}/progress")
    assert "0 of 10" in progress.text

    # Nice's mayor: the checklist, its automatic checks, a refused submission listing what is missing.
    await signed_in_as(client, make_user, "mayor@nice.fr", [("mayors_office", {"city_id": cities.nice})])
    checklist = await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")
    assert checklist.status_code == 200
    assert "Publish at least one commitment." in checklist.text
    profile = await client.get(f"/cities/{cities.nice}")
    assert f"Monitoring {YEAR}" in profile.text
    refused = await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/submit")
    assert refused.status_code == 422
    assert "Not submitted: some sections are incomplete" in refused.text
    assert "Publish at least one commitment." in refused.text
    # Another city's checklist is out of reach.
    assert (await client.get(f"/cities/{cities.riga}/monitoring/{YEAR}")).status_code == 403
    assert (await post_form(client, f"/cities/{cities.riga}/monitoring/{YEAR}/submit")).status_code == 403

    # Nice fills in its sections (its commitments through the API, a practice shared), then submits.
    await report_commitment_progress(client, sessions, cities.nice)
    await publish_practice(sessions, cities.nice)
    ready = await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")
    assert "The automatic checks found nothing missing." in ready.text
    submitted = await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/submit")
    assert submitted.status_code == 303, submitted.text
    assert {s.status for s in (await sections_of(sessions, cities.nice)).values()} == {"submitted"}
    again_submitted = await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/submit")
    assert again_submitted.status_code == 409
    assert "Every section is already submitted." in again_submitted.text

    # A module reports a completed section through cycle.section_submitted.
    async with transaction(sessions) as session:
        record(session, SectionSubmitted(city_id=cities.riga, year=YEAR, module="cohesion", completeness=100))
    await bus.settle()
    assert (await sections_of(sessions, cities.riga))["cohesion"].status == "submitted"

    # Reminders go to the incomplete cities only.
    await signed_in_as(client, make_user, "admin2@covenant.eu", [("admin", {})])
    reminded = await post_form(client, f"/admin/monitoring/{YEAR}/remind")
    assert reminded.status_code == 303
    assert await mails_to(sessions, "contact@riga.example")
    assert await mails_to(sessions, "contact@faenza.example")
    assert not [m for m in await mails_to(sessions, "contact@nice.example") if "due on" in m.subject]

    # Validate one section, return the other with a comment (a return needs one).
    nice = await sections_of(sessions, cities.nice)
    page = await client.get(f"/admin/monitoring/{YEAR}/cities/{cities.nice}")
    assert page.status_code == 200
    assert "Validate" in page.text
    ok = await post_form(client, f"/admin/monitoring/{YEAR}/sections/{nice['commitments'].id}/validate")
    assert ok.status_code == 303
    bare = await post_form(client, f"/admin/monitoring/{YEAR}/sections/{nice['practices'].id}/return", {"comment": ""})
    assert bare.status_code == 422
    assert "Say what the city should change" in bare.text
    comment = "Add the outcome figures of the square."
    back = await post_form(
        client, f"/admin/monitoring/{YEAR}/sections/{nice['practices'].id}/return", {"comment": comment}
    )
    assert back.status_code == 303
    nice = await sections_of(sessions, cities.nice)
    assert (nice["commitments"].status, nice["practices"].status) == ("validated", "returned")
    assert any(comment in m.body_text for m in await mails_to(sessions, "contact@nice.example"))
    # Validating a section that was not submitted is refused.
    riga = await sections_of(sessions, cities.riga)
    not_submitted = await post_form(client, f"/admin/monitoring/{YEAR}/sections/{riga['funding'].id}/validate")
    assert not_submitted.status_code == 303
    assert riga["funding"].status == (await sections_of(sessions, cities.riga))["funding"].status == "not_started"

    # The returned section reopens for Nice, which submits again; then it is validated and badged.
    await signed_in_as(client, make_user, "mayor2@nice.fr", [("mayors_office", {"city_id": cities.nice})])
    reopened = await client.get(f"/cities/{cities.nice}/monitoring/{YEAR}")
    assert comment in reopened.text
    assert (await post_form(client, f"/cities/{cities.nice}/monitoring/{YEAR}/submit")).status_code == 303
    await signed_in_as(client, make_user, "admin3@covenant.eu", [("admin", {})])
    nice = await sections_of(sessions, cities.nice)
    assert nice["practices"].status == "submitted"
    assert (
        await post_form(client, f"/admin/monitoring/{YEAR}/sections/{nice['practices'].id}/validate")
    ).status_code == 303
    async with sessions() as session:
        badges = set(await session.scalars(select(Badge.badge).where(Badge.city_id == cities.nice)))
    assert badges == {"commitments", "practices"}
    public_profile = await client.get(f"/cities/{cities.nice}")
    assert "Commitments on track" in public_profile.text
    assert "Practice shared" in public_profile.text

    # Riga asks for a delay before the deadline; the admin grants it.
    await signed_in_as(client, make_user, "mayor@riga.lv", [("mayors_office", {"city_id": cities.riga})])
    until = (TODAY + timedelta(days=30)).isoformat()
    asked = await post_form(
        client, f"/cities/{cities.riga}/monitoring/{YEAR}/delay", {"requested_until": until, "reason": "Elections."}
    )
    assert asked.status_code == 303, asked.text
    await signed_in_as(client, make_user, "admin4@covenant.eu", [("admin", {})])
    delays = await client.get(f"/admin/monitoring/{YEAR}/delays")
    assert "Elections." in delays.text
    async with sessions() as session:
        from covenant.monitoring.models import DelayRequest

        delay = (await session.scalars(select(DelayRequest))).one()
    granted = await post_form(client, f"/admin/monitoring/{YEAR}/delays/{delay.id}", {"decision": "grant"})
    assert granted.status_code == 303
    await bus.settle()
    async with sessions() as session:
        extended = await session.scalar(
            select(Deadline.due_on).where(Deadline.key == f"monitoring-{YEAR}-delay-{cities.riga}")
        )
    assert extended is not None
    assert extended.isoformat() == until

    # Closing is confirmed; then nothing is submitted any more, and the modules freeze the year.
    confirm = await client.get(f"/admin/monitoring/{YEAR}/close")
    assert "irreversible" in confirm.text
    unconfirmed = await post_form(client, f"/admin/monitoring/{YEAR}/close", {})
    assert unconfirmed.status_code == 422
    closed = await post_form(client, f"/admin/monitoring/{YEAR}/close", {"confirm": "yes"})
    assert closed.status_code == 303
    await bus.settle()
    async with sessions() as session:
        frozen = list(await session.scalars(select(ModuleYear).where(ModuleYear.year == YEAR)))
    assert len(frozen) == 6
    assert all(y.closed_at is not None and y.report is not None for y in frozen)
    practices_frozen = next(y for y in frozen if y.module == "practices")
    assert practices_frozen.report is not None
    assert practices_frozen.report["figures"]["published_in_year"] == 1

    # The report: HTML with charts and tables, the PDF from the same HTML, the open data as CSV.
    report = await client.get(f"/admin/monitoring/{YEAR}/report")
    assert report.status_code == 200
    assert f"monitoring report {YEAR}" in report.text
    assert "<svg" in report.text
    assert "<table" in report.text
    assert "Draft: not published." in report.text
    pdf = await client.get(f"/admin/monitoring/{YEAR}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    data = await client.get(f"/admin/monitoring/{YEAR}/report.zip")
    archive = zipfile.ZipFile(io.BytesIO(data.content))
    assert {"summary.csv", "sections_by_city.csv", "submission_by_section.csv"} <= set(archive.namelist())
    rows = list(csv.reader(io.StringIO(archive.read("sections_by_city.csv").decode("utf-8-sig"))))
    assert ["Nice", "FR", "250k_500k", "practices", "validated"] in rows
    assert not [r for r in rows if r[0] == "Graz"]

    # Not public until published; then public, and in Covenant in figures.
    assert (await client.get(f"/reports/{YEAR}")).status_code == 404
    assert (await post_form(client, f"/admin/monitoring/{YEAR}/report/publish")).status_code == 303
    public = await client.get(f"/reports/{YEAR}")
    assert public.status_code == 200
    assert "Draft: not published." not in public.text
    assert (await client.get(f"/reports/{YEAR}/report.pdf")).content.startswith(b"%PDF-")
    reopen = await post_form(client, f"/admin/monitoring/{YEAR}/reopen", {"reason": "A late correction."})
    assert reopen.status_code == 409
    assert "a published year cannot be reopened" in reopen.text

    figures = (await client.get("/figures.json")).json()
    assert figures["signatories"] == 3  # Graz is suspended, Gdansk only applied
    assert figures["inhabitants"] == 342_000 + 605_000 + 45_000
    shares = {s["key"]: s["share_done"] for s in figures["submission"]["sections"]}
    assert shares["practices"] == 0.5  # Nice submitted, Riga did not
    assert figures["headlines"]["year"] == YEAR
    assert {m["module"] for m in figures["headlines"]["modules"]} == set(SLUGS)
    page_figures = await client.get("/figures")
    assert page_figures.status_code == 200
    assert "Covenant in figures" in page_figures.text
    assert "signatories" in (await client.get("/figures.csv")).text
    async with sessions() as session:
        cycle = (await session.scalars(select(MonitoringCycle))).one()
        assert cycle.status == "closed"
        assert await session.scalar(select(func.count()).select_from(MonitoringSection)) == 10
