"""The yearly monitoring cycle at scale (issue 10's targets): with every generated signatory and all six
modules enabled, on PostgreSQL + Redis with two worker processes —

* open: the cycle opened by the service, ``cycle.opened`` relayed and applied by every module (each opens
  its own part in bulk): timed until the last subscriber committed (target < 30 s);
* the secretariat's matrix page, signed in as an administrator (target < 300 ms);
* fill: most cities' sections marked submitted (one set-based statement standing for the cities' work);
* close: the cycle closed, ``cycle.closed`` applied by every module (each freezes its year);
* report: the year's report compiled (target < 30 s).

Workers and the relay run as separate processes (``python -m benchmarks.cycle worker|relay``) with the six
modules — the assessment module from its plugin while its entry point is not registered.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from benchmarks.generate import every_module
from covenant.config import Settings, get_settings
from covenant.db import create_engine, session_factory, transaction
from covenant.events.catalogue import Catalogue, build_catalogue
from covenant.events.models import InboxRecord, OutboxRecord
from covenant.plugins import ModuleRegistry

TARGET_OPEN_S = 30.0
TARGET_MATRIX_MS = 300.0
TARGET_REPORT_S = 30.0
SUBMITTED_SHARE = 0.85
ADMIN_EMAIL = "bench-admin@scale.example.org"
ADMIN_PASSWORD = "benchmark admin password 2026"  # noqa: S105 - a local benchmark database only


def six_modules() -> ModuleRegistry:
    return every_module(get_settings().modules)


# -- the processes -------------------------------------------------------------------------------------


def run_worker(threads: int) -> None:
    from benchmarks.events import _stop_event
    from covenant.events import broker as brokers
    from covenant.events.consumer import Consumers
    from covenant.events.runtime import start_worker

    settings = get_settings()
    catalogue = build_catalogue(six_modules())
    broker = brokers.install_broker(settings)
    Consumers(settings, catalogue, broker).declare()
    stop = _stop_event()
    worker = start_worker(broker, catalogue.queues, threads=threads)
    print("worker ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()


def run_relay() -> None:
    from benchmarks.events import _stop_event
    from covenant.events import broker as brokers
    from covenant.events.relay import Relay

    settings = get_settings()
    catalogue = build_catalogue(six_modules())

    async def main() -> None:
        engine = create_engine(settings)
        broker = brokers.install_broker(settings)
        for queue in catalogue.queues:
            broker.declare_queue(queue)
        relay = Relay(session_factory(engine), broker, catalogue, poll_seconds=settings.relay_poll_seconds)
        stop = _stop_event()
        task = asyncio.create_task(relay.run())
        print("relay ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        relay.stop()
        await task
        broker.close()
        await engine.dispose()

    asyncio.run(main())


# -- the steps -----------------------------------------------------------------------------------------


async def applied_by_all(
    sessions: async_sessionmaker[AsyncSession], catalogue: Catalogue, name: str, limit: float = 600
) -> float:
    """Seconds until every subscriber of the last ``name`` event has applied it."""
    started = time.perf_counter()
    subscribers = {s.name for s in catalogue.subscribers_of(name)}
    while True:
        async with sessions() as session:
            event_id = await session.scalar(
                select(OutboxRecord.event_id).where(OutboxRecord.name == name).order_by(OutboxRecord.id.desc())
            )
            done = set(await session.scalars(select(InboxRecord.subscriber).where(InboxRecord.event_id == event_id)))
        if event_id is not None and subscribers <= done:
            return time.perf_counter() - started
        if time.perf_counter() - started > limit:
            raise TimeoutError(f"{name}: {sorted(subscribers - done)} still pending after {limit:.0f} s")
        await asyncio.sleep(0.1)


async def matrix_page(settings: Settings, registry: ModuleRegistry, year: int, requests: int = 15) -> dict[str, Any]:
    """The matrix page as an administrator: median and worst of ``requests`` requests (after one warm-up)."""
    from litestar.testing import AsyncTestClient

    from covenant.app import create_app

    app = create_app(settings, registry, embedded_worker=False)
    timings: list[float] = []
    async with AsyncTestClient(app=app) as client:
        await client.get("/login")
        response = await client.post(
            "/login",
            data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            headers={"x-csrftoken": client.cookies.get("covenant_csrf") or ""},
            follow_redirects=False,
        )
        if response.status_code != 303:
            raise RuntimeError(f"could not sign in as the benchmark administrator: {response.status_code}")
        url = f"/admin/monitoring/{year}/matrix"
        for n in range(requests + 1):
            started = time.perf_counter()
            response = await client.get(url if n % 3 else f"{url}?page={1 + n % 7}")
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
            if n:
                timings.append((time.perf_counter() - started) * 1000)
    return {
        "requests": requests,
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "ok": statistics.median(timings) < TARGET_MATRIX_MS,
    }


async def load(session: AsyncSession, year: int) -> Any:
    from covenant.monitoring import services

    cycle = await services.cycle_by_year(session, year)
    if cycle is None:
        raise RuntimeError(f"the {year} cycle disappeared")
    return cycle


async def ensure_admin(sessions: async_sessionmaker[AsyncSession]) -> None:
    from covenant.accounts import services as accounts

    async with transaction(sessions) as session:
        if await accounts.user_by_email(session, ADMIN_EMAIL) is None:
            user = await accounts.create_user(
                session, email=ADMIN_EMAIL, display_name="Benchmark admin", password=ADMIN_PASSWORD, actor=None
            )
            await accounts.grant_role(session, user, role="admin", actor=None)


async def cycle_run(settings: Settings, *, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Open, matrix, fill, close and report, on the database of ``settings`` (workers already running)."""
    from covenant.monitoring import services
    from covenant.monitoring.report import compile_report
    from covenant.monitoring.schemas import CycleInput

    registry = six_modules()
    catalogue = build_catalogue(registry)
    engine: AsyncEngine = create_engine(settings)
    sessions = session_factory(engine)
    result: dict[str, Any] = {"modules": registry.slugs}
    try:
        await ensure_admin(sessions)
        async with sessions() as session:
            latest = await session.scalar(text("SELECT max(year) FROM monitoring_cycle"))
            result["signatories"] = int(
                await session.scalar(text("SELECT count(*) FROM city_membership WHERE status = 'signatory'")) or 0
            )
        year = max(date.today().year, (latest or 0) + 1)
        today = date.today()
        async with transaction(sessions) as session:
            cycle = await services.create_cycle(
                session,
                CycleInput(
                    year=year,
                    opens_on=today,
                    submission_deadline=today + timedelta(days=60),
                    validation_deadline=today + timedelta(days=90),
                ),
                registry=registry,
                actor=None,
            )
        cycle_id: UUID = cycle.id
        result["year"] = year

        started = time.perf_counter()
        async with transaction(sessions) as session:
            cycle = await load(session, year)
            created = await services.open_cycle(session, cycle, registry=registry, actor=None)
        opened = time.perf_counter() - started
        applied = await applied_by_all(sessions, catalogue, "cycle.opened")
        result["open"] = {
            "sections": created,
            "core_seconds": round(opened, 2),
            "seconds": round(opened + applied, 2),
            "ok": opened + applied < TARGET_OPEN_S,
        }
        echo(f"  open: {created:,} sections, every module's part in {opened + applied:.1f} s")

        result["matrix"] = await matrix_page(settings, registry, year)
        echo(f"  matrix page: median {result['matrix']['median_ms']} ms")

        started = time.perf_counter()
        async with transaction(sessions) as session:
            filled = await session.execute(
                text(
                    "UPDATE monitoring_section SET status = 'submitted', completeness = 100, submitted_at = now() "
                    "WHERE cycle_id = :cycle AND abs(hashtext(city_id::text)) % 100 < :share"
                ),
                {"cycle": cycle_id, "share": int(SUBMITTED_SHARE * 100)},
            )
        result["fill"] = {
            "sections_submitted": int(getattr(filled, "rowcount", 0) or 0),
            "seconds": round(time.perf_counter() - started, 2),
        }

        started = time.perf_counter()
        async with transaction(sessions) as session:
            cycle = await load(session, year)
            await services.close_cycle(session, cycle, confirm=True, actor=None)
        closed = time.perf_counter() - started
        applied = await applied_by_all(sessions, catalogue, "cycle.closed")
        result["close"] = {"core_seconds": round(closed, 2), "seconds": round(closed + applied, 2)}
        echo(f"  close: every module froze its year in {closed + applied:.1f} s")

        started = time.perf_counter()
        async with transaction(sessions) as session:
            cycle = await load(session, year)
            await compile_report(session, cycle, registry=registry, actor=None)
        compiled = time.perf_counter() - started
        result["report"] = {"seconds": round(compiled, 2), "ok": compiled < TARGET_REPORT_S}
        echo(f"  report compiled in {compiled:.1f} s")
        async with sessions() as session:
            sections = text("SELECT count(*) FROM monitoring_section WHERE cycle_id = :c")
            result["sections_total"] = int(await session.scalar(sections, {"c": cycle_id}) or 0)
            result["outbox_rows"] = int(await session.scalar(select(func.count()).select_from(OutboxRecord)) or 0)
    finally:
        await engine.dispose()
    result["targets"] = {"open_s": TARGET_OPEN_S, "matrix_ms": TARGET_MATRIX_MS, "report_s": TARGET_REPORT_S}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Processes of the monitoring-cycle benchmark.")
    parser.add_argument("role", choices=("worker", "relay"))
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if args.role == "worker":
        run_worker(args.threads)
    else:
        run_relay()


if __name__ == "__main__":
    main()
