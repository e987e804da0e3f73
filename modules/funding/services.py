"""Business rules of the funding module: catalogue, imports, matching, notices, pipeline, advocacy, uptake."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from pydantic import ValidationError
from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.identity import Identity
from covenant.accounts.models import RoleGrant, User
from covenant.audit import record as audit
from covenant.calendar.services import announce_deadline
from covenant.cities.models import City, Membership, MembershipStatus
from covenant.commitments.models import Commitment
from covenant.events.outbox import record as record_event
from covenant.i18n import format_date, ngettext, recipient_locales, using_locale
from covenant.i18n import gettext as _
from covenant.notifications.mail import queue_mail
from covenant.web.pagination import Page
from covenant.web.validation import message_for
from modules.funding.events import CallClosing, CallOpened
from modules.funding.models import (
    THEMES,
    AdvocacyDocument,
    AdvocacyStatus,
    Application,
    ApplicationStatus,
    Call,
    CallMatch,
    CallStatus,
    CityNeeds,
    CoSignature,
    Programme,
)
from modules.funding.schemas import AdvocacyInput, AdvocacyStep, ApplicationInput, ApplicationStep, CallInput

SEED = Path(__file__).parent / "seed"
Actor = Identity | UUID | None


def closing_days() -> int:
    """How many days before a deadline ``funding.call_closing`` goes out (COVENANT_FUNDING_CLOSING_DAYS)."""
    try:
        return max(1, int(os.environ.get("COVENANT_FUNDING_CLOSING_DAYS", "14")))
    except ValueError:
        return 14


def today() -> date:
    return datetime.now(UTC).date()


class FundingError(ValueError):
    """A business rule refused the change; ``field`` names the input it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ImportError_(ValueError):
    """An import refused as a whole; ``errors`` name row and column."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# -- programmes -------------------------------------------------------------------------------------


async def load_programmes(session: AsyncSession) -> int:
    """Upsert the shipped programme catalogue by code; returns how many were created."""
    rows = yaml.safe_load((SEED / "programmes.yaml").read_text(encoding="utf-8"))
    existing = {p.code: p for p in await session.scalars(select(Programme))}
    created = 0
    for row in rows:
        values = {
            "name": row["name"],
            "fund": row["fund"],
            "management": row["management"],
            "funding_form": row["funding_form"],
            "managing_body": row.get("managing_body", ""),
            "cofinancing_rate": row.get("cofinancing_rate"),
            "applicant_types": row.get("applicant_types", []),
            "themes": row.get("themes", []),
            "description": row.get("description", {}),
            "links": row.get("links", []),
        }
        programme = existing.get(row["code"])
        if programme is None:
            session.add(Programme(code=row["code"], **values))
            created += 1
    await session.flush()
    return created


async def programmes(session: AsyncSession) -> list[Programme]:
    return list(await session.scalars(select(Programme).order_by(Programme.code)))


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    programme: Programme | None = await session.scalar(select(Programme).where(Programme.code == code))
    return programme


# -- calls ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilters:
    q: str = ""
    programme: str = ""
    status: str = ""
    theme: str = ""
    deadline_from: date | None = None
    deadline_to: date | None = None
    city_id: UUID | None = None
    """Only calls the city is eligible for."""


@dataclass
class CallView:
    call: Call
    programme: Programme
    status: CallStatus
    next_deadline: date | None


def _call_query(filters: CallFilters, on: date) -> Select[tuple[Call, Programme]]:
    query = select(Call, Programme).join(Programme, Programme.id == Call.programme_id)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(Call.title).like(like),
                func.lower(Call.identifier).like(like),
                func.lower(Call.description).like(like),
            )
        )
    if filters.programme:
        query = query.where(Programme.code == filters.programme)
    if filters.status == CallStatus.forthcoming:
        query = query.where(Call.opening_date > on)
    elif filters.status == CallStatus.open:
        query = query.where(Call.opening_date <= on, Call.final_deadline >= on)
    elif filters.status == CallStatus.closed:
        query = query.where(Call.final_deadline < on)
    if filters.deadline_from:
        query = query.where(Call.final_deadline >= filters.deadline_from)
    if filters.deadline_to:
        query = query.where(Call.final_deadline <= filters.deadline_to)
    return query


def _view(call: Call, programme: Programme, on: date) -> CallView:
    return CallView(call, programme, call.status_on(on), call.next_deadline(on))


async def search_calls(
    session: AsyncSession, filters: CallFilters, *, number: int = 1, size: int = 25, on: date | None = None
) -> Page[CallView]:
    """Calls, soonest deadline first. Theme and city eligibility are checked in Python (JSON columns)."""
    on = on or today()
    rows = (await session.execute(_call_query(filters, on).order_by(Call.final_deadline, Call.id))).all()
    views = [_view(c, p, on) for c, p in rows]
    if filters.theme:
        views = [v for v in views if filters.theme in (v.call.themes or [])]
    if filters.city_id:
        city = await session.get(City, filters.city_id)
        if city is not None:
            views = [v for v in views if not eligibility_problems(v.call, city)]
    start = (number - 1) * size
    return Page(views[start : start + size], len(views), number, size)


async def get_call(session: AsyncSession, call_id: UUID) -> CallView | None:
    row = (
        await session.execute(
            select(Call, Programme).join(Programme, Programme.id == Call.programme_id).where(Call.id == call_id)
        )
    ).first()
    return _view(row[0], row[1], today()) if row else None


def _apply(call: Call, data: CallInput, programme: Programme) -> None:
    call.reference = data.reference
    call.title = data.title
    call.programme_id = programme.id
    call.description = data.description
    call.opening_date = data.opening_date
    call.deadline_model = data.deadline_model
    call.deadlines = [d.isoformat() for d in data.deadlines]
    call.final_deadline = data.deadlines[-1]
    call.budget_cents = data.budget_cents
    call.expected_grants = data.expected_grants
    call.action_type = data.action_type
    call.eligible_countries = data.eligible_countries
    call.applicant_types = data.applicant_types
    call.min_population = data.min_population
    call.max_population = data.max_population
    call.partnership_required = data.partnership_required
    call.themes = data.themes
    call.url = data.url


async def save_call(session: AsyncSession, data: CallInput, *, actor: Actor) -> tuple[Call, bool]:
    """Create or update the call with that identifier; announce its deadlines. True when created."""
    programme = await programme_by_code(session, data.programme)
    if programme is None:
        raise FundingError("programme", f"Unknown programme {data.programme!r}.")
    call = await session.scalar(select(Call).where(Call.identifier == data.identifier))
    created = call is None
    before = None if call is None else call.snapshot()
    if call is None:
        call = Call(identifier=data.identifier)
        session.add(call)
    _apply(call, data, programme)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="funding.call_created" if created else "funding.call_updated",
        entity_type="funding_call",
        entity_id=call.id,
        before=before,
        after=call.snapshot(),
    )
    for index, deadline in enumerate(call.deadline_dates()):
        announce_deadline(
            session,
            source="funding",
            key=f"{call.identifier}#{index + 1}",
            title=f"{call.title} — deadline" if len(call.deadlines) == 1 else f"{call.title} — deadline {index + 1}",
            due_on=deadline,
            audience="all",
            link=f"/m/funding/calls/{call.id}",
            description=call.identifier,
            actor=actor.user_id if isinstance(actor, Identity) else actor,
        )
    return call, created


_CSV_ALIASES = {"budget_eur": "budget_eur"}


def parse_csv(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Rows of a call CSV as (row label, values); list cells use ';'. Labels are in the reader's language."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "identifier" not in [f.strip() for f in reader.fieldnames]:
        raise ImportError_(
            [
                _("Row %(row)d: the header must name at least %(columns)s.")
                % {"row": 1, "columns": "identifier, title, programme, opening_date, deadlines"}
            ]
        )
    return [
        (_("Row %(row)d") % {"row": number}, {(k or "").strip(): (v or "").strip() for k, v in row.items() if k})
        for number, row in enumerate(reader, start=2)
    ]


_PORTAL_MODELS = {"single-stage": "single_stage", "two-stage": "two_stage", "multiple cut-off": "multiple_cut_off"}
_PORTAL_PROGRAMMES = {
    "HORIZON": "HORIZON-CL3",
    "ISF": "ISF-POLICE",
    "CERV": "CERV",
    "JUST": "JUSTICE",
    "ERASMUS+": "ERASMUS-PLUS",
    "EDF": "EDF",
    "EUI": "EUI",
    "URBACT": "URBACT",
}


def _portal_date(value: Any) -> Any:
    if isinstance(value, int | float):  # the portal exports epoch milliseconds
        return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
    if isinstance(value, str) and "T" in value:
        return value.split("T", 1)[0]
    return value


def parse_portal_json(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Topics shaped like the Funding & Tenders portal's export: a list, ``{"topics": [...]}`` or
    ``{"fundingData": {"GrantTenderObj": [...]}}``; our own field names are accepted too."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportError_(
            [
                _("The file is not valid JSON (line %(line)d, column %(column)d): %(problem)s.")
                % {"line": exc.lineno, "column": exc.colno, "problem": exc.msg}
            ]
        ) from exc
    if isinstance(data, dict):
        data = data.get("topics") or (data.get("fundingData") or {}).get("GrantTenderObj") or []
    if not isinstance(data, list):
        raise ImportError_([_("The JSON must be a list of topics.")])
    rows: list[tuple[str, dict[str, Any]]] = []
    for number, topic in enumerate(data, start=1):
        if not isinstance(topic, dict):
            rows.append((_("Topic %(topic)d") % {"topic": number}, {}))
            continue
        fp = topic.get("frameworkProgramme")
        abbreviation = fp.get("abbreviation", "") if isinstance(fp, dict) else str(fp or "")
        values = {
            "identifier": topic.get("identifier"),
            "reference": topic.get("reference") or topic.get("callIdentifier") or "",
            "title": topic.get("title"),
            "programme": topic.get("programme") or _PORTAL_PROGRAMMES.get(abbreviation.upper(), abbreviation),
            "description": topic.get("description") or "",
            "opening_date": _portal_date(topic.get("opening_date") or topic.get("plannedOpeningDate")),
            "deadline_model": _PORTAL_MODELS.get(
                str(topic.get("deadlineModel", "")).lower(), topic.get("deadline_model")
            )
            or "single_stage",
            "deadlines": [_portal_date(d) for d in (topic.get("deadlines") or topic.get("deadlineDates") or [])],
            "budget_cents": topic.get("budget_cents"),
            "budget_eur": topic.get("budget") if topic.get("budget_cents") is None else None,
            "expected_grants": topic.get("expected_grants") or topic.get("expectedGrants"),
            "action_type": topic.get("action_type") or ", ".join(topic.get("typesOfAction") or []),
            "eligible_countries": topic.get("eligible_countries") or topic.get("eligibleCountries") or [],
            "applicant_types": topic.get("applicant_types") or [],
            "min_population": topic.get("min_population"),
            "max_population": topic.get("max_population"),
            "partnership_required": topic.get("partnership_required", False),
            "themes": [t for t in (topic.get("themes") or topic.get("tags") or []) if t in THEMES],
            "url": topic.get("url") or "",
        }
        rows.append((_("Topic %(topic)d") % {"topic": number}, {k: v for k, v in values.items() if v is not None}))
    return rows


def _cell_error(row: str, column: str, problem: str) -> str:
    """One import error naming the row and, when it concerns one cell, the column (the header's own name,
    which is not translated); ``problem`` is already in the reader's language."""
    if not column:
        return _("%(row)s: %(problem)s") % {"row": row, "problem": problem}
    return _("%(row)s, column %(column)s: %(problem)s") % {"row": row, "column": column, "problem": problem}


