"""Rules of the yearly monitoring cycle.

A cycle is created (its deadlines announced to the calendar), opened (every active signatory gets its
sections in ONE set-based statement, and ``cycle.opened`` tells the modules), tracked (each city's
automatic checks come from the modules' ``cycle_section`` hooks; cities submit once everything is complete;
the secretariat validates or returns each section), reminded, extended (delay requests), enforced (written
notices after the validation deadline, suspension after the grace period once an admin confirms) and
closed (``cycle.closed``; modules freeze their year). Every change writes its audit row and its events in
the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import structlog
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.identity import Identity
from covenant.accounts.models import RoleGrant, User
from covenant.audit import record as audit
from covenant.calendar.events import DeadlineAnnounced
from covenant.cities import services as cities
from covenant.cities.models import City, Membership, MembershipStatus, SizeClass
from covenant.cities.schemas import DecisionForm
from covenant.commitments.models import Commitment, CommitmentStatus, ProgressUpdate
from covenant.config import get_settings
from covenant.db import insert_or_skip
from covenant.events.outbox import record as record_event
from covenant.i18n import N_, format_date, format_percent
from covenant.i18n import gettext as _
from covenant.monitoring import years
from covenant.monitoring.events import CycleClosed, CycleOpened
from covenant.monitoring.models import (
    COMMITMENTS,
    DONE,
    OPEN_FOR_CITY,
    SECTION_STATUS_LABELS,
    Badge,
    CycleStatus,
    DelayRequest,
    DelayStatus,
    MonitoringCycle,
    MonitoringReport,
    MonitoringSection,
    Notice,
    Participant,
    Reminder,
    SectionStatus,
)
from covenant.monitoring.schemas import SIZE_CLASSES, CycleInput, DelayInput
from covenant.notifications import queue_mail
from covenant.plugins import ActionModule, CycleSection, ModuleRegistry

log = structlog.get_logger(__name__)

Actor = Identity | UUID | None
ACTIVE = MembershipStatus.signatory.value

BADGES: dict[str, str] = {
    COMMITMENTS: N_("Commitments on track"),
    "assessment": N_("Assessed"),
    "funding": N_("EU funding mobilised"),
    "ai_review": N_("Technology register published"),
    "training": N_("Staff trained"),
    "cohesion": N_("Impact evaluated"),
    "practices": N_("Practice shared"),
}
"""The stage a validated section recognises, per section (a module not listed gets "… reported")."""


class MonitoringError(ValueError):
    """A refused change, with the field it concerns (``form`` for the whole) and the HTTP status to answer."""

    def __init__(self, message: str, field: str = "form", status_code: int = 422, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status_code = status_code
        self.details = details


def actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


_actor_id = actor_id


def checklist_url(city_id: UUID, year: int) -> str:
    """The city's checklist as an absolute address, for mails."""
    return f"{get_settings().base_url.rstrip('/')}/cities/{city_id}/monitoring/{year}"


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return datetime.now(UTC).date()


# -- sections of a registry ----------------------------------------------------------------------------


def section_keys(registry: ModuleRegistry) -> list[str]:
    """The core's commitments section, then each enabled module's (the modules without a hook included:
    an admin may still require a yearly statement from them)."""
    return [COMMITMENTS, *registry.slugs]


def section_title(key: str, registry: ModuleRegistry) -> str:
    if key == COMMITMENTS:
        return _("Commitments' progress update")
    module = registry.get(key)
    return _(module.title) if module is not None else key


def badge_label(key: str, registry: ModuleRegistry) -> str:
    if key in BADGES:
        return _(BADGES[key])
    return _("{section} reported").format(section=section_title(key, registry))


def default_required(registry: ModuleRegistry) -> dict[str, list[str]]:
    return {key: list(SIZE_CLASSES) for key in section_keys(registry)}


def effective_required(cycle: MonitoringCycle, registry: ModuleRegistry) -> dict[str, list[str]]:
    """The cycle's requirements limited to sections this deployment has (a module disabled since is skipped)."""
    known = set(section_keys(registry))
    return {k: list(v) for k, v in (cycle.required or {}).items() if k in known and v}


# -- cycles --------------------------------------------------------------------------------------------


async def cycle_by_year(session: AsyncSession, year: int) -> MonitoringCycle | None:
    cycle: MonitoringCycle | None = await session.scalar(select(MonitoringCycle).where(MonitoringCycle.year == year))
    return cycle


async def all_cycles(session: AsyncSession) -> list[MonitoringCycle]:
    return list(await session.scalars(select(MonitoringCycle).order_by(MonitoringCycle.year.desc())))


async def open_cycles(session: AsyncSession) -> list[MonitoringCycle]:
    rows = await session.scalars(
        select(MonitoringCycle).where(MonitoringCycle.status == CycleStatus.open).order_by(MonitoringCycle.year.desc())
    )
    return list(rows)


async def report_of(session: AsyncSession, year: int) -> MonitoringReport | None:
    report: MonitoringReport | None = await session.scalar(
        select(MonitoringReport).where(MonitoringReport.year == year)
    )
    return report


def _announce_deadlines(session: AsyncSession, cycle: MonitoringCycle, actor: Actor) -> None:
    """Show the cycle's deadlines in the convention calendar (re-announcing updates them)."""
    record_event(
        session,
        DeadlineAnnounced(
            actor=_actor_id(actor),
            source="core",
            key=f"monitoring-{cycle.year}-submission",
            title=_("Monitoring {year}: submission deadline").format(year=cycle.year),
            due_on=cycle.submission_deadline,
            audience="all",
            link="/figures",
            details=_("Signatories submit their yearly monitoring sections by this day."),
        ),
    )
    record_event(
        session,
        DeadlineAnnounced(
            actor=_actor_id(actor),
            source="core",
            key=f"monitoring-{cycle.year}-validation",
            title=_("Monitoring {year}: validation deadline").format(year=cycle.year),
            due_on=cycle.validation_deadline,
            audience="admins",
            link=f"/admin/monitoring/{cycle.year}",
            details=_("The secretariat validates or returns every submitted section by this day."),
        ),
    )


def _check_required(required: dict[str, list[Any]] | None, registry: ModuleRegistry) -> dict[str, list[str]]:
    if required is None:
        return default_required(registry)
    known = section_keys(registry)
    unknown = sorted(set(required) - set(known))
    if unknown:
        raise MonitoringError(
            _("Unknown sections: {names}. Known: {known}.").format(names=", ".join(unknown), known=", ".join(known)),
            "required",
        )
    cleaned = {k: sorted({str(s) for s in v}, key=SIZE_CLASSES.index) for k, v in required.items() if v}
    if not cleaned:
        raise MonitoringError(_("Require at least one section of at least one size class."), "required")
    return cleaned


