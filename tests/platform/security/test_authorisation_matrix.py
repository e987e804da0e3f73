"""The authorisation matrix (DESIGN.md §4): every route of the app with all six modules, HTML and JSON, every
method, visited as anonymous, a contributor of city A with the module and one without it, the mayor's
office of A, a reviewer of the route's module and an admin — against the resources of city A and of city B.

The route list comes from the app itself, so a new route fails ``test_every_route_has_an_expectation``
until its expected answer is written in ``expectations/``. A visit is *denied* when the answer is 401, 403,
404 (a resource hidden from the visitor) or a redirect to the sign-in page; anything else under 500 means
the guard let it through (an empty form then gets its 400/422, which is fine here).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from covenant.config import Settings
from tests.platform.security.crawl import Crawl, make_app
from tests.platform.security.expectations import EXPECTATIONS
from tests.platform.security.matrix import routes_of


def test_every_route_has_an_expectation() -> None:
    directory = Path(tempfile.mkdtemp(prefix="covenant-routes-"))
    app = make_app(Settings(var_dir=directory, database_url=f"sqlite+aiosqlite:///{directory}/x.db", modules=[]))
    routes = routes_of(app)
    missing = [f"{method} {path}" for method, path in routes if (method, path) not in EXPECTATIONS]
    assert not missing, (
        "routes with no expected answer in tests/platform/security/expectations/ (say who may call them):\n  "
        + "\n  ".join(missing)
    )
    stale = [f"{method} {path}" for method, path in EXPECTATIONS if (method, path) not in routes]
    assert not stale, "expectations for routes that no longer exist:\n  " + "\n  ".join(stale)


def test_every_route_lets_in_exactly_whom_it_should(crawl: Crawl) -> None:
    wrong = []
    for visit in crawl.visits:
        if visit.outcome == "error":
            continue  # reported by the next test
        rule = EXPECTATIONS[(visit.method, visit.template)]
        expected = "allowed" if rule.allows(visit.who, visit.city) else "denied"
        if visit.outcome != expected:
            wrong.append(f"{visit}: expected {expected} ({rule}), got {visit.status}")
    assert crawl.visits, "the crawl visited nothing"
    assert not wrong, f"{len(wrong)} answers differ from the matrix:\n  " + "\n  ".join(wrong)


def test_no_route_answers_with_a_server_error(crawl: Crawl) -> None:
    broken = [f"{visit}: {visit.status} {visit.problem}" for visit in crawl.visits + crawl.extra if visit.status >= 500]
    assert not broken, "\n  ".join(broken)


def test_every_visitor_and_both_cities_were_tried(crawl: Crawl) -> None:
    """The matrix is only as good as its coverage: each listed route was visited by every visitor, and each
    route naming a city's resource for both cities."""
    seen: dict[tuple[str, str], set[tuple[str, object]]] = {}
    for visit in crawl.visits:
        seen.setdefault((visit.method, visit.template), set()).add((visit.who, visit.city))
    assert set(seen) == {key for key in EXPECTATIONS if key in crawl.routes}
    for key, pairs in seen.items():
        cities = {city for _who, city in pairs}
        assert len(pairs) == 6 * len(cities), key
