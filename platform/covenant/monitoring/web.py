"""Pages and JSON API of the yearly monitoring cycle: the secretariat's cycle pages (create, open, matrix,
decisions, reminders, delays, notices, close, report), the city's checklist, and the public "Covenant in
figures" and published reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import Parameter
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts.guards import identity_of, requires
from covenant.accounts.permissions import CYCLE_MANAGE, CYCLE_SUBMIT, MODULE_EDIT
from covenant.cities.models import City
from covenant.cities.schemas import country_name
from covenant.cities.web import SIZE_LABELS
from covenant.i18n import gettext as _
from covenant.monitoring import report as reports
from covenant.monitoring import services
from covenant.monitoring.models import (
    CYCLE_STATUS_LABELS,
    DELAY_STATUS_LABELS,
    SECTION_STATUS_LABELS,
    DelayRequest,
    MonitoringCycle,
    MonitoringReport,
    Notice,
)
from covenant.monitoring.schemas import (
    DEFAULT_REMINDER_DAYS,
    SIZE_CLASSES,
    ChecklistOut,
    CloseInput,
    CommentInput,
    CycleInput,
    CycleOut,
    DelayDecisionInput,
    DelayInput,
    DelayOut,
    MatrixCellOut,
    MatrixOut,
    MatrixRowOut,
    ProgressLineOut,
    ReopenInput,
    SectionOut,
    SummaryOut,
    SuspendInput,
)
from covenant.monitoring.services import MonitoringError
from covenant.monitoring.workbook import build_workbook, workbook_name
from covenant.plugins import ModuleRegistry
from covenant.web.forms import FormData, page, see_other, settings_of, validate_form
from covenant.web.pagination import Page, clamp

AnyRequest = Request[Any, Any, Any]
MATRIX_PAGE_SIZE = 50

manage_guard = requires(CYCLE_MANAGE)
city_guard = requires(MODULE_EDIT, city_param="city_id")
submit_guard = requires(CYCLE_SUBMIT, city_param="city_id")

CountryQ = Annotated[str, Parameter(query="country", max_length=10)]
SizeQ = Annotated[str, Parameter(query="size_class", max_length=20)]
ModuleQ = Annotated[str, Parameter(query="module", max_length=40)]
StatusQ = Annotated[str, Parameter(query="status", max_length=20)]
PageQ = Annotated[int, Parameter(query="page", ge=1)]
PageSizeQ = Annotated[int, Parameter(query="size", ge=1, le=200)]


def registry_of(request: AnyRequest) -> ModuleRegistry:
    registry: ModuleRegistry = request.app.state.registry
    return registry


def labels() -> dict[str, Any]:
    return {
        "cycle_status_labels": CYCLE_STATUS_LABELS,
        "section_status_labels": SECTION_STATUS_LABELS,
        "delay_status_labels": DELAY_STATUS_LABELS,
        "size_labels": SIZE_LABELS,
        "size_classes": SIZE_CLASSES,
        "country_name": country_name,
    }


async def load_cycle(db_session: AsyncSession, year: int) -> MonitoringCycle:
    cycle = await services.cycle_by_year(db_session, year)
    if cycle is None:
        raise NotFoundException(_("No monitoring cycle for {year}.").format(year=year))
    return cycle


def api_error(exc: MonitoringError) -> HTTPException:
    """A refused change as RFC 9457 problem details: 422 with field messages, or the state's status."""
    if exc.status_code == 422:
        extra = [{"key": exc.field, "message": exc.message}]
        for item in exc.details or []:
            extra += [{"key": f"sections.{item['section']}", "message": m} for m in item["missing"]]
        return ValidationException(detail=exc.message, extra=extra)
    return HTTPException(status_code=exc.status_code, detail=exc.message)


def required_from_form(data: dict[str, Any]) -> dict[str, list[str]]:
    """The requirement grid's ticked boxes (``required=<section>:<size class>``) as {section: [size classes]}."""
    raw = data.get("required")
    ticked = [raw] if isinstance(raw, str) else list(raw or [])
    required: dict[str, list[str]] = {}
    for item in ticked:
        key, _sep, size = str(item).partition(":")
        required.setdefault(key, []).append(size)
    return required


def cycle_form_values(cycle: MonitoringCycle | None, registry: ModuleRegistry) -> dict[str, Any]:
    if cycle is not None:
        return {
            **cycle.snapshot(),
            "reminder_days": ", ".join(str(d) for d in cycle.reminder_days or []),
            "ticked": {f"{k}:{s}" for k, v in (cycle.required or {}).items() for s in v},
        }
    today = datetime.now(UTC).date()
    return {
        "year": today.year,
        "opens_on": date(today.year, 2, 1).isoformat(),
        "submission_deadline": date(today.year, 10, 31).isoformat(),
        "validation_deadline": date(today.year, 12, 15).isoformat(),
        "grace_days": 30,
        "reminder_days": ", ".join(str(d) for d in DEFAULT_REMINDER_DAYS),
        "ticked": {f"{k}:{s}" for k, v in services.default_required(registry).items() for s in v},
    }


