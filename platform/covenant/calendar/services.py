"""Business rules of the convention calendar: editions and their agenda, delegates with a capacity and a
waiting list, deadlines announced by any part of the platform, personal feed tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.accounts.models import RoleGrant
from covenant.calendar.events import DeadlineAnnounced
from covenant.calendar.models import (
    PUBLIC_STATUSES,
    AgendaSession,
    Audience,
    ConventionEdition,
    Deadline,
    EditionStatus,
    FeedToken,
    Registration,
    RegistrationStatus,
)
from covenant.calendar.schemas import DeadlineForm, EditionForm, RegistrationForm, SessionForm
from covenant.cities.models import City
from covenant.db import new_id
from covenant.events.outbox import record
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.notifications import queue_mail

Actor = Identity | UUID | None
CORE_SOURCE = "core"


class FieldProblem(ValueError):
    """Input the schema accepted but the rules refuse; ``field`` names the form field to mark."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _dates(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # The audit log turns ids and datetimes into text; plain dates (and the enums' values) are ours to do.
    if values is None:
        return None
    return {k: v.isoformat() if isinstance(v, date) and not isinstance(v, datetime) else v for k, v in values.items()}


def _audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: UUID,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=_dates(before),
        after=_dates(after),
    )


def now() -> datetime:
    return datetime.now(UTC)


# -- editions ---------------------------------------------------------------------------------------

EDITION_FIELDS = (
    "year",
    "title",
    "host_city_id",
    "starts_on",
    "ends_on",
    "timezone",
    "venue",
    "theme",
    "description",
    "status",
    "capacity",
)