async def create_cycle(
    session: AsyncSession, data: CycleInput, *, registry: ModuleRegistry, actor: Actor
) -> MonitoringCycle:
    """A draft cycle for ``data.year``; refused when that year already has one."""
    if await cycle_by_year(session, data.year) is not None:
        raise MonitoringError(
            _("The year {year} already has a monitoring cycle.").format(year=data.year), "year", status_code=422
        )
    cycle = MonitoringCycle(
        year=data.year,
        opens_on=data.opens_on,
        submission_deadline=data.submission_deadline,
        validation_deadline=data.validation_deadline,
        grace_days=data.grace_days,
        reminder_days=list(data.reminder_days),
        required=_check_required(
            {k: [s.value for s in v] for k, v in data.required.items()} if data.required is not None else None,
            registry,
        ),
        status=CycleStatus.draft,
    )
    session.add(cycle)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="monitoring.cycle_created",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        after=cycle.snapshot(),
    )
    _announce_deadlines(session, cycle, actor)
    return cycle


async def update_cycle(
    session: AsyncSession, cycle: MonitoringCycle, data: CycleInput, *, registry: ModuleRegistry, actor: Actor
) -> MonitoringCycle:
    """Change the dates, reminders and grace period (the year stays; requirements only while a draft)."""
    if cycle.status == CycleStatus.closed:
        raise MonitoringError(_("A closed cycle cannot be changed; reopen it first."), status_code=409)
    if data.year != cycle.year:
        raise MonitoringError(_("The year of a cycle cannot change."), "year")
    before = cycle.snapshot()
    cycle.opens_on = data.opens_on
    cycle.submission_deadline = data.submission_deadline
    cycle.validation_deadline = data.validation_deadline
    cycle.grace_days = data.grace_days
    cycle.reminder_days = list(data.reminder_days)
    if cycle.status == CycleStatus.draft and data.required is not None:
        cycle.required = _check_required({k: [s.value for s in v] for k, v in data.required.items()}, registry)
    audit(
        session,
        actor=actor,
        action="monitoring.cycle_changed",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        before=before,
        after=cycle.snapshot(),
    )
    _announce_deadlines(session, cycle, actor)
    return cycle


async def create_sections(
    session: AsyncSession,
    cycle: MonitoringCycle,
    required: dict[str, list[str]],
    *,
    city_id: UUID | None = None,
) -> int:
    """Give every active signatory (or just ``city_id``) its required sections, in ONE ``INSERT … SELECT``:
    the database pairs each city with the sections its size class owes. Sections that exist are kept, so
    calling it again (a reopen, a city that signed during the cycle) only adds what is missing.

    What exists is skipped by ``ON CONFLICT DO NOTHING`` on the table's unique key, not by a ``NOT EXISTS``
    on the table being filled: when its statistics say it is empty (its first cycle), PostgreSQL plans that
    anti-join as a sequential scan per inserted row, over the rows the statement itself adds, which made
    opening 59,000 sections take a minute instead of two seconds."""
    pairs = [(key, size) for key, sizes in required.items() for size in sizes]
    if not pairs:
        return 0
    await _enrol(session, cycle, sorted({size for _key, size in pairs}), city_id)
    selects = [select(literal(k, String).label("module"), literal(s, String).label("size_class")) for k, s in pairs]
    req = (union_all(*selects) if len(selects) > 1 else selects[0]).subquery("req")
    now = _now()
    query = (
        select(
            years.database_id(session),
            literal(cycle.id, GUID()),
            City.id,
            req.c.module,
            literal(SectionStatus.not_started.value, String),
            literal(0),
            literal("", String),
            literal(now, DateTimeUTC(timezone=True)),
            literal(now, DateTimeUTC(timezone=True)),
        )
        .select_from(City)
        .join(Membership, Membership.city_id == City.id)
        .join(req, req.c.size_class == City.size_class)
        .where(Membership.status == ACTIVE)
    )
    if city_id is not None:
        query = query.where(City.id == city_id)
    columns = ["id", "cycle_id", "city_id", "module", "status", "completeness", "comment", "created_at", "updated_at"]
    result = await session.execute(
        _insert_missing(session, MonitoringSection, columns, query, ["cycle_id", "city_id", "module"])
    )
    return max(0, int(getattr(result, "rowcount", 0) or 0))


def _insert_missing(session: AsyncSession, model: type[Any], columns: list[str], query: Any, key: list[str]) -> Any:
    """``INSERT … SELECT`` of ``query`` into ``model``'s table, skipping the rows whose unique ``key``
    exists already (``ON CONFLICT DO NOTHING``, on both supported databases)."""
    table = cast(Table, model.__table__)
    return insert_or_skip(session, table).from_select(columns, query).on_conflict_do_nothing(index_elements=key)


async def _enrol(session: AsyncSession, cycle: MonitoringCycle, sizes: list[str], city_id: UUID | None) -> None:
    """The cycle's roster: every active signatory of a size class that owes a section (one statement; who
    is enrolled already is skipped by the unique key, as in :func:`create_sections`)."""
    now = _now()
    query = (
        select(
            years.database_id(session),
            literal(cycle.id, GUID()),
            City.id,
            City.name,
            City.country_code,
            City.size_class,
            literal(now, DateTimeUTC(timezone=True)),
            literal(now, DateTimeUTC(timezone=True)),
        )
        .join(Membership, Membership.city_id == City.id)
        .where(Membership.status == ACTIVE, City.size_class.in_(sizes))
    )
    if city_id is not None:
        query = query.where(City.id == city_id)
    columns = ["id", "cycle_id", "city_id", "name", "country_code", "size_class", "created_at", "updated_at"]
    await session.execute(_insert_missing(session, Participant, columns, query, ["cycle_id", "city_id"]))


async def open_cycle(session: AsyncSession, cycle: MonitoringCycle, *, registry: ModuleRegistry, actor: Actor) -> int:
    """Open a draft cycle: sections for every active signatory (one statement), then ``cycle.opened`` so each
    module opens its own part. Returns how many sections were created."""
    if cycle.status == CycleStatus.open:
        raise MonitoringError(_("The {year} cycle is already open.").format(year=cycle.year), status_code=409)
    if cycle.status == CycleStatus.closed:
        raise MonitoringError(
            _("The {year} cycle is closed; an administrator may reopen it explicitly.").format(year=cycle.year),
            status_code=409,
        )
    required = effective_required(cycle, registry)
    cycle.status = CycleStatus.open
    cycle.opened_at = _now()
    created = await create_sections(session, cycle, required)
    record_event(
        session,
        CycleOpened(
            actor=_actor_id(actor),
            cycle_id=cycle.id,
            year=cycle.year,
            due_date=cycle.submission_deadline,
            required=required,
        ),
    )
    audit(
        session,
        actor=actor,
        action="monitoring.cycle_opened",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        before={"status": CycleStatus.draft.value},
        after={"status": CycleStatus.open.value, "sections": created},
    )
    return created


