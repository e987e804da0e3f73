"""The recommendation mail is written in the recipient's language (their account's saved preference)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import modules.practices
from covenant.db import transaction
from covenant.notifications.models import MailMessage
from modules.practices import services
from tests.modules.language import install_catalogue, user_reading
from tests.modules.practices.conftest import Cities
from tests.modules.practices.test_services import published


@pytest.fixture(autouse=True)
def catalogues(monkeypatch: pytest.MonkeyPatch) -> None:
    install_catalogue(monkeypatch, modules.practices)


async def test_recommendations_are_mailed_in_the_contacts_language(
    sessions: async_sessionmaker[AsyncSession], cities: Cities, make_user: Any
) -> None:
    await user_reading(sessions, make_user, "contact@city.example")
    async with transaction(sessions) as session:
        await published(session, cities.b)  # Riga, a peer of Nice
    async with transaction(sessions) as session:
        made = await services.recommend_peer_fiches(session, cities.a, ["security_by_design"], year=2026)
    assert len(made) == 1
    async with sessions() as session:
        mail = await session.scalar(select(MailMessage).where(MailMessage.to_address == "contact@city.example"))
    assert mail is not None
    assert mail.subject == "Bonnes pratiques recommandées pour votre ville"
    assert mail.body_text.startswith("Après votre autoévaluation, ces pratiques de villes homologues")
    assert "Riga (une ville homologue) traite « security_by_design »" in mail.body_text
    assert made[0].reason.startswith("Riga (a peer city)")  # the stored reason stays in English
