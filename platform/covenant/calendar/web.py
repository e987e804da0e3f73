"""Pages and JSON routes of the convention calendar: the public convention pages and iCalendar feed, the
deadline list with its CSV, "My calendar" with the personal feed, delegate registration for mayors'
offices, and the administrators' pages for editions, agenda and deadlines."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires, signed_in
from covenant.accounts.identity import Identity
from covenant.accounts.permissions import CITY_EDIT_PROFILE
from covenant.calendar import ical, services
from covenant.calendar.models import (
    AUDIENCE_LABELS,
    EDITION_STATUS_LABELS,
    REGISTRATION_STATUS_LABELS,
    AgendaSession,
    Audience,
    ConventionEdition,
    Deadline,
    EditionStatus,
    Registration,
)
from covenant.calendar.schemas import (
    DeadlineForm,
    DeadlineList,
    DeadlineOut,
    EditionForm,
    EditionList,
    EditionOut,
    RegistrationForm,
    RegistrationList,
    RegistrationOut,
    SessionForm,
    SessionOut,
)
from covenant.cities.models import City
from covenant.i18n import gettext as _
from covenant.web.forms import FormData, page, see_other, settings_of, validate_form
from covenant.web.pagination import Page, clamp

AnyRequest = Request[Any, Any, Any]
PageNumber = Annotated[int, Parameter(query="page", ge=1)]

# Who may register a city's delegates: whoever speaks for the city (its mayor's office). No new core
# permission is needed.
REGISTER_DELEGATES = CITY_EDIT_PROFILE


# -- helpers ----------------------------------------------------------------------------------------


def _field_problem(exc: services.FieldProblem) -> ValidationException:
    return ValidationException(detail=exc.message, extra=[{"key": exc.field, "message": exc.message}])


async def _edition(db_session: AsyncSession, year: int, *, public_only: bool = True) -> ConventionEdition:
    edition = await services.edition_by_year(db_session, year, public_only=public_only)
    if edition is None:
        raise NotFoundException(_("There is no convention in this year."))
    return edition


def agenda_by_day(edition: ConventionEdition, sessions: list[AgendaSession]) -> list[tuple[date, list[Any]]]:
    """Sessions grouped by their local day, each with its local start and end."""
    days: dict[date, list[Any]] = defaultdict(list)
    for agenda_session in sessions:
        if agenda_session.edition_id != edition.id:
            continue
        starts = services.local_time(edition, agenda_session.starts_at)
        ends = services.local_time(edition, agenda_session.ends_at)
        days[starts.date()].append({"session": agenda_session, "starts": starts, "ends": ends})
    return sorted(days.items())


def _my_cities(identity: Identity) -> list[UUID]:
    return sorted(c for c in identity.cities() if identity.can(REGISTER_DELEGATES, city_id=c))


async def _host_city_options(db_session: AsyncSession, current: UUID | None) -> list[tuple[str, str]]:
    # The registry holds thousands of places; hosts are sizeable cities, regions or the current host.
    query = (
        select(City.id, City.name, City.country_code)
        .where(or_(City.population >= 50_000, City.authority_type != "municipality", City.id == current))
        .order_by(City.name)
        .limit(3000)
    )
    rows = await db_session.execute(query)
    return [("", "—")] + [(str(r.id), f"{r.name} ({r.country_code})") for r in rows]


def _status_options() -> list[tuple[str, str]]:
    return [(status.value, _(EDITION_STATUS_LABELS[status])) for status in EditionStatus]


def _audience_options(*, admin: bool) -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in AUDIENCE_LABELS.items() if admin or key != Audience.admins]


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[-1]


# -- public convention pages ------------------------------------------------------------------------


async def _edition_context(db_session: AsyncSession, edition: ConventionEdition | None) -> dict[str, Any]:
    if edition is None:
        return {"edition": None, "agenda": [], "host_name": None, "occupancy": None}
    sessions = await services.sessions_of(db_session, [edition.id])
    names = await services.city_names(db_session, [edition.host_city_id])
    return {
        "edition": edition,
        "agenda": agenda_by_day(edition, sessions),
        "host_name": names.get(edition.host_city_id) if edition.host_city_id else None,
        "occupancy": await services.occupancy(db_session, edition),
    }


@get("/convention", name="calendar:convention", include_in_schema=False)
async def convention(request: AnyRequest, db_session: AsyncSession) -> Template:
    editions = await services.list_editions(db_session)
    edition = services.current_edition(editions)
    context = await _edition_context(db_session, edition)
    feed_url = site_url(request) + "/convention/calendar.ics"
    past = [e for e in editions if edition is None or e.id != edition.id]
    return page(
        "calendar/convention.html",
        **context,
        past=past,
        feed_url=feed_url,
        webcal_url=_webcal(feed_url),
        status_labels=EDITION_STATUS_LABELS,
        my_cities=await services.city_names(db_session, _my_cities(identity_of(request))),
    )


@get("/convention/{year:int}", name="calendar:edition", include_in_schema=False)
async def edition_page(request: AnyRequest, db_session: AsyncSession, year: int) -> Template:
    edition = await _edition(db_session, year)
    context = await _edition_context(db_session, edition)
    feed_url = site_url(request) + "/convention/calendar.ics"
    return page(
        "calendar/edition.html",
        **context,
        feed_url=feed_url,
        webcal_url=_webcal(feed_url),
        status_labels=EDITION_STATUS_LABELS,
        my_cities=await services.city_names(db_session, _my_cities(identity_of(request))),
    )


def _ics(body: bytes, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=ical.MEDIA_TYPE,  # Litestar adds "; charset=utf-8" to text types
        headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "no-cache"},
    )


@get("/convention/calendar.ics", name="calendar:convention_ics", include_in_schema=False)
async def convention_ics(request: AnyRequest, db_session: AsyncSession) -> Response[bytes]:
    editions = await services.list_editions(db_session)
    sessions = await services.sessions_of(db_session, [e.id for e in editions])
    deadlines = await services.public_deadlines(db_session)
    names = await services.city_names(db_session, [e.host_city_id for e in editions])
    body = ical.convention_calendar(
        editions,
        sessions,
        deadlines,
        base_url=settings_of(request).base_url,
        name=_("Covenant convention calendar"),
        city_names=names,
    )
    return _ics(body, "covenant-convention.ics")


# -- deadlines --------------------------------------------------------------------------------------


async def _deadline_search(
    request: AnyRequest, db_session: AsyncSession, audience: str, source: str, period: str, **paging: Any
) -> tuple[list[Deadline], int]:
    if audience and audience not in {a.value for a in Audience}:
        audience = ""
    if period not in services.PERIODS:
        period = "upcoming"
    return await services.search_deadlines(
        db_session,
        audience=audience or None,
        source=source or None,
        period=period,
        include_admins=identity_of(request).is_admin,
        **paging,
    )


@get("/deadlines", name="calendar:deadlines", include_in_schema=False)
async def deadlines_page(
    request: AnyRequest,
    db_session: AsyncSession,
    audience: str = "",
    source: str = "",
    period: str = "upcoming",
    number: PageNumber = 1,
) -> Template:
    number, size = clamp(number, None)
    rows, total = await _deadline_search(
        request, db_session, audience, source, period, offset=(number - 1) * size, limit=size
    )
    query = request.url.query
    return page(
        "calendar/deadlines.html",
        deadlines=Page(rows, total, number, size),
        audience=audience,
        source=source,
        period=period,
        source_options=[(s, s) for s in await services.deadline_sources(db_session)],
        audience_options=_audience_options(admin=identity_of(request).is_admin),
        audience_labels=AUDIENCE_LABELS,
        city_names=await services.city_names(db_session, [d.city_id for d in rows]),
        csv_url="/deadlines.csv" + ("?" + query if query else ""),
    )


@get("/deadlines.csv", name="calendar:deadlines_csv", include_in_schema=False)
async def deadlines_csv(
    request: AnyRequest, db_session: AsyncSession, audience: str = "", source: str = "", period: str = "all"
) -> Response[str]:
    rows, _total = await _deadline_search(request, db_session, audience, source, period, limit=None)
    names = await services.city_names(db_session, [d.city_id for d in rows])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["due_on", "title", "audience", "city", "source", "link", "description"])
    for d in rows:
        writer.writerow(
            [
                d.due_on.isoformat(),
                d.title,
                d.audience,
                names.get(d.city_id, "") if d.city_id else "",
                d.source,
                d.link,
                d.description,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="covenant-deadlines.csv"'},
    )


# -- My calendar and the personal feed --------------------------------------------------------------


def site_url(request: AnyRequest) -> str:
    """This site's address as the visitor reached it (a feed link must work from where they are)."""
    return str(request.base_url).rstrip("/")


