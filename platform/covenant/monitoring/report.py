"""The yearly monitoring report and "Covenant in figures".

The report is compiled from the core's figures (active signatories only) and every module's
``report_section`` — the section the module froze when the cycle closed, or its live one before that —
and stored, so the HTML, the PDF (rendered from the same HTML) and the ZIP of CSV files show the same
numbers. Every aggregate is a GROUP BY: compiling costs a handful of statements whatever the number of cities.
"""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import structlog
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy import case, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.audit import record as audit
from covenant.cities.models import City, Membership
from covenant.commitments.models import Commitment, CommitmentStatus
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.monitoring import charts, years
from covenant.monitoring.models import (
    DONE,
    SECTION_STATUS_LABELS,
    Badge,
    CycleStatus,
    DelayRequest,
    ModuleYear,
    MonitoringCycle,
    MonitoringReport,
    MonitoringSection,
    Notice,
    SectionStatus,
)
from covenant.monitoring.services import (
    ACTIVE,
    Actor,
    MonitoringError,
    actor_id,
    badge_label,
    section_keys,
    section_title,
)
from covenant.plugins import ModuleRegistry
from covenant.web.templating import STATIC_DIR

log = structlog.get_logger(__name__)

STATUS_ORDER = [s.value for s in SectionStatus]
MAX_TABLE_ROWS = 200


# -- the core's figures --------------------------------------------------------------------------------


async def signatory_figures(session: AsyncSession, until_year: int | None = None) -> dict[str, Any]:
    """Active signatories and their inhabitants: in total, by country, by size class, and over time
    (cumulative by year of adhesion, up to ``until_year``)."""
    active = Membership.status == ACTIVE
    by_country = [
        {"country": c, "signatories": int(n), "inhabitants": int(p or 0)}
        for c, n, p in (
            await session.execute(
                select(City.country_code, func.count(City.id), func.sum(City.population))
                .join(Membership, Membership.city_id == City.id)
                .where(active)
                .group_by(City.country_code)
                .order_by(City.country_code)
            )
        ).all()
    ]
    by_size = {
        s: (int(n), int(p or 0))
        for s, n, p in (
            await session.execute(
                select(City.size_class, func.count(City.id), func.sum(City.population))
                .join(Membership, Membership.city_id == City.id)
                .where(active)
                .group_by(City.size_class)
            )
        ).all()
    }
    from covenant.monitoring.schemas import SIZE_CLASSES

    by_size_class = [
        {"size_class": s, "signatories": by_size.get(s, (0, 0))[0], "inhabitants": by_size.get(s, (0, 0))[1]}
        for s in SIZE_CLASSES
    ]
    adhesion_year = extract("year", Membership.adhesion_date)
    yearly = (
        await session.execute(
            select(adhesion_year, func.count(City.id), func.sum(City.population))
            .join(City, City.id == Membership.city_id)
            .where(active)
            .group_by(adhesion_year)
            .order_by(adhesion_year)
        )
    ).all()
    over_time: list[dict[str, int]] = []
    signatories = inhabitants = 0
    for year, count, population in yearly:
        if until_year is not None and int(year) > until_year:
            continue
        signatories += int(count)
        inhabitants += int(population or 0)
        over_time.append({"year": int(year), "signatories": signatories, "inhabitants": inhabitants})
    commitments_row = (
        await session.execute(
            select(
                func.count(Commitment.id),
                func.sum(case((Commitment.status == CommitmentStatus.achieved, 1), else_=0)),
            )
            .join(Membership, Membership.city_id == Commitment.city_id)
            .where(active, Commitment.published_at.is_not(None))
        )
    ).one()
    return {
        "signatories": sum(r["signatories"] for r in by_country),
        "inhabitants": sum(r["inhabitants"] for r in by_country),
        "by_country": by_country,
        "by_size_class": by_size_class,
        "over_time": over_time,
        "commitments": {"published": int(commitments_row[0] or 0), "achieved": int(commitments_row[1] or 0)},
    }


