"""Imports: CSV and portal-shaped JSON, idempotent by identifier, all or nothing with row/column errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.calendar.models import Deadline
from covenant.db import transaction
from covenant.events.models import OutboxRecord
from modules.funding import services
from modules.funding.models import Call
from modules.funding.services import ImportError_
from tests.modules.funding.conftest import Cities

HEADER = "identifier,title,programme,opening_date,deadline_model,deadlines,budget_eur,themes,eligible_countries\n"
GOOD = (
    HEADER
    + 'ISF-1,Protect squares,ISF-POLICE,2026-01-10,single_stage,2099-03-01,"1 500 000",public_spaces;prevention,\n'
    + "URB-1,Networks,URBACT,2026-02-01,multiple_cut_off,2099-03-01;2099-06-01;2099-09-01,,cooperation,FR;IT\n"
)


async def count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_csv_import_is_idempotent_by_identifier(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        assert await services.import_calls(session, services.parse_csv(GOOD), actor=None) == (2, 0)
    async with transaction(sessions) as session:
        changed = GOOD.replace("Protect squares", "Protect squares and markets")
        assert await services.import_calls(session, services.parse_csv(changed), actor=None) == (0, 2)
    assert await count(sessions, Call) == 2
    async with sessions() as session:
        call = await session.scalar(select(Call).where(Call.identifier == "ISF-1"))
        assert call is not None
        assert call.title == "Protect squares and markets"
        assert call.budget_cents == 150_000_000
        urbact = await session.scalar(select(Call).where(Call.identifier == "URB-1"))
        assert urbact is not None
        assert len(urbact.deadlines) == 3
        assert urbact.eligible_countries == ["FR", "IT"]
        # each deadline goes to the calendar once per (source, key): announced as events in the outbox
        names = list(await session.scalars(select(OutboxRecord.name)))
    assert names.count("deadline.announced") == 8  # (1 + 3) deadlines x 2 imports, upserted by key


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("BAD,Too early,ISF-POLICE,2026-05-01,single_stage,2026-04-01,,public_spaces,", "Row 3: A deadline cannot"),
        ("BAD,Unknown,NOPE,2026-01-01,single_stage,2099-04-01,,public_spaces,", "Row 3, column programme"),
        ("BAD,Negative,ISF-POLICE,2026-01-01,single_stage,2099-04-01,-5,public_spaces,", "Row 3, column budget_cents"),
        ("BAD,Date,ISF-POLICE,someday,single_stage,2099-04-01,,public_spaces,", "Row 3, column opening_date"),
    ],
)
async def test_a_bad_row_refuses_the_whole_file(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, row: str, message: str
) -> None:
    text = HEADER + GOOD.splitlines()[1] + "\n" + row + "\n"
    async with transaction(sessions) as session:
        with pytest.raises(ImportError_) as caught:
            await services.import_calls(session, services.parse_csv(text), actor=None)
    assert any(e.startswith(message) for e in caught.value.errors), caught.value.errors
    assert await count(sessions, Call) == 0


async def test_portal_json_export_is_understood(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    ms = int(datetime(2099, 5, 4, tzinfo=UTC).timestamp() * 1000)
    topics = {
        "fundingData": {
            "GrantTenderObj": [
                {
                    "identifier": "HORIZON-CL3-2099-FCT-01",
                    "callIdentifier": "HORIZON-CL3-2099-FCT",
                    "title": "Safe public spaces",
                    "frameworkProgramme": {"abbreviation": "HORIZON"},
                    "plannedOpeningDate": "2026-01-15",
                    "deadlineModel": "two-stage",
                    "deadlineDates": [ms - 86_400_000 * 60, ms],
                    "budget": 12_000_000,
                    "typesOfAction": ["HORIZON Research and Innovation Actions"],
                    "tags": ["research", "public_spaces", "unrelated"],
                }
            ]
        }
    }
    async with transaction(sessions) as session:
        assert await services.import_calls(session, services.parse_portal_json(json.dumps(topics)), actor=None) == (
            1,
            0,
        )
        call = await session.scalar(select(Call))
        assert call is not None
        assert call.reference == "HORIZON-CL3-2099-FCT"
        assert call.deadline_model == "two_stage"
        assert call.themes == ["research", "public_spaces"]
        assert call.budget_cents == 1_200_000_000


async def test_deadlines_reach_the_calendar(sessions: async_sessionmaker[AsyncSession], cities: Cities) -> None:
    from covenant.calendar.events import DeadlineAnnounced
    from covenant.calendar.services import apply_deadline

    async with transaction(sessions) as session:
        await services.import_calls(session, services.parse_csv(GOOD), actor=None)
        rows = list(await session.scalars(select(OutboxRecord).where(OutboxRecord.name == "deadline.announced")))
        for row in rows:
            await apply_deadline(session, DeadlineAnnounced.model_validate(row.payload))
    assert await count(sessions, Deadline) == 4


async def test_a_french_reader_gets_french_row_errors(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modules.funding
    from covenant import i18n

    sources = [("funding", Path(modules.funding.__file__).parent / "locale")]
    monkeypatch.setattr(i18n, "_catalogues", i18n.Catalogues(sources))
    text = (
        HEADER
        + "BAD,Unknown,NOPE,2026-01-01,single_stage,2099-04-01,,public_spaces,\n"
        + "BAD2,Date,ISF-POLICE,someday,single_stage,2099-04-01,,public_spaces,\n"
        + "BAD3,Too early,ISF-POLICE,2026-05-01,single_stage,2026-04-01,,public_spaces,\n"
    )
    with i18n.using_locale("fr"):
        async with transaction(sessions) as session:
            with pytest.raises(ImportError_) as caught:
                await services.import_calls(session, services.parse_csv(text), actor=None)
    assert caught.value.errors == [
        "Ligne 2, colonne programme : programme 'NOPE' inconnu.",
        "Ligne 3, colonne opening_date : Saisissez une date au format AAAA-MM-JJ.",
        "Ligne 4 : Une échéance ne peut pas précéder la date d\u2019ouverture.",
    ]