async def _my_calendar(request: AnyRequest, db_session: AsyncSession, *, regenerate: bool = False) -> dict[str, Any]:
    identity = identity_of(request)
    assert identity.user_id is not None
    settings = settings_of(request)
    token = await services.feed_token(
        db_session, identity.user_id, settings.resolved_secret_key(), regenerate=regenerate
    )
    feed_url = f"{site_url(request)}/calendar/{token}.ics"
    deadlines = await services.deadlines_for_user(db_session, identity.user_id)
    today = date.today()
    return {
        "feed_url": feed_url,
        "webcal_url": _webcal(feed_url),
        "deadlines": [d for d in deadlines if d.due_on >= today],
        "audience_labels": AUDIENCE_LABELS,
        "city_names": await services.city_names(db_session, [d.city_id for d in deadlines]),
        "my_cities": await services.city_names(db_session, _my_cities(identity)),
    }


@get("/calendar", name="calendar:mine", guards=[signed_in], include_in_schema=False)
async def my_calendar(request: AnyRequest, db_session: AsyncSession) -> Template:
    return page("calendar/my_calendar.html", **await _my_calendar(request, db_session))


@post("/calendar/feed", name="calendar:regenerate_feed", guards=[signed_in], include_in_schema=False)
async def regenerate_feed(request: AnyRequest, db_session: AsyncSession) -> Any:
    await _my_calendar(request, db_session, regenerate=True)
    flash(request, _("Your calendar has a new address; the old one no longer works."), "success")
    return await see_other(db_session, "/calendar")


