"""The scheduler's part (opening on the date, reminder rounds once each and only to the incomplete, written
notices after the validation deadline), suspension after the grace period, set-based opening for many
cities, a matrix without N+1, and a city that signs during an open cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.cities import services as cities_services
from covenant.cities.models import City, Membership, SizeClass
from covenant.cities.schemas import DecisionForm
from covenant.db import new_id, transaction
from covenant.events.models import OutboxRecord
from covenant.monitoring import services
from covenant.monitoring.jobs import JOB_NAME, run_cycle_job
from covenant.monitoring.models import Notice, Reminder
from covenant.monitoring.schemas import CycleInput, DelayInput
from covenant.notifications.models import MailMessage
from covenant.plugins import ModuleRegistry
from covenant.scheduler import Scheduler
from tests.fixtures.bus import Bus
from tests.platform.monitoring.conftest import (
    SLUGS,
    TODAY,
    YEAR,
    Cities,
    Client,
    StatementCounter,
    post_form,
    signed_in_as,
)


def cycle_input(**overrides: Any) -> CycleInput:
    values: dict[str, Any] = {
        "year": YEAR,
        "opens_on": TODAY,
        "submission_deadline": TODAY + timedelta(days=10),
        "validation_deadline": TODAY + timedelta(days=20),
        "grace_days": 5,
        "reminder_days": [14, 7, 1],
    }
    return CycleInput.model_validate(values | overrides)


async def reminder_mails(sessions: async_sessionmaker[AsyncSession], address: str) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).where(MailMessage.to_address == address, MailMessage.subject.like("%due on%"))
            )
            or 0
        )


async def test_the_scheduler_opens_reminds_and_gives_notice(
    client: Client,
    make_user: Any,
    sessions: async_sessionmaker[AsyncSession],
    registry: ModuleRegistry,
    cities: Cities,
) -> None:
    assert JOB_NAME in [job.name for job in Scheduler.for_deployment(sessions, registry).jobs]
    async with transaction(sessions) as session:
        cycle = await services.create_cycle(
            session, cycle_input(opens_on=TODAY + timedelta(days=1)), registry=registry, actor=None
        )
    deadline = TODAY + timedelta(days=10)

    async def run(on: date) -> dict[str, int]:
        async with transaction(sessions) as session:
            return await run_cycle_job(session, registry, today=on)

    assert await run(TODAY) == {"opened": 0, "reminded": 0, "noticed": 0}  # not yet its opening date
    assert await run(TODAY + timedelta(days=1)) == {"opened": 1, "reminded": 3, "noticed": 0}  # 14 days before: due
    assert (await run(TODAY + timedelta(days=1)))["reminded"] == 0  # each round once
    assert (await run(deadline - timedelta(days=7)))["reminded"] == 3

    # Nice submits every section (as its modules would report); Riga asks for, and gets, more time.
    async with transaction(sessions) as session:
        for module in ("commitments", *SLUGS):
            await services.mark_submitted(session, YEAR, cities.nice, module, 100)
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        delay = await services.request_delay(
            session,
            cycle,
            cities.riga,
            DelayInput(requested_until=deadline + timedelta(days=5), reason="Elections."),
            actor=None,
            today=TODAY + timedelta(days=4),
        )
        await services.decide_delay(session, cycle, delay, grant=True, comment="", actor=None)
        assert await services.city_deadline(session, cycle, cities.riga) == deadline + timedelta(days=5)
    assert (await run(deadline - timedelta(days=1)))["reminded"] == 2  # Nice is complete: not reminded
    assert await reminder_mails(sessions, "contact@nice.example") == 2
    assert await reminder_mails(sessions, "contact@faenza.example") == 3
    assert (await run(deadline + timedelta(days=1)))["reminded"] == 0  # no round after the deadline
    async with sessions() as session:
        rounds = sorted(await session.scalars(select(Reminder.days_before)))
    assert rounds == [1, 7, 14]

    # After the validation deadline: a written notice to every active signatory that did not submit, once.
    after = TODAY + timedelta(days=21)
    assert (await run(TODAY + timedelta(days=20)))["noticed"] == 0  # not before the deadline has passed
    assert (await run(after))["noticed"] == 2
    assert (await run(after))["noticed"] == 0
    async with sessions() as session:
        noticed = {n.city_id: n for n in await session.scalars(select(Notice))}
        mails = list(await session.scalars(select(MailMessage).where(MailMessage.subject.like("Written notice%"))))
    assert set(noticed) == {cities.riga, cities.faenza}
    assert {m.to_address for m in mails} == {"contact@riga.example", "contact@faenza.example"}

    # Suspension: never before the grace period ends (the admin's page says so); then through the membership
    # lifecycle (city.suspended); a city that submitted in the meantime is not suspended.
    await signed_in_as(client, make_user, "admin@covenant.eu", [("admin", {})])
    notices_page = await client.get(f"/admin/monitoring/{YEAR}/notices")
    assert "Grace period running" in notices_page.text
    early = await post_form(
        client, f"/admin/monitoring/{YEAR}/notices/{noticed[cities.faenza].id}/suspend", {"confirm": "yes"}
    )
    assert early.status_code == 422
    assert "The grace period runs until" in early.text
    later = after + timedelta(days=6)
    async with transaction(sessions) as session:
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        notice = await session.get(Notice, noticed[cities.faenza].id)
        assert notice is not None
        await services.suspend_after_notice(session, cycle, notice, confirm=True, reason="", actor=None, today=later)
        await services.mark_submitted(session, YEAR, cities.riga, "commitments", 100)
    async with transaction(sessions) as session:
        membership = await cities_services.membership_of(session, cities.faenza)
        assert membership is not None
        assert membership.status == "suspended"
        assert membership.notice_date == after
        events = list(await session.scalars(select(OutboxRecord.name).where(OutboxRecord.city_id == cities.faenza)))
        assert "city.suspended" in events
    # Riga still has sections open, so it could be suspended; a confirmation is needed.
    async with transaction(sessions) as session:
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        riga_notice = await session.get(Notice, noticed[cities.riga].id)
        assert riga_notice is not None
        with pytest.raises(services.MonitoringError) as refused:
            await services.suspend_after_notice(
                session, cycle, riga_notice, confirm=False, reason="", actor=None, today=later
            )
        assert refused.value.field == "confirm"


async def add_many_cities(engine: AsyncEngine, count: int) -> None:
    """``count`` signatories in two statements (the test's own bulk load)."""
    now = datetime.now(UTC)
    sizes = [50_000 * (i % 25) + 10_000 for i in range(count)]
    city_rows = [
        {
            "id": new_id(),
            "name": f"Town {i:04d}",
            "country_code": ("FR", "IT", "ES", "DE")[i % 4],
            "region": "",
            "population": sizes[i],
            "size_class": SizeClass.of(sizes[i]).value,
            "website": "",
            "mayor": "",
            "contact_name": "",
            "contact_email": "",
            "authority_type": "municipality",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    membership_rows = [
        {
            "id": new_id(),
            "city_id": row["id"],
            "status": "signatory",
            "adhesion_date": date(2022, 1, 1),
            "mayor": "Mayor",
            "contact_name": "Contact",
            "contact_email": f"contact{i}@town.example",
            "applied_at": now,
            "reason": "",
            "created_at": now,
            "updated_at": now,
        }
        for i, row in enumerate(city_rows)
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(City.__table__), city_rows)  # type: ignore[arg-type]
        await conn.execute(insert(Membership.__table__), membership_rows)  # type: ignore[arg-type]


async def test_opening_for_many_cities_is_one_statement_and_the_matrix_has_no_n_plus_one(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry
) -> None:
    await add_many_cities(engine, 240)
    async with transaction(sessions) as session:
        cycle = await services.create_cycle(session, cycle_input(), registry=registry, actor=None)
    with StatementCounter(engine) as counter:
        async with transaction(sessions) as session:
            cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
            created = await services.open_cycle(session, cycle, registry=registry, actor=None)
    assert created == 240 * 7
    assert len(counter.matching("INSERT INTO monitoring_section")) == 1
    assert len(counter.statements) < 12, counter.statements  # whatever the number of cities

    async def matrix_statements(limit: int) -> int:
        with StatementCounter(engine) as count:
            async with sessions() as session:
                rows, total = await services.matrix(
                    session, cycle, services.MatrixFilters(country="FR"), offset=0, limit=limit
                )
        assert total == 60
        assert len(rows) == min(limit, 60)
        assert all(len(r.sections) == 7 for r in rows)
        return len(count.statements)

    assert await matrix_statements(5) == await matrix_statements(50)
    async with sessions() as session:
        summary = await services.summary(session, cycle, registry)
    assert summary.total.sections == 1680
    assert summary.cities == 240
    assert {line.key for line in summary.by_country} == {"FR", "IT", "ES", "DE"}


async def test_a_city_that_signs_during_the_cycle_gets_its_sections(
    bus: Bus, sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry, cities: Cities
) -> None:
    async with transaction(sessions) as session:
        cycle = await services.create_cycle(session, cycle_input(), registry=registry, actor=None)
        await services.open_cycle(session, cycle, registry=registry, actor=None)
    async with transaction(sessions) as session:
        city = await session.get(City, cities.gdansk)
        assert city is not None
        await cities_services.decide(session, city, "accept", DecisionForm(), actor=None)
    await bus.settle()
    async with sessions() as session:
        cycle = await services.cycle_by_year(session, YEAR)  # type: ignore[assignment]
        result = await services.checklist(session, cycle, cities.gdansk, registry=registry, refresh=False)
    assert len(result.sections) == 7
