"""Pages of the good-practice library (public library, case studies, rules of thumb, inventory; a city's fiches;
the reviewers' queue; the monitoring table and campaigns) and its JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import anyio
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires
from covenant.accounts.permissions import MODULE_EDIT, MODULE_REVIEW
from covenant.cities.models import City, SizeClass
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, settings_of, validate_form
from covenant.web.pagination import clamp
from modules.practices import services
from modules.practices.models import (
    COST_RANGES,
    MEASURES,
    PLACE_KINDS,
    STATUS_LABELS,
    CollectionCampaign,
    FicheDocument,
    FicheImage,
    FicheStatus,
    PracticeFiche,
)
from modules.practices.schemas import (
    CampaignInput,
    DocumentOut,
    FacetOut,
    FicheInput,
    FicheOut,
    FichePageOut,
    ImageOut,
    IndicatorInput,
    IndicatorOut,
    LinkedCommitmentOut,
    ReviewInput,
)
from modules.practices.services import FicheFilters, FicheView, PracticeError

SLUG = "practices"
BASE = "/m/practices"
AnyRequest = Request[Any, Any, Any]

edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
review_guard = requires(MODULE_REVIEW, module=SLUG)


def upload_dir(request: AnyRequest) -> Path:
    return settings_of(request).var_dir / "uploads" / SLUG


async def load_city_fiche(db_session: AsyncSession, city_id: UUID, fiche_id: UUID) -> PracticeFiche:
    fiche = await services.get_city_fiche(db_session, city_id, fiche_id)
    if fiche is None:
        raise NotFoundException(_("No such fiche."))
    return fiche


def may_see(request: AnyRequest, fiche: PracticeFiche) -> bool:
    """Published fiches are public; others only for the city's editors and the module's reviewers."""
    identity = identity_of(request)
    return (
        fiche.status == FicheStatus.published
        or identity.can(MODULE_REVIEW, module=SLUG)
        or (fiche.city_id is not None and identity.can(MODULE_EDIT, city_id=fiche.city_id, module=SLUG))
    )


def options() -> dict[str, Any]:
    return {
        "place_kinds": PLACE_KINDS,
        "measures": MEASURES,
        "cost_ranges": COST_RANGES,
        "status_labels": STATUS_LABELS,
        "size_classes": [s.value for s in SizeClass],
    }


def form_values(fiche: PracticeFiche | None) -> dict[str, Any]:
    if fiche is None:
        return {"language": "en", "place_kind": "square", "measures": [], "links": [], "tags": [], "languages": []}
    return services.snapshot(fiche)


def refused(exc: PracticeError) -> ValidationException:
    return ValidationException(_(exc.message), extra=[{"key": exc.field, "message": _(exc.message)}])


def csv_response(body: str, filename: str) -> Response[bytes]:
    return Response(
        ("\ufeff" + body).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- public pages -----------------------------------------------------------------------------------

Q = Annotated[str, Parameter(query="q", required=False, description="Words to find (every word, as a prefix).")]
MeasureQ = Annotated[str, Parameter(query="measure", required=False)]
PlaceQ = Annotated[str, Parameter(query="place_kind", required=False)]
CountryQ = Annotated[str, Parameter(query="country", required=False, description="ISO 3166-1 alpha-2 code.")]
SizeClassQ = Annotated[str, Parameter(query="size_class", required=False)]
YearQ = Annotated[int | None, Parameter(query="year", required=False, ge=1950, le=2100)]
PageQ = Annotated[int, Parameter(query="page", ge=1, required=False)]
SizeQ = Annotated[int, Parameter(query="size", ge=1, le=200, required=False)]


def filters_of(q: str, measure: str, place_kind: str, country: str, size_class: str, year: int | None) -> FicheFilters:
    return FicheFilters(
        q=q.strip()[:200],
        measure=measure if measure in MEASURES else "",
        place_kind=place_kind if place_kind in PLACE_KINDS else "",
        country=country.strip()[:2].upper(),
        size_class=size_class if size_class in {s.value for s in SizeClass} else "",
        year=year,
    )


@get("/", name="practices:library", opt={"public_cache": True})
async def library(
    db_session: AsyncSession,
    q: Q = "",
    measure: MeasureQ = "",
    place_kind: PlaceQ = "",
    country: CountryQ = "",
    size_class: SizeClassQ = "",
    year: YearQ = None,
    number: PageQ = 1,
    size: SizeQ = 20,
) -> Template:
    """The public library: full-text search with facets."""
    filters = filters_of(q, measure, place_kind, country, size_class, year)
    number, size = clamp(number, size)
    result = await services.search_public(db_session, filters, number=number, size=size)
    return page(
        "practices/library.html",
        result=result,
        filters=filters,
        query=urlencode(filters.query_string()),
        **options(),
    )


@get("/map", name="practices:map")
async def fiche_map_page(
    db_session: AsyncSession,
    q: Q = "",
    measure: MeasureQ = "",
    place_kind: PlaceQ = "",
    country: CountryQ = "",
    size_class: SizeClassQ = "",
    year: YearQ = None,
) -> Template:
    """The published fiches on a map of Europe, with the library's current filters."""
    filters = filters_of(q, measure, place_kind, country, size_class, year)
    return page(
        "practices/map.html",
        m=await services.fiche_map(db_session, filters),
        filters=filters,
        query=urlencode(filters.query_string()),
        **options(),
    )


