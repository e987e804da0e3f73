"""``covenant cycle``: run a monitoring year from the command line (create, open, status, remind, notices,
close, reopen, report). Events go to the outbox as from the web pages; the relay delivers them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.db import create_engine, session_factory, transaction
from covenant.monitoring import report as reports
from covenant.monitoring import services
from covenant.monitoring.models import MonitoringCycle
from covenant.monitoring.schemas import CycleInput
from covenant.plugins import ModuleRegistry

T = TypeVar("T")
DATE = click.DateTime(["%Y-%m-%d"])


def _run(work: Callable[[AsyncSession, ModuleRegistry], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction, with the configured database and the enabled modules."""
    from covenant.cli import load_registry, load_settings

    settings = load_settings()
    registry = load_registry(settings)
    registry.import_models()

    async def main() -> T:
        engine = create_engine(settings)
        try:
            async with transaction(session_factory(engine)) as session:
                return await work(session, registry)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except services.MonitoringError as exc:
        raise click.ClickException(exc.message) from exc


async def _cycle(session: AsyncSession, year: int) -> MonitoringCycle:
    cycle = await services.cycle_by_year(session, year)
    if cycle is None:
        raise click.ClickException(f"no monitoring cycle for {year} (create it with `covenant cycle create {year}`)")
    return cycle


def _requirements(values: tuple[str, ...]) -> dict[str, list[str]] | None:
    if not values:
        return None
    required: dict[str, list[str]] = {}
    for value in values:
        key, sep, sizes = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r}: write SECTION=SIZE,SIZE (e.g. practices=50k_250k,above_1m)")
        required[key.strip()] = [s.strip() for s in sizes.split(",") if s.strip()]
    return required


@click.group("cycle", help="The yearly monitoring cycle: create, open, follow, remind, close and report a year.")
def cycle() -> None:
    pass