async def close_cycle(session: AsyncSession, cycle: MonitoringCycle, *, confirm: bool, actor: Actor) -> None:
    """Close an open cycle (confirmed): nothing more is submitted or validated; ``cycle.closed`` lets each
    module freeze its year."""
    if cycle.status != CycleStatus.open:
        raise MonitoringError(_("Only an open cycle can be closed."), status_code=409)
    if not confirm:
        raise MonitoringError(_("Tick the box to confirm: closing freezes the year."), "confirm")
    cycle.status = CycleStatus.closed
    cycle.closed_at = _now()
    record_event(session, CycleClosed(actor=_actor_id(actor), cycle_id=cycle.id, year=cycle.year))
    audit(
        session,
        actor=actor,
        action="monitoring.cycle_closed",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        before={"status": CycleStatus.open.value},
        after={"status": CycleStatus.closed.value},
    )


async def reopen_cycle(
    session: AsyncSession, cycle: MonitoringCycle, *, reason: str, registry: ModuleRegistry, actor: Actor
) -> None:
    """An administrator's explicit, audited reopening of a closed cycle (not once its report is published).
    ``cycle.opened`` is recorded again, so the modules lift their freeze (their handlers are idempotent)."""
    if cycle.status != CycleStatus.closed:
        raise MonitoringError(_("Only a closed cycle can be reopened."), status_code=409)
    if not reason.strip():
        raise MonitoringError(_("Give the reason for reopening; it is kept in the audit log."), "reason")
    report = await report_of(session, cycle.year)
    if report is not None and report.published_at is not None:
        raise MonitoringError(
            _("The {year} report is published; a published year cannot be reopened.").format(year=cycle.year),
            status_code=409,
        )
    cycle.status = CycleStatus.open
    cycle.closed_at = None
    required = effective_required(cycle, registry)
    await create_sections(session, cycle, required)
    record_event(
        session,
        CycleOpened(
            actor=_actor_id(actor),
            cycle_id=cycle.id,
            year=cycle.year,
            due_date=cycle.submission_deadline,
            required=required,
        ),
    )
    audit(
        session,
        actor=actor,
        action="monitoring.cycle_reopened",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        before={"status": CycleStatus.closed.value},
        after={"status": CycleStatus.open.value, "reason": reason.strip()},
    )


# -- a city's checklist --------------------------------------------------------------------------------


@dataclass
class SectionView:
    id: UUID
    city_id: UUID
    module: str
    title: str
    status: str
    completeness: int
    missing: list[str]
    comment: str
    link: str
    submitted_at: datetime | None
    decided_at: datetime | None

    @property
    def status_label(self) -> str:
        return _(SECTION_STATUS_LABELS.get(self.status, self.status))

    @property
    def complete(self) -> bool:
        return self.completeness >= 100

    @property
    def open_for_city(self) -> bool:
        return self.status in OPEN_FOR_CITY


