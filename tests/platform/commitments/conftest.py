"""Cities, editors and API tokens for the commitments tests (cities are inserted directly)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from covenant_testmodule.plugin import module as testmodule
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import services as accounts
from covenant.accounts.models import User
from covenant.app import create_app
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry

MakeUser = Callable[..., Awaitable[Any]]


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The core plus the test module, so ``testmodule`` is a known action-module slug."""
    return create_app(settings, ModuleRegistry([testmodule]), embedded_worker=False)


def commitment_fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Safer squares for everyone",
        "description": "Redesign the main squares with residents.",
        "language": "en",
        "priority": "urban_planning",
        "modules": [],
        "indicator": "Squares redesigned",
        "baseline": 0,
        "target_value": 10,
        "unit": "squares",
        "start_date": date(2025, 1, 1).isoformat(),
        "due_date": date(2026, 12, 31).isoformat(),
        "weight": 1,
    }
    return values | overrides


@dataclass
class Cities:
    a: UUID
    b: UUID


async def add_city(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    country: str,
    population: int,
    status: MembershipStatus | None = MembershipStatus.signatory,
) -> UUID:
    """A registry city; by default an active signatory (only those may publish commitments)."""
    async with transaction(sessions) as session:
        city = City(
            name=name, country_code=country, population=population, size_class=SizeClass.of(population), region=""
        )
        session.add(city)
        await session.flush()
        if status is not None:
            session.add(
                Membership(
                    city_id=city.id,
                    status=status,
                    adhesion_date=date(2024, 1, 15),
                    mayor="Mayor",
                    contact_name="Contact",
                    contact_email="contact@city.example",
                    applied_at=datetime.now(UTC),
                )
            )
        return city.id


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """City A (Nice, FR) and city B (Riga, LV)."""
    return Cities(
        a=await add_city(sessions, "Nice", "FR", 342_000),
        b=await add_city(sessions, "Riga", "LV", 605_000),
    )


async def api_token(sessions: async_sessionmaker[AsyncSession], email: str) -> dict[str, str]:
    """A Bearer header for the user with that e-mail address."""
    async with transaction(sessions) as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        token = await accounts.create_api_token(session, user, name="tests", expires_at=None, actor=None)
    return {"Authorization": f"Bearer {token.secret}"}
