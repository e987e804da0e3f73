"""The practices module mounted on the core, two signatory cities, and helpers for fiches and images."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry
from modules.practices.plugin import module as practices


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([practices]), embedded_worker=False)


def fiche_fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "Bollards that double as benches on Place Masséna",
        "project": "PACTESUR",
        "summary": "Protective street furniture on the main square.",
        "place_kind": "square",
        "problem": "The square was exposed to vehicle-ramming attacks.",
        "measures": ["hostile_vehicle_mitigation", "street_furniture"],
        "partnership": "City, police and residents.",
        "outcome": "Protected square, still open and lively.",
        "cost_range": "100k_1m",
        "duration_months": 18,
        "difficulties": "Underground networks.",
        "lessons": "Start with the assessment.",
        "links": ["https://www.pactesur.eu/"],
        "tags": ["ISF"],
        "language": "en",
        "languages": ["en", "fr"],
        "year": 2021,
    }
    return values | overrides


def indicator_fields(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Vehicle access points left open",
        "unit": "points",
        "baseline_value": 12,
        "baseline_date": date(2019, 1, 1).isoformat(),
        "after_value": 0,
        "after_date": date(2021, 6, 1).isoformat(),
    }
    return values | overrides


def png_bytes(size: tuple[int, int] = (800, 600), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, fmt)
    return out.getvalue()


@dataclass
class Cities:
    a: UUID
    b: UUID


async def add_city(
    sessions: async_sessionmaker[AsyncSession], name: str, country: str, population: int, *, signatory: bool = True
) -> UUID:
    async with transaction(sessions) as session:
        city = City(
            name=name, country_code=country, population=population, size_class=SizeClass.of(population), region=""
        )
        session.add(city)
        await session.flush()
        if signatory:
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


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    """City A (Nice, FR) and city B (Riga, LV)."""
    return Cities(a=await add_city(sessions, "Nice", "FR", 342_000), b=await add_city(sessions, "Riga", "LV", 605_000))


async def api_token(sessions: async_sessionmaker[AsyncSession], email: str) -> dict[str, str]:
    """A Bearer header for the user with that e-mail address (API writes take tokens, not cookies)."""
    from sqlalchemy import select

    from covenant.accounts import services as accounts
    from covenant.accounts.models import User

    async with transaction(sessions) as session:
        user = (await session.scalars(select(User).where(User.email == email))).one()
        token = await accounts.create_api_token(session, user, name="tests", expires_at=None, actor=None)
    return {"Authorization": f"Bearer {token.secret}"}