@dataclass
class Checklist:
    cycle: MonitoringCycle
    city_id: UUID
    deadline: date
    sections: list[SectionView]
    delays: list[DelayRequest] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Every section the city still works on is complete (and there is at least one)."""
        pending = [s for s in self.sections if s.open_for_city]
        return bool(pending) and all(s.complete for s in pending)

    @property
    def submitted(self) -> bool:
        return bool(self.sections) and all(s.status in DONE for s in self.sections)

    @property
    def missing(self) -> list[tuple[str, list[str]]]:
        return [(s.title, s.missing) for s in self.sections if s.open_for_city and not s.complete]

    @property
    def pending_delay(self) -> DelayRequest | None:
        return next((d for d in self.delays if d.status == DelayStatus.pending), None)


def section_link(key: str, city_id: UUID) -> str:
    if key == COMMITMENTS:
        return f"/cities/{city_id}/commitments/"
    return f"/m/{key}/"


async def commitments_check(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """The core's section: every published commitment (not withdrawn) has a progress update dated in the
    year, or is achieved."""
    link = section_link(COMMITMENTS, city_id)
    rows = (
        await session.execute(
            select(Commitment.id, Commitment.title, Commitment.status)
            .where(
                Commitment.city_id == city_id,
                Commitment.published_at.is_not(None),
                Commitment.status != CommitmentStatus.withdrawn,
            )
            .order_by(Commitment.created_at)
        )
    ).all()
    if not rows:
        return CycleSection("not_started", 0, link, (_("Publish at least one commitment."),))
    updated = set(
        await session.scalars(
            select(ProgressUpdate.commitment_id).where(
                ProgressUpdate.commitment_id.in_([r.id for r in rows]),
                ProgressUpdate.reported_on >= date(year, 1, 1),
                ProgressUpdate.reported_on <= date(year, 12, 31),
            )
        )
    )
    pending = [r for r in rows if r.id not in updated and r.status != CommitmentStatus.achieved]
    completeness = round(100 * (len(rows) - len(pending)) / len(rows))
    missing = [_("Report the progress of “{title}” for {year}.").format(title=r.title, year=year) for r in pending]
    return CycleSection("in_progress" if completeness else "not_started", completeness, link, tuple(missing))


async def run_check(
    session: AsyncSession, key: str, module: ActionModule | None, city_id: UUID, year: int
) -> tuple[int, list[str], str]:
    """The automatic check of one section: completeness, what is missing, and where to complete it."""
    if key == COMMITMENTS:
        result = await commitments_check(session, city_id, year)
    elif module is None or module.cycle_section is None:
        return 0, [_("This module is not enabled; the secretariat validates the section by hand.")], ""
    else:
        try:
            if session.get_bind().dialect.name == "postgresql":
                # A failing statement would abort the whole transaction there: contain it in a savepoint.
                async with session.begin_nested():
                    result = await module.cycle_section(session, city_id, year)
            else:
                result = await module.cycle_section(session, city_id, year)
        except Exception:  # a module's failing check must not take the city's checklist down with it
            log.exception("cycle_section hook failed", module=key, city_id=str(city_id), year=year)
            return 0, [_("The automatic check of this section failed; try again later.")], section_link(key, city_id)
    completeness = 100 if result.status == "not_required" else max(0, min(100, int(result.completeness)))
    missing = [str(m) for m in result.missing]
    if completeness < 100 and not missing:
        missing = [_("The section is {percent} complete.").format(percent=format_percent(completeness / 100))]
    return completeness, missing, result.link


async def _sections_of(session: AsyncSession, cycle_id: UUID, city_id: UUID) -> list[MonitoringSection]:
    rows = await session.scalars(
        select(MonitoringSection).where(MonitoringSection.cycle_id == cycle_id, MonitoringSection.city_id == city_id)
    )
    return sorted(rows, key=lambda s: (s.module != COMMITMENTS, s.module))


async def city_deadline(session: AsyncSession, cycle: MonitoringCycle, city_id: UUID) -> date:
    """The submission deadline, or the later date of a delay granted to the city."""
    granted = await session.scalar(
        select(func.max(DelayRequest.requested_until)).where(
            DelayRequest.cycle_id == cycle.id,
            DelayRequest.city_id == city_id,
            DelayRequest.status == DelayStatus.granted,
        )
    )
    return max(cycle.submission_deadline, granted) if granted else cycle.submission_deadline


async def checklist(
    session: AsyncSession, cycle: MonitoringCycle, city_id: UUID, *, registry: ModuleRegistry, refresh: bool = True
) -> Checklist:
    """The city's sections of the year; with ``refresh`` (an open cycle), the automatic checks run first and
    their results are stored (so the admins' matrix shows them)."""
    sections = await _sections_of(session, cycle.id, city_id)
    views: list[SectionView] = []
    now = _now()
    for section in sections:
        link = section_link(section.module, city_id)
        if refresh and cycle.is_open and section.status in OPEN_FOR_CITY:
            completeness, missing, hook_link = await run_check(
                session, section.module, registry.get(section.module), city_id, cycle.year
            )
            link = hook_link or link
            if section.completeness != completeness or (section.missing or []) != missing:
                section.completeness = completeness
                section.missing = missing
            section.checked_at = now
            if section.status != SectionStatus.returned:
                section.status = SectionStatus.in_progress if completeness > 0 else SectionStatus.not_started
        views.append(_view(section, registry, link))
    delays = list(
        await session.scalars(
            select(DelayRequest)
            .where(DelayRequest.cycle_id == cycle.id, DelayRequest.city_id == city_id)
            .order_by(DelayRequest.created_at.desc())
        )
    )
    return Checklist(cycle, city_id, await city_deadline(session, cycle, city_id), views, delays)


def _view(section: MonitoringSection, registry: ModuleRegistry, link: str | None = None) -> SectionView:
    return SectionView(
        id=section.id,
        city_id=section.city_id,
        module=section.module,
        title=section_title(section.module, registry),
        status=section.status,
        completeness=section.completeness,
        missing=list(section.missing or []),
        comment=section.comment,
        link=link or section_link(section.module, section.city_id),
        submitted_at=section.submitted_at,
        decided_at=section.decided_at,
    )


async def submit_city(
    session: AsyncSession, cycle: MonitoringCycle, city_id: UUID, *, registry: ModuleRegistry, actor: Actor
) -> Checklist:
    """Submit every section the city still works on, once the automatic checks find nothing missing."""
    if not cycle.is_open:
        raise MonitoringError(
            _("The {year} monitoring is not open; nothing can be submitted.").format(year=cycle.year), status_code=409
        )
    result = await checklist(session, cycle, city_id, registry=registry)
    if not result.sections:
        raise MonitoringError(
            _("This city has no section in the {year} monitoring.").format(year=cycle.year), status_code=404
        )
    pending = [s for s in result.sections if s.open_for_city]
    if not pending:
        raise MonitoringError(_("Every section is already submitted."), status_code=409)
    incomplete = [s for s in pending if not s.complete]
    if incomplete:
        raise MonitoringError(
            _("Some sections are incomplete: {names}.").format(names=", ".join(s.title for s in incomplete)),
            "sections",
            details=[{"section": s.module, "title": s.title, "missing": s.missing} for s in incomplete],
        )
    now = _now()
    rows = {s.id: s for s in await _sections_of(session, cycle.id, city_id)}
    for view in pending:
        row = rows[view.id]
        row.status = SectionStatus.submitted
        row.submitted_at = now
        view.status, view.submitted_at = row.status, now
    audit(
        session,
        actor=actor,
        action="monitoring.submitted",
        entity_type="city",
        entity_id=city_id,
        after={
            "year": cycle.year,
            "sections": [s.module for s in pending],
            "late": _today() > result.deadline,
        },
    )
    return result


async def mark_submitted(
    session: AsyncSession, year: int, city_id: UUID, module: str, completeness: int
) -> MonitoringSection | None:
    """A module reported (``cycle.section_submitted``) that the city completed its section: the checklist
    shows it submitted. Ignored when the cycle is not open or the section is already submitted."""
    cycle = await cycle_by_year(session, year)
    if cycle is None or not cycle.is_open:
        return None
    section: MonitoringSection | None = await session.scalar(
        select(MonitoringSection).where(
            MonitoringSection.cycle_id == cycle.id,
            MonitoringSection.city_id == city_id,
            MonitoringSection.module == module,
        )
    )
    if section is None or section.status not in OPEN_FOR_CITY:
        return None
    section.status = SectionStatus.submitted
    section.submitted_at = _now()
    section.completeness = max(section.completeness, max(0, min(100, completeness)))
    audit(
        session,
        actor=None,
        action="monitoring.section_submitted",
        entity_type="city",
        entity_id=city_id,
        after={"year": year, "section": module},
    )
    return section


# -- the secretariat's decisions ----------------------------------------------------------------------


async def section_of(session: AsyncSession, cycle: MonitoringCycle, section_id: UUID) -> MonitoringSection | None:
    section: MonitoringSection | None = await session.get(MonitoringSection, section_id)
    return section if section is not None and section.cycle_id == cycle.id else None


async def validate_section(
    session: AsyncSession, cycle: MonitoringCycle, section: MonitoringSection, *, comment: str, actor: Actor
) -> None:
    """Validate a submitted section; the city earns the section's stage badge for the year."""
    if not cycle.is_open:
        raise MonitoringError(_("The cycle is not open; sections can no longer be decided."), status_code=409)
    if section.status != SectionStatus.submitted:
        raise MonitoringError(
            _("Only a submitted section can be validated; this one is “{status}”.").format(
                status=_(SECTION_STATUS_LABELS[section.status])
            ),
            status_code=409,
        )
    before = {"status": section.status, "comment": section.comment}
    section.status = SectionStatus.validated
    section.comment = comment.strip()
    section.decided_at = _now()
    section.decided_by = _actor_id(actor)
    await award_badge(session, section.city_id, cycle.year, section.module)
    audit(
        session,
        actor=actor,
        action="monitoring.section_validated",
        entity_type="monitoring_section",
        entity_id=section.id,
        before=before,
        after={"status": section.status, "comment": section.comment, "module": section.module},
    )


async def return_section(
    session: AsyncSession,
    cycle: MonitoringCycle,
    section: MonitoringSection,
    *,
    comment: str,
    actor: Actor,
    registry: ModuleRegistry,
) -> None:
    """Return a submitted section with a comment: it reopens for the city, which is told why."""
    if not cycle.is_open:
        raise MonitoringError(_("The cycle is not open; sections can no longer be decided."), status_code=409)
    if section.status != SectionStatus.submitted:
        raise MonitoringError(
            _("Only a submitted section can be returned; this one is “{status}”.").format(
                status=_(SECTION_STATUS_LABELS[section.status])
            ),
            status_code=409,
        )
    if not comment.strip():
        raise MonitoringError(_("Say what the city should change; it receives your comment."), "comment")
    before = {"status": section.status, "comment": section.comment}
    section.status = SectionStatus.returned
    section.comment = comment.strip()
    section.decided_at = _now()
    section.decided_by = _actor_id(actor)
    audit(
        session,
        actor=actor,
        action="monitoring.section_returned",
        entity_type="monitoring_section",
        entity_id=section.id,
        before=before,
        after={"status": section.status, "comment": section.comment, "module": section.module},
    )
    title = section_title(section.module, registry)
    for address in (await addresses_of(session, [section.city_id])).get(section.city_id, set()):
        queue_mail(
            session,
            to=address,
            subject=_("Monitoring {year}: a section is returned to you").format(year=cycle.year),
            body_text=_(
                "Hello,\n\nThe secretariat returned the section “{section}” of your {year} monitoring with this "
                "comment:\n\n{comment}\n\nComplete it and submit again from your checklist:\n"
                "{link}\n"
            ).format(
                section=title,
                year=cycle.year,
                comment=section.comment,
                link=checklist_url(section.city_id, cycle.year),
            ),
        )


async def award_badge(session: AsyncSession, city_id: UUID, year: int, key: str) -> bool:
    found = await session.scalar(
        select(Badge.id).where(Badge.city_id == city_id, Badge.year == year, Badge.badge == key)
    )
    if found is not None:
        return False
    session.add(Badge(city_id=city_id, year=year, badge=key, awarded_at=_now()))
    return True


@dataclass(frozen=True)
class BadgeView:
    year: int
    key: str
    label: str


async def badges_of(session: AsyncSession, city_id: UUID, registry: ModuleRegistry) -> list[BadgeView]:
    rows = await session.execute(
        select(Badge.year, Badge.badge).where(Badge.city_id == city_id).order_by(Badge.year.desc(), Badge.badge)
    )
    return [BadgeView(y, b, badge_label(b, registry)) for y, b in rows.all()]


# -- who hears about it ---------------------------------------------------------------------------------


async def addresses_of(session: AsyncSession, city_ids: Iterable[UUID] | Any) -> dict[UUID, set[str]]:
    """Each city's mayor's office (users) and its membership contact. ``city_ids`` may be a subquery."""
    ids = city_ids if not isinstance(city_ids, list | tuple | set) else list(city_ids)
    out: dict[UUID, set[str]] = defaultdict(set)
    if isinstance(ids, list) and not ids:
        return out
    users = await session.execute(
        select(RoleGrant.city_id, User.email)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.role == "mayors_office", RoleGrant.city_id.in_(ids))
    )
    for city_id, email in users.all():
        if city_id is not None and email:
            out[city_id].add(email)
    contacts = await session.execute(
        select(Membership.city_id, Membership.contact_email).where(Membership.city_id.in_(ids))
    )
    for city_id, email in contacts.all():
        if email:
            out[city_id].add(email)
    return out


