"""``covenant cycle`` runs a year from the command line; the demo year loads (and loads again without change)."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant import cli as cli_module
from covenant.config import Settings
from covenant.db import transaction
from covenant.monitoring.demo import load_demo
from covenant.monitoring.models import MonitoringCycle, MonitoringReport, MonitoringSection
from covenant.plugins import ModuleRegistry
from tests.platform.monitoring.conftest import TODAY, YEAR, Cities


def test_a_year_from_the_command_line(
    settings: Settings, registry: ModuleRegistry, cities: Cities, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_module, "load_settings", lambda: settings)
    monkeypatch.setattr(cli_module, "load_registry", lambda _settings: registry)
    runner = CliRunner()

    def cycle(*args: str) -> Any:
        return runner.invoke(cli_module.cli, ["cycle", *args])

    dates = [
        "--opens",
        (TODAY - timedelta(days=5)).isoformat(),
        "--deadline",
        (TODAY + timedelta(days=30)).isoformat(),
        "--validation-deadline",
        (TODAY + timedelta(days=60)).isoformat(),
    ]
    backwards = cycle("create", str(YEAR), "--opens", TODAY.isoformat(), "--deadline", TODAY.isoformat(), *dates[4:])
    assert backwards.exit_code != 0
    assert "The submission deadline must come after the opening date." in backwards.output
    unknown = cycle("create", str(YEAR), *dates, "--require", "astrology=above_1m")
    assert unknown.exit_code != 0
    assert "Unknown sections: astrology" in unknown.output

    created = cycle("create", str(YEAR), *dates, "--require", "commitments=250k_500k,500k_1m,below_50k")
    assert created.exit_code == 0, created.output
    assert cycle("create", str(YEAR), *dates).exit_code != 0  # the year has its cycle
    opened = cycle("open", str(YEAR))
    assert opened.exit_code == 0, opened.output
    assert "3 sections created" in opened.output
    status = cycle("status", str(YEAR))
    assert "0/3 sections" in status.output
    assert "commitments" in status.output
    reminded = cycle("remind", str(YEAR))
    assert "to 3 cities" in reminded.output
    notices = cycle("notices", str(YEAR))
    assert notices.exit_code != 0
    assert "after the validation deadline" in notices.output
    assert cycle("close", str(YEAR), "--yes").exit_code == 0
    html, pdf, data = tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "r.zip"
    report = cycle("report", str(YEAR), "--html", str(html), "--pdf", str(pdf), "--zip", str(data), "--publish")
    assert report.exit_code == 0, report.output
    assert "published" in report.output
    assert f"monitoring report {YEAR}" in html.read_text()
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "sections_by_city.csv" in zipfile.ZipFile(data).namelist()
    refused = cycle("reopen", str(YEAR), "--reason", "Too late.")
    assert refused.exit_code != 0
    assert "cannot be reopened" in refused.output
    assert cycle("status", "1999").exit_code != 0


async def test_the_demo_years(
    sessions: async_sessionmaker[AsyncSession], registry: ModuleRegistry, cities: Cities
) -> None:
    async with transaction(sessions) as session:
        lines = await load_demo(session, registry, today=TODAY)
    assert len(lines) == 2
    async with transaction(sessions) as session:
        assert await load_demo(session, registry, today=TODAY) == []  # idempotent
    async with sessions() as session:
        cycles = {c.year: c for c in await session.scalars(select(MonitoringCycle))}
        report = await session.scalar(select(MonitoringReport).where(MonitoringReport.year == YEAR - 1))
        statuses = dict(
            (
                await session.execute(
                    select(MonitoringSection.status, func.count())
                    .where(MonitoringSection.cycle_id == cycles[YEAR].id)
                    .group_by(MonitoringSection.status)
                )
            ).all()
        )
    assert (cycles[YEAR - 1].status, cycles[YEAR].status) == ("closed", "open")
    assert report is not None
    assert report.published_at is not None
    assert statuses.get("returned") == 1
    assert statuses.get("validated") == 1
    assert statuses.get("submitted", 0) >= 2
