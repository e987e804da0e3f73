"""The app with the cohesion module, and two cities."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ModuleRegistry
from modules.cohesion.plugin import module
from tests.platform.commitments.conftest import add_city


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([module]), embedded_worker=False)


@dataclass
class Cities:
    a: UUID
    b: UUID


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    return Cities(
        a=await add_city(sessions, "Mechelen", "BE", 87_000), b=await add_city(sessions, "Riga", "LV", 605_000)
    )
