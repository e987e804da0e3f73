"""Training pages (under /m/training/) and the JSON API (under /api/v1/training/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import admin_only, identity_of, requires, signed_in
from covenant.accounts.permissions import MODULE_EDIT, MODULE_REVIEW
from covenant.cities.models import City
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, page, see_other, settings_of, validate_form
from modules.training import services
from modules.training.models import (
    AREAS,
    CURRICULUM_STATUS_LABELS,
    LEVEL_LABELS,
    LIKERT_ITEMS,
    LIKERT_LABELS,
    Curriculum,
    CurriculumStatus,
    SelfAssessment,
    TrainingSession,
)
from modules.training.schemas import (
    AnswerInput,
    CurriculumInput,
    FeedbackInput,
    GapOut,
    ItemStats,
    MatrixCellOut,
    MySelfAssessmentInput,
    ParticipantInput,
    PlanItemOut,
    ProfileInput,
    RatingInput,
    SelfAssessmentInput,
    SessionInput,
    SessionOut,
    SessionReportOut,
    TargetGroupOut,
    UnitInput,
)
from modules.training.services import TrainingError

AnyRequest = Request[Any, Any, Any]
SLUG = "training"
edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
review_guard = requires(MODULE_REVIEW, module=SLUG)
BASE = "/m/training"


def common() -> dict[str, Any]:
    return {
        "areas": services.areas(),
        "area_keys": AREAS,
        "level_labels": LEVEL_LABELS,
        "status_labels": CURRICULUM_STATUS_LABELS,
        "likert_items": LIKERT_ITEMS,
        "likert_labels": LIKERT_LABELS,
    }


async def load_curriculum(db_session: AsyncSession, city_id: UUID, curriculum_id: UUID) -> Curriculum:
    curriculum = await services.get_curriculum(db_session, curriculum_id)
    if curriculum is None or not services.authored_by(curriculum, city_id):
        raise NotFoundException(_("No such curriculum."))
    return curriculum


async def load_session(db_session: AsyncSession, city_id: UUID, session_id: UUID) -> TrainingSession:
    ts = await services.get_city_session(db_session, city_id, session_id)
    if ts is None:
        raise NotFoundException(_("No such training session."))
    return ts


async def group_options(db_session: AsyncSession) -> list[tuple[str, Any]]:
    return [(row.group.key, row.group.title) for row in await services.matrix(db_session)]


def refused(exc: TrainingError) -> ValidationException:
    return ValidationException(_(exc.message), extra=[{"key": exc.field, "message": _(exc.message)}])


def _number(value: Any) -> int:
    try:
        return max(1, min(int(str(value or 1)), 10_000))
    except ValueError:
        return 1


def _link(request: AnyRequest, param: str, number: int) -> str:
    """The current page's address with ``param`` (one list's page number) set, other lists' state kept."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != param] + [(param, str(number))]
    return f"{request.url.path}?{urlencode(query)}"


def topic_names() -> dict[str, Any]:
    """ "area.topic" → the topic's translated titles."""
    return {f"{a['key']}.{t['key']}": t["title"] for a in services.areas() for t in a["topics"]}


# -- reference pages ---------------------------------------------------------------------------------


@get("/", name="training:index")
async def index(request: AnyRequest, db_session: AsyncSession) -> Template:
    identity = identity_of(request)
    cities: list[City] = []
    if identity.is_authenticated:
        ids = identity.cities()
        if identity.is_admin:
            cities = list(await db_session.scalars(select(City).order_by(City.name).limit(50)))
        elif ids:
            cities = list(await db_session.scalars(select(City).where(City.id.in_(ids)).order_by(City.name)))
        cities = [c for c in cities if identity.can(MODULE_EDIT, city_id=c.id, module=SLUG)]
    rows = await services.matrix(db_session)
    return page(
        "training/index.html",
        cities=cities,
        profiles=len(rows),
        signed_in=identity.is_authenticated,
        may_review=identity.can(MODULE_REVIEW, module=SLUG),
        **common(),
    )