def cycle_out(cycle: MonitoringCycle, report: MonitoringReport | None = None) -> CycleOut:
    return CycleOut(
        id=cycle.id,
        year=cycle.year,
        status=cycle.status,
        opens_on=cycle.opens_on,
        submission_deadline=cycle.submission_deadline,
        validation_deadline=cycle.validation_deadline,
        grace_days=cycle.grace_days,
        reminder_days=list(cycle.reminder_days or []),
        required=dict(cycle.required or {}),
        opened_at=cycle.opened_at,
        closed_at=cycle.closed_at,
        report_published_at=report.published_at if report else None,
    )


def section_out(view: services.SectionView) -> SectionOut:
    return SectionOut(**{k: getattr(view, k) for k in SectionOut.model_fields})


def checklist_out(result: services.Checklist) -> ChecklistOut:
    return ChecklistOut(
        city_id=result.city_id,
        year=result.cycle.year,
        cycle_status=result.cycle.status,
        deadline=result.deadline,
        ready=result.ready and result.cycle.is_open,
        sections=[section_out(s) for s in result.sections],
    )


# -- the secretariat's pages --------------------------------------------------------------------------


class MonitoringAdmin(Controller):
    path = "/admin/monitoring"
    guards = [manage_guard]
    include_in_schema = False

    async def _index(
        self, request: AnyRequest, db_session: AsyncSession, status_code: int = 200, **context: Any
    ) -> Template:
        registry = registry_of(request)
        cycles = await services.all_cycles(db_session)
        context.setdefault("values", cycle_form_values(None, registry))
        context.setdefault("errors", {})
        return page(
            "monitoring/admin_cycles.html",
            status_code,
            cycles=cycles,
            section_keys=services.section_keys(registry),
            section_title=lambda key: services.section_title(key, registry),
            **labels(),
            **context,
        )

    @get("/", name="monitoring:admin")
    async def index(self, request: AnyRequest, db_session: AsyncSession) -> Template:
        return await self._index(request, db_session)

    @post("/", name="monitoring:create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        registry = registry_of(request)
        values = {**data, "required": required_from_form(data)}
        shown = {
            **data,
            "ticked": {str(v) for v in (data.get("required") or [])}
            if not isinstance(data.get("required"), str)
            else {data["required"]},
        }
        form, errors = validate_form(CycleInput, values)
        if form is None:
            return await self._index(request, db_session, 422, values=shown, errors=errors)
        try:
            cycle = await services.create_cycle(db_session, form, registry=registry, actor=identity_of(request))
        except MonitoringError as exc:
            return await self._index(request, db_session, 422, values=shown, errors={exc.field: exc.message})
        flash(
            request,
            _("The {year} cycle is created; its deadlines are in the calendar.").format(year=cycle.year),
            "success",
        )
        return await see_other(db_session, f"/admin/monitoring/{cycle.year}")

    @get("/{year:int}", name="monitoring:cycle")
    async def cycle(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Template:
        registry = registry_of(request)
        cycle = await load_cycle(db_session, year)
        return page(
            "monitoring/admin_cycle.html",
            cycle=cycle,
            summary=await services.summary(db_session, cycle, registry),
            report=await services.report_of(db_session, year),
            reminders=await services.reminders_sent(db_session, cycle),
            section_title=lambda key: services.section_title(key, registry),
            today=datetime.now(UTC).date(),
            **labels(),
        )

    @get("/{year:int}/progress", name="monitoring:progress")
    async def progress(self, db_session: AsyncSession, year: int) -> Template:
        """The progress bar alone (htmx polls it every few seconds)."""
        cycle = await load_cycle(db_session, year)
        return page(
            "monitoring/_progress.html", cycle=cycle, line=await services.progress(db_session, cycle), **labels()
        )

    @get("/{year:int}/edit", name="monitoring:edit")
    async def edit_form(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Template:
        cycle = await load_cycle(db_session, year)
        registry = registry_of(request)
        return self._edit_page(cycle, registry, cycle_form_values(cycle, registry), {})

    def _edit_page(
        self,
        cycle: MonitoringCycle,
        registry: ModuleRegistry,
        values: dict[str, Any],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        return page(
            "monitoring/admin_edit.html",
            status_code,
            cycle=cycle,
            values=values,
            errors=errors,
            section_keys=services.section_keys(registry),
            section_title=lambda key: services.section_title(key, registry),
            **labels(),
        )

    @post("/{year:int}/edit", name="monitoring:update")
    async def update(self, request: AnyRequest, db_session: AsyncSession, year: int, data: FormData) -> Any:
        cycle = await load_cycle(db_session, year)
        registry = registry_of(request)
        values = {**data, "year": year, "required": required_from_form(data) if "required" in data else None}
        ticked = data.get("required") or []
        shown = {**data, "year": year, "ticked": {ticked} if isinstance(ticked, str) else set(ticked)}
        form, errors = validate_form(CycleInput, values)
        if form is None:
            return self._edit_page(cycle, registry, shown, errors, 422)
        try:
            await services.update_cycle(db_session, cycle, form, registry=registry, actor=identity_of(request))
        except MonitoringError as exc:
            return self._edit_page(cycle, registry, shown, {exc.field: exc.message}, exc.status_code)
        flash(request, _("The cycle is saved; the calendar shows the new deadlines."), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}")

    @post("/{year:int}/open", name="monitoring:open")
    async def open(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Any:
        cycle = await load_cycle(db_session, year)
        try:
            created = await services.open_cycle(
                db_session, cycle, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}", status_code=303)
        flash(request, _("The {year} cycle is open: {n} sections created.").format(year=year, n=created), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}")

    @get("/{year:int}/matrix", name="monitoring:matrix")
    async def matrix(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        year: int,
        country: CountryQ = "",
        size_class: SizeQ = "",
        module: ModuleQ = "",
        status: StatusQ = "",
        number: PageQ = 1,
    ) -> Template:
        registry = registry_of(request)
        cycle = await load_cycle(db_session, year)
        keys = [k for k in services.section_keys(registry) if k in (cycle.required or {})]
        filters = services.MatrixFilters.of(country, size_class, module, status, keys)
        number, size = clamp(number, MATRIX_PAGE_SIZE)
        rows, total = await services.matrix(db_session, cycle, filters, offset=(number - 1) * size, limit=size)
        query = urlencode(filters.query())
        return page(
            "monitoring/admin_matrix.html",
            cycle=cycle,
            rows=Page(rows, total, number, size),
            keys=keys,
            filters=filters,
            base_url=f"/admin/monitoring/{year}/matrix" + (f"?{query}" if query else ""),
            countries=await services.matrix_countries(db_session, cycle),
            section_title=lambda key: services.section_title(key, registry),
            **labels(),
        )

    async def _city_page(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        cycle: MonitoringCycle,
        city_id: UUID,
        *,
        refresh: bool,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
    ) -> Template:
        found = await services.city_in_cycle(db_session, cycle, city_id, registry=registry_of(request), refresh=refresh)
        if found is None or not found.checklist.sections:
            raise NotFoundException(_("This city has no section in the {year} monitoring.").format(year=cycle.year))
        return page(
            "monitoring/admin_city.html",
            status_code,
            cycle=cycle,
            found=found,
            errors=errors or {},
            **labels(),
        )

    @get("/{year:int}/cities/{city_id:uuid}", name="monitoring:admin_city")
    async def city(self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID) -> Template:
        return await self._city_page(request, db_session, await load_cycle(db_session, year), city_id, refresh=False)

    @post("/{year:int}/cities/{city_id:uuid}/check", name="monitoring:admin_check")
    async def check(self, request: AnyRequest, db_session: AsyncSession, year: int, city_id: UUID) -> Any:
        cycle = await load_cycle(db_session, year)
        await self._city_page(request, db_session, cycle, city_id, refresh=True)
        flash(request, _("The automatic checks ran again."), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/cities/{city_id}")

    @post("/{year:int}/sections/{section_id:uuid}/{decision:str}", name="monitoring:decide")
    async def decide(
        self, request: AnyRequest, db_session: AsyncSession, year: int, section_id: UUID, decision: str, data: FormData
    ) -> Any:
        cycle = await load_cycle(db_session, year)
        section = await services.section_of(db_session, cycle, section_id)
        if section is None or decision not in ("validate", "return"):
            raise NotFoundException(_("No such section."))
        form, errors = validate_form(CommentInput, data)
        if form is None:
            return await self._city_page(
                request, db_session, cycle, section.city_id, refresh=False, status_code=422, errors=errors
            )
        try:
            if decision == "validate":
                await services.validate_section(
                    db_session, cycle, section, comment=form.comment, actor=identity_of(request)
                )
            else:
                await services.return_section(
                    db_session,
                    cycle,
                    section,
                    comment=form.comment,
                    actor=identity_of(request),
                    registry=registry_of(request),
                )
        except MonitoringError as exc:
            if exc.field == "comment":
                return await self._city_page(
                    request,
                    db_session,
                    cycle,
                    section.city_id,
                    refresh=False,
                    status_code=422,
                    errors={f"comment-{section.id}": exc.message},
                )
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}/cities/{section.city_id}", status_code=303)
        message = (
            _("The section is validated.") if decision == "validate" else _("The section is returned to the city.")
        )
        flash(request, message, "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/cities/{section.city_id}")

    @post("/{year:int}/remind", name="monitoring:remind")
    async def remind(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Any:
        cycle = await load_cycle(db_session, year)
        try:
            cities, mails = await services.send_reminders(
                db_session, cycle, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}", status_code=303)
        flash(
            request,
            _("Reminders queued: {mails} e-mails to {cities} cities.").format(mails=mails, cities=cities),
            "success",
        )
        return await see_other(db_session, f"/admin/monitoring/{year}")

    @get("/{year:int}/delays", name="monitoring:delays")
    async def delays(self, db_session: AsyncSession, year: int, status: StatusQ = "") -> Template:
        cycle = await load_cycle(db_session, year)
        status = status if status in DELAY_STATUS_LABELS else ""
        return page(
            "monitoring/admin_delays.html",
            cycle=cycle,
            delays=await services.delay_requests(db_session, cycle, status),
            status=status,
            errors={},
            **labels(),
        )

    @post("/{year:int}/delays/{delay_id:uuid}", name="monitoring:decide_delay")
    async def decide_delay(
        self, request: AnyRequest, db_session: AsyncSession, year: int, delay_id: UUID, data: FormData
    ) -> Any:
        cycle = await load_cycle(db_session, year)
        delay = await db_session.get(DelayRequest, delay_id)
        if delay is None or delay.cycle_id != cycle.id:
            raise NotFoundException(_("No such delay request."))
        form, errors = validate_form(DelayDecisionInput, data)
        if form is not None:
            try:
                await services.decide_delay(
                    db_session,
                    cycle,
                    delay,
                    grant=form.decision == "grant",
                    comment=form.comment,
                    actor=identity_of(request),
                )
            except MonitoringError as exc:
                errors = {f"{exc.field}-{delay.id}": exc.message} if exc.status_code == 422 else {"form": exc.message}
        if errors:
            return page(
                "monitoring/admin_delays.html",
                422,
                cycle=cycle,
                delays=await services.delay_requests(db_session, cycle),
                status="",
                errors=errors,
                **labels(),
            )
        flash(request, _("The decision is recorded and sent to the city."), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/delays")

    @get("/{year:int}/notices", name="monitoring:notices")
    async def notices(self, db_session: AsyncSession, year: int) -> Template:
        cycle = await load_cycle(db_session, year)
        return page(
            "monitoring/admin_notices.html",
            cycle=cycle,
            notices=await services.notices(db_session, cycle),
            today=datetime.now(UTC).date(),
            errors={},
            **labels(),
        )

    @post("/{year:int}/notices", name="monitoring:send_notices")
    async def send_notices(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Any:
        cycle = await load_cycle(db_session, year)
        try:
            sent = await services.send_notices(db_session, cycle, actor=identity_of(request))
        except MonitoringError as exc:
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}/notices", status_code=303)
        flash(request, _("Written notices sent: {n}.").format(n=sent), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/notices")

    @post("/{year:int}/notices/{notice_id:uuid}/suspend", name="monitoring:suspend")
    async def suspend(
        self, request: AnyRequest, db_session: AsyncSession, year: int, notice_id: UUID, data: FormData
    ) -> Any:
        cycle = await load_cycle(db_session, year)
        notice = await db_session.get(Notice, notice_id)
        if notice is None or notice.cycle_id != cycle.id:
            raise NotFoundException(_("No such notice."))
        form, errors = validate_form(SuspendInput, data)
        if form is not None:
            try:
                await services.suspend_after_notice(
                    db_session, cycle, notice, confirm=form.confirm, reason=form.reason, actor=identity_of(request)
                )
            except MonitoringError as exc:
                errors = {f"{exc.field}-{notice.id}": exc.message}
        if errors:
            return page(
                "monitoring/admin_notices.html",
                422,
                cycle=cycle,
                notices=await services.notices(db_session, cycle),
                today=datetime.now(UTC).date(),
                errors=errors,
                **labels(),
            )
        flash(request, _("The membership is suspended."), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/notices")

    @get("/{year:int}/close", name="monitoring:close_confirm")
    async def close_confirm(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Template:
        cycle = await load_cycle(db_session, year)
        return page(
            "monitoring/admin_close.html",
            cycle=cycle,
            summary=await services.summary(db_session, cycle, registry_of(request)),
            errors={},
            **labels(),
        )

    @post("/{year:int}/close", name="monitoring:close")
    async def close(self, request: AnyRequest, db_session: AsyncSession, year: int, data: FormData) -> Any:
        cycle = await load_cycle(db_session, year)
        registry = registry_of(request)
        form, errors = validate_form(CloseInput, data)
        try:
            if form is None:
                raise MonitoringError(next(iter(errors.values())), "confirm")
            await services.close_cycle(db_session, cycle, confirm=form.confirm, actor=identity_of(request))
        except MonitoringError as exc:
            return page(
                "monitoring/admin_close.html",
                exc.status_code,
                cycle=cycle,
                summary=await services.summary(db_session, cycle, registry),
                errors={exc.field: exc.message},
                **labels(),
            )
        await reports.compile_report(db_session, cycle, registry=registry, actor=identity_of(request))
        flash(request, _("The {year} cycle is closed and its report compiled.").format(year=year), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}")

    @post("/{year:int}/reopen", name="monitoring:reopen")
    async def reopen(self, request: AnyRequest, db_session: AsyncSession, year: int, data: FormData) -> Any:
        cycle = await load_cycle(db_session, year)
        form, errors = validate_form(ReopenInput, data)
        try:
            if form is None:
                raise MonitoringError(errors.get("reason", _("Give the reason for reopening.")), "reason")
            await services.reopen_cycle(
                db_session, cycle, reason=form.reason, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            return page(
                "monitoring/admin_close.html",
                exc.status_code,
                cycle=cycle,
                summary=await services.summary(db_session, cycle, registry_of(request)),
                errors={exc.field: exc.message},
                **labels(),
            )
        flash(
            request,
            _("The {year} cycle is open again; the reopening is in the audit log.").format(year=year),
            "success",
        )
        return await see_other(db_session, f"/admin/monitoring/{year}")

    async def _report(self, db_session: AsyncSession, year: int) -> MonitoringReport:
        report = await services.report_of(db_session, year)
        if report is None:
            raise NotFoundException(_("The {year} report is not compiled yet.").format(year=year))
        return report

    @get("/{year:int}/report", name="monitoring:admin_report")
    async def report(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Response[str]:
        return report_page(request, await self._report(db_session, year), admin=True)

    @get("/{year:int}/report.pdf", name="monitoring:admin_report_pdf")
    async def report_pdf(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Response[bytes]:
        return await pdf_response(request, await self._report(db_session, year))

    @get("/{year:int}/report.zip", name="monitoring:admin_report_zip")
    async def report_zip(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Response[bytes]:
        return await zip_response(request, db_session, await self._report(db_session, year))

    @post("/{year:int}/report", name="monitoring:compile")
    async def compile(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Any:
        cycle = await load_cycle(db_session, year)
        try:
            await reports.compile_report(db_session, cycle, registry=registry_of(request), actor=identity_of(request))
        except MonitoringError as exc:
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}", status_code=303)
        flash(request, _("The report is compiled."), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}/report")

    @post("/{year:int}/report/publish", name="monitoring:publish")
    async def publish(self, request: AnyRequest, db_session: AsyncSession, year: int) -> Any:
        cycle = await load_cycle(db_session, year)
        report = await self._report(db_session, year)
        try:
            await reports.publish_report(db_session, report, cycle, actor=identity_of(request))
        except MonitoringError as exc:
            flash(request, exc.message, "error")
            return Redirect(f"/admin/monitoring/{year}", status_code=303)
        flash(request, _("The {year} report is published.").format(year=year), "success")
        return await see_other(db_session, f"/admin/monitoring/{year}")


# -- presenting the report ----------------------------------------------------------------------------


def _environment(request: AnyRequest) -> Any:
    engine = request.app.template_engine
    assert engine is not None
    return engine.engine


def report_page(request: AnyRequest, report: MonitoringReport, *, admin: bool) -> Response[str]:
    base = f"/admin/monitoring/{report.year}/" if admin else f"/reports/{report.year}/"
    html = reports.render_report(_environment(request), report, registry_of(request), for_pdf=False, downloads=base)
    return Response(html, media_type="text/html; charset=utf-8")


async def pdf_response(request: AnyRequest, report: MonitoringReport) -> Response[bytes]:
    html = reports.render_report(_environment(request), report, registry_of(request), for_pdf=True)
    try:
        pdf = await reports.render_pdf(html)
    except reports.PdfUnavailable as exc:
        raise HTTPException(
            status_code=503,
            detail=_("The PDF renderer is not installed on this server; print the HTML report instead."),
        ) from exc
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="covenant-monitoring-{report.year}.pdf"'},
    )


async def zip_response(request: AnyRequest, db_session: AsyncSession, report: MonitoringReport) -> Response[bytes]:
    body = await reports.report_zip(db_session, report, registry_of(request))
    return Response(
        body,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="covenant-monitoring-{report.year}-open-data.zip"'},
    )


# -- the city's checklist -------------------------------------------------------------------------------


class CityMonitoring(Controller):
    path = "/cities/{city_id:uuid}/monitoring"
    guards = [city_guard]
    include_in_schema = False

    async def _city(self, db_session: AsyncSession, city_id: UUID) -> City:
        city = await db_session.get(City, city_id)
        if city is None:
            raise NotFoundException(_("No such city."))
        return city

    async def _page(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        city: City,
        cycle: MonitoringCycle,
        status_code: int = 200,
        *,
        errors: dict[str, str] | None = None,
        result: services.Checklist | None = None,
        values: dict[str, Any] | None = None,
    ) -> Template:
        if result is None:
            result = await services.checklist(db_session, cycle, city.id, registry=registry_of(request))
        if not result.sections:
            raise NotFoundException(_("This city has no section in the {year} monitoring.").format(year=cycle.year))
        return page(
            "monitoring/checklist.html",
            status_code,
            city=city,
            cycle=cycle,
            result=result,
            errors=errors or {},
            values=values or {},
            can_submit=identity_of(request).can(CYCLE_SUBMIT, city_id=city.id),
            today=datetime.now(UTC).date(),
            **labels(),
        )

    @get("/", name="monitoring:city_cycles")
    async def cycles(self, db_session: AsyncSession, city_id: UUID) -> Any:
        city = await self._city(db_session, city_id)
        cycles = await services.city_cycles(db_session, city.id)
        return page("monitoring/city_cycles.html", city=city, cycles=cycles, **labels())

    @get("/{year:int}", name="monitoring:checklist")
    async def checklist(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> Template:
        city = await self._city(db_session, city_id)
        return await self._page(request, db_session, city, await load_cycle(db_session, year))

    @post("/{year:int}/submit", name="monitoring:submit", guards=[submit_guard])
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> Any:
        city = await self._city(db_session, city_id)
        cycle = await load_cycle(db_session, year)
        try:
            await services.submit_city(
                db_session, cycle, city.id, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            return await self._page(request, db_session, city, cycle, exc.status_code, errors={exc.field: exc.message})
        flash(request, _("Your {year} monitoring is submitted for validation.").format(year=year), "success")
        return await see_other(db_session, f"/cities/{city.id}/monitoring/{year}")

    @get("/{year:int}/workbook.xlsx", name="monitoring:workbook")
    async def workbook(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int
    ) -> Response[bytes]:
        city = await self._city(db_session, city_id)
        cycle = await load_cycle(db_session, year)
        result = await services.checklist(db_session, cycle, city.id, registry=registry_of(request), refresh=False)
        if not result.sections:
            raise NotFoundException(_("This city has no section in the {year} monitoring.").format(year=year))
        body = await build_workbook(db_session, city, result, settings_of(request).base_url.rstrip("/"))
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{workbook_name(city.id, year)}"'},
        )

    @post("/{year:int}/delay", name="monitoring:request_delay", guards=[submit_guard])
    async def request_delay(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: FormData
    ) -> Any:
        city = await self._city(db_session, city_id)
        cycle = await load_cycle(db_session, year)
        form, errors = validate_form(DelayInput, data)
        if form is not None:
            try:
                await services.request_delay(db_session, cycle, city.id, form, actor=identity_of(request))
            except MonitoringError as exc:
                errors = {exc.field: exc.message}
        if errors:
            return await self._page(request, db_session, city, cycle, 422, errors=errors, values=dict(data))
        flash(request, _("Your delay request is sent to the secretariat."), "success")
        return await see_other(db_session, f"/cities/{city.id}/monitoring/{year}")


async def profile_context(request: AnyRequest, db_session: AsyncSession, city_id: UUID, member: bool) -> dict[str, Any]:
    """What the city's profile shows of the monitoring: its badges (public) and, to its team, the checklist
    of each open cycle (its automatic checks run)."""
    registry = registry_of(request)
    checklists: list[services.Checklist] = []
    if member:
        for cycle in await services.open_cycles(db_session):
            result = await services.checklist(db_session, cycle, city_id, registry=registry)
            if result.sections:
                checklists.append(result)
    return {
        "badges": await services.badges_of(db_session, city_id, registry),
        "monitoring_checklists": checklists,
        "section_status_labels": SECTION_STATUS_LABELS,
    }


# -- public: Covenant in figures, published reports -----------------------------------------------------


@get("/figures", name="monitoring:figures", include_in_schema=False)
async def figures_page(request: AnyRequest, db_session: AsyncSession) -> Template:
    data = await reports.public_figures(db_session, registry_of(request))
    from covenant.monitoring import charts

    chart_set = {
        "over_time": charts.column_chart(
            [(str(p["year"]), p["signatories"]) for p in data["over_time"]],
            title=_("Active signatories, by year of adhesion (cumulative)"),
        ),
        "countries": charts.bar_chart(
            [(country_name(c["country"]), c["signatories"]) for c in data["by_country"]],
            title=_("Active signatories by country"),
        ),
        "sizes": charts.bar_chart(
            [(_(SIZE_LABELS[s["size_class"]]), s["signatories"]) for s in data["by_size_class"]],
            title=_("Active signatories by size class"),
        ),
        "submission": charts.bar_chart(
            [(s["title"], s["share_done"]) for s in (data["submission"] or {}).get("sections", [])],
            title=_("Share of signatories that submitted each section"),
            percent=True,
            maximum=1.0,
        ),
    }
    return page("monitoring/figures.html", data=data, charts=chart_set, **labels())


@get(["/api/v1/figures", "/figures.json"], name="monitoring:figures_json", tags=["Monitoring"], cache=False)
async def figures_json(request: AnyRequest, db_session: AsyncSession) -> dict[str, Any]:
    """Covenant in figures: active signatories only (JSON)."""
    return await reports.public_figures(db_session, registry_of(request))


@get("/figures.csv", name="monitoring:figures_csv", include_in_schema=False)
async def figures_csv(request: AnyRequest, db_session: AsyncSession) -> Response[bytes]:
    body = reports.figures_csv(await reports.public_figures(db_session, registry_of(request)))
    return Response(
        body.encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="covenant-in-figures.csv"'},
    )


async def _published(db_session: AsyncSession, year: int) -> MonitoringReport:
    report = await services.report_of(db_session, year)
    if report is None or report.published_at is None:
        raise NotFoundException(_("No published report for {year}.").format(year=year))
    return report


@get("/reports", name="monitoring:reports", include_in_schema=False)
async def public_reports(db_session: AsyncSession) -> Template:
    return page("monitoring/reports.html", reports=await reports.published_reports(db_session))


@get("/reports/{year:int}", name="monitoring:public_report", include_in_schema=False)
async def public_report(request: AnyRequest, db_session: AsyncSession, year: int) -> Response[str]:
    return report_page(request, await _published(db_session, year), admin=False)


@get("/reports/{year:int}/report.pdf", name="monitoring:public_report_pdf", include_in_schema=False)
async def public_report_pdf(request: AnyRequest, db_session: AsyncSession, year: int) -> Response[bytes]:
    return await pdf_response(request, await _published(db_session, year))


@get("/reports/{year:int}/report.zip", name="monitoring:public_report_zip", include_in_schema=False)
async def public_report_zip(request: AnyRequest, db_session: AsyncSession, year: int) -> Response[bytes]:
    return await zip_response(request, db_session, await _published(db_session, year))


# -- JSON API -------------------------------------------------------------------------------------------


class MonitoringApi(Controller):
    path = "/api/v1/monitoring"
    tags = ["Monitoring"]
    guards = [manage_guard]

    @get("/cycles", name="api:monitoring_cycles", cache=False)
    async def list_cycles(self, db_session: AsyncSession) -> list[CycleOut]:
        """Every cycle, the latest year first (administrators)."""
        reports_by_year = {r.year: r for r in await db_session.scalars(select(MonitoringReport))}
        return [cycle_out(c, reports_by_year.get(c.year)) for c in await services.all_cycles(db_session)]

    @post("/cycles", name="api:monitoring_create", status_code=201)
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: CycleInput) -> CycleOut:
        """Create a year's cycle (a draft; its deadlines go to the calendar). 422 when the year has one."""
        try:
            cycle = await services.create_cycle(
                db_session, data, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return cycle_out(cycle)

    @get("/cycles/{year:int}", name="api:monitoring_cycle", cache=False)
    async def detail(self, db_session: AsyncSession, year: int) -> CycleOut:
        cycle = await load_cycle(db_session, year)
        return cycle_out(cycle, await services.report_of(db_session, year))

    @post("/cycles/{year:int}/open", name="api:monitoring_open", status_code=200)
    async def open(self, request: AnyRequest, db_session: AsyncSession, year: int) -> CycleOut:
        """Open the cycle: every active signatory's sections, then ``cycle.opened``."""
        cycle = await load_cycle(db_session, year)
        try:
            await services.open_cycle(db_session, cycle, registry=registry_of(request), actor=identity_of(request))
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return cycle_out(cycle)

    @post("/cycles/{year:int}/close", name="api:monitoring_close", status_code=200)
    async def close(self, request: AnyRequest, db_session: AsyncSession, year: int, data: CloseInput) -> CycleOut:
        """Close the cycle (``{"confirm": true}``) and compile its report; ``cycle.closed`` follows."""
        cycle = await load_cycle(db_session, year)
        try:
            await services.close_cycle(db_session, cycle, confirm=data.confirm, actor=identity_of(request))
            report = await reports.compile_report(
                db_session, cycle, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return cycle_out(cycle, report)

    @post("/cycles/{year:int}/reopen", name="api:monitoring_reopen", status_code=200)
    async def reopen(self, request: AnyRequest, db_session: AsyncSession, year: int, data: ReopenInput) -> CycleOut:
        """Reopen a closed cycle (audited, with its reason); refused once its report is published."""
        cycle = await load_cycle(db_session, year)
        try:
            await services.reopen_cycle(
                db_session, cycle, reason=data.reason, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return cycle_out(cycle)

    @get("/cycles/{year:int}/summary", name="api:monitoring_summary", cache=False)
    async def summary(self, request: AnyRequest, db_session: AsyncSession, year: int) -> SummaryOut:
        """Progress of the whole cycle, per section and per country."""
        cycle = await load_cycle(db_session, year)
        found = await services.summary(db_session, cycle, registry_of(request))

        def line(p: services.ProgressLine) -> ProgressLineOut:
            return ProgressLineOut(key=p.key, sections=p.sections, done=p.done, by_status=p.by_status)

        return SummaryOut(
            year=year,
            status=cycle.status,
            sections=found.total.sections,
            done=found.total.done,
            share_done=round(found.total.share, 4),
            by_status=found.total.by_status,
            by_module=[line(m) for m in found.by_module],
            by_country=[line(c) for c in found.by_country],
            pending_delays=found.pending_delays,
        )

    @get("/cycles/{year:int}/matrix", name="api:monitoring_matrix", cache=False)
    async def matrix(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        year: int,
        country: CountryQ = "",
        size_class: SizeQ = "",
        module: ModuleQ = "",
        status: StatusQ = "",
        number: PageQ = 1,
        size: PageSizeQ = MATRIX_PAGE_SIZE,
    ) -> MatrixOut:
        """Cities by sections, filtered by country, size class, section and status; one page at a time."""
        cycle = await load_cycle(db_session, year)
        keys = [k for k in services.section_keys(registry_of(request)) if k in (cycle.required or {})]
        filters = services.MatrixFilters.of(country, size_class, module, status, keys)
        number, size = clamp(number, size)
        rows, total = await services.matrix(db_session, cycle, filters, offset=(number - 1) * size, limit=size)
        result = Page(rows, total, number, size)
        return MatrixOut(
            items=[
                MatrixRowOut(
                    city_id=r.city_id,
                    name=r.name,
                    country_code=r.country_code,
                    size_class=r.size_class,
                    sections={
                        k: MatrixCellOut(id=c.id, status=c.status, completeness=c.completeness)
                        for k, c in r.sections.items()
                    },
                )
                for r in rows
            ],
            total=total,
            page=number,
            page_size=size,
            pages=result.pages,
            modules=keys,
        )

    @post("/cycles/{year:int}/sections/{section_id:uuid}/validate", name="api:monitoring_validate", status_code=200)
    async def validate(
        self, request: AnyRequest, db_session: AsyncSession, year: int, section_id: UUID, data: CommentInput
    ) -> SectionOut:
        """Validate a submitted section (409 otherwise); the city earns the section's badge."""
        return await self._decide(request, db_session, year, section_id, data, validate=True)

    @post("/cycles/{year:int}/sections/{section_id:uuid}/return", name="api:monitoring_return", status_code=200)
    async def return_(
        self, request: AnyRequest, db_session: AsyncSession, year: int, section_id: UUID, data: CommentInput
    ) -> SectionOut:
        """Return a submitted section with a comment (required): it reopens for the city."""
        return await self._decide(request, db_session, year, section_id, data, validate=False)

    async def _decide(
        self,
        request: AnyRequest,
        db_session: AsyncSession,
        year: int,
        section_id: UUID,
        data: CommentInput,
        *,
        validate: bool,
    ) -> SectionOut:
        cycle = await load_cycle(db_session, year)
        section = await services.section_of(db_session, cycle, section_id)
        if section is None:
            raise NotFoundException(_("No such section."))
        registry = registry_of(request)
        try:
            if validate:
                await services.validate_section(
                    db_session, cycle, section, comment=data.comment, actor=identity_of(request)
                )
            else:
                await services.return_section(
                    db_session, cycle, section, comment=data.comment, actor=identity_of(request), registry=registry
                )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return section_out(services._view(section, registry))

    @post("/cycles/{year:int}/reminders", name="api:monitoring_remind", status_code=200)
    async def remind(self, request: AnyRequest, db_session: AsyncSession, year: int) -> dict[str, int]:
        """Remind now every city with incomplete sections (and only those)."""
        cycle = await load_cycle(db_session, year)
        try:
            cities, mails = await services.send_reminders(
                db_session, cycle, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return {"cities": cities, "mails": mails}

    @post("/cycles/{year:int}/notices", name="api:monitoring_notices", status_code=200)
    async def notices(self, request: AnyRequest, db_session: AsyncSession, year: int) -> dict[str, int]:
        """After the validation deadline: a written notice to every city that has not submitted."""
        cycle = await load_cycle(db_session, year)
        try:
            sent = await services.send_notices(db_session, cycle, actor=identity_of(request))
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return {"notices": sent}

    @post("/cycles/{year:int}/delays/{delay_id:uuid}", name="api:monitoring_decide_delay", status_code=200)
    async def decide_delay(
        self, request: AnyRequest, db_session: AsyncSession, year: int, delay_id: UUID, data: DelayDecisionInput
    ) -> DelayOut:
        """Grant or refuse a delay request (a refusal needs a comment)."""
        cycle = await load_cycle(db_session, year)
        delay = await db_session.get(DelayRequest, delay_id)
        if delay is None or delay.cycle_id != cycle.id:
            raise NotFoundException(_("No such delay request."))
        try:
            await services.decide_delay(
                db_session,
                cycle,
                delay,
                grant=data.decision == "grant",
                comment=data.comment,
                actor=identity_of(request),
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return delay_out(delay)

    @post("/cycles/{year:int}/report", name="api:monitoring_compile", status_code=200)
    async def compile(self, request: AnyRequest, db_session: AsyncSession, year: int) -> dict[str, Any]:
        """Compile the year's report again (until it is published)."""
        cycle = await load_cycle(db_session, year)
        try:
            report = await reports.compile_report(
                db_session, cycle, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return {"year": year, "figures": report.figures, "sections": report.sections}

    @post("/cycles/{year:int}/report/publish", name="api:monitoring_publish", status_code=200)
    async def publish(self, request: AnyRequest, db_session: AsyncSession, year: int) -> CycleOut:
        """Publish the report of a closed cycle."""
        cycle = await load_cycle(db_session, year)
        report = await services.report_of(db_session, year)
        if report is None:
            raise NotFoundException(_("The {year} report is not compiled yet.").format(year=year))
        try:
            await reports.publish_report(db_session, report, cycle, actor=identity_of(request))
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return cycle_out(cycle, report)


def delay_out(delay: DelayRequest) -> DelayOut:
    return DelayOut(
        id=delay.id,
        city_id=delay.city_id,
        requested_until=delay.requested_until,
        reason=delay.reason,
        status=delay.status,
        decision_comment=delay.decision_comment,
    )


class CityMonitoringApi(Controller):
    path = "/api/v1/cities/{city_id:uuid}/monitoring"
    tags = ["Monitoring"]
    guards = [city_guard]

    @get("/{year:int}", name="api:monitoring_checklist", cache=False)
    async def checklist(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> ChecklistOut:
        """The city's checklist for the year, after its automatic checks (the city's team only)."""
        cycle = await load_cycle(db_session, year)
        result = await services.checklist(db_session, cycle, city_id, registry=registry_of(request))
        if not result.sections:
            raise NotFoundException(_("This city has no section in the {year} monitoring.").format(year=year))
        return checklist_out(result)

    @post("/{year:int}/submit", name="api:monitoring_submit", guards=[submit_guard], status_code=200)
    async def submit(self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int) -> ChecklistOut:
        """Submit every open section for validation; 422 listing what is missing when one is incomplete."""
        cycle = await load_cycle(db_session, year)
        try:
            result = await services.submit_city(
                db_session, cycle, city_id, registry=registry_of(request), actor=identity_of(request)
            )
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return checklist_out(result)

    @post("/{year:int}/delay-requests", name="api:monitoring_delay", guards=[submit_guard], status_code=201)
    async def request_delay(
        self, request: AnyRequest, db_session: AsyncSession, city_id: UUID, year: int, data: DelayInput
    ) -> DelayOut:
        """Ask for more time, before the deadline (422 after it, or for a date that does not extend it)."""
        cycle = await load_cycle(db_session, year)
        try:
            delay = await services.request_delay(db_session, cycle, city_id, data, actor=identity_of(request))
        except MonitoringError as exc:
            raise api_error(exc) from exc
        return delay_out(delay)


route_handlers: list[ControllerRouterHandler] = [
    MonitoringAdmin,
    CityMonitoring,
    figures_page,
    figures_json,
    figures_csv,
    public_reports,
    public_report,
    public_report_pdf,
    public_report_zip,
    MonitoringApi,
    CityMonitoringApi,
]