@cycle.command("create", help="Create the cycle of YEAR (a draft); its deadlines are announced to the calendar.")
@click.argument("year", type=int)
@click.option("--opens", "opens_on", type=DATE, required=True, help="Opening date (YYYY-MM-DD).")
@click.option("--deadline", type=DATE, required=True, help="Submission deadline.")
@click.option("--validation-deadline", type=DATE, required=True, help="Validation deadline.")
@click.option("--grace-days", default=30, show_default=True, type=int, help="Days between notice and suspension.")
@click.option("--reminders", default="14,7,1", show_default=True, help="Days before the deadline to remind.")
@click.option(
    "--require",
    multiple=True,
    metavar="SECTION=SIZES",
    help="Size classes a section is required of (repeat; default: every section of every size class).",
)
def create(
    year: int,
    opens_on: datetime,
    deadline: datetime,
    validation_deadline: datetime,
    grace_days: int,
    reminders: str,
    require: tuple[str, ...],
) -> None:
    try:
        data = CycleInput.model_validate(
            {
                "year": year,
                "opens_on": opens_on.date(),
                "submission_deadline": deadline.date(),
                "validation_deadline": validation_deadline.date(),
                "grace_days": grace_days,
                "reminder_days": reminders,
                "required": _requirements(require),
            }
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise click.ClickException(f"invalid cycle: {problems}") from exc

    async def work(session: AsyncSession, registry: ModuleRegistry) -> MonitoringCycle:
        return await services.create_cycle(session, data, registry=registry, actor=None)

    created = _run(work)
    click.echo(f"cycle {created.year} created (draft); opens {created.opens_on}, due {created.submission_deadline}")


@cycle.command("open", help="Open the cycle of YEAR now: sections for every active signatory, then cycle.opened.")
@click.argument("year", type=int)
def open_(year: int) -> None:
    async def work(session: AsyncSession, registry: ModuleRegistry) -> int:
        return await services.open_cycle(session, await _cycle(session, year), registry=registry, actor=None)

    click.echo(f"cycle {year} open: {_run(work)} sections created")


@cycle.command("status", help="Where the cycle of YEAR stands, per section and per country.")
@click.argument("year", type=int)
def status(year: int) -> None:
    async def work(session: AsyncSession, registry: ModuleRegistry) -> list[str]:
        found = await _cycle(session, year)
        summary = await services.summary(session, found, registry)
        lines = [
            f"cycle {year}: {found.status}; opens {found.opens_on}, due {found.submission_deadline}, "
            f"validation by {found.validation_deadline}",
            f"  {summary.cities} cities, {summary.total.done}/{summary.total.sections} sections submitted or validated "
            f"({summary.total.share:.0%}); {summary.pending_delays} delay requests waiting",
        ]
        for line in summary.by_module:
            detail = ", ".join(f"{k} {v}" for k, v in sorted(line.by_status.items()))
            lines.append(f"  {line.key:<12} {line.done}/{line.sections} done  ({detail})")
        report = await services.report_of(session, year)
        if report is not None:
            lines.append(
                f"  report compiled {report.compiled_at:%Y-%m-%d %H:%M}"
                + (f", published {report.published_at:%Y-%m-%d}" if report.published_at else ", not published")
            )
        return lines

    for line in _run(work):
        click.echo(line)


@cycle.command("remind", help="Remind now every city of YEAR with incomplete sections (and only those).")
@click.argument("year", type=int)
def remind(year: int) -> None:
    async def work(session: AsyncSession, registry: ModuleRegistry) -> tuple[int, int]:
        return await services.send_reminders(session, await _cycle(session, year), registry=registry)

    cities, mails = _run(work)
    click.echo(f"reminders queued: {mails} e-mails to {cities} cities")


@cycle.command("notices", help="After the validation deadline, send the written notices to non-submitters.")
@click.argument("year", type=int)
def notices(year: int) -> None:
    async def work(session: AsyncSession, registry: ModuleRegistry) -> int:
        return await services.send_notices(session, await _cycle(session, year), actor=None)

    click.echo(f"written notices sent: {_run(work)}")


@cycle.command("close", help="Close the cycle of YEAR (irreversible except by `cycle reopen`) and compile its report.")
@click.argument("year", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def close(year: int, yes: bool) -> None:
    if not yes:
        click.confirm(f"Close the {year} cycle? Cities can no longer submit; modules freeze the year.", abort=True)

    async def work(session: AsyncSession, registry: ModuleRegistry) -> None:
        found = await _cycle(session, year)
        await services.close_cycle(session, found, confirm=True, actor=None)
        await reports.compile_report(session, found, registry=registry, actor=None)

    _run(work)
    click.echo(f"cycle {year} closed; report compiled")


@cycle.command("reopen", help="Reopen a closed cycle (audited, with its reason); not once its report is published.")
@click.argument("year", type=int)
@click.option("--reason", required=True)
def reopen(year: int, reason: str) -> None:
    async def work(session: AsyncSession, registry: ModuleRegistry) -> None:
        await services.reopen_cycle(session, await _cycle(session, year), reason=reason, registry=registry, actor=None)

    _run(work)
    click.echo(f"cycle {year} reopened")


@cycle.command("report", help="Compile the report of YEAR (unless published) and write it as HTML, PDF or ZIP.")
@click.argument("year", type=int)
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--zip", "zip_path", type=click.Path(dir_okay=False, path_type=Path), help="The open data as CSV files.")
@click.option("--publish", is_flag=True, help="Publish it (the cycle must be closed).")
def report(year: int, html_path: Path | None, pdf_path: Path | None, zip_path: Path | None, publish: bool) -> None:
    from covenant.web.templating import build_environment

    async def work(session: AsyncSession, registry: ModuleRegistry) -> dict[str, Any]:
        found = await _cycle(session, year)
        compiled = await services.report_of(session, year)
        if compiled is None or compiled.published_at is None:
            compiled = await reports.compile_report(session, found, registry=registry, actor=None)
        if publish:
            await reports.publish_report(session, compiled, found, actor=None)
        env = build_environment(registry)
        out: dict[str, Any] = {"published": compiled.published_at is not None}
        if html_path is not None:
            out["html"] = reports.render_report(env, compiled, registry, for_pdf=False, downloads=f"/reports/{year}/")
        if pdf_path is not None:
            try:
                out["pdf"] = await reports.render_pdf(reports.render_report(env, compiled, registry, for_pdf=True))
            except reports.PdfUnavailable as exc:
                raise click.ClickException(f"the PDF renderer (WeasyPrint) is not available: {exc}") from exc
        if zip_path is not None:
            out["zip"] = await reports.report_zip(session, compiled, registry)
        return out

    started = date.today()
    result = _run(work)
    for key, path in (("html", html_path), ("pdf", pdf_path), ("zip", zip_path)):
        if path is not None:
            data = result[key]
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            click.echo(f"wrote {path}")
    click.echo(f"report {year} compiled on {started}" + ("; published" if result["published"] else "; not published"))