def _incomplete_cities(cycle: MonitoringCycle) -> Any:
    """Active signatories with at least one section they still work on (a subquery of city ids)."""
    return (
        select(MonitoringSection.city_id)
        .join(Membership, Membership.city_id == MonitoringSection.city_id)
        .where(
            MonitoringSection.cycle_id == cycle.id,
            MonitoringSection.status.in_([s.value for s in OPEN_FOR_CITY]),
            Membership.status == ACTIVE,
        )
        .distinct()
    )


async def send_reminders(
    session: AsyncSession,
    cycle: MonitoringCycle,
    *,
    registry: ModuleRegistry,
    days_before: Sequence[int] = (),
    actor: Actor = None,
    today: date | None = None,
) -> tuple[int, int]:
    """Remind the cities with incomplete sections (and only them) of the deadline, listing what remains.
    ``days_before``: the scheduled rounds this sends (each logged, so it is sent once); empty for one by hand.
    Returns (cities, mails)."""
    if not cycle.is_open:
        raise MonitoringError(_("Reminders go out only while the cycle is open."), status_code=409)
    today = today or _today()
    rows = (
        await session.execute(
            select(MonitoringSection.city_id, MonitoringSection.module, City.name)
            .join(City, City.id == MonitoringSection.city_id)
            .where(
                MonitoringSection.cycle_id == cycle.id,
                MonitoringSection.status.in_([s.value for s in OPEN_FOR_CITY]),
                MonitoringSection.city_id.in_(_incomplete_cities(cycle)),
            )
        )
    ).all()
    pending: dict[UUID, list[str]] = defaultdict(list)
    names: dict[UUID, str] = {}
    for city_id, module, name in rows:
        pending[city_id].append(section_title(module, registry))
        names[city_id] = name
    addresses = await addresses_of(session, _incomplete_cities(cycle)) if pending else {}
    delay_rows = await session.execute(
        select(DelayRequest.city_id, func.max(DelayRequest.requested_until))
        .where(DelayRequest.cycle_id == cycle.id, DelayRequest.status == DelayStatus.granted)
        .group_by(DelayRequest.city_id)
    )
    delays: dict[UUID, date] = {row[0]: row[1] for row in delay_rows.all()}
    mails = 0
    for city_id, sections in pending.items():
        deadline = max(cycle.submission_deadline, delays.get(city_id) or cycle.submission_deadline)
        for address in sorted(addresses.get(city_id, ())):
            queue_mail(
                session,
                to=address,
                subject=_("Monitoring {year}: due on {date}").format(year=cycle.year, date=format_date(deadline)),
                body_text=_(
                    "Hello,\n\nThe {year} monitoring of {city} is due on {date}. These sections are not submitted "
                    "yet:\n\n{sections}\n\nYour checklist: {link}\n"
                ).format(
                    year=cycle.year,
                    city=names[city_id],
                    date=format_date(deadline),
                    sections="\n".join(f"- {s}" for s in sorted(sections)),
                    link=checklist_url(city_id, cycle.year),
                ),
            )
            mails += 1
    rounds: list[int | None] = list(days_before) or [None]
    for days in rounds:
        session.add(Reminder(cycle_id=cycle.id, days_before=days, sent_at=_now(), cities=len(pending), mails=mails))
    audit(
        session,
        actor=actor,
        action="monitoring.reminded",
        entity_type="monitoring_cycle",
        entity_id=cycle.id,
        after={"cities": len(pending), "mails": mails, "days_before": list(days_before), "on": today.isoformat()},
    )
    return len(pending), mails