async def import_calls(
    session: AsyncSession, rows: Sequence[tuple[str, dict[str, Any]]], *, actor: Actor
) -> tuple[int, int]:
    """Validate every row first, then upsert by identifier: all or nothing. Returns (created, updated).

    The errors name row and column in the reader's language (the current locale)."""
    known = {p.code for p in await programmes(session)}
    errors: list[str] = []
    inputs: list[CallInput] = []
    seen: set[str] = set()
    for label, values in rows:
        try:
            data = CallInput.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                column = ".".join(str(p) for p in error["loc"][:1])
                errors.append(_cell_error(label, column, message_for(error)))
            continue
        except ValueError as exc:
            errors.append(_cell_error(label, "", _(str(exc))))
            continue
        if data.programme not in known:
            problem = _("unknown programme %(code)s.") % {"code": repr(data.programme)}
            errors.append(_cell_error(label, "programme", problem))
        if data.identifier in seen:
            problem = _("%(identifier)s appears twice in the file.") % {"identifier": repr(data.identifier)}
            errors.append(_cell_error(label, "identifier", problem))
        seen.add(data.identifier)
        inputs.append(data)
    if not rows:
        errors.append(_("The file holds no calls."))
    if errors:
        raise ImportError_(errors)
    created = updated = 0
    for data in inputs:
        _call, is_new = await save_call(session, data, actor=actor)
        created += is_new
        updated += not is_new
    await recompute_all(session)
    return created, updated


