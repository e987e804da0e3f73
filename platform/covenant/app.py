"""The application factory: the core's routes plus those of every enabled module."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from advanced_alchemy.extensions.litestar import (
    AsyncSessionConfig,
    SQLAlchemyAsyncConfig,
    SQLAlchemyPlugin,
)
from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

import covenant
from covenant.accounts import web as accounts_web
from covenant.calendar import web as calendar_web
from covenant.cities import registry_web as cities_registry_web
from covenant.cities import web as cities_web
from covenant.commitments import web as commitments_web
from covenant.config import Settings, get_settings
from covenant.db import create_engine, session_factory
from covenant.events import web as events_web
from covenant.events.runtime import EventRuntime
from covenant.i18n import Catalogues, install_catalogues
from covenant.logs import RequestIdMiddleware, configure_logging
from covenant.monitoring import web as monitoring_web
from covenant.plugins import ModuleRegistry
from covenant.web import routes as shell_routes
from covenant.web.errors import exception_handlers
from covenant.web.head import CovenantApp
from covenant.web.locale import LocaleMiddleware
from covenant.web.public_cache import watch_writes
from covenant.web.templating import STATIC_DIR, template_config
from covenant.web.transactions import RequestScopeMiddleware, commit_before_response

CORE_ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    *shell_routes.route_handlers,
    *accounts_web.route_handlers,
    *events_web.route_handlers,
    *cities_web.route_handlers,
    *cities_registry_web.route_handlers,
    *commitments_web.route_handlers,
    *calendar_web.route_handlers,
    *monitoring_web.route_handlers,
]


class CovenantMetrics(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def module_routers(registry: ModuleRegistry) -> list[ControllerRouterHandler]:
    """Each module's pages under /m/<slug>/ and its JSON under /api/v1/<slug>/."""
    routers: list[ControllerRouterHandler] = []
    for module in registry:
        if module.route_handlers:
            routers.append(
                Router(
                    path=f"/m/{module.slug}",
                    route_handlers=list(module.route_handlers),
                    include_in_schema=False,
                    tags=[module.title],
                )
            )
        if module.api_route_handlers:
            routers.append(
                Router(
                    path=f"/api/v1/{module.slug}", route_handlers=list(module.api_route_handlers), tags=[module.title]
                )
            )
        if module.static_dir is not None:
            routers.append(
                create_static_files_router(
                    path=f"/static/m/{module.slug}", directories=[module.static_dir], name=f"static:{module.slug}"
                )
            )
    return routers


def create_app(
    settings: Settings | None = None, registry: ModuleRegistry | None = None, *, embedded_worker: bool | None = None
) -> Litestar:
    """Build the app. ``embedded_worker`` (default: when no broker is configured) runs the relay and a
    worker thread in this process, so a newcomer needs nothing else running."""
    settings = settings or get_settings()
    watch_writes()
    registry = registry if registry is not None else ModuleRegistry.from_entry_points(settings.modules)
    registry.import_models()
    configure_logging(settings)
    install_catalogues(Catalogues((m.slug, m.locale_dir) for m in registry if m.locale_dir is not None))
    engine = create_engine(settings)
    sessions = session_factory(engine)
    bus = EventRuntime(settings, registry, sessions)
    run_worker = settings.embedded_broker if embedded_worker is None else embedded_worker

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await bus.start(embedded_worker=run_worker)
        try:
            yield
        finally:
            await bus.stop()
            await engine.dispose()

    alchemy = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        session_dependency_key="db_session",
        before_send_handler="autocommit_include_redirects",
        create_all=False,
    )
    return CovenantApp(
        route_handlers=[
            *CORE_ROUTE_HANDLERS,
            *module_routers(registry),
            CovenantMetrics,
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False
            ),
        ],
        plugins=[SQLAlchemyPlugin(config=alchemy), HTMXPlugin(), accounts_web.FlashMessages()],
        template_config=template_config(registry),
        middleware=[
            RequestScopeMiddleware,
            RequestIdMiddleware,
            PrometheusConfig(app_name="covenant", prefix="covenant", group_path=True).middleware,
            *accounts_web.middleware(settings),
            LocaleMiddleware,
        ],
        csrf_config=accounts_web.csrf_config(settings),
        exception_handlers=exception_handlers,
        after_request=commit_before_response(alchemy.session_scope_key),
        openapi_config=OpenAPIConfig(
            title="Covenant API",
            version=covenant.__version__,
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        request_max_body_size=settings.max_body_bytes,
        lifespan=[lifespan],
        state=State({"settings": settings, "registry": registry, "engine": engine, "sessions": sessions, "bus": bus}),
        debug=settings.debug,
    )
