"""The registry kept by the secretariat: adding authorities the shipped registry lacks, and the member
municipalities of a group signatory (kept by its mayor's office or an admin). Pages and JSON."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Template
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires
from covenant.accounts.permissions import CITY_EDIT_PROFILE
from covenant.cities import services
from covenant.cities.models import City
from covenant.cities.schemas import MunicipalityForm, NewAuthorityForm
from covenant.cities.web import template_context
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import AnyRequest, FormData, page, see_other, validate_form

AUTHORITY_DEFAULTS = {"authority_type": "municipality"}


class Municipality(BaseModel):
    id: UUID
    name: str
    population: int | None


class RegistryAdministration(Controller):
    path = "/admin/cities"
    guards = [admin_only]
    include_in_schema = False

    @get("/new", name="cities:admin_new")
    async def new_form(self) -> Template:
        return page("cities/admin_new.html", values=AUTHORITY_DEFAULTS, errors={}, **template_context())

    @post("/new", name="cities:admin_new_submit")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(NewAuthorityForm, data)
        if form is None:
            return page("cities/admin_new.html", 422, values=data, errors=errors, **template_context())
        city = await services.add_authority(db_session, form, actor=identity_of(request))
        flash(request, _("{name} is in the registry.").format(name=city.name), "success")
        target = f"/cities/{city.id}/municipalities" if city.authority_type == "group" else f"/cities/{city.id}"
        return await see_other(db_session, target)


class GroupMunicipalities(Controller):
    path = "/cities/{city_id:uuid}/municipalities"
    guards = [requires(CITY_EDIT_PROFILE, city_param="city_id")]
    include_in_schema = False

    async def _page(self, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any) -> Template:
        context.setdefault("errors", {})
        context.setdefault("values", {})
        members = await services.municipalities_of(db_session, city.id)
        return page("cities/municipalities.html", status_code, city=city, members=members, **context)

    @get("/", name="cities:municipalities")
    async def index(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._page(db_session, await load_group(db_session, city_id))

    @post("/", name="cities:municipality_add")
    async def add(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        group = await load_group(db_session, city_id)
        form, errors = validate_form(MunicipalityForm, data)
        if form is None:
            return await self._page(db_session, group, 422, errors=errors, values=data)
        await services.add_municipality(db_session, group, form, actor=identity_of(request))
        flash(request, _("{name} is a member of the group.").format(name=form.name), "success")
        return await see_other(db_session, f"/cities/{group.id}/municipalities")

    @post("/{municipality_id:uuid}/remove", name="cities:municipality_remove")
    async def remove(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, municipality_id: UUID) -> Any:
        group = await load_group(db_session, city_id)
        if not await services.remove_municipality(db_session, group, municipality_id, actor=identity_of(request)):
            raise NotFoundException(_("No such municipality in this group."))
        flash(request, _("The municipality has left the group."), "success")
        return await see_other(db_session, f"/cities/{group.id}/municipalities")


class RegistryApi(Controller):
    path = "/api/v1"
    tags = ["Cities"]

    @post("/admin/cities", name="api:cities_add", guards=[admin_only], status_code=201)
    async def add_authority(
        self, request: AnyRequest, db_session: AsyncSession, data: NewAuthorityForm
    ) -> dict[str, Any]:
        """Add an authority the registry lacks (municipality, metropolitan, region or group)."""
        city = await services.add_authority(db_session, data, actor=identity_of(request))
        return {"id": str(city.id), "name": city.name, "authority_type": city.authority_type}

    @get("/cities/{city_id:uuid}/municipalities", name="api:city_municipalities", cache=False)
    async def municipalities(self, db_session: AsyncSession, city_id: UUID) -> list[Municipality]:
        """The member municipalities of a group signatory (public, like its profile)."""
        group = await load_group(db_session, city_id)
        return [
            Municipality(id=m.id, name=m.name, population=m.population)
            for m in await services.municipalities_of(db_session, group.id)
        ]

    @post(
        "/cities/{city_id:uuid}/municipalities",
        name="api:city_municipality_add",
        guards=[requires(CITY_EDIT_PROFILE, city_param="city_id")],
        status_code=201,
    )
    async def add_municipality(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: MunicipalityForm
    ) -> Municipality:
        """Add a member municipality to a group signatory."""
        group = await load_group(db_session, city_id)
        member = await services.add_municipality(db_session, group, data, actor=identity_of(request))
        return Municipality(id=member.id, name=member.name, population=member.population)


async def load_group(db_session: AsyncSession, city_id: UUID) -> City:
    city = await load_city(db_session, city_id)
    if city.authority_type != "group":
        raise HTTPException(status_code=409, detail=_("Only a group of municipalities has member municipalities."))
    return city


route_handlers = [RegistryAdministration, GroupMunicipalities, RegistryApi]
