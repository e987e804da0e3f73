"""Business rules of commitments: drafting, publishing, progress, withdrawal, CSV, public figures.

Services never commit: the caller's transaction (the request, the demo loader, a test) does, so a state
change, its audit entries and its events are saved together or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.cities.models import City, Membership, MembershipStatus
from covenant.commitments.events import CommitmentAchieved, CommitmentProgressed, CommitmentPublished
from covenant.commitments.models import Commitment, CommitmentStatus, ProgressUpdate
from covenant.commitments.schemas import CommitmentInput, ProgressInput
from covenant.db import new_id
from covenant.events import outbox
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.web.pagination import Page
from covenant.web.validation import message_for

Actor = Identity | UUID | None
ENTITY = "commitment"


class CommitmentError(ValueError):
    """A rule of the domain refused the input; ``field`` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CsvImportError(ValueError):
    """The file was refused as a whole; ``errors`` are messages naming the line and the column."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass
class CommitmentView:
    """A commitment ready to show: its own fields, its city, its computed progress and its timeline."""

    id: UUID
    city_id: UUID
    city_name: str
    country_code: str
    parent_id: UUID | None
    title: str
    description: str
    language: str
    priority: str
    modules: list[str]
    indicator: str
    baseline: float | None
    target_value: float | None
    unit: str
    start_date: date
    due_date: date
    status: str
    progress: int
    weight: int
    published: bool
    published_at: datetime | None
    children: int = 0
    depth: int = 0
    updates: list[ProgressUpdate] = field(default_factory=list)


# --- progress ---------------------------------------------------------------------------------------


def weighted_progress(commitments: Iterable[Commitment], *, published_only: bool = True) -> dict[UUID, int]:
    """The progress of every commitment given, in percent (0 to 100).

    The rule:

    * an *achieved* commitment is at 100 %, whatever its children say;
    * a commitment without counted children keeps its own progress (its latest progress update, or the
      default of its status: planned 0 %, achieved 100 %);
    * a commitment with counted children is at the weighted mean of its children's progress (each child's
      own progress computed by this same rule, recursively): ``round(sum(weight * progress) / sum(weight))``;
    * children counted are those not *withdrawn* and, when ``published_only`` (what the public sees), those
      published — a draft is not yet a commitment and must not move the public figure.

    Commitments whose parent is not among those given are roots. A cycle (which the services refuse) would
    be cut where it is met, never looped over.
    """
    rows = {c.id: c for c in commitments}
    children: dict[UUID, list[Commitment]] = {}
    for c in rows.values():
        counted = c.status != CommitmentStatus.withdrawn and (c.published_at is not None or not published_only)
        if c.parent_id in rows and counted:
            children.setdefault(c.parent_id, []).append(c)
    result: dict[UUID, int] = {}

    def compute(c: Commitment, seen: frozenset[UUID]) -> int:
        if c.id in result:
            return result[c.id]
        if c.status == CommitmentStatus.achieved:
            value = 100
        else:
            kids = [k for k in children.get(c.id, []) if k.id not in seen]
            total_weight = sum(max(1, k.weight) for k in kids)
            if kids and total_weight:
                value = round(sum(max(1, k.weight) * compute(k, seen | {c.id}) for k in kids) / total_weight)
            else:
                value = c.progress
        result[c.id] = max(0, min(100, value))
        return result[c.id]

    for c in rows.values():
        compute(c, frozenset())
    return result


# --- reading ----------------------------------------------------------------------------------------


async def can_publish_for(session: AsyncSession, city_id: UUID) -> bool:
    """Whether commitments of this city may be published: only an active signatory's (a suspended or
    withdrawn city, or one that never signed, may not; the route guard already checked the user's grant)."""
    status = await session.scalar(select(Membership.status).where(Membership.city_id == city_id))
    return status == MembershipStatus.signatory


async def get_commitment(session: AsyncSession, commitment_id: UUID) -> Commitment | None:
    return await session.get(Commitment, commitment_id)


