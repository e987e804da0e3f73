"""The plugin interface end to end, with the test-only module registered through a real entry point."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from covenant.app import create_app
from covenant.config import Settings
from covenant.demo import load_demo
from covenant.errors import StartupError
from covenant.events.base import DomainEvent
from covenant.plugins import ENTRY_POINT_GROUP, ActionModule, ModuleRegistry


class _Noted(DomainEvent):
    name = "testmodule.noted"


@pytest.fixture
async def testmodule_tables(engine):  # type: ignore[no-untyped-def]
    from covenant_testmodule.models import Tally

    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Tally.__table__.create(c, checkfirst=True))
    yield
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Tally.__table__.drop(c, checkfirst=True))


def test_the_test_module_is_found_through_its_entry_point() -> None:
    names = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert names.get("testmodule") == "covenant_testmodule.plugin:module"
    registry = ModuleRegistry.from_entry_points(["testmodule"])
    assert registry.slugs == ["testmodule"]


def test_core_runs_with_zero_modules() -> None:
    registry = ModuleRegistry.from_entry_points([])
    assert len(registry) == 0


def test_unknown_module_stops_startup_naming_it() -> None:
    with pytest.raises(StartupError, match="not installed: nosuchmodule"):
        ModuleRegistry.from_entry_points(["nosuchmodule"])


def test_two_modules_with_one_slug_are_refused() -> None:
    a = ActionModule(slug="alpha", title="A", action=1, summary="")
    with pytest.raises(StartupError, match="slug 'alpha'"):
        ModuleRegistry([a, a])


def test_two_modules_publishing_one_event_are_refused_naming_both() -> None:
    a = ActionModule(slug="alpha", title="A", action=1, summary="", publishes=[_Noted])
    b = ActionModule(slug="beta", title="B", action=2, summary="", publishes=[_Noted])
    with pytest.raises(StartupError, match="published by two modules: alpha and beta"):
        ModuleRegistry([a, b])


def test_an_entry_point_that_fails_to_import_is_reported_in_one_line(tmp_path: Path) -> None:
    dist = tmp_path / "broken_module-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-module\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[covenant.modules]\nbroken = no_such_package.plugin:module\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(
            StartupError,
            match=r"module 'broken': entry point no_such_package.plugin:module "
            r"failed to import",
        ):
            ModuleRegistry.from_entry_points(["broken"])
    finally:
        sys.path.remove(str(tmp_path))


async def test_module_pages_api_templates_static_and_navigation_are_mounted(
    settings: Settings, testmodule_tables: None
) -> None:
    app = create_app(settings, ModuleRegistry.from_entry_points(["testmodule"]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        page = await client.get("/m/testmodule/")
        assert page.status_code == 200
        assert "Hello from the test module" in page.text
        assert 'href="/m/testmodule/"' in page.text  # public navigation entry
        assert "/m/testmodule/admin" not in page.text  # entry behind a permission, hidden from anonymous
        assert "Test module" in (await client.get("/")).text  # listed on the home page

        api = await client.get("/api/v1/testmodule/tallies")
        assert api.status_code == 200
        assert api.json() == {"count": 0}

        css = await client.get("/static/m/testmodule/testmodule.css")
        assert css.status_code == 200
        assert "testmodule" in css.text

        schema = (await client.get("/schema/openapi.json")).json()
        assert "/api/v1/testmodule/tallies" in schema["paths"]
        assert not any(p.startswith("/m/") for p in schema["paths"])  # HTML pages stay out of the API schema


async def test_cycle_report_and_demo_hooks(settings: Settings, sessions, testmodule_tables: None) -> None:  # type: ignore[no-untyped-def]
    from uuid import UUID

    from covenant_testmodule.models import Tally

    registry = ModuleRegistry.from_entry_points(["testmodule"])
    lines = await load_demo(settings, registry)
    assert "demo data loaded for module testmodule" in lines
    module = registry.get("testmodule")
    assert module is not None
    assert module.cycle_section
    assert module.report_section
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tally)) == 1
        section = await module.cycle_section(session, UUID(int=1), 2026)
        assert section.status == "in_progress"
        report = await module.report_section(session, 2026)
        assert report.figures == {"tallies": 1}


async def test_a_module_given_directly_is_mounted_too(settings: Settings) -> None:
    @get("/hello", name="direct:hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    direct = ActionModule(slug="direct", title="Direct", action=7, summary="", api_route_handlers=[hello])
    app = create_app(settings, ModuleRegistry([direct]), embedded_worker=False)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/api/v1/direct/hello")).json() == {"hello": "world"}
