"""Helpers of the modules' mail-language tests: the module's catalogue installed, a user who reads French."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant import i18n
from covenant.accounts.models import User
from covenant.db import transaction


def install_catalogue(monkeypatch: pytest.MonkeyPatch, package: ModuleType) -> None:
    """Translate with the core's catalogues and ``package``'s (a module's), as the app does."""
    slug = package.__name__.rpartition(".")[2]
    locale_dir = Path(package.__file__ or "").parent / "locale"
    monkeypatch.setattr(i18n, "_catalogues", i18n.Catalogues([(slug, locale_dir)]))


async def user_reading(
    sessions: async_sessionmaker[AsyncSession], make_user: Any, email: str, locale: str = "fr"
) -> None:
    """An account at ``email`` whose saved language is ``locale``."""
    await make_user(email)
    async with transaction(sessions) as session:
        await session.execute(update(User).where(User.email == email).values(locale=locale))
