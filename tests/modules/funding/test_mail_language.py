"""Call notices are mailed in each recipient's language (their account's saved preference, else English)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import modules.funding
from covenant import i18n
from covenant.db import transaction
from covenant.notifications.models import MailMessage
from modules.funding import services
from modules.funding.models import CallMatch
from tests.modules.funding.conftest import Cities, add_call
from tests.modules.language import install_catalogue, user_reading


@pytest.fixture(autouse=True)
def catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    install_catalogue(monkeypatch, modules.funding)


async def test_notices_reach_a_french_speaking_contact_in_french(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, make_user: Any
) -> None:
    await user_reading(sessions, make_user, "contact@nice.example")
    deadline = date.today() + timedelta(days=3)
    call_id = await add_call(sessions, deadlines=[deadline.isoformat()])
    async with transaction(sessions) as session:
        session.add_all(CallMatch(city_id=city, call_id=call_id, score=50) for city in (cities.a, cities.b))
    async with transaction(sessions) as session:
        assert await services.send_notices(session, days_before=14) == (1, 1)
    async with sessions() as session:
        mails = list(await session.scalars(select(MailMessage).order_by(MailMessage.id)))
    nice = [m for m in mails if m.to_address == "contact@nice.example"]
    riga = [m for m in mails if m.to_address == "contact@riga.example"]
    assert [m.subject for m in nice] == [
        "Appel ouvert : Protection of public spaces",
        "Échéance dans 3 jours : Protection of public spaces",
    ]
    with i18n.using_locale("fr"):
        long_date = i18n.format_date(deadline, "long")
    assert f"L\u2019appel ISF-2026-PROTECT se clôt le {long_date}." in nice[1].body_text
    assert [m.subject for m in riga] == [
        "Call open: Protection of public spaces",
        "Deadline in 3 days: Protection of public spaces",
    ]