# -- matching ---------------------------------------------------------------------------------------

PRIORITY_THEMES: dict[str, tuple[str, ...]] = {
    "urban_planning": ("urban_planning", "public_spaces", "critical_infrastructure"),
    "technology": ("technology", "research"),
    "security_public_spaces": ("public_spaces", "prevention", "radicalisation", "cooperation"),
}
MODULE_THEMES: dict[str, tuple[str, ...]] = {
    "funding": (),
    "assessment": ("prevention",),
    "ai_review": ("technology",),
    "training": ("training",),
    "cohesion": ("social_inclusion", "prevention"),
    "practices": ("urban_planning", "cooperation"),
}
DIMENSION_THEMES: dict[str, tuple[str, ...]] = {
    "security_by_design": ("urban_planning",),
    "technology_governance": ("technology",),
    "capacity_building": ("training",),
    "social_cohesion": ("social_inclusion",),
    "prevention": ("prevention",),
    "radicalisation": ("radicalisation",),
    "cooperation": ("cooperation",),
}
CITY_APPLICANT_TYPES = ("local_authority", "public_body")


@dataclass
class Reason:
    kind: str
    """theme, commitment, need, eligible, partnership — or, for exclusions:
    closed, country, population, applicant, no_match."""
    detail: str
    ref: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail, "ref": self.ref}


