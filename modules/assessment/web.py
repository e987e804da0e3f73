"""Pages (under /m/assessment/) and JSON routes (under /api/v1/assessment/) of the self-assessment module:
a city's survey (htmx per-field saves, a plain save button without JavaScript), its offline template and
upload, submission, score sharing and pilot feedback; for admins, framework versions and the pilot report.

A city's answers are reachable only by that city's editors and the admins (the ``edit_guard`` of every
city route); a draft framework only by admins.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires
from covenant.accounts.permissions import MODULE_EDIT
from covenant.cities.models import City
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, validate_form
from covenant.web.pagination import clamp
from modules.assessment import services
from modules.assessment.framework import FrameworkError
from modules.assessment.models import (
    RESPONSE_STATUS_LABELS,
    SOURCE_LABELS,
    SURVEY_LANGUAGES,
    VERSION_STATUS_LABELS,
    AssessmentScore,
    FrameworkVersion,
    VersionStatus,
)
from modules.assessment.schemas import (
    AnswerOut,
    AnswersInput,
    FeedbackItem,
    FrameworkImportInput,
    FrameworkVersionOut,
    FrameworkVersionPageOut,
    LanguageInput,
    ResponseOut,
    ScoreOut,
    SharingInput,
    SubmitOut,
)
from modules.assessment.services import AnswerErrors, AssessmentError, Survey, UploadError

AnyRequest = Request[Any, Any, Any]
SLUG = "assessment"
BASE = "/m/assessment"
FIRST_YEAR, LAST_YEAR = 2015, 2100
edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)

YearQ = Annotated[int | None, Parameter(query="year", required=False, ge=FIRST_YEAR, le=LAST_YEAR)]
PageQ = Annotated[int, Parameter(query="page", ge=1, required=False)]
SizeQ = Annotated[int, Parameter(query="size", ge=1, le=200, required=False)]


def check_year(year: int) -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFoundException(_("No self-assessment for that year."))
    return year


def is_htmx(request: AnyRequest) -> bool:
    return request.headers.get("hx-request") == "true"


def field_name(code: str) -> str:
    """The form field of an indicator (codes are the framework's; the prefix keeps them apart from ours)."""
    return f"a_{code}"


def refused(field: str, message: str) -> ValidationException:
    return ValidationException(message, extra=[{"key": field, "message": message}])


def download(body: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


def safe_name(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)[:60].strip("-") or "city"


def survey_context(current: Survey, **extra: Any) -> dict[str, Any]:
    return {
        "s": current,
        "city": current.city,
        "lang": current.language,
        "base": f"{BASE}/cities/{current.city.id}/years/{current.year}",
        "languages": SURVEY_LANGUAGES,
        "source_labels": SOURCE_LABELS,
        "status_labels": RESPONSE_STATUS_LABELS,
        "values": {},
        "errors": {},
        "saved": None,
    } | extra


# -- public pages -----------------------------------------------------------------------------------


@get("/", name="assessment:index")
async def index(request: AnyRequest, db_session: AsyncSession) -> Template:
    identity = identity_of(request)
    cities: list[City] = []
    for city_id in sorted(identity.cities(), key=str):
        if identity.can(MODULE_EDIT, city_id=city_id, module=SLUG):
            city = await db_session.get(City, city_id)
            if city is not None:
                cities.append(city)
    version = await services.current_version(db_session)
    await db_session.commit()
    return page(
        "assessment/index.html",
        cities=cities,
        version=version,
        framework=services.framework_of(version),
        year=date.today().year,
        is_admin=identity.is_admin,
    )


@get("/frameworks/{version_id:uuid}/yaml", name="assessment:framework_yaml")
async def framework_yaml(request: AnyRequest, db_session: AsyncSession, version_id: UUID) -> Response[bytes]:
    """A framework version as YAML: published ones for everyone, drafts for admins only."""
    version = await services.get_version(db_session, version_id)
    if version is None or (version.status != VersionStatus.published and not identity_of(request).is_admin):
        raise NotFoundException(_("No such framework version."))
    filename = f"{safe_name(version.code)}-{safe_name(version.version)}.yaml"
    return download(version.yaml.encode(), "application/yaml; charset=utf-8", filename)


# -- a city's pages ---------------------------------------------------------------------------------


class CityAssessmentController(Controller):
    """A city's self-assessments (its editors and the admins only)."""

    path = "/cities/{city_id:uuid}"
    guards = [edit_guard]
    include_in_schema = False

    @get("/", name="assessment:city")
    async def workspace(self, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        responses = await services.city_responses(db_session, city.id)
        scores = {s.response_id: s for s, _v in await services.city_scores(db_session, city.id)}
        return page(
            "assessment/city.html",
            city=city,
            responses=responses,
            scores=scores,
            shared=await services.sharing_of(db_session, city.id),
            year=date.today().year,
            status_labels=RESPONSE_STATUS_LABELS,
        )

    @post("/sharing", name="assessment:sharing")
    async def sharing(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, _errors = validate_form(SharingInput, data)
        shared = bool(form and form.shared)
        await services.set_sharing(db_session, city.id, shared, actor=identity_of(request))
        message = (
            _("Your individual scores are now visible to your peers.")
            if shared
            else _("Your individual scores are no longer shown to your peers.")
        )
        flash(request, message, "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/")

    async def _survey_page(
        self, db_session: AsyncSession, city: City, year: int, status: int = 200, **extra: Any
    ) -> Template:
        current = await services.survey(db_session, city, year)
        return page("assessment/survey.html", status, **survey_context(current, **extra))

    @get("/years/{year:int}", name="assessment:survey")
    async def survey(self, db_session: AsyncSession, city_id: UUID, year: int) -> Template:
        city = await load_city(db_session, city_id)
        template = await self._survey_page(db_session, city, check_year(year))
        await db_session.commit()  # the shipped framework, published on first use
        return template

    @post("/years/{year:int}/answers", name="assessment:save")
    async def save(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: FormData
    ) -> Any:
        """The plain save button: every answer of the form at once (all or none)."""
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        raws = {
            i.code: str(data.get(field_name(i.code), ""))
            for i in current.applicable
            if i.source != "module" and field_name(i.code) in data
        }
        try:
            await services.save_answers(db_session, city, year, raws, actor=identity_of(request))
        except AnswerErrors as exc:
            return await self._survey_page(db_session, city, year, 422, values=raws, errors=exc.errors)
        except AssessmentError as exc:
            return await self._survey_page(db_session, city, year, 422, values=raws, errors={exc.field: exc.text()})
        flash(request, _("Your answers are saved."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}")

    @post("/years/{year:int}/answers/{code:str}", name="assessment:save_one")
    async def save_one(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, code: str, data: FormData
    ) -> Any:
        """One answer, saved as the person moves on (htmx); answers with the field again (422 when refused)."""
        city = await load_city(db_session, city_id)
        before = await services.survey(db_session, city, check_year(year))
        indicator = next((i for i in before.applicable if i.code == code and i.source != "module"), None)
        if indicator is None:
            raise NotFoundException(_("No such indicator in this survey."))
        raw = str(data.get(field_name(code), ""))
        errors: dict[str, str] = {}
        try:
            await services.save_answers(db_session, city, year, {code: raw}, actor=identity_of(request))
        except AnswerErrors as exc:
            errors = exc.errors
        except AssessmentError as exc:
            errors = {code: exc.text()}
        current = await services.survey(db_session, city, year)
        status = 422 if errors else 200
        if not is_htmx(request):
            if errors:
                return page("assessment/survey.html", 422, **survey_context(current, values={code: raw}, errors=errors))
            return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}#answer-{code}")
        context = survey_context(
            current, values={code: raw} if errors else {}, errors=errors, saved=None if errors else code
        )
        if not errors:
            await db_session.commit()
        return page("assessment/_answer_fragment.html", status, ind=indicator, **context)

    @post("/years/{year:int}/language", name="assessment:language")
    async def language(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(LanguageInput, data)
        if form is None:
            return await self._survey_page(db_session, city, check_year(year), 422, errors=errors)
        await services.set_language(db_session, city, check_year(year), form.language, actor=identity_of(request))
        return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}")

    @post("/years/{year:int}/submit", name="assessment:submit")
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> Any:
        city = await load_city(db_session, city_id)
        try:
            await services.submit(db_session, city, check_year(year), actor=identity_of(request))
        except AssessmentError as exc:
            return await self._survey_page(db_session, city, year, 422, errors={"submit": exc.text()})
        flash(request, _("Your self-assessment is submitted. Thank you!"), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}")

    @post("/years/{year:int}/reopen", name="assessment:reopen")
    async def reopen(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> Any:
        city = await load_city(db_session, city_id)
        try:
            await services.reopen(db_session, city, check_year(year), actor=identity_of(request))
        except AssessmentError as exc:
            flash(request, exc.text(), "error")
        else:
            flash(request, _("The self-assessment is a draft again; submit it once corrected."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}")

    @get("/years/{year:int}/template.xlsx", name="assessment:template_xlsx")
    async def template_xlsx(self, db_session: AsyncSession, city_id: UUID, year: int) -> Response[bytes]:
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        return download(
            services.template_xlsx(current),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"self-assessment-{safe_name(city.name)}-{year}.xlsx",
        )

    @get("/years/{year:int}/template.csv", name="assessment:template_csv")
    async def template_csv(self, db_session: AsyncSession, city_id: UUID, year: int) -> Response[bytes]:
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        body = ("\ufeff" + services.template_csv(current)).encode()
        return download(body, "text/csv; charset=utf-8", f"self-assessment-{safe_name(city.name)}-{year}.csv")

    @get("/years/{year:int}/upload", name="assessment:upload_form")
    async def upload_form(self, db_session: AsyncSession, city_id: UUID, year: int) -> Template:
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        return page("assessment/upload.html", **survey_context(current, upload_errors=[]))

    @post("/years/{year:int}/upload", name="assessment:upload")
    async def upload(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: MultipartData
    ) -> Any:
        city = await load_city(db_session, city_id)
        check_year(year)
        file = data.get("file")
        try:
            if not isinstance(file, UploadFile):
                raise UploadError([_("Choose the filled template (XLSX or CSV) to upload.")])
            content = await file.read(services.MAX_UPLOAD_BYTES + 1)
            result = await services.import_upload(db_session, city, year, content, actor=identity_of(request))
        except UploadError as exc:
            errors = exc.errors
        except AssessmentError as exc:
            errors = [exc.text()]
        else:
            flash(
                request,
                _("%(saved)s answers imported, %(cleared)s cleared.")
                % {"saved": result.saved, "cleared": result.cleared},
                "success",
            )
            return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}")
        current = await services.survey(db_session, city, year)
        return page("assessment/upload.html", 422, **survey_context(current, upload_errors=errors))

    async def _feedback_page(
        self, db_session: AsyncSession, city: City, year: int, status: int = 200, **extra: Any
    ) -> Template:
        current = await services.survey(db_session, city, year)
        feedback = await services.feedback_of(db_session, city.id, current.version.id)
        values: dict[str, Any] = {}
        for code, f in feedback.items():
            values[f"usability_{code}"] = f.usability or ""
            values[f"relevance_{code}"] = f.relevance or ""
            values[f"comment_{code}"] = f.comment
        return page(
            "assessment/feedback.html",
            status,
            **survey_context(current, **({"values": values, "errors": {}} | extra)),
        )

    @get("/years/{year:int}/feedback", name="assessment:feedback")
    async def feedback(self, db_session: AsyncSession, city_id: UUID, year: int) -> Template:
        city = await load_city(db_session, city_id)
        return await self._feedback_page(db_session, city, check_year(year))

    @post("/years/{year:int}/feedback", name="assessment:feedback_save")
    async def feedback_save(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        items: dict[str, FeedbackItem] = {}
        errors: dict[str, str] = {}
        for indicator in current.applicable:
            fields = {
                "usability": data.get(f"usability_{indicator.code}", ""),
                "relevance": data.get(f"relevance_{indicator.code}", ""),
                "comment": data.get(f"comment_{indicator.code}", ""),
            }
            item, item_errors = validate_form(FeedbackItem, fields)
            if item is None:
                for key, message in item_errors.items():
                    errors[f"{key}_{indicator.code}"] = message
            else:
                items[indicator.code] = item
        if errors:
            return await self._feedback_page(db_session, city, year, 422, values=dict(data), errors=errors)
        await services.save_feedback(db_session, city.id, current.version, items, actor=identity_of(request))
        flash(request, _("Thank you: your feedback on the framework is saved."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city.id}/years/{year}/feedback")


# -- admins: framework versions, responses, pilot report -----------------------------------------------


class AssessmentAdminController(Controller):
    path = "/admin"
    guards = [admin_only]
    include_in_schema = False

    async def _frameworks_page(
        self, db_session: AsyncSession, number: int = 1, status: int = 200, **extra: Any
    ) -> Template:
        await services.ensure_default_framework(db_session)
        number, size = clamp(number, 25)
        versions = await services.list_versions(db_session, number=number, size=size)
        context: dict[str, Any] = {
            "versions": versions,
            "current": await services.current_version(db_session),
            "status_labels": VERSION_STATUS_LABELS,
            "import_errors": [],
            "values": {},
            "base_url": f"{BASE}/admin/frameworks",
        }
        return page("assessment/frameworks.html", status, **(context | extra))

    @get("/frameworks", name="assessment:frameworks")
    async def frameworks(self, db_session: AsyncSession, number: PageQ = 1) -> Template:
        template = await self._frameworks_page(db_session, number)
        await db_session.commit()
        return template

    @post("/frameworks", name="assessment:framework_import")
    async def import_framework(self, request: AnyRequest, db_session: AsyncSession, data: MultipartData) -> Any:
        """Import a YAML (uploaded file or pasted text) as a new draft; every problem is listed, nothing saved."""
        file = data.get("file")
        text = str(data.get("yaml") or "")
        errors: list[str] = []
        if isinstance(file, UploadFile):
            content = await file.read(1_000_001)
            if content:
                try:
                    text = content.decode("utf-8-sig")
                except UnicodeDecodeError:
                    errors = [_("The file is not UTF-8 text.")]
        form, field_errors = validate_form(FrameworkImportInput, {"yaml": text, "notes": data.get("notes") or ""})
        if not errors and form is None:
            errors = [_("Choose a framework YAML file or paste its text.")] if not text else list(field_errors.values())
        if not errors and form is not None:
            try:
                version = await services.import_version(
                    db_session, form.yaml, notes=form.notes, actor=identity_of(request)
                )
            except FrameworkError as exc:
                errors = exc.messages
            except AssessmentError as exc:
                errors = [exc.text()]
            else:
                flash(
                    request,
                    _("Version %(version)s is imported as a draft; publish it when it is ready.")
                    % {"version": version.version},
                    "success",
                )
                return await see_other(db_session, f"{BASE}/admin/frameworks")
        values = {"yaml": text[:200_000], "notes": data.get("notes") or ""}
        return await self._frameworks_page(db_session, 1, 422, import_errors=errors, values=values)

    async def _version(self, db_session: AsyncSession, version_id: UUID) -> FrameworkVersion:
        version = await services.get_version(db_session, version_id)
        if version is None:
            raise NotFoundException(_("No such framework version."))
        return version

    @post("/frameworks/{version_id:uuid}/publish", name="assessment:framework_publish")
    async def publish(self, request: AnyRequest, db_session: AsyncSession, version_id: UUID) -> Any:
        version = await self._version(db_session, version_id)
        try:
            await services.publish_version(db_session, version, actor=identity_of(request))
        except (AssessmentError, FrameworkError) as exc:
            message = exc.text() if isinstance(exc, AssessmentError) else str(exc)
            flash(request, message, "error")
        else:
            flash(
                request,
                _("Version %(version)s is published; new self-assessments use it.") % {"version": version.version},
                "success",
            )
        return await see_other(db_session, f"{BASE}/admin/frameworks")

    @post("/frameworks/{version_id:uuid}/delete", name="assessment:framework_delete")
    async def delete(self, request: AnyRequest, db_session: AsyncSession, version_id: UUID) -> Any:
        version = await self._version(db_session, version_id)
        try:
            await services.delete_draft(db_session, version, actor=identity_of(request))
        except AssessmentError as exc:
            flash(request, exc.text(), "error")
        else:
            flash(request, _("The draft is deleted."), "success")
        return await see_other(db_session, f"{BASE}/admin/frameworks")

    @get("/responses", name="assessment:responses")
    async def responses(
        self,
        db_session: AsyncSession,
        year: YearQ = None,
        status: Annotated[str, Parameter(query="status", required=False)] = "",
        q: Annotated[str, Parameter(query="q", required=False)] = "",
        number: PageQ = 1,
    ) -> Template:
        year = year or date.today().year
        status = status if status in RESPONSE_STATUS_LABELS else ""
        number, size = clamp(number, 25)
        results = await services.list_responses(
            db_session, year=year, status=status, q=q.strip()[:100], number=number, size=size
        )
        return page(
            "assessment/responses.html",
            results=results,
            year=year,
            status=status,
            q=q,
            status_labels=RESPONSE_STATUS_LABELS,
            base_url=f"{BASE}/admin/responses?year={year}&status={status}&q={q}",
        )

    @get("/pilot", name="assessment:pilot")
    async def pilot(self, db_session: AsyncSession, year: YearQ = None) -> Template:
        year = year or date.today().year
        report = await services.pilot_report(db_session, year)
        await db_session.commit()
        return page("assessment/pilot.html", r=report, year=year)

    @get("/pilot.csv", name="assessment:pilot_csv")
    async def pilot_csv(self, db_session: AsyncSession, year: YearQ = None) -> Response[bytes]:
        year = year or date.today().year
        report = await services.pilot_report(db_session, year)
        body = ("\ufeff" + services.pilot_csv(report)).encode()
        return download(body, "text/csv; charset=utf-8", f"assessment-pilot-{year}.csv")


# -- JSON API ---------------------------------------------------------------------------------------


def version_out(version: FrameworkVersion) -> FrameworkVersionOut:
    return FrameworkVersionOut(
        id=version.id,
        code=version.code,
        version=version.version,
        title=version.title,
        status=version.status,
        indicator_count=version.indicator_count,
        published_at=version.published_at,
        yaml_url=f"{BASE}/frameworks/{version.id}/yaml",
    )


def response_out(current: Survey) -> ResponseOut:
    response = current.response
    dimension_of = {i.code: g.dimension.code for g in current.groups for i in g.indicators}
    return ResponseOut(
        city_id=current.city.id,
        year=current.year,
        framework_code=current.version.code,
        framework_version=current.version.version,
        framework_version_id=current.version.id,
        language=current.language,
        status=current.status,
        submitted_at=response.submitted_at if response is not None else None,
        applicable=len(current.applicable),
        answered=current.answered,
        coverage=round(current.coverage, 4),
        missing=[i.code for i in current.missing],
        answers=[
            AnswerOut(
                indicator_code=a.indicator_code,
                dimension=dimension_of.get(a.indicator_code, ""),
                value=a.value,
                raw=a.raw,
                source=a.source,
                source_detail=a.source_detail,
                updated_at=a.updated_at,
            )
            for a in sorted(current.answers.values(), key=lambda a: a.indicator_code)
        ],
    )


def score_out(score: AssessmentScore, version: FrameworkVersion) -> ScoreOut:
    return ScoreOut(
        year=score.year,
        framework_version_id=version.id,
        framework_version=f"{version.code} {version.version}",
        index=score.index,
        coverage=score.coverage,
        dimensions=dict(score.dimensions or {}),
        cohort_size=score.cohort_size,
        computed_at=score.computed_at,
    )


class FrameworkApi(Controller):
    path = "/frameworks"
    tags = ["Self-assessment"]

    @get("/", name="api:assessment:frameworks", cache=False)
    async def versions(
        self, request: AnyRequest, db_session: AsyncSession, number: PageQ = 1, size: SizeQ = 25
    ) -> FrameworkVersionPageOut:
        """Framework versions, newest first: published ones (drafts too for admins). Each names its YAML."""
        await services.ensure_default_framework(db_session)
        number, size = clamp(number, size)
        status = "" if identity_of(request).is_admin else VersionStatus.published
        result = await services.list_versions(db_session, status=status, number=number, size=size)
        await db_session.commit()
        return FrameworkVersionPageOut(
            items=[version_out(v) for v in result.items],
            total=result.total,
            page=result.number,
            page_size=result.size,
            pages=result.pages,
        )


class CityAssessmentApi(Controller):
    path = "/cities/{city_id:uuid}"
    tags = ["Self-assessment"]
    guards = [edit_guard]

    @get("/years/{year:int}", name="api:assessment:response", cache=False)
    async def response(self, db_session: AsyncSession, city_id: UUID, year: int) -> ResponseOut:
        """The city's self-assessment for the year with its answers, coverage and missing indicators."""
        city = await load_city(db_session, city_id)
        current = await services.survey(db_session, city, check_year(year))
        await db_session.commit()
        return response_out(current)

    @put("/years/{year:int}/answers", name="api:assessment:answers")
    async def answers(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: AnswersInput
    ) -> ResponseOut:
        """Save answers by indicator code (all or none; an empty value clears one). A refused answer is a 422
        problem whose ``errors`` name ``answers.<code>``."""
        city = await load_city(db_session, city_id)
        check_year(year)
        try:
            await services.save_answers(
                db_session, city, year, data.answers, actor=identity_of(request), language=data.language
            )
        except AnswerErrors as exc:
            raise ValidationException(
                _("Some answers are not valid."),
                extra=[{"key": f"answers.{code}", "message": message} for code, message in exc.errors.items()],
            ) from exc
        except AssessmentError as exc:
            raise refused(exc.field, exc.text()) from exc
        return response_out(await services.survey(db_session, city, year))

    @post("/years/{year:int}/submit", name="api:assessment:submit", status_code=200)
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> SubmitOut:
        """Submit the year's self-assessment; emits ``assessment.submitted`` with its dimension scores."""
        city = await load_city(db_session, city_id)
        try:
            submission = await services.submit(db_session, city, check_year(year), actor=identity_of(request))
        except AssessmentError as exc:
            raise refused(exc.field, exc.text()) from exc
        current = await services.survey(db_session, city, year)
        score = score_out(submission.score, current.version) if submission.score is not None else None
        return SubmitOut(response=response_out(current), score=score)

    @get("/scores", name="api:assessment:scores", cache=False)
    async def scores(self, db_session: AsyncSession, city_id: UUID) -> list[ScoreOut]:
        """The city's scores per year (index, dimensions, coverage; computed within the year's cohort)."""
        await load_city(db_session, city_id)
        return [score_out(s, v) for s, v in await services.city_scores(db_session, city_id)]


route_handlers: list[ControllerRouterHandler] = [
    index,
    framework_yaml,
    CityAssessmentController,
    AssessmentAdminController,
]
api_route_handlers: list[ControllerRouterHandler] = [FrameworkApi, CityAssessmentApi]