async def submission_figures(
    session: AsyncSession, cycle: MonitoringCycle, registry: ModuleRegistry, *, active_only: bool = False
) -> list[dict[str, Any]]:
    """Per section: how many cities owe it, and how many submitted (or were validated), returned, …"""
    query = (
        select(MonitoringSection.module, MonitoringSection.status, func.count())
        .where(MonitoringSection.cycle_id == cycle.id)
        .group_by(MonitoringSection.module, MonitoringSection.status)
    )
    if active_only:
        query = query.join(Membership, Membership.city_id == MonitoringSection.city_id).where(
            Membership.status == ACTIVE
        )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for module, status, count in (await session.execute(query)).all():
        counts[module][status] = int(count)
    order = section_keys(registry)
    lines = []
    for key in sorted(counts, key=lambda k: (order.index(k) if k in order else len(order), k)):
        by_status = counts[key]
        total = sum(by_status.values())
        done = sum(by_status.get(s, 0) for s in DONE)
        lines.append(
            {
                "key": key,
                "sections": total,
                "done": done,
                "share_done": round(done / total, 4) if total else 0.0,
                **{s: by_status.get(s, 0) for s in STATUS_ORDER},
            }
        )
    return lines


async def cycle_figures(session: AsyncSession, cycle: MonitoringCycle) -> dict[str, Any]:
    done = case((MonitoringSection.status.in_([s.value for s in DONE]), 1), else_=0)
    validated = case((MonitoringSection.status == SectionStatus.validated, 1), else_=0)
    per_city = (
        select(
            MonitoringSection.city_id,
            func.count().label("n"),
            func.sum(done).label("done"),
            func.sum(validated).label("validated"),
        )
        .where(MonitoringSection.cycle_id == cycle.id)
        .group_by(MonitoringSection.city_id)
        .subquery()
    )
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((per_city.c.done == per_city.c.n, 1), else_=0)),
                func.sum(case((per_city.c.validated == per_city.c.n, 1), else_=0)),
            ).select_from(per_city)
        )
    ).one()
    by_country = [
        {"country": c, "sections": int(n), "done": int(d or 0)}
        for c, n, d in (
            await session.execute(
                select(City.country_code, func.count(), func.sum(done))
                .join(City, City.id == MonitoringSection.city_id)
                .where(MonitoringSection.cycle_id == cycle.id)
                .group_by(City.country_code)
                .order_by(City.country_code)
            )
        ).all()
    ]
    badges = [
        {"badge": b, "cities": int(n)}
        for b, n in (
            await session.execute(
                select(Badge.badge, func.count())
                .where(Badge.year == cycle.year)
                .group_by(Badge.badge)
                .order_by(Badge.badge)
            )
        ).all()
    ]
    delays = {
        s: int(n)
        for s, n in (
            await session.execute(
                select(DelayRequest.status, func.count())
                .where(DelayRequest.cycle_id == cycle.id)
                .group_by(DelayRequest.status)
            )
        ).all()
    }
    notice_row = (
        await session.execute(select(func.count(), func.count(Notice.suspended_at)).where(Notice.cycle_id == cycle.id))
    ).one()
    return {
        "cities": {
            "total": int(row[0] or 0),
            "fully_submitted": int(row[1] or 0),
            "fully_validated": int(row[2] or 0),
        },
        "completion_by_country": by_country,
        "badges": badges,
        "delays": {
            "pending": delays.get("pending", 0),
            "granted": delays.get("granted", 0),
            "refused": delays.get("refused", 0),
        },
        "notices": int(notice_row[0] or 0),
        "suspended": int(notice_row[1] or 0),
    }


# -- compiling and publishing --------------------------------------------------------------------------


async def module_sections(session: AsyncSession, year: int, registry: ModuleRegistry) -> list[dict[str, Any]]:
    """Each module's section: the one it froze at close, else its live ``report_section``."""
    frozen = {
        row.module: row
        for row in await session.scalars(select(ModuleYear).where(ModuleYear.year == year))
        if row.closed_at is not None and row.report is not None
    }
    sections: list[dict[str, Any]] = []
    for module in registry:
        if module.slug in frozen:
            data = dict(frozen[module.slug].report or {})
            sections.append({"module": module.slug, "frozen": True, **data})
            continue
        if module.report_section is None:
            continue
        try:
            if session.get_bind().dialect.name == "postgresql":
                async with session.begin_nested():
                    section = await module.report_section(session, year)
            else:
                section = await module.report_section(session, year)
        except Exception:  # one module's failure must not stop the year's report
            log.exception("report_section hook failed", module=module.slug, year=year)
            sections.append(
                {
                    "module": module.slug,
                    "frozen": False,
                    "title": module.title,
                    "figures": {},
                    "tables": [],
                    "narrative": N_("This module's section could not be compiled."),
                    "failed": True,
                }
            )
            continue
        sections.append({"module": module.slug, "frozen": False, **years.report_dict(section)})
    return sections


