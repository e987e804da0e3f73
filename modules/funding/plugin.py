"""The module's plug-in: what Action 2 (EU funding and advocacy) contributes to the platform."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.i18n import N_
from covenant.plugins import ActionModule, CycleSection, NavigationEntry, Permission, ReportSection, ScheduledJob
from modules.funding import cycle, handlers, services, web
from modules.funding.demo import load_demo
from modules.funding.events import CallClosing, CallOpened
from modules.funding.models import Application, ApplicationStatus

HERE = Path(__file__).parent


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """In progress once the city tracks an application; complete when each has reached a decision or submission."""
    rows = list(await session.scalars(select(Application).where(Application.city_id == city_id)))
    link = f"/m/funding/cities/{city_id}/applications"
    if not rows:
        return CycleSection("not_started", 0, link)
    settled = {
        ApplicationStatus.submitted,
        ApplicationStatus.awarded,
        ApplicationStatus.rejected,
        ApplicationStatus.withdrawn,
    }
    done = sum(1 for a in rows if a.status in settled)
    return CycleSection("in_progress", round(100 * done / len(rows)), link)


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    figures, tables = await services.uptake(session, year)
    return ReportSection(title="EU funding mobilised for security in public spaces", figures=figures, tables=tables)


async def announce_calls(session: AsyncSession) -> None:
    """Hourly: announce the calls that opened and the deadlines that come near (each once)."""
    await services.send_notices(session)


module = ActionModule(
    slug="funding",
    title=N_("EU funding and advocacy"),
    action=2,
    summary=N_(
        "EU funding opportunities matched to cities' commitments and gaps, the funding pipeline "
        "and the advocacy register."
    ),
    route_handlers=web.route_handlers,
    api_route_handlers=web.api_route_handlers,
    template_dir=HERE / "templates",
    locale_dir=HERE / "locale",
    publishes=[CallOpened, CallClosing],
    subscriptions={
        "commitment.published": handlers.match_commitment,
        "assessment.submitted": handlers.match_assessment,
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[NavigationEntry(N_("EU funding"), "/m/funding/", None)],
    permissions=[
        Permission(web.COSIGN, "Co-sign an advocacy document on behalf of the city", roles=("mayors_office", "admin")),
    ],
    models=["modules.funding.models"],
    cycle_section=cycle_section,
    report_section=report_section,
    demo_data=load_demo,
    scheduled_jobs=[ScheduledJob("funding.notices", timedelta(hours=1), announce_calls)],
)