def _snapshot(row: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def edition_by_year(session: AsyncSession, year: int, *, public_only: bool = False) -> ConventionEdition | None:
    query = select(ConventionEdition).where(ConventionEdition.year == year)
    if public_only:
        query = query.where(ConventionEdition.status.in_(PUBLIC_STATUSES))
    return (await session.scalars(query)).one_or_none()


async def list_editions(session: AsyncSession, *, public_only: bool = True) -> list[ConventionEdition]:
    """Every edition, newest first (drafts only for administrators)."""
    query = select(ConventionEdition).order_by(ConventionEdition.year.desc())
    if public_only:
        query = query.where(ConventionEdition.status.in_(PUBLIC_STATUSES))
    return list(await session.scalars(query))


def current_edition(editions: Sequence[ConventionEdition], today: date | None = None) -> ConventionEdition | None:
    """The edition under way or the next one; the latest past one when none is planned."""
    today = today or date.today()
    upcoming = [e for e in editions if e.ends_on >= today]
    if upcoming:
        return min(upcoming, key=lambda e: e.starts_on)
    return max(editions, key=lambda e: e.starts_on, default=None)


async def city_names(session: AsyncSession, ids: Sequence[UUID | None]) -> dict[UUID, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(City.id, City.name).where(City.id.in_(wanted)))
    return {row.id: row.name for row in rows}


async def _check_edition(session: AsyncSession, form: EditionForm, edition_id: UUID | None) -> None:
    clash = await session.scalar(select(ConventionEdition.id).where(ConventionEdition.year == form.year))
    if clash is not None and clash != edition_id:
        raise FieldProblem("year", _("There is already a convention in %(year)s.") % {"year": form.year})
    if form.host_city_id is not None and await session.get(City, form.host_city_id) is None:
        raise FieldProblem("host_city_id", _("This city is not in the registry."))
    if edition_id is not None:
        outside = await session.scalar(
            select(func.count())
            .select_from(AgendaSession)
            .where(AgendaSession.edition_id == edition_id)
            .where(
                or_(
                    AgendaSession.starts_at < _day_start(form.starts_on, form.timezone),
                    AgendaSession.ends_at > _day_start(form.ends_on + timedelta(days=1), form.timezone),
                )
            )
        )
        if outside:
            raise FieldProblem(
                "starts_on", _("Some sessions of the agenda would fall outside these dates; move them first.")
            )


def _day_start(day: date, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def create_edition(session: AsyncSession, form: EditionForm, *, actor: Actor) -> ConventionEdition:
    await _check_edition(session, form, None)
    edition = ConventionEdition(id=new_id(), **form.model_dump())
    session.add(edition)
    await session.flush()
    _audit(
        session,
        actor=actor,
        action="convention.edition_created",
        entity_type="convention_edition",
        entity_id=edition.id,
        after=_snapshot(edition, EDITION_FIELDS),
    )
    return edition


async def update_edition(
    session: AsyncSession, edition: ConventionEdition, form: EditionForm, *, actor: Actor
) -> ConventionEdition:
    await _check_edition(session, form, edition.id)
    before = _snapshot(edition, EDITION_FIELDS)
    for name, value in form.model_dump().items():
        setattr(edition, name, value)
    old, new = _changes(before, _snapshot(edition, EDITION_FIELDS))
    if new:
        _audit(
            session,
            actor=actor,
            action="convention.edition_changed",
            entity_type="convention_edition",
            entity_id=edition.id,
            before=old,
            after=new,
        )
    await session.flush()
    return edition


# -- agenda -----------------------------------------------------------------------------------------

SESSION_FIELDS = ("title", "starts_at", "ends_at", "room", "speakers", "description", "commitment_ids")


async def sessions_of(session: AsyncSession, edition_ids: Sequence[UUID]) -> list[AgendaSession]:
    if not edition_ids:
        return []
    query = (
        select(AgendaSession)
        .where(AgendaSession.edition_id.in_(edition_ids))
        .order_by(AgendaSession.starts_at, AgendaSession.id)
    )
    return list(await session.scalars(query))


def local_time(edition: ConventionEdition, value: datetime) -> datetime:
    return value.astimezone(ZoneInfo(edition.timezone))


def _session_values(edition: ConventionEdition, form: SessionForm) -> dict[str, Any]:
    zone = ZoneInfo(edition.timezone)
    starts = form.starts_at if form.starts_at.tzinfo else form.starts_at.replace(tzinfo=zone)
    ends = form.ends_at if form.ends_at.tzinfo else form.ends_at.replace(tzinfo=zone)
    if ends <= starts:
        raise FieldProblem("ends_at", _("The session must end after it starts."))
    for field, moment in (("starts_at", starts), ("ends_at", ends)):
        day = moment.astimezone(zone).date()
        if not edition.starts_on <= day <= edition.ends_on:
            raise FieldProblem(
                field,
                _("The session must take place during the convention (%(start)s to %(end)s).")
                % {"start": edition.starts_on.isoformat(), "end": edition.ends_on.isoformat()},
            )
    values = form.model_dump()
    values |= {
        "starts_at": starts.astimezone(UTC),
        "ends_at": ends.astimezone(UTC),
        "commitment_ids": [str(i) for i in form.commitment_ids],
    }
    return values


async def add_session(
    session: AsyncSession, edition: ConventionEdition, form: SessionForm, *, actor: Actor
) -> AgendaSession:
    agenda_session = AgendaSession(id=new_id(), edition_id=edition.id, **_session_values(edition, form))
    session.add(agenda_session)
    await session.flush()
    _audit(
        session,
        actor=actor,
        action="convention.session_added",
        entity_type="convention_session",
        entity_id=agenda_session.id,
        after={"edition_id": edition.id, **_snapshot(agenda_session, SESSION_FIELDS)},
    )
    return agenda_session


async def update_session(
    session: AsyncSession, edition: ConventionEdition, agenda_session: AgendaSession, form: SessionForm, *, actor: Actor
) -> AgendaSession:
    values = _session_values(edition, form)
    before = _snapshot(agenda_session, SESSION_FIELDS)
    for name, value in values.items():
        setattr(agenda_session, name, value)
    old, new = _changes(before, _snapshot(agenda_session, SESSION_FIELDS))
    if new:
        _audit(
            session,
            actor=actor,
            action="convention.session_changed",
            entity_type="convention_session",
            entity_id=agenda_session.id,
            before=old,
            after=new,
        )
    await session.flush()
    return agenda_session


async def delete_session(session: AsyncSession, agenda_session: AgendaSession, *, actor: Actor) -> None:
    _audit(
        session,
        actor=actor,
        action="convention.session_removed",
        entity_type="convention_session",
        entity_id=agenda_session.id,
        before=_snapshot(agenda_session, SESSION_FIELDS),
    )
    await session.delete(agenda_session)
    await session.flush()


# -- registrations ----------------------------------------------------------------------------------

REGISTRATION_CLOSED = N_("Registration for this convention is not open.")
ALREADY_REGISTERED = N_("This person is already registered for this convention.")


@dataclass(frozen=True)
class Occupancy:
    capacity: int
    confirmed: int
    waiting: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.confirmed)


async def occupancy(session: AsyncSession, edition: ConventionEdition) -> Occupancy:
    rows = await session.execute(
        select(Registration.status, func.count())
        .where(Registration.edition_id == edition.id)
        .group_by(Registration.status)
    )
    counts: dict[str, int] = dict(rows.tuples().all())
    return Occupancy(
        edition.capacity,
        counts.get(RegistrationStatus.confirmed, 0),
        counts.get(RegistrationStatus.waiting, 0),
    )


async def registrations_of(
    session: AsyncSession, edition: ConventionEdition, *, city_id: UUID | None = None, include_cancelled: bool = False
) -> list[Registration]:
    query = select(Registration).where(Registration.edition_id == edition.id)
    if city_id is not None:
        query = query.where(Registration.city_id == city_id)
    if not include_cancelled:
        query = query.where(Registration.status != RegistrationStatus.cancelled)
    return list(await session.scalars(query.order_by(Registration.registered_at, Registration.id)))


async def waiting_positions(session: AsyncSession, edition: ConventionEdition) -> dict[UUID, int]:
    """Place in the waiting list (1 = next to be admitted) of each waiting registration."""
    ids = await session.scalars(
        select(Registration.id)
        .where(Registration.edition_id == edition.id, Registration.status == RegistrationStatus.waiting)
        .order_by(Registration.registered_at, Registration.id)
    )
    return {registration_id: n for n, registration_id in enumerate(ids, start=1)}


async def _lock_edition(session: AsyncSession, edition: ConventionEdition) -> None:
    # Serialises registrations of one edition on PostgreSQL so two offices cannot both take the last seat
    # (SQLite has one writer at a time anyway).
    await session.execute(select(ConventionEdition.id).where(ConventionEdition.id == edition.id).with_for_update())


async def register_delegate(
    session: AsyncSession, edition: ConventionEdition, city_id: UUID, form: RegistrationForm, *, actor: Actor
) -> Registration:
    """Register a delegate of ``city_id``: confirmed while seats remain, otherwise on the waiting list."""
    if edition.status != EditionStatus.registration_open:
        raise FieldProblem("form", _(REGISTRATION_CLOSED))
    await _lock_edition(session, edition)
    existing = (
        await session.scalars(
            select(Registration).where(Registration.edition_id == edition.id, Registration.email == form.email)
        )
    ).one_or_none()
    if existing is not None and existing.status != RegistrationStatus.cancelled:
        raise FieldProblem("email", _(ALREADY_REGISTERED))
    seats = await occupancy(session, edition)
    status = RegistrationStatus.confirmed if seats.confirmed < edition.capacity else RegistrationStatus.waiting
    actor_id = actor.user_id if isinstance(actor, Identity) else actor
    values = {
        "city_id": city_id,
        "name": form.name,
        "email": form.email,
        "role": form.role,
        "status": status,
        "registered_at": now(),
        "cancelled_at": None,
        "registered_by": actor_id,
    }
    if existing is None:
        registration = Registration(id=new_id(), edition_id=edition.id, **values)
        session.add(registration)
    else:  # a cancelled delegate registers again: back in the queue, at its end
        registration = existing
        for name, value in values.items():
            setattr(registration, name, value)
    await session.flush()
    _audit(
        session,
        actor=actor,
        action="convention.delegate_registered",
        entity_type="convention_registration",
        entity_id=registration.id,
        after={"edition": edition.year, **{k: v for k, v in values.items() if k != "registered_by"}},
    )
    if status == RegistrationStatus.confirmed:
        subject = _("Your place at the Covenant convention %(year)s") % {"year": edition.year}
        body = _("Dear %(name)s,\n\nyour place at “%(title)s” (%(start)s to %(end)s) is confirmed.") % {
            "name": form.name,
            "title": edition.title,
            "start": edition.starts_on.isoformat(),
            "end": edition.ends_on.isoformat(),
        }
    else:
        subject = _("Covenant convention %(year)s: you are on the waiting list") % {"year": edition.year}
        body = _(
            "Dear %(name)s,\n\n“%(title)s” is full. You are on the waiting list; we will write to you as soon "
            "as a place becomes free."
        ) % {"name": form.name, "title": edition.title}
    queue_mail(session, to=form.email, subject=subject, body_text=body)
    return registration


async def cancel_registration(
    session: AsyncSession, edition: ConventionEdition, registration: Registration, *, actor: Actor
) -> Registration | None:
    """Cancel a registration; when it held a seat, the first of the waiting list gets it (and a mail).
    Returns the promoted registration, if any."""
    if registration.status == RegistrationStatus.cancelled:
        return None
    await _lock_edition(session, edition)
    held_seat = registration.status == RegistrationStatus.confirmed
    before = registration.status
    registration.status = RegistrationStatus.cancelled
    registration.cancelled_at = now()
    _audit(
        session,
        actor=actor,
        action="convention.registration_cancelled",
        entity_type="convention_registration",
        entity_id=registration.id,
        before={"status": before},
        after={"status": registration.status},
    )
    await session.flush()
    if not held_seat:
        return None
    seats = await occupancy(session, edition)
    if seats.confirmed >= edition.capacity:
        return None
    promoted = (
        await session.scalars(
            select(Registration)
            .where(Registration.edition_id == edition.id, Registration.status == RegistrationStatus.waiting)
            .order_by(Registration.registered_at, Registration.id)
            .limit(1)
        )
    ).one_or_none()
    if promoted is None:
        return None
    promoted.status = RegistrationStatus.confirmed
    _audit(
        session,
        actor=None,
        action="convention.registration_promoted",
        entity_type="convention_registration",
        entity_id=promoted.id,
        before={"status": RegistrationStatus.waiting},
        after={"status": RegistrationStatus.confirmed},
    )
    queue_mail(
        session,
        to=promoted.email,
        subject=_("A place is free for you at the Covenant convention %(year)s") % {"year": edition.year},
        body_text=_(
            "Dear %(name)s,\n\na place became free at “%(title)s” (%(start)s to %(end)s): your registration "
            "is now confirmed."
        )
        % {
            "name": promoted.name,
            "title": edition.title,
            "start": edition.starts_on.isoformat(),
            "end": edition.ends_on.isoformat(),
        },
    )
    await session.flush()
    return promoted


# -- deadlines --------------------------------------------------------------------------------------

DEADLINE_FIELDS = ("title", "due_on", "audience", "city_id", "link", "description")


def announce_deadline(
    session: AsyncSession,
    *,
    source: str,
    key: str,
    title: str,
    due_on: date,
    audience: Audience | str = Audience.all,
    city_id: UUID | None = None,
    link: str = "",
    description: str = "",
    actor: Actor = None,
) -> DeadlineAnnounced:
    """Announce a deadline: records ``deadline.announced`` in the caller's transaction; the calendar
    applies it once the transaction commits. Announcing the same (source, key) again updates it."""
    if audience == Audience.city and city_id is None:
        raise ValueError("a deadline for one city needs its city_id")
    event = DeadlineAnnounced(
        source=source,
        key=key,
        title=title,
        due_on=due_on,
        audience=Audience(audience).value,
        link=link,
        details=description,
        city_id=city_id,
        actor=actor.user_id if isinstance(actor, Identity) else actor,
    )
    record(session, event)
    return event


async def apply_deadline(session: AsyncSession, event: DeadlineAnnounced) -> Deadline:
    """Create or update the deadline named by the event's (source, key)."""
    values = {
        "title": event.title,
        "due_on": event.due_on,
        "audience": event.audience,
        "city_id": event.city_id if event.audience == Audience.city else None,
        "link": event.link,
        "description": event.details,
    }
    return await save_deadline(session, event.source, event.key, values, actor=event.actor)


async def save_deadline(
    session: AsyncSession, source: str, key: str, values: dict[str, Any], *, actor: Actor
) -> Deadline:
    deadline = (
        await session.scalars(select(Deadline).where(Deadline.source == source, Deadline.key == key))
    ).one_or_none()
    if deadline is None:
        deadline = Deadline(id=new_id(), source=source, key=key, **values)
        session.add(deadline)
        await session.flush()
        _audit(
            session,
            actor=actor,
            action="deadline.announced",
            entity_type="calendar_deadline",
            entity_id=deadline.id,
            after={"source": source, "key": key, **values},
        )
        return deadline
    before = _snapshot(deadline, DEADLINE_FIELDS)
    for name, value in values.items():
        setattr(deadline, name, value)
    old, new = _changes(before, _snapshot(deadline, DEADLINE_FIELDS))
    if new:
        _audit(
            session,
            actor=actor,
            action="deadline.changed",
            entity_type="calendar_deadline",
            entity_id=deadline.id,
            before=old,
            after=new,
        )
    await session.flush()
    return deadline


async def create_deadline(session: AsyncSession, form: DeadlineForm, *, actor: Actor) -> Deadline:
    """An administrator's deadline: saved at once (so the page shows it) and announced to subscribers."""
    if form.city_id is not None and await session.get(City, form.city_id) is None:
        raise FieldProblem("city_id", _("This city is not in the registry."))
    key = f"secretariat-{new_id()}"
    values = form.model_dump()
    if form.audience != Audience.city:
        values["city_id"] = None
    deadline = await save_deadline(session, CORE_SOURCE, key, values, actor=actor)
    announce_deadline(session, source=CORE_SOURCE, key=key, actor=actor, **values)
    return deadline


async def delete_deadline(session: AsyncSession, deadline: Deadline, *, actor: Actor) -> None:
    _audit(
        session,
        actor=actor,
        action="deadline.removed",
        entity_type="calendar_deadline",
        entity_id=deadline.id,
        before={"source": deadline.source, "key": deadline.key, **_snapshot(deadline, DEADLINE_FIELDS)},
    )
    await session.delete(deadline)
    await session.flush()


PERIODS = ("upcoming", "past", "all")


async def search_deadlines(
    session: AsyncSession,
    *,
    audience: str | None = None,
    source: str | None = None,
    period: str = "upcoming",
    include_admins: bool = False,
    today: date | None = None,
    offset: int = 0,
    limit: int | None = 25,
) -> tuple[list[Deadline], int]:
    """Deadlines in date order (latest first for the past), filtered; administrators' ones only on request."""
    today = today or date.today()
    query = select(Deadline)
    if not include_admins:
        query = query.where(Deadline.audience != Audience.admins)
    if audience:
        query = query.where(Deadline.audience == audience)
    if source:
        query = query.where(Deadline.source == source)
    if period == "upcoming":
        query = query.where(Deadline.due_on >= today)
    elif period == "past":
        query = query.where(Deadline.due_on < today)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Deadline.due_on.desc(), Deadline.id.desc()) if period == "past" else (Deadline.due_on, Deadline.id)
    query = query.order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query)), total