@dataclass
class MatchResult:
    call: Call
    score: int = 0
    reasons: list[Reason] = field(default_factory=list)
    exclusions: list[Reason] = field(default_factory=list)
    commitment_ids: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.exclusions and self.score > 0


def eligibility_problems(call: Call, city: City, on: date | None = None) -> list[Reason]:
    """Why ``city`` cannot apply to ``call`` (empty when it can)."""
    problems: list[Reason] = []
    if on is not None and call.status_on(on) == CallStatus.closed:
        problems.append(Reason("closed", f"closed since {call.final_deadline.isoformat()}"))
    if call.eligible_countries and city.country_code.upper() not in call.eligible_countries:
        problems.append(Reason("country", f"{city.country_code} is not among {', '.join(call.eligible_countries)}"))
    if call.min_population is not None and city.population < call.min_population:
        problems.append(
            Reason("population", f"{city.population:,} inhabitants, the call needs {call.min_population:,}+")
        )
    if call.max_population is not None and city.population > call.max_population:
        problems.append(
            Reason("population", f"{city.population:,} inhabitants, the call is for {call.max_population:,} or fewer")
        )
    if call.applicant_types and not set(call.applicant_types) & set(CITY_APPLICANT_TYPES):
        problems.append(Reason("applicant", f"open to {', '.join(call.applicant_types)} only"))
    return problems


def evaluate(
    call: Call, city: City, commitments: Sequence[Commitment], weak_dimensions: Sequence[str], on: date
) -> MatchResult:
    """Score one call for one city and say why.

    Eligibility first (closed, country, population, applicant type: any failure excludes). Then the
    city's needs: each published commitment whose priority or modules share a theme with the call adds
    10 points plus 3 per shared theme; each weak assessment dimension the call addresses adds 8. Open
    calls get 2 points over forthcoming ones, so what can be applied for now ranks first.
    """
    result = MatchResult(call)
    result.exclusions = eligibility_problems(call, city, on)
    call_themes = set(call.themes or [])
    for commitment in commitments:
        themes = set(PRIORITY_THEMES.get(commitment.priority, ()))
        for module in commitment.modules or []:
            themes |= set(MODULE_THEMES.get(module, ()))
        shared = sorted(themes & call_themes)
        if shared:
            result.score += 10 + 3 * len(shared)
            result.commitment_ids.append(str(commitment.id))
            result.reasons.append(Reason("commitment", commitment.title, str(commitment.id)))
            for theme in shared:
                if not any(r.kind == "theme" and r.ref == theme for r in result.reasons):
                    result.reasons.append(Reason("theme", THEMES[theme], theme))
    for dimension in weak_dimensions:
        shared = sorted(set(DIMENSION_THEMES.get(dimension, (dimension,))) & call_themes)
        if shared:
            result.score += 8
            result.reasons.append(Reason("need", dimension, dimension))
    if result.score == 0:
        result.exclusions.append(Reason("no_match", "no published commitment or weak dimension shares its themes"))
    if not result.exclusions:
        result.reasons.append(Reason("eligible", f"{city.country_code}, {city.population:,} inhabitants"))
        if call.partnership_required:
            result.reasons.append(Reason("partnership", "a partnership with other organisations is required"))
        if call.status_on(on) == CallStatus.open:
            result.score += 2
    return result


