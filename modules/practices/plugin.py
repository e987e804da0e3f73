"""The module's plug-in: what Action 6 contributes to the platform."""

from __future__ import annotations

from pathlib import Path

from covenant.accounts.permissions import MODULE_REVIEW
from covenant.i18n import N_
from covenant.plugins import ActionModule, NavigationEntry
from modules.practices import cycle, demo, handlers, services, web
from modules.practices.events import FichePublished

HERE = Path(__file__).parent

module = ActionModule(
    slug="practices",
    title=N_("Security by design good practices"),
    action=6,
    summary=N_("The good-practice library: visual before/after case studies, rules of thumb and peer recommendations."),
    route_handlers=web.route_handlers,
    api_route_handlers=web.api_route_handlers,
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    locale_dir=HERE / "locale",
    publishes=[FichePublished],
    subscriptions={
        "city.signed": handlers.invite_new_signatory,
        "assessment.submitted": handlers.recommend_after_assessment,
        "commitment.published": handlers.link_commitment_fiches,
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[
        NavigationEntry(N_("Good practices"), "/m/practices/", None),
        NavigationEntry(N_("Rules of thumb"), "/m/practices/rules", None),
        NavigationEntry(N_("Fiches to review"), "/m/practices/review", MODULE_REVIEW),
    ],
    models=["modules.practices.models"],
    cycle_section=services.cycle_section,
    report_section=services.report_section,
    demo_data=demo.load_demo,
)

__all__ = ["module"]