async def deadline_sources(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(Deadline.source).distinct().order_by(Deadline.source)))


async def public_deadlines(session: AsyncSession) -> list[Deadline]:
    """Deadlines for every signatory (the public convention feed)."""
    query = select(Deadline).where(Deadline.audience == Audience.all).order_by(Deadline.due_on, Deadline.id)
    return list(await session.scalars(query))


async def deadlines_for_user(session: AsyncSession, user_id: UUID) -> list[Deadline]:
    """Everything a user should see: deadlines for all, those of the cities they work for, and the
    administrators' ones when they are one."""
    grants = (
        await session.execute(select(RoleGrant.role, RoleGrant.city_id).where(RoleGrant.user_id == user_id))
    ).all()
    cities = {g.city_id for g in grants if g.city_id is not None}
    conditions = [Deadline.audience == Audience.all]
    if cities:
        conditions.append(and_(Deadline.audience == Audience.city, Deadline.city_id.in_(cities)))
    if any(g.role == "admin" for g in grants):
        conditions.append(Deadline.audience == Audience.admins)
    query = select(Deadline).where(or_(*conditions)).order_by(Deadline.due_on, Deadline.id)
    return list(await session.scalars(query))


# -- personal feed tokens ---------------------------------------------------------------------------
# The secret is derived from the application's secret key and a per-user nonce, and only its digest is
# stored: the page can show the URL again, while a copy of the table alone does not reveal it.