@get("/fiches/{fiche_id:uuid}", name="practices:fiche")
async def fiche_page(request: AnyRequest, db_session: AsyncSession, fiche_id: UUID) -> Template:
    """The visual case study: before and after side by side, printable."""
    fiche = await services.get_fiche(db_session, fiche_id)
    if fiche is None or not may_see(request, fiche):
        raise NotFoundException(_("No such fiche."))
    view = await services.fiche_view(db_session, fiche)
    identity = identity_of(request)
    return page(
        "practices/case_study.html",
        v=view,
        may_edit=fiche.city_id is not None and identity.can(MODULE_EDIT, city_id=fiche.city_id, module=SLUG),
        may_review=identity.can(MODULE_REVIEW, module=SLUG),
        **options(),
    )


async def _image_response(
    request: AnyRequest, db_session: AsyncSession, image_id: UUID, thumb: bool
) -> Response[bytes]:
    image = await db_session.get(FicheImage, image_id)
    fiche = await services.get_fiche(db_session, image.fiche_id) if image else None
    if image is None or fiche is None or not may_see(request, fiche):
        raise NotFoundException(_("No such image."))
    name = image.thumbnail_name if thumb else image.stored_name
    path = upload_dir(request) / name
    try:
        body = await anyio.Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundException(_("No such image.")) from exc
    return Response(
        body,
        media_type="image/jpeg" if thumb else image.content_type,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Cache-Control": "public, max-age=86400" if fiche.status == FicheStatus.published else "private, no-store",
        },
    )


@get("/images/{image_id:uuid}", name="practices:image")
async def image_file(request: AnyRequest, db_session: AsyncSession, image_id: UUID) -> Response[bytes]:
    return await _image_response(request, db_session, image_id, thumb=False)


@get("/images/{image_id:uuid}/thumbnail", name="practices:thumbnail")
async def image_thumbnail(request: AnyRequest, db_session: AsyncSession, image_id: UUID) -> Response[bytes]:
    return await _image_response(request, db_session, image_id, thumb=True)


@get("/documents/{document_id:uuid}", name="practices:document")
async def document_file(request: AnyRequest, db_session: AsyncSession, document_id: UUID) -> Response[bytes]:
    """A fiche's PDF: public once the fiche is published, before that only for its editors and reviewers."""
    document = await db_session.get(FicheDocument, document_id)
    fiche = await services.get_fiche(db_session, document.fiche_id) if document else None
    if document is None or fiche is None or not may_see(request, fiche):
        raise NotFoundException(_("No such document."))
    try:
        body = await anyio.Path(upload_dir(request) / document.stored_name).read_bytes()
    except FileNotFoundError as exc:
        raise NotFoundException(_("No such document.")) from exc
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{services.download_name(document.title)}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=86400" if fiche.status == FicheStatus.published else "private, no-store",
        },
    )


@get("/rules", name="practices:rules")
async def rules_page(db_session: AsyncSession) -> Template:
    """The printable manual of the ten rules of thumb, each with the published fiches supporting it."""
    return page("practices/rules.html", rules=await services.rules_of_thumb(db_session), **options())


