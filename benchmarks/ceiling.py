"""The ceiling: a bare Litestar app that renders the very templates of the measured pages from memory.

Each measured URL is requested once from the real application (in-process, against the benchmark
database); the context its handler gave the template — or the object its JSON route returned — is kept.
The ceiling app answers the same URLs by rendering the same template with that context (the same Jinja
environment, catalogues and filters), or by serialising the same Pydantic object, with no database, no
middleware and no session. What the real page costs beyond it is the platform's own work: queries,
identity, middleware.

Served by uvicorn like the real app: ``uvicorn benchmarks.ceiling:create_ceiling --factory`` with
``BENCH_CEILING_SNAPSHOTS`` naming the pickle written by :func:`capture_to_file`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.response import Template
from litestar.response import template as template_module
from litestar.testing import AsyncTestClient

from covenant.app import create_app
from covenant.config import Settings, get_settings
from covenant.i18n import Catalogues, install_catalogues
from covenant.models import import_core_models
from covenant.plugins import ModuleRegistry
from covenant.web.templating import template_config

SNAPSHOTS_ENV = "BENCH_CEILING_SNAPSHOTS"
HIDDEN_KEYS = ("request", "csrf_input")


@dataclass(frozen=True)
class Target:
    """A URL to measure; ``model`` ("package.module:Class") for a JSON route, None for an HTML page."""

    url: str
    model: str | None = None


@dataclass
class Snapshot:
    template: str | None = None
    context: dict[str, Any] | None = None
    media_type: str | None = None
    status_code: int = 200
    model: Any = None


def _model_class(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@contextmanager
def _recording() -> Iterator[list[tuple[str | None, dict[str, Any], str | None]]]:
    """Record every template response the app renders: (template name, handler context, media type)."""
    seen: list[tuple[str | None, dict[str, Any], str | None]] = []
    original = template_module.Template.create_template_context

    def record(self: Template, request: Request[Any, Any, Any]) -> dict[str, Any]:
        seen.append((self.template_name, dict(self.context), self.media_type))
        return original(self, request)

    template_module.Template.create_template_context = record  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        template_module.Template.create_template_context = original  # type: ignore[method-assign]


async def capture(settings: Settings, registry: ModuleRegistry, targets: Sequence[Target]) -> dict[str, Snapshot]:
    """Ask the real app for each target once and keep what it rendered (see the module's docstring)."""
    app = create_app(settings, registry, embedded_worker=False)
    snapshots: dict[str, Snapshot] = {}
    async with AsyncTestClient(app=app) as client:
        for target in targets:
            with _recording() as seen:
                response = await client.get(target.url)
            if response.status_code != 200:
                raise RuntimeError(f"{target.url} answered {response.status_code}: {response.text[:300]}")
            if target.model is not None:
                snapshots[target.url] = Snapshot(model=_model_class(target.model).model_validate(response.json()))
                continue
            if len(seen) != 1:
                raise RuntimeError(f"{target.url}: expected one rendered template, saw {len(seen)}")
            name, context, media_type = seen[0]
            snapshots[target.url] = Snapshot(
                template=name,
                context={k: v for k, v in context.items() if k not in HIDDEN_KEYS},
                media_type=media_type,
            )
    return snapshots


async def capture_to_file(
    settings: Settings, registry: ModuleRegistry, targets: Sequence[Target], path: Path
) -> dict[str, Snapshot]:
    snapshots = await capture(settings, registry, targets)
    data = pickle.dumps(snapshots)
    await asyncio.to_thread(path.write_bytes, data)
    return snapshots


def _key(url: str) -> str:
    """``/m/practices/?page=2`` and ``/m/practices?page=2`` are one route (Litestar drops the slash)."""
    path, sep, query = url.partition("?")
    return (path.rstrip("/") or "/") + sep + query


def build_ceiling(snapshots: dict[str, Snapshot], registry: ModuleRegistry) -> Litestar:
    """The bare app: one catch-all route answering every captured URL from memory."""
    registry.import_models()
    install_catalogues(Catalogues((m.slug, m.locale_dir) for m in registry if m.locale_dir is not None))

    by_key = {_key(url): snapshot for url, snapshot in snapshots.items()}

    @get("/{path:path}", sync_to_thread=False, include_in_schema=False)
    def answer(request: Request[Any, Any, Any]) -> Any:
        key = _key(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        snapshot = by_key.get(key)
        if snapshot is None:
            return Response({"missing": key}, status_code=404)
        if snapshot.model is not None:
            return snapshot.model
        return Template(snapshot.template, context=snapshot.context, media_type=snapshot.media_type)

    return Litestar(route_handlers=[answer], template_config=template_config(registry), openapi_config=None)


def create_ceiling() -> Litestar:
    """uvicorn factory: snapshots from the pickle named by ``BENCH_CEILING_SNAPSHOTS``."""
    registry = ModuleRegistry.from_entry_points(get_settings().modules)
    import_core_models()
    registry.import_models()  # the snapshots hold rows of the modules' tables
    path = Path(os.environ[SNAPSHOTS_ENV])
    snapshots = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by capture_to_file
    return build_ceiling(snapshots, registry)
