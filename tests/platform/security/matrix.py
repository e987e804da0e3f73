"""The authorisation matrix: who may call which route, the visitors, and how a route is visited.

Expectations live in ``expectations/`` (one file per area) as ``{(METHOD, path template): rule}``; a rule says,
for each visitor and each city (A: the visitors' own city, B: another one, None: the route names no city's
resource), whether the route must let them through. The shorthands read like DESIGN.md §4.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.platform.security.world import MODULES, YEAR, World

City = Literal["A", "B"] | None
VISITORS: tuple[str, ...] = ("anonymous", "contributor", "contributor_without", "mayor", "reviewer", "admin")
"""contributor: of city A, for every module; contributor_without: of city A, for another module only;
mayor: the mayor's office of city A; reviewer: of the route's module (of practices for core routes)."""

SKIPPED_METHODS = frozenset({"OPTIONS"})
"""Litestar answers OPTIONS itself (the allowed methods), with no data: not a door to check."""


@dataclass(frozen=True)
class Rule:
    name: str
    allows: Callable[[str, City], bool]

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} | {other.name}", lambda who, city: self.allows(who, city) or other.allows(who, city))

    def __repr__(self) -> str:
        return self.name


PUBLIC = Rule("PUBLIC", lambda who, city: True)
SIGNED_IN = Rule("SIGNED_IN", lambda who, city: who != "anonymous")
ADMIN = Rule("ADMIN", lambda who, city: who == "admin")
NOBODY_BUT_ADMIN = ADMIN


def MAYOR() -> Rule:
    """The mayor's office of the city (admins too)."""
    return Rule("MAYOR", lambda who, city: who == "admin" or (who == "mayor" and city in ("A", None)))


def CITY_EDITOR(module: str | None = None) -> Rule:
    """Who enters the city's data in ``module``: its contributors for that module, its mayor's office, admins.
    With no module: any contributor of the city."""

    def allows(who: str, city: City) -> bool:
        if who == "admin":
            return True
        if city not in ("A", None):
            return False
        if who in ("mayor", "contributor"):
            return True
        return who == "contributor_without" and module is None

    return Rule(f"CITY_EDITOR({module or ''})", allows)


def CITY_MEMBER() -> Rule:
    """Anyone holding a role in the city (whatever the module), and admins."""
    return Rule(
        "CITY_MEMBER",
        lambda who, city: (
            who == "admin" or (city in ("A", None) and who in ("mayor", "contributor", "contributor_without"))
        ),
    )


def REVIEWER(module: str) -> Rule:
    """The module's reviewers, across cities, and admins."""
    return Rule(f"REVIEWER({module})", lambda who, city: who in ("reviewer", "admin"))


def ONLY(*visitors: str, cities: Iterable[City] = ("A", "B", None)) -> Rule:
    """An explicit list, for the few routes no shorthand describes."""
    allowed_cities = tuple(cities)
    return Rule(
        f"ONLY({', '.join(visitors)}; {allowed_cities})", lambda who, city: who in visitors and city in allowed_cities
    )


# -- the route table --------------------------------------------------------------------------------


def destructive(method: str, path: str) -> bool:
    """Deletions remove files, which no database rollback brings back: they are visited last."""
    return method == "DELETE" or path.endswith(("/delete", "/remove"))


def routes_of(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers, OPTIONS aside; deletions last."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", None) or ():
                if method not in SKIPPED_METHODS:
                    found.add((method, route.path))
    return sorted(found, key=lambda key: (destructive(*key), key[1], key[0]))


def module_of(path: str) -> str | None:
    match = re.match(r"^/(?:m|api/v1|static/m)/([a-z_]+)", path)
    return match.group(1) if match and match.group(1) in MODULES else None


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
CITY_PARAMS = frozenset(
    {
        "city_id",
        "commitment_id",
        "municipality_id",
        "application_id",
        "technology_id",
        "curriculum_id",
        "assessment_id",
        "measure_id",
        "initiative_id",
        "board_id",
        "entry_id",
        "fiche_id",
        "image_id",
        "registration_id",
        "deadline_id",
    }
)


def names_a_city(path: str) -> bool:
    """Whether the path holds an id of one city's resource (then it is visited for city A and city B)."""
    params = set(PARAM.findall(path))
    if params & CITY_PARAMS:
        return True
    if "grant_id" in params and not path.startswith("/admin/users"):
        return True
    if "session_id" in params and "/training/" in path:
        return True
    if "document_id" in params and "/practices/" in path:
        return True
    return "token" in params and "/training/" in path


def fill(path: str, world: World, city: City) -> str:
    """The path with real ids: those of the city's resources, or of shared ones."""
    ids = world.ids[world.a if city != "B" else world.b]
    shared = world.shared

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "session_id":
            return str(ids["training_session_id"] if "/training/" in path else shared["convention_session_id"])
        if name == "document_id":
            return str(shared["advocacy_id"] if "/funding/" in path else ids["document_id"])
        if name == "year":
            if path.startswith("/reports/"):
                return str(shared["report_year"])  # the published report
            if "/ai_review/" in path or "/monitoring" in path or "/assessment/" in path:
                return str(YEAR)
            return str(shared["year"])
        if name == "decision":
            return "validate"
        if name == "grant_id":
            return str(shared["user_grant_id"] if path.startswith("/admin/users") else ids["grant_id"])
        if name == "token":
            if path.startswith("/password/reset"):
                return "not-a-reset-token"
            return str(ids["self_token"] if "/self/" in path else ids["questionnaire_token"])
        if name == "action":
            return "suspend"
        if name == "key":
            return str(shared["glossary_key"])
        if name == "feed":
            return f"{shared['feed']}.ics"
        if name == "file_path":
            if "/static/m/" in path:
                return "survey.js" if "/assessment/" in path else "practices.css"
            return "covenant.css"
        if name == "path":
            return "swagger"  # the viewers' catch-all serves nothing else
        if name in ids:
            return str(ids[name])
        if name in shared:
            return str(shared[name])
        raise KeyError(f"no value for path parameter {name!r} in {path}")

    return PARAM.sub(value, path)