async def compile_report(
    session: AsyncSession, cycle: MonitoringCycle, *, registry: ModuleRegistry, actor: Actor
) -> MonitoringReport:
    """Compile (or compile again, until it is published) the year's report."""
    if cycle.status == CycleStatus.draft:
        raise MonitoringError(_("A cycle that never opened has no report."), status_code=409)
    report: MonitoringReport | None = await session.scalar(
        select(MonitoringReport).where(MonitoringReport.year == cycle.year)
    )
    if report is not None and report.published_at is not None:
        raise MonitoringError(_("The report is published; it is no longer compiled again."), status_code=409)
    figures: dict[str, Any] = {
        "year": cycle.year,
        "cycle_status": cycle.status,
        "submission_deadline": cycle.submission_deadline.isoformat(),
        **await signatory_figures(session, until_year=cycle.year),
        "submission": await submission_figures(session, cycle, registry),
        **await cycle_figures(session, cycle),
    }
    sections = await module_sections(session, cycle.year, registry)
    now = datetime.now(UTC)
    if report is None:
        report = MonitoringReport(cycle_id=cycle.id, year=cycle.year, compiled_at=now)
        session.add(report)
    report.compiled_at = now
    report.figures = years.jsonable(figures)
    report.sections = years.jsonable(sections)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="monitoring.report_compiled",
        entity_type="monitoring_report",
        entity_id=report.id,
        after={"year": cycle.year, "modules": [s["module"] for s in sections]},
    )
    return report


async def publish_report(
    session: AsyncSession, report: MonitoringReport, cycle: MonitoringCycle, *, actor: Actor
) -> None:
    """Publish the report of a closed cycle: it appears on the public site and in "Covenant in figures"."""
    if cycle.status != CycleStatus.closed:
        raise MonitoringError(_("Close the cycle before publishing its report."), status_code=409)
    if report.published_at is not None:
        raise MonitoringError(_("The report is already published."), status_code=409)
    report.published_at = datetime.now(UTC)
    report.published_by = actor_id(actor)
    audit(
        session,
        actor=actor,
        action="monitoring.report_published",
        entity_type="monitoring_report",
        entity_id=report.id,
        after={"year": report.year, "published_at": report.published_at.isoformat()},
    )


async def published_reports(session: AsyncSession) -> list[MonitoringReport]:
    rows = await session.scalars(
        select(MonitoringReport)
        .where(MonitoringReport.published_at.is_not(None))
        .order_by(MonitoringReport.year.desc())
    )
    return list(rows)


# -- presenting a report -------------------------------------------------------------------------------