async def due_reminder_days(session: AsyncSession, cycle: MonitoringCycle, today: date) -> list[int]:
    """The scheduled reminder rounds due by ``today`` and not sent yet (none after the deadline)."""
    if not cycle.is_open or today > cycle.submission_deadline:
        return []
    sent = set(
        await session.scalars(
            select(Reminder.days_before).where(Reminder.cycle_id == cycle.id, Reminder.days_before.is_not(None))
        )
    )
    return [
        d for d in cycle.reminder_days or [] if d not in sent and cycle.submission_deadline - timedelta(days=d) <= today
    ]


async def reminders_sent(session: AsyncSession, cycle: MonitoringCycle) -> list[Reminder]:
    rows = await session.scalars(
        select(Reminder).where(Reminder.cycle_id == cycle.id).order_by(Reminder.sent_at.desc())
    )
    return list(rows)


# -- delays -----------------------------------------------------------------------------------------------


async def request_delay(
    session: AsyncSession,
    cycle: MonitoringCycle,
    city_id: UUID,
    data: DelayInput,
    *,
    actor: Actor,
    today: date | None = None,
) -> DelayRequest:
    """A city asks for more time, before its deadline, for a date after it and no later than the
    validation deadline; one request waits for a decision at a time."""
    today = today or _today()
    if not cycle.is_open:
        raise MonitoringError(_("The {year} monitoring is not open.").format(year=cycle.year), status_code=409)
    deadline = await city_deadline(session, cycle, city_id)
    if today > deadline:
        raise MonitoringError(
            _("The deadline ({date}) has passed: a delay must be requested before it.").format(
                date=format_date(deadline)
            ),
            "requested_until",
        )
    if data.requested_until <= deadline:
        raise MonitoringError(
            _("Ask for a date after the current deadline ({date}).").format(date=format_date(deadline)),
            "requested_until",
        )
    if data.requested_until > cycle.validation_deadline:
        raise MonitoringError(
            _("A delay cannot go past the validation deadline ({date}).").format(
                date=format_date(cycle.validation_deadline)
            ),
            "requested_until",
        )
    waiting = await session.scalar(
        select(DelayRequest.id).where(
            DelayRequest.cycle_id == cycle.id,
            DelayRequest.city_id == city_id,
            DelayRequest.status == DelayStatus.pending,
        )
    )
    if waiting is not None:
        raise MonitoringError(_("A delay request already waits for the secretariat's decision."), status_code=409)
    delay = DelayRequest(
        cycle_id=cycle.id,
        city_id=city_id,
        requested_until=data.requested_until,
        reason=data.reason,
        status=DelayStatus.pending,
        requested_by=_actor_id(actor),
    )
    session.add(delay)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="monitoring.delay_requested",
        entity_type="monitoring_delay_request",
        entity_id=delay.id,
        after={
            "year": cycle.year,
            "city_id": str(city_id),
            "until": data.requested_until.isoformat(),
            "reason": data.reason,
        },
    )
    return delay


async def decide_delay(
    session: AsyncSession,
    cycle: MonitoringCycle,
    delay: DelayRequest,
    *,
    grant: bool,
    comment: str,
    actor: Actor,
) -> None:
    """Grant or refuse a waiting delay request; the decision is recorded, audited and sent to the city."""
    if delay.cycle_id != cycle.id or delay.status != DelayStatus.pending:
        raise MonitoringError(_("This delay request is already decided."), status_code=409)
    if not grant and not comment.strip():
        raise MonitoringError(_("Give the reason for refusing; the city receives it."), "comment")
    delay.status = DelayStatus.granted if grant else DelayStatus.refused
    delay.decided_by = _actor_id(actor)
    delay.decided_at = _now()
    delay.decision_comment = comment.strip()
    audit(
        session,
        actor=actor,
        action="monitoring.delay_granted" if grant else "monitoring.delay_refused",
        entity_type="monitoring_delay_request",
        entity_id=delay.id,
        before={"status": DelayStatus.pending.value},
        after={"status": delay.status, "comment": delay.decision_comment},
    )
    if grant:
        record_event(
            session,
            DeadlineAnnounced(
                actor=_actor_id(actor),
                city_id=delay.city_id,
                source="core",
                key=f"monitoring-{cycle.year}-delay-{delay.city_id}",
                title=_("Monitoring {year}: your extended deadline").format(year=cycle.year),
                due_on=delay.requested_until,
                audience="city",
                link=f"/cities/{delay.city_id}/monitoring/{cycle.year}",
            ),
        )
    subject = (
        _("Monitoring {year}: your delay is granted")
        if grant
        else _("Monitoring {year}: your delay request is refused")
    ).format(year=cycle.year)
    body = (
        _("Hello,\n\nThe secretariat granted your delay: submit by {date}.\n\n{comment}\n")
        if grant
        else _("Hello,\n\nThe secretariat could not grant your delay; the deadline stays {date}.\n\n{comment}\n")
    ).format(
        date=format_date(delay.requested_until if grant else cycle.submission_deadline), comment=delay.decision_comment
    )
    for address in (await addresses_of(session, [delay.city_id])).get(delay.city_id, set()):
        queue_mail(session, to=address, subject=subject, body_text=body)


@dataclass(frozen=True)
class DelayRow:
    request: DelayRequest
    city_name: str
    country_code: str


async def delay_requests(session: AsyncSession, cycle: MonitoringCycle, status: str = "") -> list[DelayRow]:
    query = (
        select(DelayRequest, City.name, City.country_code)
        .join(City, City.id == DelayRequest.city_id)
        .where(DelayRequest.cycle_id == cycle.id)
    )
    if status:
        query = query.where(DelayRequest.status == status)
    rows = await session.execute(query.order_by(DelayRequest.created_at))
    return [DelayRow(d, n, c) for d, n, c in rows.all()]


# -- written notices and suspension ------------------------------------------------------------------------