async def _city_inputs(session: AsyncSession, city_id: UUID) -> tuple[list[Commitment], list[str]]:
    commitments = list(
        await session.scalars(
            select(Commitment)
            .where(
                Commitment.city_id == city_id, Commitment.published_at.is_not(None), Commitment.status != "withdrawn"
            )
            .order_by(Commitment.created_at)
        )
    )
    needs = await session.scalar(select(CityNeeds).where(CityNeeds.city_id == city_id))
    return commitments, list(needs.weak_dimensions) if needs else []


async def _live_calls(session: AsyncSession, on: date) -> list[Call]:
    return list(await session.scalars(select(Call).where(Call.final_deadline >= on).order_by(Call.final_deadline)))


async def evaluate_city(session: AsyncSession, city: City, on: date | None = None) -> list[MatchResult]:
    on = on or today()
    commitments, weak = await _city_inputs(session, city.id)
    return [evaluate(call, city, commitments, weak, on) for call in await _live_calls(session, on)]


async def recompute_city(session: AsyncSession, city_id: UUID, on: date | None = None) -> int:
    """Replace the city's stored suggestions with fresh ones (idempotent). Returns how many match."""
    city = await session.get(City, city_id)
    if city is None:
        return 0
    results = [r for r in await evaluate_city(session, city, on) if r.matched]
    await session.execute(delete(CallMatch).where(CallMatch.city_id == city_id))
    for r in results:
        session.add(
            CallMatch(
                city_id=city_id,
                call_id=r.call.id,
                score=r.score,
                reasons=[x.as_dict() for x in r.reasons],
                commitment_ids=r.commitment_ids,
            )
        )
    await session.flush()
    return len(results)


async def recompute_all(session: AsyncSession, on: date | None = None) -> None:
    """Every signatory's suggestions (after an import). One query per city: fine for hundreds of cities."""
    ids = await session.scalars(select(Membership.city_id).where(Membership.status == MembershipStatus.signatory))
    for city_id in list(ids):
        await recompute_city(session, city_id, on)


async def record_needs(session: AsyncSession, city_id: UUID, weak_dimensions: Iterable[str], year: int | None) -> None:
    needs = await session.scalar(select(CityNeeds).where(CityNeeds.city_id == city_id))
    if needs is None:
        needs = CityNeeds(city_id=city_id)
        session.add(needs)
    needs.weak_dimensions = [str(d) for d in weak_dimensions]
    needs.year = year
    await session.flush()


@dataclass
class Suggestion:
    view: CallView
    score: int
    reasons: list[dict[str, Any]]
    commitment_ids: list[str]


async def suggestions(session: AsyncSession, city_id: UUID) -> list[Suggestion]:
    on = today()
    rows = (
        await session.execute(
            select(CallMatch, Call, Programme)
            .join(Call, Call.id == CallMatch.call_id)
            .join(Programme, Programme.id == Call.programme_id)
            .where(CallMatch.city_id == city_id, Call.final_deadline >= on)
            .order_by(CallMatch.score.desc(), Call.final_deadline)
        )
    ).all()
    return [Suggestion(_view(c, p, on), m.score, list(m.reasons), list(m.commitment_ids)) for m, c, p in rows]


async def exclusions(session: AsyncSession, city: City) -> list[tuple[CallView, list[Reason]]]:
    """The live calls not suggested to the city, and why (computed on request)."""
    on = today()
    progs = {p.id: p for p in await programmes(session)}
    return [
        (_view(r.call, progs[r.call.programme_id], on), r.exclusions)
        for r in await evaluate_city(session, city, on)
        if not r.matched
    ]


# -- notices: funding.call_opened / funding.call_closing --------------------------------------------


async def _matched_cities(session: AsyncSession, call_id: UUID) -> list[UUID]:
    return list(await session.scalars(select(CallMatch.city_id).where(CallMatch.call_id == call_id)))