def flatten_tables(tables: list[Any]) -> list[tuple[list[str], list[list[Any]]]]:
    """A module's tables as (columns, rows) groups: rows with the same keys form one table; a row holding
    ``{"by": …, "rows": [...]}`` becomes its own table with the ``by`` value as first column."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item in tables or []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("rows"), list):
            by = str(item.get("by", ""))
            for row in item["rows"]:
                if isinstance(row, dict):
                    full = {"by": by, **row}
                    groups.setdefault(tuple(full), []).append(full)
            continue
        groups.setdefault(tuple(item), []).append(item)
    return [(list(keys), [[row.get(k) for k in keys] for row in rows]) for keys, rows in groups.items()]


def report_context(report: MonitoringReport, registry: ModuleRegistry) -> dict[str, Any]:
    """What the report template needs, charts included (the same for the page, the print and the PDF)."""
    figures = report.figures or {}
    status_labels = {k: _(v) for k, v in SECTION_STATUS_LABELS.items()}
    submission = figures.get("submission", [])
    for line in submission:
        line["title"] = section_title(line["key"], registry)
    from covenant.cities.schemas import country_name
    from covenant.cities.web import SIZE_LABELS

    over_time = figures.get("over_time", [])
    sections = []
    for section in report.sections or []:
        module = registry.get(section.get("module", ""))
        sections.append(
            {
                **section,
                "display_title": _(module.title) if module is not None else _(str(section.get("title", ""))),
                "table_groups": [
                    (cols, rows[:MAX_TABLE_ROWS]) for cols, rows in flatten_tables(section.get("tables", []))
                ],
            }
        )
    return {
        "report": report,
        "figures": figures,
        "submission": submission,
        "sections": sections,
        "status_labels": status_labels,
        "status_order": STATUS_ORDER,
        "country_name": country_name,
        "size_labels": SIZE_LABELS,
        "badge_label": lambda key: badge_label(key, registry),
        "charts": {
            "submission": charts.stacked_bars(
                [(line["title"], {s: line.get(s, 0) for s in STATUS_ORDER}) for line in submission],
                STATUS_ORDER,
                status_labels,
                title=_("Sections by status, per section"),
            ),
            "share": charts.bar_chart(
                [(line["title"], line["share_done"]) for line in submission],
                title=_("Share of cities that submitted each section"),
                percent=True,
                maximum=1.0,
            ),
            "countries": charts.bar_chart(
                [
                    (country_name(line["country"]), (line["done"] / line["sections"]) if line["sections"] else 0.0)
                    for line in figures.get("completion_by_country", [])
                ],
                title=_("Sections submitted, per country"),
                percent=True,
                maximum=1.0,
            ),
            "over_time": charts.column_chart(
                [(str(p["year"]), p["signatories"]) for p in over_time],
                title=_("Active signatories, by year of adhesion (cumulative)"),
            ),
            "sizes": charts.bar_chart(
                [(_(SIZE_LABELS[s["size_class"]]), s["signatories"]) for s in figures.get("by_size_class", [])],
                title=_("Active signatories by size class"),
            ),
        },
    }


def report_stylesheet() -> str:
    return (STATIC_DIR / "monitoring.css").read_text(encoding="utf-8")


def render_report(
    env: Environment, report: MonitoringReport, registry: ModuleRegistry, *, for_pdf: bool, downloads: str = ""
) -> str:
    """The report as one HTML document: for the screen (with its stylesheets and download links) or for the
    PDF (the print stylesheet inlined, nothing fetched from outside)."""
    template = env.get_template("monitoring/report.html")
    return template.render(
        **report_context(report, registry),
        for_pdf=for_pdf,
        downloads=downloads,
        inline_css=Markup(report_stylesheet()) if for_pdf else "",  # noqa: S704 - our own static file
    )


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or its system libraries) is missing: the PDF cannot be made here."""


def _html_to_pdf(html: str) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise PdfUnavailable(str(exc)) from exc
    fetcher: Any = None
    try:
        from weasyprint.urls import URLFetcher

        fetcher = URLFetcher(allowed_protocols=("data",))  # the report needs nothing from outside
    except (ImportError, TypeError):

        def fetcher(url: str, *args: Any, **kwargs: Any) -> Any:
            raise ValueError(f"the report fetches nothing from outside ({url[:40]})")

    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf()
    return pdf


async def render_pdf(html: str) -> bytes:
    """The PDF of the report's HTML (in a thread: WeasyPrint is CPU-bound)."""
    return await asyncio.to_thread(_html_to_pdf, html)


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


