"""The monitoring cycle's periodic job: open a cycle on its opening date, send the reminder rounds that are
due, and send the written notices once the validation deadline has passed. Idempotent: every step checks
what was already done (cycle status, reminder log, one notice per city)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.monitoring import services
from covenant.monitoring.models import CycleStatus, MonitoringCycle
from covenant.plugins import ModuleRegistry, ScheduledJob

log = structlog.get_logger(__name__)

JOB_NAME = "monitoring.cycle"


async def run_cycle_job(session: AsyncSession, registry: ModuleRegistry, today: date | None = None) -> dict[str, int]:
    """One pass; returns what it did (for logs and tests)."""
    today = today or datetime.now(UTC).date()
    done = {"opened": 0, "reminded": 0, "noticed": 0}
    drafts = await session.scalars(
        select(MonitoringCycle).where(MonitoringCycle.status == CycleStatus.draft, MonitoringCycle.opens_on <= today)
    )
    for cycle in list(drafts):
        await services.open_cycle(session, cycle, registry=registry, actor=None)
        done["opened"] += 1
        log.info("monitoring cycle opened by the scheduler", year=cycle.year)
    for cycle in await services.open_cycles(session):
        due = await services.due_reminder_days(session, cycle, today)
        if due:
            cities, _mails = await services.send_reminders(
                session, cycle, registry=registry, days_before=due, today=today
            )
            done["reminded"] += cities
        if today > cycle.validation_deadline:
            done["noticed"] += await services.send_notices(session, cycle, actor=None, today=today)
    return done


def cycle_job(registry: ModuleRegistry) -> ScheduledJob:
    async def run(session: AsyncSession) -> None:
        await run_cycle_job(session, registry)

    return ScheduledJob(JOB_NAME, timedelta(hours=1), run)
