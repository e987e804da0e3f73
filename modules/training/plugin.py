"""The module's plug-in: what Action 4 contributes to the platform."""

from __future__ import annotations

from pathlib import Path

from covenant.i18n import N_
from covenant.plugins import ActionModule, NavigationEntry
from modules.training import demo, handlers, services, web
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
    },
    navigation=[NavigationEntry(N_("Training"), "/m/training/", None)],
    models=["modules.training.models"],
    cycle_section=services.cycle_section,
    report_section=services.report_section,
    demo_data=demo.load,
)
