"""The plugin interface every action module implements, and the registry that loads them.

A module exposes one :class:`ActionModule` at an entry point of the group ``covenant.modules``
(``modules.assessment.plugin:module``). The registry loads the installed ones, keeps those named in
``COVENANT_MODULES`` (all when unset) and refuses to start when two of them claim the same slug,
event name or route.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from covenant.errors import StartupError

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler
    from sqlalchemy.ext.asyncio import AsyncSession

    from covenant.events.base import DomainEvent, EventHandler

ENTRY_POINT_GROUP = "covenant.modules"
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")

CoreRole = Literal["contributor", "mayors_office", "reviewer", "admin"]


@dataclass(frozen=True)
class Permission:
    """An action a module defines; the core roles listed in ``roles`` are granted it."""

    name: str
    description: str
    roles: tuple[CoreRole, ...] = ("contributor", "mayors_office", "admin")


@dataclass(frozen=True)
class NavigationEntry:
    """A menu entry; shown only to users holding ``permission`` (everyone when None)."""

    label: str
    path: str
    permission: str | None = None


@dataclass(frozen=True)
class CycleSection:
    """A module's part of one city's yearly monitoring checklist."""

    status: Literal["not_started", "in_progress", "submitted", "returned", "validated", "not_required"]
    completeness: int
    link: str
    missing: Sequence[str] = ()
    """What the module's automatic checks find missing or inconsistent, in the reader's words (shown on
    the city's checklist before it submits); empty when complete."""


@dataclass(frozen=True)
class ReportSection:
    """A module's aggregate section of the yearly monitoring report."""

    title: str
    figures: Mapping[str, int | float | str] = field(default_factory=dict)
    tables: Sequence[Mapping[str, Any]] = ()
    narrative: str = ""


@dataclass(frozen=True)
class ScheduledJob:
    """Periodic work of a module (e.g. announcing funding calls that open or close soon). The scheduler
    runs ``run`` in one transaction every ``every``; it must be idempotent, since a restarted scheduler
    runs it again at once."""

    name: str
    every: timedelta
    run: Callable[[AsyncSession], Awaitable[object]]


CycleHook = Callable[["AsyncSession", UUID, int], Awaitable[CycleSection]]
ReportHook = Callable[["AsyncSession", int], Awaitable[ReportSection]]
DemoHook = Callable[["AsyncSession"], Awaitable[None]]


@dataclass(frozen=True)
class ActionModule:
    """What a module contributes to the platform. One instance per module, at its entry point."""

    slug: str
    title: str
    action: int
    summary: str
    route_handlers: Sequence[ControllerRouterHandler] = ()
    """HTML pages, mounted under ``/m/<slug>/``."""
    api_route_handlers: Sequence[ControllerRouterHandler] = ()
    """JSON routes, mounted under ``/api/v1/<slug>/`` and listed in the OpenAPI schema."""
    template_dir: Path | None = None
    """Templates, reachable as ``<slug>/...`` (keep them in ``templates/<slug>/``)."""
    static_dir: Path | None = None
    """Static files, served under ``/static/m/<slug>/``."""
    locale_dir: Path | None = None
    """Its gettext catalogues: ``<locale_dir>/<lang>/LC_MESSAGES/<slug>.po``."""
    publishes: Sequence[type[DomainEvent]] = ()
    subscriptions: Mapping[str, EventHandler] = field(default_factory=dict)
    """``{event name: handler}``; each becomes a Dramatiq actor ``<slug>.<handler>`` on queue ``<slug>``."""
    navigation: Sequence[NavigationEntry] = ()
    permissions: Sequence[Permission] = ()
    models: Sequence[str] = ()
    """Import paths of the modules declaring its tables, so Alembic and the tests see them."""
    cycle_section: CycleHook | None = None
    report_section: ReportHook | None = None
    demo_data: DemoHook | None = None
    scheduled_jobs: Sequence[ScheduledJob] = ()
    commands: Sequence[Any] = ()
    """Click commands or groups, added to the ``covenant`` command line under the module's slug
    (``covenant <slug> <command>``)."""

    @property
    def queue(self) -> str:
        return self.slug

    def import_models(self) -> None:
        for path in self.models:
            importlib.import_module(path)


class ModuleRegistry:
    """The enabled modules, validated against each other. The core works with none."""

    def __init__(self, modules: Iterable[ActionModule] = ()) -> None:
        self._modules: dict[str, ActionModule] = {}
        for module in modules:
            self._add(module)
        self._check_conflicts()

    @classmethod
    def from_entry_points(cls, enabled: Sequence[str] | None = None) -> ModuleRegistry:
        """Load the installed modules, keeping ``enabled`` (all when None)."""
        found: dict[str, EntryPoint] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in found and found[ep.name].value != ep.value:
                raise StartupError(
                    f"module slug {ep.name!r} is claimed by two entry points: {found[ep.name].value} and {ep.value}"
                )
            found[ep.name] = ep
        if enabled is not None:
            unknown = sorted(set(enabled) - set(found))
            if unknown:
                raise StartupError(
                    f"COVENANT_MODULES names modules that are not installed: {', '.join(unknown)} "
                    f"(installed: {', '.join(sorted(found)) or 'none'})"
                )
        names = [n for n in sorted(found) if enabled is None or n in enabled]
        return cls(_load(found[name]) for name in names)

    def _add(self, module: ActionModule) -> None:
        if not SLUG_PATTERN.match(module.slug):
            raise StartupError(f"module slug {module.slug!r} is not a lowercase identifier")
        if module.slug in self._modules:
            raise StartupError(f"two modules claim the slug {module.slug!r}")
        self._modules[module.slug] = module

    def _check_conflicts(self) -> None:
        event_owner: dict[str, str] = {}
        route_owner: dict[str, str] = {}
        for module in self._modules.values():
            for event_type in module.publishes:
                name = event_type.event_name()
                if name in event_owner:
                    raise StartupError(
                        f"event {name!r} is published by two modules: {event_owner[name]} and {module.slug}"
                    )
                event_owner[name] = module.slug
            for path in _route_paths(module):
                if path in route_owner:
                    raise StartupError(f"route {path} is claimed by two modules: {route_owner[path]} and {module.slug}")
                route_owner[path] = module.slug

    def __iter__(self) -> Any:
        return iter(self._modules.values())

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, slug: object) -> bool:
        return slug in self._modules

    def get(self, slug: str) -> ActionModule | None:
        return self._modules.get(slug)

    @property
    def slugs(self) -> list[str]:
        return list(self._modules)

    def import_models(self) -> None:
        for module in self:
            module.import_models()

    def permissions(self) -> list[Permission]:
        return [p for m in self for p in m.permissions]


def _load(ep: EntryPoint) -> ActionModule:
    try:
        obj = ep.load()
    except Exception as exc:
        raise StartupError(f"module {ep.name!r}: entry point {ep.value} failed to import: {exc!r}") from exc
    if not isinstance(obj, ActionModule):
        raise StartupError(f"module {ep.name!r}: entry point {ep.value} is not a covenant.plugins.ActionModule")
    if obj.slug != ep.name:
        raise StartupError(f"module {ep.name!r}: entry point name differs from its slug {obj.slug!r}")
    return obj


def _route_paths(module: ActionModule) -> set[str]:
    """Absolute paths a module's handlers answer, used to detect two modules claiming one route."""
    paths: set[str] = set()
    for prefix, handlers in (
        (f"/m/{module.slug}", module.route_handlers),
        (f"/api/v1/{module.slug}", module.api_route_handlers),
    ):
        for handler in handlers:
            for path in getattr(handler, "paths", None) or {getattr(handler, "path", "/")}:
                paths.add(prefix + ("" if path == "/" else path))
    return paths
