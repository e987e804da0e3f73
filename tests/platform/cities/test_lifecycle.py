"""The membership state machine at the service level: every allowed and refused transition, with its
event in the outbox, its audit row and its mail."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts.models import RoleGrant
from covenant.audit.models import AuditEntry
from covenant.cities import services
from covenant.cities.models import City
from covenant.cities.schemas import ApplicationForm, CityProfileForm, DecisionForm
from covenant.config import Settings
from covenant.db import transaction
from covenant.events.models import OutboxRecord
from covenant.notifications.models import MailMessage
from tests.platform.cities.conftest import PDF, Cities, MakeUser, application, make_member

ALL_STATES: list[str | None] = [None, "applied", "rejected", "signatory", "suspended", "withdrawn"]
ALLOWED = {
    "apply": {None, "rejected", "withdrawn"},
    "accept": {"applied"},
    "reject": {"applied"},
    "suspend": {"signatory"},
    "reinstate": {"suspended"},
    "withdraw": {"signatory", "suspended"},
}
TARGET = {
    "apply": "applied",
    "accept": "signatory",
    "reject": "rejected",
    "suspend": "suspended",
    "reinstate": "signatory",
    "withdraw": "withdrawn",
}
EVENT = {
    "apply": "city.applied",
    "accept": "city.signed",
    "reject": "city.rejected",
    "suspend": "city.suspended",
    "reinstate": "city.reinstated",
    "withdraw": "city.withdrew",
}
DECISION = DecisionForm(reason="A reason the city receives", notice_date=date(2025, 1, 10))


async def count(sessions: async_sessionmaker[AsyncSession], query: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def bring_to(sessions: async_sessionmaker[AsyncSession], city_id: Any, state: str | None) -> None:
    if state is not None:
        await make_member(sessions, city_id, state)


@pytest.mark.parametrize("state", ALL_STATES, ids=lambda s: s or "none")
@pytest.mark.parametrize("action", list(ALLOWED))
async def test_every_transition_from_every_state(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, action: str, state: str | None
) -> None:
    await bring_to(sessions, cities.a, state)
    events_before = await count(sessions, select(func.count()).select_from(OutboxRecord))
    audit_before = await count(sessions, select(func.count()).select_from(AuditEntry))

    async def run() -> None:
        async with transaction(sessions) as session:
            city = await session.get(City, cities.a)
            assert city is not None
            if action == "apply":
                await services.apply(session, city, application(), actor=None)
            else:
                await services.decide(session, city, action, DECISION, actor=None)

    if state in ALLOWED[action]:
        await run()
        async with sessions() as session:
            membership = await services.membership_of(session, cities.a)
            assert membership is not None
            assert membership.status == TARGET[action]
            names = list(await session.scalars(select(OutboxRecord.name).order_by(OutboxRecord.id)))
        assert EVENT[action] in names[events_before:]
        assert await count(sessions, select(func.count()).select_from(AuditEntry)) > audit_before
        assert (
            await count(
                sessions,
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == services.AUDIT_ACTIONS[action]),
            )
            >= 1
        )
    else:
        with pytest.raises(services.TransitionRefused) as refused:
            await run()
        assert str(refused.value)  # a message a person can read
        assert await count(sessions, select(func.count()).select_from(OutboxRecord)) == events_before
        assert await count(sessions, select(func.count()).select_from(AuditEntry)) == audit_before


async def test_a_duplicate_application_is_refused(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    await make_member(sessions, cities.a, "applied")
    async with transaction(sessions) as session:
        city = await session.get(City, cities.a)
        assert city is not None
        with pytest.raises(services.DuplicateApplication, match="already has an application"):
            await services.apply(session, city, application(), actor=None)


async def test_reject_and_suspend_need_their_reason_and_notice(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await make_member(sessions, cities.a, "applied")
    await make_member(sessions, cities.b, "signatory")
    async with transaction(sessions) as session:
        city_a = await session.get(City, cities.a)
        city_b = await session.get(City, cities.b)
        assert city_a is not None
        assert city_b is not None
        with pytest.raises(services.InvalidDecision) as no_reason:
            await services.decide(session, city_a, "reject", DecisionForm(reason="  "), actor=None)
        assert no_reason.value.field == "reason"
        with pytest.raises(services.InvalidDecision) as no_notice:
            await services.decide(session, city_b, "suspend", DecisionForm(reason="Late"), actor=None)
        assert no_notice.value.field == "notice_date"
    async with sessions() as session:
        a = await services.membership_of(session, cities.a)
        b = await services.membership_of(session, cities.b)
    assert a is not None
    assert a.status == "applied"
    assert b is not None
    assert b.status == "signatory"


async def test_accepting_grants_the_applicant_the_mayors_office_and_mails_them(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, make_user: MakeUser
) -> None:
    user = await make_user("office@nice.example")
    await make_member(sessions, cities.a, "signatory", applicant=user.id)
    async with sessions() as session:
        grants = list(await session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)))
        subjects = list(
            await session.scalars(select(MailMessage.subject).where(MailMessage.to_address == "office@nice.example"))
        )
    assert [(g.role, g.city_id) for g in grants] == [("mayors_office", cities.a)]
    assert any("received" in s for s in subjects)
    assert any("is a signatory" in s for s in subjects)


async def test_event_payloads_carry_ids_and_the_values_consumers_need(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await make_member(sessions, cities.a, "suspended")
    async with sessions() as session:
        rows = {r.name: r for r in await session.scalars(select(OutboxRecord))}
    signed = rows["city.signed"].payload
    assert signed["city_id"] == str(cities.a)
    assert signed["city_name"] == "Nice"
    assert signed["country_code"] == "FR"
    assert signed["adhesion_date"] == "2024-03-18"
    assert signed["population"] == 342_669
    suspended = rows["city.suspended"].payload
    assert suspended["reason"] == "No report"
    assert suspended["notice_date"] == "2025-01-10"
    assert rows["city.suspended"].city_id == cities.a


def test_the_letter_must_be_a_pdf_of_at_most_10_mb(settings: Settings) -> None:
    services.check_letter(PDF)
    for content, message in [
        (b"", "Attach"),
        (b"GIF89a not a pdf", "must be a PDF"),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
    ]:
        with pytest.raises(services.LetterRefused, match=message):
            services.check_letter(content)
    name = services.store_letter(settings, PDF)
    assert name.startswith("letter-")
    assert name.endswith(".pdf")
    assert (settings.var_dir / "uploads" / name).read_bytes() == PDF


def test_bad_application_and_profile_input_is_refused() -> None:
    with pytest.raises(ValidationError, match="future"):
        application(adhesion_date=date.today() + timedelta(days=3))
    with pytest.raises(ValidationError, match="after the council"):
        application(mandate_end=date(2020, 1, 1))
    with pytest.raises(ValidationError):
        ApplicationForm.model_validate(
            {"adhesion_date": "31/02/2024", "mayor": "x", "contact_name": "y", "contact_email": "a@b.eu"}
        )
    base = {"name": "Nice", "country_code": "FR", "population": 1}
    CityProfileForm.model_validate(base)
    with pytest.raises(ValidationError, match="greater than 0"):
        CityProfileForm.model_validate(base | {"population": 0})
    with pytest.raises(ValidationError, match="ISO 3166"):
        CityProfileForm.model_validate(base | {"country_code": "XX"})


async def test_profile_changes_are_audited_and_reclassify_the_size(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        city = await session.get(City, cities.a)
        assert city is not None
        form = CityProfileForm(name="Nice", country_code="fr", population=1_200_000, area_km2=71.9)
        await services.update_profile(session, city, form, actor=None)
    async with sessions() as session:
        city = await session.get(City, cities.a)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "city.profile_changed"))
    assert city is not None
    assert city.size_class == "above_1m"
    assert city.country_code == "FR"
    assert entry is not None
    assert entry.after == {"population": 1_200_000, "area_km2": 71.9}


async def test_public_lists_and_figures_leave_suspended_cities_out_of_the_statistics(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    await make_member(sessions, cities.a, "signatory")
    await make_member(sessions, cities.b, "suspended")
    async with sessions() as session:
        rows, total = await services.search_signatories(session)
        figures = await services.public_figures(session)
        assert [r.commitments for r in rows] == [0, 0]
    assert total == 2
    assert [r.suspended for r in rows] == [False, True]
    assert figures.signatories == 1
    assert figures.inhabitants == 342_669
    assert figures.by_country == [("FR", 1, 342_669)]


async def test_the_registry_loads_once_from_geonames(session: AsyncSession) -> None:
    added = await services.load_registry(session)
    await session.commit()
    assert 500 < added < 2000
    assert await services.load_registry(session) == 0
    countries = set(await session.scalars(select(City.country_code).distinct()))
    assert {"FR", "DE", "IT", "ES", "LV", "FI", "BE"} <= countries
    assert countries <= set(services.EU_27)
