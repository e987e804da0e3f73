"""Shared fixtures.

Every database and event test runs on the embedded default (SQLite + in-process broker), and again on
PostgreSQL + Redis when ``COVENANT_TEST_DATABASE_URL`` / ``COVENANT_TEST_BROKER_URL`` are set (as
``.ci/run`` does). Without them the run ends with one line saying what was skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

# Settings are cached: the environment must be set before anything imports covenant.
_TMP = Path(tempfile.mkdtemp(prefix="covenant-tests-"))
os.environ["COVENANT_VAR_DIR"] = str(_TMP / "var")
os.environ["COVENANT_SECRET_KEY"] = "test-secret-key-that-is-long-enough-for-signing"
for _name in ("COVENANT_DATABASE_URL", "COVENANT_BROKER_URL", "COVENANT_MODULES"):
    os.environ.pop(_name, None)

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker  # noqa: E402

from covenant.config import Settings  # noqa: E402
from covenant.db import create_engine, metadata, session_factory  # noqa: E402
from covenant.models import import_core_models  # noqa: E402
from tests.fixtures.testmodule_install import install_test_module  # noqa: E402

pytest_plugins = ["tests.fixtures.bus", "tests.fixtures.web"]

PG_URL = os.environ.get("COVENANT_TEST_DATABASE_URL", "")
BROKER_URL = os.environ.get("COVENANT_TEST_BROKER_URL", "")
BACKENDS = ["sqlite"] + (["postgres"] if PG_URL else [])
_skipped_backends: set[str] = set()

install_test_module()
import_core_models()


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    broker_url: str

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgres"


def _migrate(url: str) -> None:
    from alembic import command

    from covenant.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    """One migrated SQLite file; each test gets a copy, which is faster than migrating again."""
    path = _TMP / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def reset() -> None:
        engine = create_async_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    _migrate(PG_URL)
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A migrated, empty database (and the matching broker URL) for one test."""
    if request.param == "sqlite":
        db = tmp_path / "covenant.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), db)
        yield Backend("sqlite", f"sqlite+aiosqlite:///{db}", "")
        return
    url = request.getfixturevalue("postgres_migrated")
    yield Backend("postgres", url, BROKER_URL)
    _truncate_postgres(url)


def _truncate_postgres(url: str) -> None:
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    async def truncate() -> None:
        engine = create_async_engine(url)
        names = [t.name for t in metadata.sorted_tables]
        async with engine.begin() as conn:
            existing = set(
                (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
            )
            names = [n for n in names if n in existing and n != "alembic_version"]
            if names:
                await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())


@pytest.fixture
def settings(backend: Backend, tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=backend.database_url,
        broker_url=backend.broker_url,
        secret_key="test-secret-key-that-is-long-enough-for-signing",
        modules=[],
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_URL:
        _skipped_backends.add("PostgreSQL (set COVENANT_TEST_DATABASE_URL)")
    if not BROKER_URL:
        _skipped_backends.add("Redis (set COVENANT_TEST_BROKER_URL)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_backends:
        terminalreporter.write_line(
            "backends not exercised: "
            + "; ".join(sorted(_skipped_backends))
            + " — database and event tests ran on SQLite + in-process broker only"
        )
