"""The scheduler of periodic jobs: the core's sweeps and every enabled module's ``scheduled_jobs``.

One scheduler runs per deployment (``covenant scheduler``), or in-process in the embedded default. Jobs
are idempotent, so a restart that runs them again early does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from covenant.plugins import ModuleRegistry, ScheduledJob

log = structlog.get_logger(__name__)


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        jobs: Sequence[ScheduledJob],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.jobs = list(jobs)
        self.clock = clock
        self._last_run: dict[str, float] = {}
        self._stop = asyncio.Event()

    @classmethod
    def for_registry(cls, sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry) -> Scheduler:
        return cls(sessions, [job for module in registry for job in module.scheduled_jobs])

    @classmethod
    def for_deployment(cls, sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry) -> Scheduler:
        """The core's own jobs (the monitoring cycle's openings, reminders and notices; the expiry of personal
        data past its retention), then the modules'."""
        from covenant.accounts.retention import RETENTION_JOB
        from covenant.monitoring.jobs import cycle_job

        core = [cycle_job(registry), RETENTION_JOB]
        return cls(sessions, [*core, *(job for module in registry for job in module.scheduled_jobs)])

    def due(self) -> list[ScheduledJob]:
        now = self.clock()
        return [
            job
            for job in self.jobs
            if job.name not in self._last_run or now - self._last_run[job.name] >= job.every.total_seconds()
        ]

    async def run_due(self) -> list[str]:
        """Run every job that is due, each in its own transaction; a failing job is logged and retried at
        its next turn without stopping the others. Returns the names of the jobs that succeeded."""
        done: list[str] = []
        for job in self.due():
            self._last_run[job.name] = self.clock()
            try:
                async with transaction(self.sessions) as session:
                    await job.run(session)
            except Exception:
                log.exception("scheduled job failed", job=job.name)
                continue
            done.append(job.name)
        return done

    async def run_forever(self, tick_seconds: float = 30.0) -> None:
        while not self._stop.is_set():
            await self.run_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=tick_seconds)

    def stop(self) -> None:
        self._stop.set()
