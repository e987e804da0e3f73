"""The scheduler runs the modules' periodic jobs: each when due, each in its own transaction, a failing
one without stopping the others."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.audit import record
from covenant.plugins import ActionModule, ModuleRegistry, ScheduledJob
from covenant.scheduler import Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_jobs_run_when_due_and_a_failure_does_not_stop_the_others(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    runs: list[str] = []

    async def hourly(session: AsyncSession) -> None:
        runs.append("hourly")
        record(session, actor=None, action="job.ran", entity_type="job", entity_id="hourly")

    async def broken(session: AsyncSession) -> None:
        runs.append("broken")
        raise RuntimeError("the job's service is down")

    module = ActionModule(
        slug="jobs",
        title="Jobs",
        action=8,
        summary="",
        scheduled_jobs=[
            ScheduledJob("jobs.hourly", timedelta(hours=1), hourly),
            ScheduledJob("jobs.broken", timedelta(minutes=5), broken),
        ],
    )
    clock = Clock()
    scheduler = Scheduler.for_registry(sessions, ModuleRegistry([module]))
    scheduler.clock = clock

    assert await scheduler.run_due() == ["jobs.hourly"]  # the broken one ran too, and failed
    assert runs == ["hourly", "broken"]
    clock.now += 600
    assert await scheduler.run_due() == []  # only the broken one was due again
    assert runs == ["hourly", "broken", "broken"]
    clock.now += 3600
    assert await scheduler.run_due() == ["jobs.hourly"]

    from sqlalchemy import func, select

    from covenant.audit.models import AuditEntry

    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 2
