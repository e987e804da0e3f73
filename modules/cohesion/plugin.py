"""The module's plug-in: what Action 5 (social cohesion and security) contributes to the platform."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.i18n import N_
from covenant.plugins import ActionModule, CycleSection, NavigationEntry, ReportSection
from modules.cohesion import cycle, web
from modules.cohesion.demo import load_demo
from modules.cohesion.events import EvaluationCompleted, LessonsPublished
from modules.cohesion.models import Evaluation, Measure

HERE = Path(__file__).parent


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """Mapped measures (50 %), plus a completed evaluation (50 %)."""
    measures = int(
        await session.scalar(select(func.count()).select_from(Measure).where(Measure.city_id == city_id)) or 0
    )
    completed = int(
        await session.scalar(
            select(func.count())
            .select_from(Evaluation)
            .where(Evaluation.city_id == city_id, Evaluation.completed_at.is_not(None))
        )
        or 0
    )
    completeness = (50 if measures else 0) + (50 if completed else 0)
    if completeness == 0:
        return CycleSection(status="not_started", completeness=0, link=f"/m/cohesion/cities/{city_id}/measures")
    return CycleSection(
        status="in_progress" if completeness < 100 else "submitted",
        completeness=completeness,
        link=f"/m/cohesion/cities/{city_id}/measures",
    )


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    rows = (
        await session.execute(
            select(Evaluation.verdict, func.count())
            .where(Evaluation.completed_at.is_not(None))
            .group_by(Evaluation.verdict)
        )
    ).all()
    measures = int(await session.scalar(select(func.count()).select_from(Measure)) or 0)
    return ReportSection(
        title="Social cohesion impact",
        figures={"measures mapped": measures, **{f"verdict: {v}": int(n) for v, n in rows}},
    )


module = ActionModule(
    slug="cohesion",
    title=N_("Social cohesion impact"),
    action=5,
    summary=N_(
        "Measuring the impact of social-cohesion measures on feelings of insecurity, and the Collective Impact method."
    ),
    route_handlers=web.route_handlers,
    api_route_handlers=web.api_route_handlers,
    template_dir=HERE / "templates",
    locale_dir=HERE / "locale",
    publishes=[EvaluationCompleted, LessonsPublished],
    subscriptions={
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[NavigationEntry(N_("Social cohesion"), "/m/cohesion/", None)],
    models=["modules.cohesion.models"],
    cycle_section=cycle_section,
    report_section=report_section,
    demo_data=load_demo,
)
