"""The module's plug-in: what Action 1 (the self-assessment framework, its survey and benchmarking) contributes.

``cycle.section_submitted`` (``covenant.monitoring.events.SectionSubmitted``) is recorded on submission but not
listed in ``publishes``: the core owns that event, and the catalogue refuses an event published by two parts.
"""

from __future__ import annotations

from pathlib import Path

from covenant.i18n import N_
from covenant.plugins import ActionModule, NavigationEntry
from modules.assessment import cli, cycle, demo, handlers, services, web, web_benchmark
from modules.assessment.events import AssessmentSubmitted

HERE = Path(__file__).parent

module = ActionModule(
    slug="assessment",
    title=N_("Self-assessment and benchmarking"),
    action=1,
    summary=N_(
        "A self-assessment framework for urban authorities of every size: an online survey, a composite-indicator "
        "engine and a peer-benchmarking dashboard that compares without ranking."
    ),
    route_handlers=[*web.route_handlers, *web_benchmark.route_handlers],
    api_route_handlers=[*web.api_route_handlers, *web_benchmark.api_route_handlers],
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    locale_dir=HERE / "locale",
    publishes=[AssessmentSubmitted],
    subscriptions={
        **handlers.SUBSCRIPTIONS,
        "cycle.opened": cycle.open_monitoring_year,
        "cycle.closed": cycle.close_monitoring_year,
    },
    navigation=[
        NavigationEntry(N_("Self-assessment"), "/m/assessment/", None),
        NavigationEntry(N_("Assessment frameworks"), "/m/assessment/admin/frameworks", "admin"),
        NavigationEntry(N_("Assessment pilot report"), "/m/assessment/admin/pilot", "admin"),
    ],
    models=["modules.assessment.models"],
    cycle_section=services.cycle_section,
    report_section=services.report_section,
    demo_data=demo.load_demo,
    commands=cli.commands,
)

__all__ = ["module"]
