"""Pages (under /m/cohesion/) and JSON routes (under /api/v1/cohesion/) of the social-cohesion module."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import identity_of, requires, signed_in
from covenant.accounts.permissions import MODULE_EDIT, MODULE_REVIEW
from covenant.cities.models import City
from covenant.i18n import gettext as _
from covenant.web.forms import FormData, MultipartData, page, see_other, validate_form
from covenant.web.pagination import clamp
from modules.cohesion import services
from modules.cohesion.models import DESIGNS, INDICATORS, LEVELS, MEASURE_STATUSES, VERDICTS, Evaluation, Measure
from modules.cohesion.schemas import (
    AnalysisOut,
    EstimateOut,
    EvaluationPlanInput,
    GlossaryInput,
    GlossaryTermOut,
    IndicatorResultOut,
    LessonInput,
    LevelOut,
    MeasureInput,
    MeasureOut,
    PyramidOut,
    VerdictInput,
    WaveInput,
)
from modules.cohesion.services import CohesionError, CsvImportError

AnyRequest = Request[Any, Any, Any]
SLUG = "cohesion"
BASE = "/m/cohesion"
MAX_CSV_BYTES = 5 * 1024 * 1024
edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
review_guard = requires(MODULE_REVIEW, module=SLUG)


async def load_city(db_session: AsyncSession, city_id: UUID) -> City:
    city = await db_session.get(City, city_id)
    if city is None:
        raise NotFoundException(_("No such city."))
    return city


async def load_measure(db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> Measure:
    measure = await services.get_measure(db_session, city_id, measure_id)
    if measure is None:
        raise NotFoundException(_("No such measure."))
    return measure


async def load_evaluation(db_session: AsyncSession, measure: Measure) -> Evaluation:
    evaluation = await services.evaluation_of(db_session, measure.id)
    if evaluation is None:
        raise NotFoundException(_("This measure is not selected for impact measurement."))
    return evaluation


def measure_values(measure: Measure | None) -> dict[str, Any]:
    if measure is None:
        return {"language": "en", "status": "running", "level": "fundamental", "annual_budget": ""}
    return {
        "name": measure.name,
        "description": measure.description,
        "language": measure.language,
        "level": measure.level,
        "target_group": measure.target_group,
        "area": measure.area,
        "partners": "\n".join(measure.partners or []),
        "annual_budget": f"{measure.annual_budget / 100:.2f}",
        "start_date": measure.start_date.isoformat() if measure.start_date else "",
        "status": measure.status,
    }


def refused(field: str, message: str) -> ValidationException:
    return ValidationException(message, extra=[{"key": field, "message": message}])


# -- public pages -----------------------------------------------------------------------------------


@get("/", name="cohesion:index")
async def index(request: AnyRequest, db_session: AsyncSession) -> Template:
    return page(
        "cohesion/index.html",
        cities=await services.cities_with_measures(db_session),
        evaluations=await services.completed_evaluations(db_session, limit=20),
        lessons=await services.published_lessons(db_session, size=10),
        levels=LEVELS,
        verdicts=VERDICTS,
        may_edit_any=identity_of(request).is_authenticated,
    )


@get("/glossary", name="cohesion:glossary")
async def glossary_page(request: AnyRequest, db_session: AsyncSession) -> Template:
    terms = await services.glossary(db_session)
    await db_session.commit()
    return page("cohesion/glossary.html", terms=terms, may_edit=identity_of(request).can(MODULE_REVIEW, module=SLUG))


class GlossaryEditController(Controller):
    path = "/glossary/{key:str}"
    guards = [review_guard]
    include_in_schema = False

    async def _term(self, db_session: AsyncSession, key: str) -> Any:
        term = await services.get_term(db_session, key)
        if term is None:
            raise NotFoundException(_("No such term."))
        return term

    @get("/edit", name="cohesion:glossary_edit")
    async def edit(self, db_session: AsyncSession, key: str) -> Template:
        term = await self._term(db_session, key)
        values = {
            "term_en": term.term.get("en", ""),
            "term_fr": term.term.get("fr", ""),
            "definition_en": term.definition.get("en", ""),
            "definition_fr": term.definition.get("fr", ""),
            "source": term.source,
        }
        return page("cohesion/glossary_form.html", term=term, values=values, errors={})

    @post("/", name="cohesion:glossary_update")
    async def update(self, request: AnyRequest, db_session: AsyncSession, key: str, data: FormData) -> Any:
        term = await self._term(db_session, key)
        form, errors = validate_form(GlossaryInput, data)
        if form is not None:
            await services.update_term(db_session, term, form, actor=identity_of(request))
            flash(request, _("The glossary term is saved."), "success")
            return await see_other(db_session, f"{BASE}/glossary#{key}")
        return page("cohesion/glossary_form.html", 422, term=term, values=data, errors=errors)


@get("/compare", name="cohesion:compare", guards=[signed_in])
async def compare_page(
    db_session: AsyncSession, city: Annotated[list[UUID] | None, Parameter(query="city", required=False)] = None
) -> Template:
    chosen = list(dict.fromkeys(city or []))[:5]
    pyramids = await services.compare(db_session, chosen) if chosen else []
    return page(
        "cohesion/compare.html",
        pyramids=pyramids,
        chosen=chosen,
        options=await services.cities_with_measures(db_session),
        levels=LEVELS,
        too_few=0 < len(chosen) < 3,
    )


# -- a city's pages ---------------------------------------------------------------------------------


class CityCohesionController(Controller):
    """A city's measures, pyramid and impact measurement (its editors only)."""

    path = "/cities/{city_id:uuid}"
    guards = [edit_guard]
    include_in_schema = False

    async def _form(
        self, city: City, measure: Measure | None, values: dict[str, Any], errors: dict[str, str], status: int = 200
    ) -> Template:
        return page(
            "cohesion/measure_form.html",
            status,
            city=city,
            measure=measure,
            values=values,
            errors=errors,
            levels=LEVELS,
            statuses=MEASURE_STATUSES,
        )

    @get("/measures", name="cohesion:measures")
    async def measures(
        self,
        db_session: AsyncSession,
        city_id: UUID,
        q: Annotated[str, Parameter(query="q", required=False)] = "",
        level: Annotated[str, Parameter(query="level", required=False)] = "",
        number: Annotated[int, Parameter(query="page", ge=1, required=False)] = 1,
    ) -> Template:
        city = await load_city(db_session, city_id)
        level = level if level in LEVELS else ""
        number, _size = clamp(number, 25)
        results = await services.city_measures(db_session, city.id, q=q.strip()[:100], level=level, number=number)
        return page(
            "cohesion/measures.html",
            city=city,
            results=results,
            q=q,
            level=level,
            levels=LEVELS,
            statuses=MEASURE_STATUSES,
            evaluated=await services.evaluated_measure_ids(db_session, city.id),
            base_url=f"{BASE}/cities/{city.id}/measures?q={q}&level={level}",
        )

    @get("/measures/new", name="cohesion:measure_new")
    async def new(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._form(await load_city(db_session, city_id), None, measure_values(None), {})

    @post("/measures", name="cohesion:measure_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(MeasureInput, data)
        if form is not None:
            await services.create_measure(db_session, city.id, form, actor=identity_of(request))
            flash(request, _("The measure is added to the pyramid."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city.id}/measures")
        return await self._form(city, None, data, errors, 422)

    @get("/measures/{measure_id:uuid}/edit", name="cohesion:measure_edit")
    async def edit(self, db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        return await self._form(city, measure, measure_values(measure), {})

    @post("/measures/{measure_id:uuid}", name="cohesion:measure_update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        form, errors = validate_form(MeasureInput, data)
        if form is not None:
            await services.update_measure(db_session, measure, form, actor=identity_of(request))
            flash(request, _("The measure is saved."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city.id}/measures")
        return await self._form(city, measure, data, errors, 422)

    @post("/measures/{measure_id:uuid}/delete", name="cohesion:measure_delete")
    async def delete(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> Any:
        measure = await load_measure(db_session, city_id, measure_id)
        try:
            await services.delete_measure(db_session, measure, actor=identity_of(request))
        except CohesionError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The measure is deleted."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/measures")

    @post("/measures/{measure_id:uuid}/select", name="cohesion:measure_select")
    async def select(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> Any:
        measure = await load_measure(db_session, city_id, measure_id)
        await services.select_measure(db_session, measure, actor=identity_of(request))
        flash(request, _("The measure is selected for impact measurement."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")

    @get("/pyramid", name="cohesion:pyramid")
    async def pyramid(self, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        return page("cohesion/pyramid.html", city=city, p=await services.pyramid(db_session, city), levels=LEVELS)

    async def _evaluation_page(
        self,
        db_session: AsyncSession,
        city: City,
        measure: Measure,
        evaluation: Evaluation,
        status: int = 200,
        **context: Any,
    ) -> Template:
        lm = evaluation.logic_model or {}
        plan = {
            "problem_analysis": evaluation.problem_analysis,
            "objectives": services.objectives_text(evaluation.objectives or []),
            "inputs": "\n".join(lm.get("inputs", [])),
            "activities": "\n".join(lm.get("activities", [])),
            "outputs": "\n".join(lm.get("outputs", [])),
            "outcomes": "\n".join(lm.get("outcomes", [])),
            "indicators": [i["key"] for i in evaluation.indicators or []],
            "design": evaluation.design,
        }
        defaults: dict[str, Any] = {
            "plan": plan,
            "errors": {},
            "wave_values": {},
            "csv_errors": [],
            "verdict_values": {},
        }
        return page(
            "cohesion/evaluation.html",
            status,
            city=city,
            m=measure,
            e=evaluation,
            waves=await services.waves_of(db_session, evaluation.id),
            analysis=await services.analysis_of(db_session, evaluation),
            levels=LEVELS,
            indicators=INDICATORS,
            designs=DESIGNS,
            verdicts=VERDICTS,
            **(defaults | context),
        )

    @get("/measures/{measure_id:uuid}/evaluation", name="cohesion:evaluation")
    async def evaluation(self, db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        return await self._evaluation_page(db_session, city, measure, await load_evaluation(db_session, measure))

    @post("/measures/{measure_id:uuid}/evaluation/plan", name="cohesion:evaluation_plan")
    async def plan(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        form, errors = validate_form(EvaluationPlanInput, data)
        if form is not None:
            try:
                await services.save_plan(db_session, evaluation, form, actor=identity_of(request))
            except CohesionError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The evaluation plan is saved."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")
        plan = dict(data)
        indicators = data.get("indicators", [])
        plan["indicators"] = [indicators] if isinstance(indicators, str) else list(indicators)
        return await self._evaluation_page(db_session, city, measure, evaluation, 422, plan=plan, errors=errors)

    @post("/measures/{measure_id:uuid}/evaluation/waves", name="cohesion:evaluation_wave")
    async def wave(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        form, errors = validate_form(WaveInput, data)
        if form is not None:
            try:
                await services.add_wave(db_session, evaluation, form, actor=identity_of(request))
            except CohesionError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The survey wave is recorded."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")
        return await self._evaluation_page(db_session, city, measure, evaluation, 422, wave_values=data, errors=errors)

    @post("/measures/{measure_id:uuid}/evaluation/upload", name="cohesion:evaluation_upload")
    async def upload(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: MultipartData
    ) -> Any:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        upload = data.get("file")
        errors: list[str]
        if not isinstance(upload, UploadFile):
            errors = [_("Choose a CSV file to upload.")]
        else:
            raw = await upload.read(MAX_CSV_BYTES + 1)
            try:
                if len(raw) > MAX_CSV_BYTES:
                    raise CsvImportError([_("The file is larger than 5 MB.")])
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise CsvImportError([_("The file is not UTF-8 text; save it as CSV (UTF-8).")]) from exc
                count = await services.import_responses(db_session, evaluation, text, actor=identity_of(request))
            except CsvImportError as exc:
                errors = exc.errors
            else:
                flash(request, _("%(count)s answers imported.") % {"count": count}, "success")
                return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")
        return await self._evaluation_page(db_session, city, measure, evaluation, 422, csv_errors=errors)

    @post("/measures/{measure_id:uuid}/evaluation/verdict", name="cohesion:evaluation_verdict")
    async def verdict(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        form, errors = validate_form(VerdictInput, data)
        if form is not None:
            try:
                await services.complete_evaluation(db_session, evaluation, measure, form, actor=identity_of(request))
            except CohesionError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The verdict is recorded."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")
        return await self._evaluation_page(
            db_session, city, measure, evaluation, 422, verdict_values=data, errors=errors
        )

    @post("/lessons", name="cohesion:lesson_publish")
    async def lesson(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        await load_city(db_session, city_id)
        form, errors = validate_form(LessonInput, data)
        if form is not None:
            try:
                await services.publish_lesson(db_session, city_id, form, actor=identity_of(request))
            except CohesionError as exc:
                errors = {exc.field: _(exc.message)}
        if errors:
            flash(request, "; ".join(errors.values()), "error")
        else:
            flash(request, _("The lesson is published."), "success")
        return await see_other(db_session, f"{BASE}/")


# -- JSON API ---------------------------------------------------------------------------------------


def measure_out(measure: Measure, evaluated: set[UUID]) -> MeasureOut:
    return MeasureOut(
        id=measure.id,
        city_id=measure.city_id,
        name=measure.name,
        description=measure.description,
        language=measure.language,
        level=measure.level,
        target_group=measure.target_group,
        area=measure.area,
        partners=list(measure.partners or []),
        annual_budget_cents=measure.annual_budget,
        start_date=measure.start_date,
        status=measure.status,
        selected=measure.selected,
        evaluated=measure.id in evaluated,
    )


def _estimate(est: Any, direction: str | None) -> EstimateOut:
    return EstimateOut(
        value=est.value, low=est.low, high=est.high, effect_size=est.effect_size, direction=direction or "unclear"
    )


def analysis_out(evaluation: Evaluation, analysis: services.Analysis) -> AnalysisOut:
    return AnalysisOut(
        evaluation_id=evaluation.id,
        measure_id=evaluation.measure_id,
        design=evaluation.design,
        results=[
            IndicatorResultOut(
                indicator=r.indicator,
                follow_up_wave=r.follow_up_wave,
                change=_estimate(r.change, r.direction),
                comparison_change=_estimate(r.comparison_change, r.comparison_direction)
                if r.comparison_change
                else None,
                difference_in_differences=_estimate(r.did, r.did_direction) if r.did else None,
            )
            for r in analysis.results
        ],
        warnings=[*analysis.errors, *analysis.warnings],
        headline_effect=evaluation.effect,
        verdict=evaluation.verdict,
        verdict_reasons=evaluation.verdict_reasons,
    )


@get("/glossary", name="api:cohesion_glossary", cache=False)
async def api_glossary(db_session: AsyncSession) -> list[GlossaryTermOut]:
    """The glossary of the mapping exercise (each term in the languages it has)."""
    terms = await services.glossary(db_session)
    await db_session.commit()
    return [GlossaryTermOut(key=t.key, term=t.term, definition=t.definition, source=t.source) for t in terms]


class CityCohesionApi(Controller):
    path = "/cities/{city_id:uuid}"
    guards = [edit_guard]

    @get("/measures", name="api:cohesion_measures", cache=False)
    async def measures(
        self,
        db_session: AsyncSession,
        city_id: UUID,
        level: Annotated[str, Parameter(query="level", required=False)] = "",
        number: Annotated[int, Parameter(query="page", ge=1, required=False)] = 1,
        size: Annotated[int, Parameter(query="size", ge=1, le=200, required=False)] = 50,
    ) -> list[MeasureOut]:
        """The city's measures on the prevention pyramid."""
        await load_city(db_session, city_id)
        results = await services.city_measures(db_session, city_id, level=level, number=number, size=size)
        evaluated = await services.evaluated_measure_ids(db_session, city_id)
        return [measure_out(m, evaluated) for m in results.items]

    @post("/measures", name="api:cohesion_measure_create")
    async def create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: MeasureInput
    ) -> MeasureOut:
        """Add a measure (``annual_budget`` in euros)."""
        await load_city(db_session, city_id)
        measure = await services.create_measure(db_session, city_id, data, actor=identity_of(request))
        return measure_out(measure, set())

    @get("/pyramid", name="api:cohesion_pyramid", cache=False)
    async def pyramid(self, db_session: AsyncSession, city_id: UUID) -> PyramidOut:
        """Counts and budgets per level, empty levels and measures without evaluation."""
        p = await services.pyramid(db_session, await load_city(db_session, city_id))
        return PyramidOut(
            city_id=p.city_id,
            city_name=p.city_name,
            levels=[LevelOut(level=lv, measures=p.counts[lv], budget_cents=p.budgets[lv]) for lv in LEVELS],
            empty_levels=p.empty_levels,
            measures_without_evaluation=p.without_evaluation,
            total_budget_cents=p.total_budget,
        )

    @post("/measures/{measure_id:uuid}/select", name="api:cohesion_measure_select", status_code=200)
    async def select(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID
    ) -> AnalysisOut:
        """Select the measure for impact measurement (one per city)."""
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await services.select_measure(db_session, measure, actor=identity_of(request))
        return analysis_out(evaluation, await services.analysis_of(db_session, evaluation))

    @post("/measures/{measure_id:uuid}/evaluation/plan", name="api:cohesion_plan", status_code=200)
    async def plan(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: EvaluationPlanInput
    ) -> AnalysisOut:
        """Save the problem analysis, objectives, logic model, indicators and design."""
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        try:
            await services.save_plan(db_session, evaluation, data, actor=identity_of(request))
        except CohesionError as exc:
            raise refused(exc.field, _(exc.message)) from exc
        return analysis_out(evaluation, await services.analysis_of(db_session, evaluation))

    @post("/measures/{measure_id:uuid}/evaluation/waves", name="api:cohesion_wave", status_code=200)
    async def wave(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: WaveInput
    ) -> AnalysisOut:
        """Record one wave's aggregated values (mean, SD, n) of an indicator in an area."""
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        try:
            await services.add_wave(db_session, evaluation, data, actor=identity_of(request))
        except CohesionError as exc:
            raise refused(exc.field, _(exc.message)) from exc
        return analysis_out(evaluation, await services.analysis_of(db_session, evaluation))

    @get("/measures/{measure_id:uuid}/evaluation", name="api:cohesion_analysis", cache=False)
    async def analysis(self, db_session: AsyncSession, city_id: UUID, measure_id: UUID) -> AnalysisOut:
        """The analysis: change per indicator with 95 % CI, difference-in-differences, effect sizes, warnings."""
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        return analysis_out(evaluation, await services.analysis_of(db_session, evaluation))

    @post("/measures/{measure_id:uuid}/evaluation/verdict", name="api:cohesion_verdict", status_code=200)
    async def verdict(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, measure_id: UUID, data: VerdictInput
    ) -> AnalysisOut:
        """Record the verdict (continue, adjust, stop); emits ``cohesion.evaluation_completed``."""
        measure = await load_measure(db_session, city_id, measure_id)
        evaluation = await load_evaluation(db_session, measure)
        try:
            analysis = await services.complete_evaluation(
                db_session, evaluation, measure, data, actor=identity_of(request)
            )
        except CohesionError as exc:
            raise refused(exc.field, _(exc.message)) from exc
        return analysis_out(evaluation, analysis)


def csv_text(body: str) -> Response[bytes]:
    return Response(body.encode(), media_type="text/plain; charset=utf-8")


route_handlers: list[ControllerRouterHandler] = [
    index,
    glossary_page,
    GlossaryEditController,
    compare_page,
    CityCohesionController,
]
api_route_handlers: list[ControllerRouterHandler] = [api_glossary, CityCohesionApi]
