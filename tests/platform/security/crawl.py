"""One crawl of the whole app per backend, shared by the security tests: every route, as every visitor, for
city A and city B; the same unsafe requests without a CSRF token; a few extra public pages. Each answer is
kept as the facts the tests check (status, headers, what the body holds), not the body itself."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant.app import create_app
from covenant.config import Settings
from covenant.db import create_engine, session_factory
from covenant.plugins import ActionModule, ModuleRegistry
from tests.platform.security.expectations import EXPECTATIONS
from tests.platform.security.matrix import (
    VISITORS,
    City,
    Visitors,
    fill,
    names_a_city,
    outcome,
    rolled_back,
    routes_of,
)
from tests.platform.security.world import RAW_MARKER, World, build_world

ESCAPED = re.compile(r"&lt;script&gt;x\((\d+)\)")


def all_modules() -> list[ActionModule]:
    from modules.ai_review.plugin import module as ai_review
    from modules.assessment.plugin import module as assessment
    from modules.cohesion.plugin import module as cohesion
    from modules.funding.plugin import module as funding
    from modules.practices.plugin import module as practices
    from modules.training.plugin import module as training

    return [funding, ai_review, training, cohesion, practices, assessment]


def make_app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry(all_modules()), embedded_worker=False)


@dataclass(frozen=True)
class Visit:
    method: str
    template: str
    url: str
    who: str
    city: City
    status: int
    headers: dict[str, str]
    outcome: str
    html: bool
    raw_payload: bool
    escaped: frozenset[int]
    problem: str = ""
    """The start of a 5xx body, to tell what broke."""

    def __str__(self) -> str:
        return f"{self.method} {self.url} as {self.who}" + (f" (city {self.city})" if self.city else "")


@dataclass
class Crawl:
    world: World
    routes: list[tuple[str, str]]
    visits: list[Visit] = field(default_factory=list)
    """Every route in the expectations, as every visitor, for each city it concerns."""
    without_csrf: list[Visit] = field(default_factory=list)
    """Every unsafe method of every page route, sent by a signed-in admin without the CSRF token."""
    extra: list[Visit] = field(default_factory=list)
    """Public pages of published resources, for the payload checks."""


def _visit(method: str, template: str, url: str, who: str, city: City, response: Any) -> Visit:
    content_type = response.headers.get("content-type", "")
    html = content_type.startswith("text/html")
    body = response.text if html or response.status_code >= 500 else ""
    return Visit(
        method=method,
        template=template,
        url=url,
        who=who,
        city=city,
        status=response.status_code,
        headers={k.lower(): v for k, v in response.headers.items()},
        outcome=outcome(response),
        html=html,
        raw_payload=html and RAW_MARKER in body,
        escaped=frozenset(int(n) for n in ESCAPED.findall(body)) if html else frozenset(),
        problem=body[:300] if response.status_code >= 500 else "",
    )


async def run_crawl(settings: Settings) -> Crawl:
    app = make_app(settings)
    # The app runs on the test client's own event loop: the world is built with an engine of this one.
    engine = create_engine(settings)
    try:
        sessions = session_factory(engine)
        world = await build_world(sessions, settings)
        crawl = Crawl(world, routes_of(app))
        async with AsyncTestClient(app=app) as client:
            visitors = Visitors(client, world)
            await visitors.prepare(settings.resolved_secret_key(), sessions)
            await _visit_all(crawl, app, client, visitors)
    finally:
        await engine.dispose()
    return crawl


async def _visit_all(crawl: Crawl, app: Litestar, client: AsyncTestClient[Litestar], visitors: Visitors) -> None:
    world = crawl.world
    with rolled_back(app, client) as reset:
        for method, template in crawl.routes:
            if (method, template) not in EXPECTATIONS:
                continue
            for city in ("A", "B") if names_a_city(template) else (None,):
                url = fill(template, world, city)
                for who in VISITORS:
                    response = await visitors.request(who, method, template, url)
                    reset()
                    crawl.visits.append(_visit(method, template, url, who, city, response))
                if method not in ("GET", "HEAD") and not template.startswith("/api/"):
                    response = await visitors.request("admin", method, template, url, csrf=False)
                    reset()
                    crawl.without_csrf.append(_visit(method, template, url, "admin", city, response))
        for template, url in world.extra_pages():
            for who in ("anonymous", "admin"):
                response = await visitors.request(who, "GET", template, url)
                crawl.extra.append(_visit("GET", template, url, who, None, response))