async def send_notices(
    session: AsyncSession, cycle: MonitoringCycle, *, actor: Actor, today: date | None = None
) -> int:
    """After the validation deadline, a written notice to every active signatory that has not submitted
    (a city with a delay granted beyond today waits); once per city. Returns how many were sent."""
    today = today or _today()
    if today <= cycle.validation_deadline:
        raise MonitoringError(
            _("Written notices go out after the validation deadline ({date}).").format(
                date=format_date(cycle.validation_deadline)
            ),
            status_code=409,
        )
    if cycle.status == CycleStatus.draft:
        raise MonitoringError(_("The cycle was never opened."), status_code=409)
    excused = select(DelayRequest.city_id).where(
        DelayRequest.cycle_id == cycle.id,
        DelayRequest.status == DelayStatus.granted,
        DelayRequest.requested_until >= today,
    )
    noticed = select(Notice.city_id).where(Notice.cycle_id == cycle.id)
    cities_query = (
        select(City.id, City.name)
        .where(City.id.in_(_incomplete_cities(cycle)), City.id.not_in(excused), City.id.not_in(noticed))
        .order_by(City.name)
    )
    targets = (await session.execute(cities_query)).all()
    if not targets:
        return 0
    grace_until = today + timedelta(days=cycle.grace_days)
    now = _now()
    await session.execute(
        insert(cast(Table, Notice.__table__)),
        [
            {
                "id": _new_id(),
                "cycle_id": cycle.id,
                "city_id": city_id,
                "sent_on": today,
                "grace_until": grace_until,
                "created_at": now,
                "updated_at": now,
            }
            for city_id, _name in targets
        ],
    )
    addresses = await addresses_of(session, [c for c, _n in targets])
    for city_id, name in targets:
        audit(
            session,
            actor=actor,
            action="monitoring.notice_sent",
            entity_type="city",
            entity_id=city_id,
            after={"year": cycle.year, "sent_on": today.isoformat(), "grace_until": grace_until.isoformat()},
        )
        for address in sorted(addresses.get(city_id, ())):
            queue_mail(
                session,
                to=address,
                subject=_("Written notice: the {year} monitoring of {city} is missing").format(
                    year=cycle.year, city=name
                ),
                body_text=_(
                    "Hello,\n\n{city} has not submitted its {year} monitoring, due by {deadline}. This is the written "
                    "notice foreseen by the Covenant's rules: unless the monitoring is submitted by {grace}, the "
                    "secretariat may suspend the membership of {city}.\n\n"
                    "Your checklist: {link}\n"
                ).format(
                    city=name,
                    year=cycle.year,
                    deadline=format_date(cycle.submission_deadline),
                    grace=format_date(grace_until),
                    link=checklist_url(city_id, cycle.year),
                ),
            )
    return len(targets)


def _new_id() -> UUID:
    from covenant.db import new_id

    return new_id()


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    city_name: str
    country_code: str
    membership_status: str
    sections_open: int

    def may_suspend(self, today: date) -> bool:
        return (
            self.notice.suspended_at is None
            and today > self.notice.grace_until
            and self.membership_status == ACTIVE
            and self.sections_open > 0
        )


async def notices(session: AsyncSession, cycle: MonitoringCycle) -> list[NoticeRow]:
    open_sections = (
        select(MonitoringSection.city_id, func.count().label("n"))
        .where(
            MonitoringSection.cycle_id == cycle.id,
            MonitoringSection.status.in_([s.value for s in OPEN_FOR_CITY]),
        )
        .group_by(MonitoringSection.city_id)
        .subquery()
    )
    rows = await session.execute(
        select(Notice, City.name, City.country_code, Membership.status, func.coalesce(open_sections.c.n, 0))
        .join(City, City.id == Notice.city_id)
        .join(Membership, Membership.city_id == Notice.city_id)
        .outerjoin(open_sections, open_sections.c.city_id == Notice.city_id)
        .where(Notice.cycle_id == cycle.id)
        .order_by(Notice.grace_until, City.name)
    )
    return [NoticeRow(n, name, code, status, int(count)) for n, name, code, status, count in rows.all()]


async def suspend_after_notice(
    session: AsyncSession,
    cycle: MonitoringCycle,
    notice: Notice,
    *,
    confirm: bool,
    reason: str,
    actor: Actor,
    today: date | None = None,
) -> None:
    """The admin confirms the suspension of a noticed city whose grace period is over and which still has
    not submitted: the membership lifecycle suspends it (``city.suspended``)."""
    today = today or _today()
    if notice.cycle_id != cycle.id:
        raise MonitoringError(_("No such notice."), status_code=404)
    if not confirm:
        raise MonitoringError(_("Tick the box to confirm the suspension."), "confirm")
    if notice.suspended_at is not None:
        raise MonitoringError(_("This city is already suspended."), status_code=409)
    if today <= notice.grace_until:
        raise MonitoringError(
            _("The grace period runs until {date}; the city cannot be suspended before.").format(
                date=format_date(notice.grace_until)
            ),
            status_code=409,
        )
    still_open = await session.scalar(
        select(func.count()).where(
            MonitoringSection.cycle_id == cycle.id,
            MonitoringSection.city_id == notice.city_id,
            MonitoringSection.status.in_([s.value for s in OPEN_FOR_CITY]),
        )
    )
    if not still_open:
        raise MonitoringError(_("The city has submitted since the notice; it is not suspended."), status_code=409)
    city = await session.get(City, notice.city_id)
    assert city is not None
    text = reason.strip() or _(
        "The {year} monitoring was not submitted by the deadline, despite the written notice of {date}."
    ).format(year=cycle.year, date=format_date(notice.sent_on))
    try:
        # Our own record's values (the reason was validated by SuspendInput; the notice date is the day the
        # notice went out), built without the form's "not in the future" check that protects typed dates.
        form = DecisionForm.model_construct(reason=text, notice_date=notice.sent_on)
        await cities.decide(session, city, "suspend", form, actor=actor)
    except cities.TransitionRefused as exc:
        raise MonitoringError(str(exc), status_code=409) from exc
    notice.suspended_at = _now()
    notice.confirmed_by = _actor_id(actor)


# -- the admins' views --------------------------------------------------------------------------------


@dataclass
class ProgressLine:
    key: str
    sections: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return sum(self.by_status.get(s, 0) for s in DONE)

    @property
    def share(self) -> float:
        return self.done / self.sections if self.sections else 0.0


@dataclass
class Summary:
    cycle: MonitoringCycle
    total: ProgressLine
    by_module: list[ProgressLine]
    by_country: list[ProgressLine]
    pending_delays: int
    cities: int


