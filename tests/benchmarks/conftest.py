"""A generated Covenant (benchmarks.generate) in the test database, and the app with every shipped module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.generate import GenerationReport, generate_into
from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ModuleRegistry

SHIPPED_MODULES = ["funding", "ai_review", "training", "cohesion", "practices"]
TODAY = date(2026, 6, 1)


def shipped_registry() -> ModuleRegistry:
    """The shipped modules; assessment too, from its plugin, until its entry point is registered."""
    registry = ModuleRegistry.from_entry_points(SHIPPED_MODULES)
    try:
        from modules.assessment.plugin import module as assessment
    except ImportError:  # pragma: no cover - the module is part of the repository
        return registry
    return ModuleRegistry([*registry, assessment])


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, shipped_registry(), embedded_worker=False)


@dataclass
class World:
    report: GenerationReport
    busiest: UUID
    """The public city with the most published commitments."""
    quietest: UUID
    """A public city without any published commitment."""


async def generate_world(engine: AsyncEngine, cities: int) -> World:
    report = await generate_into(engine, cities, registry=shipped_registry(), today=TODAY)
    async with engine.connect() as conn:
        busiest = await conn.scalar(
            text(
                "SELECT m.city_id FROM city_membership m JOIN commitment c ON c.city_id = m.city_id "
                "WHERE m.status = 'signatory' AND c.published_at IS NOT NULL "
                "GROUP BY m.city_id ORDER BY count(*) DESC LIMIT 1"
            )
        )
        quietest = await conn.scalar(
            text(
                "SELECT m.city_id FROM city_membership m JOIN city ON city.id = m.city_id WHERE m.status = 'signatory' "
                "AND city.authority_type = 'municipality' AND NOT EXISTS "
                "(SELECT 1 FROM commitment c WHERE c.city_id = m.city_id AND c.published_at IS NOT NULL) LIMIT 1"
            )
        )
    return World(report, as_uuid(busiest), as_uuid(quietest))


def as_uuid(value: object) -> UUID:
    """A UUID column read with raw SQL: native on PostgreSQL, 16 bytes or hex text on SQLite."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, bytes):
        return UUID(bytes=value)
    return UUID(str(value))
