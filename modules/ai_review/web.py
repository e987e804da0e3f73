"""The technology register's pages (public register, a city's entries, the review, the reviewers' queue)
and its JSON API."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import identity_of, requires
from covenant.accounts.permissions import MODULE_EDIT, MODULE_REVIEW
from covenant.cities.models import City
from covenant.i18n import current_locale
from covenant.i18n import gettext as _
from covenant.web.deps import load_city
from covenant.web.forms import FormData, page, see_other, validate_form
from covenant.web.pagination import clamp
from modules.ai_review import rules, services
from modules.ai_review.models import (
    BOTTLENECKS,
    CATEGORY_LABELS,
    KIND_LABELS,
    REVIEW_STATUS_LABELS,
    RISK_LABELS,
    SEVERITY_LABELS,
    STANCE_LABELS,
    STATUS_LABELS,
    Category,
    DevelopmentKind,
    RiskClass,
    Stance,
    Technology,
    TechnologyStatus,
)
from modules.ai_review.schemas import (
    ClassificationOut,
    FindingOut,
    LegalDevelopmentInput,
    LegalDevelopmentOut,
    PublicOverrideInput,
    PublishInput,
    RegisterPageOut,
    ReviewInput,
    SignOffInput,
    SurveyAggregateOut,
    SurveyInput,
    TechnologyInput,
    TechnologyOut,
)
from modules.ai_review.services import Classification, LegalFilters, RegisterFilters, ReviewError

SLUG = "ai_review"
BASE = f"/m/{SLUG}"
AnyRequest = Request[Any, Any, Any]

edit_guard = requires(MODULE_EDIT, city_param="city_id", module=SLUG)
review_guard = requires(MODULE_REVIEW, module=SLUG)


def labels() -> dict[str, Any]:
    return {
        "category_labels": CATEGORY_LABELS,
        "status_labels": STATUS_LABELS,
        "risk_labels": RISK_LABELS,
        "review_status_labels": REVIEW_STATUS_LABELS,
    }


async def load_city_technology(db_session: AsyncSession, city_id: UUID, technology_id: UUID) -> Technology:
    t = await services.get_city_technology(db_session, city_id, technology_id)
    if t is None:
        raise NotFoundException(_("No such technology."))
    return t


def may_edit(request: AnyRequest, t: Technology) -> bool:
    return identity_of(request).can(MODULE_EDIT, city_id=t.city_id, module=SLUG)


def may_review(request: AnyRequest) -> bool:
    return identity_of(request).can(MODULE_REVIEW, module=SLUG)


def may_see(request: AnyRequest, t: Technology) -> bool:
    """Published public entries for everyone; the rest for the city's editors and the reviewers."""
    return (t.published_at is not None and t.visibility == "public") or may_edit(request, t) or may_review(request)


def form_values(t: Technology | None) -> dict[str, Any]:
    if t is None:
        return {"language": "en", "status": "idea", "visibility": "public", "category": ""}
    return {name: getattr(t, name) for name in TechnologyInput.model_fields}


def filters_of(q: str, country: str, category: str, status: str, risk_class: str) -> RegisterFilters:
    return RegisterFilters(
        q=q.strip()[:100],
        country=country.strip()[:2],
        category=category if category in set(Category) else "",
        status=status if status in set(TechnologyStatus) else "",
        risk_class=risk_class if risk_class in set(RiskClass) else "",
    )


def refused(exc: ReviewError) -> ValidationException:
    return ValidationException(_(exc.message), extra=[{"key": exc.field, "message": _(exc.message)}])


Q = Annotated[str, Parameter(query="q", required=False)]
Country = Annotated[str, Parameter(query="country", required=False, description="ISO 3166-1 alpha-2 code.")]
CategoryQ = Annotated[str, Parameter(query="category", required=False)]
StatusQ = Annotated[str, Parameter(query="status", required=False)]
RiskQ = Annotated[str, Parameter(query="risk_class", required=False)]
PageQ = Annotated[int, Parameter(query="page", ge=1, required=False)]
SizeQ = Annotated[int, Parameter(query="size", ge=1, le=200, required=False)]


# -- public register --------------------------------------------------------------------------------


