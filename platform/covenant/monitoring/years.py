"""What a module does with the yearly cycle, from its own ``cycle.opened`` and ``cycle.closed`` handlers
(``modules/<slug>/cycle.py``).

- :func:`open_year` records that the module's year is open (idempotent; a reopened cycle lifts the freeze);
  :func:`required_cities` is the set of cities whose section the module owes, for set-based preparation
  (``INSERT … SELECT``) of the module's own rows;
- :func:`close_year` freezes the year with the module's report section as it stands: the yearly report uses
  the frozen section, so later changes to the module's data no longer alter a closed year;
- :func:`year_is_closed` lets a module refuse edits that belong to a closed year;
- :func:`database_id` makes ids inside an ``INSERT … SELECT`` (one per row, in the database).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.monitoring.events import CycleOpened
from covenant.monitoring.models import CycleStatus, ModuleYear, MonitoringCycle, MonitoringSection
from covenant.plugins import ReportSection


def database_id(session: AsyncSession) -> Any:
    """A new id per inserted row, made by the database: a UUIDv7 on PostgreSQL, 16 random bytes on SQLite
    (what advanced-alchemy's GUID stores there). For set-based inserts, where no Python code sees each row."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column(
            "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
            "substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) "
            "from 1 for 6), 52, 1), 53, 1), 'hex')::uuid"
        )
    return func.randomblob(16)


def jsonable(value: Any) -> Any:
    """Plain JSON (dates and decimals as text), for the JSON columns."""
    return json.loads(json.dumps(value, default=str))


def report_dict(section: ReportSection) -> dict[str, Any]:
    data: dict[str, Any] = jsonable(asdict(section))
    return data


async def module_year(session: AsyncSession, module: str, year: int) -> ModuleYear | None:
    row: ModuleYear | None = await session.scalar(
        select(ModuleYear).where(ModuleYear.module == module, ModuleYear.year == year)
    )
    return row


def required_cities(event: CycleOpened, module: str) -> Select[tuple[Any]]:
    """The ids of the cities whose section of ``module`` this cycle opened (a subquery for bulk work)."""
    return select(MonitoringSection.city_id).where(
        MonitoringSection.cycle_id == event.cycle_id, MonitoringSection.module == module
    )


async def _cycle_status(session: AsyncSession, year: int) -> str | None:
    status: str | None = await session.scalar(select(MonitoringCycle.status).where(MonitoringCycle.year == year))
    return status


async def open_year(session: AsyncSession, module: str, event: CycleOpened, *, prepared: int = 0) -> ModuleYear:
    """Record the module's year as open, with how many sections it has. Idempotent, and safe in any order:
    the freeze is lifted only while the cycle really is open (a late ``cycle.opened`` of a cycle closed
    since changes nothing)."""
    sections = int(
        await session.scalar(
            select(func.count()).where(MonitoringSection.cycle_id == event.cycle_id, MonitoringSection.module == module)
        )
        or 0
    )
    row = await module_year(session, module, event.year)
    if row is None:
        row = ModuleYear(module=module, year=event.year, opened_at=datetime.now(UTC))
        session.add(row)
    row.sections = sections
    row.prepared = max(row.prepared or 0, prepared)
    if await _cycle_status(session, event.year) == CycleStatus.open:
        row.closed_at = None
        row.report = None
    return row


async def close_year(session: AsyncSession, module: str, year: int, report: ReportSection | None) -> ModuleYear:
    """Freeze the module's year with its report section. The first freeze wins (a redelivered event
    changes nothing); a reopened cycle's ``cycle.opened`` lifts it, and a late ``cycle.closed`` of a cycle
    reopened since changes nothing."""
    row = await module_year(session, module, year)
    now = datetime.now(UTC)
    if row is None:
        row = ModuleYear(module=module, year=year, opened_at=now)
        session.add(row)
    if row.closed_at is None and await _cycle_status(session, year) == CycleStatus.closed:
        row.closed_at = now
        row.report = report_dict(report) if report is not None else None
    return row


async def year_is_closed(session: AsyncSession, module: str, year: int) -> bool:
    row = await module_year(session, module, year)
    return row is not None and row.closed_at is not None
