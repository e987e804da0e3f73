"""The expected answer of every route to every visitor, one file per area.

A new route fails ``test_every_route_has_an_expectation`` until its line is added to its area's file (or a
new file is listed in ``AREAS``).
"""

from __future__ import annotations

from tests.platform.security.expectations import (
    ai_review,
    assessment,
    cohesion,
    core,
    funding,
    monitoring,
    practices,
    training,
)
from tests.platform.security.matrix import Rule

AREAS = (core, monitoring, funding, ai_review, training, cohesion, practices, assessment)

EXPECTATIONS: dict[tuple[str, str], Rule] = {}
for _area in AREAS:
    _overlap = EXPECTATIONS.keys() & _area.EXPECTATIONS.keys()
    assert not _overlap, f"routes listed twice: {sorted(_overlap)}"
    EXPECTATIONS.update(_area.EXPECTATIONS)
