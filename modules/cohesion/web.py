"""Pages (under /m/cohesion/) and JSON routes (under /api/v1/cohesion/) of the social-cohesion module."""

from __future__ import annotations

from datetime import date
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
from covenant.web.deps import load_city
from covenant.web.forms import FormData, MultipartData, page, see_other, validate_form
from covenant.web.pagination import clamp
from modules.cohesion import services
from modules.cohesion.models import (
    DESIGNS,
    INDICATORS,
    LEVELS,
    MEASURE_STATUSES,
    VERDICTS,
    Evaluation,
    Initiative,
    Lesson,
    Measure,
    RubricScore,
    SwotBoard,
    SwotEntry,
)
from modules.cohesion.schemas import (
    AnalysisOut,
    EstimateOut,
    EvaluationPlanInput,
    GlossaryInput,
    GlossaryTermOut,
    IndicatorResultOut,
    InitiativeInput,
    InitiativeOut,
    LessonInput,
    LessonOut,
    LevelOut,
    MeasureInput,
    MeasureOut,
    PyramidOut,
    RubricInput,
    RubricScoreOut,
    SwotBoardInput,
    SwotBoardOut,
    SwotEntryInput,
    SwotEntryOut,
    VerdictInput,
    VoteOut,
    WaveInput,
)
from modules.cohesion.services import CohesionError, CsvImportError

AnyRequest = Request[Any, Any, Any]
SLUG = "cohesion"
BASE = "/m/cohesion"
MAX_CSV_BYTES = 5 * 1024 * 1024
edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
review_guard = requires(MODULE_REVIEW, module=SLUG)


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


async def load_initiative(db_session: AsyncSession, city_id: UUID, initiative_id: UUID) -> Initiative:
    initiative = await services.get_initiative(db_session, city_id, initiative_id)
    if initiative is None:
        raise NotFoundException(_("No such initiative."))
    return initiative


async def load_board(db_session: AsyncSession, city_id: UUID, board_id: UUID) -> SwotBoard:
    board = await services.get_board(db_session, city_id, board_id)
    if board is None:
        raise NotFoundException(_("No such SWOT board."))
    return board


async def load_entry(db_session: AsyncSession, board: SwotBoard, entry_id: UUID) -> SwotEntry:
    entry = await services.get_entry(db_session, board, entry_id)
    if entry is None:
        raise NotFoundException(_("No such entry."))
    return entry


def voter_of(request: AnyRequest) -> UUID:
    user_id = identity_of(request).user_id
    if user_id is None:  # the guards let only signed-in people through
        raise NotFoundException(_("Sign in to vote."))
    return user_id


def summary_response(markdown: str, title: str) -> Response[bytes]:
    safe = "".join(c if c.isalnum() else "-" for c in title)[:60].strip("-") or "swot"
    return Response(
        markdown.encode(),
        media_type="text/markdown; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="swot-{safe}.md"',
            "X-Content-Type-Options": "nosniff",
        },
    )


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