@get("/matrix", name="training:matrix")
async def matrix_page(request: AnyRequest, db_session: AsyncSession) -> Template:
    return page(
        "training/matrix.html",
        rows=await services.matrix(db_session),
        is_admin=identity_of(request).is_admin,
        values={},
        errors={},
        **common(),
    )


@post("/matrix/profiles", name="training:add_profile", guards=[admin_only])
async def add_profile(request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
    form, errors = validate_form(ProfileInput, data)
    if form is not None:
        try:
            await services.add_profile(db_session, form, actor=identity_of(request))
        except TrainingError as exc:
            errors = {exc.field: _(exc.message)}
        else:
            flash(request, _("The profile is added to the matrix."), "success")
            return await see_other(db_session, f"{BASE}/matrix")
    rows = await services.matrix(db_session)
    return page("training/matrix.html", 422, rows=rows, is_admin=True, values=data, errors=errors, **common())


@get("/toolbox", name="training:toolbox")
async def toolbox_page(request: AnyRequest, db_session: AsyncSession) -> Template:
    q = str(request.query_params.get("q", ""))[:100]
    entries = await services.search_toolbox(db_session, q=q, number=_number(request.query_params.get("page")))
    return page("training/toolbox.html", entries=entries, q=q, base_url=str(request.url), **common())


@get("/report", name="training:report", guards=[review_guard])
async def report_page(db_session: AsyncSession) -> Template:
    return page("training/report.html", report=await services.evaluation_report(db_session), **common())


@get("/report.csv", name="training:report_csv", guards=[review_guard])
async def report_csv(db_session: AsyncSession) -> Response[bytes]:
    body = services.report_csv(await services.evaluation_report(db_session))
    return Response(
        ("\ufeff" + body).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="training-evaluation.csv"'},
    )


class ReviewController(Controller):
    path = "/review"
    guards = [review_guard]

    @get("/", name="training:review")
    async def queue(self, db_session: AsyncSession) -> Template:
        waiting = await services.curricula(db_session, status=CurriculumStatus.in_review)
        units = {c.id: await services.units_of(db_session, c.id) for c in waiting}
        return page("training/review.html", curricula=waiting, units=units, **common())

    @post("/{curriculum_id:uuid}", name="training:review_decide")
    async def decide(self, request: AnyRequest, db_session: AsyncSession, curriculum_id: UUID, data: FormData) -> Any:
        curriculum = await services.get_curriculum(db_session, curriculum_id)
        if curriculum is None:
            raise NotFoundException(_("No such curriculum."))
        try:
            await services.review_curriculum(
                db_session, curriculum, approve=data.get("decision") == "publish", actor=identity_of(request)
            )
        except TrainingError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The review decision is recorded."), "success")
        return await see_other(db_session, f"{BASE}/review/")


# -- a city's workspace --------------------------------------------------------------------------------


class CityTrainingController(Controller):
    """What a city's contributors do: curricula, pilot sessions, self-assessments, the gap view."""

    path = "/cities/{city_id:uuid}"
    guards = [edit_guard]

    async def _workspace(
        self, request: AnyRequest, db_session: AsyncSession, city: City, status_code: int = 200, **context: Any
    ) -> Template:
        query = request.query_params
        search = {k: str(query.get(k, ""))[:100] for k in ("cq", "cstatus", "sq", "ag", "aphase")}
        gaps = await services.city_gaps(db_session, city.id)
        priority, after_assessment = await services.assessment_recommendations(db_session, city.id)
        context.setdefault("values", {})
        context.setdefault("errors", {})
        return page(
            "training/city.html",
            status_code,
            priority=priority,
            after_assessment=after_assessment,
            city=city,
            curricula_page=await services.search_city_curricula(
                db_session, city.id, q=search["cq"], status=search["cstatus"], number=_number(query.get("cpage"))
            ),
            runnable=await services.city_curricula(db_session, city.id),
            sessions_page=await services.search_city_sessions(
                db_session, city.id, q=search["sq"], number=_number(query.get("spage"))
            ),
            gaps=gaps,
            topic_gaps=await services.city_topic_gaps(db_session, city.id),
            topic_names=topic_names(),
            recommended=await services.recommended_curricula(db_session, gaps),
            assessments_page=await services.search_city_self_assessments(
                db_session,
                city.id,
                target_group=search["ag"],
                phase=search["aphase"],
                number=_number(query.get("apage")),
            ),
            search=search,
            page_link=lambda param, number: _link(request, param, number),
            groups=await group_options(db_session),
            min_group=services.MIN_GROUP_SIZE,
            **context,
            **common(),
        )

    @get("/", name="training:city")
    async def workspace(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._workspace(request, db_session, await load_city(db_session, city_id))

    @post("/curricula", name="training:curriculum_create")
    async def create_curriculum(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(CurriculumInput, data)
        if form is not None:
            try:
                c = await services.create_curriculum(db_session, city.id, form, actor=identity_of(request))
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The curriculum is drafted; add its units."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/curricula/{c.id}")
        return await self._workspace(request, db_session, city, 422, values=data, errors=errors, form="curriculum")

    async def _curriculum(
        self, db_session: AsyncSession, city: City, curriculum: Curriculum, status_code: int = 200, **context: Any
    ) -> Template:
        context.setdefault("values", {})
        context.setdefault("errors", {})
        return page(
            "training/curriculum.html",
            status_code,
            city=city,
            c=curriculum,
            units=await services.units_of(db_session, curriculum.id),
            groups=[g for g in await group_options(db_session) if g[0] in curriculum.target_groups],
            toolbox=await services.toolbox(db_session),
            **context,
            **common(),
        )

    @get("/curricula/{curriculum_id:uuid}", name="training:curriculum")
    async def curriculum(self, db_session: AsyncSession, city_id: UUID, curriculum_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        return await self._curriculum(db_session, city, await load_curriculum(db_session, city_id, curriculum_id))

    @post("/curricula/{curriculum_id:uuid}/units", name="training:unit_add")
    async def add_unit(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, curriculum_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        curriculum = await load_curriculum(db_session, city_id, curriculum_id)
        form, errors = validate_form(UnitInput, data)
        if form is not None:
            try:
                await services.add_unit(db_session, curriculum, form, actor=identity_of(request))
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The unit is added."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/curricula/{curriculum.id}")
        return await self._curriculum(db_session, city, curriculum, 422, values=data, errors=errors)

    @post("/curricula/{curriculum_id:uuid}/toolbox", name="training:toolbox_attach")
    async def attach(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, curriculum_id: UUID, data: FormData
    ) -> Any:
        curriculum = await load_curriculum(db_session, city_id, curriculum_id)
        try:
            entry_id = UUID(str(data.get("entry_id", "")))
        except ValueError:
            flash(request, _("Choose a toolbox entry."), "error")
        else:
            try:
                await services.attach_toolbox_entry(db_session, curriculum, entry_id, actor=identity_of(request))
            except TrainingError as exc:
                flash(request, _(exc.message), "error")
            else:
                flash(request, _("The resource is attached to the curriculum."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/curricula/{curriculum_id}")

    @post("/curricula/{curriculum_id:uuid}/submit", name="training:curriculum_submit")
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, curriculum_id: UUID) -> Any:
        curriculum = await load_curriculum(db_session, city_id, curriculum_id)
        try:
            await services.submit_for_review(db_session, curriculum, actor=identity_of(request))
        except TrainingError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The curriculum is sent for review."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/curricula/{curriculum_id}")

    @post("/sessions", name="training:session_create")
    async def create_session(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(SessionInput, data)
        if form is not None:
            try:
                ts = await services.create_session(db_session, city.id, form, actor=identity_of(request))
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The training session is planned; register its participants."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/sessions/{ts.id}")
        return await self._workspace(request, db_session, city, 422, values=data, errors=errors, form="session")

    async def _session(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        city: City,
        ts: TrainingSession,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        context.setdefault("values", {})
        context.setdefault("errors", {})
        curriculum = await services.get_curriculum(db_session, ts.curriculum_id)
        return page(
            "training/session.html",
            status_code,
            city=city,
            ts=ts,
            curriculum=curriculum,
            people=await services.participants_of(db_session, ts.id),
            report=await services.session_report(db_session, ts),
            groups=await group_options(db_session),
            base_url=settings_of(request).base_url.rstrip("/"),
            **context,
            **common(),
        )

    @get("/sessions/{session_id:uuid}", name="training:session")
    async def session_page(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID
    ) -> Template:
        city = await load_city(db_session, city_id)
        return await self._session(request, db_session, city, await load_session(db_session, city_id, session_id))

    @post("/sessions/{session_id:uuid}/participants", name="training:participant_add")
    async def add_participant(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        ts = await load_session(db_session, city_id, session_id)
        form, errors = validate_form(ParticipantInput, data)
        if form is not None:
            try:
                person = await services.register_participant(
                    db_session,
                    ts,
                    name=form.name,
                    email=form.email,
                    target_group=form.target_group,
                    actor=identity_of(request),
                )
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                if person.waiting_list:
                    flash(
                        request,
                        _("The session is full: %(name)s is on the waiting list.") % {"name": person.name},
                        "warning",
                    )
                else:
                    flash(request, _("%(name)s is registered.") % {"name": person.name}, "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/sessions/{ts.id}")
        return await self._session(request, db_session, city, ts, 422, values=data, errors=errors)

    @post("/sessions/{session_id:uuid}/attendance", name="training:attendance")
    async def attendance(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID, data: FormData
    ) -> Any:
        ts = await load_session(db_session, city_id, session_id)
        raw = data.get("attended", [])
        ids = {UUID(v) for v in ([raw] if isinstance(raw, str) else raw) if v}
        await services.set_attendance(db_session, ts, ids, actor=identity_of(request))
        flash(request, _("Attendance is recorded."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/sessions/{ts.id}")

    @post("/sessions/{session_id:uuid}/send", name="training:send_links")
    async def send_links(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID) -> Any:
        ts = await load_session(db_session, city_id, session_id)
        sent = await services.send_questionnaire_links(
            db_session, ts, settings_of(request).base_url, actor=identity_of(request)
        )
        flash(request, _("%(count)s personal links are being sent.") % {"count": sent}, "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/sessions/{ts.id}")

    @post("/sessions/{session_id:uuid}/close", name="training:close")
    async def close(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID) -> Any:
        ts = await load_session(db_session, city_id, session_id)
        try:
            await services.close_questionnaire(db_session, ts, actor=identity_of(request))
        except TrainingError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The questionnaire is closed and the session evaluated."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/sessions/{ts.id}")

    @post("/sessions/{session_id:uuid}/feedback", name="training:feedback")
    async def feedback(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, session_id: UUID, data: FormData
    ) -> Any:
        ts = await load_session(db_session, city_id, session_id)
        form, _errors = validate_form(FeedbackInput, data)
        if form is not None:
            await services.record_feedback_actions(db_session, ts, form.feedback_actions, actor=identity_of(request))
            flash(request, _("The feedback actions are saved."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/sessions/{ts.id}")

    @post("/self-assessments", name="training:self_start")
    async def start_self(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(SelfAssessmentInput, data)
        if form is not None:
            try:
                sa = await services.start_self_assessment(
                    db_session, city.id, form, user_id=None, actor=identity_of(request)
                )
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                link = f"{settings_of(request).base_url.rstrip('/')}{BASE}/self/{sa.token}"
                flash(request, _("Personal link to send: %(link)s") % {"link": link}, "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/")
        return await self._workspace(request, db_session, city, 422, values=data, errors=errors, form="self")

    @post("/self-assessments/{assessment_id:uuid}/supervisor", name="training:supervisor_rate")
    async def supervisor(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, assessment_id: UUID, data: FormData
    ) -> Any:
        sa = await db_session.get(SelfAssessment, assessment_id)
        if sa is None or sa.city_id != city_id:
            raise NotFoundException(_("No such self-assessment."))
        form, _rating_errors = validate_form(RatingInput, data)
        if form is None:
            flash(request, _("Choose a level for each knowledge area."), "error")
        else:
            await services.rate_by_supervisor(db_session, sa, form, actor=identity_of(request))
            flash(request, _("The supervisor's rating is saved."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/")


# -- my own competences (signed-in staff) -------------------------------------------------------------


class MyCompetencesController(Controller):
    """A city's staff member with an account: their self-assessments, ratings and learning plan."""

    path = "/me"
    guards = [signed_in]

    async def _overview(
        self, request: AnyRequest, db_session: AsyncSession, status_code: int = 200, **context: Any
    ) -> Template:
        identity = identity_of(request)
        assert identity.user_id is not None
        mine = await services.my_self_assessments(db_session, identity.user_id)
        city_ids = identity.cities()
        cities = list(await db_session.scalars(select(City).where(City.id.in_(city_ids)).order_by(City.name)))
        names = {c.id: c.name for c in cities}
        for sa in mine:
            if sa.city_id not in names:
                city = await db_session.get(City, sa.city_id)
                names[sa.city_id] = city.name if city else ""
        context.setdefault("values", {})
        context.setdefault("errors", {})
        return page(
            "training/me.html",
            status_code,
            assessments=mine,
            city_names=names,
            cities=cities,
            groups=await group_options(db_session),
            targets=await services.target_levels(db_session),
            plan=await services.learning_plan(db_session, identity.user_id),
            **context,
            **common(),
        )

    @get("/", name="training:me")
    async def overview(self, request: AnyRequest, db_session: AsyncSession) -> Template:
        return await self._overview(request, db_session)

    @post("/", name="training:me_start")
    async def start(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(MySelfAssessmentInput, data)
        if form is not None:
            try:
                sa = await services.start_my_self_assessment(db_session, identity_of(request), form)
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                return await see_other(db_session, f"{BASE}/me/{sa.id}")
        return await self._overview(request, db_session, 422, values=data, errors=errors)

    async def _assessment(
        self, request: AnyRequest, db_session: AsyncSession, assessment_id: UUID, status_code: int = 200, **context: Any
    ) -> Template:
        sa = await services.my_self_assessment(db_session, identity_of(request).user_id, assessment_id)
        if sa is None:
            raise NotFoundException(_("No such self-assessment."))
        row = next((r for r in await services.matrix(db_session) if r.group.key == sa.target_group), None)
        context.setdefault("values", {})
        context.setdefault("errors", {})
        context.setdefault("done", False)
        return page(
            "training/me_assessment.html",
            status_code,
            sa=sa,
            row=row,
            targets=(await services.target_levels(db_session)).get(sa.target_group, {}),
            topic_names=topic_names(),
            action=f"{BASE}/me/{sa.id}",
            **context,
            **common(),
        )

    @get("/{assessment_id:uuid}", name="training:me_assessment")
    async def assessment(self, request: AnyRequest, db_session: AsyncSession, assessment_id: UUID) -> Template:
        return await self._assessment(request, db_session, assessment_id)

    @post("/{assessment_id:uuid}", name="training:me_rate")
    async def rate(self, request: AnyRequest, db_session: AsyncSession, assessment_id: UUID, data: FormData) -> Any:
        sa = await services.my_self_assessment(db_session, identity_of(request).user_id, assessment_id)
        if sa is None:
            raise NotFoundException(_("No such self-assessment."))
        form, errors = validate_form(RatingInput, data)
        if form is not None:
            try:
                await services.rate_self(db_session, sa, form)
            except TrainingError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("Your self-assessment is saved."), "success")
                return await see_other(db_session, f"{BASE}/me/{sa.id}")
        return await self._assessment(request, db_session, assessment_id, 422, values=data, errors=errors)


# -- personal links (no account needed) ---------------------------------------------------------------


@get("/q/{token:str}", name="training:questionnaire")
async def questionnaire(db_session: AsyncSession, token: str) -> Template:
    person = await services.participant_by_token(db_session, token)
    if person is None:
        raise NotFoundException(_("This questionnaire link is not valid."))
    ts = await db_session.get(TrainingSession, person.session_id)
    return page("training/questionnaire.html", ts=ts, person=person, values={}, errors={}, done=False, **common())


@post("/q/{token:str}", name="training:questionnaire_answer")
async def answer(db_session: AsyncSession, token: str, data: FormData) -> Any:
    person = await services.participant_by_token(db_session, token)
    if person is None:
        raise NotFoundException(_("This questionnaire link is not valid."))
    ts = await db_session.get(TrainingSession, person.session_id)
    form, errors = validate_form(AnswerInput, data)
    if form is not None:
        try:
            await services.answer_questionnaire(db_session, token, form)
        except TrainingError as exc:
            errors = {exc.field: _(exc.message)}
        else:
            await db_session.commit()
            return page(
                "training/questionnaire.html", ts=ts, person=person, values={}, errors={}, done=True, **common()
            )
    return page(
        "training/questionnaire.html", 422, ts=ts, person=person, values=data, errors=errors, done=False, **common()
    )


@get("/self/{token:str}", name="training:self")
async def self_form(db_session: AsyncSession, token: str) -> Template:
    sa = await services.self_assessment_by_token(db_session, token)
    if sa is None:
        raise NotFoundException(_("This self-assessment link is not valid."))
    levels = await services.target_levels(db_session)
    return page(
        "training/self.html",
        sa=sa,
        row=await _row_of(db_session, sa),
        targets=levels.get(sa.target_group, {}),
        values={},
        errors={},
        done=False,
        **common(),
    )


@post("/self/{token:str}", name="training:self_answer")
async def self_answer(db_session: AsyncSession, token: str, data: FormData) -> Any:
    sa = await services.self_assessment_by_token(db_session, token)
    if sa is None:
        raise NotFoundException(_("This self-assessment link is not valid."))
    levels = (await services.target_levels(db_session)).get(sa.target_group, {})
    form, errors = validate_form(RatingInput, data)
    if form is not None:
        try:
            await services.rate_self(db_session, sa, form)
        except TrainingError as exc:
            errors = {exc.field: _(exc.message)}
        else:
            await db_session.commit()
            return page(
                "training/self.html", sa=sa, row=None, targets=levels, values={}, errors={}, done=True, **common()
            )
    row = await _row_of(db_session, sa)
    return page(
        "training/self.html", 422, sa=sa, row=row, targets=levels, values=data, errors=errors, done=False, **common()
    )


async def _row_of(db_session: AsyncSession, sa: SelfAssessment) -> services.MatrixRow | None:
    return next((r for r in await services.matrix(db_session) if r.group.key == sa.target_group), None)


# -- JSON API ------------------------------------------------------------------------------------------


def report_out(report: services.SessionReport) -> SessionReportOut:
    return SessionReportOut(
        session_id=report.session.id,
        title=report.session.title,
        participants=report.participants,
        attended=report.attended,
        respondents=report.respondents,
        response_rate=report.response_rate,
        satisfaction=report.satisfaction,
        items=[
            ItemStats(item=i.item, mean=i.mean, distribution={str(k): v for k, v in i.distribution.items()})
            for i in report.items
        ],
        comments_liked=report.comments_liked,
        comments_improve=report.comments_improve,
        closed=report.session.questionnaire_closed_at is not None,
    )


class TrainingApi(Controller):
    path = "/"
    tags = ["Competence-based training"]

    @get("/matrix", name="api:training_matrix", cache=False)
    async def matrix(self, db_session: AsyncSession) -> list[TargetGroupOut]:
        """The competence matrix (Table 4 plus admins' profiles): each target group's level and topics per area."""
        return [
            TargetGroupOut(
                key=row.group.key,
                family=row.group.family,
                title=row.group.title,
                family_title=row.group.family_title,
                from_action_plan=row.group.from_action_plan,
                cells=[MatrixCellOut(area=a, level=c.level, topics=list(c.topics)) for a, c in row.cells.items()],
            )
            for row in await services.matrix(db_session)
        ]

    @post("/questionnaires/{token:str}", name="api:training_answer", status_code=201)
    async def answer(self, db_session: AsyncSession, token: str, data: AnswerInput) -> dict[str, str]:
        """Answer a session's satisfaction questionnaire through a personal link (once; anonymous in reports)."""
        try:
            await services.answer_questionnaire(db_session, token, data)
        except TrainingError as exc:
            raise refused(exc) from exc
        await db_session.commit()
        return {"status": "recorded"}


class CityTrainingApi(Controller):
    path = "/cities/{city_id:uuid}"
    tags = ["Competence-based training"]
    guards = [edit_guard]

    @get("/sessions", name="api:training_sessions", cache=False)
    async def sessions(self, db_session: AsyncSession, city_id: UUID) -> list[SessionOut]:
        """The city's pilot training sessions."""
        out = []
        for ts in await services.city_sessions(db_session, city_id):
            people = await services.participants_of(db_session, ts.id)
            waiting = sum(1 for p in people if p.waiting_list)
            out.append(
                SessionOut(
                    id=ts.id,
                    city_id=ts.city_id,
                    curriculum_id=ts.curriculum_id,
                    title=ts.title,
                    starts_on=ts.starts_on,
                    ends_on=ts.ends_on,
                    place=ts.place,
                    online=ts.online,
                    capacity=ts.capacity,
                    registered=len(people) - waiting,
                    waiting=waiting,
                    closed=ts.questionnaire_closed_at is not None,
                )
            )
        return out

    @post("/sessions", name="api:training_session_create", status_code=201)
    async def create_session(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: SessionInput
    ) -> dict[str, str]:
        """Plan a pilot training session of a curriculum."""
        await load_city(db_session, city_id)
        try:
            ts = await services.create_session(db_session, city_id, data, actor=identity_of(request))
        except TrainingError as exc:
            raise refused(exc) from exc
        return {"id": str(ts.id)}

    @get("/sessions/{session_id:uuid}/report", name="api:training_session_report", cache=False)
    async def report(self, db_session: AsyncSession, city_id: UUID, session_id: UUID) -> SessionReportOut:
        """A session's satisfaction report: response rate, item means and distributions, comments."""
        ts = await load_session(db_session, city_id, session_id)
        return report_out(await services.session_report(db_session, ts))

    @get("/gaps", name="api:training_gaps", cache=False)
    async def gaps(self, db_session: AsyncSession, city_id: UUID) -> list[GapOut]:
        """The city-wide competence gap view by target group and knowledge area (aggregates only)."""
        return [GapOut(**vars(g)) for g in await services.city_gaps(db_session, city_id)]


class MyApi(Controller):
    path = "/me"
    tags = ["Competence-based training"]
    guards = [signed_in]

    @get("/learning-plan", name="api:training_my_plan", cache=False)
    async def plan(self, request: AnyRequest, db_session: AsyncSession) -> list[PlanItemOut]:
        """The signed-in person's learning plan: curricula covering their largest competence gaps first."""
        user_id = identity_of(request).user_id
        assert user_id is not None
        return [
            PlanItemOut(
                curriculum_id=i.curriculum.id, title=i.curriculum.title, covered_gap=i.covered_gap, cells=i.cells
            )
            for i in await services.learning_plan(db_session, user_id)
        ]


route_handlers: list[ControllerRouterHandler] = [
    index,
    matrix_page,
    add_profile,
    toolbox_page,
    report_page,
    report_csv,
    ReviewController,
    CityTrainingController,
    MyCompetencesController,
    questionnaire,
    answer,
    self_form,
    self_answer,
]
api_route_handlers: list[ControllerRouterHandler] = [TrainingApi, CityTrainingApi, MyApi]