def _derive(secret_key: str, user_id: UUID, nonce: str) -> str:
    return hmac.new(secret_key.encode(), f"feed:{user_id}:{nonce}".encode(), hashlib.sha256).hexdigest()[:40]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def feed_token(session: AsyncSession, user_id: UUID, secret_key: str, *, regenerate: bool = False) -> str:
    """The user's feed secret, created on first use; ``regenerate`` replaces it (the old URL stops working)."""
    row = (await session.scalars(select(FeedToken).where(FeedToken.user_id == user_id))).one_or_none()
    if row is not None and not regenerate:
        return _derive(secret_key, user_id, row.nonce)
    nonce = secrets.token_hex(16)
    token = _derive(secret_key, user_id, nonce)
    if row is None:
        row = FeedToken(id=new_id(), user_id=user_id, nonce=nonce, token_hash=_digest(token))
        session.add(row)
    else:
        row.nonce, row.token_hash = nonce, _digest(token)
    _audit(
        session,
        actor=user_id,
        action="calendar.feed_regenerated" if regenerate else "calendar.feed_created",
        entity_type="calendar_feed_token",
        entity_id=row.id,
    )
    await session.flush()
    return token


async def user_of_feed(session: AsyncSession, token: str) -> UUID | None:
    if not token or len(token) > 100:
        return None
    user_id: UUID | None = await session.scalar(select(FeedToken.user_id).where(FeedToken.token_hash == _digest(token)))
    return user_id