def _uuid(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        return UUID(int=0)


def refused(field: str, message: str) -> ValidationException:
    return ValidationException(message, extra=[{"key": field, "message": message}])


# -- public pages -----------------------------------------------------------------------------------


@get("/", name="cohesion:index")
async def index(
    request: AnyRequest,
    db_session: AsyncSession,
    number: Annotated[int, Parameter(query="page", ge=1, required=False)] = 1,
) -> Template:
    number, size = clamp(number, 50)
    return page(
        "cohesion/index.html",
        cities=await services.cities_with_measures_page(db_session, number=number, size=size),
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
            flash(request, exc.text(), "error")
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
                errors = {exc.field: exc.text()}
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
                errors = {exc.field: exc.text()}
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
                errors = {exc.field: exc.text()}
            else:
                flash(request, _("The verdict is recorded."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city_id}/measures/{measure_id}/evaluation")
        return await self._evaluation_page(
            db_session, city, measure, evaluation, 422, verdict_values=data, errors=errors
        )

    # -- Collective Impact and SWOT ----------------------------------------------------------------

    async def _initiatives_page(
        self, db_session: AsyncSession, city: City, values: dict[str, Any], errors: dict[str, str], status: int = 200
    ) -> Template:
        return page(
            "cohesion/initiatives.html",
            status,
            city=city,
            initiatives=await services.city_initiatives(db_session, city.id),
            values=values,
            errors=errors,
        )

    @get("/initiatives", name="cohesion:initiatives")
    async def initiatives(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._initiatives_page(db_session, await load_city(db_session, city_id), {}, {})

    @post("/initiatives", name="cohesion:initiative_create")
    async def initiative_create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(InitiativeInput, data)
        if form is not None:
            initiative = await services.create_initiative(db_session, city.id, form, actor=identity_of(request))
            flash(request, _("The initiative is created."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city.id}/initiatives/{initiative.id}")
        return await self._initiatives_page(db_session, city, data, errors, 422)

    async def _initiative_page(
        self, db_session: AsyncSession, city: City, initiative: Initiative, status: int = 200, **context: Any
    ) -> Template:
        defaults: dict[str, Any] = {
            "errors": {},
            "rubric_values": {"scored_on": date.today().isoformat()},
            "board_values": {},
            "lesson_values": {},
        }
        return page(
            "cohesion/initiative.html",
            status,
            city=city,
            i=initiative,
            history=await services.rubric_history(db_session, initiative.id),
            boards=await services.initiative_boards(db_session, initiative.id),
            lessons=await services.initiative_lessons(db_session, initiative.id),
            conditions=services.CONDITIONS,
            preconditions=services.PRECONDITIONS,
            labels=services.CONDITION_LABELS,
            **(defaults | context),
        )

    @get("/initiatives/{initiative_id:uuid}", name="cohesion:initiative")
    async def initiative(self, db_session: AsyncSession, city_id: UUID, initiative_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        return await self._initiative_page(db_session, city, await load_initiative(db_session, city_id, initiative_id))

    @post("/initiatives/{initiative_id:uuid}/rubric", name="cohesion:initiative_score")
    async def score(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, initiative_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        initiative = await load_initiative(db_session, city_id, initiative_id)
        form, errors = validate_form(RubricInput, data)
        if form is not None:
            await services.score_initiative(db_session, initiative, form, actor=identity_of(request))
            flash(request, _("The scores are recorded."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city_id}/initiatives/{initiative_id}")
        return await self._initiative_page(db_session, city, initiative, 422, rubric_values=data, errors=errors)

    @post("/initiatives/{initiative_id:uuid}/boards", name="cohesion:board_create")
    async def board_create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, initiative_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        initiative = await load_initiative(db_session, city_id, initiative_id)
        form, errors = validate_form(SwotBoardInput, data)
        if form is not None:
            board = await services.create_board(
                db_session, form.title, city_id=city_id, initiative_id=initiative.id, actor=identity_of(request)
            )
            flash(request, _("The SWOT board is open."), "success")
            return await see_other(db_session, f"{BASE}/cities/{city_id}/boards/{board.id}")
        return await self._initiative_page(db_session, city, initiative, 422, board_values=data, errors=errors)

    async def _board_page(
        self, db_session: AsyncSession, city: City, board: SwotBoard, status: int = 200, **context: Any
    ) -> Template:
        initiative = await db_session.get(Initiative, board.initiative_id) if board.initiative_id else None
        return page(
            "cohesion/swot.html",
            status,
            city=city,
            board=board,
            initiative=initiative,
            entries=await services.board_entries(db_session, board.id),
            quadrants=services.QUADRANT_LABELS,
            **({"errors": {}, "values": {}} | context),
        )

    @get("/boards/{board_id:uuid}", name="cohesion:board")
    async def board(self, db_session: AsyncSession, city_id: UUID, board_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        return await self._board_page(db_session, city, await load_board(db_session, city_id, board_id))

    @post("/boards/{board_id:uuid}/entries", name="cohesion:board_entry")
    async def entry(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, board_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        board = await load_board(db_session, city_id, board_id)
        form, errors = validate_form(SwotEntryInput, data)
        if form is not None:
            await services.add_entry(db_session, board, form, actor=identity_of(request))
            return await see_other(db_session, f"{BASE}/cities/{city_id}/boards/{board_id}#{form.quadrant}")
        return await self._board_page(db_session, city, board, 422, values=data, errors=errors)

    @post("/boards/{board_id:uuid}/entries/{entry_id:uuid}/vote", name="cohesion:board_vote")
    async def vote(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, board_id: UUID, entry_id: UUID
    ) -> Any:
        board = await load_board(db_session, city_id, board_id)
        entry = await load_entry(db_session, board, entry_id)
        if not await services.vote(db_session, entry, voter_of(request)):
            flash(request, _("You have already voted for this entry."), "info")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/boards/{board_id}#{entry.quadrant}")

    @get("/boards/{board_id:uuid}/summary.md", name="cohesion:board_summary")
    async def summary(self, db_session: AsyncSession, city_id: UUID, board_id: UUID) -> Response[bytes]:
        board = await load_board(db_session, city_id, board_id)
        entries = await services.board_entries(db_session, board.id)
        return summary_response(services.executive_summary(board, entries), board.title)

    @post("/lessons", name="cohesion:lesson_publish")
    async def lesson(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        await load_city(db_session, city_id)
        form, errors = validate_form(LessonInput, data)
        if form is not None:
            try:
                await services.publish_lesson(db_session, city_id, form, actor=identity_of(request))
            except CohesionError as exc:
                errors = {exc.field: exc.text()}
        if errors:
            flash(request, "; ".join(errors.values()), "error")
        else:
            flash(request, _("The lesson is published."), "success")
        initiative = await services.get_initiative(db_session, city_id, _uuid(data.get("initiative_id")))
        if initiative is not None:
            return await see_other(db_session, f"{BASE}/cities/{city_id}/initiatives/{initiative.id}")
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
        warnings=[n.text() for n in (*analysis.errors, *analysis.warnings)],
        headline_effect=evaluation.effect,
        verdict=evaluation.verdict,
        verdict_reasons=evaluation.verdict_reasons,
    )


def rubric_out(score: RubricScore) -> RubricScoreOut:
    scores = dict(score.scores or {})
    conditions = [scores.get(k, 0) for k in services.CONDITIONS]
    return RubricScoreOut(
        scored_on=score.scored_on,
        scores=scores,
        conditions_average=round(sum(conditions) / len(conditions), 2),
        notes=score.notes,
    )


async def initiative_out(db_session: AsyncSession, initiative: Initiative) -> InitiativeOut:
    boards = await services.initiative_boards(db_session, initiative.id)
    return InitiativeOut(
        id=initiative.id,
        city_id=initiative.city_id,
        title=initiative.title,
        problem=initiative.problem,
        partners=list(initiative.partners or []),
        rubric=[rubric_out(s) for s in await services.rubric_history(db_session, initiative.id)],
        board_ids=[b.id for b in boards],
    )


async def board_out(db_session: AsyncSession, board: SwotBoard) -> SwotBoardOut:
    entries = await services.board_entries(db_session, board.id)
    return SwotBoardOut(
        id=board.id,
        title=board.title,
        initiative_id=board.initiative_id,
        entries={
            q: [SwotEntryOut(id=e.id, quadrant=e.quadrant, text=e.text, votes=e.votes) for e in items]
            for q, items in entries.items()
        },
    )


def lesson_out(lesson: Lesson) -> LessonOut:
    return LessonOut(
        id=lesson.id,
        city_id=lesson.city_id,
        title=lesson.title,
        body=lesson.body,
        language=lesson.language,
        evaluation_id=lesson.evaluation_id,
        initiative_id=lesson.initiative_id,
        published_at=lesson.published_at,
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
            raise refused(exc.field, exc.text()) from exc
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
            raise refused(exc.field, exc.text()) from exc
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
            raise refused(exc.field, exc.text()) from exc
        return analysis_out(evaluation, analysis)

    # -- Collective Impact, SWOT and lessons ----------------------------------------------------------

    @get("/initiatives", name="api:cohesion_initiatives", cache=False)
    async def initiatives(self, db_session: AsyncSession, city_id: UUID) -> list[InitiativeOut]:
        """The city's Collective Impact initiatives, each with its rubric history and SWOT boards."""
        await load_city(db_session, city_id)
        return [await initiative_out(db_session, i) for i in await services.city_initiatives(db_session, city_id)]

    @post("/initiatives", name="api:cohesion_initiative_create")
    async def initiative_create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: InitiativeInput
    ) -> InitiativeOut:
        """Start a Collective Impact initiative (partners: one 'name — sector' per item)."""
        await load_city(db_session, city_id)
        initiative = await services.create_initiative(db_session, city_id, data, actor=identity_of(request))
        return await initiative_out(db_session, initiative)

    @get("/initiatives/{initiative_id:uuid}", name="api:cohesion_initiative", cache=False)
    async def initiative(self, db_session: AsyncSession, city_id: UUID, initiative_id: UUID) -> InitiativeOut:
        """One initiative with its rubric scores over time (oldest first)."""
        return await initiative_out(db_session, await load_initiative(db_session, city_id, initiative_id))

    @post("/initiatives/{initiative_id:uuid}/rubric", name="api:cohesion_initiative_score")
    async def score(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, initiative_id: UUID, data: RubricInput
    ) -> InitiativeOut:
        """Score the five conditions and three preconditions (0 absent to 4 strong) on a date."""
        initiative = await load_initiative(db_session, city_id, initiative_id)
        await services.score_initiative(db_session, initiative, data, actor=identity_of(request))
        return await initiative_out(db_session, initiative)

    @post("/initiatives/{initiative_id:uuid}/boards", name="api:cohesion_board_create")
    async def board_create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, initiative_id: UUID, data: SwotBoardInput
    ) -> SwotBoardOut:
        """Open a SWOT workshop board for the initiative."""
        initiative = await load_initiative(db_session, city_id, initiative_id)
        board = await services.create_board(
            db_session, data.title, city_id=city_id, initiative_id=initiative.id, actor=identity_of(request)
        )
        return await board_out(db_session, board)

    @get("/boards/{board_id:uuid}", name="api:cohesion_board", cache=False)
    async def board(self, db_session: AsyncSession, city_id: UUID, board_id: UUID) -> SwotBoardOut:
        """A SWOT board: entries per quadrant, most-voted first."""
        return await board_out(db_session, await load_board(db_session, city_id, board_id))

    @post("/boards/{board_id:uuid}/entries", name="api:cohesion_board_entry")
    async def entry(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, board_id: UUID, data: SwotEntryInput
    ) -> SwotEntryOut:
        """Add an entry to a quadrant (strengths, weaknesses, opportunities, threats)."""
        board = await load_board(db_session, city_id, board_id)
        entry = await services.add_entry(db_session, board, data, actor=identity_of(request))
        return SwotEntryOut(id=entry.id, quadrant=entry.quadrant, text=entry.text, votes=entry.votes)

    @post("/boards/{board_id:uuid}/entries/{entry_id:uuid}/vote", name="api:cohesion_board_vote", status_code=200)
    async def vote(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, board_id: UUID, entry_id: UUID
    ) -> VoteOut:
        """Vote for an entry; one vote per person and entry (a second vote does not count)."""
        board = await load_board(db_session, city_id, board_id)
        entry = await load_entry(db_session, board, entry_id)
        counted = await services.vote(db_session, entry, voter_of(request))
        return VoteOut(entry_id=entry.id, counted=counted, votes=entry.votes)

    @get("/boards/{board_id:uuid}/summary", name="api:cohesion_board_summary", cache=False)
    async def summary(self, db_session: AsyncSession, city_id: UUID, board_id: UUID) -> Response[bytes]:
        """The board's executive summary, in Markdown."""
        board = await load_board(db_session, city_id, board_id)
        entries = await services.board_entries(db_session, board.id)
        return summary_response(services.executive_summary(board, entries), board.title)

    @post("/lessons", name="api:cohesion_lesson_publish")
    async def lesson(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: LessonInput
    ) -> LessonOut:
        """Publish a lesson learned from an evaluation or an initiative (give ``evaluation_id`` or
        ``initiative_id``); emits ``cohesion.lessons_published`` for the training toolbox."""
        await load_city(db_session, city_id)
        try:
            lesson = await services.publish_lesson(db_session, city_id, data, actor=identity_of(request))
        except CohesionError as exc:
            raise refused(exc.field, exc.text()) from exc
        return lesson_out(lesson)


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
