"""Funding pages (under /m/funding/) and the JSON API (under /api/v1/funding/)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires
from covenant.accounts.permissions import MODULE_EDIT
from covenant.cities.models import City
from covenant.commitments.models import Commitment
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, settings_of, validate_form
from covenant.web.pagination import clamp
from modules.funding import services
from modules.funding.models import (
    DEADLINE_MODEL_LABELS,
    FORM_LABELS,
    MANAGEMENT_LABELS,
    STATUS_LABELS,
    THEMES,
    AdvocacyDocument,
    AdvocacyStatus,
    CallStatus,
)
from modules.funding.schemas import (
    AdvocacyInput,
    AdvocacyOut,
    AdvocacyStep,
    ApplicationInput,
    ApplicationOut,
    ApplicationStep,
    CallInput,
    CallOut,
    CallPageOut,
    ExclusionOut,
    ImportOut,
    ProgrammeOut,
    ReasonOut,
    SuggestionOut,
    SuggestionsOut,
    UptakeOut,
)
from modules.funding.services import CallFilters, CallView, FundingError, ImportError_

AnyRequest = Request[Any, Any, Any]
COSIGN = "funding.cosign"
MAX_UPLOAD = 10 * 1024 * 1024

edit_guard = requires(MODULE_EDIT, city_param="city_id", module="funding")


def labels() -> dict[str, Any]:
    return {
        "themes": THEMES,
        "status_labels": STATUS_LABELS,
        "management_labels": MANAGEMENT_LABELS,
        "form_labels": FORM_LABELS,
        "deadline_model_labels": DEADLINE_MODEL_LABELS,
    }


def refused(exc: FundingError) -> ValidationException:
    return ValidationException(_(exc.message), extra=[{"key": exc.field, "message": _(exc.message)}])


def euro_fields(errors: dict[str, str]) -> dict[str, str]:
    """The schema speaks cents; the HTML form asks for euros: show the message next to the euro field."""
    return {(k.removesuffix("_cents") + "_eur" if k.endswith("_cents") else k): v for k, v in errors.items()}


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters_of(
    q: str, programme: str, status: str, theme: str, deadline_from: str, deadline_to: str, city: str
) -> CallFilters:
    city_id: UUID | None
    try:
        city_id = UUID(city) if city else None
    except ValueError:
        city_id = None
    return CallFilters(
        q=q.strip()[:100],
        programme=programme.strip()[:40],
        status=status if status in set(CallStatus) else "",
        theme=theme if theme in THEMES else "",
        deadline_from=_date(deadline_from),
        deadline_to=_date(deadline_to),
        city_id=city_id,
    )


Q = Annotated[str, Parameter(query="q", required=False)]
ProgrammeQ = Annotated[str, Parameter(query="programme", required=False, description="A programme code.")]
StatusQ = Annotated[str, Parameter(query="status", required=False, description="forthcoming, open or closed.")]
ThemeQ = Annotated[str, Parameter(query="theme", required=False)]
FromQ = Annotated[str, Parameter(query="deadline_from", required=False, description="ISO date.")]
ToQ = Annotated[str, Parameter(query="deadline_to", required=False, description="ISO date.")]
CityQ = Annotated[str, Parameter(query="city", required=False, description="Only calls this city is eligible for.")]
PageQ = Annotated[int, Parameter(query="page", ge=1, required=False)]
SizeQ = Annotated[int, Parameter(query="size", ge=1, le=200, required=False)]


def call_out(view: CallView) -> CallOut:
    c = view.call
    return CallOut(
        id=c.id,
        identifier=c.identifier,
        reference=c.reference,
        title=c.title,
        programme=view.programme.code,
        status=view.status,
        opening_date=c.opening_date,
        deadline_model=c.deadline_model,
        deadlines=c.deadline_dates(),
        budget_cents=c.budget_cents,
        expected_grants=c.expected_grants,
        action_type=c.action_type,
        eligible_countries=list(c.eligible_countries or []),
        applicant_types=list(c.applicant_types or []),
        min_population=c.min_population,
        max_population=c.max_population,
        partnership_required=c.partnership_required,
        themes=list(c.themes or []),
        url=c.url,
        description=c.description,
    )


def my_cities(request: AnyRequest) -> set[UUID]:
    return identity_of(request).cities()


# -- public catalogue -------------------------------------------------------------------------------


@get("/", name="funding:index")
async def index(request: AnyRequest, db_session: AsyncSession) -> Template:
    open_calls = await services.search_calls(db_session, CallFilters(status=CallStatus.open), size=5)
    forthcoming = await services.search_calls(db_session, CallFilters(status=CallStatus.forthcoming), size=5)
    cities = []
    if my_cities(request):
        cities = list(await db_session.scalars(select(City).where(City.id.in_(my_cities(request))).order_by(City.name)))
    return page("funding/index.html", open_calls=open_calls, forthcoming=forthcoming, cities=cities, **labels())


@get("/programmes", name="funding:programmes")
async def programme_list(db_session: AsyncSession) -> Template:
    return page("funding/programmes.html", programmes=await services.programmes(db_session), **labels())


@get("/calls", name="funding:calls")
async def call_list(
    request: AnyRequest,
    db_session: AsyncSession,
    q: Q = "",
    programme: ProgrammeQ = "",
    status: StatusQ = "",
    theme: ThemeQ = "",
    deadline_from: FromQ = "",
    deadline_to: ToQ = "",
    city: CityQ = "",
    number: PageQ = 1,
    size: SizeQ = 25,
) -> Template:
    filters = filters_of(q, programme, status, theme, deadline_from, deadline_to, city)
    number, size = clamp(number, size)
    results = await services.search_calls(db_session, filters, number=number, size=size)
    raw = {
        "q": q,
        "programme": programme,
        "status": status,
        "theme": theme,
        "deadline_from": deadline_from,
        "deadline_to": deadline_to,
        "city": city,
    }
    cities = []
    if my_cities(request):
        cities = list(await db_session.scalars(select(City).where(City.id.in_(my_cities(request))).order_by(City.name)))
    return page(
        "funding/calls.html",
        results=results,
        values=raw,
        query=urlencode({k: v for k, v in raw.items() if v}),
        programmes=await services.programmes(db_session),
        statuses=list(CallStatus),
        cities=cities,
        **labels(),
    )


@get("/calls.csv", name="funding:calls_csv")
async def call_csv(
    db_session: AsyncSession,
    q: Q = "",
    programme: ProgrammeQ = "",
    status: StatusQ = "",
    theme: ThemeQ = "",
    deadline_from: FromQ = "",
    deadline_to: ToQ = "",
) -> Response[bytes]:
    filters = filters_of(q, programme, status, theme, deadline_from, deadline_to, "")
    results = await services.search_calls(db_session, filters, size=100_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["identifier", "title", "programme", "status", "opening_date", "deadlines", "budget_eur", "themes", "url"]
    )
    for v in results.items:
        writer.writerow(
            [
                v.call.identifier,
                v.call.title,
                v.programme.code,
                v.status,
                v.call.opening_date.isoformat(),
                ";".join(v.call.deadlines),
                "" if v.call.budget_cents is None else v.call.budget_cents / 100,
                ";".join(v.call.themes),
                v.call.url,
            ]
        )
    return Response(
        ("\ufeff" + out.getvalue()).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="funding-calls.csv"'},
    )


@get("/calls/{call_id:uuid}", name="funding:call")
async def call_detail(db_session: AsyncSession, call_id: UUID) -> Template:
    view = await services.get_call(db_session, call_id)
    if view is None:
        raise NotFoundException(_("No such call."))
    return page("funding/call.html", v=view, **labels())


@get("/timeline", name="funding:timeline")
async def timeline(db_session: AsyncSession) -> Template:
    on = services.today()
    results = await services.search_calls(db_session, CallFilters(deadline_from=on), size=100_000)
    entries = sorted(
        ((d, v) for v in results.items for d in v.call.deadline_dates() if d >= on), key=lambda pair: pair[0]
    )
    months: dict[str, list[tuple[date, CallView]]] = {}
    for d, v in entries:
        months.setdefault(d.strftime("%Y-%m"), []).append((d, v))
    return page("funding/timeline.html", months=months, **labels())


@get("/uptake", name="funding:uptake")
async def uptake_page(
    db_session: AsyncSession, year: Annotated[int | None, Parameter(query="year", required=False)] = None
) -> Template:
    figures, tables = await services.uptake(db_session, year)
    return page("funding/uptake.html", figures=figures, tables=tables, year=year, **labels())


# -- administration: import and notices --------------------------------------------------------------


@get("/import", name="funding:import_form", guards=[admin_only])
async def import_form() -> Template:
    return page("funding/import.html", errors=[])


@post("/import", name="funding:import", guards=[admin_only])
async def import_file(request: AnyRequest, db_session: AsyncSession, data: MultipartData) -> Any:
    upload = data.get("file")
    errors: list[str]
    if not isinstance(upload, UploadFile):
        errors = [_("Choose a CSV or JSON file to import.")]
    else:
        raw = await upload.read(MAX_UPLOAD + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if len(raw) > MAX_UPLOAD:
            errors = [_("The file is larger than 10 MB.")]
        elif text is None:
            errors = [_("The file is not UTF-8 text.")]
        else:
            try:
                rows = (
                    services.parse_portal_json(text)
                    if text.lstrip().startswith(("[", "{"))
                    else services.parse_csv(text)
                )
                created, updated = await services.import_calls(db_session, rows, actor=identity_of(request))
            except ImportError_ as exc:
                errors = exc.errors
            else:
                flash(
                    request,
                    _("Imported: %(created)s new calls, %(updated)s updated.")
                    % {"created": created, "updated": updated},
                    "success",
                )
                return await see_other(db_session, "/m/funding/calls")
    return page("funding/import.html", 422, errors=errors)


@post("/notices", name="funding:notices", guards=[admin_only])
async def run_notices(request: AnyRequest, db_session: AsyncSession) -> Any:
    opened, closing = await services.send_notices(db_session)
    flash(
        request,
        _("Notices sent: %(opened)s calls opened, %(closing)s deadlines near.")
        % {"opened": opened, "closing": closing},
        "success",
    )
    return await see_other(db_session, "/m/funding/")


# -- a city's pages: suggestions and pipeline -------------------------------------------------------


class CityFundingController(Controller):
    path = "/cities/{city_id:uuid}"
    guards = [edit_guard]

    @get("/suggestions", name="funding:suggestions")
    async def suggestions(
        self,
        db_session: AsyncSession,
        city_id: UUID,
        excluded: Annotated[bool, Parameter(query="excluded", required=False)] = False,
    ) -> Template:
        city = await load_city(db_session, city_id)
        return page(
            "funding/suggestions.html",
            city=city,
            suggestions=await services.suggestions(db_session, city.id),
            excluded=await services.exclusions(db_session, city) if excluded else None,
            **labels(),
        )

    async def _pipeline(self, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any) -> Template:
        commitments = list(
            await db_session.scalars(select(Commitment).where(Commitment.city_id == city.id).order_by(Commitment.title))
        )
        return page(
            "funding/applications.html",
            status_code,
            city=city,
            applications=await services.city_applications(db_session, city.id),
            programmes=await services.programmes(db_session),
            commitments={str(c.id): c.title for c in commitments},
            next_steps=services.NEXT_STEPS,
            **({"values": {}, "errors": {}} | context),
            **labels(),
        )

    @get("/applications", name="funding:applications")
    async def applications(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._pipeline(db_session, await load_city(db_session, city_id))

    @post("/applications", name="funding:application_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(ApplicationInput, data)
        errors = euro_fields(errors)
        if form is not None:
            try:
                await services.create_application(db_session, city.id, form, actor=identity_of(request))
            except FundingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The application is added to the pipeline."), "success")
                return await see_other(db_session, f"/m/funding/cities/{city.id}/applications")
        return await self._pipeline(db_session, city, 422, values=data, errors=errors)

    @post("/applications/{application_id:uuid}/status", name="funding:application_move")
    async def move(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, application_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        application = await services.get_application(db_session, city.id, application_id)
        if application is None:
            raise NotFoundException(_("No such application."))
        form, errors = validate_form(ApplicationStep, data)
        errors = euro_fields(errors)
        if form is not None:
            try:
                await services.move_application(db_session, application, form, actor=identity_of(request))
            except FundingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The application moved on."), "success")
                return await see_other(db_session, f"/m/funding/cities/{city.id}/applications")
        return await self._pipeline(db_session, city, 422, step_errors={str(application.id): errors})


# -- advocacy register ------------------------------------------------------------------------------


async def load_document(db_session: AsyncSession, document_id: UUID) -> AdvocacyDocument:
    document = await db_session.get(AdvocacyDocument, document_id)
    if document is None:
        raise NotFoundException(_("No such document."))
    return document


def advocacy_out(d: AdvocacyDocument, signers: list[tuple[UUID, str]]) -> AdvocacyOut:
    return AdvocacyOut(
        id=d.id,
        kind=d.kind,
        title=d.title,
        language=d.language,
        addressees=list(d.addressees),
        topics=list(d.topics),
        summary=d.summary,
        status=d.status,
        sent_on=d.sent_on,
        answered_on=d.answered_on,
        answer=d.answer,
        has_document=d.file_name is not None,
        cosigning_cities=[name for _id, name in signers],
    )


@get("/advocacy", name="funding:advocacy")
async def advocacy_list(request: AnyRequest, db_session: AsyncSession, q: Q = "", status: StatusQ = "") -> Template:
    documents = await services.advocacy_documents(
        db_session, q=q.strip()[:100], status=status if status in set(AdvocacyStatus) else ""
    )
    return page(
        "funding/advocacy.html",
        documents=documents,
        signers=await services.cosigners(db_session, [d.id for d in documents]),
        values={"q": q, "status": status},
        form_values={},
        errors={},
        is_admin=identity_of(request).is_admin,
        **labels(),
    )


@post("/advocacy", name="funding:advocacy_create", guards=[admin_only])
async def advocacy_create(request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
    form, errors = validate_form(AdvocacyInput, data)
    if form is not None:
        document = await services.create_advocacy(db_session, form, actor=identity_of(request))
        flash(request, _("The draft is in the register."), "success")
        return await see_other(db_session, f"/m/funding/advocacy/{document.id}")
    documents = await services.advocacy_documents(db_session)
    return page(
        "funding/advocacy.html",
        422,
        documents=documents,
        signers=await services.cosigners(db_session, [d.id for d in documents]),
        values={},
        form_values=data,
        errors=errors,
        is_admin=True,
        **labels(),
    )


async def _document_page(
    request: AnyRequest,
    db_session: AsyncSession,
    document: AdvocacyDocument,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Template:
    identity = identity_of(request)
    signers = (await services.cosigners(db_session, [document.id]))[document.id]
    signed = {city_id for city_id, _name in signers}
    may_sign = [c for c in identity.cities() if identity.can(COSIGN, city_id=c) and c not in signed]
    cities = (
        {c.id: c.name for c in await db_session.scalars(select(City).where(City.id.in_(may_sign)))} if may_sign else {}
    )
    return page(
        "funding/advocacy_detail.html",
        status_code,
        d=document,
        signers=signers,
        sign_as=cities,
        is_admin=identity.is_admin,
        errors=errors or {},
        **labels(),
    )


@get("/advocacy/{document_id:uuid}", name="funding:advocacy_detail")
async def advocacy_detail(request: AnyRequest, db_session: AsyncSession, document_id: UUID) -> Template:
    return await _document_page(request, db_session, await load_document(db_session, document_id))


@post("/advocacy/{document_id:uuid}/status", name="funding:advocacy_move", guards=[admin_only])
async def advocacy_move(request: AnyRequest, db_session: AsyncSession, document_id: UUID, data: FormData) -> Any:
    document = await load_document(db_session, document_id)
    form, errors = validate_form(AdvocacyStep, data)
    if form is not None:
        try:
            await services.move_advocacy(db_session, document, form, actor=identity_of(request))
        except FundingError as exc:
            errors = {exc.field: _(exc.message)}
        else:
            return await see_other(db_session, f"/m/funding/advocacy/{document.id}")
    return await _document_page(request, db_session, document, 422, errors)


@post(
    "/advocacy/{document_id:uuid}/cosign/{city_id:uuid}",
    name="funding:advocacy_cosign",
    guards=[requires(COSIGN, city_param="city_id")],
)
async def advocacy_cosign(request: AnyRequest, db_session: AsyncSession, document_id: UUID, city_id: UUID) -> Any:
    document = await load_document(db_session, document_id)
    try:
        await services.cosign(db_session, document, city_id, actor=identity_of(request))
    except FundingError as exc:
        flash(request, _(exc.message), "error")
    else:
        flash(request, _("Your city co-signs this document."), "success")
    return await see_other(db_session, f"/m/funding/advocacy/{document.id}")


@post("/advocacy/{document_id:uuid}/document", name="funding:advocacy_upload", guards=[admin_only])
async def advocacy_upload(request: AnyRequest, db_session: AsyncSession, document_id: UUID, data: MultipartData) -> Any:
    document = await load_document(db_session, document_id)
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        return await _document_page(request, db_session, document, 422, {"file": _("Choose a PDF file.")})
    raw = await upload.read(MAX_UPLOAD + 1)
    try:
        if len(raw) > MAX_UPLOAD:
            raise FundingError("file", "The file is larger than 10 MB.")
        services.store_document(settings_of(request).var_dir, document, raw, upload.filename or "")
    except FundingError as exc:
        return await _document_page(request, db_session, document, 422, {exc.field: _(exc.message)})
    return await see_other(db_session, f"/m/funding/advocacy/{document.id}")


@get("/advocacy/{document_id:uuid}/document", name="funding:advocacy_download")
async def advocacy_download(request: AnyRequest, db_session: AsyncSession, document_id: UUID) -> Response[bytes]:
    document = await load_document(db_session, document_id)
    if not document.file_name:
        raise NotFoundException(_("No document uploaded."))
    path = settings_of(request).var_dir / "uploads" / "funding" / document.file_name
    if not path.is_file():
        raise NotFoundException(_("No document uploaded."))
    safe = "".join(ch for ch in document.original_name if ch.isalnum() or ch in "._- ") or "document.pdf"
    return Response(
        path.read_bytes(),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{safe}"', "X-Content-Type-Options": "nosniff"},
    )


# -- JSON API ---------------------------------------------------------------------------------------


class FundingApi(Controller):
    path = "/"
    tags = ["EU funding and advocacy"]

    @get("/programmes", name="api:funding_programmes", cache=False)
    async def programmes(self, db_session: AsyncSession) -> list[ProgrammeOut]:
        """The programme catalogue."""
        return [ProgrammeOut.model_validate(p) for p in await services.programmes(db_session)]

    @get("/calls", name="api:funding_calls", cache=False)
    async def calls(
        self,
        db_session: AsyncSession,
        q: Q = "",
        programme: ProgrammeQ = "",
        status: StatusQ = "",
        theme: ThemeQ = "",
        deadline_from: FromQ = "",
        deadline_to: ToQ = "",
        city: CityQ = "",
        number: PageQ = 1,
        size: SizeQ = 25,
    ) -> CallPageOut:
        """Calls, soonest deadline first, filtered; ``city`` keeps those the city is eligible for."""
        number, size = clamp(number, size)
        results = await services.search_calls(
            db_session,
            filters_of(q, programme, status, theme, deadline_from, deadline_to, city),
            number=number,
            size=size,
        )
        return CallPageOut(
            items=[call_out(v) for v in results.items],
            total=results.total,
            page=results.number,
            page_size=results.size,
            pages=results.pages,
        )

    @get("/calls/{call_id:uuid}", name="api:funding_call", cache=False)
    async def call(self, db_session: AsyncSession, call_id: UUID) -> CallOut:
        """One call."""
        view = await services.get_call(db_session, call_id)
        if view is None:
            raise NotFoundException(_("No such call."))
        return call_out(view)

    @post("/calls", name="api:funding_call_save", guards=[admin_only], status_code=200)
    async def save_call(self, request: AnyRequest, db_session: AsyncSession, data: CallInput) -> CallOut:
        """Create or update (by identifier) one call; its deadlines go to the calendar."""
        try:
            call, _created = await services.save_call(db_session, data, actor=identity_of(request))
        except FundingError as exc:
            raise refused(exc) from exc
        await services.recompute_all(db_session)
        view = await services.get_call(db_session, call.id)
        assert view is not None
        return call_out(view)

    @post("/calls/import", name="api:funding_import", guards=[admin_only], status_code=200)
    async def import_calls(
        self, request: AnyRequest, db_session: AsyncSession, data: list[dict[str, Any]]
    ) -> ImportOut:
        """Import topics shaped like the Funding & Tenders portal's export; all or nothing, upsert by identifier."""
        import json

        try:
            created, updated = await services.import_calls(
                db_session, services.parse_portal_json(json.dumps(data, default=str)), actor=identity_of(request)
            )
        except ImportError_ as exc:
            raise ValidationException(_("The import was refused."), extra=[{"message": e} for e in exc.errors]) from exc
        return ImportOut(created=created, updated=updated)

    @post("/notices", name="api:funding_notices", guards=[admin_only], status_code=200)
    async def notices(self, db_session: AsyncSession) -> dict[str, int]:
        """Publish the due ``funding.call_opened`` and ``funding.call_closing`` events (run it daily)."""
        opened, closing = await services.send_notices(db_session)
        return {"opened": opened, "closing": closing}

    @get("/cities/{city_id:uuid}/suggestions", name="api:funding_suggestions", guards=[edit_guard], cache=False)
    async def suggestions(
        self,
        db_session: AsyncSession,
        city_id: UUID,
        excluded: Annotated[bool, Parameter(query="excluded", required=False)] = False,
    ) -> SuggestionsOut:
        """Calls suggested to the city, ranked, with reasons; ``excluded=true`` adds the others and why."""
        city = await load_city(db_session, city_id)
        out = SuggestionsOut(
            city_id=city.id,
            suggestions=[
                SuggestionOut(
                    call=call_out(s.view),
                    score=s.score,
                    reasons=[ReasonOut(kind=r["kind"], detail=r["detail"]) for r in s.reasons],
                    commitment_ids=[UUID(c) for c in s.commitment_ids],
                )
                for s in await services.suggestions(db_session, city.id)
            ],
        )
        if excluded:
            out.excluded = [
                ExclusionOut(call=call_out(v), reasons=[ReasonOut(kind=r.kind, detail=r.detail) for r in rs])
                for v, rs in await services.exclusions(db_session, city)
            ]
        return out

    @get("/cities/{city_id:uuid}/applications", name="api:funding_applications", guards=[edit_guard], cache=False)
    async def applications(self, db_session: AsyncSession, city_id: UUID) -> list[ApplicationOut]:
        """The city's funding pipeline."""
        await load_city(db_session, city_id)
        return [ApplicationOut.model_validate(a) for a, _p in await services.city_applications(db_session, city_id)]

    @post("/cities/{city_id:uuid}/applications", name="api:funding_application_create", guards=[edit_guard])
    async def create_application(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: ApplicationInput
    ) -> ApplicationOut:
        """Add an application (status: interested)."""
        await load_city(db_session, city_id)
        try:
            application = await services.create_application(db_session, city_id, data, actor=identity_of(request))
        except FundingError as exc:
            raise refused(exc) from exc
        return ApplicationOut.model_validate(application)

    @post(
        "/cities/{city_id:uuid}/applications/{application_id:uuid}/status",
        name="api:funding_application_move",
        guards=[edit_guard],
        status_code=200,
    )
    async def move_application(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, application_id: UUID, data: ApplicationStep
    ) -> ApplicationOut:
        """Move the application one step (no step may be skipped)."""
        application = await services.get_application(db_session, city_id, application_id)
        if application is None:
            raise NotFoundException(_("No such application."))
        try:
            await services.move_application(db_session, application, data, actor=identity_of(request))
        except FundingError as exc:
            raise refused(exc) from exc
        return ApplicationOut.model_validate(application)

    @get("/advocacy", name="api:funding_advocacy", cache=False)
    async def advocacy(self, db_session: AsyncSession) -> list[AdvocacyOut]:
        """The advocacy register: position papers and official letters, with co-signing cities."""
        documents = await services.advocacy_documents(db_session)
        signers = await services.cosigners(db_session, [d.id for d in documents])
        return [advocacy_out(d, signers.get(d.id, [])) for d in documents]

    @get("/uptake", name="api:funding_uptake", cache=False)
    async def uptake(
        self, db_session: AsyncSession, year: Annotated[int | None, Parameter(query="year", required=False)] = None
    ) -> UptakeOut:
        """EU funding mobilised: applications and awards by programme, country and city size."""
        figures, tables = await services.uptake(db_session, year)
        return UptakeOut(year=year, figures=figures, tables=tables)


route_handlers: list[ControllerRouterHandler] = [
    index,
    programme_list,
    call_list,
    call_csv,
    call_detail,
    timeline,
    uptake_page,
    import_form,
    import_file,
    run_notices,
    CityFundingController,
    advocacy_list,
    advocacy_create,
    advocacy_detail,
    advocacy_move,
    advocacy_cosign,
    advocacy_upload,
    advocacy_download,
]
api_route_handlers: list[ControllerRouterHandler] = [FundingApi]
