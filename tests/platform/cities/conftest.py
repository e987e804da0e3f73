"""Cities, memberships, people and API tokens for the city-registry tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
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
from covenant.cities import services
from covenant.cities.models import City, SizeClass
from covenant.cities.schemas import ApplicationForm, DecisionForm
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry

MakeUser = Callable[..., Awaitable[Any]]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The core plus the test module, so ``testmodule`` is a known module slug for invitations."""
    return create_app(settings, ModuleRegistry([testmodule]), embedded_worker=False)


@dataclass
class Cities:
    a: UUID
    b: UUID


async def add_city(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    country: str,
    population: int,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
) -> UUID:
    async with transaction(sessions) as session:
        city = City(
            name=name,
            country_code=country,
            population=population,
            size_class=SizeClass.of(population).value,
            region="",
            latitude=latitude,
            longitude=longitude,
        )
        session.add(city)
        await session.flush()
        return city.id


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """City A (Nice, FR) and city B (Riga, LV), in the registry, not yet members."""
    return Cities(
        a=await add_city(sessions, "Nice", "FR", 342_669, latitude=43.70, longitude=7.27),
        b=await add_city(sessions, "Riga", "LV", 742_572, latitude=56.95, longitude=24.11),
    )


def application(**overrides: Any) -> ApplicationForm:
    values: dict[str, Any] = {
        "adhesion_date": date(2024, 3, 18),
        "mayor": "Hélène Barbier",
        "mandate_end": date(2026, 6, 30),
        "contact_name": "Julien Morel",
        "contact_email": "contact@nice.example",
    }
    return ApplicationForm(**(values | overrides))


async def make_member(
    sessions: async_sessionmaker[AsyncSession], city_id: UUID, status: str = "signatory", applicant: Any = None
) -> None:
    """Take the city through the real lifecycle up to ``status``."""
    async with transaction(sessions) as session:
        city = await session.get(City, city_id)
        assert city is not None
        await services.apply(session, city, application(), actor=applicant)
        if status in ("signatory", "suspended", "withdrawn"):
            await services.decide(session, city, "accept", DecisionForm(), actor=None)
        if status == "suspended":
            await services.decide(
                session, city, "suspend", DecisionForm(reason="No report", notice_date=date(2025, 1, 10)), actor=None
            )
        if status == "withdrawn":
            await services.decide(session, city, "withdraw", DecisionForm(), actor=None)
        if status == "rejected":
            await services.decide(session, city, "reject", DecisionForm(reason="Unsigned letter"), actor=None)


async def api_token(sessions: async_sessionmaker[AsyncSession], email: str) -> dict[str, str]:
    """A Bearer header for the user with that e-mail address."""
    async with transaction(sessions) as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        created = await accounts.create_api_token(session, user, name="test", expires_at=None, actor=None)
    return {"Authorization": f"Bearer {created.secret}"}
