"""The expected answer of every route to every visitor, one file per area.

A new route fails ``test_every_route_has_an_expectation`` until its line is added to its area's file (or a
new file is listed in ``AREAS``).
"""

from __future__ import annotations

from tests.platform.security.expectations import ai_review, cohesion, core, funding, practices, training
from tests.platform.security.matrix import Rule

AREAS = (core, funding, ai_review, training, cohesion, practices)

EXPECTATIONS: dict[tuple[str, str], Rule] = {}
for _area in AREAS:
    _overlap = EXPECTATIONS.keys() & _area.EXPECTATIONS.keys()
    assert not _overlap, f"routes listed twice: {sorted(_overlap)}"
    EXPECTATIONS.update(_area.EXPECTATIONS)

PENDING_PREFIXES: tuple[str, ...] = (
    "/admin/monitoring",
    "/api/v1/monitoring",
    "/cities/{city_id:uuid}/monitoring",
    "/api/v1/cities/{city_id:uuid}/monitoring",
    "/reports",
    "/m/assessment",
    "/api/v1/assessment",
    "/static/m/assessment",
)
"""Routes being built while this matrix was written (the yearly monitoring cycle, the assessment module):
their expectations are added when they are integrated — then this tuple goes. Until then they are
reported, not visited."""
