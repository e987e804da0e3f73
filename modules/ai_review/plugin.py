"""The module's plug-in: what Action 3 contributes to the platform."""

from __future__ import annotations

from pathlib import Path

from covenant.i18n import N_
from covenant.plugins import ActionModule, NavigationEntry
from modules.ai_review import cycle, demo, services, web
from modules.ai_review.events import TechnologyReviewed

HERE = Path(__file__).parent

module = ActionModule(
    slug="ai_review",
    title=N_("AI and surveillance technology review"),
    action=3,
    summary=N_(
        "A public register of the security technologies cities use, reviewed "
        "against the AI Act, the GDPR and the Law Enforcement Directive."
    ),
    route_handlers=web.route_handlers,
    api_route_handlers=web.api_route_handlers,
    template_dir=HERE / "templates",
    locale_dir=HERE / "locale",
    publishes=[TechnologyReviewed],
    subscriptions={
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[
        NavigationEntry(N_("Technology register"), "/m/ai_review/", None),
        NavigationEntry(N_("Technology reviews"), "/m/ai_review/reviews/", "module.review"),
    ],
    models=["modules.ai_review.models"],
    cycle_section=services.cycle_section,
    report_section=services.report_section,
    demo_data=demo.load,
)