async def get_city_commitment(session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Commitment | None:
    """The commitment only when it belongs to that city (a route of city A never reaches city B's rows)."""
    commitment = await session.get(Commitment, commitment_id)
    if commitment is None or commitment.city_id != city_id:
        return None
    return commitment


async def _views(
    session: AsyncSession,
    commitments: Sequence[Commitment],
    *,
    published_only: bool,
    with_updates: bool,
    tree: Sequence[Commitment] | None = None,
) -> list[CommitmentView]:
    """Views of ``commitments`` with progress computed over their cities' whole trees (``tree``, when the
    caller already holds it: every commitment of those cities, published ones only if ``published_only``)."""
    if not commitments:
        return []
    city_ids = {c.city_id for c in commitments}
    cities = {
        row.id: row
        for row in (await session.execute(select(City.id, City.name, City.country_code).where(City.id.in_(city_ids))))
    }
    if tree is None:
        tree_query = select(Commitment).where(Commitment.city_id.in_(city_ids))
        if published_only:
            tree_query = tree_query.where(Commitment.published_at.is_not(None))
        tree = list((await session.scalars(tree_query)).all())
    progress = weighted_progress([*tree, *commitments], published_only=published_only)
    counted_children: dict[UUID, int] = {}
    for c in tree:
        if c.parent_id is not None and c.status != CommitmentStatus.withdrawn:
            counted_children[c.parent_id] = counted_children.get(c.parent_id, 0) + 1
    updates: dict[UUID, list[ProgressUpdate]] = {}
    if with_updates:
        rows = await session.scalars(
            select(ProgressUpdate)
            .where(ProgressUpdate.commitment_id.in_([c.id for c in commitments]))
            .order_by(ProgressUpdate.reported_on, ProgressUpdate.created_at)
        )
        for update in rows:
            updates.setdefault(update.commitment_id, []).append(update)
    parents = {c.id: c.parent_id for c in tree}
    views = []
    for c in commitments:
        city = cities.get(c.city_id)
        depth, cursor, seen = 0, c.parent_id, set()
        while cursor is not None and cursor in parents and cursor not in seen:
            seen.add(cursor)
            depth, cursor = depth + 1, parents[cursor]
        views.append(
            CommitmentView(
                id=c.id,
                city_id=c.city_id,
                city_name=city.name if city else "",
                country_code=city.country_code if city else "",
                parent_id=c.parent_id,
                title=c.title,
                description=c.description,
                language=c.language,
                priority=c.priority,
                modules=list(c.modules or []),
                indicator=c.indicator,
                baseline=c.baseline,
                target_value=c.target_value,
                unit=c.unit,
                start_date=c.start_date,
                due_date=c.due_date,
                status=c.status,
                progress=progress.get(c.id, c.progress),
                weight=c.weight,
                published=c.published_at is not None,
                published_at=c.published_at,
                children=counted_children.get(c.id, 0),
                depth=depth,
                updates=updates.get(c.id, []),
            )
        )
    return views


def _tree_order(commitments: Sequence[Commitment]) -> list[Commitment]:
    """Parents first, each followed by its children (by start date), so a list reads as an outline."""
    ids = {c.id for c in commitments}
    by_parent: dict[UUID | None, list[Commitment]] = {}
    for c in commitments:
        by_parent.setdefault(c.parent_id if c.parent_id in ids else None, []).append(c)
    ordered: list[Commitment] = []
    seen: set[UUID] = set()

    def walk(parent: UUID | None) -> None:
        for c in sorted(by_parent.get(parent, []), key=lambda c: (c.start_date, c.title)):
            if c.id not in seen:
                seen.add(c.id)
                ordered.append(c)
                walk(c.id)

    walk(None)
    ordered.extend(c for c in commitments if c.id not in seen)
    return ordered


async def public_commitments_of(session: AsyncSession, city_id: UUID) -> list[CommitmentView]:
    """A city's published commitments (withdrawn ones included, marked so), parents before their
    children, each with its computed progress and its progress timeline — for the city's public profile."""
    rows = (
        await session.scalars(
            select(Commitment).where(Commitment.city_id == city_id, Commitment.published_at.is_not(None))
        )
    ).all()
    return await _views(session, _tree_order(rows), published_only=True, with_updates=True, tree=rows)


async def city_commitments(session: AsyncSession, city_id: UUID) -> list[CommitmentView]:
    """All of a city's commitments, drafts included, for its editors."""
    rows = (await session.scalars(select(Commitment).where(Commitment.city_id == city_id))).all()
    return await _views(session, _tree_order(rows), published_only=False, with_updates=False, tree=rows)


async def commitment_view(session: AsyncSession, commitment: Commitment, *, public: bool) -> CommitmentView:
    return (await _views(session, [commitment], published_only=public, with_updates=True))[0]


async def children_of(session: AsyncSession, commitment: Commitment, *, public: bool) -> list[CommitmentView]:
    query = select(Commitment).where(Commitment.parent_id == commitment.id)
    if public:
        query = query.where(Commitment.published_at.is_not(None))
    rows = (await session.scalars(query.order_by(Commitment.start_date))).all()
    return await _views(session, rows, published_only=public, with_updates=False)


def paged(query: Select[Any], offset: int, limit: int) -> Select[Any]:
    """``query`` limited to one page, with LIMIT and OFFSET written into the SQL rather than bound.

    PostgreSQL switches a statement to a generic plan after five executions; with a bound LIMIT it then
    plans for an unknown number of rows and sorts the whole set instead of reading an ordered index and
    stopping at the page size (DESIGN §7). Written in, each page size gets its own fitting plan."""
    query = query.limit(literal_column(str(max(0, int(limit)))))
    return query.offset(literal_column(str(max(0, int(offset))))) if offset > 0 else query


@dataclass(frozen=True)
class CommitmentFilters:
    q: str = ""
    country: str = ""
    priority: str = ""
    status: str = ""
    module: str = ""

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [Commitment.published_at.is_not(None)]
        if self.q:
            pattern = f"%{self.q.strip().lower()}%"
            where.append(
                or_(
                    func.lower(Commitment.title).like(pattern),
                    func.lower(Commitment.description).like(pattern),
                    func.lower(City.name).like(pattern),
                )
            )
        if self.country:
            where.append(City.country_code == self.country.upper())
        if self.priority:
            where.append(Commitment.priority == self.priority)
        if self.status:
            where.append(Commitment.status == self.status)
        if self.module:
            # The JSON list is stored as text on SQLite and rendered as text on PostgreSQL: `"slug"` matches
            # one element exactly (slugs are identifiers; autoescape keeps `_` literal).
            where.append(cast(Commitment.modules, String).contains(f'"{self.module}"', autoescape=True))
        return where


async def search_public(
    session: AsyncSession, filters: CommitmentFilters, *, number: int = 1, size: int = 25
) -> Page[CommitmentView]:
    """Published commitments of every city, newest first, filtered and paginated."""
    where = and_(*filters.conditions())
    total = (
        await session.execute(
            select(func.count()).select_from(Commitment).join(City, City.id == Commitment.city_id).where(where)
        )
    ).scalar_one()
    rows = (
        await session.scalars(
            paged(
                select(Commitment)
                .join(City, City.id == Commitment.city_id)
                .where(where)
                .order_by(Commitment.published_at.desc(), Commitment.id.desc()),
                (number - 1) * size,
                size,
            )
        )
    ).all()
    views = await _views(session, rows, published_only=True, with_updates=False)
    return Page(items=views, total=total, number=number, size=size)


async def all_public(session: AsyncSession, filters: CommitmentFilters) -> list[CommitmentView]:
    """Every published commitment matching the filters (open data export)."""
    rows = (
        await session.scalars(
            select(Commitment)
            .join(City, City.id == Commitment.city_id)
            .where(*filters.conditions())
            .order_by(City.country_code, City.name, Commitment.start_date)
        )
    ).all()
    return await _views(session, rows, published_only=True, with_updates=False)


async def commitment_figures(session: AsyncSession) -> dict[str, Any]:
    """Published and achieved commitments, overall and by country (for the home page).

    ``{"published": int, "achieved": int, "by_country": {"FR": {"published": int, "achieved": int}, …}}``
    """
    achieved = func.sum(case((Commitment.status == CommitmentStatus.achieved, 1), else_=0))
    rows = await session.execute(
        select(City.country_code, func.count(Commitment.id), achieved)
        .join(City, City.id == Commitment.city_id)
        .where(Commitment.published_at.is_not(None))
        .group_by(City.country_code)
        .order_by(City.country_code)
    )
    by_country = {code: {"published": int(count), "achieved": int(done or 0)} for code, count, done in rows}
    return {
        "published": sum(v["published"] for v in by_country.values()),
        "achieved": sum(v["achieved"] for v in by_country.values()),
        "by_country": by_country,
    }


async def commitment_counts(session: AsyncSession, city_ids: Iterable[UUID]) -> dict[UUID, int]:
    """Published commitments per city, for the signatory list (cities without any are absent)."""
    ids = list(city_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(Commitment.city_id, func.count(Commitment.id))
        .where(Commitment.city_id.in_(ids), Commitment.published_at.is_not(None))
        .group_by(Commitment.city_id)
    )
    return {city_id: int(count) for city_id, count in rows}


# --- changing ---------------------------------------------------------------------------------------


def check_modules(slugs: Sequence[str], known: Iterable[str]) -> list[str]:
    """The slugs, deduplicated, when every one names an enabled action module."""
    known_set = set(known)
    unknown = [slug for slug in slugs if slug not in known_set]
    if unknown:
        raise CommitmentError("modules", f"Unknown action module: {', '.join(unknown)}.")
    return list(dict.fromkeys(slugs))


async def _parents_of_city(session: AsyncSession, city_id: UUID) -> dict[UUID, UUID | None]:
    rows = await session.execute(select(Commitment.id, Commitment.parent_id).where(Commitment.city_id == city_id))
    return {row.id: row.parent_id for row in rows}


def _creates_cycle(parents: Mapping[UUID, UUID | None], child: UUID) -> bool:
    seen: set[UUID] = set()
    cursor: UUID | None = child
    while cursor is not None:
        if cursor in seen:
            return True
        seen.add(cursor)
        cursor = parents.get(cursor)
    return False


async def check_parent(
    session: AsyncSession, city_id: UUID, commitment_id: UUID | None, parent_id: UUID | None
) -> None:
    """The parent must be a commitment of the same city, and nesting must not loop."""
    if parent_id is None:
        return
    parents = await _parents_of_city(session, city_id)
    if parent_id not in parents:
        raise CommitmentError("parent_id", N_("The parent must be a commitment of the same city."))
    if commitment_id is not None:
        if parent_id == commitment_id:
            raise CommitmentError("parent_id", N_("A commitment cannot be its own parent."))
        if _creates_cycle({**parents, commitment_id: parent_id}, commitment_id):
            raise CommitmentError("parent_id", N_("This parent is one of the commitment's own sub-commitments."))


def _apply(commitment: Commitment, data: CommitmentInput, modules: list[str]) -> None:
    commitment.title = data.title
    commitment.description = data.description
    commitment.language = data.language
    commitment.priority = data.priority
    commitment.modules = modules
    commitment.indicator = data.indicator
    commitment.baseline = data.baseline
    commitment.target_value = data.target_value
    commitment.unit = data.unit
    commitment.start_date = data.start_date
    commitment.due_date = data.due_date
    commitment.parent_id = data.parent_id
    commitment.weight = data.weight


async def create_commitment(
    session: AsyncSession, city_id: UUID, data: CommitmentInput, *, actor: Actor, known_modules: Iterable[str]
) -> Commitment:
    """A new draft commitment of the city (private until published)."""
    if await session.get(City, city_id) is None:
        raise CommitmentError("city_id", N_("Unknown city."))
    modules = check_modules(data.modules, known_modules)
    await check_parent(session, city_id, None, data.parent_id)
    commitment = Commitment(id=new_id(), city_id=city_id, status=data.status, progress=0)
    _apply(commitment, data, modules)
    session.add(commitment)
    audit.record(
        session,
        actor=actor,
        action="commitment.created",
        entity_type=ENTITY,
        entity_id=commitment.id,
        after=commitment.snapshot(),
    )
    await session.flush()
    return commitment


async def update_commitment(
    session: AsyncSession, commitment: Commitment, data: CommitmentInput, *, actor: Actor, known_modules: Iterable[str]
) -> Commitment:
    """New values for the commitment's fields; status and progress move through their own actions."""
    if commitment.status == CommitmentStatus.withdrawn:
        raise CommitmentError("status", N_("A withdrawn commitment can no longer be changed."))
    modules = check_modules(data.modules, known_modules)
    await check_parent(session, commitment.city_id, commitment.id, data.parent_id)
    before = commitment.snapshot()
    _apply(commitment, data, modules)
    if commitment.status == CommitmentStatus.planned and data.status == CommitmentStatus.in_progress:
        commitment.status = CommitmentStatus.in_progress
    after = commitment.snapshot()
    changed = {k for k in after if after[k] != before[k]}
    audit.record(
        session,
        actor=actor,
        action="commitment.updated",
        entity_type=ENTITY,
        entity_id=commitment.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    await session.flush()
    return commitment


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


async def publish_commitment(session: AsyncSession, commitment: Commitment, *, actor: Actor) -> Commitment:
    """Make a draft public; emits ``commitment.published`` (and ``commitment.achieved`` if already done)."""
    if commitment.published_at is not None:
        raise CommitmentError("status", N_("This commitment is already published."))
    if commitment.status == CommitmentStatus.withdrawn:
        raise CommitmentError("status", N_("A withdrawn commitment cannot be published."))
    if not await can_publish_for(session, commitment.city_id):
        raise CommitmentError("status", N_("Only signatory cities may publish commitments."))
    commitment.published_at = datetime.now(UTC)
    audit.record(
        session,
        actor=actor,
        action="commitment.published",
        entity_type=ENTITY,
        entity_id=commitment.id,
        before={"published": False},
        after={"published": True},
    )
    outbox.record(
        session,
        CommitmentPublished(
            actor=_actor_id(actor),
            city_id=commitment.city_id,
            commitment_id=commitment.id,
            title=commitment.title,
            priority=commitment.priority,
            modules=list(commitment.modules or []),
            due_date=commitment.due_date,
        ),
    )
    if commitment.status == CommitmentStatus.achieved:
        _achieved(session, commitment, actor)
    await session.flush()
    return commitment


def _achieved(session: AsyncSession, commitment: Commitment, actor: Actor) -> None:
    if commitment.published_at is not None:
        outbox.record(
            session,
            CommitmentAchieved(
                actor=_actor_id(actor), city_id=commitment.city_id, commitment_id=commitment.id, title=commitment.title
            ),
        )


async def add_progress(
    session: AsyncSession, commitment: Commitment, data: ProgressInput, *, actor: Actor
) -> ProgressUpdate:
    """A dated entry of the timeline; it sets the commitment's own progress and status.

    0 % keeps a planned commitment planned, more moves it to *in progress*, 100 % makes it *achieved*
    (and emits ``commitment.achieved``). Published parents whose computed progress thereby reaches 100 %
    become achieved too; planned parents whose computed progress rises above 0 % become in progress.
    Emits ``commitment.progressed`` for every update of a published commitment.
    """
    if commitment.status == CommitmentStatus.withdrawn:
        raise CommitmentError("percentage", N_("A withdrawn commitment takes no more progress updates."))
    if commitment.published_at is None:
        raise CommitmentError("percentage", N_("Publish the commitment before reporting progress."))
    if data.reported_on < commitment.start_date:
        raise CommitmentError("reported_on", N_("The date cannot be before the commitment's start date."))
    update = ProgressUpdate(
        id=new_id(),
        commitment_id=commitment.id,
        reported_on=data.reported_on,
        percentage=data.percentage,
        narrative=data.narrative,
        evidence_links=list(data.evidence_links),
        author_id=_actor_id(actor),
    )
    session.add(update)
    before = {"status": commitment.status, "progress": commitment.progress}
    commitment.progress = data.percentage
    was_achieved = commitment.status == CommitmentStatus.achieved
    if data.percentage >= 100:
        commitment.status = CommitmentStatus.achieved
    elif data.percentage > 0 or commitment.status == CommitmentStatus.achieved:
        commitment.status = CommitmentStatus.in_progress
    audit.record(
        session,
        actor=actor,
        action="commitment.progressed",
        entity_type=ENTITY,
        entity_id=commitment.id,
        before=before,
        after={
            "status": commitment.status,
            "progress": commitment.progress,
            "update_id": str(update.id),
            "reported_on": data.reported_on.isoformat(),
        },
    )
    outbox.record(
        session,
        CommitmentProgressed(
            actor=_actor_id(actor),
            city_id=commitment.city_id,
            commitment_id=commitment.id,
            update_id=update.id,
            percentage=data.percentage,
            reported_on=data.reported_on,
        ),
    )
    if commitment.status == CommitmentStatus.achieved and not was_achieved:
        _achieved(session, commitment, actor)
    await session.flush()
    await _achieve_parents(session, commitment, actor)
    return update


async def _achieve_parents(session: AsyncSession, commitment: Commitment, actor: Actor) -> None:
    if commitment.parent_id is None:
        return
    tree = list(
        (
            await session.scalars(
                select(Commitment).where(Commitment.city_id == commitment.city_id, Commitment.published_at.is_not(None))
            )
        ).all()
    )
    progress = weighted_progress(tree, published_only=True)
    by_id = {c.id: c for c in tree}
    cursor = by_id.get(commitment.parent_id)
    seen: set[UUID] = set()
    while cursor is not None and cursor.id not in seen:
        seen.add(cursor.id)
        if progress.get(cursor.id) == 100 and cursor.status not in (
            CommitmentStatus.achieved,
            CommitmentStatus.withdrawn,
        ):
            before = {"status": cursor.status, "progress": cursor.progress}
            cursor.status, cursor.progress = CommitmentStatus.achieved, 100
            audit.record(
                session,
                actor=actor,
                action="commitment.achieved",
                entity_type=ENTITY,
                entity_id=cursor.id,
                before=before,
                after={"status": cursor.status, "progress": 100},
            )
            _achieved(session, cursor, actor)
        elif progress.get(cursor.id, 0) > 0 and cursor.status == CommitmentStatus.planned:
            # Work on a sub-commitment means the parent is under way too.
            cursor.status = CommitmentStatus.in_progress
            audit.record(
                session,
                actor=actor,
                action="commitment.updated",
                entity_type=ENTITY,
                entity_id=cursor.id,
                before={"status": CommitmentStatus.planned},
                after={"status": cursor.status},
            )
        cursor = by_id.get(cursor.parent_id) if cursor.parent_id else None
    await session.flush()


async def withdraw_commitment(session: AsyncSession, commitment: Commitment, *, actor: Actor) -> Commitment:
    """The city gives the commitment up; it stays visible (marked withdrawn) if it was published."""
    if commitment.status == CommitmentStatus.withdrawn:
        raise CommitmentError("status", N_("This commitment is already withdrawn."))
    before = {"status": commitment.status}
    commitment.status = CommitmentStatus.withdrawn
    audit.record(
        session,
        actor=actor,
        action="commitment.withdrawn",
        entity_type=ENTITY,
        entity_id=commitment.id,
        before=before,
        after={"status": commitment.status},
    )
    await session.flush()
    return commitment


# --- CSV --------------------------------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "parent_id",
    "title",
    "description",
    "language",
    "priority",
    "modules",
    "indicator",
    "baseline",
    "target_value",
    "unit",
    "start_date",
    "due_date",
    "weight",
    "status",
    "progress",
    "published",
)
READ_ONLY_COLUMNS = frozenset({"progress", "published"})
"""Exported for reading; ignored on import (progress moves through updates, publication by its action)."""


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def commitments_csv(views: Iterable[CommitmentView], *, with_city: bool = False) -> str:
    """The commitments as CSV (UTF-8, header row); a city's own export re-imports as it is."""
    out = io.StringIO()
    columns = (("city", "country") if with_city else ()) + CSV_COLUMNS
    writer = csv.writer(out)
    writer.writerow(columns)
    for v in views:
        row = [
            str(v.id),
            str(v.parent_id or ""),
            v.title,
            v.description,
            v.language,
            v.priority,
            ";".join(v.modules),
            v.indicator,
            _number(v.baseline),
            _number(v.target_value),
            v.unit,
            v.start_date.isoformat(),
            v.due_date.isoformat(),
            str(v.weight),
            v.status,
            str(v.progress),
            "yes" if v.published else "no",
        ]
        writer.writerow(([v.city_name, v.country_code] if with_city else []) + row)
    return out.getvalue()


async def import_csv(
    session: AsyncSession, city_id: UUID, text: str, *, actor: Actor, known_modules: Iterable[str]
) -> tuple[int, int]:
    """Create or update the city's commitments from a CSV file, all or nothing.

    Rows with an ``id`` of one of the city's commitments update it; rows without create a draft. Every row
    is checked before anything is saved; the errors name the line of the file (the header is line 1) and
    the column. Returns (created, updated).
    """
    known = list(known_modules)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("title", "priority", "start_date", "due_date") if c not in header]
    if not header or missing:
        raise CsvImportError([f"Line 1: missing columns: {', '.join(missing or ['title'])}."])
    existing = {c.id: c for c in (await session.scalars(select(Commitment).where(Commitment.city_id == city_id))).all()}
    parents: dict[UUID, UUID | None] = {cid: c.parent_id for cid, c in existing.items()}
    errors: list[str] = []
    planned: list[tuple[int, Commitment | None, CommitmentInput, list[str]]] = []
    for index, raw in enumerate(reader, start=2):
        line = reader.line_num if reader.line_num else index
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        target: Commitment | None = None
        if row.get("id"):
            try:
                target = existing.get(UUID(row["id"]))
            except ValueError:
                target = None
            if target is None:
                errors.append(_("Line %(line)s: id: not a commitment of this city.") % {"line": line})
                continue
        values = {k: v for k, v in row.items() if k not in READ_ONLY_COLUMNS and k not in ("id", "status")}
        if target is None and row.get("status") in ("planned", "in_progress"):
            values["status"] = row["status"]
        try:
            data = CommitmentInput.model_validate(values)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                column = ".".join(str(p) for p in err["loc"][:1]) or "row"
                errors.append(
                    _("Line %(line)s: %(column)s: %(message)s")
                    % {"line": line, "column": column, "message": message_for(err)}
                )
            continue
        try:
            modules = check_modules(data.modules, known)
        except CommitmentError as exc:
            errors.append(_("Line %(line)s: modules: %(message)s") % {"line": line, "message": exc.message})
            continue
        if data.parent_id is not None and data.parent_id not in existing:
            errors.append(
                _("Line %(line)s: parent_id: the parent must be a commitment of the same city.") % {"line": line}
            )
            continue
        if target is not None:
            if target.status == CommitmentStatus.withdrawn:
                errors.append(
                    _("Line %(line)s: status: a withdrawn commitment can no longer be changed.") % {"line": line}
                )
                continue
            parents[target.id] = data.parent_id
        planned.append((line, target, data, modules))
    for line, target, _data, _modules in planned:
        if target is not None and _creates_cycle(parents, target.id):
            errors.append(
                _("Line %(line)s: parent_id: this nesting would make a commitment its own ancestor.") % {"line": line}
            )
    if errors:
        raise CsvImportError(errors)
    if not planned:
        raise CsvImportError([_("The file holds no commitments.")])
    created = updated = 0
    for _line, target, data, modules in planned:
        if target is None:
            commitment = Commitment(id=new_id(), city_id=city_id, status=data.status, progress=0)
            _apply(commitment, data, modules)
            session.add(commitment)
            audit.record(
                session,
                actor=actor,
                action="commitment.imported",
                entity_type=ENTITY,
                entity_id=commitment.id,
                after=commitment.snapshot(),
            )
            created += 1
        else:
            before = target.snapshot()
            _apply(target, data, modules)
            after = target.snapshot()
            changed = {k for k in after if after[k] != before[k]}
            if changed:
                audit.record(
                    session,
                    actor=actor,
                    action="commitment.updated",
                    entity_type=ENTITY,
                    entity_id=target.id,
                    before={k: before[k] for k in changed},
                    after={k: after[k] for k in changed},
                )
                updated += 1
    await session.flush()
    return created, updated
