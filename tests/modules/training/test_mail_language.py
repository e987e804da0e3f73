"""Mails of the training module are written in each recipient's language (their account's saved preference,
English without one)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import modules.training
from covenant import i18n
from covenant.db import transaction
from covenant.notifications.models import MailMessage
from modules.training import services
from modules.training.models import TrainingSession
from tests.modules.language import install_catalogue, user_reading
from tests.modules.training.conftest import Cities
from tests.modules.training.test_pilots import planned_session


@pytest.fixture(autouse=True)
def catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    install_catalogue(monkeypatch, modules.training)


async def test_questionnaire_links_go_out_in_each_participants_language(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, make_user: Any
) -> None:
    await user_reading(sessions, make_user, "anna@lyon.fr")
    _, ts_id = await planned_session(sessions, cities.a)
    async with transaction(sessions) as session:
        ts = await session.get(TrainingSession, ts_id)
        assert ts is not None
        await services.register_participant(session, ts, name="Anna", email="anna@lyon.fr", actor=None)
        await services.register_participant(session, ts, name="Luca", email="luca@example.org", actor=None)
        assert await services.send_questionnaire_links(session, ts, "https://covenant.example", actor=None) == 2
    async with sessions() as session:
        mails = {m.to_address: m for m in await session.scalars(select(MailMessage))}
    assert mails["anna@lyon.fr"].subject == "Pilot 1 : comment s\u2019est passée la formation ?"
    assert mails["anna@lyon.fr"].body_text.startswith("Bonjour Anna,\n\nMerci d\u2019avoir participé à « Pilot 1 »")
    assert "https://covenant.example/m/training/q/" in mails["anna@lyon.fr"].body_text
    assert mails["luca@example.org"].subject == "Pilot 1: how was the training?"
    assert i18n.current_locale() == "en"  # the caller's locale is back
