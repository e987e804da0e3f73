"""Fixtures of the convention calendar tests: cities, an edition, mayors' offices, API tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import covenant.calendar.handlers  # noqa: F401 - registers the core subscription to deadline.announced
from covenant.accounts import services as accounts
from covenant.accounts.models import User
from covenant.calendar import services
from covenant.calendar.models import ConventionEdition, EditionStatus
from covenant.calendar.schemas import EditionForm
from covenant.cities.models import City, SizeClass
from covenant.db import new_id, transaction


async def add_city(sessions: async_sessionmaker[AsyncSession], name: str, country: str = "FR") -> UUID:
    async with transaction(sessions) as session:
        city = City(id=new_id(), name=name, country_code=country, population=300_000, size_class=SizeClass.of(300_000))
        session.add(city)
    return city.id


@pytest.fixture
def cities(sessions: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[UUID]]:
    async def make(name: str, country: str = "FR") -> UUID:
        return await add_city(sessions, name, country)

    return make


@pytest.fixture
def make_edition(sessions: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[ConventionEdition]]:
    async def make(
        year: int = 2027,
        *,
        capacity: int = 2,
        status: EditionStatus = EditionStatus.registration_open,
        host_city_id: UUID | None = None,
    ) -> ConventionEdition:
        form = EditionForm(
            year=year,
            title=f"Convention {year}",
            host_city_id=host_city_id,
            starts_on=date(year, 5, 19),
            ends_on=date(year, 5, 20),
            timezone="Europe/Brussels",
            venue="Lamot",
            theme="Safe public spaces",
            status=status,
            capacity=capacity,
        )
        async with transaction(sessions) as session:
            return await services.create_edition(session, form, actor=None)

    return make


async def bearer_for(sessions: async_sessionmaker[AsyncSession], user: User) -> dict[str, str]:
    async with transaction(sessions) as session:
        created: Any = await accounts.create_api_token(session, user, name="test", expires_at=None, actor=None)
    return {"Authorization": f"Bearer {created.secret}"}