# -- visiting ----------------------------------------------------------------------------------------


def outcome(response: Any) -> Literal["allowed", "denied", "error"]:
    """Denied: 401, 403, 404 (a resource hidden from the visitor), or sent to sign in; errors: 5xx."""
    if response.status_code >= 500:
        return "error"
    if response.status_code in (401, 403, 404):
        return "denied"
    if response.status_code in (302, 303, 307) and response.headers.get("location", "").startswith("/login?next="):
        return "denied"
    return "allowed"


@contextmanager
def rolled_back(app: Litestar, client: AsyncTestClient[Litestar]) -> Iterator[Callable[[], None]]:
    """Runs the app's sessions inside one connection's transaction; ``reset()`` rolls back everything the
    last request wrote, so every visit sees the same seeded world whatever the one before did.

    Sessions join that transaction with savepoints (their commits become releases). SQLite's driver needs
    its own BEGIN for savepoints to work (SQLAlchemy's documented recipe). The test client runs the app on
    its own event loop (a portal thread): the connection is opened and driven there too.
    """
    portal = client.blocking_portal
    engine = app.state.engine
    state: dict[str, Any] = {}

    async def open_connection() -> None:
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _no_driver_transactions)
            event.listen(engine.sync_engine, "begin", _begin)
        await engine.dispose()
        state["connection"] = await engine.connect()
        state["transaction"] = await state["connection"].begin()

    async def roll_back(again: bool) -> None:
        await state["transaction"].rollback()
        if again:
            state["transaction"] = await state["connection"].begin()
        else:
            await state["connection"].close()
            await engine.dispose()

    portal.call(open_connection)
    maker = async_sessionmaker(
        bind=state["connection"], expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    swapped: dict[str, Any] = {}
    for key, current in list(app.state.dict().items()):
        if isinstance(current, async_sessionmaker):
            swapped[key] = current
            app.state[key] = maker
    # The event runtime applies replayed dead letters with the sessions it was given at start-up.
    holders = [app.state.bus, getattr(app.state.bus, "_inline", None)]
    attributes = [
        (holder, name, value)
        for holder in holders
        if holder is not None
        for name, value in vars(holder).items()
        if isinstance(value, async_sessionmaker)
    ]
    for holder, name, _value in attributes:
        setattr(holder, name, maker)
    try:
        yield lambda: portal.call(roll_back, True)
    finally:
        for key, original in swapped.items():
            app.state[key] = original
        for holder, name, value in attributes:
            setattr(holder, name, value)
        portal.call(roll_back, False)


def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


async def session_cookie(secret_key: str, sessions: async_sessionmaker[AsyncSession], user_id: UUID) -> str:
    """The signed cookie of a fresh session for ``user_id`` (as signing in would set it)."""
    from covenant.accounts import services as accounts
    from covenant.accounts.models import User
    from covenant.db import transaction

    async with transaction(sessions) as session:
        user = await session.get(User, user_id)
        assert user is not None
        token = await accounts.start_session(session, user, ip="testclient", user_agent="matrix")
    return accounts.sign(token, secret_key)


class Visitors:
    """One test client, worn in turn by each visitor: their cookies (session, CSRF) and their API token."""

    def __init__(self, client: AsyncTestClient[Litestar], world: World) -> None:
        self.client = client
        self.world = world
        self.jars: dict[str, httpx.Cookies] = {}

    async def prepare(self, secret_key: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Signs everyone in (with ``sessions``, of the test's own engine) and fetches their CSRF cookie."""
        from covenant.accounts.services import SESSION_COOKIE

        for key, person in [("anonymous", None), *self.world.people.items()]:
            jar = httpx.Cookies()
            if person is not None:
                jar.set(SESSION_COOKIE, await session_cookie(secret_key, sessions, person.user_id))
            self.client.cookies = jar
            await self.client.get("/login")  # the CSRF cookie
            self.jars[key] = httpx.Cookies(self.client.cookies)

    @staticmethod
    def key(visitor: str, path: str) -> str:
        if visitor == "reviewer":
            return f"reviewer:{module_of(path) or 'practices'}"
        return visitor

    async def request(
        self, visitor: str, method: str, template: str, url: str, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """``url`` as ``visitor``: the API with their Bearer token, pages with their session cookie; unsafe
        methods on pages with the CSRF token (unless ``csrf`` is False) and an empty form."""
        key = self.key(visitor, template)
        self.client.cookies = httpx.Cookies(self.jars[key])
        headers: dict[str, str] = dict(kwargs.pop("headers", {}))
        person = self.world.people.get(key)
        api = template.startswith("/api/")
        if api and person is not None:
            headers["Authorization"] = f"Bearer {person.api_token}"
        if method not in ("GET", "HEAD"):
            if csrf and not api:
                headers["x-csrftoken"] = self.client.cookies.get("covenant_csrf") or ""
            if "json" not in kwargs and "data" not in kwargs and "files" not in kwargs:
                kwargs["json" if api else "data"] = {}
        return await self.client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