@get("/calendar/{feed:str}", name="calendar:personal_ics", include_in_schema=False)
async def personal_ics(request: AnyRequest, db_session: AsyncSession, feed: str) -> Response[bytes]:
    token = feed.removesuffix(".ics")
    user_id = await services.user_of_feed(db_session, token) if feed.endswith(".ics") else None
    if user_id is None:
        raise NotFoundException(_("There is no calendar at this address."))
    deadlines = await services.deadlines_for_user(db_session, user_id)
    body = ical.deadline_calendar(deadlines, base_url=settings_of(request).base_url, name=_("My Covenant deadlines"))
    return _ics(body, "my-covenant-deadlines.ics")


# -- delegates of a city (mayor's office) -----------------------------------------------------------


async def _registration_of_city(
    db_session: AsyncSession, edition: ConventionEdition, city_id: UUID, registration_id: UUID
) -> Registration:
    registration = await db_session.get(Registration, registration_id)
    if registration is None or registration.edition_id != edition.id or registration.city_id != city_id:
        raise NotFoundException(_("No such registration."))
    return registration


async def _city(db_session: AsyncSession, city_id: UUID) -> City:
    city = await db_session.get(City, city_id)
    if city is None:
        raise NotFoundException(_("This city is not in the registry."))
    return city


