"""Fixtures of the training tests: the app with the module, two signatory cities, their contributors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry
from modules.training import services
from modules.training.plugin import module as training


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([training]), embedded_worker=False)


async def add_city(sessions: async_sessionmaker[AsyncSession], name: str, country: str, population: int) -> UUID:
    async with transaction(sessions) as session:
        city = City(
            name=name, country_code=country, population=population, size_class=SizeClass.of(population), region=""
        )
        session.add(city)
        await session.flush()
        session.add(
            Membership(
                city_id=city.id,
                status=MembershipStatus.signatory,
                adhesion_date=date(2024, 1, 15),
                mayor="Mayor",
                contact_name="Contact",
                contact_email="contact@city.example",
                applied_at=datetime.now(UTC),
            )
        )
        return city.id


@dataclass
class Cities:
    a: UUID
    b: UUID


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """City A (Mechelen) and city B (Faenza), with the competence matrix installed."""
    a = await add_city(sessions, "Mechelen", "BE", 87_000)
    b = await add_city(sessions, "Faenza", "IT", 59_000)
    async with transaction(sessions) as session:
        await services.ensure_matrix(session)
    return Cities(a, b)
