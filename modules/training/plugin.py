"""The module's plug-in: what Action 4 contributes to the platform."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from covenant.i18n import N_
from covenant.plugins import ActionModule, NavigationEntry, ScheduledJob
from modules.training import cycle, demo, handlers, services, web
from modules.training.events import SessionEvaluated

HERE = Path(__file__).parent

module = ActionModule(
    slug="training",
    title=N_("Competence-based training"),
    action=4,
    summary=N_(
        "The competence matrix for integrated urban security, curricula, pilot trainings and competence gap analysis."
    ),
    route_handlers=web.route_handlers,
    api_route_handlers=web.api_route_handlers,
    template_dir=HERE / "templates",
    locale_dir=HERE / "locale",
    publishes=[SessionEvaluated],
    subscriptions={
        "cohesion.lessons_published": handlers.add_lessons_to_toolbox,
        "assessment.submitted": handlers.recommend_curricula,
        "city.signed": handlers.offer_pilot_enrolment,
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[NavigationEntry(N_("Training"), "/m/training/", None)],
    models=["modules.training.models"],
    cycle_section=services.cycle_section,
    report_section=services.report_section,
    demo_data=demo.load,
    scheduled_jobs=[ScheduledJob("training.expire_links", timedelta(days=1), services.expire_links)],
)
