"""The public signatory pages (list, CSV, map, profile), membership applications and decisions, city
profiles and teams, and their JSON API under /api/v1/cities."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import File, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires, signed_in
from covenant.accounts.permissions import CITY_EDIT_PROFILE, MEMBERSHIP_APPLY, MEMBERSHIP_DECIDE
from covenant.cities import services
from covenant.cities.models import PUBLIC_STATUSES, City, Membership, SizeClass
from covenant.cities.schemas import (
    ApplicationForm,
    CityList,
    CityOut,
    CityProfileForm,
    DecisionForm,
    InvitationForm,
    MembershipList,
    MembershipOut,
    TeamMemberOut,
    country_name,
)
from covenant.commitments.services import commitment_counts, public_commitments_of
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, settings_of, validate_form
from covenant.web.pagination import Page, clamp

AnyRequest = Request[Any, Any, Any]
UPLOAD_LIMIT = 12 * 1024 * 1024
"""The application's body limit: the 10 MB letter plus its form, so a slightly larger letter still
reaches the form's own check (a field message) instead of a bare 413."""

SIZE_LABELS: dict[str, str] = {
    SizeClass.below_50k: N_("below 50,000"),
    SizeClass.from_50k_to_250k: N_("50,000 to 250,000"),
    SizeClass.from_250k_to_500k: N_("250,000 to 500,000"),
    SizeClass.from_500k_to_1m: N_("500,000 to 1 million"),
    SizeClass.above_1m: N_("above 1 million"),
}
AUTHORITY_LABELS: dict[str, str] = {
    "municipality": N_("Municipality"),
    "metropolitan": N_("Metropolitan authority"),
    "region": N_("Region"),
    "group": N_("Group of municipalities"),
}
SORT_LABELS: dict[str, str] = {
    "name": N_("Name"),
    "population": N_("Population"),
    "adhesion_date": N_("Adhesion date"),
}
ROLE_LABELS: dict[str, str] = {"mayors_office": N_("Mayor's office"), "contributor": N_("Contributor")}


def template_context() -> dict[str, Any]:
    return {
        "size_labels": SIZE_LABELS,
        "authority_labels": AUTHORITY_LABELS,
        "status_labels": services.STATUS_LABELS,
        "role_labels": ROLE_LABELS,
        "country_name": country_name,
    }


# -- public: list, CSV, map, profile -----------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    q: str
    country: str
    size_class: str
    sort: str

    @classmethod
    def of(cls, q: str, country: str, size_class: str, sort: str) -> ListFilters:
        size_class = size_class if size_class in set(SizeClass) else ""
        return cls(q.strip()[:100], country.strip().upper()[:2], size_class, sort if sort in services.SORTS else "name")

    async def search(self, db_session: AsyncSession, offset: int, limit: int) -> tuple[list[Any], int]:
        return await services.search_signatories(
            db_session,
            q=self.q,
            country=self.country,
            size_class=self.size_class,
            sort=self.sort,
            offset=offset,
            limit=limit,
        )


Q = Annotated[str, Parameter(query="q", max_length=200)]
Country = Annotated[str, Parameter(query="country", max_length=10)]
Size = Annotated[str, Parameter(query="size_class", max_length=20)]
Sort = Annotated[str, Parameter(query="sort", max_length=20)]
PageNumber = Annotated[int, Parameter(query="page", ge=1)]
PageSize = Annotated[int, Parameter(query="size", ge=1, le=200)]


@get("/cities", name="cities:list", include_in_schema=False, opt={"public_cache": True})
async def signatory_list(
    request: AnyRequest,
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    size_class: Size = "",
    sort: Sort = "name",
    number: PageNumber = 1,
) -> Template:
    filters = ListFilters.of(q, country, size_class, sort)
    number, size = clamp(number, None)
    rows, total = await filters.search(db_session, (number - 1) * size, size)
    countries = await services.signatory_countries(db_session)
    query = request.url.query
    return page(
        "cities/list.html",
        cities=Page(rows, total, number, size),
        filters=filters,
        countries=countries,
        sort_labels=SORT_LABELS,
        csv_url="/cities.csv" + (f"?{query}" if query else ""),
        **template_context(),
    )


CSV_COLUMNS = (
    "id",
    "name",
    "country_code",
    "country",
    "authority_type",
    "population",
    "size_class",
    "adhesion_date",
    "status",
    "commitments",
    "latitude",
    "longitude",
)


