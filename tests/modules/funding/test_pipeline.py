"""The pipeline: one step at a time, awards with amounts, and the uptake figures."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.funding import services
from modules.funding.plugin import cycle_section, report_section
from modules.funding.schemas import ApplicationInput, ApplicationStep
from modules.funding.services import FundingError
from tests.modules.funding.conftest import Cities


async def test_an_application_moves_step_by_step_to_an_award(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    async with transaction(sessions) as session:
        app = await services.create_application(
            session,
            cities.a,
            ApplicationInput(title="Station square", programme="ISF-POLICE", requested_cents=100),
            actor=None,
        )
        with pytest.raises(FundingError, match="next step"):
            await services.move_application(session, app, ApplicationStep(status="submitted"), actor=None)
        for step in ("preparing", "submitted"):
            await services.move_application(session, app, ApplicationStep(status=step), actor=None)
        await services.move_application(
            session,
            app,
            ApplicationStep(status="awarded", awarded_cents=90_000_00, eu_share_cents=81_000_00),
            actor=None,
        )
        with pytest.raises(FundingError):
            await services.move_application(session, app, ApplicationStep(status="withdrawn"), actor=None)
        section = await cycle_section(session, cities.a, app.decided_on.year)  # type: ignore[union-attr]
        report = await report_section(session, app.decided_on.year)  # type: ignore[union-attr]
    assert section.status == "in_progress"
    assert section.completeness == 100
    assert report.figures["awarded"] == 1
    assert report.figures["eu_share_cents"] == 81_000_00
    by_country = next(t for t in report.tables if t["by"] == "country")
    assert by_country["rows"] == [{"key": "FR", "awards": 1, "eu_share_cents": 81_000_00}]


def test_award_rules() -> None:
    with pytest.raises(ValueError, match="amount awarded"):
        ApplicationStep(status="awarded")
    with pytest.raises(ValueError, match="EU share"):
        ApplicationStep(status="awarded", awarded_cents=10, eu_share_cents=20)
    with pytest.raises(ValueError, match="greater than or equal"):
        ApplicationInput(title="Negative", programme="CERV", requested_cents=-1)
    assert (
        ApplicationInput.model_validate(
            {"title": "Euros", "programme": "CERV", "requested_eur": "1 250,50"}
        ).requested_cents
        == 125050
    )


async def test_unknown_programme_and_foreign_commitment_are_refused(
    sessions: async_sessionmaker[AsyncSession], cities: Cities
) -> None:
    from tests.modules.funding.conftest import publish_commitment

    theirs = await publish_commitment(sessions, cities.b)
    async with transaction(sessions) as session:
        with pytest.raises(FundingError, match="Unknown programme"):
            await services.create_application(
                session, cities.a, ApplicationInput(title="X x x", programme="NOPE"), actor=None
            )
        with pytest.raises(FundingError, match="this city"):
            await services.create_application(
                session,
                cities.a,
                ApplicationInput(title="X x x", programme="CERV", commitment_ids=[theirs]),
                actor=None,
            )