@get("/", name="ai_review:index")
async def index(
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    category: CategoryQ = "",
    status: StatusQ = "",
    risk_class: RiskQ = "",
    number: PageQ = 1,
    size: SizeQ = 25,
) -> Template:
    filters = filters_of(q, country, category, status, risk_class)
    number, size = clamp(number, size)
    results = await services.search_public(db_session, filters, number=number, size=size)
    query = urlencode({k: v for k, v in vars(filters).items() if v})
    return page(
        "ai_review/index.html",
        results=results,
        filters=filters,
        query=query,
        categories=list(Category),
        statuses=list(TechnologyStatus),
        risk_classes=list(RiskClass),
        **labels(),
    )


@get("/register.csv", name="ai_review:register_csv")
async def register_csv(
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    category: CategoryQ = "",
    status: StatusQ = "",
    risk_class: RiskQ = "",
) -> Response[bytes]:
    rows = await services.all_public(db_session, filters_of(q, country, category, status, risk_class))
    return Response(
        ("\ufeff" + services.register_csv(rows)).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="technology-register.csv"'},
    )


@get("/register.json", name="ai_review:register_json")
async def register_json(
    db_session: AsyncSession,
    q: Q = "",
    country: Country = "",
    category: CategoryQ = "",
    status: StatusQ = "",
    risk_class: RiskQ = "",
) -> Response[bytes]:
    rows = await services.all_public(db_session, filters_of(q, country, category, status, risk_class))
    body = json.dumps([services.eurocities_record(r) for r in rows], ensure_ascii=False, indent=1)
    return Response(
        body.encode(),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="technology-register.json"'},
    )


@get("/technologies/{technology_id:uuid}", name="ai_review:detail")
async def detail(request: AnyRequest, db_session: AsyncSession, technology_id: UUID) -> Template:
    t = await services.get_technology(db_session, technology_id)
    if t is None or not may_see(request, t):
        raise NotFoundException(_("No such technology."))
    city = await load_city(db_session, t.city_id)
    return page(
        "ai_review/detail.html",
        t=t,
        city=city,
        result=services.classification_of(t),
        overdue=services.review_overdue(t),
        may_edit=may_edit(request, t),
        may_review=may_review(request),
        grounds=services.restriction_grounds(t.category, t.review_answers or {}),
        **labels(),
    )


# -- a city's entries -------------------------------------------------------------------------------


