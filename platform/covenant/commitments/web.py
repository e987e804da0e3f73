"""Commitments pages (a city's management pages, the public list and page) and their JSON API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import identity_of, requires
from covenant.accounts.permissions import COMMITMENT_EDIT, COMMITMENT_PUBLISH
from covenant.cities.models import City
from covenant.commitments import services
from covenant.commitments.models import Commitment, CommitmentStatus, Priority
from covenant.commitments.schemas import (
    LANGUAGES,
    CommitmentInput,
    CommitmentOut,
    CommitmentPageOut,
    ProgressInput,
    ProgressUpdateOut,
)
from covenant.commitments.services import CommitmentError, CommitmentFilters, CommitmentView, CsvImportError
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, validate_form
from covenant.web.pagination import clamp

AnyRequest = Request[Any, Any, Any]
MAX_CSV_BYTES = 2 * 1024 * 1024

edit_guard = requires(COMMITMENT_EDIT, city_param="city_id")
publish_guard = requires(COMMITMENT_PUBLISH, city_param="city_id")


def known_modules(request: AnyRequest) -> list[str]:
    registry = request.app.state.registry
    return list(registry.slugs)


def module_options(request: AnyRequest) -> list[tuple[str, str]]:
    return [(module.slug, module.title) for module in request.app.state.registry]


async def load_city_commitment(db_session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Commitment:
    commitment = await services.get_city_commitment(db_session, city_id, commitment_id)
    if commitment is None:
        raise NotFoundException(_("No such commitment."))
    return commitment


def may_see(request: AnyRequest, commitment: Commitment) -> bool:
    """Published commitments are public; drafts only for the city's editors (and admins)."""
    return commitment.published_at is not None or identity_of(request).can(COMMITMENT_EDIT, city_id=commitment.city_id)


