"""The ceiling renders exactly what the app renders: same templates, same context, from memory."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.ceiling import Target, build_ceiling, capture
from covenant.config import Settings
from tests.benchmarks.conftest import generate_world, shipped_registry

pytestmark = pytest.mark.backend


async def test_the_ceiling_answers_byte_for_byte_like_the_app(settings: Settings, engine: AsyncEngine) -> None:
    world = await generate_world(engine, 60)
    targets = [
        Target("/cities?page=2"),
        Target(f"/cities/{world.busiest}"),
        Target("/m/practices/"),
        Target("/api/v1/cities?sort=population", "covenant.cities.schemas:CityList"),
    ]
    registry = shipped_registry()
    snapshots = await capture(settings, registry, targets)
    assert snapshots[f"/cities/{world.busiest}"].template == "cities/profile.html"

    from covenant.app import create_app

    app = create_app(settings, registry, embedded_worker=False)
    ceiling = build_ceiling(snapshots, registry)
    async with AsyncTestClient(app=app) as real, AsyncTestClient(app=ceiling) as bare:
        for target in targets:
            ours, theirs = await real.get(target.url), await bare.get(target.url)
            assert theirs.status_code == 200, target.url
            if target.model:
                assert theirs.json() == ours.json()
            else:
                assert theirs.text == ours.text, target.url
        assert (await bare.get("/cities?page=3")).status_code == 404  # not captured: no database behind it