class DelegatesController(Controller):
    path = "/convention/{year:int}/delegates/{city_id:uuid}"
    guards = [requires(REGISTER_DELEGATES, city_param="city_id")]
    include_in_schema = False

    async def _page(
        self, db_session: AsyncSession, year: int, city_id: UUID, status_code: int = 200, **context: Any
    ) -> Template:
        edition = await _edition(db_session, year)
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page(
            "calendar/delegates.html",
            status_code,
            edition=edition,
            city=await _city(db_session, city_id),
            registrations=await services.registrations_of(db_session, edition, city_id=city_id),
            positions=await services.waiting_positions(db_session, edition),
            occupancy=await services.occupancy(db_session, edition),
            status_labels=REGISTRATION_STATUS_LABELS,
            registration_open=edition.status == EditionStatus.registration_open,
            **context,
        )

    @get("/", name="calendar:delegates")
    async def index(self, db_session: AsyncSession, year: int, city_id: UUID) -> Template:
        return await self._page(db_session, year, city_id)

    @post("/", name="calendar:delegate_register")
    async def register(
        self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID, data: FormData
    ) -> Any:
        edition = await _edition(db_session, year)
        await _city(db_session, city_id)
        form, errors = validate_form(RegistrationForm, data)
        if form is None:
            return await self._page(db_session, year, city_id, 422, errors=errors, values=data)
        try:
            registration = await services.register_delegate(
                db_session, edition, city_id, form, actor=identity_of(request)
            )
        except services.FieldProblem as exc:
            await db_session.rollback()
            return await self._page(db_session, year, city_id, 422, errors={exc.field: exc.message}, values=data)
        if registration.status == "waiting":
            flash(request, _("The convention is full: %(name)s is on the waiting list.") % {"name": form.name}, "info")
        else:
            flash(request, _("%(name)s is registered.") % {"name": form.name}, "success")
        return await see_other(db_session, f"/convention/{year}/delegates/{city_id}")

    @post("/{registration_id:uuid}/cancel", name="calendar:delegate_cancel")
    async def cancel(
        self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID, registration_id: UUID
    ) -> Any:
        edition = await _edition(db_session, year)
        registration = await _registration_of_city(db_session, edition, city_id, registration_id)
        await services.cancel_registration(db_session, edition, registration, actor=identity_of(request))
        flash(request, _("The registration of %(name)s is cancelled.") % {"name": registration.name}, "success")
        return await see_other(db_session, f"/convention/{year}/delegates/{city_id}")


# -- administration ---------------------------------------------------------------------------------