def csv_response(body: str, filename: str) -> Response[bytes]:
    return Response(
        ("\ufeff" + body).encode(),  # a BOM so spreadsheet programs read the UTF-8 accents right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def form_values(commitment: Commitment | None) -> dict[str, Any]:
    if commitment is None:
        return {"language": "en", "weight": 1, "modules": [], "status": "planned"}
    values = commitment.snapshot()
    values["parent_id"] = values["parent_id"] or ""
    return values


# -- a city's management pages ----------------------------------------------------------------------


class CityCommitmentsController(Controller):
    """What a city's mayor's office sees and does with its commitments (drafts included)."""

    path = "/cities/{city_id:uuid}/commitments"
    guards = [edit_guard]
    include_in_schema = False

    async def _list_page(
        self, request: AnyRequest, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any
    ) -> Template:
        commitments = await services.city_commitments(db_session, city.id)
        return page(
            "commitments/manage_list.html",
            status_code,
            city=city,
            commitments=commitments,
            may_publish=identity_of(request).can(COMMITMENT_PUBLISH, city_id=city.id),
            **({"import_errors": []} | context),
        )

    async def _form_page(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        city: City,
        commitment: Commitment | None,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        others = [
            c for c in await services.city_commitments(db_session, city.id) if not commitment or c.id != commitment.id
        ]
        modules = values.get("modules") or []
        return page(
            "commitments/form.html",
            status_code,
            city=city,
            commitment=commitment,
            values=values,
            selected_modules=[modules] if isinstance(modules, str) else list(modules),
            errors=errors,
            priorities=list(Priority),
            languages=LANGUAGES,
            module_options=module_options(request),
            parents=others,
        )

    @get("/", name="commitments:manage")
    async def index(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._list_page(request, db_session, await load_city(db_session, city_id))

    @get("/new", name="commitments:new")
    async def new(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        return await self._form_page(request, db_session, city, None, form_values(None), {})

    @post("/", name="commitments:create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(CommitmentInput, data)
        if form is not None:
            try:
                commitment = await services.create_commitment(
                    db_session, city.id, form, actor=identity_of(request), known_modules=known_modules(request)
                )
            except CommitmentError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The draft commitment is saved. Publish it when it is ready."), "success")
                return await see_other(db_session, f"/cities/{city.id}/commitments/{commitment.id}/edit")
        return await self._form_page(request, db_session, city, None, data, errors, 422)

    @post("/validate", name="commitments:validate")
    async def validate(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Template:
        """Inline validation (htmx, when a person leaves a field): the form with the messages its values
        deserve so far. Nothing is saved; the page picks the one field it asked about."""
        city = await load_city(db_session, city_id)
        _form, errors = validate_form(CommitmentInput, data)
        return await self._form_page(request, db_session, city, None, data, errors)

    @get("/{commitment_id:uuid}/edit", name="commitments:edit")
    async def edit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        return await self._form_page(request, db_session, city, commitment, form_values(commitment), {})

    @post("/{commitment_id:uuid}", name="commitments:update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        form, errors = validate_form(CommitmentInput, data)
        if form is not None:
            try:
                await services.update_commitment(
                    db_session, commitment, form, actor=identity_of(request), known_modules=known_modules(request)
                )
            except CommitmentError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The commitment is saved."), "success")
                return await see_other(db_session, f"/cities/{city.id}/commitments")
        return await self._form_page(request, db_session, city, commitment, data, errors, 422)

    @post("/{commitment_id:uuid}/publish", name="commitments:publish", guards=[publish_guard])
    async def publish(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Any:
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.publish_commitment(db_session, commitment, actor=identity_of(request))
        except CommitmentError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The commitment is published."), "success")
        return await see_other(db_session, f"/cities/{city_id}/commitments")

    @post("/{commitment_id:uuid}/withdraw", name="commitments:withdraw", guards=[publish_guard])
    async def withdraw(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Any:
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.withdraw_commitment(db_session, commitment, actor=identity_of(request))
        except CommitmentError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The commitment is withdrawn."), "success")
        return await see_other(db_session, f"/cities/{city_id}/commitments")

    async def _progress_page(
        self,
        db_session: AsyncSession,
        city: City,
        commitment: Commitment,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        view = await services.commitment_view(db_session, commitment, public=False)
        return page("commitments/progress.html", status_code, city=city, c=view, values=values, errors=errors)

    @get("/{commitment_id:uuid}/progress", name="commitments:progress_form")
    async def progress_form(self, db_session: AsyncSession, city_id: UUID, commitment_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        return await self._progress_page(db_session, city, commitment, {"percentage": commitment.progress}, {})

    @post("/{commitment_id:uuid}/progress", name="commitments:progress")
    async def progress(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        form, errors = validate_form(ProgressInput, data)
        if form is not None:
            try:
                await services.add_progress(db_session, commitment, form, actor=identity_of(request))
            except CommitmentError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The progress update is added to the timeline."), "success")
                return await see_other(db_session, f"/cities/{city.id}/commitments/{commitment.id}/progress")
        return await self._progress_page(db_session, city, commitment, data, errors, 422)

    @get("/export.csv", name="commitments:city_csv")
    async def export(self, db_session: AsyncSession, city_id: UUID) -> Response[bytes]:
        city = await load_city(db_session, city_id)
        body = services.commitments_csv(await services.city_commitments(db_session, city.id))
        return csv_response(body, f"commitments-{city.name.lower().replace(' ', '-')}.csv")

    @post("/import", name="commitments:import")
    async def import_file(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: MultipartData
    ) -> Any:
        city = await load_city(db_session, city_id)
        upload = data.get("file")
        errors: list[str]
        if not isinstance(upload, UploadFile):
            errors = [_("Choose a CSV file to import.")]
        else:
            raw = await upload.read(MAX_CSV_BYTES + 1)
            if len(raw) > MAX_CSV_BYTES:
                errors = [_("The file is larger than 2 MB.")]
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    errors = [_("The file is not UTF-8 text; save it as CSV (UTF-8).")]
                else:
                    try:
                        created, updated = await services.import_csv(
                            db_session, city.id, text, actor=identity_of(request), known_modules=known_modules(request)
                        )
                    except CsvImportError as exc:
                        errors = exc.errors
                    else:
                        flash(
                            request,
                            _("Imported: %(created)s new drafts, %(updated)s updated.")
                            % {"created": created, "updated": updated},
                            "success",
                        )
                        return await see_other(db_session, f"/cities/{city.id}/commitments")
        return await self._list_page(request, db_session, city, 422, import_errors=errors)


# -- public pages -----------------------------------------------------------------------------------


def filters_of(q: str, country: str, priority: str, status: str, module: str) -> CommitmentFilters:
    return CommitmentFilters(
        q=q.strip()[:100],
        country=country.strip()[:2],
        priority=priority if priority in set(Priority) else "",
        status=status if status in set(CommitmentStatus) else "",
        module=module.strip()[:40],
    )


Q = Annotated[str, Parameter(query="q", required=False)]
Country = Annotated[str, Parameter(query="country", required=False, description="ISO 3166-1 alpha-2 code.")]
PriorityQ = Annotated[str, Parameter(query="priority", required=False)]
StatusQ = Annotated[str, Parameter(query="status", required=False)]
ModuleQ = Annotated[str, Parameter(query="module", required=False, description="An action module's slug.")]
PageQ = Annotated[int, Parameter(query="page", ge=1, required=False)]
SizeQ = Annotated[int, Parameter(query="size", ge=1, le=200, required=False)]


@get("/commitments", name="commitments:public_list", include_in_schema=False)
async def public_list(
    request: AnyRequest,
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    priority: PriorityQ = "",
    status: StatusQ = "",
    module: ModuleQ = "",
    number: PageQ = 1,
    size: SizeQ = 25,
) -> Template:
    filters = filters_of(q, country, priority, status, module)
    number, size = clamp(number, size)
    results = await services.search_public(db_session, filters, number=number, size=size)
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    return page(
        "commitments/public_list.html",
        results=results,
        filters=filters,
        query=query,
        priorities=list(Priority),
        statuses=list(CommitmentStatus),
        module_options=module_options(request),
    )


@get("/commitments.csv", name="commitments:public_csv", include_in_schema=False)
async def public_csv(
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    priority: PriorityQ = "",
    status: StatusQ = "",
    module: ModuleQ = "",
) -> Response[bytes]:
    views = await services.all_public(db_session, filters_of(q, country, priority, status, module))
    return csv_response(services.commitments_csv(views, with_city=True), "commitments.csv")


@get("/commitments/{commitment_id:uuid}", name="commitments:public_detail", include_in_schema=False)
async def public_detail(request: AnyRequest, db_session: AsyncSession, commitment_id: UUID) -> Template:
    commitment = await services.get_commitment(db_session, commitment_id)
    if commitment is None or not may_see(request, commitment):
        raise NotFoundException(_("No such commitment."))
    public = commitment.published_at is not None
    view = await services.commitment_view(db_session, commitment, public=public)
    parent = await services.get_commitment(db_session, commitment.parent_id) if commitment.parent_id else None
    if parent is not None and not may_see(request, parent):
        parent = None
    children = await services.children_of(db_session, commitment, public=public)
    return page(
        "commitments/detail.html",
        c=view,
        parent=parent,
        children=children,
        may_edit=identity_of(request).can(COMMITMENT_EDIT, city_id=commitment.city_id),
    )


# -- JSON API ---------------------------------------------------------------------------------------


def commitment_out(view: CommitmentView) -> CommitmentOut:
    return CommitmentOut(
        id=view.id,
        city_id=view.city_id,
        city_name=view.city_name,
        country_code=view.country_code,
        parent_id=view.parent_id,
        title=view.title,
        description=view.description,
        language=view.language,
        priority=view.priority,
        modules=view.modules,
        indicator=view.indicator,
        baseline=view.baseline,
        target_value=view.target_value,
        unit=view.unit,
        start_date=view.start_date,
        due_date=view.due_date,
        status=CommitmentStatus(view.status),
        progress=view.progress,
        weight=view.weight,
        published=view.published,
        published_at=view.published_at,
        updates=[ProgressUpdateOut.model_validate(u) for u in view.updates],
    )


def refused(exc: CommitmentError) -> ValidationException:
    return ValidationException(_(exc.message), extra=[{"key": exc.field, "message": _(exc.message)}])


class CommitmentsApi(Controller):
    path = "/api/v1/commitments"
    tags = ["Commitments"]

    @get("/", name="api:commitments", cache=False)
    async def list_commitments(
        self,
        db_session: AsyncSession,
        q: Q = "",
        country: Country = "",
        priority: PriorityQ = "",
        status: StatusQ = "",
        module: ModuleQ = "",
        number: PageQ = 1,
        size: SizeQ = 25,
    ) -> CommitmentPageOut:
        """Published commitments of every signatory, searched and filtered, one page at a time."""
        number, size = clamp(number, size)
        results = await services.search_public(
            db_session, filters_of(q, country, priority, status, module), number=number, size=size
        )
        return CommitmentPageOut(
            items=[commitment_out(v) for v in results.items],
            total=results.total,
            page=results.number,
            page_size=results.size,
            pages=results.pages,
        )

    @get("/{commitment_id:uuid}", name="api:commitment", cache=False)
    async def detail(self, request: AnyRequest, db_session: AsyncSession, commitment_id: UUID) -> CommitmentOut:
        """One commitment with its progress timeline (drafts only for the city's editors)."""
        commitment = await services.get_commitment(db_session, commitment_id)
        if commitment is None or not may_see(request, commitment):
            raise NotFoundException(_("No such commitment."))
        view = await services.commitment_view(db_session, commitment, public=commitment.published_at is not None)
        return commitment_out(view)


class CityCommitmentsApi(Controller):
    path = "/api/v1/cities/{city_id:uuid}/commitments"
    tags = ["Commitments"]
    guards = [edit_guard]

    @get("/", name="api:city_commitments", cache=False)
    async def list_city(self, db_session: AsyncSession, city_id: UUID) -> list[CommitmentOut]:
        """All of the city's commitments, drafts included (the city's editors only)."""
        await load_city(db_session, city_id)
        return [commitment_out(v) for v in await services.city_commitments(db_session, city_id)]

    @post("/", name="api:commitment_create")
    async def create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: CommitmentInput
    ) -> CommitmentOut:
        """Draft a commitment (private until published)."""
        await load_city(db_session, city_id)
        try:
            commitment = await services.create_commitment(
                db_session, city_id, data, actor=identity_of(request), known_modules=known_modules(request)
            )
        except CommitmentError as exc:
            raise refused(exc) from exc
        return commitment_out(await services.commitment_view(db_session, commitment, public=False))

    @put("/{commitment_id:uuid}", name="api:commitment_update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID, data: CommitmentInput
    ) -> CommitmentOut:
        """Replace the commitment's fields (status and progress move through their own actions)."""
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.update_commitment(
                db_session, commitment, data, actor=identity_of(request), known_modules=known_modules(request)
            )
        except CommitmentError as exc:
            raise refused(exc) from exc
        return commitment_out(await services.commitment_view(db_session, commitment, public=False))

    @post("/{commitment_id:uuid}/publish", name="api:commitment_publish", guards=[publish_guard], status_code=200)
    async def publish(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID
    ) -> CommitmentOut:
        """Publish a draft; emits ``commitment.published``."""
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.publish_commitment(db_session, commitment, actor=identity_of(request))
        except CommitmentError as exc:
            raise refused(exc) from exc
        return commitment_out(await services.commitment_view(db_session, commitment, public=True))

    @post("/{commitment_id:uuid}/progress", name="api:commitment_progress")
    async def progress(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID, data: ProgressInput
    ) -> CommitmentOut:
        """Add a progress update; emits ``commitment.progressed`` (and ``commitment.achieved`` at 100 %)."""
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.add_progress(db_session, commitment, data, actor=identity_of(request))
        except CommitmentError as exc:
            raise refused(exc) from exc
        return commitment_out(await services.commitment_view(db_session, commitment, public=True))

    @post("/{commitment_id:uuid}/withdraw", name="api:commitment_withdraw", guards=[publish_guard], status_code=200)
    async def withdraw(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, commitment_id: UUID
    ) -> CommitmentOut:
        """Withdraw the commitment (it stays visible, marked withdrawn, if it was published)."""
        commitment = await load_city_commitment(db_session, city_id, commitment_id)
        try:
            await services.withdraw_commitment(db_session, commitment, actor=identity_of(request))
        except CommitmentError as exc:
            raise refused(exc) from exc
        return commitment_out(await services.commitment_view(db_session, commitment, public=False))


route_handlers: list[ControllerRouterHandler] = [
    CityCommitmentsController,
    public_list,
    public_csv,
    public_detail,
    CommitmentsApi,
    CityCommitmentsApi,
]