async def _recipients(session: AsyncSession, city_ids: Sequence[UUID]) -> dict[UUID, set[str]]:
    """The city's contact address plus its mayor's office and the funding contributors."""
    out: dict[UUID, set[str]] = defaultdict(set)
    if not city_ids:
        return out
    for city_id, email in (
        await session.execute(select(City.id, City.contact_email).where(City.id.in_(city_ids)))
    ).all():
        if email:
            out[city_id].add(email)
    rows = (
        await session.execute(
            select(RoleGrant.city_id, RoleGrant.role, RoleGrant.modules, User.email)
            .join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.city_id.in_(city_ids), User.is_active.is_(True))
        )
    ).all()
    for city_id, role, modules, email in rows:
        if role == "mayors_office" or (role == "contributor" and (not modules or "funding" in modules)):
            out[city_id].add(email)
    return out


async def _tell(session: AsyncSession, city_ids: Sequence[UUID], compose: Callable[[], tuple[str, str]]) -> None:
    """Mail the cities' teams; ``compose`` gives (subject, body) and runs once per recipient, in the
    recipient's language."""
    addresses = sorted({a for group in (await _recipients(session, city_ids)).values() for a in group})
    locales = await recipient_locales(session, addresses)
    for address in addresses:
        with using_locale(locales[address]):
            subject, body = compose()
        queue_mail(session, to=address, subject=subject, body_text=body)


def _call_opened_mail(call: Call, deadline: date | None) -> tuple[str, str]:
    subject = _("Call open: %(title)s") % {"title": call.title}
    body = _("The call %(identifier)s matches your city's commitments. Deadline: %(deadline)s.") % {
        "identifier": call.identifier,
        "deadline": format_date(deadline or call.final_deadline, "long"),
    }
    return subject, f"{body}\n/m/funding/calls/{call.id}"


def _call_closing_mail(call: Call, deadline: date, days_left: int) -> tuple[str, str]:
    subject = ngettext("Deadline in %(days)d day: %(title)s", "Deadline in %(days)d days: %(title)s", days_left) % {
        "days": days_left,
        "title": call.title,
    }
    body = _("The call %(identifier)s closes on %(deadline)s.") % {
        "identifier": call.identifier,
        "deadline": format_date(deadline, "long"),
    }
    return subject, f"{body}\n/m/funding/calls/{call.id}"


async def send_notices(
    session: AsyncSession, on: date | None = None, days_before: int | None = None
) -> tuple[int, int]:
    """Publish ``funding.call_opened`` for calls that opened and ``funding.call_closing`` for deadlines
    within ``days_before`` days, once each; mail the matched cities' teams. Returns (opened, closing)."""
    on = on or today()
    days = days_before or closing_days()
    opened = closing = 0
    progs = {p.id: p for p in await programmes(session)}
    for call in await _live_calls(session, on):
        if call.opening_date > on:
            continue
        cities = await _matched_cities(session, call.id)
        deadline = call.next_deadline(on)
        if not call.opened_announced:
            call.opened_announced = True
            record_event(
                session,
                CallOpened(
                    call_id=call.id,
                    identifier=call.identifier,
                    title=call.title,
                    programme=progs[call.programme_id].code,
                    opening_date=call.opening_date,
                    deadline=deadline or call.final_deadline,
                    matched_city_ids=cities,
                ),
            )
            await _tell(session, cities, partial(_call_opened_mail, call, deadline))
            opened += 1
        if deadline and (deadline - on).days <= days and call.closing_announced_for != deadline:
            call.closing_announced_for = deadline
            record_event(
                session,
                CallClosing(
                    call_id=call.id,
                    identifier=call.identifier,
                    title=call.title,
                    deadline=deadline,
                    days_left=(deadline - on).days,
                    matched_city_ids=cities,
                ),
            )
            await _tell(session, cities, partial(_call_closing_mail, call, deadline, (deadline - on).days))
            closing += 1
    await session.flush()
    return opened, closing


# -- pipeline ---------------------------------------------------------------------------------------

NEXT_STEPS: dict[str, set[str]] = {
    ApplicationStatus.interested: {ApplicationStatus.preparing, ApplicationStatus.withdrawn},
    ApplicationStatus.preparing: {ApplicationStatus.submitted, ApplicationStatus.withdrawn},
    ApplicationStatus.submitted: {ApplicationStatus.awarded, ApplicationStatus.rejected, ApplicationStatus.withdrawn},
    ApplicationStatus.awarded: set(),
    ApplicationStatus.rejected: set(),
    ApplicationStatus.withdrawn: set(),
}