class ConventionAdministration(Controller):
    path = "/admin/convention"
    guards = [admin_only]
    include_in_schema = False

    async def _list(self, db_session: AsyncSession, status_code: int = 200, **context: Any) -> Template:
        context.setdefault("errors", {})
        context.setdefault("values", {"timezone": "Europe/Brussels", "capacity": 200, "status": "draft"})
        return page(
            "calendar/admin_editions.html",
            status_code,
            editions=await services.list_editions(db_session, public_only=False),
            status_labels=EDITION_STATUS_LABELS,
            status_options=_status_options(),
            city_options=await _host_city_options(db_session, None),
            **context,
        )

    @get("/", name="calendar:admin_editions")
    async def index(self, db_session: AsyncSession) -> Template:
        return await self._list(db_session)

    @post("/", name="calendar:admin_edition_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(EditionForm, data)
        if form is None:
            return await self._list(db_session, 422, errors=errors, values=data)
        try:
            edition = await services.create_edition(db_session, form, actor=identity_of(request))
        except services.FieldProblem as exc:
            await db_session.rollback()
            return await self._list(db_session, 422, errors={exc.field: exc.message}, values=data)
        flash(request, _("The convention %(year)s is created.") % {"year": edition.year}, "success")
        return await see_other(db_session, f"/admin/convention/{edition.year}")

    async def _detail(
        self, db_session: AsyncSession, edition: ConventionEdition, status_code: int = 200, **context: Any
    ) -> Template:
        context.setdefault("errors", {})
        context.setdefault("session_errors", {})
        context.setdefault("session_values", {})
        if "values" not in context:
            context["values"] = {name: getattr(edition, name) for name in services.EDITION_FIELDS}
        sessions = await services.sessions_of(db_session, [edition.id])
        registrations = await services.registrations_of(db_session, edition)
        return page(
            "calendar/admin_edition.html",
            status_code,
            edition=edition,
            agenda=agenda_by_day(edition, sessions),
            registrations=registrations,
            positions=await services.waiting_positions(db_session, edition),
            occupancy=await services.occupancy(db_session, edition),
            city_names=await services.city_names(db_session, [r.city_id for r in registrations]),
            status_labels=EDITION_STATUS_LABELS,
            registration_labels=REGISTRATION_STATUS_LABELS,
            status_options=_status_options(),
            city_options=await _host_city_options(db_session, edition.host_city_id),
            **context,
        )

    @get("/{year:int}", name="calendar:admin_edition")
    async def detail(self, db_session: AsyncSession, year: int) -> Template:
        return await self._detail(db_session, await _edition(db_session, year, public_only=False))

    @post("/{year:int}", name="calendar:admin_edition_update")
    async def update(self, request: AnyRequest, db_session: AsyncSession, year: int, data: FormData) -> Any:
        edition = await _edition(db_session, year, public_only=False)
        form, errors = validate_form(EditionForm, data)
        if form is None:
            return await self._detail(db_session, edition, 422, errors=errors, values=data)
        try:
            await services.update_edition(db_session, edition, form, actor=identity_of(request))
        except services.FieldProblem as exc:
            await db_session.rollback()
            edition = await _edition(db_session, year, public_only=False)
            return await self._detail(db_session, edition, 422, errors={exc.field: exc.message}, values=data)
        flash(request, _("The convention is saved."), "success")
        return await see_other(db_session, f"/admin/convention/{edition.year}")

    @post("/{year:int}/sessions", name="calendar:admin_session_add")
    async def add_session(self, request: AnyRequest, db_session: AsyncSession, year: int, data: FormData) -> Any:
        edition = await _edition(db_session, year, public_only=False)
        form, errors = validate_form(SessionForm, data)
        if form is None:
            return await self._detail(db_session, edition, 422, session_errors=errors, session_values=data)
        try:
            await services.add_session(db_session, edition, form, actor=identity_of(request))
        except services.FieldProblem as exc:
            await db_session.rollback()
            edition = await _edition(db_session, year, public_only=False)
            return await self._detail(
                db_session, edition, 422, session_errors={exc.field: exc.message}, session_values=data
            )
        flash(request, _("The session is added to the agenda."), "success")
        return await see_other(db_session, f"/admin/convention/{year}")

    async def _agenda_session(self, db_session: AsyncSession, edition: ConventionEdition, session_id: UUID) -> Any:
        agenda_session = await db_session.get(AgendaSession, session_id)
        if agenda_session is None or agenda_session.edition_id != edition.id:
            raise NotFoundException(_("No such session."))
        return agenda_session

    def _session_page(
        self, edition: ConventionEdition, agenda_session: AgendaSession, status_code: int = 200, **context: Any
    ) -> Template:
        if "values" not in context:
            context["values"] = {
                "title": agenda_session.title,
                "starts_at": services.local_time(edition, agenda_session.starts_at).strftime("%Y-%m-%dT%H:%M"),
                "ends_at": services.local_time(edition, agenda_session.ends_at).strftime("%Y-%m-%dT%H:%M"),
                "room": agenda_session.room,
                "speakers": agenda_session.speakers,
                "description": agenda_session.description,
                "commitment_ids": ", ".join(agenda_session.commitment_ids or []),
            }
        context.setdefault("errors", {})
        return page(
            "calendar/admin_session.html", status_code, edition=edition, agenda_session=agenda_session, **context
        )

    @get("/{year:int}/sessions/{session_id:uuid}", name="calendar:admin_session")
    async def session_form(self, db_session: AsyncSession, year: int, session_id: UUID) -> Template:
        edition = await _edition(db_session, year, public_only=False)
        return self._session_page(edition, await self._agenda_session(db_session, edition, session_id))

    @post("/{year:int}/sessions/{session_id:uuid}", name="calendar:admin_session_update")
    async def session_update(
        self, request: AnyRequest, db_session: AsyncSession, year: int, session_id: UUID, data: FormData
    ) -> Any:
        edition = await _edition(db_session, year, public_only=False)
        agenda_session = await self._agenda_session(db_session, edition, session_id)
        form, errors = validate_form(SessionForm, data)
        if form is None:
            return self._session_page(edition, agenda_session, 422, errors=errors, values=data)
        try:
            await services.update_session(db_session, edition, agenda_session, form, actor=identity_of(request))
        except services.FieldProblem as exc:
            await db_session.rollback()
            return self._session_page(edition, agenda_session, 422, errors={exc.field: exc.message}, values=data)
        flash(request, _("The session is saved."), "success")
        return await see_other(db_session, f"/admin/convention/{year}")

    @post("/{year:int}/sessions/{session_id:uuid}/delete", name="calendar:admin_session_delete")
    async def session_delete(self, request: AnyRequest, db_session: AsyncSession, year: int, session_id: UUID) -> Any:
        edition = await _edition(db_session, year, public_only=False)
        agenda_session = await self._agenda_session(db_session, edition, session_id)
        await services.delete_session(db_session, agenda_session, actor=identity_of(request))
        flash(request, _("The session is removed from the agenda."), "success")
        return await see_other(db_session, f"/admin/convention/{year}")

    @post("/{year:int}/registrations/{registration_id:uuid}/cancel", name="calendar:admin_registration_cancel")
    async def cancel_registration(
        self, request: AnyRequest, db_session: AsyncSession, year: int, registration_id: UUID
    ) -> Any:
        edition = await _edition(db_session, year, public_only=False)
        registration = await db_session.get(Registration, registration_id)
        if registration is None or registration.edition_id != edition.id:
            raise NotFoundException(_("No such registration."))
        await services.cancel_registration(db_session, edition, registration, actor=identity_of(request))
        flash(request, _("The registration of %(name)s is cancelled.") % {"name": registration.name}, "success")
        return await see_other(db_session, f"/admin/convention/{year}")


class DeadlineAdministration(Controller):
    path = "/admin/deadlines"
    guards = [admin_only]
    include_in_schema = False

    async def _list(
        self, db_session: AsyncSession, number: int = 1, status_code: int = 200, **context: Any
    ) -> Template:
        number, size = clamp(number, None)
        rows, total = await services.search_deadlines(
            db_session, period="all", include_admins=True, offset=(number - 1) * size, limit=size
        )
        context.setdefault("errors", {})
        context.setdefault("values", {"audience": "all"})
        return page(
            "calendar/admin_deadlines.html",
            status_code,
            deadlines=Page(rows, total, number, size),
            audience_labels=AUDIENCE_LABELS,
            audience_options=_audience_options(admin=True),
            city_names=await services.city_names(db_session, [d.city_id for d in rows]),
            city_options=await _host_city_options(db_session, None),
            **context,
        )

    @get("/", name="calendar:admin_deadlines")
    async def index(self, db_session: AsyncSession, number: PageNumber = 1) -> Template:
        return await self._list(db_session, number)

    @post("/", name="calendar:admin_deadline_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(DeadlineForm, data)
        if form is None:
            return await self._list(db_session, 1, 422, errors=errors, values=data)
        try:
            await services.create_deadline(db_session, form, actor=identity_of(request))
        except services.FieldProblem as exc:
            await db_session.rollback()
            return await self._list(db_session, 1, 422, errors={exc.field: exc.message}, values=data)
        flash(request, _("The deadline is announced."), "success")
        return await see_other(db_session, "/admin/deadlines")

    @post("/{deadline_id:uuid}/delete", name="calendar:admin_deadline_delete")
    async def delete(self, request: AnyRequest, db_session: AsyncSession, deadline_id: UUID) -> Any:
        deadline = await db_session.get(Deadline, deadline_id)
        if deadline is None:
            raise NotFoundException(_("No such deadline."))
        await services.delete_deadline(db_session, deadline, actor=identity_of(request))
        flash(request, _("The deadline is removed."), "success")
        return await see_other(db_session, "/admin/deadlines")


# -- JSON API ---------------------------------------------------------------------------------------


def session_out(agenda_session: AgendaSession) -> SessionOut:
    return SessionOut(
        id=agenda_session.id,
        title=agenda_session.title,
        starts_at=agenda_session.starts_at,
        ends_at=agenda_session.ends_at,
        room=agenda_session.room,
        speakers=agenda_session.speakers,
        description=agenda_session.description,
        commitment_ids=[UUID(i) for i in agenda_session.commitment_ids or []],
    )


async def edition_out(
    db_session: AsyncSession, edition: ConventionEdition, *, with_sessions: bool = False
) -> EditionOut:
    names = await services.city_names(db_session, [edition.host_city_id])
    seats = await services.occupancy(db_session, edition)
    sessions = await services.sessions_of(db_session, [edition.id]) if with_sessions else []
    return EditionOut(
        id=edition.id,
        year=edition.year,
        title=edition.title,
        host_city_id=edition.host_city_id,
        host_city_name=names.get(edition.host_city_id) if edition.host_city_id else None,
        starts_on=edition.starts_on,
        ends_on=edition.ends_on,
        timezone=edition.timezone,
        venue=edition.venue,
        theme=edition.theme,
        description=edition.description,
        status=EditionStatus(edition.status),
        capacity=edition.capacity,
        confirmed=seats.confirmed,
        waiting=seats.waiting,
        sessions=[session_out(s) for s in sessions],
    )


def registration_out(
    edition: ConventionEdition, registration: Registration, positions: dict[UUID, int]
) -> RegistrationOut:
    return RegistrationOut(
        id=registration.id,
        edition_year=edition.year,
        city_id=registration.city_id,
        name=registration.name,
        email=registration.email,
        role=registration.role,
        status=registration.status,
        registered_at=registration.registered_at,
        waiting_position=positions.get(registration.id),
    )


def deadline_out(deadline: Deadline) -> DeadlineOut:
    return DeadlineOut(
        id=deadline.id,
        title=deadline.title,
        due_on=deadline.due_on,
        audience=Audience(deadline.audience),
        city_id=deadline.city_id,
        source=deadline.source,
        key=deadline.key,
        link=deadline.link,
        description=deadline.description,
    )


class ConventionApi(Controller):
    path = "/api/v1/convention"
    tags = ["Convention"]

    @get("/editions", name="api:convention_editions", cache=False)
    async def list_editions(self, request: AnyRequest, db_session: AsyncSession) -> EditionList:
        """Editions of the annual convention, newest first (drafts only for administrators)."""
        editions = await services.list_editions(db_session, public_only=not identity_of(request).is_admin)
        return EditionList(items=[await edition_out(db_session, e) for e in editions], total=len(editions))

    @get("/editions/{year:int}", name="api:convention_edition", cache=False)
    async def get_edition(self, request: AnyRequest, db_session: AsyncSession, year: int) -> EditionOut:
        """One edition with its agenda."""
        edition = await _edition(db_session, year, public_only=not identity_of(request).is_admin)
        return await edition_out(db_session, edition, with_sessions=True)

    @post("/editions", name="api:convention_edition_create", guards=[admin_only])
    async def create_edition(self, request: AnyRequest, db_session: AsyncSession, data: EditionForm) -> EditionOut:
        """Create an edition (administrators)."""
        try:
            edition = await services.create_edition(db_session, data, actor=identity_of(request))
        except services.FieldProblem as exc:
            raise _field_problem(exc) from exc
        return await edition_out(db_session, edition)

    @post("/editions/{year:int}/sessions", name="api:convention_session_create", guards=[admin_only])
    async def add_session(
        self, request: AnyRequest, db_session: AsyncSession, year: int, data: SessionForm
    ) -> SessionOut:
        """Add a session to an edition's agenda (administrators); naive times are the convention's local time."""
        edition = await _edition(db_session, year, public_only=False)
        try:
            agenda_session = await services.add_session(db_session, edition, data, actor=identity_of(request))
        except services.FieldProblem as exc:
            raise _field_problem(exc) from exc
        return session_out(agenda_session)

    @get(
        "/editions/{year:int}/delegates/{city_id:uuid}",
        name="api:convention_delegates",
        guards=[requires(REGISTER_DELEGATES, city_param="city_id")],
        cache=False,
    )
    async def delegates(self, db_session: AsyncSession, year: int, city_id: UUID) -> RegistrationList:
        """The delegates a city registered, with the edition's capacity and waiting list."""
        edition = await _edition(db_session, year)
        positions = await services.waiting_positions(db_session, edition)
        seats = await services.occupancy(db_session, edition)
        rows = await services.registrations_of(db_session, edition, city_id=city_id)
        return RegistrationList(
            items=[registration_out(edition, r, positions) for r in rows],
            capacity=seats.capacity,
            confirmed=seats.confirmed,
            waiting=seats.waiting,
        )

    @post(
        "/editions/{year:int}/delegates/{city_id:uuid}",
        name="api:convention_delegate_register",
        guards=[requires(REGISTER_DELEGATES, city_param="city_id")],
    )
    async def register(
        self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID, data: RegistrationForm
    ) -> RegistrationOut:
        """Register a delegate; beyond the capacity the delegate goes to the waiting list (status ``waiting``)."""
        edition = await _edition(db_session, year)
        await _city(db_session, city_id)
        try:
            registration = await services.register_delegate(
                db_session, edition, city_id, data, actor=identity_of(request)
            )
        except services.FieldProblem as exc:
            raise _field_problem(exc) from exc
        return registration_out(edition, registration, await services.waiting_positions(db_session, edition))

    @post(
        "/editions/{year:int}/delegates/{city_id:uuid}/{registration_id:uuid}/cancel",
        name="api:convention_delegate_cancel",
        guards=[requires(REGISTER_DELEGATES, city_param="city_id")],
        status_code=200,
    )
    async def cancel(
        self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID, registration_id: UUID
    ) -> RegistrationOut:
        """Cancel a registration; the first on the waiting list takes the seat and is told by e-mail."""
        edition = await _edition(db_session, year)
        registration = await _registration_of_city(db_session, edition, city_id, registration_id)
        await services.cancel_registration(db_session, edition, registration, actor=identity_of(request))
        return registration_out(edition, registration, {})


class DeadlinesApi(Controller):
    path = "/api/v1/deadlines"
    tags = ["Convention"]

    @get("/", name="api:deadlines", cache=False)
    async def list_deadlines(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        audience: str = "",
        source: str = "",
        period: str = "upcoming",
        number: PageNumber = 1,
        size: Annotated[int, Parameter(query="size", ge=1, le=200)] = 25,
    ) -> DeadlineList:
        """Deadlines in date order; filter by audience (all, city, admins), source and period
        (upcoming, past, all)."""
        number, size = clamp(number, size)
        rows, total = await _deadline_search(
            request, db_session, audience, source, period, offset=(number - 1) * size, limit=size
        )
        return DeadlineList(items=[deadline_out(d) for d in rows], total=total, page=number, size=size)

    @get("/{deadline_id:uuid}", name="api:deadline", cache=False)
    async def get_deadline(self, request: AnyRequest, db_session: AsyncSession, deadline_id: UUID) -> DeadlineOut:
        deadline = await db_session.get(Deadline, deadline_id)
        if deadline is None or (deadline.audience == Audience.admins and not identity_of(request).is_admin):
            raise NotFoundException(_("No such deadline."))
        return deadline_out(deadline)

    @post("/", name="api:deadline_create", guards=[admin_only])
    async def create_deadline(self, request: AnyRequest, db_session: AsyncSession, data: DeadlineForm) -> DeadlineOut:
        """Announce a deadline (administrators); it is also published as ``deadline.announced``."""
        try:
            deadline = await services.create_deadline(db_session, data, actor=identity_of(request))
        except services.FieldProblem as exc:
            raise _field_problem(exc) from exc
        return deadline_out(deadline)


route_handlers: list[ControllerRouterHandler] = [
    convention,
    convention_ics,
    edition_page,
    deadlines_page,
    deadlines_csv,
    my_calendar,
    regenerate_feed,
    personal_ics,
    DelegatesController,
    ConventionAdministration,
    DeadlineAdministration,
    ConventionApi,
    DeadlinesApi,
]