async def report_zip(session: AsyncSession, report: MonitoringReport, registry: ModuleRegistry) -> bytes:
    """The open data behind the report: the core's tables, each module's figures and tables, and the
    status of every active signatory's sections, as CSV files in one ZIP."""
    figures = report.figures or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        simple = [
            ["year", figures.get("year")],
            ["signatories", figures.get("signatories")],
            ["inhabitants", figures.get("inhabitants")],
            ["commitments_published", figures.get("commitments", {}).get("published")],
            ["commitments_achieved", figures.get("commitments", {}).get("achieved")],
            ["cities_in_cycle", figures.get("cities", {}).get("total")],
            ["cities_fully_submitted", figures.get("cities", {}).get("fully_submitted")],
            ["cities_fully_validated", figures.get("cities", {}).get("fully_validated")],
            ["delays_granted", figures.get("delays", {}).get("granted")],
            ["written_notices", figures.get("notices")],
            ["suspensions", figures.get("suspended")],
        ]
        archive.writestr("summary.csv", _csv(["measure", "value"], simple))
        for name, key, columns in (
            ("signatories_by_country.csv", "by_country", ["country", "signatories", "inhabitants"]),
            ("signatories_by_size_class.csv", "by_size_class", ["size_class", "signatories", "inhabitants"]),
            ("signatories_over_time.csv", "over_time", ["year", "signatories", "inhabitants"]),
            ("completion_by_country.csv", "completion_by_country", ["country", "sections", "done"]),
            ("badges.csv", "badges", ["badge", "cities"]),
            ("submission_by_section.csv", "submission", ["key", "sections", "done", "share_done", *STATUS_ORDER]),
        ):
            archive.writestr(name, _csv(columns, [[line.get(c) for c in columns] for line in figures.get(key, [])]))
        for section in report.sections or []:
            slug = section.get("module", "module")
            archive.writestr(
                f"module_{slug}_figures.csv",
                _csv(["figure", "value"], [[k, v] for k, v in (section.get("figures") or {}).items()]),
            )
            for n, (columns, rows) in enumerate(flatten_tables(section.get("tables", [])), start=1):
                archive.writestr(f"module_{slug}_table_{n}.csv", _csv(columns, rows))
        city_rows = (
            await session.execute(
                select(
                    City.name, City.country_code, City.size_class, MonitoringSection.module, MonitoringSection.status
                )
                .join(City, City.id == MonitoringSection.city_id)
                .join(Membership, Membership.city_id == MonitoringSection.city_id)
                .where(MonitoringSection.cycle_id == report.cycle_id, Membership.status == ACTIVE)
                .order_by(City.country_code, City.name, MonitoringSection.module)
            )
        ).all()
        archive.writestr(
            "sections_by_city.csv",
            _csv(["city", "country", "size_class", "section", "status"], [list(r) for r in city_rows]),
        )
        badge_rows = (
            await session.execute(
                select(City.name, City.country_code, Badge.badge)
                .join(City, City.id == Badge.city_id)
                .where(Badge.year == report.year)
                .order_by(City.country_code, City.name, Badge.badge)
            )
        ).all()
        archive.writestr("badges_by_city.csv", _csv(["city", "country", "badge"], [list(r) for r in badge_rows]))
    return buffer.getvalue()


# -- "Covenant in figures" ---------------------------------------------------------------------------------


async def public_figures(session: AsyncSession, registry: ModuleRegistry) -> dict[str, Any]:
    """The public figures: active signatories only, live; the share of signatories submitting each section
    in the latest cycle; the modules' headline figures from the latest published report."""
    figures = await signatory_figures(session)
    latest: MonitoringCycle | None = await session.scalar(
        select(MonitoringCycle)
        .where(MonitoringCycle.status != CycleStatus.draft)
        .order_by(MonitoringCycle.year.desc())
        .limit(1)
    )
    figures["submission"] = (
        {
            "year": latest.year,
            "status": latest.status,
            "sections": [
                {**line, "title": section_title(line["key"], registry)}
                for line in await submission_figures(session, latest, registry, active_only=True)
            ],
        }
        if latest is not None
        else None
    )
    published = await published_reports(session)
    headlines: list[dict[str, Any]] = []
    if published:
        for section in published[0].sections or []:
            module = registry.get(section.get("module", ""))
            headlines.append(
                {
                    "module": section.get("module"),
                    "title": _(module.title) if module is not None else str(section.get("title", "")),
                    "figures": section.get("figures") or {},
                }
            )
    figures["headlines"] = {"year": published[0].year, "modules": headlines} if published else None
    figures["reports"] = [r.year for r in published]
    figures["as_of"] = date.today().isoformat()
    return figures


def figures_csv(figures: dict[str, Any]) -> str:
    """The public figures in long form: dimension, key, measure, value."""
    rows: list[list[Any]] = [
        ["total", "", "signatories", figures["signatories"]],
        ["total", "", "inhabitants", figures["inhabitants"]],
        ["commitments", "", "published", figures["commitments"]["published"]],
        ["commitments", "", "achieved", figures["commitments"]["achieved"]],
    ]
    for line in figures["by_country"]:
        rows += [["country", line["country"], m, line[m]] for m in ("signatories", "inhabitants")]
    for line in figures["by_size_class"]:
        rows += [["size_class", line["size_class"], m, line[m]] for m in ("signatories", "inhabitants")]
    for line in figures["over_time"]:
        rows += [["adhesion_year", line["year"], m, line[m]] for m in ("signatories", "inhabitants")]
    if figures.get("submission"):
        year = figures["submission"]["year"]
        for line in figures["submission"]["sections"]:
            rows.append([f"submission_{year}", line["key"], "share_submitted", line["share_done"]])
    if figures.get("headlines"):
        year = figures["headlines"]["year"]
        for module in figures["headlines"]["modules"]:
            rows += [[f"report_{year}", module["module"], k, v] for k, v in module["figures"].items()]
    return _csv(["dimension", "key", "measure", "value"], rows)