async def city_applications(session: AsyncSession, city_id: UUID) -> list[tuple[Application, Programme]]:
    rows = await session.execute(
        select(Application, Programme)
        .join(Programme, Programme.id == Application.programme_id)
        .where(Application.city_id == city_id)
        .order_by(Application.created_at.desc())
    )
    return [(a, p) for a, p in rows.all()]


async def get_application(session: AsyncSession, city_id: UUID, application_id: UUID) -> Application | None:
    application: Application | None = await session.scalar(
        select(Application).where(Application.id == application_id, Application.city_id == city_id)
    )
    return application


async def create_application(
    session: AsyncSession, city_id: UUID, data: ApplicationInput, *, actor: Actor
) -> Application:
    programme = await programme_by_code(session, data.programme)
    if programme is None:
        raise FundingError("programme", f"Unknown programme {data.programme!r}.")
    if data.call_id is not None:
        call = await session.get(Call, data.call_id)
        if call is None:
            raise FundingError("call_id", "No such call.")
        if call.programme_id != programme.id:
            raise FundingError("call_id", "The call belongs to another programme.")
    if data.commitment_ids:
        owned = set(
            await session.scalars(
                select(Commitment.id).where(Commitment.id.in_(data.commitment_ids), Commitment.city_id == city_id)
            )
        )
        if owned != set(data.commitment_ids):
            raise FundingError("commitment_ids", "Link only commitments of this city.")
    application = Application(
        city_id=city_id,
        programme_id=programme.id,
        call_id=data.call_id,
        title=data.title,
        requested_cents=data.requested_cents,
        commitment_ids=[str(c) for c in data.commitment_ids],
        notes=data.notes,
        status=ApplicationStatus.interested,
    )
    session.add(application)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="funding.application_created",
        entity_type="funding_application",
        entity_id=application.id,
        after={"title": data.title, "programme": programme.code},
    )
    return application


async def move_application(
    session: AsyncSession, application: Application, step: ApplicationStep, *, actor: Actor
) -> None:
    """One step along the pipeline; skipping steps or leaving a final state is refused."""
    if step.status not in NEXT_STEPS[application.status]:
        allowed = ", ".join(sorted(NEXT_STEPS[application.status])) or "none (final)"
        raise FundingError("status", f"From {application.status} the next step is one of: {allowed}.")
    before = {"status": application.status}
    application.status = step.status
    when = step.on or today()
    if step.status == ApplicationStatus.submitted:
        application.submitted_on = when
    if step.status in (ApplicationStatus.awarded, ApplicationStatus.rejected):
        application.decided_on = when
    if step.status == ApplicationStatus.awarded:
        application.awarded_cents = step.awarded_cents
        application.eu_share_cents = step.eu_share_cents if step.eu_share_cents is not None else step.awarded_cents
    audit(
        session,
        actor=actor,
        action="funding.application_moved",
        entity_type="funding_application",
        entity_id=application.id,
        before=before,
        after={"status": step.status, "awarded_cents": application.awarded_cents},
    )
    await session.flush()


# -- advocacy ---------------------------------------------------------------------------------------


async def advocacy_documents(session: AsyncSession, *, q: str = "", status: str = "") -> list[AdvocacyDocument]:
    query = select(AdvocacyDocument).order_by(AdvocacyDocument.created_at.desc())
    if q:
        query = query.where(func.lower(AdvocacyDocument.title).like(f"%{q.lower()}%"))
    if status:
        query = query.where(AdvocacyDocument.status == status)
    return list(await session.scalars(query))


async def cosigners(session: AsyncSession, document_ids: Sequence[UUID]) -> dict[UUID, list[tuple[UUID, str]]]:
    out: dict[UUID, list[tuple[UUID, str]]] = defaultdict(list)
    if document_ids:
        rows = await session.execute(
            select(CoSignature.document_id, City.id, City.name)
            .join(City, City.id == CoSignature.city_id)
            .where(CoSignature.document_id.in_(document_ids))
            .order_by(CoSignature.signed_at)
        )
        for doc_id, city_id, name in rows.all():
            out[doc_id].append((city_id, name))
    return out


async def create_advocacy(session: AsyncSession, data: AdvocacyInput, *, actor: Actor) -> AdvocacyDocument:
    document = AdvocacyDocument(**data.model_dump(), status=AdvocacyStatus.draft)
    session.add(document)
    await session.flush()
    audit(
        session,
        actor=actor,
        action="funding.advocacy_created",
        entity_type="funding_advocacy_document",
        entity_id=document.id,
        after={"title": data.title, "kind": data.kind},
    )
    return document


