"""Benchmark of the benchmarking dashboard (issue 4): the profile page of one city with peer statistics over a
10,000-city cohort of one year, on SQLite. Target: under 100 ms at the median.

It migrates a fresh SQLite file, bulk-loads 10,000 cities with submitted responses and score rows on the
shipped framework (scores drawn at random: the page reads them, it does not compute them), signs an
administrator in and requests the dashboard of one city ``repeat`` times through the ASGI app. The first
request fills the per-process cohort cache and is reported separately. Run
``python benchmarks/assessment_dashboard.py`` (prints JSON) or call :func:`run`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT / "platform"), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

import numpy as np  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from covenant.cities.models import City, SizeClass  # noqa: E402
from covenant.config import Settings  # noqa: E402
from covenant.db import create_engine, new_id, session_factory, transaction  # noqa: E402

TARGET_SECONDS = 0.1
YEAR = 2025
PASSWORD = "bench password 123"  # noqa: S105 - a throwaway account in a temporary database
SECRET = "benchmark-secret-key-that-is-long-enough-for-signing"  # noqa: S105 - same


async def _load(settings: Settings, n_cities: int, seed: int) -> Any:
    from covenant.accounts import services as accounts
    from modules.assessment import services
    from modules.assessment.models import AssessmentResponse, AssessmentScore, ScoreSharing

    rng = np.random.default_rng(seed)
    engine = create_engine(settings)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    async with transaction(sessions) as session:
        version = await services.ensure_default_framework(session)
        assert version is not None
        framework = services.framework_of(version)
        populations = np.exp(rng.uniform(np.log(5_000), np.log(3_000_000), n_cities)).astype(int)
        countries = rng.choice(["BE", "FR", "ES", "IT", "DE", "NL", "PL", "PT"], n_cities)
        cities = [
            {
                "id": new_id(),
                "name": f"City {i:05d}",
                "country_code": str(countries[i]),
                "population": int(populations[i]),
                "size_class": SizeClass.of(int(populations[i])).value,
                "region": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n_cities)
        ]
        responses = [
            {
                "id": new_id(),
                "city_id": c["id"],
                "year": YEAR,
                "framework_version_id": version.id,
                "language": "en",
                "status": "submitted",
                "submitted_at": now,
                "generated": True,
                "created_at": now,
                "updated_at": now,
            }
            for c in cities
        ]
        codes = framework.indicator_codes
        dimensions = [d.code for d in framework.dimensions]
        scores: list[dict[str, Any]] = []
        for c, r in zip(cities, responses, strict=True):
            normalised = dict(zip(codes, np.round(rng.uniform(0, 1, len(codes)), 4).tolist(), strict=True))
            dims = dict(zip(dimensions, np.round(rng.uniform(0, 100, len(dimensions)), 2).tolist(), strict=True))
            scores.append(
                {
                    "id": new_id(),
                    "response_id": r["id"],
                    "city_id": c["id"],
                    "year": YEAR,
                    "framework_version_id": version.id,
                    "size_class": c["size_class"],
                    "country_code": c["country_code"],
                    "index": float(np.mean(list(dims.values()))),
                    "coverage": 1.0,
                    "dimensions": dims,
                    "normalised": normalised,
                    "missing": [],
                    "cohort_size": n_cities,
                    "computed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for table, rows in ((City, cities), (AssessmentResponse, responses), (AssessmentScore, scores)):
            for start in range(0, len(rows), 1_000):
                await session.execute(insert(table).values(rows[start : start + 1_000]))
        shared = [
            {"id": new_id(), "city_id": c["id"], "shared": True, "created_at": now, "updated_at": now}
            for c in cities[::50]
        ]
        await session.execute(insert(ScoreSharing).values(shared))
        user = await accounts.create_user(
            session, email="bench@secretariat.eu", display_name="Bench", password=PASSWORD, actor=None
        )
        await accounts.grant_role(session, user, role="admin", actor=None)
    await engine.dispose()
    return cities[len(cities) // 2]["id"]


async def _measure(settings: Settings, city_id: Any, repeat: int) -> dict[str, float]:
    from litestar.testing import AsyncTestClient

    from covenant.app import create_app
    from covenant.plugins import ModuleRegistry
    from modules.assessment.plugin import module

    app = create_app(settings, ModuleRegistry([module]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        await client.get("/login")
        await client.post(
            "/login",
            data={"email": "bench@secretariat.eu", "password": PASSWORD},
            headers={"x-csrftoken": client.cookies.get("covenant_csrf") or ""},
        )
        url = f"/m/assessment/cities/{city_id}/benchmark/"
        start = time.perf_counter()
        first = await client.get(url)
        cold = time.perf_counter() - start
        assert first.status_code == 200, first.status_code
        timings = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = await client.get(url)
            timings.append(time.perf_counter() - start)
            assert response.status_code == 200
    return {"cold_seconds": cold, "median_seconds": statistics.median(timings), "max_seconds": max(timings)}


def run(n_cities: int = 10_000, repeat: int = 30, seed: int = 0) -> dict[str, object]:
    """Load the cohort into a temporary SQLite file and time the dashboard; returns the timings and whether
    the median met the 100 ms target."""
    from alembic import command

    from covenant.cli import alembic_config

    with tempfile.TemporaryDirectory(prefix="covenant-dashboard-bench-") as directory:
        url = f"sqlite+aiosqlite:///{directory}/bench.db"
        command.upgrade(alembic_config(url), "head")
        settings = Settings(
            var_dir=Path(directory) / "var",
            database_url=url,
            secret_key=SECRET,
            modules=["assessment"],
        )
        city_id = asyncio.run(_load(settings, n_cities, seed))
        timings = asyncio.run(_measure(settings, city_id, repeat))
    return {
        "dashboard": {
            "cohort": n_cities,
            "requests": repeat,
            **{key: round(value, 4) for key, value in timings.items()},
            "target_seconds": TARGET_SECONDS,
            "ok": timings["median_seconds"] < TARGET_SECONDS,
        }
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