class CityTechnologiesController(Controller):
    """A city's register entries (drafts and restricted ones included) and their reviews."""

    path = "/cities/{city_id:uuid}/technologies"
    guards = [edit_guard]

    async def _form(
        self, city: City, t: Technology | None, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
    ) -> Template:
        return page(
            "ai_review/form.html",
            status_code,
            city=city,
            t=t,
            values=values,
            errors=errors,
            categories=list(Category),
            statuses=list(TechnologyStatus),
            **labels(),
        )

    async def _review(
        self,
        city: City,
        t: Technology,
        answers: dict[str, Any],
        fria: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            "ai_review/review.html",
            status_code,
            city=city,
            t=t,
            answers=answers,
            fria=fria,
            errors=errors,
            result=services.classify(answers, services.EntryFacts.of(t), fria),
            questions=rules.QUESTIONS,
            sections=rules.SECTIONS,
            fria_elements=rules.FRIA_ELEMENTS,
            **labels(),
        )

    @get("/", name="ai_review:manage")
    async def manage(self, db_session: AsyncSession, city_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        entries = await services.city_technologies(db_session, city.id)
        overdue = {t.id for t in entries if services.review_overdue(t)}
        return page("ai_review/manage.html", city=city, entries=entries, overdue=overdue, **labels())

    @get("/new", name="ai_review:new")
    async def new(self, db_session: AsyncSession, city_id: UUID) -> Template:
        return await self._form(await load_city(db_session, city_id), None, form_values(None), {})

    @post("/", name="ai_review:create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        form, errors = validate_form(TechnologyInput, data)
        if form is not None:
            try:
                t = await services.create_technology(db_session, city.id, form, actor=identity_of(request))
            except ReviewError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The entry is saved. Now answer the review questionnaire."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/technologies/{t.id}/review")
        return await self._form(city, None, data, errors, 422)

    @get("/{technology_id:uuid}/edit", name="ai_review:edit")
    async def edit(self, db_session: AsyncSession, city_id: UUID, technology_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        t = await load_city_technology(db_session, city_id, technology_id)
        return await self._form(city, t, form_values(t), {})

    @post("/{technology_id:uuid}", name="ai_review:update")
    async def update(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        t = await load_city_technology(db_session, city_id, technology_id)
        form, errors = validate_form(TechnologyInput, data)
        if form is not None:
            try:
                await services.update_technology(db_session, t, form, actor=identity_of(request))
            except ReviewError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("The entry is saved."), "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/technologies")
        return await self._form(city, t, data, errors, 422)

    @get("/{technology_id:uuid}/review", name="ai_review:review_form")
    async def review_form(self, db_session: AsyncSession, city_id: UUID, technology_id: UUID) -> Template:
        city = await load_city(db_session, city_id)
        t = await load_city_technology(db_session, city_id, technology_id)
        return await self._review(city, t, dict(t.review_answers or {}), dict(t.fria or {}), {})

    @post("/{technology_id:uuid}/review", name="ai_review:review_save")
    async def review_save(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID, data: FormData
    ) -> Any:
        city = await load_city(db_session, city_id)
        t = await load_city_technology(db_session, city_id, technology_id)
        raw = ReviewInput.from_form(data)
        form, errors = validate_form(ReviewInput, raw)
        if form is not None:
            was_public = t.visibility == "public"
            try:
                await services.save_review(db_session, t, form, actor=identity_of(request))
                if was_public and t.visibility != "public":
                    flash(request, _(services.RESTRICTED_NOW_MESSAGE), "warning")
                if data.get("submit"):
                    await services.submit_review(db_session, t, actor=identity_of(request))
            except ReviewError as exc:
                await db_session.commit()  # keep the answers saved even when submission is refused
                errors = {exc.field: _(exc.message)}
            else:
                message = (
                    _("The review is sent to the reviewers.") if data.get("submit") else _("The answers are saved.")
                )
                flash(request, message, "success")
                return await see_other(db_session, f"{BASE}/cities/{city.id}/technologies/{t.id}/review")
        return await self._review(city, t, raw["answers"], raw["fria"], errors, 422)

    @post("/{technology_id:uuid}/publish", name="ai_review:publish")
    async def publish(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID, data: FormData
    ) -> Any:
        t = await load_city_technology(db_session, city_id, technology_id)
        form, _errors = validate_form(PublishInput, data)
        try:
            await services.publish_technology(db_session, t, form or PublishInput(), actor=identity_of(request))
        except ReviewError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("The entry is on the public register."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/technologies")

    @post("/{technology_id:uuid}/unpublish", name="ai_review:unpublish")
    async def unpublish(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID) -> Any:
        t = await load_city_technology(db_session, city_id, technology_id)
        await services.unpublish_technology(db_session, t, actor=identity_of(request))
        flash(request, _("The entry is withdrawn from the public register."), "success")
        return await see_other(db_session, f"{BASE}/cities/{city_id}/technologies")


# -- the bottleneck survey -------------------------------------------------------------------------


YearQ = Annotated[int | None, Parameter(query="year", ge=2020, le=2100, required=False)]


def this_year() -> int:
    return services.today().year


class CitySurveyController(Controller):
    """A city answers the bottleneck survey, once per year (answering again replaces its answers)."""

    path = "/cities/{city_id:uuid}/survey"
    guards = [edit_guard]

    @get("/", name="ai_review:survey_form")
    async def form(self, db_session: AsyncSession, city_id: UUID, year: YearQ = None) -> Template:
        city = await load_city(db_session, city_id)
        year = year or this_year()
        existing = await services.city_survey(db_session, city.id, year)
        values: dict[str, Any] = {
            "year": year,
            "experiments": 0,
            "quote": "",
            "quote_public": False,
            "name_public": False,
            "language": "en",
        }
        ratings: dict[str, Any] = {}
        if existing is not None:
            values |= {
                "experiments": existing.experiments,
                "quote": existing.quote,
                "quote_public": existing.quote_public,
                "name_public": existing.name_public,
                "language": existing.language,
            }
            ratings = dict(existing.ratings)
        return page(
            "ai_review/survey_form.html", city=city, values=values, ratings=ratings, errors={}, **survey_labels()
        )

    @post("/", name="ai_review:survey_answer")
    async def answer(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: FormData) -> Any:
        city = await load_city(db_session, city_id)
        raw = SurveyInput.from_form(data)
        form, errors = validate_form(SurveyInput, raw)
        if form is not None:
            try:
                await services.answer_survey(db_session, city.id, form, actor=identity_of(request))
            except ReviewError as exc:
                errors = {exc.field: _(exc.message)}
            else:
                flash(request, _("Thank you: the survey answers are saved."), "success")
                return await see_other(db_session, f"{BASE}/survey/results?year={form.year}")
        ratings = {k: int(v) for k, v in raw["ratings"].items() if str(v).isdigit()}
        return page(
            "ai_review/survey_form.html", 422, city=city, values=raw, ratings=ratings, errors=errors, **survey_labels()
        )


def survey_labels() -> dict[str, Any]:
    return {"bottlenecks": BOTTLENECKS, "severities": SEVERITY_LABELS}


def csv_response(body: str, filename: str) -> Response[bytes]:
    return Response(
        ("\ufeff" + body).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff"},
    )


async def survey_year(db_session: AsyncSession, year: int | None) -> int:
    years = await services.survey_years(db_session)
    return year or (years[0] if years else this_year())


@get("/survey/results.csv", name="ai_review:survey_csv")
async def survey_results_csv(db_session: AsyncSession, year: YearQ = None) -> Response[bytes]:
    """The survey's aggregate per bottleneck (counts only: no city names, no quotes)."""
    aggregate = await services.survey_aggregate(db_session, await survey_year(db_session, year))
    return csv_response(services.survey_csv(aggregate), f"ai-bottleneck-survey-{aggregate.year}.csv")


@get("/survey/participants.csv", name="ai_review:survey_participants_csv")
async def survey_participants_csv(db_session: AsyncSession, year: YearQ = None) -> Response[bytes]:
    """The participating cities that agreed to be named; the others are only counted."""
    aggregate = await services.survey_aggregate(db_session, await survey_year(db_session, year))
    return csv_response(
        services.survey_participants_csv(aggregate), f"ai-bottleneck-survey-participants-{aggregate.year}.csv"
    )


@get("/survey/results", name="ai_review:survey_results")
async def survey_results(db_session: AsyncSession, year: YearQ = None) -> Template:
    years = await services.survey_years(db_session)
    year = year or (years[0] if years else this_year())
    aggregate = await services.survey_aggregate(db_session, year)
    return page("ai_review/survey_results.html", aggregate=aggregate, years=years, **survey_labels())


# -- the legal tracker ------------------------------------------------------------------------------


def legal_filters_of(country: str, category: str, kind: str, stance: str) -> LegalFilters:
    return LegalFilters(
        country=country.strip()[:2],
        category=category if category in set(Category) else "",
        kind=kind if kind in set(DevelopmentKind) else "",
        stance=stance if stance in set(Stance) else "",
    )


KindQ = Annotated[str, Parameter(query="kind", required=False)]
StanceQ = Annotated[str, Parameter(query="stance", required=False)]


async def _legal_page(
    request: AnyRequest,
    db_session: AsyncSession,
    filters: LegalFilters,
    number: int,
    size: int,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    results = await services.legal_developments(db_session, filters, number=number, size=size)
    countries, matrix_categories, matrix = await services.comparison_matrix(db_session)
    return page(
        "ai_review/legal.html",
        status_code,
        results=results,
        filters=filters,
        countries=countries,
        matrix_categories=matrix_categories,
        matrix=matrix,
        kinds=list(DevelopmentKind),
        stances=list(Stance),
        categories=list(Category),
        kind_labels=KIND_LABELS,
        stance_labels=STANCE_LABELS,
        may_add=may_review(request),
        values=values or {},
        errors=errors or {},
        **labels(),
    )


@get("/legal", name="ai_review:legal")
async def legal(
    request: AnyRequest,
    db_session: AsyncSession,
    country: Country = "",
    category: CategoryQ = "",
    kind: KindQ = "",
    stance: StanceQ = "",
    number: PageQ = 1,
    size: SizeQ = 25,
) -> Template:
    number, size = clamp(number, size)
    return await _legal_page(request, db_session, legal_filters_of(country, category, kind, stance), number, size)


@get("/legal.csv", name="ai_review:legal_csv")
async def legal_csv(
    db_session: AsyncSession, country: Country = "", category: CategoryQ = "", kind: KindQ = "", stance: StanceQ = ""
) -> Response[bytes]:
    """The legal tracker (with the list's filters) as CSV."""
    developments = await services.all_legal_developments(db_session, legal_filters_of(country, category, kind, stance))
    return csv_response(services.legal_csv(developments), "legal-tracker.csv")


@post("/legal", name="ai_review:legal_add", guards=[review_guard])
async def legal_add(request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
    form, errors = validate_form(LegalDevelopmentInput, data)
    if form is not None:
        await services.add_legal_development(db_session, form, actor=identity_of(request))
        flash(request, _("The legal development is added to the tracker."), "success")
        return await see_other(db_session, f"{BASE}/legal")
    return await _legal_page(request, db_session, LegalFilters(), 1, 25, data, errors, 422)


async def load_legal(db_session: AsyncSession, development_id: UUID) -> Any:
    development = await services.get_legal_development(db_session, development_id)
    if development is None:
        raise NotFoundException(_("No such legal development."))
    return development


def legal_form_page(
    development: Any, values: dict[str, Any], errors: dict[str, str], status_code: int = 200
) -> Template:
    return page(
        "ai_review/legal_form.html",
        status_code,
        d=development,
        values=values,
        errors=errors,
        kinds=list(DevelopmentKind),
        stances=list(Stance),
        categories=list(Category),
        kind_labels=KIND_LABELS,
        stance_labels=STANCE_LABELS,
        **labels(),
    )


class LegalController(Controller):
    """Reviewers correct or remove legal tracker entries (removal asks for confirmation)."""

    path = "/legal/{development_id:uuid}"
    guards = [review_guard]

    @get("/edit", name="ai_review:legal_edit")
    async def edit(self, db_session: AsyncSession, development_id: UUID) -> Template:
        d = await load_legal(db_session, development_id)
        values = {k: getattr(d, k) for k in LegalDevelopmentInput.model_fields}
        return legal_form_page(d, values, {})

    @post("/", name="ai_review:legal_update")
    async def update(self, request: AnyRequest, db_session: AsyncSession, development_id: UUID, data: FormData) -> Any:
        d = await load_legal(db_session, development_id)
        form, errors = validate_form(LegalDevelopmentInput, data)
        if form is not None:
            await services.update_legal_development(db_session, d, form, actor=identity_of(request))
            flash(request, _("The legal development is updated."), "success")
            return await see_other(db_session, f"{BASE}/legal")
        return legal_form_page(d, data, errors, 422)

    @post("/delete", name="ai_review:legal_delete")
    async def delete(self, request: AnyRequest, db_session: AsyncSession, development_id: UUID) -> Any:
        d = await load_legal(db_session, development_id)
        await services.delete_legal_development(db_session, d, actor=identity_of(request))
        flash(request, _("The legal development is deleted."), "success")
        return await see_other(db_session, f"{BASE}/legal")


# -- the compendium ---------------------------------------------------------------------------------


CompendiumGroup = tuple[str, list[services.RegisterRow], list[services.EUProject]]


async def compendium_groups(db_session: AsyncSession) -> tuple[list[CompendiumGroup], int]:
    """Public register entries and the Action Plan's EU-funded projects, grouped by category in enum order."""
    rows = await services.all_public(db_session, RegisterFilters())
    by_rows: dict[str, list[services.RegisterRow]] = {}
    for row in rows:
        by_rows.setdefault(row.technology.category, []).append(row)
    by_projects: dict[str, list[services.EUProject]] = {}
    for project in services.eu_projects():
        by_projects.setdefault(project.category, []).append(project)
    groups: list[CompendiumGroup] = [
        (str(c.value), by_rows.get(c.value, []), by_projects.get(c.value, []))
        for c in Category
        if c.value in by_rows or c.value in by_projects
    ]
    return groups, len(rows)


@get("/compendium", name="ai_review:compendium")
async def compendium(db_session: AsyncSession) -> Template:
    """Public experiments and EU-funded projects grouped by category: an annex for a position paper."""
    groups, total = await compendium_groups(db_session)
    return page(
        "ai_review/compendium.html",
        groups=groups,
        total=total,
        projects_total=len(services.eu_projects()),
        locale=current_locale(),
        **labels(),
    )


@get("/compendium.md", name="ai_review:compendium_md")
async def compendium_md(db_session: AsyncSession) -> Response[bytes]:
    """The compendium as Markdown, to paste as an annex of a position paper."""
    groups, _total = await compendium_groups(db_session)
    body = services.compendium_markdown(
        groups,
        category_label=lambda c: _(CATEGORY_LABELS.get(c) or c),
        status_label=lambda s: _(STATUS_LABELS.get(s) or s),
        title=_("Compendium of safe and smart city experiments"),
        register_heading=_("Experiments from the public register"),
        projects_heading=_("EU-funded projects named in the Action Plan"),
        locale=current_locale(),
    )
    return Response(
        body.encode(),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="compendium.md"', "X-Content-Type-Options": "nosniff"},
    )


@get("/compendium.csv", name="ai_review:compendium_csv")
async def compendium_csv(db_session: AsyncSession) -> Response[bytes]:
    """The compendium as CSV: register entries and EU-funded projects in one table."""
    groups, _total = await compendium_groups(db_session)
    rows = [row for _c, rs, _ps in groups for row in rs]
    projects = [p for _c, _rs, ps in groups for p in ps]
    return csv_response(services.compendium_csv(rows, projects), "compendium.csv")


# -- reviewers --------------------------------------------------------------------------------------


class ReviewsController(Controller):
    """The reviewers' queue across cities: submitted reviews, then overdue re-reviews."""

    path = "/reviews"
    guards = [review_guard]

    @get("/", name="ai_review:queue")
    async def queue(self, db_session: AsyncSession) -> Template:
        queue = await services.review_queue(db_session)
        return page("ai_review/queue.html", queue=queue, **labels())

    @post("/{technology_id:uuid}", name="ai_review:sign_off")
    async def sign_off(self, request: AnyRequest, db_session: AsyncSession, technology_id: UUID, data: FormData) -> Any:
        t = await services.get_technology(db_session, technology_id)
        if t is None:
            raise NotFoundException(_("No such technology."))
        form, _errors = validate_form(SignOffInput, data)
        try:
            await services.sign_off(db_session, t, form or SignOffInput(), actor=identity_of(request))
        except ReviewError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(
                request,
                _("The review is signed off.")
                if (form and form.approve)
                else _("The review is sent back to the city."),
                "success",
            )
        return await see_other(db_session, f"{BASE}/reviews")

    @post("/{technology_id:uuid}/visibility", name="ai_review:allow_public")
    async def allow_public(
        self, request: AnyRequest, db_session: AsyncSession, technology_id: UUID, data: FormData
    ) -> Any:
        """Allow a law-enforcement or biometric use to be public, with a reason (or withdraw the override)."""
        t = await services.get_technology(db_session, technology_id)
        if t is None:
            raise NotFoundException(_("No such technology."))
        if data.get("withdraw"):
            await services.withdraw_public_override(db_session, t, actor=identity_of(request))
            flash(request, _("The override is withdrawn."), "success")
            return await see_other(db_session, f"{BASE}/technologies/{t.id}")
        try:
            await services.allow_public_visibility(
                db_session, t, str(data.get("reason") or ""), actor=identity_of(request)
            )
        except ReviewError as exc:
            flash(request, _(exc.message), "error")
        else:
            flash(request, _("Public visibility is allowed; the reason is recorded."), "success")
        return await see_other(db_session, f"{BASE}/technologies/{t.id}")


# -- JSON API ---------------------------------------------------------------------------------------


def classification_out(result: Classification) -> ClassificationOut:
    def findings(items: list[services.Finding]) -> list[FindingOut]:
        return [FindingOut(key=f.key, text=_(f.text), articles=f.articles) for f in items]

    return ClassificationOut(
        risk_class=result.risk_class,
        rules=findings(result.rules),
        derogation_applied=result.derogation_applied,
        missing_answers=result.missing_answers,
        contradictions=findings(result.contradictions),
        open_obligations=findings(result.open_obligations),
        missing_safeguards=findings(result.missing_safeguards),
        fria_required=result.fria_required,
        fria_missing=result.fria_missing,
        complete=result.complete,
    )


def technology_out(t: Technology) -> TechnologyOut:
    return TechnologyOut(
        id=t.id,
        city_id=t.city_id,
        name=t.name,
        short_description=t.short_description,
        description=t.description,
        category=t.category,
        status=t.status,
        visibility=t.visibility,
        public_override_reason=t.public_override_reason,
        restriction_grounds=[_(g) for g in services.restriction_grounds(t.category, t.review_answers or {})],
        risk_class=t.risk_class,
        review_status=t.review_status,
        review_overdue=services.review_overdue(t),
        revision_date=t.revision_date,
        published=t.published_at is not None,
        published_at=t.published_at,
    )


class RegisterApi(Controller):
    path = "/"
    tags = ["AI and surveillance technology review"]

    @get("/technologies", name="api:ai_review:register", cache=False)
    async def register(
        self,
        db_session: AsyncSession,
        q: Q = "",
        country: Country = "",
        category: CategoryQ = "",
        status: StatusQ = "",
        risk_class: RiskQ = "",
        number: PageQ = 1,
        size: SizeQ = 25,
    ) -> RegisterPageOut:
        """The public technology register, in the Eurocities Algorithmic Transparency Standard's field names."""
        number, size = clamp(number, size)
        results = await services.search_public(
            db_session, filters_of(q, country, category, status, risk_class), number=number, size=size
        )
        return RegisterPageOut(
            items=[services.eurocities_record(r) | {"id": str(r.technology.id)} for r in results.items],
            total=results.total,
            page=results.number,
            page_size=results.size,
            pages=results.pages,
        )

    @get("/technologies/{technology_id:uuid}", name="api:ai_review:technology", cache=False)
    async def technology(self, request: AnyRequest, db_session: AsyncSession, technology_id: UUID) -> TechnologyOut:
        """One entry (restricted and unpublished ones only for the city's editors and reviewers)."""
        t = await services.get_technology(db_session, technology_id)
        if t is None or not may_see(request, t):
            raise NotFoundException(_("No such technology."))
        return technology_out(t)

    @post(
        "/technologies/{technology_id:uuid}/sign-off",
        name="api:ai_review:sign_off",
        guards=[review_guard],
        status_code=200,
    )
    async def sign_off(
        self, request: AnyRequest, db_session: AsyncSession, technology_id: UUID, data: SignOffInput
    ) -> ClassificationOut:
        """A reviewer signs off (``approve: true``) or sends back a submitted "
        "review; emits ``ai_review.technology_reviewed``."""
        t = await services.get_technology(db_session, technology_id)
        if t is None:
            raise NotFoundException(_("No such technology."))
        try:
            result = await services.sign_off(db_session, t, data, actor=identity_of(request))
        except ReviewError as exc:
            raise refused(exc) from exc
        return classification_out(result)

    @post(
        "/technologies/{technology_id:uuid}/public-override",
        name="api:ai_review:allow_public",
        guards=[review_guard],
        status_code=200,
    )
    async def allow_public(
        self, request: AnyRequest, db_session: AsyncSession, technology_id: UUID, data: PublicOverrideInput
    ) -> TechnologyOut:
        """A reviewer allows a law-enforcement or biometric use to be public, with a reason (recorded)."""
        t = await services.get_technology(db_session, technology_id)
        if t is None:
            raise NotFoundException(_("No such technology."))
        try:
            await services.allow_public_visibility(db_session, t, data.reason, actor=identity_of(request))
        except ReviewError as exc:
            raise refused(exc) from exc
        return technology_out(t)


class CityTechnologiesApi(Controller):
    path = "/cities/{city_id:uuid}/technologies"
    tags = ["AI and surveillance technology review"]
    guards = [edit_guard]

    @get("/", name="api:ai_review:city_list", cache=False)
    async def list_city(self, db_session: AsyncSession, city_id: UUID) -> list[TechnologyOut]:
        """All of the city's entries, drafts and restricted ones included."""
        await load_city(db_session, city_id)
        return [technology_out(t) for t in await services.city_technologies(db_session, city_id)]

    @post("/", name="api:ai_review:create")
    async def create(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: TechnologyInput
    ) -> TechnologyOut:
        """Register a technology (private until published)."""
        await load_city(db_session, city_id)
        try:
            t = await services.create_technology(db_session, city_id, data, actor=identity_of(request))
        except ReviewError as exc:
            raise refused(exc) from exc
        return technology_out(t)

    @put("/{technology_id:uuid}/review", name="api:ai_review:review")
    async def review(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID, data: ReviewInput
    ) -> ClassificationOut:
        """Save the questionnaire and the FRIA; answers the classification with the articles it rests on."""
        t = await load_city_technology(db_session, city_id, technology_id)
        try:
            return classification_out(await services.save_review(db_session, t, data, actor=identity_of(request)))
        except ReviewError as exc:
            raise refused(exc) from exc

    @post("/{technology_id:uuid}/submit", name="api:ai_review:submit", status_code=200)
    async def submit(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID
    ) -> ClassificationOut:
        """Send a complete, contradiction-free review to the reviewers."""
        t = await load_city_technology(db_session, city_id, technology_id)
        try:
            return classification_out(await services.submit_review(db_session, t, actor=identity_of(request)))
        except ReviewError as exc:
            raise refused(exc) from exc

    @post("/{technology_id:uuid}/publish", name="api:ai_review:publish", status_code=200)
    async def publish(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, technology_id: UUID, data: PublishInput
    ) -> TechnologyOut:
        """Publish on the public register (refused for restricted entries; needs the confirmation)."""
        t = await load_city_technology(db_session, city_id, technology_id)
        try:
            await services.publish_technology(db_session, t, data, actor=identity_of(request))
        except ReviewError as exc:
            raise refused(exc) from exc
        return technology_out(t)


route_handlers: list[ControllerRouterHandler] = [
    index,
    survey_results,
    survey_results_csv,
    survey_participants_csv,
    legal,
    legal_csv,
    legal_add,
    LegalController,
    compendium,
    compendium_md,
    compendium_csv,
    CitySurveyController,
    register_csv,
    register_json,
    detail,
    CityTechnologiesController,
    ReviewsController,
]


class EvidenceApi(Controller):
    path = "/"
    tags = ["AI and surveillance technology review"]

    @get("/survey/{year:int}", name="api:ai_review:survey", cache=False)
    async def survey(self, db_session: AsyncSession, year: int) -> SurveyAggregateOut:
        """The bottleneck survey's aggregate for one year (no city names; quotes only where agreed)."""
        aggregate = await services.survey_aggregate(db_session, year)
        return SurveyAggregateOut(
            year=aggregate.year,
            responses=aggregate.responses,
            experiments=aggregate.experiments,
            bottlenecks=[
                {"key": b.key, "counts": list(b.counts), "significant_or_blocking_percent": b.serious_share}
                for b in aggregate.bottlenecks
            ],
            quotes=aggregate.quotes,
            named_participants=[{"city": n, "country": c} for n, c in aggregate.named],
        )

    @get("/legal", name="api:ai_review:legal", cache=False)
    async def legal(
        self,
        db_session: AsyncSession,
        country: Country = "",
        category: CategoryQ = "",
        kind: KindQ = "",
        stance: StanceQ = "",
        number: PageQ = 1,
        size: SizeQ = 25,
    ) -> list[LegalDevelopmentOut]:
        """Legal developments in member states (DPA opinions, bills, laws, court decisions), newest first."""
        number, size = clamp(number, size)
        results = await services.legal_developments(
            db_session, legal_filters_of(country, category, kind, stance), number=number, size=size
        )
        return [LegalDevelopmentOut.model_validate(d) for d in results.items]

    @post("/legal", name="api:ai_review:legal_add", guards=[review_guard])
    async def legal_add(
        self, request: AnyRequest, db_session: AsyncSession, data: LegalDevelopmentInput
    ) -> LegalDevelopmentOut:
        """Add a legal development to the tracker (reviewers)."""
        development = await services.add_legal_development(db_session, data, actor=identity_of(request))
        return LegalDevelopmentOut.model_validate(development)

    @get("/legal/{development_id:uuid}", name="api:ai_review:legal_one", cache=False)
    async def legal_one(self, db_session: AsyncSession, development_id: UUID) -> LegalDevelopmentOut:
        """One legal development."""
        return LegalDevelopmentOut.model_validate(await load_legal(db_session, development_id))

    @put("/legal/{development_id:uuid}", name="api:ai_review:legal_update", guards=[review_guard])
    async def legal_update(
        self, request: AnyRequest, db_session: AsyncSession, development_id: UUID, data: LegalDevelopmentInput
    ) -> LegalDevelopmentOut:
        """Correct a legal development (reviewers)."""
        d = await load_legal(db_session, development_id)
        await services.update_legal_development(db_session, d, data, actor=identity_of(request))
        return LegalDevelopmentOut.model_validate(d)

    @delete("/legal/{development_id:uuid}", name="api:ai_review:legal_delete", guards=[review_guard])
    async def legal_delete(self, request: AnyRequest, db_session: AsyncSession, development_id: UUID) -> None:
        """Delete a legal development (reviewers)."""
        d = await load_legal(db_session, development_id)
        await services.delete_legal_development(db_session, d, actor=identity_of(request))


class CitySurveyApi(Controller):
    path = "/cities/{city_id:uuid}/survey"
    tags = ["AI and surveillance technology review"]
    guards = [edit_guard]

    @put("/", name="api:ai_review:survey_answer")
    async def answer(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, data: SurveyInput
    ) -> dict[str, Any]:
        """Answer (or replace) the city's bottleneck survey for a year."""
        await load_city(db_session, city_id)
        try:
            response = await services.answer_survey(db_session, city_id, data, actor=identity_of(request))
        except ReviewError as exc:
            raise refused(exc) from exc
        return {"id": str(response.id), "year": response.year, "ratings": response.ratings}


api_route_handlers: list[ControllerRouterHandler] = [RegisterApi, CityTechnologiesApi, EvidenceApi, CitySurveyApi]