async def progress(session: AsyncSession, cycle: MonitoringCycle) -> ProgressLine:
    """The whole cycle's progress in one GROUP BY (what the progress bar polls)."""
    rows = await session.execute(
        select(MonitoringSection.status, func.count())
        .where(MonitoringSection.cycle_id == cycle.id)
        .group_by(MonitoringSection.status)
    )
    line = ProgressLine("total")
    for status, count in rows.all():
        line.by_status[status] = int(count)
        line.sections += int(count)
    return line


async def summary(session: AsyncSession, cycle: MonitoringCycle, registry: ModuleRegistry) -> Summary:
    """Completion per module and per country, each in one GROUP BY."""
    modules: dict[str, ProgressLine] = {}
    for module, status, count in (
        await session.execute(
            select(MonitoringSection.module, MonitoringSection.status, func.count())
            .where(MonitoringSection.cycle_id == cycle.id)
            .group_by(MonitoringSection.module, MonitoringSection.status)
        )
    ).all():
        line = modules.setdefault(module, ProgressLine(module))
        line.by_status[status] = int(count)
        line.sections += int(count)
    countries: dict[str, ProgressLine] = {}
    for country, status, count in (
        await session.execute(
            select(City.country_code, MonitoringSection.status, func.count())
            .join(City, City.id == MonitoringSection.city_id)
            .where(MonitoringSection.cycle_id == cycle.id)
            .group_by(City.country_code, MonitoringSection.status)
        )
    ).all():
        line = countries.setdefault(country, ProgressLine(country))
        line.by_status[status] = int(count)
        line.sections += int(count)
    total = ProgressLine("total")
    for line in modules.values():
        total.sections += line.sections
        for status, count in line.by_status.items():
            total.by_status[status] = total.by_status.get(status, 0) + count
    order = section_keys(registry)
    pending = await session.scalar(
        select(func.count()).where(DelayRequest.cycle_id == cycle.id, DelayRequest.status == DelayStatus.pending)
    )
    cities_count = await session.scalar(select(func.count()).where(Participant.cycle_id == cycle.id))
    return Summary(
        cycle,
        total,
        sorted(modules.values(), key=lambda m: (order.index(m.key) if m.key in order else len(order), m.key)),
        sorted(countries.values(), key=lambda c: c.key),
        int(pending or 0),
        int(cities_count or 0),
    )


@dataclass(frozen=True)
class MatrixFilters:
    country: str = ""
    size_class: str = ""
    module: str = ""
    status: str = ""

    @classmethod
    def of(cls, country: str, size_class: str, module: str, status: str, keys: Sequence[str]) -> MatrixFilters:
        return cls(
            country.strip().upper()[:2],
            size_class if size_class in SIZE_CLASSES else "",
            module if module in keys else "",
            status if status in SECTION_STATUS_LABELS else "",
        )

    def query(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class MatrixCell:
    id: UUID
    status: str
    completeness: int


@dataclass
class MatrixRow:
    city_id: UUID
    name: str
    country_code: str
    size_class: str
    sections: dict[str, MatrixCell]


async def matrix(
    session: AsyncSession, cycle: MonitoringCycle, filters: MatrixFilters, *, offset: int, limit: int
) -> tuple[list[MatrixRow], int]:
    """One page of cities by sections: the cycle's roster first (filtered, by name, paginated, on its own
    indexes), then the sections of that page in one query: three statements whatever the page size."""
    conditions: list[ColumnElement[bool]] = [Participant.cycle_id == cycle.id]
    if filters.country:
        conditions.append(Participant.country_code == filters.country)
    if filters.size_class:
        conditions.append(Participant.size_class == filters.size_class)
    if filters.module or filters.status:
        has_section = select(MonitoringSection.id).where(
            MonitoringSection.cycle_id == cycle.id, MonitoringSection.city_id == Participant.city_id
        )
        if filters.module:
            has_section = has_section.where(MonitoringSection.module == filters.module)
        if filters.status:
            has_section = has_section.where(MonitoringSection.status == filters.status)
        conditions.append(exists(has_section))
    where = and_(*conditions)
    total = int(await session.scalar(select(func.count()).select_from(Participant).where(where)) or 0)
    cities_page = (
        await session.execute(
            select(Participant.city_id, Participant.name, Participant.country_code, Participant.size_class)
            .where(where)
            .order_by(Participant.name, Participant.city_id)
            .offset(offset)
            .limit(limit)
        )
    ).all()
    rows = {c.city_id: MatrixRow(c.city_id, c.name, c.country_code, c.size_class, {}) for c in cities_page}
    if rows:
        cells = await session.execute(
            select(
                MonitoringSection.id,
                MonitoringSection.city_id,
                MonitoringSection.module,
                MonitoringSection.status,
                MonitoringSection.completeness,
            ).where(MonitoringSection.cycle_id == cycle.id, MonitoringSection.city_id.in_(list(rows)))
        )
        for section_id, city_id, module, status, completeness in cells.all():
            rows[city_id].sections[module] = MatrixCell(section_id, status, completeness)
    return list(rows.values()), total


async def matrix_countries(session: AsyncSession, cycle: MonitoringCycle) -> list[str]:
    rows = await session.scalars(
        select(Participant.country_code)
        .where(Participant.cycle_id == cycle.id)
        .distinct()
        .order_by(Participant.country_code)
    )
    return list(rows)


@dataclass(frozen=True)
class CityCycle:
    city: City
    membership_status: str | None
    checklist: Checklist
    notice: Notice | None


async def city_in_cycle(
    session: AsyncSession, cycle: MonitoringCycle, city_id: UUID, *, registry: ModuleRegistry, refresh: bool
) -> CityCycle | None:
    city = await session.get(City, city_id)
    if city is None:
        return None
    result = await checklist(session, cycle, city_id, registry=registry, refresh=refresh)
    membership = await cities.membership_of(session, city_id)
    notice = await session.scalar(select(Notice).where(Notice.cycle_id == cycle.id, Notice.city_id == city_id))
    return CityCycle(city, membership.status if membership else None, result, notice)


async def city_cycles(session: AsyncSession, city_id: UUID) -> list[MonitoringCycle]:
    """The cycles in which the city has sections, the latest first."""
    rows = await session.scalars(
        select(MonitoringCycle)
        .where(MonitoringCycle.id.in_(select(MonitoringSection.cycle_id).where(MonitoringSection.city_id == city_id)))
        .order_by(MonitoringCycle.year.desc())
    )
    return list(rows)


async def size_class_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(City.size_class, func.count())
        .join(Membership, Membership.city_id == City.id)
        .where(Membership.status == ACTIVE)
        .group_by(City.size_class)
    )
    counts = {s.value: 0 for s in SizeClass}
    counts.update({k: int(v) for k, v in rows.all()})
    return counts


def done_case() -> Any:
    return case((MonitoringSection.status.in_([s.value for s in DONE]), 1), else_=0)