@get("/cities.csv", name="cities:csv", include_in_schema=False)
async def signatory_csv(
    db_session: AsyncSession, q: Q = "", country: Country = "", size_class: Size = "", sort: Sort = "name"
) -> Response[str]:
    """Every signatory matching the filters (open data): no pagination."""
    rows, _total = await ListFilters.of(q, country, size_class, sort).search(db_session, 0, 100_000)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.id,
                r.name,
                r.country_code,
                country_name(r.country_code),
                r.authority_type,
                r.population,
                r.size_class,
                r.adhesion_date.isoformat(),
                r.status,
                r.commitments,
                r.latitude if r.latitude is not None else "",
                r.longitude if r.longitude is not None else "",
            ]
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="covenant-signatories.csv"'},
    )


# The map: an equirectangular projection of Europe with 50°N as standard parallel (no tiles: works offline).
MAP_WEST, MAP_EAST, MAP_SOUTH, MAP_NORTH = -11.0, 35.0, 34.0, 68.0
MAP_WIDTH = 720
MAP_HEIGHT = round(MAP_WIDTH * (MAP_NORTH - MAP_SOUTH) / ((MAP_EAST - MAP_WEST) * math.cos(math.radians(50))))


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """Map coordinates of a point: x grows with longitude, y with distance from the north edge."""
    x = (longitude - MAP_WEST) / (MAP_EAST - MAP_WEST) * MAP_WIDTH
    y = (MAP_NORTH - latitude) / (MAP_NORTH - MAP_SOUTH) * MAP_HEIGHT
    return round(x, 1), round(y, 1)


async def map_context(db_session: AsyncSession) -> dict[str, Any]:
    rows, _total = await services.search_signatories(db_session, offset=0, limit=100_000)
    points = [
        {"city": r, "x": x, "y": y}
        for r in rows
        if r.latitude is not None and r.longitude is not None
        for x, y in [project(r.latitude, r.longitude)]
    ]
    labels = [
        {"code": code, "name": country_name(code), "x": x, "y": y}
        for code, lat, lon in await services.country_centres(db_session)
        for x, y in [project(lat, lon)]
        if 0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT
    ]
    graticule = {
        "meridians": [project(MAP_NORTH, lon)[0] for lon in range(-10, 35, 10)],
        "parallels": [project(lat, MAP_WEST)[1] for lat in range(40, 68, 10)],
    }
    return {"points": points, "labels": labels, "graticule": graticule, "width": MAP_WIDTH, "height": MAP_HEIGHT}


@get("/cities/map", name="cities:map", include_in_schema=False)
async def signatory_map(db_session: AsyncSession) -> Template:
    return page("cities/map.html", **(await map_context(db_session)), **template_context())


@get("/cities/map.svg", name="cities:map_svg", include_in_schema=False)
async def signatory_map_svg(db_session: AsyncSession) -> Template:
    return Template(
        "cities/_map.html", context={**(await map_context(db_session)), "standalone": True}, media_type="image/svg+xml"
    )


def is_team_member(request: AnyRequest, city_id: UUID) -> bool:
    identity = identity_of(request)
    return identity.is_admin or city_id in identity.cities()