@get("/inventory", name="practices:inventory")
async def inventory_page() -> Template:
    return page("practices/inventory.html", resources=services.inventory())


# -- a city's fiches --------------------------------------------------------------------------------


class CityFichesController(Controller):
    """A city's editors draft fiches, add indicators and images, and submit them for review."""

    path = "/cities/{city_id:uuid}/fiches"
    guards = [edit_guard]

    async def _form(
        self,
        db_session: AsyncSession,
        city: City,
        fiche: PracticeFiche | None,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        view = await services.fiche_view(db_session, fiche) if fiche is not None else None
        selected = values.get("measures") or []
        return page(
            "practices/form.html",
            status_code,
            city=city,
            fiche=fiche,
            v=view,
            values=values,
            selected_measures=[selected] if isinstance(selected, str) else list(selected),
            errors=errors,
            **options(),
        )

    @get("/", name="practices:city_fiches")
    async def index(self, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        fiches = await services.city_fiches(db_session, city.id)
        recommendations = await services.recommendations_for(db_session, city.id)
        return page(
            "practices/city_fiches.html", city=city, fiches=fiches, recommendations=recommendations, **options()
        )

    @get("/new", name="practices:new")
    async def new(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._form(db_session, await load_city(db_session, city_id), None, form_values(None), {})

    @post("/", name="practices:create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(FicheInput, data)
        if form is not None:
            fiche = await services.create_fiche(db_session, city.id, form, actor=identity_of(request))
            flash(request, _("The draft fiche is saved. Add indicators and images, then submit it."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city.id}/fiches/{fiche.id}/edit")
        return await self._form(db_session, city, None, data, errors, 422)

    @get("/{fiche_id:uuid}/edit", name="practices:edit")
    async def edit(self, db_session: AsyncSession, city_id: UUID, fiche_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        return await self._form(db_session, city, fiche, form_values(fiche), {})

    @post("/{fiche_id:uuid}", name="practices:update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        form, errors = validate_form(FicheInput, data)
        if form is not None:
            try:
                await services.update_fiche(db_session, fiche, form, actor=identity_of(request))
            except PracticeError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The fiche is saved."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/fiches/{fiche.id}/edit")
        return await self._form(db_session, city, fiche, data, errors, 422)

    @post("/{fiche_id:uuid}/indicators", name="practices:add_indicator")
    async def add_indicator(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        form, errors = validate_form(IndicatorInput, data)
        if form is not None:
            try:
                await services.add_indicator(db_session, fiche, form, actor=identity_of(request))
            except PracticeError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The indicator is added."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/fiches/{fiche.id}/edit")
        errors = {f"indicator_{k}": v for k, v in errors.items()}
        return await self._form(db_session, city, fiche, form_values(fiche) | {"indicator": data}, errors, 422)

    @post("/{fiche_id:uuid}/images", name="practices:add_image")
    async def add_image(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: MultipartData
    ) -> Any:
        city = await load_city(db_session, city_id)
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        upload = data.get("file")
        raw = await upload.read(services.MAX_IMAGE_BYTES + 1) if isinstance(upload, UploadFile) else b""
        try:
            await services.add_image(
                db_session,
                fiche,
                stage=str(data.get("stage", "")),
                caption=str(data.get("caption", "")),
                alt_text=str(data.get("alt_text", "")),
                raw=raw,
                directory=upload_dir(request),
                actor=identity_of(request),
            )
        except PracticeError as exc:
            errors = {f"image_{exc.field}": _(exc.message)}
            values = form_values(fiche) | {"image": {k: v for k, v in data.items() if k != "file"}}
            return await self._form(db_session, city, fiche, values, errors, 422)
        flash(request, _("The image is added."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/fiches/{fiche.id}/edit")

    @post("/{fiche_id:uuid}/images/{image_id:uuid}/delete", name="practices:delete_image")
    async def delete_image(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, image_id: UUID
    ) -> Any:
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        image = await db_session.get(FicheImage, image_id)
        if image is None or image.fiche_id != fiche.id:
            raise NotFoundException(_("No such image."))
        try:
            await services.delete_image(db_session, fiche, image, upload_dir(request), actor=identity_of(request))
        except PracticeError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The image is removed."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/fiches/{fiche.id}/edit")

    @post("/{fiche_id:uuid}/documents", name="practices:add_document")
    async def add_document(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: MultipartData
    ) -> Any:
        city = await load_city(db_session, city_id)
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        upload = data.get("file")
        raw = await upload.read(services.MAX_DOCUMENT_BYTES + 1) if isinstance(upload, UploadFile) else b""
        try:
            await services.add_document(
                db_session,
                fiche,
                title=str(data.get("title", "")),
                original_name=upload.filename if isinstance(upload, UploadFile) else "",
                raw=raw,
                directory=upload_dir(request),
                actor=identity_of(request),
            )
        except PracticeError as exc:
            errors = {f"document_{exc.field}": _(exc.message)}
            values = form_values(fiche) | {"document": {k: v for k, v in data.items() if k != "file"}}
            return await self._form(db_session, city, fiche, values, errors, 422)
        flash(request, _("The document is added."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/fiches/{fiche.id}/edit")

    @post("/{fiche_id:uuid}/documents/{document_id:uuid}/delete", name="practices:delete_document")
    async def delete_document(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, document_id: UUID
    ) -> Any:
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        document = await db_session.get(FicheDocument, document_id)
        if document is None or document.fiche_id != fiche.id:
            raise NotFoundException(_("No such document."))
        try:
            await services.delete_document(db_session, fiche, document, upload_dir(request), actor=identity_of(request))
        except PracticeError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The document is removed."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/fiches/{fiche.id}/edit")

    @post("/{fiche_id:uuid}/submit", name="practices:submit")
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID) -> Any:
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        try:
            await services.submit_fiche(db_session, fiche, actor=identity_of(request))
        except PracticeError as exc:
            flash(request, _(exc.message), "error")
            return await see_other(db_session, f"{BASE}/cities/{city_id}/fiches/{fiche.id}/edit")
        flash(request, _("The fiche is submitted for review."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/fiches")


# -- review, monitoring, campaigns ------------------------------------------------------------------


@get("/review", name="practices:review_queue", guards=[review_guard])
async def review_queue(db_session: AsyncSession) -> Template:
    return page("practices/review_queue.html", fiches=await services.review_queue(db_session), **options())


@post("/review/{fiche_id:uuid}", name="practices:review", guards=[review_guard])
async def review(request: AnyRequest, db_session: AsyncSession, fiche_id: UUID, data: FormData) -> Any:
    fiche = await services.get_fiche(db_session, fiche_id)
    if fiche is None:
        raise NotFoundException(_("No such fiche."))
    form, errors = validate_form(ReviewInput, data)
    if form is None:
        flash(request, next(iter(errors.values())), "error")
    else:
        try:
            await services.review_fiche(db_session, fiche, form, actor=identity_of(request))
        except PracticeError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("Your review is recorded."), "success")
    return await see_other(db_session, f"{BASE}/fiches/{fiche.id}")


SortQ = Annotated[str, Parameter(query="sort", required=False)]
DirQ = Annotated[str, Parameter(query="dir", required=False)]


@get("/monitoring", name="practices:monitoring", guards=[review_guard])
async def monitoring(db_session: AsyncSession, sort: SortQ = "updated", dir: DirQ = "desc") -> Template:  # noqa: A002
    """The action monitoring table: every fiche's stage, milestones and last update."""
    rows = await services.monitoring_rows(db_session, sort, dir != "asc")
    return page("practices/monitoring.html", rows=rows, sort=sort, dir=dir, **options())


@get("/monitoring.csv", name="practices:monitoring_csv", guards=[review_guard])
async def monitoring_csv(db_session: AsyncSession, sort: SortQ = "updated", dir: DirQ = "desc") -> Response[bytes]:  # noqa: A002
    rows = await services.monitoring_rows(db_session, sort, dir != "asc")
    return csv_response(services.monitoring_csv(rows), "practices-monitoring.csv")


class CampaignsController(Controller):
    path = "/campaigns"
    guards = [admin_only]

    @get("/", name="practices:campaigns")
    async def index(self, db_session: AsyncSession) -> Template:
        return page("practices/campaigns.html", campaigns=await services.campaigns(db_session), values={}, errors={})

    @post("/", name="practices:campaign_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(CampaignInput, data)
        if form is not None:
            try:
                campaign = await services.create_campaign(db_session, form, actor=identity_of(request))
            except PracticeError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The campaign is open and the cities are invited."), "success")
                return await see_other(db_session, f"{BASE}/campaigns/{campaign.id}")
        campaigns = await services.campaigns(db_session)
        return page("practices/campaigns.html", 422, campaigns=campaigns, values=data, errors=errors)

    @get("/{campaign_id:uuid}", name="practices:campaign")
    async def detail(self, db_session: AsyncSession, campaign_id: UUID) -> Template:
        campaign = await db_session.get(CollectionCampaign, campaign_id)
        if campaign is None:
            raise NotFoundException(_("No such campaign."))
        answers = await services.campaign_answers(db_session, campaign.id)
        return page("practices/campaign.html", campaign=campaign, answers=answers)


# -- JSON API ---------------------------------------------------------------------------------------


def fiche_out(view: FicheView) -> FicheOut:
    f = view.fiche
    return FicheOut(
        id=f.id,
        city_id=f.city_id,
        city_name=view.city_name,
        country_code=view.country_code,
        **{name: getattr(f, name) for name in services.FIELDS},
        status=f.status,
        published_at=f.published_at,
        indicators=[IndicatorOut.model_validate(i) for i in view.indicators],
        images=[
            ImageOut(
                id=i.id,
                stage=i.stage,
                caption=i.caption,
                alt_text=i.alt_text,
                width=i.width,
                height=i.height,
                url=f"{BASE}/images/{i.id}",
                thumbnail_url=f"{BASE}/images/{i.id}/thumbnail",
            )
            for i in view.images
        ],
        documents=[
            DocumentOut(id=d.id, title=d.title, size_bytes=d.size_bytes, url=f"{BASE}/documents/{d.id}")
            for d in view.documents
        ],
        commitments=[
            LinkedCommitmentOut(
                commitment_id=c.commitment_id,
                title=c.title,
                city_id=c.city_id,
                city_name=c.city_name,
                due_date=c.due_date,
                reason=c.reason,
                url=f"/commitments/{c.commitment_id}",
            )
            for c in view.commitments
        ],
    )


class LibraryApi(Controller):
    path = "/"
    tags = ["Good practices"]

    @get("/fiches", name="api:practices:fiches", cache=False)
    async def search(
        self,
        db_session: AsyncSession,
        q: Q = "",
        measure: MeasureQ = "",
        place_kind: PlaceQ = "",
        country: CountryQ = "",
        size_class: SizeClassQ = "",
        year: YearQ = None,
        number: PageQ = 1,
        size: SizeQ = 20,
    ) -> FichePageOut:
        """Published fiches found by full-text search and facets, with the facet counts."""
        number, size = clamp(number, size)
        result = await services.search_public(
            db_session, filters_of(q, measure, place_kind, country, size_class, year), number=number, size=size
        )
        return FichePageOut(
            items=[fiche_out(v) for v in result.page.items],
            total=result.page.total,
            page=result.page.number,
            page_size=result.page.size,
            pages=result.page.pages,
            facets={k: [FacetOut(value=val, count=c) for val, c in items] for k, items in result.facets.items()},
        )

    @get("/fiches/{fiche_id:uuid}", name="api:practices:fiche", cache=False)
    async def detail(self, request: AnyRequest, db_session: AsyncSession, fiche_id: UUID) -> FicheOut:
        """One fiche with its indicators and images (unpublished ones only for its city's editors and reviewers)."""
        fiche = await services.get_fiche(db_session, fiche_id)
        if fiche is None or not may_see(request, fiche):
            raise NotFoundException(_("No such fiche."))
        return fiche_out(await services.fiche_view(db_session, fiche))

    @get("/rules", name="api:practices:rules", cache=False)
    async def rules(self, db_session: AsyncSession) -> list[dict[str, Any]]:
        """The rules of thumb, each with the number of published fiches supporting it."""
        return [
            {k: v for k, v in rule.items() if k != "fiches"} | {"fiches": [str(fid) for fid, _t in rule["fiches"]]}
            for rule in await services.rules_of_thumb(db_session)
        ]

    @get("/review", name="api:practices:review_queue", guards=[review_guard], cache=False)
    async def queue(self, db_session: AsyncSession) -> list[FicheOut]:
        """Fiches waiting for review (reviewers of the module)."""
        return [fiche_out(v) for v in await services.review_queue(db_session)]

    @post("/review/{fiche_id:uuid}", name="api:practices:review", guards=[review_guard], status_code=200)
    async def review(
        self, request: AnyRequest, db_session: AsyncSession, fiche_id: UUID, data: ReviewInput
    ) -> FicheOut:
        """Comment, request changes, publish (only a fiche in review) or reject."""
        fiche = await services.get_fiche(db_session, fiche_id)
        if fiche is None:
            raise NotFoundException(_("No such fiche."))
        try:
            await services.review_fiche(db_session, fiche, data, actor=identity_of(request))
        except PracticeError as exc:
            raise refused(exc) from exc
        return fiche_out(await services.fiche_view(db_session, fiche))


class CityFichesApi(Controller):
    path = "/cities/{city_id:uuid}/fiches"
    tags = ["Good practices"]
    guards = [edit_guard]

    @get("/", name="api:practices:city_fiches", cache=False)
    async def list_city(self, db_session: AsyncSession, city_id: UUID) -> list[FicheOut]:
        """All of the city's fiches, drafts included."""
        await load_city(db_session, city_id)
        ids = [f.id for f in await services.city_fiches(db_session, city_id)]
        return [fiche_out(v) for v in await services.views_of(db_session, ids, full=True)]

    @get("/recommendations", name="api:practices:recommendations", cache=False)
    async def recommendations(self, db_session: AsyncSession, city_id: UUID) -> list[dict[str, Any]]:
        """Published fiches of peer cities recommended to the city after its self-assessment, with the reason."""
        await load_city(db_session, city_id)
        return [
            {"fiche_id": str(rec.fiche_id), "title": title, "dimension": rec.dimension, "reason": rec.reason}
            for rec, title in await services.recommendations_for(db_session, city_id)
        ]

    @post("/", name="api:practices:create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FicheInput) -> FicheOut:
        """Draft a fiche (private until reviewed and published)."""
        await load_city(db_session, city_id)
        fiche = await services.create_fiche(db_session, city_id, data, actor=identity_of(request))
        return fiche_out(await services.fiche_view(db_session, fiche))

    @put("/{fiche_id:uuid}", name="api:practices:update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: FicheInput
    ) -> FicheOut:
        """Replace the fiche's fields (drafts and fiches sent back for changes only)."""
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        try:
            await services.update_fiche(db_session, fiche, data, actor=identity_of(request))
        except PracticeError as exc:
            raise refused(exc) from exc
        return fiche_out(await services.fiche_view(db_session, fiche))

    @post("/{fiche_id:uuid}/indicators", name="api:practices:add_indicator")
    async def add_indicator(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID, data: IndicatorInput
    ) -> FicheOut:
        """Add a SMART indicator (baseline and after values, both dated)."""
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        try:
            await services.add_indicator(db_session, fiche, data, actor=identity_of(request))
        except PracticeError as exc:
            raise refused(exc) from exc
        return fiche_out(await services.fiche_view(db_session, fiche))

    @post("/{fiche_id:uuid}/submit", name="api:practices:submit", status_code=200)
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, fiche_id: UUID) -> FicheOut:
        """Send the fiche for review."""
        fiche = await load_city_fiche(db_session, city_id, fiche_id)
        try:
            await services.submit_fiche(db_session, fiche, actor=identity_of(request))
        except PracticeError as exc:
            raise refused(exc) from exc
        return fiche_out(await services.fiche_view(db_session, fiche))


route_handlers: list[ControllerRouterHandler] = [
    library,
    fiche_map_page,
    fiche_page,
    image_file,
    image_thumbnail,
    document_file,
    rules_page,
    inventory_page,
    CityFichesController,
    review_queue,
    review,
    monitoring,
    monitoring_csv,
    CampaignsController,
]
api_route_handlers: list[ControllerRouterHandler] = [LibraryApi, CityFichesApi]
