"""The funding module mounted on the core; two signatory cities; programmes loaded; helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.commitments import services as commitments
from covenant.commitments.schemas import CommitmentInput
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry
from modules.funding import services
from modules.funding.plugin import module as funding
from modules.funding.schemas import CallInput


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([funding]), embedded_worker=False)


async def add_city(sessions: async_sessionmaker[AsyncSession], name: str, country: str, population: int) -> UUID:
    async with transaction(sessions) as session:
        city = City(
            name=name,
            country_code=country,
            population=population,
            size_class=SizeClass.of(population),
            region="",
            contact_email=f"contact@{name.lower()}.example",
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


class Cities:
    def __init__(self, a: UUID, b: UUID) -> None:
        self.a = a
        self.b = b


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """A: Nice (FR, 342,000); B: Riga (LV, 605,000). Programmes loaded."""
    async with transaction(sessions) as session:
        await services.load_programmes(session)
    return Cities(a=await add_city(sessions, "Nice", "FR", 342_000), b=await add_city(sessions, "Riga", "LV", 605_000))


def call_fields(**overrides: Any) -> dict[str, Any]:
    on = date.today()
    values: dict[str, Any] = {
        "identifier": "ISF-2026-PROTECT",
        "title": "Protection of public spaces",
        "programme": "ISF-POLICE",
        "opening_date": (on - timedelta(days=5)).isoformat(),
        "deadlines": [(on + timedelta(days=40)).isoformat()],
        "budget_cents": 500_000_000,
        "themes": ["public_spaces", "prevention"],
        "applicant_types": ["local_authority"],
    }
    return values | overrides


async def add_call(sessions: async_sessionmaker[AsyncSession], **overrides: Any) -> UUID:
    async with transaction(sessions) as session:
        call, _ = await services.save_call(session, CallInput.model_validate(call_fields(**overrides)), actor=None)
        return call.id


async def publish_commitment(
    sessions: async_sessionmaker[AsyncSession],
    city_id: UUID,
    priority: str = "security_public_spaces",
    modules: list[str] | None = None,
    title: str = "Safer squares",
) -> UUID:
    async with transaction(sessions) as session:
        data = CommitmentInput.model_validate(
            {
                "title": title,
                "priority": priority,
                "modules": modules or [],
                "start_date": "2025-01-01",
                "due_date": "2027-12-31",
            }
        )
        c = await commitments.create_commitment(
            session, city_id, data, actor=None, known_modules=["funding", "cohesion", "training"]
        )
        await commitments.publish_commitment(session, c, actor=None)
        return c.id


async def api_token(sessions: async_sessionmaker[AsyncSession], email: str) -> dict[str, str]:
    """A Bearer header for the user with that e-mail address (the API does not take session cookies for writes)."""
    from sqlalchemy import select

    from covenant.accounts import services as accounts
    from covenant.accounts.models import User

    async with transaction(sessions) as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        token = await accounts.create_api_token(session, user, name="tests", expires_at=None, actor=None)
    return {"Authorization": f"Bearer {token.secret}"}