@get("/cities/{city_id:uuid}", name="cities:profile", include_in_schema=False, opt={"public_cache": True})
async def city_profile(request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> Template:
    city = await load_city(db_session, city_id)
    membership = await services.membership_of(db_session, city.id)
    identity = identity_of(request)
    member = is_team_member(request, city.id)
    return page(
        "cities/profile.html",
        city=city,
        membership=membership,
        commitments=await public_commitments_of(db_session, city.id),
        municipalities=await services.municipalities_of(db_session, city.id) if city.authority_type == "group" else [],
        team=await services.team_of(db_session, city.id) if member else None,
        can_edit=identity.can(CITY_EDIT_PROFILE, city_id=city.id),
        can_withdraw=identity.can(MEMBERSHIP_APPLY, city_id=city.id)
        and "withdraw" in services.allowed_actions(membership.status if membership else None),
        can_apply=may_apply_for(request, city.id)
        and "apply" in services.allowed_actions(membership.status if membership else None),
        **template_context(),
        **await monitoring_profile(request, db_session, city.id, member),
    )


async def monitoring_profile(
    request: AnyRequest, db_session: AsyncSession, city_id: UUID, member: bool
) -> dict[str, Any]:
    """The monitoring's part of the profile: badges for everyone, the open cycles' checklist for the team."""
    from covenant.monitoring.web import profile_context

    return await profile_context(request, db_session, city_id, member)


# -- applying ----------------------------------------------------------------------------------------


def may_apply_for(connection: ASGIConnection[Any, Any, Any, Any], city_id: UUID) -> bool:
    """A signed-in person may apply for a city, except one who already works for other cities only
    (a mayor's office of city A does not apply on behalf of city B)."""
    identity = identity_of(connection)
    if not identity.is_authenticated:
        return False
    cities = identity.cities()
    return identity.is_admin or not cities or city_id in cities


def may_apply(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    signed_in(connection, handler)
    raw = connection.path_params.get("city_id")
    if not isinstance(raw, UUID) or not may_apply_for(connection, raw):
        raise PermissionDeniedException(_("You cannot apply on behalf of this city."))


class ApplicationRefused(Exception):
    def __init__(self, errors: dict[str, str], status_code: int = 422) -> None:
        super().__init__(next(iter(errors.values()), ""))
        self.errors = errors
        self.status_code = status_code


async def submit_application(
    request: AnyRequest, db_session: AsyncSession, city: City, data: dict[str, Any]
) -> Membership:
    """Shared by the page and the API: validate everything first, save nothing on any error."""
    fields = {k: v for k, v in data.items() if not isinstance(v, UploadFile)}
    form, errors = validate_form(ApplicationForm, fields)
    upload = data.get("letter")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    try:
        services.check_letter(content)
    except services.LetterRefused as exc:
        errors["letter"] = str(exc)
    membership = await services.membership_of(db_session, city.id)
    try:
        services.check_transition("apply", membership)
    except services.TransitionRefused as exc:
        raise ApplicationRefused({"city": str(exc)}, 409) from exc
    if form is None or errors:
        raise ApplicationRefused(errors)
    letter = services.store_letter(settings_of(request), content)
    return await services.apply(db_session, city, form, actor=identity_of(request), letter_file=letter)


@get("/cities/apply", name="cities:apply_search", guards=[signed_in], include_in_schema=False)
async def apply_search(db_session: AsyncSession, q: Q = "") -> Template:
    return page("cities/apply_search.html", q=q, found=await services.find_cities(db_session, q), **template_context())


@get("/cities/{city_id:uuid}/apply", name="cities:apply", guards=[may_apply], include_in_schema=False)
async def apply_form(db_session: AsyncSession, city_id: UUID) -> Template:
    city = await load_city(db_session, city_id)
    return page("cities/apply.html", city=city, values={"mayor": city.mayor}, errors={})


@post(
    "/cities/{city_id:uuid}/apply",
    name="cities:apply_submit",
    guards=[may_apply],
    include_in_schema=False,
    request_max_body_size=UPLOAD_LIMIT,
)
async def apply_submit(request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: MultipartData) -> Any:
    city = await load_city(db_session, city_id)
    try:
        await submit_application(request, db_session, city, data)
    except ApplicationRefused as exc:
        values = {k: v for k, v in data.items() if not isinstance(v, UploadFile)}
        return page("cities/apply.html", exc.status_code, city=city, values=values, errors=exc.errors)
    flash(request, _("Your application is sent. The secretariat will write to you with its decision."), "success")
    return await see_other(db_session, f"/cities/{city.id}")


@post(
    "/cities/{city_id:uuid}/withdraw",
    name="cities:withdraw",
    guards=[requires(MEMBERSHIP_APPLY, city_param="city_id")],
    include_in_schema=False,
)
async def withdraw(request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
    city = await load_city(db_session, city_id)
    form, _errors = validate_form(DecisionForm, data)
    try:
        await services.decide(db_session, city, "withdraw", form or DecisionForm(), actor=identity_of(request))
    except (services.TransitionRefused, services.InvalidDecision) as exc:
        flash(request, str(exc), "error")
        return await see_other(db_session, f"/cities/{city.id}")
    flash(request, _("The withdrawal is recorded."), "success")
    return await see_other(db_session, f"/cities/{city.id}")


@get(
    "/cities/{city_id:uuid}/letter",
    name="cities:letter",
    guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")],
    include_in_schema=False,
)
async def commitment_letter(request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> File:
    """The commitment letter, for the city's mayor's office and the admins."""
    membership = await services.membership_of(db_session, city_id)
    path = services.letter_path(settings_of(request), membership) if membership else None
    if path is None:
        raise NotFoundException(_("No commitment letter."))
    return File(path, filename="commitment-letter.pdf", media_type="application/pdf")


# -- the mayor's office: profile and team -------------------------------------------------------------


class CityOffice(Controller):
    path = "/cities/{city_id:uuid}"
    guards = [requires(CITY_EDIT_PROFILE, city_param="city_id")]
    include_in_schema = False

    @get("/edit", name="cities:edit")
    async def edit_form(self, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        values = {k: getattr(city, k) for k in services.PROFILE_FIELDS}
        return page("cities/edit.html", city=city, values=values, errors={}, **template_context())

    @post("/edit", name="cities:edit_submit")
    async def edit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(CityProfileForm, data)
        if form is None:
            return page("cities/edit.html", 422, city=city, values=data, errors=errors, **template_context())
        await services.update_profile(db_session, city, form, actor=identity_of(request))
        flash(request, _("The profile is saved."), "success")
        return await see_other(db_session, f"/cities/{city.id}")

    async def _team(
        self, request: AnyRequest, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any
    ) -> Template:
        context.setdefault("errors", {})
        context.setdefault("values", {"role": "contributor"})
        return page(
            "cities/team.html",
            status_code,
            city=city,
            team=await services.team_of(db_session, city.id),
            module_slugs=module_slugs(request),
            **template_context(),
            **context,
        )

    @get("/team", name="cities:team")
    async def team(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._team(request, db_session, await load_city(db_session, city_id))

    @post("/team", name="cities:invite")
    async def invite(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(InvitationForm, data)
        if form is None:
            return await self._team(request, db_session, city, 422, errors=errors, values=data)
        try:
            member = await services.invite(
                db_session,
                city,
                form,
                actor=identity_of(request),
                base_url=settings_of(request).base_url,
                known_modules=module_slugs(request),
            )
        except services.TeamError as exc:
            return await self._team(request, db_session, city, 422, errors={exc.field: str(exc)}, values=data)
        flash(request, _("{email} is invited; an e-mail is on its way.").format(email=member.email), "success")
        return await see_other(db_session, f"/cities/{city.id}/team")

    @post("/team/{grant_id:uuid}/remove", name="cities:remove_member")
    async def remove(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, grant_id: UUID) -> Any:
        city = await load_city(db_session, city_id)
        try:
            if await services.remove_member(db_session, city, grant_id, actor=identity_of(request)):
                flash(request, _("The person is no longer in the team."), "success")
        except services.TeamError as exc:
            flash(request, str(exc), "error")
        return await see_other(db_session, f"/cities/{city.id}/team")


def module_slugs(request: AnyRequest) -> list[str]:
    return [m.slug for m in request.app.state.registry]


# -- admins: applications and decisions --------------------------------------------------------------


class MembershipAdministration(Controller):
    path = "/admin/memberships"
    guards = [admin_only]
    include_in_schema = False

    @get("/", name="cities:admin_memberships")
    async def index(self, db_session: AsyncSession, status: str = "applied", number: PageNumber = 1) -> Template:
        status = status if status in services.STATUS_LABELS or status == "" else "applied"
        number, size = clamp(number, None)
        rows, total = await services.applications(
            db_session, status=status or None, offset=(number - 1) * size, limit=size
        )
        return page(
            "cities/admin_memberships.html",
            memberships=Page(rows, total, number, size),
            status=status,
            **template_context(),
        )

    async def _detail(self, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any) -> Template:
        membership = await services.membership_of(db_session, city.id)
        if membership is None:
            raise NotFoundException(_("This city has no membership."))
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page(
            "cities/admin_membership.html",
            status_code,
            city=city,
            membership=membership,
            actions=[a for a in services.allowed_actions(membership.status) if a in services.DECISIONS],
            action_labels=services.ACTION_LABELS,
            **template_context(),
            **context,
        )

    @get("/{city_id:uuid}", name="cities:admin_membership")
    async def detail(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._detail(db_session, await load_city(db_session, city_id))

    @post("/{city_id:uuid}/{action:str}", name="cities:admin_decide")
    async def decide(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, action: str, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(DecisionForm, data)
        if form is None:
            return await self._detail(db_session, city, 422, errors=errors, values=data, current=action)
        try:
            await services.decide(db_session, city, action, form, actor=identity_of(request))
        except services.InvalidDecision as exc:
            return await self._detail(db_session, city, 422, errors={exc.field: str(exc)}, values=data, current=action)
        except services.TransitionRefused as exc:
            return await self._detail(db_session, city, 409, problem=str(exc))
        flash(request, _("The decision is recorded and the city informed."), "success")
        return await see_other(db_session, f"/admin/memberships/{city.id}")


# -- JSON API ----------------------------------------------------------------------------------------


def city_out(row: services.SignatoryRow) -> CityOut:
    return CityOut(
        id=row.id,
        name=row.name,
        country_code=row.country_code,
        country=country_name(row.country_code),
        region=row.region,
        population=row.population,
        area_km2=row.area_km2,
        density=row.density,
        size_class=row.size_class,
        latitude=row.latitude,
        longitude=row.longitude,
        authority_type=row.authority_type,
        website=row.website,
        status=row.status,
        adhesion_date=row.adhesion_date,
        commitments=row.commitments,
    )


def membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        id=m.id,
        city_id=m.city_id,
        city_name=m.city.name,
        status=m.status,
        adhesion_date=m.adhesion_date,
        mayor=m.mayor,
        mandate_end=m.mandate_end,
        contact_name=m.contact_name,
        contact_email=m.contact_email,
        has_letter=bool(m.letter_file),
        reason=m.reason,
        notice_date=m.notice_date,
    )


def member_out(member: services.TeamMember) -> TeamMemberOut:
    return TeamMemberOut(
        grant_id=member.grant_id,
        user_id=member.user_id,
        email=member.email,
        display_name=member.display_name,
        role=member.role,
        modules=member.modules,
    )


class CitiesApi(Controller):
    path = "/api/v1/cities"
    tags = ["Cities"]

    @get("/", name="api:cities", cache=False, opt={"public_cache": True})
    async def list_cities(
        self,
        db_session: AsyncSession,
        q: Q = "",
        country: Country = "",
        size_class: Size = "",
        sort: Sort = "name",
        number: PageNumber = 1,
        size: PageSize = 25,
    ) -> CityList:
        """Signatories (suspended ones flagged by ``status``), searched by name, filtered by country and
        size class, sorted by name, population or adhesion date; one page at a time."""
        number, size = clamp(number, size)
        rows, total = await ListFilters.of(q, country, size_class, sort).search(db_session, (number - 1) * size, size)
        return CityList(items=[city_out(r) for r in rows], total=total, page=number, size=size)

    @get("/{city_id:uuid}", name="api:city", cache=False, opt={"public_cache": True})
    async def city(self, db_session: AsyncSession, city_id: UUID) -> CityOut:
        """A city of the registry, with its membership status when it is a (possibly suspended) signatory."""
        return await city_detail(db_session, await load_city(db_session, city_id))

    @put("/{city_id:uuid}", name="api:city_update", guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")])
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: CityProfileForm
    ) -> CityOut:
        """Change the city's profile (its mayor's office or an admin)."""
        city = await load_city(db_session, city_id)
        await services.update_profile(db_session, city, data, actor=identity_of(request))
        return await city_detail(db_session, city)

    @post(
        "/{city_id:uuid}/application",
        name="api:city_apply",
        guards=[may_apply],
        request_max_body_size=UPLOAD_LIMIT,
        status_code=201,
    )
    async def apply(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: MultipartData
    ) -> MembershipOut:
        """Apply for the city (multipart form: the fields of the page and ``letter``, a PDF of ≤ 10 MB)."""
        city = await load_city(db_session, city_id)
        try:
            membership = await submit_application(request, db_session, city, data)
        except ApplicationRefused as exc:
            if exc.status_code == 409:
                raise HTTPException(status_code=409, detail=str(exc)) from exc
            raise ValidationException(
                detail=_("The input is not valid."), extra=[{"key": k, "message": v} for k, v in exc.errors.items()]
            ) from exc
        await db_session.refresh(membership, ["city"])
        return membership_out(membership)

    @post(
        "/{city_id:uuid}/membership/withdraw",
        name="api:city_withdraw",
        guards=[requires(MEMBERSHIP_APPLY, city_param="city_id")],
    )
    async def withdraw(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: DecisionForm
    ) -> MembershipOut:
        """The city leaves the Covenant (its mayor's office or an admin)."""
        return await _decide(request, db_session, city_id, "withdraw", data)

    @post(
        "/{city_id:uuid}/membership/{action:str}",
        name="api:city_decide",
        guards=[requires(MEMBERSHIP_DECIDE)],
    )
    async def decide(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, action: str, data: DecisionForm
    ) -> MembershipOut:
        """An admin's decision: ``accept``, ``reject`` (reason), ``suspend`` (reason, notice_date),
        ``reinstate``. 409 when the membership's state does not allow it."""
        return await _decide(request, db_session, city_id, action, data)

    @get("/{city_id:uuid}/team", name="api:city_team", guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")])
    async def team(self, db_session: AsyncSession, city_id: UUID) -> list[TeamMemberOut]:
        """The city's team: its mayor's office and contributors."""
        await load_city(db_session, city_id)
        return [member_out(m) for m in await services.team_of(db_session, city_id)]

    @post(
        "/{city_id:uuid}/team",
        name="api:city_invite",
        guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")],
        status_code=201,
    )
    async def invite(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: InvitationForm
    ) -> TeamMemberOut:
        """Invite someone by e-mail as mayor's office or contributor (optionally limited to modules)."""
        city = await load_city(db_session, city_id)
        try:
            member = await services.invite(
                db_session,
                city,
                data,
                actor=identity_of(request),
                base_url=settings_of(request).base_url,
                known_modules=module_slugs(request),
            )
        except services.TeamError as exc:
            raise ValidationException(detail=str(exc), extra=[{"key": exc.field, "message": str(exc)}]) from exc
        return member_out(member)

    @delete(
        "/{city_id:uuid}/team/{grant_id:uuid}",
        name="api:city_remove_member",
        guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")],
    )
    async def remove(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, grant_id: UUID) -> None:
        """Take someone's role in the city's team away."""
        city = await load_city(db_session, city_id)
        try:
            removed = await services.remove_member(db_session, city, grant_id, actor=identity_of(request))
        except services.TeamError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        if not removed:
            raise NotFoundException(_("No such team member."))


async def city_detail(db_session: AsyncSession, city: City) -> CityOut:
    membership = await services.membership_of(db_session, city.id)
    public = membership if membership is not None and membership.status in PUBLIC_STATUSES else None
    counts = await commitment_counts(db_session, [city.id])
    return CityOut(
        id=city.id,
        name=city.name,
        country_code=city.country_code,
        country=country_name(city.country_code),
        region=city.region,
        population=city.population,
        area_km2=city.area_km2,
        density=city.density,
        size_class=city.size_class,
        latitude=city.latitude,
        longitude=city.longitude,
        authority_type=city.authority_type,
        website=city.website,
        status=public.status if public else None,
        adhesion_date=public.adhesion_date if public else None,
        commitments=counts.get(city.id, 0),
    )


async def _decide(
    request: AnyRequest, db_session: AsyncSession, city_id: UUID, action: str, data: DecisionForm
) -> MembershipOut:
    city = await load_city(db_session, city_id)
    try:
        membership = await services.decide(db_session, city, action, data, actor=identity_of(request))
    except services.InvalidDecision as exc:
        raise ValidationException(detail=str(exc), extra=[{"key": exc.field, "message": str(exc)}]) from exc
    except services.TransitionRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    return membership_out(membership)


@get("/api/v1/admin/memberships", name="api:memberships", guards=[admin_only], tags=["Cities"], cache=False)
async def api_memberships(
    db_session: AsyncSession, status: str = "", number: PageNumber = 1, size: PageSize = 25
) -> MembershipList:
    """Applications and memberships for the secretariat, oldest application first, filtered by status."""
    number, size = clamp(number, size)
    rows, total = await services.applications(db_session, status=status or None, offset=(number - 1) * size, limit=size)
    return MembershipList(items=[membership_out(m) for m in rows], total=total, page=number, size=size)


route_handlers: list[ControllerRouterHandler] = [
    signatory_list,
    signatory_csv,
    signatory_map,
    signatory_map_svg,
    apply_search,
    city_profile,
    apply_form,
    apply_submit,
    withdraw,
    commitment_letter,
    CityOffice,
    MembershipAdministration,
    CitiesApi,
    api_memberships,
]
