"""The core with the five action modules, signatory cities of every size, and helpers to drive a cycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from covenant.app import create_app
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.config import Settings
from covenant.db import transaction
from covenant.plugins import ModuleRegistry
from modules.ai_review.plugin import module as ai_review
from modules.assessment.plugin import module as assessment
from modules.cohesion.plugin import module as cohesion
from modules.funding.plugin import module as funding
from modules.practices.plugin import module as practices
from modules.training.plugin import module as training
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
SIX = (assessment, funding, ai_review, training, cohesion, practices)
SLUGS = [m.slug for m in SIX]
TODAY = datetime.now(UTC).date()
YEAR = TODAY.year


@pytest.fixture
def registry() -> ModuleRegistry:
    """The six action modules."""
    return ModuleRegistry(SIX)


@pytest.fixture
def bus_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"dramatiq_max_retries": 3, "dramatiq_min_backoff_ms": 10, "relay_poll_seconds": 0.2, "modules": SLUGS}
    )


@pytest.fixture
def app(settings: Settings, registry: ModuleRegistry) -> Litestar:
    return create_app(settings, registry, embedded_worker=False)


async def add_city(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    country: str,
    population: int,
    status: MembershipStatus | None = MembershipStatus.signatory,
    adhesion: date = date(2023, 3, 1),
) -> UUID:
    """A registry city with its own contact address (contact@<name>.example), a signatory by default."""
    slug = name.lower().replace(" ", "-")
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
                    adhesion_date=adhesion,
                    mayor="Mayor",
                    contact_name="Contact",
                    contact_email=f"contact@{slug}.example",
                    applied_at=datetime.now(UTC),
                )
            )
        return city.id


@dataclass
class Cities:
    nice: UUID
    """FR, 342,000: 250k to 500k."""
    riga: UUID
    """LV, 605,000: 500k to 1m."""
    faenza: UUID
    """IT, 45,000: below 50k."""
    graz: UUID
    """Suspended: no section, not counted."""
    gdansk: UUID
    """An application pending: no section."""


@pytest.fixture
async def cities(sessions: async_sessionmaker[AsyncSession]) -> Cities:
    return Cities(
        nice=await add_city(sessions, "Nice", "FR", 342_000, adhesion=date(2019, 3, 18)),
        riga=await add_city(sessions, "Riga", "LV", 605_000, adhesion=date(2021, 5, 1)),
        faenza=await add_city(sessions, "Faenza", "IT", 45_000, adhesion=date(2023, 9, 9)),
        graz=await add_city(sessions, "Graz", "AT", 290_000, MembershipStatus.suspended),
        gdansk=await add_city(sessions, "Gdansk", "PL", 470_000, MembershipStatus.applied),
    )


def cycle_form(year: int = YEAR, **overrides: Any) -> dict[str, Any]:
    """The admin's create form: commitments of everyone, practices of mid-sized and large cities, the other
    five modules of large cities only (small towns are asked for less)."""
    required = [f"commitments:{s.value}" for s in SizeClass]
    required += [f"practices:{s}" for s in ("250k_500k", "500k_1m", "above_1m")]
    large = ("500k_1m", "above_1m")
    required += [f"{m}:{s}" for m in ("assessment", "funding", "ai_review", "training", "cohesion") for s in large]
    values: dict[str, Any] = {
        "year": str(year),
        "opens_on": (TODAY - timedelta(days=10)).isoformat(),
        "submission_deadline": (TODAY + timedelta(days=20)).isoformat(),
        "validation_deadline": (TODAY + timedelta(days=40)).isoformat(),
        "grace_days": "30",
        "reminder_days": "20, 7, 1",
        "required": required,
    }
    return values | overrides


async def signed_in_as(
    client: Client, make_user: Callable[..., Awaitable[Any]], email: str, roles: list[tuple[str, dict[str, Any]]]
) -> None:
    await make_user(email, roles=roles)
    await client.post("/logout", headers=csrf_headers(client))
    client.cookies.clear()
    response = await sign_in(client, email)
    assert response.status_code == 303, response.text


async def post_form(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
    if not client.cookies.get("covenant_csrf"):
        await client.get("/")
    return await client.post(path, data=data or {}, headers=csrf_headers(client), follow_redirects=False)


class StatementCounter:
    """Counts the SQL statements an engine runs (by their first words), for the bulk-opening check."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.statements: list[tuple[str, bool]] = []

    def _listen(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        self.statements.append((" ".join(statement.split()), executemany))

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._listen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._listen)

    def matching(self, prefix: str) -> list[tuple[str, bool]]:
        return [s for s in self.statements if s[0].upper().startswith(prefix.upper())]