ADVOCACY_NEXT = {AdvocacyStatus.draft: AdvocacyStatus.sent, AdvocacyStatus.sent: AdvocacyStatus.answered}


async def move_advocacy(session: AsyncSession, document: AdvocacyDocument, step: AdvocacyStep, *, actor: Actor) -> None:
    if ADVOCACY_NEXT.get(AdvocacyStatus(document.status)) != step.status:
        raise FundingError("status", f"A {document.status} document cannot become {step.status}.")
    when = step.on or today()
    before = {"status": document.status}
    document.status = step.status
    if step.status == AdvocacyStatus.sent:
        document.sent_on = when
    else:
        if document.sent_on and when < document.sent_on:
            raise FundingError("on", "The answer cannot predate the sending.")
        document.answered_on = when
        document.answer = step.answer
    audit(
        session,
        actor=actor,
        action="funding.advocacy_moved",
        entity_type="funding_advocacy_document",
        entity_id=document.id,
        before=before,
        after={"status": step.status},
    )
    await session.flush()


async def cosign(session: AsyncSession, document: AdvocacyDocument, city_id: UUID, *, actor: Actor) -> bool:
    """The city co-signs (once; again is a no-op). Only drafts can gather signatures. True when new."""
    if document.status != AdvocacyStatus.draft:
        raise FundingError("status", "Only a draft can be co-signed; this one has been sent.")
    exists = await session.scalar(
        select(CoSignature.id).where(CoSignature.document_id == document.id, CoSignature.city_id == city_id)
    )
    if exists:
        return False
    user_id = actor.user_id if isinstance(actor, Identity) else actor
    session.add(CoSignature(document_id=document.id, city_id=city_id, signed_by=user_id, signed_at=datetime.now(UTC)))
    audit(
        session,
        actor=actor,
        action="funding.advocacy_cosigned",
        entity_type="funding_advocacy_document",
        entity_id=document.id,
        after={"city_id": str(city_id)},
    )
    await session.flush()
    return True


PDF_MAGIC = b"%PDF-"


def store_document(var_dir: Path, document: AdvocacyDocument, raw: bytes, original_name: str) -> None:
    """Keep a PDF (checked by its magic bytes) under a random name."""
    if not raw.startswith(PDF_MAGIC):
        raise FundingError("file", "Only PDF documents are accepted.")
    folder = var_dir / "uploads" / "funding"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{os.urandom(16).hex()}.pdf"
    (folder / name).write_bytes(raw)
    document.file_name = name
    document.original_name = Path(original_name).name[:200] or "document.pdf"
    document.content_type = "application/pdf"


# -- uptake: the yearly section and the report ------------------------------------------------------


async def uptake(session: AsyncSession, year: int | None) -> tuple[dict[str, int | float | str], list[dict[str, Any]]]:
    """EU funding mobilised for security in public spaces: awards by programme, country and city size."""
    query = (
        select(Application, Programme.code, City.country_code, City.size_class)
        .join(Programme, Programme.id == Application.programme_id)
        .join(City, City.id == Application.city_id)
    )
    rows = (await session.execute(query)).all()
    in_year = [
        r for r in rows if year is None or (r[0].decided_on or r[0].submitted_on or r[0].created_at.date()).year == year
    ]
    awards = [r for r in in_year if r[0].status == ApplicationStatus.awarded]
    figures: dict[str, int | float | str] = {
        "applications": len(in_year),
        "submitted": sum(1 for r in in_year if r[0].submitted_on is not None),
        "awarded": len(awards),
        "awarded_cents": sum(r[0].awarded_cents or 0 for r in awards),
        "eu_share_cents": sum(r[0].eu_share_cents or 0 for r in awards),
        "cities": len({r[0].city_id for r in in_year}),
    }
    tables: list[dict[str, Any]] = []
    for dimension, index in (("programme", 1), ("country", 2), ("size_class", 3)):
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in awards:
            totals[r[index]][0] += 1
            totals[r[index]][1] += r[0].eu_share_cents or 0
        tables.append(
            {
                "by": dimension,
                "rows": [{"key": k, "awards": v[0], "eu_share_cents": v[1]} for k, v in sorted(totals.items())],
            }
        )
    return figures, tables
